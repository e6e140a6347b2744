"""HTTP routes of the reference portal backend (see ``openapi.yaml``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any, Optional

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.engine import URL
from sqlalchemy.exc import InterfaceError, OperationalError

from buergerassistent import citizen_assertion, logs, metrics, signing
from buergerassistent.catalogue import Catalogue, default_catalogue
from buergerassistent.handoff import callback
from buergerassistent.http_security import security_headers_middleware
from buergerassistent.settings import get_settings
from portal_backend import case_numbers, receipt_pdf
from portal_backend.db import (
    STATUS_WITHDRAWN,
    STATUSES,
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
CREDENTIALS = web.AppKey("credentials", "Credentials")

# The citizen (bPK2) is taken only from a signed, short-lived assertion in this header
# (buergerassistent/citizen_assertion.py), never from a header or field a caller can simply set. It
# travels in a header, never in the URL, so that it stays out of access logs.
CITIZEN_HEADER = citizen_assertion.HEADER
# Purpose of the signed receipt-link tokens (buergerassistent/signing.py); issued by the chat.
RECEIPT_PURPOSE = "receipt"
# Receipts have a route of their own, outside /api: it is the only part a browser needs, so a
# reverse proxy can publish exactly this prefix and keep the API internal.
RECEIPTS_PREFIX = "/receipts/"

# Roles of the API's callers (service credentials, ``Authorization: Bearer <token>``).
ROLE_ASSISTANT = "assistant"  # PORTAL_API_TOKEN: the action server and the delivery worker
ROLE_AUTHORITY = "authority"  # PORTAL_AUTHORITY_TOKEN: the authority's status changes
MIN_TOKEN_LENGTH = 16

# German messages for errors raised by aiohttp itself (routing, body size).
_HTTP_ERRORS = {
    400: ("bad_request", "Die Anfrage ist fehlerhaft."),
    404: ("not_found", "Diese Adresse gibt es nicht."),
    405: ("method_not_allowed", "Diese Methode ist für diese Adresse nicht erlaubt."),
    413: ("payload_too_large", "Der Anfragetext ist zu groß."),
}
MSG_INTERNAL = "Ein interner Fehler ist aufgetreten. Bitte versuchen Sie es später erneut."
MSG_UNAVAILABLE = "Der Dienst ist vorübergehend nicht erreichbar. Bitte versuchen Sie es später erneut."
MSG_UNAUTHORIZED = "Bitte melden Sie den aufrufenden Dienst mit einem gültigen Zugangsschlüssel an."
MSG_FORBIDDEN = "Dieser Zugang darf diese Aktion nicht ausführen."
MSG_CITIZEN_UNVERIFIED = "Die Anmeldung der Bürgerin oder des Bürgers konnte nicht bestätigt werden."


class ConfigurationError(RuntimeError):
    """The backend cannot start safely (e.g. no service credentials configured)."""


class Credentials:
    """The secrets the API checks: one bearer token per role, and the key of the citizen
    assertions. Read from the environment; the backend refuses to start without them
    (``bot/stack.py`` generates random ones for a local start)."""

    def __init__(self, api_token: str, authority_token: str, citizen_key: str):
        problems = []
        for name, value in (("PORTAL_API_TOKEN", api_token), ("PORTAL_AUTHORITY_TOKEN", authority_token)):
            if len(value or "") < MIN_TOKEN_LENGTH:
                problems.append(f"{name} must be set (at least {MIN_TOKEN_LENGTH} characters)")
        if len(citizen_key or "") < citizen_assertion.MIN_KEY_LENGTH:
            problems.append(
                f"{citizen_assertion.KEY_ENV} must be set (at least {citizen_assertion.MIN_KEY_LENGTH} characters)"
            )
        if api_token and api_token == authority_token:
            problems.append("PORTAL_API_TOKEN and PORTAL_AUTHORITY_TOKEN must differ")
        if citizen_key and citizen_key in (api_token, authority_token):
            problems.append(f"{citizen_assertion.KEY_ENV} must differ from the API tokens")
        if problems:
            raise ConfigurationError("portal backend not started: " + "; ".join(problems))
        self._tokens = ((api_token.encode(), ROLE_ASSISTANT), (authority_token.encode(), ROLE_AUTHORITY))
        self.citizen_key = citizen_key.encode()

    @classmethod
    def from_env(cls) -> Credentials:
        settings = get_settings()
        return cls(
            (settings.portal_api_token or "").strip(),
            (settings.portal_authority_token or "").strip(),
            (settings.portal_citizen_key or "").strip(),
        )

    def role_of(self, authorization: str) -> Optional[str]:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        presented = token.strip().encode()
        role = None
        for expected, name in self._tokens:
            # Constant time, and every token compared, so timing tells nothing about either.
            if hmac.compare_digest(presented, expected):
                role = name
        return role


def roles(*allowed: str):
    """Marks a route handler with the roles that may call it."""

    def mark(handler):
        handler.roles = frozenset(allowed)
        return handler

    return mark


def public(handler):
    """Marks a route handler that needs no service token (it checks its own proof, if any)."""
    handler.public = True
    return handler


@web.middleware
async def auth_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every route needs a service token unless its handler is marked ``@public`` (``/health``,
    ``/openapi.yaml``, the receipts with their own signed token); the handler's ``@roles``
    decide which roles may call it, and a handler without them is for no role. Decided by the
    matched route, not by the path's spelling."""
    match = request.match_info
    if getattr(match.handler, "public", False):
        return await handler(request)
    unmatched = match.http_exception is not None  # 404/405 from routing
    if unmatched and not request.path.startswith("/api/"):
        return await handler(request)  # plain 404 outside the API
    role = request.app[CREDENTIALS].role_of(request.headers.get("Authorization", ""))
    if role is None:
        return error_response(
            401, "unauthorized", MSG_UNAUTHORIZED, headers={"WWW-Authenticate": 'Bearer realm="portal"'}
        )
    if not unmatched and role not in getattr(match.handler, "roles", frozenset()):
        logger.warning("%s %s refused for role %s", request.method, masked_path(request.path), role)
        return error_response(403, "forbidden", MSG_FORBIDDEN)
    request["role"] = role
    return await handler(request)


def masked_path(path: str) -> str:
    """The path as it may be logged: receipt tokens (bearer links) never reach a log."""
    if path.startswith(RECEIPTS_PREFIX):
        return RECEIPTS_PREFIX + "***"
    return path


class AccessLogger(AbstractAccessLogger):
    """The access log: method, path, status, size, duration. No client address, user agent,
    referrer or query string (no personal data), and receipt tokens masked (a receipt link is
    a bearer link to a PDF with all data of the application). Pass it to aiohttp as
    ``access_log_class`` (``portal_backend/__main__.py`` does)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '"%s %s HTTP/%d.%d" %d %dB %.6fs',
            request.method,
            masked_path(request.path),
            request.version.major,
            request.version.minor,
            response.status,
            response.body_length,
            time,
        )


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, fields: Optional[dict] = None):
        super().__init__(error)
        self.status = status
        self.error = error
        self.message = message
        self.fields = fields or {}


def error_response(status: int, error: str, message: str, fields: Optional[dict] = None, headers=None) -> web.Response:
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
        logger.error(
            "database unavailable during %s %s: %s", request.method, masked_path(request.path), type(exc).__name__
        )
        return error_response(503, "database_unavailable", MSG_UNAVAILABLE)
    except Exception:
        # The engine hides SQL parameters, so the traceback holds no application data.
        logger.exception("unhandled error during %s %s", request.method, masked_path(request.path))
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


@roles(ROLE_ASSISTANT)
async def post_application(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    submission = parse_submission(body)
    # An application is linked to a citizen's account only with that citizen's assertion.
    if submission.citizen is not None and _verified_citizen(request) != submission.citizen:
        raise ApiError(
            403, "citizen_unverified", MSG_CITIZEN_UNVERIFIED, {"citizen": "Nicht durch eine Anmeldung bestätigt."}
        )
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


# The whole application with its form data: only the authority. The assistant never needs it back
# (it keeps what it shows in the chat), so a leaked assistant token reads no case by its number.
@roles(ROLE_AUTHORITY)
async def get_application(request: web.Request) -> web.Response:
    case_number = case_numbers.normalize(request.match_info["case_number"])
    application = None
    if case_number is not None:
        application = await asyncio.to_thread(request.app[STORE].get, case_number)
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    return web.json_response(application.to_json())


def _verified_citizen(request: web.Request) -> Optional[str]:
    """The bPK2 of a valid citizen assertion, or None (absent, forged, expired)."""
    token = request.headers.get(CITIZEN_HEADER, "").strip()
    if not token:
        return None
    try:
        return citizen_assertion.verify(token, request.app[CREDENTIALS].citizen_key)
    except citizen_assertion.InvalidAssertion:
        logger.warning("invalid citizen assertion on %s %s", request.method, request.path)
        return None


def _citizen(request: web.Request) -> str:
    if not request.headers.get(CITIZEN_HEADER, "").strip():
        raise ApiError(
            400,
            "citizen_required",
            f"Bitte bestätigen Sie die Bürgerin oder den Bürger im Header {CITIZEN_HEADER}.",
            {CITIZEN_HEADER: "Erforderlich."},
        )
    citizen = _verified_citizen(request)
    if citizen is None:
        raise ApiError(403, "citizen_unverified", MSG_CITIZEN_UNVERIFIED, {CITIZEN_HEADER: "Ungültig oder abgelaufen."})
    return citizen


def _case_number(request: web.Request) -> str:
    case_number = case_numbers.normalize(request.match_info["case_number"])
    if case_number is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    return case_number


@roles(ROLE_ASSISTANT)
async def list_applications(request: web.Request) -> web.Response:
    citizen = _citizen(request)
    found = await asyncio.to_thread(request.app[STORE].list_by_citizen, citizen)
    return web.json_response({"applications": [a.to_json() for a in found]})


@roles(ROLE_ASSISTANT, ROLE_AUTHORITY)
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


@roles(ROLE_AUTHORITY)
async def post_status(request: web.Request) -> web.Response:
    """The authority's side: a new processing status (only with the authority's token)."""
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


@roles(ROLE_ASSISTANT)
async def post_withdrawal(request: web.Request) -> web.Response:
    """The citizen withdraws: proven by a citizen assertion for the bPK2 of a logged-in
    submission, or by the idempotency key that only the submitting client knows."""
    case_number = _case_number(request)
    body = await read_json_object(request)
    store = request.app[STORE]
    application = await asyncio.to_thread(store.get, case_number)
    if application is None:
        raise ApiError(404, "not_found", "Es gibt keinen Antrag mit diesem Aktenzeichen.")
    key = body.get("idempotency_key")
    if application.citizen:
        allowed = _verified_citizen(request) == application.citizen
    else:
        allowed = isinstance(key, str) and await asyncio.to_thread(store.idempotency_key_matches, case_number, key)
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


@roles(ROLE_ASSISTANT)
async def get_postbox(request: web.Request) -> web.Response:
    citizen = _citizen(request)
    messages = await asyncio.to_thread(request.app[STORE].messages_for_citizen, citizen)
    return web.json_response({"messages": [m.to_json() for m in messages]})


def _digest(citizen: str) -> str:
    # The link carries sha256(bPK2), never the bPK2 itself (URLs end up in logs).
    return hashlib.sha256(citizen.encode("utf-8")).hexdigest()


@public
async def get_receipt(request: web.Request) -> web.Response:
    """The PDF Eingangsbestätigung behind a signed, expiring link issued by the chat."""
    try:
        claims = signing.verify(request.match_info["token"], RECEIPT_PURPOSE)
    except signing.InvalidToken:
        raise ApiError(403, "invalid_link", "Dieser Link ist ungültig oder abgelaufen.") from None
    application = await asyncio.to_thread(request.app[STORE].get, str(claims.get("cn")))
    # A link issued for a logged-in citizen opens only that citizen's application.
    if application is None or (claims.get("cit") and claims.get("cit") != _digest(application.citizen or "")):
        raise ApiError(403, "invalid_link", "Dieser Link ist ungültig oder abgelaufen.")
    proc = request.app[CATALOGUE].get(application.procedure)
    lang = receipt_pdf.language(claims.get("lang"))  # the chat's language (issue 20)
    pdf = await asyncio.to_thread(receipt_pdf.render, application, proc, lang)
    return web.Response(
        body=pdf,
        content_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{receipt_pdf.filename(application.case_number, lang)}"',
            "Cache-Control": "private, no-store",
        },
    )


@public
async def health(request: web.Request) -> web.Response:
    try:
        await asyncio.wait_for(asyncio.to_thread(request.app[STORE].ping), timeout=HEALTH_TIMEOUT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - any failure means "not healthy"
        logger.warning("health check failed: database unreachable (%s)", type(exc).__name__)
        return error_response(503, "database_unavailable", "Die Datenbank ist nicht erreichbar.")
    return web.json_response({"status": "ok"})


@public
async def openapi_document(request: web.Request) -> web.Response:
    return web.Response(body=OPENAPI_PATH.read_bytes(), content_type="application/yaml", charset="utf-8")


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
    credentials: Optional[Credentials] = None,
) -> web.Application:
    """The aiohttp application. ``database_url`` defaults to ``$PORTAL_DATABASE_URL``;
    ``fault_503_rate`` to ``$PORTAL_FAULT_503_RATE`` (0 = no injected faults); ``credentials``
    to ``PORTAL_API_TOKEN``, ``PORTAL_AUTHORITY_TOKEN`` and ``PORTAL_CITIZEN_KEY`` (raises
    ``ConfigurationError`` when they are missing: the API is never open)."""
    credentials = credentials if credentials is not None else Credentials.from_env()
    url = database_url or database_url_from_env()
    if fault_503_rate is None:
        fault_503_rate = float(get_settings().portal_fault_503_rate or 0)
    catalogue = catalogue if catalogue is not None else default_catalogue()
    if callback.PROCEDURE_ID not in catalogue:
        # Issue 19: call-back requests are applications too (catalogue/requests/rueckrufbitte.yaml).
        catalogue = Catalogue([*catalogue, callback.procedure()])

    def procedure_name(procedure_id: str) -> str:
        proc = catalogue.get(procedure_id)
        return proc.name if proc else procedure_id

    store_kwargs: dict[str, Any] = {"procedure_name": procedure_name}
    if case_number_factory:
        store_kwargs["case_number_factory"] = case_number_factory
    app = web.Application(
        middlewares=[
            logs.request_id_middleware,
            security_headers_middleware,
            error_middleware,
            auth_middleware,
            fault_injection_middleware,
        ],
        client_max_size=MAX_BODY_BYTES,
    )
    app[CREDENTIALS] = credentials
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
    app.router.add_get(RECEIPTS_PREFIX + "{token}", get_receipt)
    app.router.add_get("/health", health)
    app.router.add_get("/openapi.yaml", openapi_document)
    metrics.aiohttp_route(app)  # GET /metrics with BA_METRICS_TOKEN (its own token check)
    app.on_startup.append(_on_startup)
    app.on_cleanup.append(_on_cleanup)
    return app
