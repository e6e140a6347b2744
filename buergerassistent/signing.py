"""Signed, expiring tokens (JWT, HS256 via PyJWT) bound to a purpose.

Used wherever a browser or another process hands us something we issued earlier: web chat
session ids, login tickets, receipt links. The key comes from ``BA_SECRET_KEY``; without it, a
random key is created once in ``var/secret.key`` (mode 0600) so that all local processes share it.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from functools import lru_cache
from typing import Any, Optional

import jwt

from buergerassistent.settings import get_settings


class InvalidToken(Exception):
    """Forged, expired, or issued for another purpose."""


@lru_cache(maxsize=1)
def secret_key() -> bytes:
    settings = get_settings()
    from_env = (settings.ba_secret_key or "").strip()
    if from_env:
        return from_env.encode()
    settings.check()  # production: BA_SECRET_KEY is required, no key file
    path = settings.var_dir / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write to a private temp file, then link it into place: of several processes starting
        # at once, exactly one key wins and every process reads that one.
        tmp = path.with_name(f".secret.key.{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_text().strip().encode()


def sign(
    claims: dict[str, Any], purpose: str, ttl_seconds: int, key: Optional[bytes] = None, now: Optional[float] = None
) -> str:
    """A token for ``purpose`` that expires ``ttl_seconds`` after ``now`` (default: the clock)."""
    now = int(time.time() if now is None else now)
    payload = {**claims, "aud": purpose, "iat": now, "exp": now + ttl_seconds, "jti": uuid.uuid4().hex}
    return jwt.encode(payload, key or secret_key(), algorithm="HS256")


def verify(token: str, purpose: str, key: Optional[bytes] = None, now: Optional[float] = None) -> dict[str, Any]:
    """The claims of a token we signed for ``purpose``, valid at ``now`` (default: the clock).
    Expiry and issue time are checked here as PyJWT would, but against ``now``, so that callers
    and tests can pass the time instead of waiting for it."""
    try:
        claims = jwt.decode(
            token,
            key or secret_key(),
            algorithms=["HS256"],
            audience=purpose,
            options={"verify_exp": False, "verify_iat": False},
        )
    # UnicodeError: a header value with undecodable bytes reaches us as lone surrogates.
    except (jwt.PyJWTError, UnicodeError) as exc:
        raise InvalidToken(type(exc).__name__) from exc
    now = time.time() if now is None else now
    try:
        if "exp" in claims and int(claims["exp"]) <= now:
            raise InvalidToken("ExpiredSignatureError")
        if "iat" in claims and int(claims["iat"]) > now:
            raise InvalidToken("ImmatureSignatureError")
    except (ValueError, TypeError, OverflowError) as exc:
        raise InvalidToken("DecodeError") from exc
    return claims
