"""Turn YAML text into plain Python data while remembering where each key was.

`yaml.safe_load` forgets line numbers, so we compose the node tree ourselves
(SafeLoader, so no arbitrary Python objects) and build dicts, lists and scalars
from it, recording ``key path -> line`` on the way. ``${VAR}`` references are
expanded here, on string scalars, before any type validation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from monitor_center.config.env import expand_env
from monitor_center.config.errors import ConfigIssue, KeyPath, format_path

_MAX_DEPTH = 32
# Caps alias expansion ("billion laughs"): nodes reached a second time through
# an alias count against it. Real files share a few small anchors at most.
_MAX_ALIAS_NODES = 100_000
# Block nesting is bounded by line length, so only flow brackets need a limit.
_MAX_FAST_DEPTH = 1_000
# PyYAML built without libyaml has no CSafeLoader; fall back to the Python one.
_FastLoader: Callable[[str], _Loader] | None = getattr(yaml, "CSafeLoader", None)
_MAP_TAG = "tag:yaml.org,2002:map"
_STR_TAG = "tag:yaml.org,2002:str"
_SEQ_TAG = "tag:yaml.org,2002:seq"


class _Loader(Protocol):
    """What we use of yaml.SafeLoader / yaml.CSafeLoader."""

    def get_single_node(self) -> Node | None: ...
    def construct_object(self, node: Node, deep: bool = False) -> Any: ...
    def flatten_mapping(self, node: MappingNode) -> None: ...
    def dispose(self) -> None: ...


@dataclass
class SourceMap:
    """Where each key path of the (merged) data came from: path -> (file, line)."""

    default_file: str
    entries: dict[KeyPath, tuple[str, int]] = field(default_factory=dict)

    def locate(self, path: KeyPath) -> tuple[str, int | None]:
        """File and 1-based line of `path`, else of its nearest recorded ancestor."""
        for end in range(len(path), -1, -1):
            found = self.entries.get(path[:end])
            if found is not None:
                return found
        return self.default_file, None

    def issue(self, path: KeyPath, message: str) -> ConfigIssue:
        """A ConfigIssue located at `path`."""
        file, line = self.locate(path)
        return ConfigIssue(file, line, format_path(path), message)

    def items_under(self, prefix: KeyPath) -> Iterator[tuple[KeyPath, tuple[str, int]]]:
        """Entries at `prefix` or below it."""
        size = len(prefix)
        for path, where in self.entries.items():
            if path[:size] == prefix:
                yield path, where


@dataclass
class Document:
    """One parsed file: its data, where its keys are, and its problems.

    `poisoned` holds paths whose value could not be built (e.g. an unset
    variable); later checks stay quiet about them to avoid a second, confusing
    error for the same mistake.
    """

    file: str
    data: Any
    where: SourceMap
    poisoned: set[KeyPath] = field(default_factory=set)
    issues: list[ConfigIssue] = field(default_factory=list)


def parse_yaml(text: str, file: str, env: Mapping[str, str]) -> Document:
    """Parse one YAML document; syntax errors become issues, never exceptions."""
    document = Document(file=file, data=None, where=SourceMap(file))
    try:
        # The reader checks for control characters already in the constructor.
        loader = _loader_for(text)
    except yaml.reader.ReaderError:
        document.issues.append(_reader_issue(text, file))
        return document
    try:
        root = loader.get_single_node()
        if root is not None:
            document.data = _Builder(loader, document, env).build(root, (), 0)
    except yaml.reader.ReaderError:
        document.issues.append(_reader_issue(text, file))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "syntax error"
        document.issues.append(ConfigIssue(file, line, "", f"not valid YAML: {reason}"))
    except yaml.YAMLError as exc:
        document.issues.append(ConfigIssue(file, None, "", f"not valid YAML: {exc}"))
    except RecursionError:
        document.issues.append(ConfigIssue(file, None, "", "not valid YAML: nested too deeply"))
    finally:
        loader.dispose()
    return document


def _loader_for(text: str) -> _Loader:
    """libyaml's loader when it is safe to use, else the pure-Python one.

    libyaml is about ten times faster (a 10,000-endpoint fleet), but its
    composer recurses in C and crashes the process on absurdly deep flow
    nesting; the Python composer raises RecursionError, which we report.
    """
    if _FastLoader is not None and _flow_depth(text) < _MAX_FAST_DEPTH:
        return _FastLoader(text)
    return yaml.SafeLoader(text)


def _flow_depth(text: str) -> int:
    """Upper bound of `[`/`{` nesting (brackets inside quotes are counted too)."""
    if text.count("[") + text.count("{") < _MAX_FAST_DEPTH:
        return 0
    depth = deepest = 0
    for match in re.finditer(r"[\[\]{}]", text):
        depth = depth + 1 if match.group() in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def _reader_issue(text: str, file: str) -> ConfigIssue:
    """Locate the first character YAML refuses (control characters and the like)."""
    found = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if found is None:
        return ConfigIssue(file, None, "", "not valid YAML: unacceptable character")
    line = text.count("\n", 0, found.start()) + 1
    message = f"not valid YAML: the character {found.group()!r} is not allowed in YAML"
    return ConfigIssue(file, line, "", message)


class _TooLarge(Exception):
    pass


class _Builder:
    """Walks a composed node tree into plain data, filling the Document."""

    def __init__(self, loader: _Loader, document: Document, env: Mapping[str, str]):
        self._loader = loader
        self._doc = document
        self._env = env
        self._alias_budget = _MAX_ALIAS_NODES
        self._visited: set[int] = set()

    def build(self, node: Node, path: KeyPath, depth: int) -> Any:
        """Plain data for `node` (the document root when `path` is empty)."""
        if path == ():
            self._doc.where.entries[()] = (self._doc.file, node.start_mark.line + 1)
        try:
            return self._node(node, path, depth)
        except _TooLarge:
            self._problem(path, node, "the document is too large (too many aliases?)")
            return None

    def _node(self, node: Node, path: KeyPath, depth: int) -> Any:
        if id(node) in self._visited:
            self._alias_budget -= 1
            if self._alias_budget < 0:
                raise _TooLarge
        self._visited.add(id(node))
        if depth > _MAX_DEPTH:
            self._problem(path, node, f"nested more than {_MAX_DEPTH} levels deep")
            self._doc.poisoned.add(path)
            return None
        if isinstance(node, MappingNode) and node.tag == _MAP_TAG:
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode) and node.tag == _SEQ_TAG:
            return self._sequence(node, path, depth)
        if isinstance(node, ScalarNode):
            return self._scalar(node, path)
        self._problem(path, node, f"unsupported YAML tag {node.tag!r}")
        self._doc.poisoned.add(path)
        return None

    def _mapping(self, node: MappingNode, path: KeyPath, depth: int) -> dict[str, Any]:
        explicit = {id(pair) for pair in node.value}
        self._loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for pair in node.value:
            key_node, value_node = pair
            if not isinstance(key_node, ScalarNode):
                self._problem(path, key_node, "mapping keys must be plain text")
                continue
            key, line = str(key_node.value), key_node.start_mark.line + 1
            # Only keys written in this mapping can clash; merged ones are overridable.
            if id(pair) in explicit and key in first_line:
                message = f"duplicate key {key!r} (first at line {first_line[key]})"
                self._problem((*path, key), key_node, message)
            elif id(pair) in explicit:
                first_line[key] = line
            self._doc.where.entries[(*path, key)] = (self._doc.file, line)
            # Later pairs win: explicit keys override merged ones, as in YAML.
            result[key] = self._node(value_node, (*path, key), depth + 1)
        return result

    def _sequence(self, node: SequenceNode, path: KeyPath, depth: int) -> list[Any]:
        items: list[Any] = []
        for index, item in enumerate(node.value):
            self._doc.where.entries[(*path, index)] = (self._doc.file, item.start_mark.line + 1)
            items.append(self._node(item, (*path, index), depth + 1))
        return items

    def _scalar(self, node: ScalarNode, path: KeyPath) -> Any:
        if node.tag == _STR_TAG:  # the common case; skip the constructor's overhead
            return self._expand(node, path, node.value)
        try:
            value = self._loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            # e.g. `2024-13-45` looks like a date to YAML but is not one.
            reason = getattr(exc, "problem", None) or str(exc)
            self._problem(path, node, f"cannot read value {node.value!r}: {reason}")
            self._doc.poisoned.add(path)
            return node.value
        return self._expand(node, path, value) if isinstance(value, str) else value

    def _expand(self, node: ScalarNode, path: KeyPath, value: str) -> str:
        if "$" not in value:
            return value
        expanded, problems = expand_env(value, self._env)
        for problem in problems:
            self._problem(path, node, problem)
        if problems:
            self._doc.poisoned.add(path)
        return expanded

    def _problem(self, path: KeyPath, node: Node, message: str) -> None:
        line = node.start_mark.line + 1
        self._doc.issues.append(ConfigIssue(self._doc.file, line, format_path(path), message))
