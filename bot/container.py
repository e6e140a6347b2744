"""Entry point of the container image (docker/Dockerfile): one image, one command per service.

    python -m bot.container run <service>   start one service, listening on 0.0.0.0
    python -m bot.container health          the image's HEALTHCHECK: 0 when the service is up
    python -m bot.container migrate         bring every database to the newest schema (the migration Job)

The services and their commands are the ones ``make run`` starts (bot/stack.py); the test
tests/deploy/test_container_commands.py compares them. Ports are the settings' defaults, so the
compose file and the Kubernetes manifests can name them (tests/deploy checks that too).
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from buergerassistent.settings import get_settings

LISTEN = "0.0.0.0"  # noqa: S104 - inside a container; the network in front decides who may connect


@dataclass(frozen=True)
class ContainerService:
    name: str
    # ``python -m <module> <args>``, the same module as bot/stack.py starts.
    module: str
    port: int
    # Path of the health endpoint bot/stack.py waits for.
    health_path: str

    def command(self) -> list[str]:
        if self.module == "bot.serve":
            # Renders endpoints and credentials from the settings, then execs `rasa_runtime.process
            # run` with the same flags as bot/stack.py (tests/deploy compares them).
            return [sys.executable, "-m", "bot.serve", "--host", LISTEN]
        return [sys.executable, "-m", self.module, "--host", LISTEN, "--port", str(self.port)]


def services() -> dict[str, ContainerService]:
    settings = get_settings()
    table = [
        ContainerService("portal-backend", "portal_backend", int(settings.portal_port or 8080), "/health"),
        ContainerService("action-server", "actions.server", settings.action_port, "/health"),
        ContainerService("submission-worker", "delivery_worker", settings.submission_worker_port or 8070, "/health"),
        ContainerService("login", "login_service", settings.login_port or 8090, "/health"),
        ContainerService("rasa", "bot.serve", settings.rasa_port, "/"),
        # Optional (docs/operations.md): `make run` starts them only with their settings. Ports
        # fixed here so compose and Kubernetes can name them; 8075, not staff_desk's own
        # fallback 8070, which is the submission worker's.
        ContainerService("staff-desk", "staff_desk", int(settings.staff_desk_port or 8075), "/health"),
        ContainerService(
            "matrix-connector", "matrix_connector", int(settings.matrix_connector_port or 8095), "/health"
        ),
    ]
    return {service.name: service for service in table}


def _marker() -> Path:
    """Which service this container runs (written at start, read by the health check)."""
    return get_settings().var_dir / "container-service"


def run(name: str) -> None:
    service = services()[name]
    marker = _marker()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(name)
    command = service.command()
    # exec: the service is PID 1's program and receives the container's SIGTERM itself.
    os.execv(command[0], command)


def health() -> int:
    try:
        name = _marker().read_text().strip()
    except OSError:
        print("Dienst noch nicht gestartet", file=sys.stderr)
        return 1
    service = services()[name]
    url = f"http://127.0.0.1:{service.port}{service.health_path}"
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - fixed local http URL
            return 0 if resp.status == 200 else 1
    except (urllib.error.URLError, OSError) as exc:
        print(f"{name}: {url} nicht erreichbar ({type(exc).__name__})", file=sys.stderr)
        return 1


def migrate() -> int:
    """Bring every database in the settings to the newest schema: ``alembic upgrade head`` for
    each store (buergerassistent/migrations; a database made by ``create_all`` before there
    were migrations is stamped with the first revision first). Idempotent.

    The services do the same at start-up, all through ``storage.create_tables`` (under a
    PostgreSQL advisory lock), so replicas that start before this Job do not race either.
    """
    from sqlalchemy.engine import make_url

    from bot import schema
    from bot.settings import Settings, tracker_store_config
    from buergerassistent import migrations, storage

    for store in schema.STORES:
        if not schema.configured(store):
            print(f"{store}: nicht eingerichtet ({schema.OPTIONAL[store].upper()} fehlt)", flush=True)
            continue
        url = schema.url_of(store)
        engine = storage.make_engine(url)
        try:
            storage.create_tables(schema.metadata_of(store), engine)
            with engine.connect() as conn:
                revision = migrations.current(conn, store)
        finally:
            engine.dispose()
        print(f"{store}: Schema auf Stand {revision} ({make_url(url).get_backend_name()})", flush=True)
    # Rasa's tracker store (rasa_runtime/tracker_store.py) creates its table when it is opened.
    from rasa_runtime.tracker_store import CachingSQLTrackerStore

    config = tracker_store_config(Settings().tracker_store_url)
    config.pop("type")
    config["host"] = config.pop("url", None)
    tracker = CachingSQLTrackerStore(**config)
    tracker.engine.dispose()
    print(f"Gesprächsspeicher: Tabellen vorhanden ({config['dialect']})", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.container", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("run", help="einen Dienst starten")
    start.add_argument("service", choices=sorted(services()))
    commands.add_parser("health", help="Gesundheitsprüfung des laufenden Dienstes")
    commands.add_parser("migrate", help="alle Datenbanken auf den neuesten Schemastand bringen (Alembic)")
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.service)
        return 0
    if args.command == "health":
        return health()
    return migrate()


if __name__ == "__main__":
    sys.exit(main())
