"""Bearer-token authentication with roles: viewer < operator < admin.

Tokens are compared in constant time (digests of equal length through
``hmac.compare_digest``, every configured token checked) and never echoed back or logged.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request, status

Role = Literal["viewer", "operator", "admin"]
_RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the token's name (never its value), role and agency scope."""

    name: str
    role: Role
    agency: str | None = None


@dataclass(frozen=True, slots=True)
class _Entry:
    digest: bytes
    principal: Principal


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


class TokenAuth:
    """Resolves bearer tokens to principals."""

    def __init__(self, tokens: Sequence[tuple[str, str, Role, str | None]]) -> None:
        """``tokens``: (name, secret value, role, agency scope or None)."""
        self._entries = [
            _Entry(_digest(secret), Principal(name, role, agency))
            for name, secret, role, agency in tokens
        ]

    def authenticate(self, token: str) -> Principal | None:
        presented = _digest(token)
        found: Principal | None = None
        for entry in self._entries:  # no early exit: timing does not depend on position
            if hmac.compare_digest(presented, entry.digest):
                found = entry.principal
        return found


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def require(role: Role) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller must hold ``role`` or a higher one."""

    async def dependency(request: Request) -> Principal:
        auth: TokenAuth = request.app.state.ctx.auth
        token = bearer_token(request)
        principal = auth.authenticate(token) if token else None
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail="missing or invalid bearer token",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if _RANK[principal.role] < _RANK[role]:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail=f"this action needs the {role} role; token '{principal.name}'"
                f" has {principal.role}",
            )
        return principal

    return dependency
