"""Checks that span objects: duplicate ids, references, dependency cycles.

They run on the merged *raw* data rather than on validated models, so they
still run when some object failed validation: an operator sees a bad duration
and an unknown agency in the same report. Values of the wrong type are skipped
here; model validation reports them.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

from monitor_center.config.errors import ConfigIssue, KeyPath
from monitor_center.config.rules import is_glob, rule_subject
from monitor_center.config.yaml_tree import SourceMap

# Lists whose items carry an `id`, and the word used in messages.
_ID_LISTS = {
    "agencies": "agency",
    "endpoints": "endpoint",
    "series": "series",
    "rules": "rule",
    "channels": "channel",
    "maintenance": "maintenance window",
}


class _Checker:
    def __init__(self, data: dict[str, Any], where: SourceMap) -> None:
        self.data = data
        self.where = where
        self.issues: list[ConfigIssue] = []
        self.ids = {key: self._unique_ids(key, label) for key, label in _ID_LISTS.items()}

    def items(self, key: str) -> Iterator[tuple[int, dict[str, Any]]]:
        """(index, mapping) for each mapping in the top-level list `key`."""
        value = self.data.get(key)
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield index, item

    def at(self, path: KeyPath) -> str:
        """``file:line`` of `path`, for messages that point at a second place."""
        file, line = self.where.locate(path)
        return file if line is None else f"{file}:{line}"

    def _unique_ids(self, key: str, label: str) -> set[str]:
        first: dict[str, int] = {}
        for index, item in self.items(key):
            item_id = item.get("id")
            if not isinstance(item_id, str):
                continue
            if item_id in first:
                earlier = self.at((key, first[item_id], "id"))
                message = f"duplicate {label} id {item_id!r}; first defined at {earlier}"
                self.issues.append(self.where.issue((key, index, "id"), message))
            else:
                first[item_id] = index
        return set(first)

    def ref(self, path: KeyPath, value: Any, known_in: str) -> None:
        """Report `value` at `path` unless it is an id of the list `known_in`."""
        known = self.ids[known_in]
        if not isinstance(value, str) or value in known:
            return
        message = f"unknown {_ID_LISTS[known_in]} {value!r}"
        close = difflib.get_close_matches(value, sorted(known), n=1)
        if close:
            message += f"; did you mean {close[0]!r}?"
        elif not known:
            message += f" (no {known_in} are defined)"
        self.issues.append(self.where.issue(path, message))

    def ref_list(self, path: KeyPath, values: Any, known_in: str) -> None:
        """`ref` for each item of a list of ids."""
        if isinstance(values, list):
            for index, value in enumerate(values):
                self.ref((*path, index), value, known_in)


def check_references(data: dict[str, Any], where: SourceMap) -> list[ConfigIssue]:
    """Every cross-object problem of the merged configuration data."""
    checker = _Checker(data, where)
    for key in ("endpoints", "series"):
        for index, item in checker.items(key):
            checker.ref((key, index, "agency"), item.get("agency"), "agencies")
    for index, item in checker.items("agencies"):
        checker.ref_list(("agencies", index, "depends_on"), item.get("depends_on"), "agencies")
    _check_cycles(checker)
    _check_routes(checker)
    _check_rules(checker)
    for index, item in checker.items("maintenance"):
        checker.ref(("maintenance", index, "agency"), item.get("agency"), "agencies")
        checker.ref(("maintenance", index, "endpoint"), item.get("endpoint"), "endpoints")
    _check_tokens(checker)
    _check_center(checker)
    return checker.issues


def _check_center(checker: _Checker) -> None:
    """The storage alert's channels exist (it is sent when nothing else can be)."""
    center = checker.data.get("center")
    alert = center.get("storage_alert") if isinstance(center, dict) else None
    if isinstance(alert, dict):
        path: KeyPath = ("center", "storage_alert", "channels")
        checker.ref_list(path, alert.get("channels"), "channels")


def _check_routes(checker: _Checker) -> None:
    for index, route in checker.items("routes"):
        path: KeyPath = ("routes", index)
        checker.ref_list((*path, "channels"), route.get("channels"), "channels")
        checker.ref_list((*path, "escalate_to"), route.get("escalate_to"), "channels")
        match = route.get("match")
        if isinstance(match, dict):
            checker.ref((*path, "match", "agency"), match.get("agency"), "agencies")
            checker.ref((*path, "match", "rule"), match.get("rule"), "rules")


def _check_rules(checker: _Checker) -> None:
    """Rule selectors name existing subjects and agencies; KPI rules have a target."""
    for index, rule in checker.items("rules"):
        kind = rule.get("kind")
        if not isinstance(kind, str):
            continue
        subject = rule_subject(kind, rule.get("subject"))
        known_in = "endpoints" if subject == "endpoint" else "series"
        path: KeyPath = ("rules", index)
        match = rule.get("match")
        match = match if isinstance(match, dict) else {}
        _ref_ids(checker, (*path, "match", "id"), match.get("id"), known_in)
        _ref_ids(checker, (*path, subject), rule.get(subject), known_in)
        agency = match.get("agency")
        if isinstance(agency, list):
            checker.ref_list((*path, "match", "agency"), agency, "agencies")
        else:
            checker.ref((*path, "match", "agency"), agency, "agencies")
        if kind in ("kpi_min", "kpi_forecast") and rule.get("target") is None:
            # The `series:` shorthand stands for match.id.
            selector = {**match, "id": rule.get(subject, match.get("id"))}
            _check_series_targets(checker, path, kind, selector)


def _ref_ids(checker: _Checker, path: KeyPath, value: Any, known_in: str) -> None:
    """`ref` for an id or list of ids; globs are patterns, not references."""
    if isinstance(value, list):
        for position, item in enumerate(value):
            _ref_ids(checker, (*path, position), item, known_in)
    elif isinstance(value, str) and not is_glob(value):
        checker.ref(path, value, known_in)


def _as_set(value: Any) -> set[str] | None:
    """The given values of one match key, None when the key is absent (matches all)."""
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    return {v for v in values if isinstance(v, str)}


def _check_series_targets(
    checker: _Checker, path: KeyPath, kind: str, match: dict[str, Any]
) -> None:
    ids, agencies, kinds = (_as_set(match.get(key)) for key in ("id", "agency", "agency_kind"))
    agency_kind = {
        a.get("id"): a.get("kind") for _, a in checker.items("agencies") if a.get("id") is not None
    }
    for _, series in checker.items("series"):
        series_id, agency = series.get("id"), series.get("agency")
        if not isinstance(series_id, str):
            continue
        if ids is not None and not any(fnmatchcase(series_id, pattern) for pattern in ids):
            continue
        if agencies is not None and agency not in agencies:
            continue
        if kinds is not None and agency_kind.get(agency) not in kinds:
            continue
        if series.get("target") is not None:
            return
    message = f"set 'target': none of the series this {kind} rule matches has a target of its own"
    checker.issues.append(checker.where.issue(path, message))


def _check_tokens(checker: _Checker) -> None:
    auth = checker.data.get("auth")
    tokens = auth.get("tokens") if isinstance(auth, dict) else None
    if not isinstance(tokens, list):
        return
    names: dict[str, int] = {}
    values: dict[str, int] = {}
    for index, token in enumerate(tokens):
        if not isinstance(token, dict):
            continue
        path: KeyPath = ("auth", "tokens", index)
        checker.ref((*path, "agency"), token.get("agency"), "agencies")
        name, value = token.get("name"), token.get("token")
        if isinstance(name, str) and name in names:
            earlier = checker.at(("auth", "tokens", names[name], "name"))
            message = f"duplicate token name {name!r}; first defined at {earlier}"
            checker.issues.append(checker.where.issue((*path, "name"), message))
        elif isinstance(name, str):
            names[name] = index
        if isinstance(value, str) and value in values:
            earlier = checker.at(("auth", "tokens", values[value], "token"))
            # Name the other place, never the value: this text ends up in logs.
            message = f"this token value is already used at {earlier}; tokens must be unique"
            checker.issues.append(checker.where.issue((*path, "token"), message))
        elif isinstance(value, str):
            values[value] = index


def _check_cycles(checker: _Checker) -> None:
    graph: dict[str, list[str]] = {}
    position: dict[str, int] = {}
    for index, agency in checker.items("agencies"):
        agency_id, deps = agency.get("id"), agency.get("depends_on")
        if isinstance(agency_id, str) and agency_id not in graph:
            position[agency_id] = index
            graph[agency_id] = (
                [d for d in deps if isinstance(d, str)] if isinstance(deps, list) else []
            )
    for cycle in find_cycles(graph):
        chain = " -> ".join([*cycle, cycle[0]])
        path: KeyPath = ("agencies", position[cycle[0]], "depends_on")
        checker.issues.append(checker.where.issue(path, f"dependency cycle: {chain}"))


def find_cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Cycles of a directed graph (each reported once, starting at its smallest id).

    Iterative depth-first search, so a long dependency chain cannot hit the
    recursion limit. Edges to unknown nodes are ignored.
    """
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    seen: set[tuple[str, ...]] = set()
    cycles: list[list[str]] = []
    for start in graph:
        if start in state:
            continue
        path = [start]
        stack = [iter(graph[start])]
        state[start] = "open"
        while stack:
            child = next(stack[-1], None)
            if child is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(child) == "open":
                cycle = path[path.index(child) :]
                pivot = cycle.index(min(cycle))
                canonical = tuple(cycle[pivot:] + cycle[:pivot])
                if canonical not in seen:
                    seen.add(canonical)
                    cycles.append(list(canonical))
            elif child in graph and child not in state:
                state[child] = "open"
                path.append(child)
                stack.append(iter(graph[child]))
    return cycles
