"""``/metrics`` with ``center.metrics_token`` set: the scraper's token, or an operator or
admin API token of the whole center, is let in; anything else is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.dbutil import scratch_database
from tests.security.center import (
    ADMIN,
    HANOI,
    METRICS_TOKEN,
    OPERATOR,
    VIEWER,
    WRONG,
    Running,
    center_on,
)

EXPOSITION = b"monitor_center_probe_results_total"


@pytest.fixture(scope="module")
def center(migrated_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """This module's center has a metrics token (the shared one in conftest has none)."""
    with (
        scratch_database(template=migrated_template) as url,
        center_on(url, tmp_path_factory.mktemp("metrics"), metrics_token=True) as started,
    ):
        yield started


def test_the_metrics_token_gets_the_metrics(center: Running) -> None:
    reply = center.call("GET", "/metrics", METRICS_TOKEN)

    assert reply.status == 200 and EXPOSITION in reply.body


@pytest.mark.parametrize("token", [OPERATOR, ADMIN], ids=["operator", "admin"])
def test_an_operator_or_admin_api_token_gets_the_metrics(center: Running, token: str) -> None:
    reply = center.call("GET", "/metrics", token)

    assert reply.status == 200 and EXPOSITION in reply.body


def test_a_viewer_token_is_refused_with_403(center: Running) -> None:
    reply = center.call("GET", "/metrics", VIEWER)

    assert reply.status == 403
    assert "metrics_token" in reply.json()["detail"]
    assert VIEWER not in reply.body.decode()


def test_an_agency_scoped_token_is_refused_with_403(center: Running) -> None:
    # The metrics carry every agency's endpoints; a province's token sees its own only.
    assert center.call("GET", "/metrics", HANOI).status == 403


@pytest.mark.parametrize("token", [None, WRONG], ids=["no token", "unknown token"])
def test_no_valid_token_is_refused_with_401(center: Running, token: str | None) -> None:
    reply = center.call("GET", "/metrics", token)

    assert reply.status == 401
    assert reply.header("WWW-Authenticate") == "Bearer"
