"""Access tokens minted with PyJWT (a third-party JWT library), as a real client's identity
provider would mint them."""

from __future__ import annotations

import time
import uuid

import jwt

from chatd_interop.server import TEST_JWT_SECRET


def mint(
    user: str,
    name: str | None = None,
    *,
    role: str | None = None,
    picture: str | None = None,
    ttl: int = 3600,
    secret: str = TEST_JWT_SECRET,
    algorithm: str = "HS256",
    **claims,
) -> str:
    payload = {"sub": user, "name": name or user, "exp": int(time.time()) + ttl, **claims}
    if role:
        payload["role"] = role
    if picture:
        payload["picture"] = picture
    return jwt.encode(payload, secret, algorithm=algorithm)


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


def new_user_id(prefix: str = "u") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"
