"""Credentials of the portal backend for tests (imported as ``support.portal_auth``; ``tests/conftest.py``
puts them into the environment of every test)."""

from __future__ import annotations

from typing import Optional

from buergerassistent import citizen_assertion

API_TOKEN = "test-assistant-token-0123456789abcdef"
AUTHORITY_TOKEN = "test-authority-token-0123456789abcdef"
CITIZEN_KEY = "test-citizen-assertion-key-0123456789abcdef"

ENV = {
    "PORTAL_API_TOKEN": API_TOKEN,
    "PORTAL_AUTHORITY_TOKEN": AUTHORITY_TOKEN,
    "PORTAL_CITIZEN_KEY": CITIZEN_KEY,
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ASSISTANT = bearer(API_TOKEN)
AUTHORITY = bearer(AUTHORITY_TOKEN)


def citizen(subject: str, key: str = CITIZEN_KEY, ttl: int = 60) -> dict[str, str]:
    """The header of a citizen assertion for ``subject`` (as the action server sends it)."""
    return {citizen_assertion.HEADER: citizen_assertion.issue(subject, key.encode(), ttl)}


def as_assistant(citizen_of: Optional[str] = None) -> dict[str, str]:
    return {**ASSISTANT, **(citizen(citizen_of) if citizen_of else {})}


def stack_headers(stack) -> dict[str, str]:
    """The assistant's credentials of a running ``bot.stack.Stack`` (generated per start)."""
    return bearer(stack.secret("PORTAL_API_TOKEN"))


def authority_headers(stack) -> dict[str, str]:
    """The authority's credentials of a running stack (the only role that reads an application)."""
    return bearer(stack.secret("PORTAL_AUTHORITY_TOKEN"))


def fetch_application(stack, case_number: str) -> dict:
    """The application as the backend of a running stack stores it (read as the authority)."""
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{stack.settings.portal_url}/api/v1/applications/{case_number}", headers=authority_headers(stack)
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def status_without_token(stack, case_number: str) -> int:
    """The HTTP status an outsider gets for an application of a running stack."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(
            f"{stack.settings.portal_url}/api/v1/applications/{case_number}", timeout=10
        ) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
