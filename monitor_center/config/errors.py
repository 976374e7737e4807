"""Error types for configuration problems.

Every problem found while loading a configuration becomes one `ConfigIssue`
(file, line, key path, message). Loading collects all of them and raises a
single `ConfigError`, so an operator fixes a broken file in one pass instead of
one error per run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.redaction import redact_credentials

# A key path into the YAML data: mapping keys are strings, list indexes ints.
KeyPath = tuple[str | int, ...]


def format_path(path: Sequence[str | int]) -> str:
    """Render a key path the way a user reads it: ``endpoints[3].expect.json_path``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a configuration file.

    `line` is 1-based, or None when the problem is not tied to a line (an
    unreadable file). `path` is the rendered key path (empty for the whole
    document). A URL quoted in `message` has its password hidden, whoever built
    the message: errors are printed, logged and returned by the reload API.
    """

    file: str
    line: int | None
    path: str
    message: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "message", redact_credentials(self.message))

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The configuration is invalid; `issues` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: list[ConfigIssue] = list(issues)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    def __reduce__(self) -> tuple[type[ConfigError], tuple[list[ConfigIssue]]]:
        # Rebuild from the issues, not from the message (e.g. across processes).
        return (type(self), (self.issues,))
