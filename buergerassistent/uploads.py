"""Documents a citizen uploads in the chat: checked, then stored outside any web root.

Files go to ``<upload_dir>/<conversation key>/<random name>``, readable by this process only, and
are removed with the conversation. Nothing serves them over HTTP. The type is decided by the
file's first bytes, never by its name or the browser's claim.

Quotas are reserved before a file is read, atomically (a slot file created with ``O_EXCL``: of
two parallel uploads only one gets a slot, also across processes): per conversation (its whole
life) and per client address (per time window; the address is kept only as a keyed hash, in a
folder removed when the window has passed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from buergerassistent.storage import private_dir

# Signatures of the accepted types; anything else is refused.
_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
ACCEPTED = "PDF, JPG, PNG"


class UploadRefused(Exception):
    """The German message says why; it is shown to the citizen."""

    status = 415


class UploadTooLarge(UploadRefused):
    status = 413


def too_large(max_bytes: int) -> UploadTooLarge:
    return UploadTooLarge(f"Die Datei ist zu groß. Erlaubt sind höchstens {max_bytes // (1024 * 1024)} MB.")


@dataclass(frozen=True)
class StoredUpload:
    name: str
    size: int
    media_type: str
    path: Path


def sniff(head: bytes) -> Optional[tuple[str, str]]:
    for magic, media_type, ext in _TYPES:
        if head.startswith(magic):
            return media_type, ext
    return None


def display_name(raw: str) -> str:
    """A harmless file name for display: no paths, no control characters, bounded length."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    return (name or "Dokument")[:120]


def conversation_dir(root: Path, conversation_id: str) -> Path:
    # A hash, so directory listings do not reveal conversation ids.
    return root / hashlib.sha256(conversation_id.encode()).hexdigest()[:32]


def _claim(folder: Path, limit: int) -> Optional[Path]:
    """Create the first free slot file of ``folder`` (atomic); None when all ``limit`` are taken."""
    private_dir(folder)
    for n in range(limit):
        path = folder / f".slot-{n}"
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        return path
    return None


def reserve_conversation_slot(root: Path, conversation_id: str, limit: int) -> Optional[Path]:
    """One of the conversation's ``limit`` upload slots, or None when all are used."""
    return _claim(conversation_dir(root, conversation_id), limit)


def client_key(client: str) -> str:
    """A keyed hash of a client address (the address itself is personal data)."""
    from buergerassistent.signing import secret_key

    return hmac.new(secret_key(), client.encode(), hashlib.sha256).hexdigest()[:32]


def reserve_client_slot(
    root: Path, client: str, limit: int, window_s: int, now: Optional[float] = None
) -> Optional[Path]:
    """One of ``limit`` upload slots of a client address in the current time window, or None."""
    now = time.time() if now is None else now
    bucket = int(now // window_s)
    quota_root = root / ".clients"
    key = client_key(client)
    if quota_root.exists():  # windows that have passed, of every client
        for old in quota_root.iterdir():
            if not old.name.endswith(f"-{bucket}"):
                shutil.rmtree(old, ignore_errors=True)
    private_dir(quota_root)
    return _claim(quota_root / f"{key}-{bucket}", limit)


def release(slot: Optional[Path]) -> None:
    """Give a slot back (the upload it was reserved for was refused)."""
    if slot is not None:
        try:
            slot.unlink()
        except FileNotFoundError:
            pass


def count_uploads(root: Path, conversation_id: str) -> int:
    folder = conversation_dir(root, conversation_id)
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


def store(root: Path, conversation_id: str, data: bytes, raw_name: str, max_bytes: int) -> StoredUpload:
    if not data:
        raise UploadRefused("Die Datei ist leer.")
    if len(data) > max_bytes:
        raise too_large(max_bytes)
    kind = sniff(data[:16])
    if kind is None:
        raise UploadRefused(f"Diese Dateiart kann ich nicht annehmen. Erlaubt sind: {ACCEPTED}.")
    media_type, ext = kind
    folder = private_dir(conversation_dir(root, conversation_id))
    file_id = uuid.uuid4().hex
    path = folder / f"{file_id}.{ext}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    name = display_name(raw_name)
    meta = {"name": name, "size": len(data), "media_type": media_type, "received_at": int(time.time())}
    fd = os.open(folder / f"{file_id}.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(meta, fh)
    return StoredUpload(name, len(data), media_type, path)


def delete_all(root: Path, conversation_id: str) -> None:
    shutil.rmtree(conversation_dir(root, conversation_id), ignore_errors=True)
