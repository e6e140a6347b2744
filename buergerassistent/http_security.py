"""Security headers for every aiohttp app we serve (demo page and widget, login service, portal
backend): one middleware.

* ``Content-Security-Policy``: scripts, styles, fonts, images only from the app's own origin
  (no ``unsafe-inline``, no ``eval``), no plugins, no ``<base>``; ``connect-src`` adds what a page
  must reach (the demo page: the chat server); ``frame-ancestors`` from ``BA_FRAME_ANCESTORS``
  (default ``'self'``; e.g. ``'self' https://www.portal.example`` where the portal frames a page).
  A PDF (receipts) gets only ``frame-ancestors``: the browser's PDF viewer is a plugin.
* ``X-Frame-Options`` as ``frame-ancestors`` says, for browsers without CSP (``DENY`` for
  ``'none'``, ``SAMEORIGIN`` for ``'self'``; left out for a list, which it cannot express).
* ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (login and receipt links
  carry tokens in the URL), ``Cross-Origin-Opener-Policy`` (``same-origin`` unless the app
  says otherwise with ``app[OPENER_POLICY]``: the login window must keep its ``window.opener``
  to hand the one-time login code to the chat that opened it, so the login pages send none and
  the page with the chat sends ``same-origin-allow-popups``).

Use: ``web.Application(middlewares=[security_headers_middleware])`` or
``app.middlewares.append(security_headers_middleware)``; a page that needs more sets its own
policy with ``app[CSP] = content_security_policy(connect_src=[...])``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from aiohttp import web

from buergerassistent.settings import get_settings

CSP = web.AppKey("content_security_policy", str)
# Cross-Origin-Opener-Policy of an app; "" = send none.
OPENER_POLICY = web.AppKey("opener_policy", str)
DEFAULT_OPENER_POLICY = "same-origin"


def frame_ancestors() -> str:
    return (get_settings().ba_frame_ancestors or "'self'").strip()


def _websocket_of(source: str) -> Optional[str]:
    if source.startswith("https://"):
        return "wss://" + source[len("https://") :]
    if source.startswith("http://"):
        return "ws://" + source[len("http://") :]
    return None


def content_security_policy(connect_src: Iterable[str] = (), ancestors: Optional[str] = None) -> str:
    """The policy; ``connect_src``: other origins the page talks to (their ws:// and wss:// are
    added for an http(s) origin, for socket.io)."""
    connect = ["'self'"]
    for source in connect_src:
        source = source.rstrip("/")
        for item in (source, _websocket_of(source)):
            if item and item not in connect:
                connect.append(item)
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        f"connect-src {' '.join(connect)}",
        "object-src 'none'",
        "base-uri 'none'",
        f"frame-ancestors {ancestors or frame_ancestors()}",
    ]
    return "; ".join(directives)


def _frame_options(ancestors: str) -> Optional[str]:
    value = ancestors.strip().lower()
    if value == "'none'":
        return "DENY"
    if value == "'self'":
        return "SAMEORIGIN"
    return None


def apply_headers(response: web.StreamResponse, policy: str, opener_policy: str = DEFAULT_OPENER_POLICY) -> None:
    ancestors = next((d.split(None, 1)[1] for d in policy.split("; ") if d.startswith("frame-ancestors ")), "'self'")
    headers = response.headers
    if response.content_type == "application/pdf":
        headers.setdefault("Content-Security-Policy", f"frame-ancestors {ancestors}")
    else:
        headers.setdefault("Content-Security-Policy", policy)
    frame = _frame_options(ancestors)
    if frame:
        headers.setdefault("X-Frame-Options", frame)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    if opener_policy:
        headers.setdefault("Cross-Origin-Opener-Policy", opener_policy)


@web.middleware
async def security_headers_middleware(request: web.Request, handler):
    policy = request.app.get(CSP) or content_security_policy()
    opener = request.app.get(OPENER_POLICY, DEFAULT_OPENER_POLICY)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404, redirects, …: the same headers
        apply_headers(exc, policy, opener)
        raise
    apply_headers(response, policy, opener)
    return response
