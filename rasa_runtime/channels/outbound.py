"""What leaves for the citizen: links only to hosts we trust.

Bot messages can carry text that did not come from us (an authority's status note, a name from an
account). A markdown link in it to any host would be shown as a clickable link in the portal's
name (phishing). ``neutralise_links`` keeps links to allowed hosts and turns every other link
into plain text: the link's title stays, its address goes (not even as a bare URL, which a widget
would link again).

Allowed hosts (exact host names, ports ignored; ``*.example.de`` allows the subdomains):
the hosts of ``PORTAL_PUBLIC_URL`` (receipts; else ``PORTAL_BACKEND_URL``) and ``LOGIN_PUBLIC_URL``
(login links), every host the catalogue links to (``links:`` of the entries, reviewed content the
assistant itself shows), and the extra hosts in ``BA_LINK_ALLOWED_HOSTS`` (comma-separated).

Used by the web chat output and history (``rasa_runtime/channels/webchat``); the widget checks the same list
again when it draws a message (sent with ``session_confirm``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, Optional
from urllib.parse import urlsplit

from buergerassistent.settings import get_settings

REMOVED = "(Link entfernt)"

# A markdown link "[title](url "optional title")", an autolink "<url>", a reference definition
# "[id]: url", an HTML anchor, or a bare address (with scheme, protocol-relative, or "www.").
_LINK = re.compile(
    r"""
    (?P<md>!?\[(?P<title>[^\]\n]{0,500})\]\(\s*<?(?P<url>[^)\s>]*)>?(?:\s+(?:"[^"\n]*"|'[^'\n]*'))?\s*\))
  | (?P<ref>^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*<?(?P<refurl>\S+?)>?(?:[ \t]+.*)?$)
  | (?P<angle><(?P<angleurl>[a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]*)>)
  | (?P<anchor></?a\b[^>]*>)
  | (?P<bare>(?:\b[a-zA-Z][a-zA-Z0-9+.-]{1,31}:)?//[^\s<>"'\])]+|\bwww\.[^\s<>"'\])]+)
    """,
    re.VERBOSE | re.MULTILINE | re.IGNORECASE,
)


def host_of(url: str) -> Optional[str]:
    """The host a browser would open for ``url``, or None when it is not a plain http(s) address
    (other schemes, user info, backslashes and control characters are never trusted)."""
    if not url or any(ch in url for ch in "\\\t\r\n ") or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    if url.startswith("//"):
        url = "https:" + url
    elif url.lower().startswith("www."):
        url = "https://" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    return host.rstrip(".").lower()


def host_allowed(host: Optional[str], allowed: Iterable[str]) -> bool:
    if not host:
        return False
    for entry in allowed:
        entry = entry.strip().lower()
        if host == entry or entry.startswith("*.") and (host == entry[2:] or host.endswith(entry[1:])):
            return True
    return False


def url_allowed(url: str, allowed: Iterable[str]) -> bool:
    return host_allowed(host_of(url), allowed)


def neutralise_links(text: Optional[str], allowed_hosts: Iterable[str]) -> Optional[str]:
    """``text`` with every link to a host outside ``allowed_hosts`` shown as plain text."""
    if not text:
        return text
    allowed = frozenset(h.strip().lower() for h in allowed_hosts if h and h.strip())

    def replace(m: re.Match) -> str:
        if m.group("md") is not None:
            # The title may itself hold an address: checked like any other text.
            title = neutralise_links(m.group("title"), allowed)
            if url_allowed(m.group("url"), allowed) and not m.group("md").startswith("!"):
                return f"[{title}]({m.group('url')})"
            return title or REMOVED
        if m.group("ref") is not None:
            return m.group("ref") if url_allowed(m.group("refurl"), allowed) else ""
        if m.group("angle") is not None:
            url = m.group("angleurl")
            return f"<{url}>" if url_allowed(url, allowed) else REMOVED
        if m.group("anchor") is not None:
            return ""
        url = m.group("bare")
        return url if url_allowed(url, allowed) else REMOVED

    return _LINK.sub(replace, text)


def neutralise_message(message: dict[str, Any], allowed_hosts: Iterable[str]) -> dict[str, Any]:
    """A bot message as the web chat sends it (``text``, ``quick_replies``/``buttons``): links in
    the text neutralised; a button whose payload is a web address (the widget opens those as
    links) to another host is dropped."""
    allowed = frozenset(allowed_hosts)
    out = dict(message)
    if isinstance(out.get("text"), str):
        out["text"] = neutralise_links(out["text"], allowed)
    for key in ("quick_replies", "buttons"):
        buttons = out.get(key)
        if not isinstance(buttons, list):
            continue
        kept = []
        for button in buttons:
            if not isinstance(button, dict):
                continue
            urls = [str(button.get(k) or "") for k in ("payload", "url")]
            if any(re.match(r"(?i)^\s*https?:", u) and not url_allowed(u.strip(), allowed) for u in urls):
                continue
            button = dict(button)
            if isinstance(button.get("title"), str):
                button["title"] = neutralise_links(button["title"], allowed)
            kept.append(button)
        out[key] = kept
    return out


def _hosts_of_urls(*urls: Optional[str]) -> set[str]:
    return {h for h in (host_of(u) for u in urls if u) if h}


@lru_cache(maxsize=1)
def _catalogue_hosts() -> frozenset[str]:
    try:
        from buergerassistent.catalogue import default_catalogue

        return frozenset(_hosts_of_urls(*(link.url for proc in default_catalogue() for link in proc.links)))
    except Exception:  # noqa: BLE001 - without a catalogue only the configured hosts are allowed
        return frozenset()


def allowed_hosts() -> frozenset[str]:
    """The allow-list from the environment and the catalogue (see the module docstring)."""
    settings = get_settings()
    portal = settings.portal_public_url or settings.portal_backend_url or "http://localhost:8080"
    login = settings.login_public_url or "http://127.0.0.1:8090"
    extra = {h.strip().lower() for h in settings.ba_link_allowed_hosts.split(",") if h.strip()}
    return frozenset(_hosts_of_urls(portal, login) | extra | _catalogue_hosts())
