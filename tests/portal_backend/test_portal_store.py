"""Storage, case numbers, settings and start-up of the portal backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import pytest
from support.portal_auth import ASSISTANT, citizen
from support.stacks import free_port

from buergerassistent import signing
from portal_backend import case_numbers, db
from portal_backend.__main__ import parse_args
from portal_backend.validation import Submission

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(database_url):
    s = db.ApplicationStore(db.make_engine(database_url))
    s.create_tables()
    yield s
    s.dispose()


def _submission(key="k1", vorname="Erika", citizen=None) -> Submission:
    return Submission(procedure="testantrag", data={"titel": vorname}, idempotency_key=key, citizen=citizen)


# --------------------------------------------------------------------------- store


def test_store_create_and_get(store):
    application, created = store.create(_submission())
    assert created
    assert store.get(application.case_number) == application
    assert store.get("BA-2026-00000000") is None
    assert application.received_at.tzinfo is not None


def test_insert_race_returns_the_winner(store):
    """The look-up said "new", but another request inserted first: the unique constraint
    fails and the winner's application is returned, with no second row."""
    winner, created = store.create(_submission("raced"))
    assert created
    loser, created = store.create(_submission("raced"))
    assert not created
    assert loser == winner
    assert store.count() == 1


def test_insert_race_with_different_body_is_conflict(store):
    store.create(_submission("raced", vorname="Anna"))
    with pytest.raises(db.IdempotencyConflict):
        store.create(_submission("raced", vorname="Berta"))
    assert store.count() == 1


def test_find_by_idempotency_key(store):
    assert store.find_by_idempotency_key(_submission("k")) is None
    application, _ = store.create(_submission("k", citizen="bPK2:x"))
    assert store.find_by_idempotency_key(_submission("k", citizen="bPK2:x")) == application
    with pytest.raises(db.IdempotencyConflict):
        store.find_by_idempotency_key(_submission("k", citizen=None))


def test_received_at_is_utc_iso(store):
    application, _ = store.create(_submission())
    stamp = store.get(application.case_number).to_json()["received_at"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp), stamp


def test_fingerprint_ignores_key_order_but_not_values():
    a = Submission("p", {"x": "1", "y": "2"}, "k")
    b = Submission("p", {"y": "2", "x": "1"}, "k")
    c = Submission("p", {"x": "1", "y": "3"}, "k")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert Submission("p", {}, "k", None).fingerprint() != Submission("p", {}, "k", "c").fingerprint()


# --------------------------------------------------------------------------- case numbers


def test_case_number_format():
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    numbers = {case_numbers.new_case_number(now) for _ in range(2000)}
    assert len(numbers) == 2000
    for number in numbers:
        assert case_numbers.PATTERN.match(number), number
        assert number.startswith("BA-2026-")
        assert not set(number[8:]) & set("ILOU")


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("BA-2026-7F3K9Q2M", "BA-2026-7F3K9Q2M"),
        (" ba-2026-7f3k9q2m ", "BA-2026-7F3K9Q2M"),
        ("BA-2026-O0IL1234", "BA-2026-00111234"),
        ("BA-2026-UUUUUUUU", None),
        ("BA-2026-7F3K9Q2", None),
        ("XY-2026-7F3K9Q2M", None),
        ("", None),
    ],
)
def test_case_number_normalize(typed, expected):
    assert case_numbers.normalize(typed) == expected


# --------------------------------------------------------------------------- settings


def test_default_database_url_is_relative_to_repo_root(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    monkeypatch.setattr("buergerassistent.storage.REPO_ROOT", tmp_path)
    assert db.database_url_from_env() == "sqlite:///var/portal.db"
    resolved = db.resolve_url(db.database_url_from_env())
    assert resolved.database == str(tmp_path / "var" / "portal.db")
    assert (tmp_path / "var").is_dir()


def test_database_url_from_env(monkeypatch):
    monkeypatch.setenv("PORTAL_DATABASE_URL", "postgresql://u:secret@db/portal")
    assert db.database_url_from_env() == "postgresql://u:secret@db/portal"
    assert "secret" not in db.describe_url(db.database_url_from_env())
    assert db.resolve_url("postgres://u@db/portal").drivername == "postgresql"


def test_cli_flags_override_environment(monkeypatch):
    monkeypatch.setenv("PORTAL_HOST", "0.0.0.0")
    monkeypatch.setenv("PORTAL_PORT", "9000")
    args = parse_args([])
    assert (args.host, args.port) == ("0.0.0.0", 9000)
    args = parse_args(["--host", "127.0.0.1", "--port", "8081"])
    assert (args.host, args.port) == ("127.0.0.1", 8081)
    monkeypatch.delenv("PORTAL_HOST")
    monkeypatch.delenv("PORTAL_PORT")
    args = parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 8080)


# --------------------------------------------------------------------------- the real process


def _request(url: str, payload=None, headers=None, raw=False):
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            body = resp.read()
            return resp.status, body if raw else json.loads(body)
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_python_m_portal_backend_refuses_to_start_without_credentials(tmp_path):
    env = dict(os.environ, PORTAL_DATABASE_URL=f"sqlite:///{tmp_path}/portal.db")
    for name in ("PORTAL_API_TOKEN", "PORTAL_AUTHORITY_TOKEN", "PORTAL_CITIZEN_KEY"):
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "-m", "portal_backend", "--port", str(free_port())],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PORTAL_API_TOKEN must be set" in done.stderr


def test_python_m_portal_backend_serves_and_logs_no_data(tmp_path, meldebescheinigung_data):
    port = free_port()
    secret_key = "portal-process-test-secret-0123456789abcdef"
    env = dict(
        os.environ,
        PORTAL_DATABASE_URL=f"sqlite:///{tmp_path}/nested/portal.db",
        BA_SECRET_KEY=secret_key,
        PORTAL_PORT="1",
    )  # the flag must win over the environment
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_backend", "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, body = _request(f"{base}/health")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"backend did not start:\n{proc.stdout.read() if proc.stdout else ''}")
                time.sleep(0.2)
        assert (status, body) == (200, {"status": "ok"})
        payload = {
            "procedure": "meldebescheinigung",
            "data": meldebescheinigung_data,
            "idempotency_key": "smoke",
            "citizen": "bPK2:GEHEIM",
        }
        headers = {**ASSISTANT, **citizen("bPK2:GEHEIM")}
        status, created = _request(f"{base}/api/v1/applications", payload, headers)
        assert status == 201
        status, again = _request(f"{base}/api/v1/applications", payload, headers)
        assert (status, again) == (200, created)
        assert (tmp_path / "nested" / "portal.db").is_file()
        # The receipt link (a bearer link to the whole application) is served ...
        receipt_token = signing.sign({"cn": created["case_number"]}, "receipt", 60, key=secret_key.encode())
        status, pdf = _request(f"{base}/receipts/{receipt_token}", raw=True)
        assert status == 200 and pdf.startswith(b"%PDF")
    finally:
        proc.terminate()
        output, _ = proc.communicate(timeout=15)
    assert "starting portal backend" in output
    assert "POST /api/v1/applications" in output  # requests are logged ...
    assert "GET /receipts/*** HTTP/1.1\" 200" in output
    assert receipt_token not in output and receipt_token.split(".")[1] not in output
    assert ASSISTANT["Authorization"].split()[1] not in output
    assert created["case_number"] in output
    for secret in ["Erika", "Mustermann", "80331", "example.org", "GEHEIM", "127.0.0.1 ["]:
        assert secret not in output  # ... without personal data or client addresses
