"""Citizen assertions: how the portal backend learns which citizen a request is for.

The portal backend never takes the citizen (bPK2) from a plain header or a body field that any
caller can set. The assistant sends a short-lived signed assertion instead (header
``X-Citizen-Assertion``, a JWT, HS256, ``aud`` = ``portal-citizen``, ``sub`` = the bPK2,
``exp`` ≤ 2 minutes) next to its service token.

Who issues one, and for whom:

* the action server, only for the identity the login service stored for *this* conversation
  (``buergerassistent.identity.current_identity``; the login service is the only writer of that store),
  or for the citizen recorded with an application this conversation submitted (outbox);
* the delivery worker, only for the citizen recorded in the outbox entry it delivers (recorded
  from the login identity when the citizen confirmed).

The key (``PORTAL_CITIZEN_KEY``) is separate from the assistant's service token
(``PORTAL_API_TOKEN``): a leaked service token alone reads no citizen's list, postbox or
account-bound applications, and creates none in a citizen's name. Only the action server, the
delivery worker and the portal backend hold the key.
"""

from __future__ import annotations

from typing import Optional

from buergerassistent import signing
from buergerassistent.settings import get_settings

KEY_ENV = "PORTAL_CITIZEN_KEY"
HEADER = "X-Citizen-Assertion"
AUDIENCE = "portal-citizen"
TTL_SECONDS = 120
MIN_KEY_LENGTH = 32


class InvalidAssertion(Exception):
    """Missing key, forged, expired, or not an assertion."""


def key_from_env() -> Optional[bytes]:
    value = (get_settings().portal_citizen_key or "").strip()
    return value.encode() if value else None


def issue(subject: str, key: Optional[bytes] = None, ttl: int = TTL_SECONDS) -> str:
    """An assertion that ``subject`` (bPK2) is the citizen of this request."""
    key = key or key_from_env()
    if not key:
        raise InvalidAssertion(f"{KEY_ENV} is not set")
    if not subject:
        raise InvalidAssertion("no subject")
    return signing.sign({"sub": subject}, AUDIENCE, ttl, key=key)


def verify(token: str, key: Optional[bytes]) -> str:
    """The bPK2 the assertion names; raises ``InvalidAssertion``."""
    if not key or not token:
        raise InvalidAssertion("no key or no token")
    try:
        claims = signing.verify(token, AUDIENCE, key=key)
    except signing.InvalidToken as exc:
        raise InvalidAssertion(str(exc)) from None
    subject, exp, iat = claims.get("sub"), claims.get("exp"), claims.get("iat")
    if not isinstance(subject, str) or not subject:
        raise InvalidAssertion("no subject")
    # Every assertion expires, and soon: a longer lifetime was not issued as documented.
    if not isinstance(exp, int) or not isinstance(iat, int) or exp - iat > TTL_SECONDS:
        raise InvalidAssertion("bad lifetime")
    return subject


def headers_for(citizen: Optional[str]) -> dict[str, str]:
    """Request headers carrying an assertion for ``citizen`` (none without a citizen)."""
    return {HEADER: issue(citizen)} if citizen else {}
