"""schemathesis over the center's own OpenAPI document, as the admin: whatever the
request, the answer is never a 5xx. Then what it found, pinned: text with NUL (which
PostgreSQL cannot store) is refused with 422, in a query or in a body.

The document is built from ``create_app`` at collection time (schemathesis' lazy
``from_fixture`` loader does not work with pytest 9) and checked to be the very one the
running center serves. Every operation is fuzzed, none excluded: the config reload has a
file to re-read here (without one it answers 409, not a 5xx, so it would pass anyway).
Series and endpoint ids are the configured ones, so their routes get past the lookup;
numeric ids are fuzzed. Bounded (``MAX_EXAMPLES`` per operation and generation phase) and
derandomized: the same run each time (about 1,100 requests).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pydantic import SecretStr
from schemathesis import Case
from schemathesis.checks import not_a_server_error

from monitor_center.config import parse_config_text
from monitor_center.service import Service
from monitor_center.settings import Settings
from tests.security.center import (
    ADMIN,
    HANOI_ENDPOINT,
    HANOI_SERIES,
    OPERATOR,
    Running,
    config_yaml,
    firing_alert,
)

MAX_EXAMPLES = 30
_COUNT_CONNECTIONS = "schemathesis.transport.requests._count_opened_connections"


def _document() -> dict[str, Any]:
    """The OpenAPI document of an app built like the service's (no database needed)."""
    config = parse_config_text(config_yaml("http://127.0.0.1:9"), filename="c.yaml", env={})
    settings = Settings(database_url=SecretStr("postgresql://nobody@127.0.0.1:9/none"))
    return Service(settings, config).app.openapi()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.update(parameters={"series_id": HANOI_SERIES, "endpoint_id": HANOI_ENDPOINT})


def test_the_fuzzed_document_is_the_one_the_center_serves(center: Running) -> None:
    assert center.call("GET", "/openapi.json").json() == DOCUMENT


# The center runs in a thread of this process and its libraries draw on the global
# ``random`` (psycopg_pool's jitter); Hypothesis would blame that on the strategies.
@pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module:hypothesis.errors.HypothesisDeprecationWarning"
)
@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_request_makes_the_center_answer_a_server_error(
    case: Case[Any], center: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    # grafana-client brings niquests, whose urllib3-future takes the place of urllib3; its
    # pool container has no .keys(), which schemathesis calls only to decide whether to
    # resend a request on a dropped keep-alive connection. Count none: resend once.
    monkeypatch.setattr(_COUNT_CONNECTIONS, lambda session: 0)
    case.call_and_validate(
        base_url=center.base,
        headers={"Authorization": f"Bearer {ADMIN}"},
        checks=[not_a_server_error],
        timeout=15,
    )


WINDOW = {
    "agency": "ha-noi",
    "starts_at": "2030-01-01T00:00:00Z",
    "ends_at": "2030-01-02T00:00:00Z",
}
SILENCE = {"matchers": {"subject": "ha-noi-*"}, "duration": "PT1H"}


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/alerts?agency=ha%00noi", None),
        ("GET", "/api/v1/alerts?rule=endpoint%00down", None),
        ("GET", "/api/v1/notifications?channel=ops%00hook", None),
        ("GET", "/api/v1/sla?agency=ha%00noi", None),
        ("GET", "/api/v1/incidents?agency=ha%00noi", None),
        ("POST", "/api/v1/silences", SILENCE | {"matchers": {"subject": "ha-noi\x00"}}),
        ("POST", "/api/v1/silences", SILENCE | {"comment": "b\x00o tr\x00"}),
        ("POST", "/api/v1/maintenance", WINDOW | {"name": "n\x00"}),
        ("POST", "/api/v1/maintenance", WINDOW | {"comment": "c\x00"}),
    ],
)
def test_text_with_nul_is_refused_with_422(
    center: Running, method: str, path: str, body: dict[str, Any] | None
) -> None:
    reply = center.call(method, path, ADMIN, body)
    assert reply.status == 422, reply.body


def test_an_ack_with_nul_is_refused_and_alerts_are_still_stored_afterwards(
    center: Running,
) -> None:
    path = f"/api/v1/alerts/{firing_alert(center)}/ack"
    assert center.call("POST", path, OPERATOR, {"comment": "\x00"}).status == 422
    # Stored before it answers: a wedged store (a NUL retried forever) would time out here.
    reply = center.call("POST", path, OPERATOR, {"comment": "đang xử lý"})
    assert reply.status == 200 and reply.json()["ack_comment"] == "đang xử lý"
