"""Reading a response body within a size cap, and the body assertions of a probe."""

from __future__ import annotations

import json
from functools import lru_cache

import aiohttp
from jsonpath_ng.ext.parser import parse  # the same function as jsonpath_ng.ext.parse
from jsonpath_ng.jsonpath import JSONPath

from collectors._http_errors import shorten

_VALUE_PREVIEW = 60


class BodyTooLargeError(Exception):
    """The (decompressed) body has more bytes than the probe allows."""

    def __init__(self, cap: int) -> None:
        super().__init__(f"body too large (> {cap} bytes)")


async def read_capped(response: aiohttp.ClientResponse, cap: int, *, keep: bool) -> bytes:
    """Read the whole body, failing as soon as more than ``cap`` bytes have arrived.

    aiohttp hands us the body already decompressed, in bounded pieces, so counting here
    also stops a gzip bomb long before it fills memory. With ``keep=False`` the bytes are
    counted and dropped: the caller needs no content, only a complete body within the cap.
    """
    declared = response.content_length
    if declared is not None and declared > cap and not response.headers.get("Content-Encoding"):
        raise BodyTooLargeError(cap)  # no need to download what we will refuse anyway
    chunks: list[bytes] = []
    size = 0
    while chunk := await response.content.readany():
        size += len(chunk)
        if size > cap:
            raise BodyTooLargeError(cap)
        if keep:
            chunks.append(chunk)
    return b"".join(chunks)


class JsonPathError(ValueError):
    """The JSONPath expression of a probe does not compile."""


@lru_cache(maxsize=4096)
def compile_json_path(expression: str) -> JSONPath:
    """Compile a JSONPath expression (``jsonpath_ng.ext`` syntax) once per distinct string.

    Raises :class:`JsonPathError` for an invalid expression, so configuration code can
    call this to validate a probe before it ever runs.
    """
    try:
        return parse(expression)
    except Exception as exc:  # jsonpath-ng raises a mix of exception types
        raise JsonPathError(shorten(f"invalid json_path: {exc}")) from exc


def check_body(
    text: str, *, contains: str | None, json_path: str | None, equals: object | None
) -> str | None:
    """The reason the body fails the assertions, or ``None`` when it passes them."""
    if contains is not None and contains not in text:
        return "body mismatch"
    if json_path is None:
        return None
    try:
        expression = compile_json_path(json_path)
    except JsonPathError as exc:
        return str(exc)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        return "body is not JSON"
    try:
        matches = expression.find(document)
    except Exception as exc:  # filters can fail on unexpected value types
        return shorten(f"json_path error: {exc}")
    if not matches:
        return "json_path matched nothing"
    actual = matches[0].value
    if equals is not None and not json_equal(actual, equals):
        return shorten(
            f"json_path value mismatch: expected {_preview(equals)}, got {_preview(actual)}"
        )
    return None


def json_equal(left: object, right: object) -> bool:
    """Compare two values as JSON values: ``true`` is not ``1``, but ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left is right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, list | tuple) and isinstance(right, list | tuple):
        return len(left) == len(right) and all(map(json_equal, left, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(v, right[k]) for k, v in left.items())
    return type(left) is type(right) and left == right


def _preview(value: object) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError, RecursionError):
        text = repr(value)
    return shorten(text, _VALUE_PREVIEW)
