"""``python -m delivery_worker [--host H] [--port P]``: the delivery worker as a process.

Serves ``GET /health`` (for bot/stack.py) and delivers the outbox in the background. Settings:
``OUTBOX_DATABASE_URL``, ``SUBMISSION_BACKEND``, ``PORTAL_BACKEND_URL``, ``PORTAL_API_TOKEN``
(the assistant's service token for the portal backend), ``PORTAL_CITIZEN_KEY`` (signs the
citizen assertion of an application a logged-in citizen confirmed), ``RASA_URL``,
``RASA_API_TOKEN``, ``SUBMISSION_WORKER_PORT`` (default 5056).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from aiohttp import web

from buergerassistent import logs, metrics
from buergerassistent.settings import startup_settings
from buergerassistent.submission.backends import backend_from_env
from buergerassistent.submission.outbox import Outbox
from delivery_worker.worker import DeliveryWorker

WORKER = web.AppKey("worker", DeliveryWorker)


async def health(request: web.Request) -> web.Response:
    worker = request.app[WORKER]
    try:
        await asyncio.to_thread(worker.outbox.counts)
    except Exception:  # noqa: BLE001 - outbox database unreachable
        return web.json_response({"status": "outbox_unavailable"}, status=503)
    return web.json_response({"status": "ok"})


def create_app() -> web.Application:
    outbox = Outbox.from_url()
    worker = DeliveryWorker(outbox, backend_from_env())
    app = web.Application()
    app[WORKER] = worker
    app.router.add_get("/health", health)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN

    async def background(app: web.Application):
        task = asyncio.create_task(worker.run_forever())
        yield
        worker.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=10)
        outbox.dispose()

    app.cleanup_ctx.append(background)
    return app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m delivery_worker", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=startup_settings().submission_worker_port or 5056)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logs.configure("delivery-worker")  # request ids; JSON lines with BA_LOG_FORMAT=json
    web.run_app(create_app(), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
