"""``python -m portal_backend [--host HOST] [--port PORT]``

Settings from the environment: ``PORTAL_DATABASE_URL`` (default ``sqlite:///var/portal.db``,
relative to the repository root), ``PORTAL_HOST`` (default 127.0.0.1: only this machine),
``PORTAL_PORT`` (default 8080). The flags override the environment. Required:
``PORTAL_API_TOKEN`` (the assistant), ``PORTAL_AUTHORITY_TOKEN`` (status changes) and
``PORTAL_CITIZEN_KEY`` (citizen assertions); without them the backend does not start.
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web

from buergerassistent import logs
from buergerassistent.settings import startup_settings
from portal_backend.app import AccessLogger, ConfigurationError, create_app
from portal_backend.db import database_url_from_env, describe_url

logger = logging.getLogger("portal_backend")


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"invalid port: {value}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m portal_backend", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    settings = startup_settings()
    parser.add_argument("--host", default=settings.portal_host or "127.0.0.1")
    parser.add_argument("--port", type=_port, default=None)
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = _port(settings.portal_port or "8080")
        except (ValueError, argparse.ArgumentTypeError):
            parser.error(f"PORTAL_PORT is not a valid port: {settings.portal_port!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.configure("portal-backend")  # request ids; JSON lines with BA_LOG_FORMAT=json
    url = database_url_from_env()
    try:
        app = create_app(url)
    except ConfigurationError as exc:
        logger.error("%s", exc)
        return 2
    logger.info("starting portal backend on http://%s:%d, database %s", args.host, args.port, describe_url(url))
    # The access log has no client addresses and masks receipt tokens (see AccessLogger).
    web.run_app(app, host=args.host, port=args.port, access_log_class=AccessLogger, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
