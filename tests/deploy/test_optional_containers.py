"""The staff desk and the Matrix connector started as their containers start them
(`python -m bot.container run …`), with the environment docker-compose.yml gives them (only host
names, ports and paths local), against a real Matrix homeserver (Synapse, tests/support/synapse.py):
the container's health check sees them up, and the connector's store volume keeps its device
across a restart (a new container with the same volume)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from bot.stack import free_port

from .manifests import compose_resolved

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HEALTH = [sys.executable, "-m", "bot.container", "health"]


def _environment(service: str, extra: dict[str, str], tmp: Path, local: dict[str, str]) -> dict[str, str]:
    """The compose service's environment with its profile's variables set, made local: SQLite
    instead of PostgreSQL (this test is about Matrix, test_compose_stack about PostgreSQL)."""
    compose = compose_resolved(extra)
    env = {}
    for key, value in compose["services"][service]["environment"].items():
        value = "" if value is None else str(value)
        if value.startswith("postgresql://"):
            value = f"sqlite:///{tmp / (key.lower() + '.db')}"
        if value.startswith("redis://"):
            continue
        env[key] = local.get(key, value)
    env.update(
        PATH=os.environ.get("PATH", "/usr/bin:/bin"),
        HOME=str(tmp),
        BA_VAR_DIR=str(tmp / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


class Container:
    def __init__(self, service: str, env: dict[str, str], log: Path):
        self.env = env
        self.log = log
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot.container", "run", service],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def healthy(self) -> bool:
        return subprocess.run(HEALTH, cwd=ROOT, env=self.env, capture_output=True).returncode == 0

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            assert self.process.poll() is None, self.log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, self.log.read_text(errors="replace")[-3000:]
            time.sleep(0.5)

    def stop(self) -> None:
        # `docker stop`: SIGTERM to the service (exec'd, so it is the process itself).
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _devices(synapse, admin, user_id: str) -> set[str]:
    path = f"/_synapse/admin/v2/users/{urllib.parse.quote(user_id)}/devices"
    return {d["device_id"] for d in synapse.request("GET", path, token=admin.access_token)["devices"]}


def test_matrix_connector_container_is_healthy_and_keeps_its_device_across_restarts(synapse, tmp_path):
    bot = synapse.register_user(f"assistent-{secrets.token_hex(3)}")
    admin = synapse.register_user(f"admin-{secrets.token_hex(3)}", admin=True)
    volume = tmp_path / "matrix-store"  # the named volume `matrix-store`
    port = free_port()
    profile = {
        "MATRIX_CHANNEL_TOKEN": secrets.token_hex(32),
        "MATRIX_HOMESERVER_URL": synapse.base_url,
        "MATRIX_USER_ID": bot.user_id,
        "MATRIX_PASSWORD": bot.password,
    }
    local = {"MATRIX_STORE_DIR": str(volume), "RASA_URL": f"http://127.0.0.1:{free_port()}"}
    env = _environment("matrix-connector", profile, tmp_path, local) | {"MATRIX_CONNECTOR_PORT": str(port)}
    assert env["MATRIX_STORE_DIR"] == str(volume)
    before = _devices(synapse, admin, bot.user_id)

    first = Container("matrix-connector", env, tmp_path / "connector.log")
    try:
        first.wait_healthy()
    finally:
        first.stop()
    assert not first.healthy()
    new_devices = _devices(synapse, admin, bot.user_id) - before
    assert len(new_devices) == 1, new_devices
    assert (volume / "crypto.db").exists()

    # A new container (fresh BA_VAR_DIR, as from a new image) with the same volume.
    second_env = env | {"BA_VAR_DIR": str(tmp_path / "var-2")}
    second = Container("matrix-connector", second_env, tmp_path / "connector-2.log")
    try:
        second.wait_healthy()
    finally:
        second.stop()
    assert _devices(synapse, admin, bot.user_id) - before == new_devices  # the same device, no new one


def test_staff_desk_container_is_healthy_with_the_compose_environment(synapse, tmp_path):
    desk_bot = synapse.register_user(f"schalter-{secrets.token_hex(3)}")
    queue = synapse.request(
        "POST", "/_matrix/client/v3/createRoom", {"name": "Warteraum", "preset": "private_chat"}, desk_bot.access_token
    )["room_id"]
    port = free_port()
    profile = {
        "STAFF_DESK_TOKEN": secrets.token_hex(32),
        "STAFF_MATRIX_HOMESERVER": synapse.base_url,
        "STAFF_MATRIX_USER": desk_bot.user_id,
        "STAFF_MATRIX_ACCESS_TOKEN": desk_bot.access_token,
        "STAFF_MATRIX_QUEUE_ROOM": queue,
        "STAFF_MATRIX_AGENTS": "@a.muster:localhost",
    }
    local = {"RASA_URL": f"http://127.0.0.1:{free_port()}", "PORTAL_BACKEND_URL": f"http://127.0.0.1:{free_port()}"}
    env = _environment("staff-desk", profile, tmp_path, local) | {"STAFF_DESK_PORT": str(port)}
    # What the desk needs besides its own settings: Rasa's API, the portal as the authority, the
    # outbox and the handoff tables the action servers share.
    for key in ("RASA_API_TOKEN", "PORTAL_AUTHORITY_TOKEN", "OUTBOX_DATABASE_URL", "HANDOFF_DATABASE_URL"):
        assert env[key], key
    desk = Container("staff-desk", env, tmp_path / "desk.log")
    try:
        desk.wait_healthy()
    finally:
        desk.stop()
    assert not desk.healthy()
