"""A real Matrix homeserver (Synapse) for the tests: loopback only, SQLite, a free port; or on
PostgreSQL as in production (``synapse_server(postgres_admin_url=…)``: a fresh database, dropped
afterwards; psycopg2 is pinned with Synapse).

Synapse runs from its own venv (``build/synapse-venv``, installed by ``make synapse`` from
``tests/matrix/synapse-requirements.txt``; ``make test`` depends on it), so its pins never touch
``requirements.lock``. The configuration is written into a temporary directory: a registration
shared secret (users are registered through the admin API, ``register_user``), no federation
listener, no key servers, rate limits raised so that tests and the benchmark are not throttled.

Use the session fixture ``synapse`` (registered in ``tests/conftest.py``)::

    def test_something(synapse):
        alice = synapse.register_user("alice")
        alice.access_token, alice.user_id, synapse.base_url
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYNAPSE_VENV = ROOT / "build" / "synapse-venv"
SYNAPSE_PYTHON = SYNAPSE_VENV / "bin" / "python"
SERVER_NAME = "buergerassistent.test"
START_TIMEOUT = 120.0

# Every rate limit Synapse knows, raised far above what a test or the benchmark sends.
_UNLIMITED = {"per_second": 10000, "burst_count": 100000}
RATE_LIMITS = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class MatrixUser:
    user_id: str
    password: str
    access_token: str
    device_id: str

    @property
    def localpart(self) -> str:
        return self.user_id[1:].split(":", 1)[0]


class Synapse:
    """One Synapse process with its configuration in ``workdir``."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        database_dir: Path | None = None,
        database_url: str | None = None,
    ):
        self.workdir = Path(workdir)
        # Where homeserver.db lives (default: the work directory). ``synapse_server`` puts it
        # into memory-backed /dev/shm: Synapse on SQLite syncs every transaction to disk (one
        # connection, so every request waits for the fsyncs of all others; 4 ms each on the shared
        # development disk). That is a test artefact (production: PostgreSQL), not the cost of a
        # Matrix client or of our connector.
        self.database_dir = Path(database_dir) if database_dir else self.workdir
        # ``postgresql://user[:password]@host[:port]/db``: Synapse on PostgreSQL instead of SQLite.
        self.database_url = database_url
        self.port = port or _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.server_name = SERVER_NAME
        self.shared_secret = secrets.token_urlsafe(32)
        self.log_path = self.workdir / "homeserver.log"
        self._process: subprocess.Popen | None = None

    # --- configuration -------------------------------------------------------------------------
    def write_config(self) -> Path:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_config = self.workdir / "log.yaml"
        log_config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "filename": str(self.log_path),
                            "formatter": "plain",
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                }
            )
        )
        config = {
            "server_name": self.server_name,
            "pid_file": str(self.workdir / "homeserver.pid"),
            "public_baseurl": self.base_url + "/",
            "listeners": [
                {
                    "port": self.port,
                    "bind_addresses": ["127.0.0.1"],
                    "type": "http",
                    "tls": False,
                    "x_forwarded": False,
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": self._database_config(),
            "log_config": str(log_config),
            "media_store_path": str(self.workdir / "media"),
            "signing_key_path": str(self.workdir / "signing.key"),
            "registration_shared_secret": self.shared_secret,
            "enable_registration": False,
            "macaroon_secret_key": secrets.token_urlsafe(32),
            "form_secret": secrets.token_urlsafe(32),
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "enable_metrics": False,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "presence": {"enabled": False},
            "max_upload_size": "20M",
            **RATE_LIMITS,
        }
        path = self.workdir / "homeserver.yaml"
        # JSON is valid YAML: no YAML writer needed here.
        path.write_text(json.dumps(config, indent=2))
        return path

    def _database_config(self) -> dict:
        if not self.database_url:
            return {"name": "sqlite3", "args": {"database": str(self.database_dir / "homeserver.db")}}
        url = urlsplit(self.database_url)
        args = {"user": unquote(url.username or "postgres"), "database": url.path.lstrip("/")}
        args.update({"host": url.hostname or "127.0.0.1", "port": url.port or 5432})
        if url.password:
            args["password"] = unquote(url.password)
        # Synapse's own pool (its documentation's example: 5-10 connections).
        return {"name": "psycopg2", "args": {**args, "cp_min": 5, "cp_max": 10}}

    # --- process -------------------------------------------------------------------------------
    def start(self) -> Synapse:
        if not SYNAPSE_PYTHON.exists():
            raise RuntimeError(f"Synapse fehlt in {SYNAPSE_VENV}: bitte `make synapse` ausführen")
        config = self.write_config()
        subprocess.run(
            [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config), "--generate-keys"],
            check=True,
            cwd=self.workdir,
            capture_output=True,
        )
        self._spawn()
        return self

    def _spawn(self) -> None:
        config = self.workdir / "homeserver.yaml"
        self._log = open(self.workdir / "stdout.log", "ab")  # noqa: SIM115 - closed in stop()
        self._process = subprocess.Popen(
            [str(SYNAPSE_PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=self.workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"Synapse ist beim Start beendet worden:\n{self.tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Synapse antwortet nicht nach {START_TIMEOUT:.0f} s:\n{self.tail()}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        self._log.close()

    def restart(self) -> None:
        """Stop and start again on the same port with the same database (state is kept)."""
        self.stop()
        self._spawn()

    def tail(self, lines: int = 40) -> str:
        text = ""
        for name in ("stdout.log", "homeserver.log"):
            path = self.workdir / name
            if path.exists():
                text += "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) + "\n"
        return text

    # --- API helpers ---------------------------------------------------------------------------
    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            raise RuntimeError(f"{method} {path}: {error.code} {error.read()[:500]!r}") from None

    def register_user(
        self, localpart: str | None = None, password: str | None = None, admin: bool = False
    ) -> MatrixUser:
        """Register a user through the shared-secret admin API; returns its access token."""
        localpart = localpart or f"user-{secrets.token_hex(4)}"
        password = password or secrets.token_urlsafe(16)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        for part in (nonce, localpart, password):
            mac.update(part.encode())
            mac.update(b"\x00")
        mac.update(b"admin" if admin else b"notadmin")
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password, "admin": admin, "mac": mac.hexdigest()},
        )
        return MatrixUser(answer["user_id"], password, answer["access_token"], answer["device_id"])

    def login(self, user: MatrixUser, device_id: str | None = None) -> MatrixUser:
        """A fresh access token (and device) for ``user`` by password login."""
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": user.localpart}}
        body["password"] = user.password
        if device_id:
            body["device_id"] = device_id
        answer = self.request("POST", "/_matrix/client/v3/login", body)
        return MatrixUser(answer["user_id"], user.password, answer["access_token"], answer["device_id"])


def memory_dir(prefix: str) -> Path:
    """A fresh directory in memory-backed /dev/shm where there is one, else in the temp dir."""
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix=prefix, dir=shm if shm.is_dir() and os.access(shm, os.W_OK) else None))


def fresh_postgres_database(admin_url: str, prefix: str = "synapse") -> Iterator[str]:
    """Yields the URL of a new, empty database created through ``admin_url`` (psql), then drops
    it. C collation and ctype, as Synapse requires of its database."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"

    def admin(sql: str) -> None:
        subprocess.run(["psql", admin_url, "-v", "ON_ERROR_STOP=1", "-qc", sql], check=True, capture_output=True)

    admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'")
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def synapse_server(database_on_disk: bool = False, postgres_admin_url: str | None = None) -> Iterator[Synapse]:
    """Start one homeserver for a whole test session (or benchmark) and remove it afterwards.
    Its SQLite database lives in memory (``memory_dir``) unless ``database_on_disk``; with
    ``postgres_admin_url`` it runs on a fresh PostgreSQL database instead (as in production)."""
    workdir = Path(tempfile.mkdtemp(prefix="synapse-"))
    database_dir = None if database_on_disk or postgres_admin_url else memory_dir("synapse-db-")
    databases = fresh_postgres_database(postgres_admin_url) if postgres_admin_url else None
    try:
        database_url = next(databases) if databases else None
        server = Synapse(workdir, database_dir=database_dir, database_url=database_url).start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        if databases:
            next(databases, None)
        shutil.rmtree(workdir, ignore_errors=True)
        if database_dir:
            shutil.rmtree(database_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    """A real Synapse for the whole test session (started on first use, stopped at the end)."""
    yield from synapse_server()
