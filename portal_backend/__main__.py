"""``python -m portal_backend [--host HOST] [--port PORT]``

Settings from the environment: ``PORTAL_DATABASE_URL`` (default ``sqlite:///var/portal.db``,
relative to the repository root), ``PORTAL_HOST`` (default 127.0.0.1), ``PORTAL_PORT``
(default 8080). The flags override the environment.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from aiohttp import web

from portal_backend.app import create_app
from portal_backend.db import database_url_from_env, describe_url

logger = logging.getLogger("portal_backend")

# No client address, user agent or referrer: request logs carry no personal data.
ACCESS_LOG_FORMAT = '"%r" %s %bB %Tfs'


def _port(value: str) -> int:
    port = int(value)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"invalid port: {value}")
    return port


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m portal_backend", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default=os.environ.get("PORTAL_HOST") or "127.0.0.1")
    parser.add_argument("--port", type=_port, default=None)
    args = parser.parse_args(argv)
    if args.port is None:
        try:
            args.port = _port(os.environ.get("PORTAL_PORT") or "8080")
        except (ValueError, argparse.ArgumentTypeError):
            parser.error(f"PORTAL_PORT is not a valid port: {os.environ.get('PORTAL_PORT')!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    url = database_url_from_env()
    logger.info("starting portal backend on http://%s:%d, database %s",
                args.host, args.port, describe_url(url))
    web.run_app(
        create_app(url),
        host=args.host,
        port=args.port,
        access_log_format=ACCESS_LOG_FORMAT,
        print=None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
