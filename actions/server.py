"""The action server: rasa-sdk's app, answering only Rasa.

    python -m actions.server [--host 127.0.0.1] [--port 5055]

rasa-sdk 3.6 has no authentication and listens on all interfaces (``SANIC_HOST`` defaults to
0.0.0.0); anyone reaching it could send a forged tracker with a citizen's conversation id and get
back their identity, prefill data and applications. Here every request except ``GET /health``
must carry ``Authorization: Bearer $ACTION_SERVER_TOKEN`` (Rasa sends it: the action endpoint's
``headers`` in bot/settings.py ``endpoints()``), and the server binds to ``BA_HOST``
(127.0.0.1 unless set).
"""

from __future__ import annotations

# One thread per numeric library, before numpy and the sentence encoder load
# (buergerassistent/math_threads.py).
from buergerassistent.math_threads import one_thread_each

one_thread_each()

import argparse  # noqa: E402
import hmac  # noqa: E402
import logging  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Optional  # noqa: E402

from sanic import Sanic, response  # noqa: E402
from sanic.request import Request  # noqa: E402
from sanic.response import HTTPResponse  # noqa: E402

from buergerassistent import logs, metrics, semantic_match  # noqa: E402
from buergerassistent.gc_freeze import freeze_startup_objects  # noqa: E402
from buergerassistent.procedure_finder import discovery  # noqa: E402
from buergerassistent.settings import get_settings, startup_settings  # noqa: E402

logger = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/health"})
METRICS_PATH = "/metrics"
UNAUTHORIZED = "Zugriff verweigert: Der Aktionsserver beantwortet nur Anfragen des Assistenten."


def token_matches(header: Optional[str], token: str) -> bool:
    """``header`` is ``Bearer <token>``; compared in constant time."""
    if not header or not token:
        return False
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def auth_middleware(token: str) -> Callable:
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if request.path in OPEN_PATHS and request.method in ("GET", "HEAD"):
            return None
        if request.path == METRICS_PATH and request.method == "GET" and get_settings().ba_metrics_token:
            return None  # Prometheus: its own token (BA_METRICS_TOKEN), checked by the route
        if token_matches(request.headers.get("authorization"), token):
            return None
        logger.warning("action server: request without valid token refused (%s %s)", request.method, request.path)
        return response.json(
            {"error": "unauthorized", "message": UNAUTHORIZED}, status=401, headers={"WWW-Authenticate": "Bearer"}
        )

    return require_token


async def take_request_id(request: Request) -> None:
    """The request id Rasa gave the citizen's message (buergerassistent/logs.py), from the tracker."""
    if request.path != "/webhook":
        return
    try:
        metadata = request.json["tracker"]["latest_message"].get("metadata") or {}
    except (TypeError, KeyError, AttributeError, ValueError):
        return
    request_id = logs.valid(metadata.get(logs.METADATA_KEY))
    if request_id:
        logs.REQUEST_ID.set(request_id)


async def _freeze_after_start(_app: Sanic, _loop) -> None:  # noqa: ANN001 - Sanic's loop
    freeze_startup_objects()


def create_app(token: Optional[str] = None, actions: str = "actions") -> Sanic:
    """rasa-sdk's app for ``actions`` behind the token check (``ACTION_SERVER_TOKEN`` if None)."""
    from rasa_sdk.endpoint import create_app as create_sdk_app

    token = token if token is not None else (get_settings().action_server_token or "")
    if not token:
        raise SystemExit("ACTION_SERVER_TOKEN fehlt: ohne Token wäre der Aktionsserver für jeden offen.")
    # No CORS: browsers never talk to the action server.
    app = create_sdk_app(actions, cors_origins=None)
    # Build the catalogue's search index now (about a second: the German lemma table), not on
    # the first citizen's message; importing the actions does not do it.
    discovery()
    # The catalogue's phrases in the sentence encoder's terms (read from the cache; the first
    # start on a new machine embeds them, about half a minute).
    semantic_match.default_index()
    # Catalogue, index and encoder stay until the process stops: out of the collector's walks.
    app.register_listener(_freeze_after_start, "after_server_start")
    app.register_middleware(auth_middleware(token), "request")
    app.register_middleware(take_request_id, "request")
    metrics_token = get_settings().ba_metrics_token
    if metrics_token:

        @app.get(METRICS_PATH, name="ba_metrics")
        async def scrape(request: Request) -> HTTPResponse:
            if not metrics.authorized(request.headers.get("authorization"), metrics_token):
                return response.empty(status=401, headers={"WWW-Authenticate": "Bearer"})
            body, content_type = metrics.exposition()
            return response.raw(body, content_type=content_type)

    return app


def main(argv: Optional[list[str]] = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_SERVER_PORT
    from rasa_sdk.plugin import plugin_manager

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    settings = startup_settings()
    parser.add_argument("--host", default=settings.ba_host)
    parser.add_argument("--port", type=int, default=settings.action_port or DEFAULT_SERVER_PORT)
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)

    # As `python -m rasa_sdk` does.
    logging.getLogger("matplotlib").setLevel(logging.WARNING)
    log_level = settings.log_level_actions or settings.log_level or "INFO"
    utils.configure_colored_logging(log_level)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), None, log_level, None)
    utils.update_sanic_log_level()
    logs.configure("action-server")  # request ids; JSON lines with BA_LOG_FORMAT=json

    app = create_app(actions=args.actions)
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    logger.info("Action server on http://%s:%s (token required)", args.host, args.port)
    app.run(args.host, args.port, workers=utils.number_of_sanic_workers())


if __name__ == "__main__":
    main()
