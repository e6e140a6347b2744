"""Documents a citizen uploads in the chat: checked, then stored outside any web root.

Files go to ``<upload_dir>/<conversation key>/<random name>``, readable by this process only, and
are removed with the conversation. Nothing serves them over HTTP. The type is decided by the
file's first bytes, never by its name or the browser's claim.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

# Signatures of the accepted types; anything else is refused.
_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)
ACCEPTED = "PDF, JPG, PNG"


class UploadRefused(Exception):
    """The German message says why; it is shown to the citizen."""


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


def count_uploads(root: Path, conversation_id: str) -> int:
    folder = conversation_dir(root, conversation_id)
    return len(list(folder.glob("*.json"))) if folder.exists() else 0


def store(root: Path, conversation_id: str, data: bytes, raw_name: str, max_bytes: int) -> StoredUpload:
    if not data:
        raise UploadRefused("Die Datei ist leer.")
    if len(data) > max_bytes:
        raise UploadRefused(f"Die Datei ist zu groß. Erlaubt sind höchstens {max_bytes // (1024 * 1024)} MB.")
    kind = sniff(data[:16])
    if kind is None:
        raise UploadRefused(f"Diese Dateiart kann ich nicht annehmen. Erlaubt sind: {ACCEPTED}.")
    media_type, ext = kind
    folder = conversation_dir(root, conversation_id)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
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
