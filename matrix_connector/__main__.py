"""``python -m matrix_connector --host 127.0.0.1 --port 8095``: the Matrix connector (see
``matrix_connector/connector.py``); settings MATRIX_* in buergerassistent/settings.py."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import signal
import sys

from aiohttp import web

from buergerassistent.settings import get_settings
from buergerassistent.signing import secret_key
from matrix_connector.app import make_app
from matrix_connector.connector import ConnectorConfig, MatrixConnector


def config_from_settings() -> ConnectorConfig:
    s = get_settings()
    missing = [
        name
        for name, value in (
            ("MATRIX_HOMESERVER_URL", s.matrix_homeserver_url),
            ("MATRIX_USER_ID", s.matrix_user_id),
            ("MATRIX_PASSWORD oder MATRIX_ACCESS_TOKEN", s.matrix_password or s.matrix_access_token),
            ("MATRIX_CHANNEL_TOKEN", s.matrix_channel_token),
            ("RASA_URL", s.rasa_url),
        )
        if not value
    ]
    if missing:
        raise SystemExit(f"Matrix-Connector: es fehlen {', '.join(missing)}")
    pickle_key = s.matrix_pickle_key or hashlib.sha256(b"matrix-olm-pickle:" + secret_key()).hexdigest()
    return ConnectorConfig(
        homeserver_url=s.matrix_homeserver_url,
        user_id=s.matrix_user_id,
        password=s.matrix_password,
        access_token=s.matrix_access_token,
        rasa_url=s.rasa_url,
        channel_token=s.matrix_channel_token,
        store_dir=s.matrix_store_dir or s.var_dir / "matrix",
        pickle_key=pickle_key,
        store_database_url=s.matrix_store_database_url,
    )


async def serve(host: str, port: int) -> None:
    config = config_from_settings()
    connector = MatrixConnector(config)
    runner = web.AppRunner(make_app(connector, config.channel_token), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await connector.start()
        await stop.wait()
    finally:
        await connector.stop()
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m matrix_connector")
    parser.add_argument("--host", default=get_settings().ba_host)
    parser.add_argument("--port", type=int, default=get_settings().matrix_connector_port or 8095)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=get_settings().log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    # mautrix names users, devices and rooms in its log lines (even in warnings such as
    # "device … isn't cross-signed"): only its errors are logged.
    for name in ("mau", "mautrix"):
        logging.getLogger(name).setLevel(logging.ERROR)
    asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
