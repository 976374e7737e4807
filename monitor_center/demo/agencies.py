"""The demo fleet's agencies: national platforms, ministries and provinces of Vietnam.

The list ships as package data (``agencies-vn.csv``) so the demo works from an installed
wheel as well as from a checkout.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from importlib import resources

AGENCY_KINDS = ("platform", "ministry", "province")
_CSV_NAME = "agencies-vn.csv"


@dataclass(frozen=True, slots=True)
class AgencyInfo:
    """One agency of the fleet.

    ``kind`` is ``platform``, ``ministry`` or ``province``; ``lat``/``lon`` are set for
    provinces (they place the tile on the map) and ``None`` for national bodies.
    """

    id: str
    kind: str
    name_en: str
    name_vi: str
    lat: float | None
    lon: float | None


def load_agencies() -> list[AgencyInfo]:
    """Load the bundled agency list, in file order (platforms, ministries, provinces).

    Raises ``ValueError`` naming the line when a row is malformed, so a bad edit of the
    CSV fails loudly instead of silently shrinking the fleet.
    """
    text = resources.files(__package__).joinpath(_CSV_NAME).read_text(encoding="utf-8")
    return parse_agencies_csv(text)


def parse_agencies_csv(text: str) -> list[AgencyInfo]:
    """Parse agency rows from CSV text with columns ``id,kind,name_en,name_vi,lat,lon``."""
    agencies: list[AgencyInfo] = []
    seen: set[str] = set()
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        where = f"{_CSV_NAME} line {reader.line_num}"
        agency = _parse_row(row, where)
        if agency.id in seen:
            raise ValueError(f"{where}: duplicate agency id {agency.id!r}")
        seen.add(agency.id)
        agencies.append(agency)
    return agencies


def _parse_row(row: dict[str, str | None], where: str) -> AgencyInfo:
    def field(name: str) -> str:
        value = row.get(name)
        return "" if value is None else value.strip()

    agency_id, kind = field("id"), field("kind")
    if not agency_id:
        raise ValueError(f"{where}: missing id")
    if kind not in AGENCY_KINDS:
        raise ValueError(f"{where}: kind must be one of {', '.join(AGENCY_KINDS)}, got {kind!r}")
    return AgencyInfo(
        id=agency_id,
        kind=kind,
        name_en=field("name_en"),
        name_vi=field("name_vi"),
        lat=_coordinate(field("lat"), where, "lat"),
        lon=_coordinate(field("lon"), where, "lon"),
    )


def _coordinate(raw: str, where: str, name: str) -> float | None:
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{where}: {name} must be a number, got {raw!r}") from None
