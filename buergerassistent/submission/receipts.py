"""Links to the PDF Eingangsbestätigung, served by the portal backend (``GET
/receipts/{token}``, see ``portal_backend/openapi.yaml``): a route of its own outside the
service-authenticated ``/api``, the only part of the backend a browser needs.

The token is signed and expires (``buergerassistent/signing.py``, purpose ``receipt``); it names the case
number and, after login, a hash of the citizen's bPK2. The link appears only in the citizen's own
conversation (and, after login, their postbox), so only they can open it.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from buergerassistent import signing
from buergerassistent.settings import get_settings

PURPOSE = "receipt"


def ttl_seconds() -> int:
    return int(get_settings().receipt_link_ttl_s)


def public_base_url() -> str:
    # Where the citizen's browser reaches the portal backend (may differ from the internal URL).
    return (get_settings().portal_public_url or get_settings().portal_backend_url or "http://localhost:8080").rstrip(
        "/"
    )


def citizen_digest(citizen: str) -> str:
    """The bPK2 as it goes into a link: hashed, since a JWT's payload is readable and URLs end
    up in access logs."""
    return hashlib.sha256(citizen.encode("utf-8")).hexdigest()


def receipt_url(case_number: str, citizen: Optional[str] = None, lang: str = "de") -> str:
    """``lang``: the conversation's language; the PDF is written in it (``en``, ``ls``; else German)."""
    claims = {"cn": case_number}
    if citizen:
        claims["cit"] = citizen_digest(citizen)
    if lang in ("en", "ls"):
        claims["lang"] = lang
    token = signing.sign(claims, PURPOSE, ttl_seconds())
    return f"{public_base_url()}/receipts/{token}"


def ttl_text() -> str:
    days = ttl_seconds() // 86400
    if days >= 1:
        return f"{days} Tag" if days == 1 else f"{days} Tage"
    hours = max(1, ttl_seconds() // 3600)
    return f"{hours} Stunde" if hours == 1 else f"{hours} Stunden"
