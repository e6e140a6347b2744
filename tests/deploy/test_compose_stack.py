"""The docker-compose deployment run on this machine without Docker: every application service
started as its container starts it (`python -m bot.container run <service>`) with the
environment docker-compose.yml gives it, behind the real nginx proxy (docker/proxy-nginx.conf,
TLS) and the web image's nginx config, with PostgreSQL and a Redis that requires its password.
A citizen chats over the web chat socket through the proxy.

What differs from compose, and only that: host names become 127.0.0.1 and ports free ones; the
PostgreSQL URLs point at fresh databases of the local server (DATABASE_URL, its own user; compose's
database user and password are not checked here); one Rasa and one action server stand behind the
proxy's two upstream names each (the replica test with two of each is the other half of issue 18)."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
import requests
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from support.chat import WebChat

from bot.stack import free_port
from buergerassistent.settings import get_settings

from .manifests import COMPOSE, interpolate, required_variables
from .nginx import certificate, proxy_config, running_nginx, web_config, web_root

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
STARTED = ("portal-backend", "action-server-1", "submission-worker", "login", "rasa-1")
PORT_SETTING = {
    "portal-backend": "PORTAL_PORT",
    "action-server-1": "ACTION_PORT",
    "submission-worker": "SUBMISSION_WORKER_PORT",
    "login": "LOGIN_PORT",
    "rasa-1": "RASA_PORT",
}


def _postgres_base():
    url = os.environ.get("DATABASE_URL")
    if not url or make_url(url).get_backend_name() != "postgresql":
        pytest.skip("compose stack skipped: DATABASE_URL is not a PostgreSQL URL (CI sets it)")
    return make_url(url)


def _start_redis(directory: Path, password: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(directory), "--requirepass", password],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port, password=password)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process, port
        except redis.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Service:
    def __init__(self, name: str, env: dict[str, str], log: Path):
        self.name, self.env, self.log = name, env, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.container", "run", *compose_command(name)[1:]],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def healthy(self) -> bool:
        health = [sys.executable, "-m", "bot.container", "health"]
        return subprocess.run(health, cwd=ROOT, env=self.env, capture_output=True).returncode == 0

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_COMPOSE: dict = {}


def compose_command(name: str) -> list[str]:
    return _COMPOSE["services"][name]["command"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    import yaml

    base = _postgres_base()
    tmp = tmp_path_factory.mktemp("compose")
    ports = {"http": free_port(), "https": free_port(), "actions": free_port(), "rasa_api": free_port()}
    cert, key = certificate(tmp)
    values = {name: secrets.token_hex(16) for name in required_variables()}
    values.update(BA_PUBLIC_HOST=f"127.0.0.1:{ports['https']}", TLS_CERT_FILE=str(cert), TLS_KEY_FILE=str(key))
    _COMPOSE.update(yaml.safe_load(interpolate(COMPOSE.read_text(), values)))

    suffix = uuid.uuid4().hex[:10]
    databases = {"portal": f"ba_compose_portal_{suffix}", "tracker": f"ba_compose_tracker_{suffix}"}
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as conn:
        for name in databases.values():
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    with ExitStack() as cleanup:

        def drop_databases():
            with admin.connect() as conn:
                for name in databases.values():
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        cleanup.callback(drop_databases)
        redis_process, redis_port = _start_redis(tmp, values["REDIS_PASSWORD"])
        cleanup.callback(redis_process.wait, 10)
        cleanup.callback(redis_process.terminate)

        service_ports = {name: free_port() for name in STARTED}
        local = {
            "proxy:5005": f"127.0.0.1:{ports['rasa_api']}",
            "proxy:5055": f"127.0.0.1:{ports['actions']}",
            "portal-backend:8080": f"127.0.0.1:{service_ports['portal-backend']}",
            "redis:6379": f"127.0.0.1:{redis_port}",
        }

        def environment(name: str) -> dict[str, str]:
            env = {}
            for key, value in _COMPOSE["services"][name]["environment"].items():
                # `KEY: ${OPTIONAL:-}` is "" in compose (it interpolates parsed values), null here.
                value = "" if value is None else str(value)
                if value.startswith("postgresql://"):
                    value = base.set(database=databases[make_url(value).database]).render_as_string(hide_password=False)
                for host, address in local.items():
                    value = value.replace(host, address)
                env[key] = value
            env["WEBCHAT_UPLOAD_DIR"] = str(tmp / "uploads")
            env.update({PORT_SETTING[n]: str(p) for n, p in service_ports.items()})
            env.update(
                PATH=os.environ.get("PATH", "/usr/bin:/bin"),
                HOME=str(tmp),
                BA_VAR_DIR=str(tmp / name),
                BA_CACHE_DIR=str(get_settings().cache_dir),
                TF_CPP_MIN_LOG_LEVEL="2",
                PYTHONUNBUFFERED="1",
            )
            return env

        migrate = subprocess.run(
            [sys.executable, "-m", "bot.container", *_COMPOSE["services"]["migrate"]["command"]],
            cwd=ROOT,
            env=environment("migrate"),
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]

        services = {}
        for name in STARTED:
            services[name] = Service(name, environment(name), tmp / f"{name}.log")
            cleanup.callback(services[name].stop)
        html = web_root(tmp)
        web_port = free_port()
        upstreams = {
            "rasa-1": service_ports["rasa-1"],
            "rasa-2": service_ports["rasa-1"],
            "action-server-1": service_ports["action-server-1"],
            "action-server-2": service_ports["action-server-1"],
            "login": service_ports["login"],
            "portal-backend": service_ports["portal-backend"],
            "web": web_port,
        }
        conf = proxy_config(upstreams, ports, cert, key, tmp / "access.log") + web_config(html, web_port)
        cleanup.enter_context(running_nginx(tmp, conf, [*ports.values(), web_port]))

        deadline = time.monotonic() + 300
        pending = dict(services)
        while pending:
            for name, service in list(pending.items()):
                if service.process.poll() is not None:
                    pytest.fail(f"{name} stopped:\n{service.log.read_text()[-3000:]}")
                if service.healthy():
                    del pending[name]
            if time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}: {s.log.read_text()[-1500:]}" for n, s in pending.items())
                pytest.fail(f"not healthy in time: {sorted(pending)}\n{tails}")
            time.sleep(1)
        yield {
            "url": f"https://127.0.0.1:{ports['https']}",
            "cert": str(cert),
            "services": services,
            "tracker_db": base.set(database=databases["tracker"]),
            "redis": redis.Redis(host="127.0.0.1", port=redis_port, password=values["REDIS_PASSWORD"]),
            "channel": "buergerassistent-webchat",
        }


def citizen_through(url: str, cert: str) -> WebChat:
    """The widget's socket.io protocol, through the proxy over TLS."""
    session = requests.Session()
    # Only our certificate: no CA bundle or proxy from the environment (REQUESTS_CA_BUNDLE
    # would win over session.verify).
    session.trust_env = False
    session.verify = cert
    return WebChat(None, url=url, http_session=session)


def test_every_service_is_healthy_as_its_container_checks_it(stack):
    for name, service in stack["services"].items():
        assert service.healthy(), name


def test_citizen_chats_through_the_tls_proxy_and_the_conversation_is_in_postgresql(stack):
    page = requests.get(f"{stack['url']}/", verify=stack["cert"], timeout=10)
    assert page.status_code == 200 and "buergerassistent-chat.js" in page.text
    citizen = citizen_through(stack["url"], stack["cert"])
    try:
        answer = [m.get("text", "") for m in citizen.say("Hallo")]
        assert any(answer), answer
        answer = [m.get("text", "") for m in citizen.say("Ich möchte meinen Wohnsitz ummelden")]
        assert any(answer), answer
    finally:
        citizen.sio.disconnect()
    engine = sa.create_engine(stack["tracker_db"], future=True)
    try:
        with engine.connect() as conn:
            count = conn.execute(
                sa.text("SELECT count(*) FROM events WHERE sender_id = :s AND type_name = 'user'"),
                {"s": citizen.sender},
            ).scalar_one()
    finally:
        engine.dispose()
    assert count == 2


def test_rasa_shares_its_sockets_over_redis_with_the_password(stack):
    channels = {c.decode() for c in stack["redis"].pubsub_channels()}
    assert stack["channel"] in channels, channels
    unauthenticated = redis.Redis(host="127.0.0.1", port=stack["redis"].connection_pool.connection_kwargs["port"])
    with pytest.raises(redis.exceptions.AuthenticationError):
        unauthenticated.ping()


def test_published_routes_reach_the_real_services(stack):
    get = lambda path: requests.get(f"{stack['url']}{path}", verify=stack["cert"], timeout=10)  # noqa: E731
    receipt = get("/receipts/not-a-valid-token")
    assert receipt.status_code in (403, 404) and "text/html" not in receipt.headers.get("Content-Type", "")
    # The portal API is not published: the path ends at the web image's page.
    api = get("/api/v1/applications")
    assert api.status_code == 200 and "<html" in api.text.lower()
    assert get("/widget/buergerassistent-chat.js").status_code == 200
