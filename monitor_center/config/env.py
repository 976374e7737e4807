"""``${VAR}`` expansion in configuration strings.

The environment is always passed in: the service reads `os.environ` once at
start-up and nothing in this package looks at it, which keeps tests hermetic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

# Order matters: the escape `$${` first, then a well-formed reference, then any
# other `${` (malformed; reported instead of being silently left in place).
_REFERENCE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$\{")


def expand_env(text: str, env: Mapping[str, str]) -> tuple[str, list[str]]:
    """Expand ``${NAME}`` from `env`; ``$${`` gives a literal ``${``.

    Returns the expanded text and a list of problems (unset variables,
    malformed references). A lone ``$`` is left alone.
    """
    problems: list[str] = []

    def replace(match: re.Match[str]) -> str:
        text = match.group(0)
        if text == "$${":
            return "${"
        name = match.group(1)
        if name is None:
            problems.append("malformed '${': expected ${NAME} (write $${ for a literal '${')")
            return text
        if name not in env:
            problems.append(f"environment variable {name!r} is not set")
            return text
        return env[name]

    return _REFERENCE.sub(replace, text), problems
