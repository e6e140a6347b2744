"""HTTP routes of the reference portal backend (see ``openapi.yaml``)."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Callable, Optional

from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from actions.catalogue import Catalogue, default_catalogue
from portal_backend import case_numbers
from portal_backend.db import (
    ApplicationStore,
    IdempotencyConflict,
    database_url_from_env,
    describe_url,
    make_engine,
)
from portal_backend.validation import (
    ValidationFailed,
    parse_submission,
    validate_against_catalogue,
)

logger = logging.getLogger(__name__)

OPENAPI_PATH = Path(__file__).resolve().parent / "openapi.yaml"
MAX_BODY_BYTES = 256 * 1024
HEALTH_TIMEOUT_SECONDS = 5.0

STORE = web.AppKey("store", ApplicationStore)
CATALOGUE = web.AppKey("catalogue", Catalogue)
DATABASE_DESCRIPTION = web.AppKey("database_description", str)

# German messages for errors raised by aiohttp itself (routing, body size).
_HTTP_ERRORS = {
    400: ("bad_request", "Die Anfrage ist fehlerhaft."),
    404: ("not_found", "Diese Adresse gibt es nicht."),
    405: ("method_not_allowed", "Diese Methode ist für diese Adresse nicht erlaubt."),
    413: ("payload_too_large", "Der Anfragetext ist zu groß."),
}
MSG_INTERNAL = "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut."
MSG_UNAVAILABLE = "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut."


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, fields: Optional[dict] = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or {}


def error_response(
    status: int, error: str, message: str, fields: Optional[dict] = None, headers=None
) -> web.Response:
    return web.json_response(
        {"error": error, "message": message, "fields": fields or {}},
        status=status,
        headers=headers,
    )


@web.middleware
async def error_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every error becomes a JSON body with a German message; never a stack trace."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.error, exc.message, exc.fields)
    except ValidationFailed as exc:
        return error_response(422, exc.error, exc.message, exc.fields)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error, message = _HTTP_ERRORS.get(exc.status, ("http_error", "Die Anfrage ist fehlgeschlagen."))
        headers = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
        return error_response(exc.status, error, message, headers=headers)
    except (OperationalError, InterfaceError) as exc:
        # Database down or unreachable: the client may retry with the same idempotency key.
        logger.error("database unavailable during %s %s: %s", request.method, request.path,
                     type(exc).__name__)
        return error_response(503, "database_unavailable", MSG_UNAVAILABLE)
    except Exception:
        # The engine hides SQL parameters, so the traceback holds no application data.
        logger.exception("unhandled error during %s %s", request.method, request.path)
        return error_response(500, "internal_error", MSG_INTERNAL)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def read_json_object(request: web.Request) -> dict[str, Any]:
    content_type = request.content_type
    if content_type != "application/json" and not (
        content_type.startswith("application/") and content_type.endswith("+json")
    ):
        raise ApiError(
            400,
            "invalid_content_type",
            "Bitte senden Sie die Daten als JSON (Content-Type: application/json).",
        )
    raw = await request.read()  # HTTPRequestEntityTooLarge beyond client_max_size → 413
    if not raw.strip():
        raise ApiError(400, "invalid_json", "Der Anfragetext ist leer.")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "Der Anfragetext ist kein gültiges JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_json", "Der Anfragetext muss ein JSON-Objekt sein.")
    return body


async def post_application(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    submission = parse_submission(body)
    store = request.app[STORE]
    try:
        # A retry of an accepted request is answered from the database before the catalogue
        # check, so that a changed catalogue never turns an accepted application into a 422.
        application = await asyncio.to_thread(store.find_by_idempotency_key, submission)
        created = False
        if application is None:
            validate_against_catalogue(submission, request.app[CATALOGUE])
            application, created = await asyncio.to_thread(store.create, submission)
    except IdempotencyConflict:
        logger.info("idempotency conflict for procedure %s", submission.procedure)
        raise ApiError(
            409,
            "idempotency_conflict",
            "Dieser Idempotenzschlüssel wurde bereits für einen anderen Antrag verwendet.",
            {"idempotency_key": "Bereits für einen anderen Antrag verwendet."},
        ) from None
    logger.info(
        "application %s: %s (%s)",
        "created" if created else "replayed",
        application.case_number,
        application.procedure,
    )
    headers = {"Location": f"/api/v1/applications/{application.case_number}"}
    return web.json_response(application.to_json(), status=201 if created else 200, headers=headers)


async def get_application(request: web.Request) -> web.Response:
    case_number = case_numbers.normalize(request.match_info["case_number"])
    application = None
    if case_number is not None:
        application = await asyncio.to_thread(request.app[STORE].get, case_number)
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    return web.json_response(application.to_json())


async def health(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(
            asyncio.to_thread(request.app[STORE].ping), timeout=HEALTH_TIMEOUT_SECONDS
        )
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        logger.warning("health check failed: database unreachable (%s)", type(exc).__name__)
        return error_response(
            503, "database_unavailable", "Die Datenbank ist nicht erreichbar."
        )
    return web.json_response({"status": "ok"})


async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(
        body=OPENAPI_PATH.read_bytes(), content_type="application/yaml", charset="utf-8"
    )


async def _on_startup(app: web.Application) -> None:
    await asyncio.to_thread(app[STORE].create_tables)
    logger.info("database ready (%s)", app[DATABASE_DESCRIPTION])


async def _on_cleanup(app: web.Application) -> None:
    await asyncio.to_thread(app[STORE].dispose)


def create_app(
    database_url: Optional[str | URL] = None,
    *,
    catalogue: Optional[Catalogue] = None,
    case_number_factory: Optional[Callable] = None,
) -> web.Application:
    """The aiohttp application. ``database_url`` defaults to ``$PORTAL_DATABASE_URL``."""
    url = database_url or database_url_from_env()
    store_kwargs = {"case_number_factory": case_number_factory} if case_number_factory else {}
    app = web.Application(middlewares=[error_middleware], client_max_size=MAX_BODY_BYTES)
    app[STORE] = ApplicationStore(make_engine(url), **store_kwargs)
    app[CATALOGUE] = catalogue if catalogue is not None else default_catalogue()
    app[DATABASE_DESCRIPTION] = describe_url(url)
    app.router.add_post("/api/v1/applications", post_application)
    app.router.add_get("/api/v1/applications/{case_number}", get_application)
    app.router.add_get("/health", health)
    app.router.add_get("/openapi.yaml", openapi_document)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app
