"""The containers run what `make run` runs: bot/container.py starts the same modules with the same
flags as bot/stack.py, waits on the same health endpoints, and the compose file names only its
services. Also its health check against a real HTTP server, and its migration on the databases."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa

import bot.serve
from bot import container
from bot.settings import Settings
from bot.stack import Stack, free_port

from .manifests import app_services, base_service, compose_resolved


def flags(command: list[str]) -> list[str]:
    """The command without the interpreter and without the values that differ by place (paths,
    host, port): module and flag names in order."""
    out, skip = [], False
    for part in command[1:]:
        if skip:
            skip = False
            continue
        out.append(part)
        if part in {"--host", "--port", "--model", "--endpoints", "--credentials", "--interface"}:
            skip = True
    return out


# The optional services' settings, so that `make run` starts them too (no network at build()).
OPTIONAL_SERVICES_ENV = {
    "STAFF_MATRIX_HOMESERVER": "https://matrix.stadt.example",
    "MATRIX_HOMESERVER_URL": "https://matrix.example.de",
    "MATRIX_USER_ID": "@assistent:example.de",
    "MATRIX_PASSWORD": "p" * 32,
}


@pytest.fixture
def stack(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path / "var"))
    for name, value in OPTIONAL_SERVICES_ENV.items():
        monkeypatch.setenv(name, value)
    s = Stack(settings=Settings(), model=tmp_path / "model.tar.gz")
    s.build()
    return s


def test_make_run_without_their_settings_starts_no_optional_service(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path / "var"))
    for name in OPTIONAL_SERVICES_ENV:
        monkeypatch.delenv(name, raising=False)
    s = Stack(settings=Settings(), model=tmp_path / "model.tar.gz")
    s.build()
    names = {service.name for service in s.services}
    assert names == set(container.services()) - {"staff-desk", "matrix-connector"}


def test_same_services_modules_and_flags_as_make_run(stack):
    table = container.services()
    assert set(table) == {service.name for service in stack.services}
    for service in stack.services:
        if service.name == "rasa":
            continue
        ours = table[service.name].command()
        assert flags(ours) == flags(service.command), service.name
        assert ours[ours.index("--host") + 1] == "0.0.0.0"
        assert ours[ours.index("--port") + 1] == str(table[service.name].port)


def test_rasa_container_execs_the_same_rasa_command_as_make_run(stack, tmp_path, monkeypatch):
    """bot.serve (the rasa container) renders endpoints and credentials, then execs the command
    bot/stack.py starts; only paths, host and port differ."""
    monkeypatch.setenv("RASA_API_TOKEN", "t" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    monkeypatch.setattr(sys, "argv", ["bot.serve", "--host", "0.0.0.0"])
    monkeypatch.setattr(bot.serve, "ensure_model", lambda quiet: tmp_path / "model.tar.gz")
    executed = []
    monkeypatch.setattr(bot.serve.os, "execv", lambda path, argv: executed.append(argv))
    bot.serve.main()
    (argv,) = executed
    assert flags(argv) == flags(stack.service("rasa").command)
    assert container.services()["rasa"].command()[1:] == ["-m", "bot.serve", "--host", "0.0.0.0"]


def test_rasa_container_allows_uploads_from_the_chat_origins(tmp_path, monkeypatch):
    """WEBCHAT_ALLOWED_ORIGINS become Rasa's --cors, as `make run` passes its demo page's origin."""
    monkeypatch.setenv("RASA_API_TOKEN", "t" * 32)
    monkeypatch.setenv("ACTION_SERVER_TOKEN", "a" * 32)
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("WEBCHAT_ALLOWED_ORIGINS", "https://portal.example.org, https://chat.example.org")
    monkeypatch.setattr(sys, "argv", ["bot.serve"])
    monkeypatch.setattr(bot.serve, "ensure_model", lambda quiet: tmp_path / "model.tar.gz")
    executed = []
    monkeypatch.setattr(bot.serve.os, "execv", lambda path, argv: executed.append(argv))
    bot.serve.main()
    (argv,) = executed
    assert argv[argv.index("--cors") + 1 :] == ["https://portal.example.org", "https://chat.example.org"]
    stack = Stack(settings=Settings(), model=tmp_path / "m.tar.gz", cors_origins=["https://portal.example.org"])
    stack.build()
    assert flags(stack.service("rasa").command)[-2:] == ["--cors", "https://portal.example.org"]


def test_same_health_endpoints_as_make_run(stack):
    table = container.services()
    for service in stack.services:
        assert urlparse(service.health_url).path == table[service.name].health_path, service.name


def test_ports_are_the_settings_defaults_of_make_run():
    table = container.services()
    assert {name: s.port for name, s in table.items()} == {
        "portal-backend": 8080,
        "action-server": 5055,
        "submission-worker": 8070,
        "login": 8090,
        "rasa": 5005,
        "staff-desk": 8075,
        "matrix-connector": 8095,
    }
    # Every container listens on a port of its own (one pod or host may run several in tests).
    assert len({s.port for s in table.values()}) == len(table)


def test_compose_runs_only_services_bot_container_knows():
    for name, service in app_services(compose_resolved()).items():
        command = service["command"]
        if command == ["migrate"]:
            continue
        assert command[0] == "run" and command[1] in container.services(), name
        assert base_service(name) == command[1], name


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_health_check_asks_the_running_service(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    port = free_port()
    monkeypatch.setenv("PORTAL_PORT", str(port))
    assert container.health() == 1  # no service started yet
    (tmp_path / "container-service").write_text("portal-backend")
    assert container.health() == 1  # nobody listens
    server = http.server.HTTPServer(("127.0.0.1", port), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert container.health() == 0
        (tmp_path / "container-service").write_text("rasa")
        monkeypatch.setenv("RASA_PORT", str(port))
        assert container.health() == 1  # Rasa's health path is /, which this server answers 404
    finally:
        server.shutdown()
        server.server_close()


def test_run_records_the_service_and_execs_its_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    executed = []
    monkeypatch.setattr(container.os, "execv", lambda path, argv: executed.append(argv))
    container.main(["run", "submission-worker"])
    assert (tmp_path / "container-service").read_text() == "submission-worker"
    assert executed == [[sys.executable, "-m", "delivery_worker", "--host", "0.0.0.0", "--port", "8070"]]
    with pytest.raises(SystemExit):
        container.main(["run", "no-such-service"])


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _migrate(tmp_path, urls: dict[str, str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "BA_VAR_DIR": str(tmp_path / "var"), "HOME": str(tmp_path), **urls}
    root = Path(__file__).resolve().parents[2]
    for _ in range(2):  # idempotent: a second run (the next release's Job) changes nothing
        result = subprocess.run(
            [sys.executable, "-m", "bot.container", "migrate"], cwd=root, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-2000:]


def test_migrate_creates_every_table_and_can_run_twice(tmp_path):
    """`python -m bot.container migrate` as the migration Job runs it, on SQLite files."""
    urls = {
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "OUTBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'outbox.db'}",
        "BA_IDENTITY_DATABASE_URL": f"sqlite:///{tmp_path / 'identity.db'}",
        "BA_DRAFTS_DATABASE_URL": f"sqlite:///{tmp_path / 'drafts.db'}",
        "BA_PRIVACY_DATABASE_URL": f"sqlite:///{tmp_path / 'privacy.db'}",
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "HANDOFF_DATABASE_URL": f"sqlite:///{tmp_path / 'handoff.db'}",
    }
    _migrate(tmp_path, urls)
    assert {"applications", "status_events"} <= _tables(urls["PORTAL_DATABASE_URL"])
    assert "events" in _tables(urls["TRACKER_STORE_URL"])
    for key in (
        "OUTBOX_DATABASE_URL",
        "BA_IDENTITY_DATABASE_URL",
        "BA_DRAFTS_DATABASE_URL",
        "BA_PRIVACY_DATABASE_URL",
        "HANDOFF_DATABASE_URL",
    ):
        assert _tables(urls[key]), key
    assert not (tmp_path / "var").exists() or not list((tmp_path / "var").glob("*.db"))


@pytest.mark.postgres
def test_migrate_on_postgresql(tmp_path):
    """The same on PostgreSQL (DATABASE_URL, as in CI), each database in a fresh schema."""
    from sqlalchemy.engine import make_url
    from support.databases import postgres_schema

    base = os.environ.get("DATABASE_URL")
    if not base or make_url(base).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL variant skipped: DATABASE_URL is not a PostgreSQL URL")
    with postgres_schema(make_url(base), "migrate_test") as url:
        rendered = url.render_as_string(hide_password=False)
        urls = {
            key: rendered
            for key in (
                "PORTAL_DATABASE_URL",
                "OUTBOX_DATABASE_URL",
                "BA_IDENTITY_DATABASE_URL",
                "BA_DRAFTS_DATABASE_URL",
                "BA_PRIVACY_DATABASE_URL",
                "HANDOFF_DATABASE_URL",
            )
        }
        urls["TRACKER_STORE_URL"] = f"sqlite:///{tmp_path / 'tracker.db'}"
        _migrate(tmp_path, urls)
        engine = sa.create_engine(url)
        try:
            schema = url.query["options"].split("search_path=")[1]
            tables = set(sa.inspect(engine).get_table_names(schema=schema))
        finally:
            engine.dispose()
    assert {"applications", "status_events", "postbox_messages"} <= tables
    assert len(tables) >= 8, tables


def test_a_real_service_started_like_in_the_container_is_healthy(tmp_path):
    """`bot.container run portal-backend` starts the real backend (exec: the process the container
    stops with SIGTERM is the service itself), and `bot.container health` sees it up, then down."""
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BA_VAR_DIR": str(tmp_path / "var"),
        "PORTAL_PORT": str(port),
        "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path / 'portal.db'}",
        "PORTAL_API_TOKEN": "a" * 32,
        "PORTAL_AUTHORITY_TOKEN": "b" * 32,
        "PORTAL_CITIZEN_KEY": "c" * 32,
    }
    root = Path(__file__).resolve().parents[2]
    health = [sys.executable, "-m", "bot.container", "health"]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.container", "run", "portal-backend"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(health, cwd=root, env=env, capture_output=True).returncode != 0:
            assert process.poll() is None, process.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "portal backend not healthy in 60 s"
            time.sleep(0.5)
        with open(f"/proc/{process.pid}/cmdline", "rb") as cmdline:
            assert b"portal_backend" in cmdline.read()  # the service itself, not a wrapper
    finally:
        process.terminate()
        assert process.wait(timeout=20) is not None
    assert subprocess.run(health, cwd=root, env=env, capture_output=True).returncode == 1


@pytest.mark.parametrize(
    ("service", "named"),
    [("staff-desk", "STAFF_MATRIX_HOMESERVER"), ("matrix-connector", "MATRIX_HOMESERVER_URL")],
)
def test_optional_services_refuse_to_start_without_settings(tmp_path, service, named):
    """Their compose variables are optional (a profile's `${NAME:?}` would stop every `docker compose
    up`), so the container itself must stop with the missing names instead of running half-set."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "BA_VAR_DIR": str(tmp_path / "var")}
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-m", "bot.container", "run", service],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert named in result.stderr, result.stderr[-2000:]
