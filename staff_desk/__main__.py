"""``python -m staff_desk [--host H] [--port P]``: the staff desk (see ``staff_desk/__init__.py``)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from aiohttp import web

from buergerassistent.handoff import office_hours
from buergerassistent.handoff.store import default_store
from buergerassistent.settings import SettingsError, startup_settings
from buergerassistent.submission.outbox import Outbox
from buergerassistent.submission.portal_client import DEFAULT_URL
from staff_desk.app import make_app
from staff_desk.desk import Desk
from staff_desk.matrix import MatrixRooms
from staff_desk.portal import AuthorityPortal
from staff_desk.rasa_api import RasaConversations


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="staff_desk", description="Übergabe an Mitarbeitende (Matrix)")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args(argv)
    try:
        s = startup_settings()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    logging.basicConfig(level=s.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    missing = [
        name
        for name in (
            "STAFF_DESK_TOKEN",
            "STAFF_MATRIX_HOMESERVER",
            "STAFF_MATRIX_USER",
            "STAFF_MATRIX_ACCESS_TOKEN",
            "STAFF_MATRIX_QUEUE_ROOM",
        )
        if not getattr(s, name.lower())
    ]
    # In production the default SQLite file lives in the container and vanishes with it, and the
    # open cases and the audit log with it: a shared database is required there.
    if s.production and not s.handoff_database_url:
        missing.append("HANDOFF_DATABASE_URL")
    if missing:
        print(f"Die Übergabe an Mitarbeitende braucht noch: {', '.join(missing)}", file=sys.stderr)
        return 2
    try:
        office_hours.configured()
    except office_hours.OfficeHoursError as exc:
        print(exc, file=sys.stderr)
        return 2
    asyncio.run(_serve(s, args.host or s.ba_host, args.port or s.staff_desk_port or 8070))
    return 0


async def _serve(s, host: str, port: int) -> None:
    rooms = MatrixRooms(
        s.staff_matrix_homeserver, s.staff_matrix_user, s.staff_matrix_access_token, s.staff_matrix_queue_room
    )
    agents = {a.strip() for a in s.staff_matrix_agents.split(",") if a.strip()}
    rasa_url = s.rasa_url or f"http://{s.ba_host}:{s.rasa_port}"
    desk = Desk(
        default_store(),
        rooms,
        RasaConversations(rasa_url, s.rasa_api_token),
        agents,
        s.handoff_queue_timeout_s,
        me=s.staff_matrix_user,
        portal=AuthorityPortal(s.portal_backend_url or DEFAULT_URL, s.portal_authority_token)
        if s.portal_authority_token
        else None,
        outbox=Outbox.default(),
    )
    await rooms.start(desk.on_message)
    runner = web.AppRunner(make_app(desk, s.staff_desk_token))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    logging.getLogger(__name__).info("staff desk on %s:%s", host, port)
    housekeeping = asyncio.create_task(desk.housekeeping())
    try:
        await asyncio.Event().wait()
    finally:
        housekeeping.cancel()
        await rooms.stop()
        await runner.cleanup()


if __name__ == "__main__":
    sys.exit(main())
