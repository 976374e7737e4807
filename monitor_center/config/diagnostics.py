"""Translate pydantic validation errors into located, operator-friendly issues."""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Sequence
from typing import Annotated, Any, TypeGuard, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from monitor_center.config.errors import ConfigIssue, KeyPath
from monitor_center.config.yaml_tree import SourceMap

# Never echo the offending value of these keys back into an error message.
_SECRET_KEY = re.compile(r"secret|password|passwd|token|api_?key|credential", re.IGNORECASE)
_GENERIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def issues_from_validation_error(
    error: ValidationError, data: Any, where: SourceMap, root: type[BaseModel]
) -> list[ConfigIssue]:
    """One issue per pydantic error, located through `where`."""
    issues = []
    for details in error.errors(include_url=False):
        path = data_path(details["loc"], data)
        issues.append(where.issue(path, describe(details, path, data, root)))
    return issues


def data_path(loc: Sequence[str | int], data: Any) -> KeyPath:
    """Map pydantic's `loc` onto a path that exists in the YAML data.

    pydantic inserts entries that are not keys of the input (the tag of a
    discriminated union, e.g. ``source.json.url``); they are dropped. A final
    entry that is not in the data (a missing or unknown key) is kept.
    """
    path: list[str | int] = []
    node = data
    for position, part in enumerate(loc):
        found = (isinstance(node, dict) and part in node) or (
            isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        )
        if found:
            node = node[part]
        elif position != len(loc) - 1:
            continue
        path.append(part)
    return tuple(path)


def describe(details: ErrorDetails, path: KeyPath, data: Any, root: type[BaseModel]) -> str:
    """A one-line message for one pydantic error (without file, line and path)."""
    kind, message = details["type"], details["msg"]
    ctx: dict[str, Any] = dict(details.get("ctx") or {})
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(path, data, root)
    if kind in ("value_error", "assertion_error"):
        for prefix in _GENERIC_PREFIXES:
            message = message.removeprefix(prefix)
        return message
    if kind == "union_tag_invalid":
        expected = ctx.get("expected_tags", "")
        return f"unknown {_field(ctx)} {ctx.get('tag')!r}; expected one of {expected}"
    if kind == "union_tag_not_found":
        return f"required key {_field(ctx)!r} is missing"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, got {_shape(details['input'])}"
    if kind == "list_type":
        return f"expected a list, got {_shape(details['input'])}"
    if kind == "literal_error":
        message = f"expected {ctx.get('expected')}"
    elif message.startswith("Input should be "):
        message = "expected " + message.removeprefix("Input should be ")
    return message + _got(details["input"], path)


def _field(ctx: dict[str, Any]) -> str:
    """The discriminator's name (pydantic gives it quoted: "'type'")."""
    return str(ctx.get("discriminator", "type")).strip("'")


def _got(value: Any, path: KeyPath) -> str:
    names = [part for part in path if isinstance(part, str)]
    if (names and _SECRET_KEY.search(names[-1])) or isinstance(value, dict | list):
        return ""
    text = repr(value)
    return f", got {text[:60]}..." if len(text) > 63 else f", got {text}"


_KINDS = {list: "a list", dict: "a mapping", str: "text", bool: "true or false", type(None): "null"}


def _shape(value: Any) -> str:
    # The kind, never the value: what sits where a mapping or list belongs may be a secret
    # written in the wrong place (a bare token under auth.tokens); the line points at it.
    return _KINDS.get(type(value), "a number" if isinstance(value, int | float) else "a value")


def _unknown_key(path: KeyPath, data: Any, root: type[BaseModel]) -> str:
    key = str(path[-1]) if path else ""
    known = _allowed_keys(path[:-1], data, root)
    message = f"unknown key {key!r}"
    close = difflib.get_close_matches(key, known, n=1)
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    if known:
        return f"{message}; expected one of {', '.join(sorted(known))}"
    return message


def _allowed_keys(path: KeyPath, data: Any, root: type[BaseModel]) -> list[str]:
    """Field names of the model that validates the mapping at `path`, if known."""
    annotation: Any = root
    node = data
    for part in path:
        model = _model_of(annotation, node)
        if isinstance(part, str) and model is not None and part in model.model_fields:
            annotation = model.model_fields[part].annotation
        elif isinstance(part, int) and get_origin(_unwrap(annotation)) is list:
            annotation = get_args(_unwrap(annotation))[0]
        else:
            return []
        node = _child(node, part)
    model = _model_of(annotation, node)
    return list(model.model_fields) if model is not None else []


def _child(node: Any, part: str | int) -> Any:
    if isinstance(node, dict):
        return node.get(part)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return node[part]
    return None


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _model_of(annotation: Any, node: Any) -> type[BaseModel] | None:
    """The model class behind an annotation (Optional and tagged unions included)."""
    annotation = _unwrap(annotation)
    if _is_model(annotation):
        return annotation
    if get_origin(annotation) not in (Union, types.UnionType):
        return None
    models = [m for m in map(_unwrap, get_args(annotation)) if _is_model(m)]
    if len(models) == 1:
        return models[0]
    tag = node.get("type") if isinstance(node, dict) else None
    for model in models:
        field = model.model_fields.get("type")
        if field is not None and tag in get_args(field.annotation):
            return model
    return None


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)
