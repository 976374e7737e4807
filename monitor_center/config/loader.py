"""Load a configuration (and the files it includes) into a validated `Config`.

Steps: read and parse each file into plain data plus a `SourceMap`
(`yaml_tree`), merge the files (lists appended, `center`/`auth` once), then
validate the models and the cross-object references. Every problem found on the
way is collected; one `ConfigError` reports them all.
"""

from __future__ import annotations

import difflib
import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor_center.config.diagnostics import issues_from_validation_error
from monitor_center.config.errors import ConfigError, ConfigIssue, KeyPath, format_path
from monitor_center.config.fields import is_timezone
from monitor_center.config.models import DEFAULT_TIMEZONE
from monitor_center.config.references import check_references
from monitor_center.config.root import TOP_LEVEL_KEYS, Config
from monitor_center.config.yaml_tree import Document, SourceMap, parse_yaml

_SINGLE_KEYS = ("center", "auth")
_LIST_KEYS = tuple(key for key in Config.model_fields if key not in _SINGLE_KEYS)
_EXPECTED_TOP = f"expected a mapping with keys {', '.join(TOP_LEVEL_KEYS)}"
_GLOB_CHARS = frozenset("*?[")


def load_config(path: str | Path, env: Mapping[str, str]) -> Config:
    """Load and validate the configuration file at `path`.

    `env` supplies ``${VAR}`` values (the caller passes ``os.environ``).
    Raises `ConfigError` listing every problem found, across included files.
    """
    merger = _Merger(env)
    merger.load_file(str(path), chain=())
    return merger.finish()


def parse_config_text(text: str, *, filename: str, env: Mapping[str, str]) -> Config:
    """Validate configuration text as if read from `filename`.

    `filename` names the text in error messages; relative ``include`` paths
    are resolved from its directory.
    """
    merger = _Merger(env)
    merger.load_text(text, filename, chain=(_identity(filename),))
    return merger.finish()


def _identity(display: str) -> str:
    """A stable identity for include-cycle detection."""
    return os.path.realpath(display)


class _Merger:
    """Accumulates files into one data tree, one SourceMap and a list of issues."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.data: dict[str, Any] = {}
        self.where: SourceMap | None = None
        self.poisoned: set[KeyPath] = set()
        self.issues: list[ConfigIssue] = []
        self.files: list[str] = []  # load order, used to sort the report
        self.loaded: set[str] = set()  # identities, so a file shared by two includes loads once

    def load_file(self, display: str, chain: tuple[str, ...]) -> None:
        """Read, parse and merge one file; `chain` holds the files including it."""
        identity = _identity(display)
        self.loaded.add(identity)
        self.files.append(display)
        self._ensure_map(display)
        try:
            raw = Path(display).read_bytes()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self.issues.append(ConfigIssue(display, None, "", f"cannot read the file: {reason}"))
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = f"the file is not UTF-8 text (bad byte at offset {exc.start})"
            self.issues.append(ConfigIssue(display, None, "", message))
            return
        self.load_text(text, display, (*chain, identity))

    def load_text(self, text: str, display: str, chain: tuple[str, ...]) -> None:
        """Parse and merge text read from `display`, then follow its includes."""
        self.loaded.update(chain[-1:])
        if display not in self.files:
            self.files.append(display)
        self._ensure_map(display)
        document = parse_yaml(text, display, self.env)
        self.issues.extend(document.issues)
        if document.issues and document.data is None:
            return  # not YAML at all: nothing more to say about this file
        if document.data is None:
            message = f"the file is empty; {_EXPECTED_TOP}"
            self.issues.append(ConfigIssue(display, None, "", message))
            return
        if not isinstance(document.data, dict):
            kind = "a list" if isinstance(document.data, list) else "a single value"
            message = f"{_EXPECTED_TOP} at the top level, got {kind}"
            self.issues.append(document.where.issue((), message))
            return
        self._merge(document)
        self._follow_includes(document, chain)

    def _ensure_map(self, display: str) -> None:
        if self.where is None:
            self.where = SourceMap(display)

    def _merge(self, document: Document) -> None:
        for key, value in document.data.items():
            if key == "include":
                continue
            if key not in TOP_LEVEL_KEYS:
                self.issues.append(document.where.issue((key,), _unknown_top(key)))
            elif value is None:
                continue  # `endpoints:` with nothing under it: same as leaving it out
            elif key in _SINGLE_KEYS:
                self._merge_single(document, key, value)
            else:
                self._merge_list(document, key, value)

    def _merge_single(self, document: Document, key: str, value: Any) -> None:
        assert self.where is not None
        if key in self.data:
            file, line = self.where.locate((key,))
            earlier = file if line is None else f"{file}:{line}"
            message = f"{key!r} is already defined at {earlier}; it may appear only once"
            self.issues.append(document.where.issue((key,), message))
            return
        self.data[key] = value
        self._copy_locations(document, key)

    def _merge_list(self, document: Document, key: str, value: Any) -> None:
        if not isinstance(value, list):
            message = f"expected a list, got {type(value).__name__}"
            self.issues.append(document.where.issue((key,), message))
            return
        merged = self.data.setdefault(key, [])
        offset = len(merged)
        merged.extend(value)
        self._copy_locations(document, key, offset)

    def _copy_locations(self, document: Document, key: str, offset: int = 0) -> None:
        """Copy `document`'s locations under the top-level `key`, shifting list
        indexes by `offset` (its items come after those of earlier files)."""
        assert self.where is not None

        def shifted(path: KeyPath) -> KeyPath:
            if len(path) > 1 and isinstance(path[1], int):
                return (key, path[1] + offset, *path[2:])
            return path

        for path, location in document.where.items_under((key,)):
            if len(path) == 1:
                # The list key itself keeps the line of the file that opened it.
                self.where.entries.setdefault(path, location)
            else:
                self.where.entries[shifted(path)] = location
        self.poisoned.update(shifted(p) for p in document.poisoned if p[:1] == (key,))

    def _follow_includes(self, document: Document, chain: tuple[str, ...]) -> None:
        patterns = document.data.get("include")
        if patterns is None:
            return
        if isinstance(patterns, str):
            patterns = [patterns]
        if not isinstance(patterns, list):
            message = "expected a list of file names or glob patterns"
            self.issues.append(document.where.issue(("include",), message))
            return
        base = os.path.dirname(document.file)
        for index, pattern in enumerate(patterns):
            path: KeyPath = ("include", index)
            if not isinstance(pattern, str) or not pattern:
                self.issues.append(document.where.issue(path, "expected a file name or pattern"))
                continue
            is_glob = bool(_GLOB_CHARS & set(pattern))
            for display in _expand(base, pattern, is_glob):
                identity = _identity(display)
                if identity in chain and not is_glob:
                    message = f"{display} is already being loaded (an include cycle)"
                    self.issues.append(document.where.issue(path, message))
                elif identity not in self.loaded:
                    # Already-loaded files are skipped: `*.yaml` may match the
                    # including file, and two files may include the same one.
                    self.load_file(display, chain)

    def finish(self) -> Config:
        """Validate the merged data; return the Config or raise ConfigError."""
        where = self.where or SourceMap("<config>")
        config: Config | None = None
        later: list[ConfigIssue] = []
        context = {"timezone": _center_timezone(self.data)}
        try:
            config = Config.model_validate(self.data, context=context)
        except ValidationError as exc:
            later += issues_from_validation_error(exc, self.data, where, Config)
        later += check_references(self.data, where)
        # A value that could not be built (unset variable...) was reported
        # already; a second "bad duration" error for it would only confuse.
        poisoned = {format_path(path) for path in self.poisoned}
        issues = self.issues + [issue for issue in later if issue.path not in poisoned]
        if issues or config is None:
            rank = {name: position for position, name in enumerate(self.files)}
            issues.sort(key=lambda i: (rank.get(i.file, len(rank)), i.line or 0))
            raise ConfigError(issues)
        return config


def _expand(base: str, pattern: str, is_glob: bool) -> list[str]:
    """File names for one `include` entry, relative to the including file."""
    joined = os.path.normpath(os.path.join(base, pattern))
    if not is_glob:
        return [joined]
    # A pattern matching nothing is fine (an empty conf.d); a plain name is not.
    return sorted(match for match in glob.glob(joined, recursive=True) if os.path.isfile(match))


def _unknown_top(key: str) -> str:
    message = f"unknown top-level key {key!r}"
    close = difflib.get_close_matches(key, TOP_LEVEL_KEYS, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}; expected one of {', '.join(TOP_LEVEL_KEYS)}"


def _center_timezone(data: dict[str, Any]) -> str:
    """The configured time zone if usable; naive maintenance times use it."""
    center = data.get("center")
    name = center.get("timezone") if isinstance(center, dict) else None
    return name if isinstance(name, str) and is_timezone(name) else DEFAULT_TIMEZONE
