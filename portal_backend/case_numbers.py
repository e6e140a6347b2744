"""Case numbers (Aktenzeichen) such as ``BA-2026-7F3K9Q2M``.

Human-readable, unique (enforced by a unique constraint; the caller retries on the rare
collision) and not guessable: the random part comes from :mod:`secrets` and uses Crockford's
base32 alphabet (no I, L, O, U), 8 characters = 40 random bits.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timezone
from typing import Optional

PREFIX = "BA"
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
RANDOM_LENGTH = 8

PATTERN = re.compile(rf"^{PREFIX}-([0-9]{{4}})-([{ALPHABET}]{{{RANDOM_LENGTH}}})$")
# What people may type: any case, Crockford's look-alikes (O for 0, I/L for 1).
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
assert not set(PREFIX) & set("OIL"), "the prefix must survive the look-alike mapping"


def new_case_number(now: Optional[datetime] = None) -> str:
    year = (now or datetime.now(timezone.utc)).year
    random_part = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return f"{PREFIX}-{year:04d}-{random_part}"


def normalize(text: str) -> Optional[str]:
    """The canonical form of a typed case number, or ``None`` if it cannot be one."""
    candidate = text.strip().upper().translate(_LOOKALIKES)
    return candidate if PATTERN.match(candidate) else None
