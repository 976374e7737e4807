"""One running center per test module (module-scoped: starting one takes a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dbutil import scratch_database
from tests.security.center import Running, center_on


@pytest.fixture(scope="module")
def center(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """A center on its own database, reading a config file, with no metrics token."""
    with (
        scratch_database(template=migrated_template) as url,
        center_on(url, tmp_path_factory.mktemp("center")) as started,
    ):
        yield started
