"""Fixtures for the collector tests; the servers themselves live in ``servers.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from collectors.http import HttpProber
from core.clock import SystemClock
from tests.collectors.certs import Pki, make_pki
from tests.collectors.servers import healthy_app, serve_app


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A test CA and leaves, generated once per session."""
    directory: Path = tmp_path_factory.mktemp("pki")
    return make_pki(directory)


@pytest.fixture
async def prober(pki: Pki) -> AsyncIterator[HttpProber]:
    """A prober on the real clock that trusts the test CA."""
    async with HttpProber(clock=SystemClock(), ssl_context=pki.client_context()) as prober:
        yield prober


@pytest.fixture
async def app_url() -> AsyncIterator[str]:
    """Base URL of the well-behaved test application over plain HTTP."""
    async with serve_app(healthy_app()) as url:
        yield url
