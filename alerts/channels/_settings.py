"""Read a channel's settings (a plain dict) with errors that name the channel and the key.

Config validation proper happens when the file is loaded; these checks only keep a
factory from building a channel that cannot work. Messages never echo a value, since
values may be secrets.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def label(kind: str, channel_id: str) -> str:
    """The prefix of every settings error, e.g. ``webhook channel 'ops'``."""
    return f"{kind} channel {channel_id!r}"


def required_str(settings: Mapping[str, Any], key: str, *, where: str) -> str:
    """A non-empty string (an int is accepted, e.g. a Telegram chat id); else ``ValueError``."""
    value = optional_str(settings, key, where=where)
    if value is None:
        raise ValueError(f"{where}: missing required setting {key!r}")
    return value


def optional_str(settings: Mapping[str, Any], key: str, *, where: str) -> str | None:
    """A string, or ``None`` when absent or empty (an unset ``${VAR}`` expands to "")."""
    value = settings.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{where}: setting {key!r} must be a string")
    return str(value)


def optional_bool(settings: Mapping[str, Any], key: str, *, where: str, default: bool) -> bool:
    """A boolean; the strings ``true``/``false`` (and yes/no, on/off, 1/0) are accepted."""
    value = settings.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError(f"{where}: setting {key!r} must be true or false")


def optional_port(settings: Mapping[str, Any], key: str, *, where: str) -> int | None:
    """A TCP port number (1-65535), or ``None`` when absent."""
    value = settings.get(key)
    if value is None or value == "":
        return None
    try:
        port = int(value)
    except (TypeError, ValueError):
        port = 0
    if isinstance(value, bool) or not 0 < port < 65536:
        raise ValueError(f"{where}: setting {key!r} must be a port number (1-65535)")
    return port


def str_list(settings: Mapping[str, Any], key: str, *, where: str) -> list[str]:
    """A non-empty list of non-empty strings; a single string counts as a list of one."""
    value = settings.get(key)
    if isinstance(value, str):
        value = [value]
    if not value:
        raise ValueError(f"{where}: missing required setting {key!r}")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: setting {key!r} must be a list of strings")
    return list(value)


def http_url(
    settings: Mapping[str, Any], key: str, *, where: str, default: str | None = None
) -> str:
    """An absolute ``http://`` or ``https://`` URL."""
    value = optional_str(settings, key, where=where) or default
    if value is None:
        raise ValueError(f"{where}: missing required setting {key!r}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where}: setting {key!r} must be an http(s) URL")
    return value
