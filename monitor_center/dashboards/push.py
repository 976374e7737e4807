"""Upload the dashboards to a running Grafana over its HTTP API (grafana-client).

The folder is found by title among ``GET /api/folders`` or created (``POST /api/folders``);
each dashboard is read back by uid first, so the report can say what changed: ``created``
(none with that uid), ``unchanged`` (same JSON, same folder: nothing is sent) or
``updated`` (sent with ``overwrite``, which replaces whatever version Grafana holds).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from grafana_client.api import GrafanaApi
from grafana_client.client import GrafanaClientError, GrafanaException

from monitor_center.dashboards.render import build_all

Outcome = Literal["created", "updated", "unchanged"]
DEFAULT_FOLDER = "Monitor Center"
# Fields Grafana sets on a stored dashboard that the generated JSON does not carry.
_SERVER_FIELDS = ("id", "version")


class PushError(RuntimeError):
    """Grafana refused a request or could not be reached."""


@dataclass
class PushReport:
    """What a push did: the folder's uid, whether it was created, each dashboard's outcome."""

    folder_uid: str
    folder_created: bool
    dashboards: dict[str, Outcome] = field(default_factory=dict)

    def lines(self, folder: str) -> list[str]:
        """One line for the folder, then one per dashboard uid."""
        state = "created" if self.folder_created else "exists"
        out = [f"folder {folder!r} ({self.folder_uid}): {state}"]
        out += [f"{uid}: {outcome}" for uid, outcome in self.dashboards.items()]
        return out


def folder_uid_for(title: str) -> str:
    """A stable uid for a new folder: the title as a slug (Grafana allows 40 characters)."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return (slug or "monitor-center")[:40]


def connect(url: str, token: str, *, timeout: float = 10.0) -> GrafanaApi:
    """A client for the Grafana at ``url`` sending ``Authorization: Bearer <token>``."""
    api: GrafanaApi = GrafanaApi.from_url(url, credential=token, timeout=timeout)
    return api


def ensure_folder(api: GrafanaApi, title: str) -> tuple[str, bool]:
    """The uid of the folder titled ``title``, creating it if needed; and if it was."""
    for folder in api.folder.get_all_folders():
        if folder.get("title") == title:
            return str(folder["uid"]), False
    created = api.folder.create_folder(title, uid=folder_uid_for(title))
    return str(created["uid"]), True


def _stored(api: GrafanaApi, uid: str) -> dict[str, Any] | None:
    """The dashboard Grafana holds under ``uid`` with its ``meta``, or None (404)."""
    try:
        found: dict[str, Any] = api.dashboard.get_dashboard(uid)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise
    return found


def _same(stored: dict[str, Any], model: dict[str, Any], folder_uid: str) -> bool:
    """Whether Grafana already holds ``model`` in the folder (server fields ignored)."""
    held = {k: v for k, v in stored.get("dashboard", {}).items() if k not in _SERVER_FIELDS}
    return held == model and stored.get("meta", {}).get("folderUid") == folder_uid


def push_one(api: GrafanaApi, model: dict[str, Any], folder_uid: str) -> Outcome:
    """Upload one dashboard unless Grafana already has it as it is."""
    stored = _stored(api, str(model["uid"]))
    if stored is not None and _same(stored, model, folder_uid):
        return "unchanged"
    api.dashboard.update_dashboard(
        {
            # id None: Grafana matches on uid, whatever numeric id it gave the dashboard.
            "dashboard": {**model, "id": None},
            "folderUid": folder_uid,
            "overwrite": True,
            "message": "monitor-center dashboards push",
        }
    )
    return "created" if stored is None else "updated"


def push_all(url: str, token: str, folder: str = DEFAULT_FOLDER) -> PushReport:
    """Push every dashboard into ``folder``; PushError when Grafana refuses or is away."""
    api = connect(url, token)
    try:
        folder_uid, created = ensure_folder(api, folder)
        report = PushReport(folder_uid, created)
        for model in build_all().values():
            report.dashboards[str(model["uid"])] = push_one(api, model, folder_uid)
    # grafana-client wraps HTTP errors; connection errors come through as OSError.
    except (GrafanaException, OSError) as exc:
        raise PushError(str(exc)) from None
    return report
