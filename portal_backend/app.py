"""HTTP routes of the reference portal backend (see ``openapi.yaml``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
from pathlib import Path
from typing import Any, Callable, Optional

from aiohttp import web
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from actions import signing
from actions.catalogue import Catalogue, default_catalogue
from connectors.http_security import security_headers_middleware
from portal_backend import case_numbers, receipt_pdf
from portal_backend.db import (
    STATUSES,
    STATUS_WITHDRAWN,
    ApplicationStore,
    IdempotencyConflict,
    StatusConflict,
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
FAULT_503_RATE = web.AppKey("fault_503_rate", float)

# The citizen (bPK2) travels in a header, never in the URL, so that it stays out of access logs.
CITIZEN_HEADER = "X-Citizen"
# Purpose of the signed receipt-link tokens (actions/signing.py); issued by the chat.
RECEIPT_PURPOSE = "receipt"

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


@web.middleware
async def fault_injection_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Test setting ``PORTAL_FAULT_503_RATE`` (0 = off, the default): answers that share of
    API requests with 503. Half of them fail before the request is processed, half after it
    (the application is stored but the client never learns it), so that clients must retry
    with the same idempotency key to get exactly one application."""
    rate = request.app[FAULT_503_RATE]
    if rate <= 0 or not request.path.startswith("/api/") or random.random() >= rate:
        return await handler(request)
    if random.random() < 0.5:
        return error_response(503, "fault_injected", MSG_UNAVAILABLE)
    await handler(request)
    return error_response(503, "fault_injected", MSG_UNAVAILABLE)


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


def _citizen(request: web.Request) -> str:
    citizen = request.headers.get(CITIZEN_HEADER, "").strip()
    if not citizen:
        raise ApiError(
            400,
            "citizen_required",
            f"Bitte geben Sie die Bürgerkennung (bPK2) im Header {CITIZEN_HEADER} an.",
            {CITIZEN_HEADER: "Erforderlich."},
        )
    return citizen


def _case_number(request: web.Request) -> str:
    case_number = case_numbers.normalize(request.match_info["case_number"])
    if case_number is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    return case_number


async def list_applications(request: web.Request) -> web.Response:
    citizen = _citizen(request)
    found = await asyncio.to_thread(request.app[STORE].list_by_citizen, citizen)
    return web.json_response({"applications": [a.to_json() for a in found]})


async def get_history(request: web.Request) -> web.Response:
    case_number = _case_number(request)
    store = request.app[STORE]
    application = await asyncio.to_thread(store.get, case_number)
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    history = await asyncio.to_thread(store.history, case_number)
    return web.json_response(
        {
            "case_number": case_number,
            "procedure": application.procedure,
            "status": application.status,
            "history": [event.to_json() for event in history],
        }
    )


async def post_status(request: web.Request) -> web.Response:
    """The authority's side: a new processing status (reference backend: no authentication)."""
    case_number = _case_number(request)
    body = await read_json_object(request)
    status, note = body.get("status"), body.get("note")
    errors = {}
    if status not in STATUSES or status == STATUS_WITHDRAWN:
        allowed = ", ".join(s for s in STATUSES if s != STATUS_WITHDRAWN)
        errors["status"] = f"Erlaubt: {allowed}."
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors["note"] = "Bitte als Text mit höchstens 500 Zeichen angeben."
    for key in body:
        if key not in ("status", "note"):
            errors[str(key)] = "Unbekanntes Feld."
    if errors:
        raise ApiError(422, "validation_failed", "Die Anfrage ist fehlerhaft.", errors)
    return await _change_status(request, case_number, status, note, None)


async def post_withdrawal(request: web.Request) -> web.Response:
    """The citizen withdraws: proven by the bPK2 (header) of a logged-in submission, or by the
    idempotency key that only the submitting client knows."""
    case_number = _case_number(request)
    body = await read_json_object(request)
    store = request.app[STORE]
    application = await asyncio.to_thread(store.get, case_number)
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    citizen = request.headers.get(CITIZEN_HEADER, "").strip()
    key = body.get("idempotency_key")
    if application.citizen:
        allowed = citizen == application.citizen
    else:
        allowed = isinstance(key, str) and await asyncio.to_thread(
            store.idempotency_key_matches, case_number, key
        )
    if not allowed:
        raise ApiError(403, "forbidden", "Sie dürfen diesen Antrag nicht zurückziehen.")
    proc = request.app[CATALOGUE].get(application.procedure)
    withdrawable = bool(proc and proc.withdrawable)
    return await _change_status(request, case_number, STATUS_WITHDRAWN, None, withdrawable)


async def _change_status(request, case_number, status, note, withdrawable) -> web.Response:
    try:
        application = await asyncio.to_thread(
            request.app[STORE].change_status,
            case_number,
            status,
            note,
            require_withdrawable=withdrawable,
        )
    except StatusConflict as exc:
        raise ApiError(409, exc.error, exc.message) from None
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    logger.info("application %s: status %s", case_number, status)
    return web.json_response(application.to_json())


async def get_postbox(request: web.Request) -> web.Response:
    citizen = _citizen(request)
    messages = await asyncio.to_thread(request.app[STORE].messages_for_citizen, citizen)
    return web.json_response({"messages": [m.to_json() for m in messages]})


def _digest(citizen: str) -> str:
    # The link carries sha256(bPK2), never the bPK2 itself (URLs end up in logs).
    return hashlib.sha256(citizen.encode("utf-8")).hexdigest()


async def get_receipt(request: web.Request) -> web.Response:
    """The PDF Eingangsbestätigung behind a signed, expiring link issued by the chat."""
    try:
        claims = signing.verify(request.match_info["token"], RECEIPT_PURPOSE)
    except signing.InvalidToken:
        raise ApiError(
            403, "invalid_link", "Dieser Link ist ungültig oder abgelaufen."
        ) from None
    application = await asyncio.to_thread(request.app[STORE].get, str(claims.get("cn")))
    # A link issued for a logged-in citizen opens only that citizen's application.
    if application is None or (
        claims.get("cit") and claims.get("cit") != _digest(application.citizen or "")
    ):
        raise ApiError(403, "invalid_link", "Dieser Link ist ungültig oder abgelaufen.")
    proc = request.app[CATALOGUE].get(application.procedure)
    pdf = await asyncio.to_thread(receipt_pdf.render, application, proc)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="Eingangsbestaetigung-{application.case_number}.pdf"',
            "Cache-Control": "private, no-store",
        },
    )


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
    fault_503_rate: Optional[float] = None,
) -> web.Application:
    """The aiohttp application. ``database_url`` defaults to ``$PORTAL_DATABASE_URL``;
    ``fault_503_rate`` to ``$PORTAL_FAULT_503_RATE`` (0 = no injected faults)."""
    url = database_url or database_url_from_env()
    if fault_503_rate is None:
        fault_503_rate = float(os.environ.get("PORTAL_FAULT_503_RATE") or 0)
    catalogue = catalogue if catalogue is not None else default_catalogue()

    def procedure_name(procedure_id: str) -> str:
        proc = catalogue.get(procedure_id)
        return proc.name if proc else procedure_id

    store_kwargs: dict[str, Any] = {"procedure_name": procedure_name}
    if case_number_factory:
        store_kwargs["case_number_factory"] = case_number_factory
    app = web.Application(
        middlewares=[security_headers_middleware, error_middleware, fault_injection_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[STORE] = ApplicationStore(make_engine(url), **store_kwargs)
    app[CATALOGUE] = catalogue
    app[DATABASE_DESCRIPTION] = describe_url(url)
    app[FAULT_503_RATE] = fault_503_rate
    if fault_503_rate > 0:
        logger.warning("fault injection on: %.0f %% of API requests answer 503", fault_503_rate * 100)
    app.router.add_post("/api/v1/applications", post_application)
    app.router.add_get("/api/v1/applications", list_applications)
    app.router.add_get("/api/v1/applications/{case_number}", get_application)
    app.router.add_get("/api/v1/applications/{case_number}/history", get_history)
    app.router.add_post("/api/v1/applications/{case_number}/status", post_status)
    app.router.add_post("/api/v1/applications/{case_number}/withdrawal", post_withdrawal)
    app.router.add_get("/api/v1/postbox", get_postbox)
    app.router.add_get("/api/v1/receipts/{token}", get_receipt)
    app.router.add_get("/health", health)
    app.router.add_get("/openapi.yaml", openapi_document)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app
