"""Helpers shared by the test packages (imported as ``support.databases``: pytest puts ``tests/`` on
the path through ``tests/conftest.py``)."""

from __future__ import annotations

import contextlib
import json
import socket
import time
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL


@contextlib.contextmanager
def postgres_schema(base: URL, prefix: str) -> Iterator[URL]:
    """A URL whose search path is a fresh schema, dropped afterwards: tests never share tables.

    A PostgreSQL that is configured but unreachable fails here: that is an error, not a skip."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, future=True)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = base.query.get("options", "")
    try:
        yield base.update_query_dict({"options": f"{options} -csearch_path={schema}".strip()})
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def closed_port_url() -> str:
    """A local URL nobody listens on (a backend that is down)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def user_texts(url: str, conversation_id: str) -> list[str]:
    """The citizen's messages as the tracker store holds them, in the order of their rows."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                {"s": conversation_id},
            ).all()
    finally:
        engine.dispose()
    return [json.loads(row[0])["text"] for row in rows]


def user_texts_after(url: str, conversation_id: str, count: int, timeout: float = 15.0) -> list[str]:
    """``user_texts`` once ``count`` messages are stored or ``timeout`` has passed.

    A channel sends the reply while Rasa handles the message and saves the tracker only after it,
    so a test that has seen the reply may still read the store before the last message is in."""
    deadline = time.monotonic() + timeout
    while True:
        texts = user_texts(url, conversation_id)
        if len(texts) >= count or time.monotonic() > deadline:
            return texts
        time.sleep(0.2)
