"""What the security tests of the e2e stack share: the personal data they send, the credentials of
the stack's services, and the check that no log file repeats that personal data."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Optional

from buergerassistent import signing

# Invented, but shaped like real personal data; distinctive enough that a match in a log file can
# only come from these tests.
PII = {
    "name": "Quirinus Zwetschgenbaum",
    "iban": "DE02120300000000202051",
    "birth_date": "17.03.1971",
    "email": "quirinus.zwetschgenbaum@example.org",
    "street": "Obstgartenweg 41",
    "tax_id": "86095742719",
}


def rest_headers(stack) -> dict[str, str]:
    token = getattr(stack.settings, "rest_channel_token", None)
    return {"Authorization": f"Bearer {token}"} if token else {}


def portal_headers(stack, role: Optional[str]) -> dict[str, str]:
    """The portal backend's credentials of ``role`` (assistant, authority) in this stack, or none."""
    names = {"assistant": "PORTAL_API_TOKEN", "authority": "PORTAL_AUTHORITY_TOKEN"}
    return {"Authorization": f"Bearer {stack.secret(names[role])}"} if role else {}


def webchat_session_token(stack) -> str:
    """A valid web chat session for a fresh conversation, signed with the stack's key."""
    key = (Path(stack.settings.var_dir) / "secret.key").read_text().strip().encode()
    return signing.sign({"sub": f"wc-{uuid.uuid4().hex}"}, "webchat-session", 600, key=key)


def assert_no_pii_in_logs(log_dir: Path) -> None:
    files = sorted(p for p in log_dir.rglob("*") if p.is_file())
    assert files, f"keine Logdateien in {log_dir}"
    found = []
    for path in files:
        text = path.read_text(errors="replace")
        for kind, value in PII.items():
            if value in text or value.lower() in text.lower():
                found.append(f"{path.name}: {kind}")
    assert not found, "personenbezogene Daten im Log: " + ", ".join(found)
