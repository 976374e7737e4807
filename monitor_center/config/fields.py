"""Reusable field types and the base model shared by all configuration models.

Each validator raises ValueError with a message written for the operator who
edits the YAML; the loader prefixes it with file, line and key path.
"""

from __future__ import annotations

import functools
import re
from typing import Annotated
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jsonpath_ng.ext.parser import parse as parse_json_path
from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr

MIN_TOKEN_LENGTH = 16

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class ConfigModel(BaseModel):
    """Base of every configuration model: immutable, unknown keys are errors."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


def check_slug(value: str) -> str:
    """Ids appear in URLs, metric labels and SQL rows, so keep them boring."""
    if not _SLUG.fullmatch(value):
        raise ValueError(
            "expected an id made of lowercase letters, digits, '-' and '_' "
            f"(at most 64, starting with a letter or digit), got {value!r}"
        )
    return value


def check_http_url(value: str) -> str:
    """Accept only absolute http(s) URLs with a host: probes must not read files."""
    problem = f"expected an http:// or https:// URL, got {value!r}"
    if any(ch.isspace() for ch in value):
        raise ValueError(problem)
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError on a port like :99999 or :abc
    except ValueError as exc:
        raise ValueError(problem) from exc
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(problem)
    return value


def check_origin(value: str) -> str:
    """A browser Origin: scheme, host and optional port, nothing else."""
    check_http_url(value)
    parts = urlsplit(value)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"expected an origin like https://monitor.gov.vn, got {value!r}")
    return value.rstrip("/")


def is_timezone(name: str) -> bool:
    """True when `name` is an IANA time zone known to this machine."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def check_json_path(value: str) -> str:
    """Compile the expression now so a typo fails at load time, not at probe time."""
    problem = _json_path_problem(value)
    if problem is not None:
        raise ValueError(f"invalid JSONPath {value!r}: {problem}")
    return value


@functools.lru_cache(maxsize=4096)
def _json_path_problem(value: str) -> str | None:
    # Building jsonpath_ng's parser costs ~1 ms; fleets repeat the same few paths.
    try:
        parse_json_path(value)
    except Exception as exc:  # jsonpath_ng raises several unrelated exception types
        return str(exc)
    return None


def check_token(value: SecretStr) -> SecretStr:
    """Refuse short bearer tokens; never echo the value in the message."""
    length = len(value.get_secret_value())
    if length < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"a token must be at least {MIN_TOKEN_LENGTH} characters long (this one has {length})"
        )
    return value


Slug = Annotated[str, AfterValidator(check_slug)]
HttpURL = Annotated[str, AfterValidator(check_http_url)]
Origin = Annotated[str, AfterValidator(check_origin)]
JsonPathText = Annotated[str, AfterValidator(check_json_path)]
Token = Annotated[SecretStr, AfterValidator(check_token)]
