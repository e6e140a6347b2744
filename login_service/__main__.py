"""Run the login service: ``python -m login_service [--host H] [--port P]``."""

from __future__ import annotations

import argparse
import logging

from aiohttp import web

from buergerassistent import logs
from buergerassistent.settings import startup_settings

from .app import create_app
from .settings import LoginSettings


def main() -> None:
    parser = argparse.ArgumentParser(description="Bürgerassistent login service (BundID/BayernID)")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    startup_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.configure("login")  # request ids; JSON lines with BA_LOG_FORMAT=json
    # aiohttp's access log would write login tickets (query strings) into the log.
    settings = LoginSettings(**{k: v for k, v in (("host", args.host), ("port", args.port)) if v})
    web.run_app(create_app(settings), host=settings.host, port=settings.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
