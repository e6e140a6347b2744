"""Start and stop the local stack: portal backend, action server, Rasa server.

Used by ``python -m bot run`` and by the end-to-end tests (on free ports). Each process logs
to ``var/logs/<name>.log``; when one fails to come up, the tail of its log is shown.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import yaml

from bot.settings import REPO_ROOT, Settings, credentials, endpoints
from buergerassistent.settings import get_settings
from buergerassistent.storage import private_dir, private_file

# Portal backend credentials (issue 13): the assistant's service token, the authority's token
# for status changes, and the key of citizen assertions (buergerassistent/citizen_assertion.py).
PORTAL_SECRETS = ("PORTAL_API_TOKEN", "PORTAL_AUTHORITY_TOKEN", "PORTAL_CITIZEN_KEY")
# Which services receive which credential; a service not named never sees it (least privilege).
SECRETS_FOR = {
    "PORTAL_API_TOKEN": ("portal-backend", "action-server", "submission-worker"),
    # Issue 19: the staff desk reads call-back requests from the portal like the authority.
    "PORTAL_AUTHORITY_TOKEN": ("portal-backend", "staff-desk"),
    "PORTAL_CITIZEN_KEY": ("portal-backend", "action-server", "submission-worker"),
    "ACTION_SERVER_TOKEN": ("rasa", "action-server"),
    "REST_CHANNEL_TOKEN": ("rasa",),
    # Matrix: the connector and Rasa's Matrix channel share MATRIX_CHANNEL_TOKEN; the bot
    # account's credentials and the key store's key only the connector has.
    "MATRIX_CHANNEL_TOKEN": ("rasa", "matrix-connector"),
    "MATRIX_PASSWORD": ("matrix-connector",),
    "MATRIX_ACCESS_TOKEN": ("matrix-connector",),
    "MATRIX_PICKLE_KEY": ("matrix-connector",),
    "MATRIX_STORE_DATABASE_URL": ("matrix-connector",),  # may hold a password
    # Rasa's HTTP API: the worker announces deliveries, the login service reports failed logins.
    "RASA_API_TOKEN": ("rasa", "submission-worker", "login", "staff-desk"),
    # Issue 19: the action server opens cases on the staff desk; only the desk logs in to Matrix.
    "STAFF_DESK_TOKEN": ("action-server", "staff-desk"),
    "STAFF_MATRIX_ACCESS_TOKEN": ("staff-desk",),
}


class StackError(RuntimeError):
    pass


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@dataclass
class Service:
    name: str
    command: list[str]
    health_url: str
    env: dict[str, str]
    log_path: Path
    process: Optional[subprocess.Popen] = None

    def start(self) -> None:
        # Logs and every file the services create (databases, uploads) are the service user's
        # only: they may hold personal data.
        private_dir(self.log_path.parent)
        log = os.fdopen(os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        os.chmod(self.log_path, 0o600)
        self.process = subprocess.Popen(
            self.command,
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Own process group: Ctrl-C in the terminal reaches only the launcher, which then
            # stops the services in order.
            start_new_session=True,
            umask=0o077,
        )
        log.close()

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.health_url, timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_healthy(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not self.healthy():
            if self.process is None or self.process.poll() is not None:
                raise StackError(f"{self.name} hat sich beendet:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise StackError(f"{self.name} nicht rechtzeitig bereit:\n{self.log_tail()}")
            time.sleep(0.5)

    def restart(self, timeout: float = 180) -> None:
        self.stop()
        self.start()
        self.wait_healthy(timeout)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


@dataclass
class Stack:
    settings: Settings
    model: Path
    cors_origins: list[str] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    # Added to every service's environment last (tests: login on or off, a test IdP, limits).
    extra_env: dict[str, str] = field(default_factory=dict)
    _secrets: dict[str, str] = field(default_factory=dict, repr=False)

    def secret(self, name: str) -> str:
        """A credential from the environment, or one generated at random for this stack (the
        same value for every call, so that all services and tests of one start agree)."""
        if name not in self._secrets:
            self._secrets[name] = getattr(get_settings(), name.lower()) or secrets.token_urlsafe(32)
        return self._secrets[name]

    def _env_for(self, env: dict[str, str], service: str) -> dict[str, str]:
        """``env`` without the credentials ``service`` does not need (``SECRETS_FOR``)."""
        return {k: v for k, v in env.items() if k not in SECRETS_FOR or service in SECRETS_FOR[k]}

    def _env(self) -> dict[str, str]:
        # The children's environment: ours (they read their settings from it), plus the stack's.
        env = dict(os.environ)
        env.update(
            {
                "PORTAL_BACKEND_URL": self.settings.portal_url,
                "PORTAL_DATABASE_URL": self.settings.portal_database_url,
                # Our processes reach Rasa's HTTP API with this URL and token.
                "RASA_URL": self.settings.rasa_url,
                "RASA_API_TOKEN": self.settings.rasa_api_token,
                "BA_VAR_DIR": str(self.settings.var_dir),
                "TF_CPP_MIN_LOG_LEVEL": "2",
                "PYTHONUNBUFFERED": "1",
            }
        )
        # Rasa -> action server: shared secret (actions/server.py; endpoints send it as a header).
        env["ACTION_SERVER_TOKEN"] = self.settings.action_server_token
        # REST channel (rasa_runtime/channels/rest): exists only with a token; `make run` has none.
        env.pop("REST_CHANNEL_TOKEN", None)
        if self.settings.rest_channel_token:
            env["REST_CHANNEL_TOKEN"] = self.settings.rest_channel_token
        # /metrics of every service (buergerassistent/metrics.py): only with this token.
        env.pop("BA_METRICS_TOKEN", None)
        if self.settings.metrics_token:
            env["BA_METRICS_TOKEN"] = self.settings.metrics_token
        # Portal backend credentials: from the environment, else random per local start (the
        # backend refuses to start without them). Passed in the environment only, and only to
        # the services that need them (_env_for).
        env.update({name: self.secret(name) for name in PORTAL_SECRETS})
        # Matrix (matrix_connector): only with its settings; without them nothing changes.
        for name in ("MATRIX_CHANNEL_TOKEN", "MATRIX_HOMESERVER_URL", "MATRIX_USER_ID", "MATRIX_PASSWORD"):
            env.pop(name, None)
        env.pop("MATRIX_ACCESS_TOKEN", None)
        if self.settings.matrix_enabled:
            s = self.settings
            env["MATRIX_CHANNEL_TOKEN"] = s.matrix_channel_token
            env["MATRIX_HOMESERVER_URL"] = s.matrix_homeserver_url
            env["MATRIX_USER_ID"] = s.matrix_user_id
            for name, value in (("MATRIX_PASSWORD", s.matrix_password), ("MATRIX_ACCESS_TOKEN", s.matrix_access_token)):
                if value:
                    env[name] = value
        env.update(self.extra_env)
        return env

    def _write_endpoints(self) -> Path:
        path = self.settings.var_dir / f"endpoints-{self.settings.rasa_port}.yml"
        # May name the tracker store's database password: 0600.
        private_file(path)
        path.write_text(yaml.safe_dump(endpoints(self.settings), sort_keys=False))
        return path

    def _write_credentials(self) -> Path:
        path = self.settings.var_dir / f"credentials-{self.settings.rasa_port}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(credentials(self.settings, extra_env=self.extra_env), sort_keys=False))
        return path

    def build(self) -> None:
        s = self.settings
        logs = s.var_dir / "logs"
        env = self._env()
        python = sys.executable
        # rasa_runtime.process = `rasa` with our run-time fixes (see there).
        rasa_command = [
            python,
            "-m",
            "rasa_runtime.process",
            "run",
            "--model",
            str(self.model),
            "--endpoints",
            str(self._write_endpoints()),
            "--credentials",
            str(self._write_credentials()),
            "--interface",
            s.host,
            "--port",
            str(s.rasa_port),
            # The API token reaches Rasa through RASA_API_TOKEN in its environment, never on the
            # command line (rasa_runtime/process.py adds it inside the process).
            "--enable-api",
        ]
        if self.cors_origins:
            rasa_command += ["--cors", *self.cors_origins]
        worker_port = int(get_settings().submission_worker_port or free_port(s.host))
        # Login service (login_service); the chat's login links point at LOGIN_PUBLIC_URL.
        login_port = int(get_settings().login_port or free_port(s.host))
        env["LOGIN_PORT"] = str(login_port)
        env.setdefault("LOGIN_PUBLIC_URL", f"http://{s.host}:{login_port}")
        staff_desk = self._staff_desk(env, logs)  # sets STAFF_DESK_URL/TOKEN for the action server
        self.services = [
            Service(
                "portal-backend",
                [python, "-m", "portal_backend", "--host", s.host, "--port", str(s.portal_port)],
                f"{s.portal_url}/health",
                self._env_for(env, "portal-backend"),
                logs / f"portal-backend-{s.portal_port}.log",
            ),
            Service(
                "action-server",
                # rasa_sdk behind a check of ACTION_SERVER_TOKEN, on BA_HOST only.
                [python, "-m", "actions.server", "--host", s.host, "--port", str(s.action_port)],
                f"http://{s.host}:{s.action_port}/health",
                self._env_for(env, "action-server"),
                logs / f"action-server-{s.action_port}.log",
            ),
            # Delivers the submission outbox (delivery_worker/worker.py); health on a free
            # port unless SUBMISSION_WORKER_PORT is set.
            Service(
                "submission-worker",
                [python, "-m", "delivery_worker", "--host", s.host, "--port", str(worker_port)],
                f"http://{s.host}:{worker_port}/health",
                self._env_for(env, "submission-worker"),
                logs / f"submission-worker-{worker_port}.log",
            ),
            Service(
                "login",
                [python, "-m", "login_service", "--host", s.host, "--port", str(login_port)],
                f"http://{s.host}:{login_port}/health",
                self._env_for(env, "login"),
                logs / f"login-{login_port}.log",
            ),
            *staff_desk,
        ]
        if s.matrix_enabled:
            # Matrix connector (matrix_connector): sync, E2EE, rendering; Rasa posts proactive
            # messages to it (MATRIX_CONNECTOR_URL).
            matrix_port = int(get_settings().matrix_connector_port or free_port(s.host))
            env["MATRIX_CONNECTOR_URL"] = f"http://{s.host}:{matrix_port}"
            self.services.append(
                Service(
                    "matrix-connector",
                    [python, "-m", "matrix_connector", "--host", s.host, "--port", str(matrix_port)],
                    f"http://{s.host}:{matrix_port}/health",
                    self._env_for(env, "matrix-connector"),
                    logs / f"matrix-connector-{matrix_port}.log",
                )
            )
        self.services += [
            Service(
                "rasa", rasa_command, f"{s.rasa_url}/", self._env_for(env, "rasa"), logs / f"rasa-{s.rasa_port}.log"
            ),
        ]

    def _staff_desk(self, env: dict[str, str], logs: Path) -> list[Service]:
        """The staff desk (issue 19), only when a Matrix homeserver for staff is configured."""
        if not env.get("STAFF_MATRIX_HOMESERVER"):
            return []
        host = self.settings.host
        port = int(env.get("STAFF_DESK_PORT") or free_port(host))
        env["STAFF_DESK_PORT"] = str(port)
        env.setdefault("STAFF_DESK_URL", f"http://{host}:{port}")
        env["STAFF_DESK_TOKEN"] = env.get("STAFF_DESK_TOKEN") or self.secret("STAFF_DESK_TOKEN")
        command = [sys.executable, "-m", "staff_desk", "--host", host, "--port", str(port)]
        return [
            Service(
                "staff-desk",
                command,
                f"http://{host}:{port}/health",
                self._env_for(env, "staff-desk"),
                logs / f"staff-desk-{port}.log",
            )
        ]

    def start(self, timeout: float = 180, progress=print) -> None:
        if not self.services:
            self.build()
        for service in self.services:
            service.start()
        deadline = time.monotonic() + timeout
        pending = list(self.services)
        while pending:
            for service in list(pending):
                if service.process.poll() is not None:
                    self.stop()
                    raise StackError(
                        f"{service.name} hat sich beendet (Code {service.process.returncode}). "
                        f"Log {service.log_path}:\n{service.log_tail()}"
                    )
                if service.healthy():
                    progress(f"  {service.name} läuft")
                    pending.remove(service)
            if pending and time.monotonic() > deadline:
                names = ", ".join(s.name for s in pending)
                tails = "\n".join(f"--- {s.name}:\n{s.log_tail()}" for s in pending)
                self.stop()
                raise StackError(f"Nicht rechtzeitig gestartet: {names}\n{tails}")
            time.sleep(0.5)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def stop(self) -> None:
        # Rasa first, so no conversation reaches a stopped action server or backend.
        for service in reversed(self.services):
            service.stop()

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
