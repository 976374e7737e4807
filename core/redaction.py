"""Hiding credentials that travel inside URLs, before a URL or a message is shown.

One rule for every place that shows a URL (config errors, probe and series failure
reasons, the endpoints API, database URLs in logs):

* the password of a URL's userinfo becomes ``***`` (``https://monitor:***@host/``); the
  user name stays, it tells an operator which account is configured;
* the value of a query parameter (or ``key=value`` pair, as in a libpq conninfo) whose
  name looks like a secret (``token``, ``secret``, ``password``, ``api_key``,
  ``signature``, ``auth``, ``credential``...) becomes ``***``.

It works on a bare URL and on free text that quotes URLs alike, and it is idempotent.
"""

from __future__ import annotations

import re

# scheme://user:password@ : the password may hold '@' (taken up to the last one before the
# path) but no '/', '?', '#' or whitespace, which end the authority.
# A scheme-relative //user:password@host counts too.
_USERINFO_PASSWORD = re.compile(r"((?:\b[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^:/?#@\s]*:)[^/?#\s]*@")
_SECRET_PARAMETER = re.compile(
    r"(?i)(\b[\w.-]*(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|signature"
    r"|auth|credential|session)[\w.-]*=)[^&\s'\"#]+"
)


def redact_credentials(text: str) -> str:
    """``text`` (a URL, or a message quoting URLs) with URL passwords and secret-looking
    parameter values replaced by ``***``."""
    if "=" not in text and "@" not in text:  # the common case: nothing to look for
        return text
    text = _USERINFO_PASSWORD.sub(r"\1***@", text)
    return _SECRET_PARAMETER.sub(r"\1***", text)
