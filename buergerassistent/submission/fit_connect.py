"""FIT-Connect submission backend: applications over the federal submission route.

Flow per application (``docs/fit-connect.md``; API: FITKO Submission API v1, Routing API v1):

1. OAuth 2.0 client credentials → access token (cached until shortly before it expires).
2. ``GET {routing}/v1/routes?leikaKey=…&ars=…`` → the destination; its ``destinationSignature``
   (JWS, PS512, signed by the self-service portal, keys from ``FITCONNECT_SIGNATURE_JWKS_URL``)
   must name this destination, LeiKa key and regional key, else nothing is sent.
3. ``GET /v1/destinations/{id}`` and ``GET /v1/destinations/{id}/keys/{encryptionKid}``: RSA
   JWK, ``key_ops`` wrapKey, at least 4096 bit; the destination must accept our data schema:
   the JSON Schema derived from the procedure's FIM schema, else its XSD (``application/xml``);
   the data document (``data_document``) is built in that format and validated (jsonschema /
   xmlschema) before anything is sent. A catalogue entry without LeiKa key takes the operator's
   from ``FITCONNECT_LEIKA_KEYS``.
4. ``POST /v1/submissions`` (announce; the attachment ids to come) → submissionId, caseId,
   stored against our idempotency key BEFORE anything else is sent.
5. ``PUT /v1/submissions/{id}/attachments/{attachmentId}``: JWE compact, ``application/jose``.
6. ``PUT /v1/submissions/{id}`` with ``encryptedMetadata`` and ``encryptedData`` (JWE,
   ``RSA-OAEP-256``/``A256GCM`` via joserfc); the metadata are validated with ``jsonschema``
   against the FIT-Connect metadata schema 1.0.0 shipped in ``fit_connect_schema/``.

Exactly once: a retry of the same idempotency key continues the announced submission (same
submissionId) instead of announcing a new one; a send that already went through (the route
answers that the submission is no longer open, or its event log holds ``submit``) counts as
delivered. The outbox keeps the application until ``submit`` returns, i.e. until the route has
confirmed it.

Status: ``status_history(caseId)`` reads ``GET /v1/cases/{caseId}/events``; every Security Event
Token is verified (PS512; the submission service's keys from ``/.well-known/jwks.json``, the
destination's own signature keys for accept/reject) and mapped to our statuses.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Optional

import aiohttp
import jsonschema
from joserfc import jwe, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from buergerassistent import fim_mapping, nationality, regional_key
from buergerassistent.catalogue import Catalogue, Procedure, default_catalogue
from buergerassistent.settings import get_settings
from buergerassistent.storage import create_tables, make_engine
from buergerassistent.submission.portal_client import PortalRejected, PortalUnavailable, Receipt

logger = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent / "fit_connect_schema"
METADATA_SCHEMA_URI = "https://schema.fitko.de/fit-connect/metadata/1.0.0/metadata.schema.json"
LEIKA_URN = "urn:de:fim:leika:leistung:"
ARS_URN = "urn:de:bund:destatis:bevoelkerungsstatistik:schluessel:rs:"
EVENT_PREFIX = "https://schema.fitko.de/fit-connect/events/"
JSON, XML = "application/json", "application/xml"
JWE_REGISTRY = jwe.JWERegistry(algorithms=["RSA-OAEP-256", "A256GCM"])
SIGNATURE_ALGORITHMS = ["PS512"]
MIN_KEY_BITS = 4096
CALLBACK_MAX_AGE_S = 300
JWKS_TTL_S = 300
# One HTTP session per submit/status call (per asyncio task), closed at its end: the backend
# object itself is shared by concurrent deliveries and outlives event loops in tests.
_SESSION: ContextVar[Optional[aiohttp.ClientSession]] = ContextVar("fit_connect_session", default=None)

# Security Event Tokens → our application statuses (portal_backend/db.py STATUSES).
EVENT_STATUS = {
    "submit": ("eingegangen", "Über FIT-Connect eingereicht."),
    "forward": ("eingegangen", "An die zuständige Behörde weitergeleitet."),
    "accept": ("in_bearbeitung", "Von der Behörde angenommen."),
    "reject": ("abgelehnt", "Von der Behörde zurückgewiesen."),
}

UNKNOWN_REGION = (
    "Für diese Anschrift kann ich die zuständige Behörde nicht sicher bestimmen. "
    "Deshalb habe ich den Antrag nicht versendet. Bitte prüfen Sie Postleitzahl und Ort."
)

metadata = MetaData(info={"store": "fitconnect"})  # its schema: migrations/versions/fitconnect
fit_submissions = Table(
    "fitconnect_submission",
    metadata,
    # Our idempotency key (= outbox id).
    Column("idempotency_key", String(200), primary_key=True),
    Column("procedure", String(100), nullable=False),
    Column("destination_id", String(64), nullable=False),
    Column("submission_id", String(64), nullable=False),
    Column("case_id", String(64), nullable=False, index=True),
    # JSON list of the announced attachment ids (strings).
    Column("attachment_ids", String(2000), nullable=False),
    Column("announced_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=True),
)


@cache
def metadata_schema() -> dict:
    return json.loads((SCHEMA_DIR / "metadata.schema.v1.0.0.json").read_text(encoding="utf-8"))


def validate_metadata(meta: dict) -> None:
    """Raises ``jsonschema.ValidationError`` when ``meta`` violates the metadata schema."""
    jsonschema.Draft202012Validator(
        metadata_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    ).validate(meta)


def parse_leika_keys(text: str) -> dict[str, str]:
    """``FITCONNECT_LEIKA_KEYS``: ``id=key,id=key`` → {id: key}; a key is 14 digits."""
    keys: dict[str, str] = {}
    for item in (text or "").split(","):
        if not item.strip():
            continue
        procedure, _, key = item.partition("=")
        procedure, key = procedure.strip(), key.strip()
        if not procedure or not (key.isdigit() and len(key) == 14):
            raise ValueError(f"FITCONNECT_LEIKA_KEYS: {item.strip()!r} is not <procedure>=<14-digit LeiKa key>")
        keys[procedure] = key
    return keys


def sha512(data: bytes) -> str:
    return hashlib.sha512(data).hexdigest()


def encrypt(plaintext: bytes, key: RSAKey, kid: str, cty: str) -> str:
    """JWE compact serialisation, RSA-OAEP-256 / A256GCM, for one destination key."""
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "kid": kid, "cty": cty}
    return jwe.encrypt_compact(header, plaintext, key, registry=JWE_REGISTRY)


def key_bits(jwk: dict) -> int:
    n = jwk.get("n") or ""
    return len(base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))) * 8


def verify_callback(body: bytes, timestamp: str, signature: str, secret: str, now: Optional[float] = None) -> bool:
    """FIT-Connect callback check: ``callback-authentication`` = HMAC-SHA512 (hex) over
    ``timestamp.body`` with the callback secret; older than 5 minutes → refused."""
    try:
        age = (now if now is not None else time.time()) - int(timestamp)
    except (TypeError, ValueError):
        return False
    if not secret or age > CALLBACK_MAX_AGE_S or age < -60:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha512).hexdigest()
    return hmac.compare_digest(expected, signature or "")


@dataclass
class Stored:
    idempotency_key: str
    procedure: str
    destination_id: str
    submission_id: str
    case_id: str
    attachment_ids: list[str]
    sent_at: Optional[datetime]


class SubmissionStore:
    """Our idempotency key → the announced FIT-Connect submission (same database as the outbox)."""

    def __init__(self, engine: Engine):
        self.engine = engine
        create_tables(metadata, engine)

    def get(self, key: str) -> Optional[Stored]:
        with self.engine.connect() as conn:
            row = conn.execute(select(fit_submissions).where(fit_submissions.c.idempotency_key == key)).first()
        return None if row is None else self._stored(row)

    def by_case(self, case_id: str) -> Optional[Stored]:
        with self.engine.connect() as conn:
            row = conn.execute(select(fit_submissions).where(fit_submissions.c.case_id == case_id)).first()
        return None if row is None else self._stored(row)

    @staticmethod
    def _stored(row: Any) -> Stored:
        return Stored(
            row.idempotency_key,
            row.procedure,
            row.destination_id,
            row.submission_id,
            row.case_id,
            json.loads(row.attachment_ids),
            row.sent_at,
        )

    def add(self, stored: Stored) -> Stored:
        """Stores the announcement; when another process stored one first, that one stands."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(fit_submissions).values(
                        idempotency_key=stored.idempotency_key,
                        procedure=stored.procedure,
                        destination_id=stored.destination_id,
                        submission_id=stored.submission_id,
                        case_id=stored.case_id,
                        attachment_ids=json.dumps(stored.attachment_ids),
                        announced_at=datetime.now(timezone.utc),
                    )
                )
        except IntegrityError:
            pass
        found = self.get(stored.idempotency_key)
        assert found is not None
        return found

    def forget(self, key: str) -> None:
        """The route no longer knows the unsent submission (expired): announce anew next time."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(fit_submissions)
                .where(fit_submissions.c.idempotency_key == key)
                .where(fit_submissions.c.sent_at.is_(None))
            )

    def mark_sent(self, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(fit_submissions)
                .where(fit_submissions.c.idempotency_key == key)
                .values(sent_at=datetime.now(timezone.utc))
            )


class FitConnectError(PortalUnavailable):
    """Worth retrying, but the operator must look (configuration, signatures, keys)."""


class FitConnectBackend:
    name = "fit-connect"

    def __init__(
        self,
        *,
        store: Optional[SubmissionStore] = None,
        catalogue: Optional[Catalogue] = None,
        fim_dir: Path = fim_mapping.FIM_DIR,
        ars_table: Optional[list[regional_key.Municipality]] = None,
        submission_url: Optional[str] = None,
        routing_url: Optional[str] = None,
        token_url: Optional[str] = None,
        signature_jwks_url: Optional[str] = None,
        client_id: Optional[str] = None,
        client_secret: Optional[str] = None,
        timeout_s: Optional[float] = None,
        leika_keys: Optional[str] = None,
    ):
        settings = get_settings()
        self.submission_url = (submission_url or settings.fitconnect_submission_url).rstrip("/")
        self.routing_url = (routing_url or settings.fitconnect_routing_url).rstrip("/")
        self.token_url = token_url or settings.fitconnect_token_url
        self.signature_jwks_url = signature_jwks_url or settings.fitconnect_signature_jwks_url
        self.client_id = client_id or settings.fitconnect_client_id
        self.client_secret = client_secret or settings.fitconnect_client_secret
        self.timeout_s = timeout_s or settings.fitconnect_timeout_s
        self.leika_keys = parse_leika_keys(settings.fitconnect_leika_keys if leika_keys is None else leika_keys)
        missing = [
            name
            for name, value in (
                ("FITCONNECT_SUBMISSION_URL", self.submission_url),
                ("FITCONNECT_ROUTING_URL", self.routing_url),
                ("FITCONNECT_TOKEN_URL", self.token_url),
                ("FITCONNECT_SIGNATURE_JWKS_URL", self.signature_jwks_url),
                ("FITCONNECT_CLIENT_ID", self.client_id),
                ("FITCONNECT_CLIENT_SECRET", self.client_secret),
            )
            if not value
        ]
        if missing:
            raise ValueError("FIT-Connect is not configured: " + ", ".join(missing) + " (docs/fit-connect.md)")
        if store is None:
            from buergerassistent.submission.outbox import default_url

            store = SubmissionStore(make_engine(default_url()))
        self.store = store
        self.catalogue = catalogue or default_catalogue()
        self.fim_dir = fim_dir
        self.ars_table = ars_table
        self._token: Optional[tuple[str, float]] = None
        self._jwks_cache: dict[str, tuple[KeySet, float]] = {}

    # ------------------------------------------------------------------ checks

    def check_procedure(self, procedure: str) -> tuple[Procedure, fim_mapping.Mapping]:
        """The procedure and its FIM mapping; ``ValueError`` when it cannot go via FIT-Connect."""
        proc = self.catalogue.get(procedure)
        if proc is None:
            raise ValueError(f"unknown procedure {procedure!r}")
        if not proc.leika:
            if procedure not in self.leika_keys:
                raise ValueError(
                    f"{procedure}: no LeiKa key in the catalogue and none in FITCONNECT_LEIKA_KEYS, "
                    "cannot be routed over FIT-Connect"
                )
            proc = dataclasses.replace(proc, leika=self.leika_keys[procedure])
        mapping = fim_mapping.mapping_for(proc, directory=self.fim_dir)
        coded = [p for p in mapping.paths.values() if mapping.node(p).codelist in fim_mapping.CODE_LISTS]
        if coded and nationality.loaded_table() is None:
            # Honest state: the destination may refuse a name where its schema wants a code.
            logger.warning("%s: %s", procedure, nationality.status())
        return proc, mapping

    # ------------------------------------------------------------------ HTTP

    @asynccontextmanager
    async def _opened(self):
        if _SESSION.get() is not None:
            yield
            return
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as session:
            token = _SESSION.set(session)
            try:
                yield
            finally:
                _SESSION.reset(token)

    async def _http(self) -> aiohttp.ClientSession:
        session = _SESSION.get()
        if session is None:
            raise RuntimeError("FitConnectBackend: HTTP outside of submit/status_history")
        return session

    async def close(self) -> None:
        """Nothing to close (sessions live per call); kept for callers that tidy up."""

    async def _access_token(self, renew: bool = False) -> str:
        if self._token and not renew and self._token[1] > time.monotonic():
            return self._token[0]
        session = await self._http()
        data = {"grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.client_secret}
        try:
            async with session.post(self.token_url, data=data) as resp:
                body = await resp.json(content_type=None)
                if resp.status != 200 or not isinstance(body, dict) or "access_token" not in body:
                    if resp.status in (400, 401):
                        logger.error("FIT-Connect refused our client credentials (HTTP %d)", resp.status)
                    raise FitConnectError(f"token endpoint HTTP {resp.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise PortalUnavailable(f"token endpoint: {type(exc).__name__}") from exc
        lifetime = float(body.get("expires_in") or 300)
        self._token = (body["access_token"], time.monotonic() + max(lifetime - 30, lifetime / 2))
        return self._token[0]

    async def _call(
        self, method: str, url: str, *, json_body: Any = None, data: Optional[str] = None, content_type: str = ""
    ) -> tuple[int, Any]:
        """One authorised request; 5xx, 429, network and timeouts raise ``PortalUnavailable``."""
        for attempt in (1, 2):
            token = await self._access_token(renew=attempt == 2)
            headers = {"Authorization": f"Bearer {token}"}
            if content_type:
                headers["Content-Type"] = content_type
            session = await self._http()
            try:
                async with session.request(method, url, json=json_body, data=data, headers=headers) as resp:
                    raw = await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                raise PortalUnavailable(f"{method} {_path(url)}: {type(exc).__name__}") from exc
            if status == 401 and attempt == 1:
                continue  # token expired early: renew once
            if status >= 500 or status in (401, 429):
                raise PortalUnavailable(f"{method} {_path(url)}: HTTP {status}")
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", "replace")
            return status, body
        raise PortalUnavailable("unreachable")  # pragma: no cover

    async def _jwks(self, url: str) -> KeySet:
        """A published key set, cached for ``JWKS_TTL_S`` (a key not in it forces a refetch)."""
        cached = self._jwks_cache.get(url)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        keys = await self._fetch_jwks(url)
        self._jwks_cache[url] = (keys, time.monotonic() + JWKS_TTL_S)
        return keys

    async def _fetch_jwks(self, url: str) -> KeySet:
        session = await self._http()
        try:
            async with session.get(url) as resp:
                if resp.status != 200:
                    raise PortalUnavailable(f"JWKS {_path(url)}: HTTP {resp.status}")
                return KeySet.import_key_set(await resp.json(content_type=None))
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise PortalUnavailable(f"JWKS {_path(url)}: {type(exc).__name__}") from exc

    # ------------------------------------------------------------------ routing

    async def route(self, leika: str, ars: str) -> str:
        """The destination id for LeiKa key and ARS, after checking its signature."""
        status, body = await self._call("GET", f"{self.routing_url}/v1/routes?leikaKey={leika}&ars={ars}")
        routes = (body or {}).get("routes") if isinstance(body, dict) else None
        if status != 200 or not routes:
            if status in (200, 404):
                logger.error("FIT-Connect knows no destination for LeiKa %s and ARS %s", leika, ars)
            raise FitConnectError(f"no route (HTTP {status})")
        route = routes[0]
        try:
            token = await self._decode_signed(route["destinationSignature"], self.signature_jwks_url)
        except (JoseError, KeyError, ValueError) as exc:
            logger.error("destinationSignature of route %s invalid: %s", route.get("destinationId"), exc)
            raise FitConnectError("destination signature invalid") from exc
        claims = token.claims
        services = claims.get("services") or []
        leika_ok = any(LEIKA_URN + leika in s.get("leistungIDs", []) for s in services)
        region_ok = any(ARS_URN + ars in s.get("gebietIDs", []) for s in services)
        if claims.get("destinationId") != route.get("destinationId") or not (leika_ok and region_ok):
            logger.error("destinationSignature does not cover destination/LeiKa/ARS of the route")
            raise FitConnectError("destination signature does not match the route")
        return route["destinationId"]

    async def _decode_signed(self, token: str, jwks_url: str):
        """Verifies with the cached key set; after a failure once more with a fresh one (keys
        rotate)."""
        try:
            return jwt.decode(token, await self._jwks(jwks_url), algorithms=SIGNATURE_ALGORITHMS)
        except (JoseError, ValueError):
            self._jwks_cache.pop(jwks_url, None)
            return jwt.decode(token, await self._jwks(jwks_url), algorithms=SIGNATURE_ALGORITHMS)

    async def destination_key(
        self, destination_id: str, mapping: fim_mapping.Mapping, service: str
    ) -> tuple[RSAKey, str, str]:
        """The destination's encryption key, its kid and the data format it declares for the
        service: ``application/json`` (our JSON Schema URI) if listed, else ``application/xml``
        (our XSD URI)."""
        status, dest = await self._call("GET", f"{self.submission_url}/v1/destinations/{destination_id}")
        if status != 200 or not isinstance(dest, dict):
            raise FitConnectError(f"destination HTTP {status}")
        if dest.get("status") != "active":
            raise FitConnectError(f"destination {destination_id} is {dest.get('status')}")
        schemas = [
            s
            for svc in dest.get("services") or []
            if svc.get("identifier") == service
            for s in svc.get("submissionSchemas") or []
        ]
        offered = {(s.get("schemaUri"), s.get("mimeType")) for s in schemas}
        if (mapping.schema.uri, JSON) in offered:
            mime = JSON
        elif (mapping.xml_uri, XML) in offered:
            mime = XML
        else:
            logger.error(
                "destination %s accepts neither %s (JSON) nor %s (XML) for %s",
                destination_id,
                mapping.schema.uri,
                mapping.xml_uri,
                service,
            )
            raise FitConnectError("destination does not accept our data schema")
        kid = dest.get("encryptionKid")
        status, jwk = await self._call("GET", f"{self.submission_url}/v1/destinations/{destination_id}/keys/{kid}")
        if status != 200 or not isinstance(jwk, dict):
            raise FitConnectError(f"destination key HTTP {status}")
        if (
            jwk.get("kty") != "RSA"
            or "wrapKey" not in (jwk.get("key_ops") or [])
            or jwk.get("alg") not in (None, "RSA-OAEP-256")
        ):
            raise FitConnectError("destination key is not an RSA wrapKey key for RSA-OAEP-256")
        if key_bits(jwk) < MIN_KEY_BITS:
            raise FitConnectError(f"destination key has {key_bits(jwk)} bit, at least {MIN_KEY_BITS} required")
        public = {k: jwk[k] for k in ("kty", "n", "e")}
        return RSAKey.import_key(public), str(kid), mime

    # ------------------------------------------------------------------ submit

    async def submit(
        self,
        procedure: str,
        data: dict[str, str],
        idempotency_key: str,
        citizen: Optional[str] = None,
    ) -> Receipt:
        async with self._opened():
            return await self._submit(procedure, data, idempotency_key)

    async def _submit(self, procedure: str, data: dict[str, str], idempotency_key: str) -> Receipt:
        try:
            proc, mapping = self.check_procedure(procedure)
        except (ValueError, fim_mapping.MappingError) as exc:
            logger.error("FIT-Connect cannot take %s: %s", procedure, exc)
            raise FitConnectError("procedure not ready for FIT-Connect") from None
        postcode_field = next((f.name for f in proc.fields if f.type == "postcode"), "plz")
        city_field = next((f.name for f in proc.fields if f.type == "city"), "ort")
        place = regional_key.lookup(data.get(postcode_field), data.get(city_field), self.ars_table)
        if place is None:
            # Honest and final: nothing was (or will be) sent anywhere.
            raise PortalRejected(
                message=UNKNOWN_REGION, fields={postcode_field: UNKNOWN_REGION}, error="unknown_region"
            )
        attachments = [("antrag.pdf", "application/pdf", "form", form_pdf(proc, data))]
        service = LEIKA_URN + proc.leika

        stored = await asyncio.to_thread(self.store.get, idempotency_key)
        if stored is not None and stored.sent_at is not None:
            # Sent before; only the outbox did not record it yet.
            return Receipt(stored.case_id, "eingegangen", _now_iso(), procedure)
        destination_id = stored.destination_id if stored else await self.route(proc.leika, place.ars)
        key, kid, mime = await self.destination_key(destination_id, mapping, service)
        payload = data_document(procedure, mapping, data, mime)
        if stored is None:
            wanted = [str(uuid.uuid4()) for _ in attachments]
            status, body = await self._call(
                "POST",
                f"{self.submission_url}/v1/submissions",
                json_body={
                    "destinationId": destination_id,
                    "announcedAttachments": wanted,
                    "serviceType": {"name": proc.name, "identifier": service},
                },
            )
            if status != 201 or not isinstance(body, dict) or "submissionId" not in body:
                raise self._refused(status, body, "announce")
            stored = await asyncio.to_thread(
                self.store.add,
                Stored(idempotency_key, procedure, destination_id, body["submissionId"], body["caseId"], wanted, None),
            )
        await self._send(stored, proc, attachments, (payload, mime), key, kid, mapping, idempotency_key)
        return Receipt(case_number=stored.case_id, status="eingegangen", received_at=_now_iso(), procedure=procedure)

    async def _send(self, stored, proc, attachments, data, key, kid, mapping, idempotency_key) -> None:
        payload, data_mime = data
        schema_uri = mapping.schema.uri if data_mime == JSON else mapping.xml_uri
        described = []
        for attachment_id, (filename, mime, purpose, content) in zip(stored.attachment_ids, attachments, strict=True):
            status, body = await self._call(
                "PUT",
                f"{self.submission_url}/v1/submissions/{stored.submission_id}/attachments/{attachment_id}",
                data=encrypt(content, key, kid, mime),
                content_type="application/jose",
            )
            if status == 404:
                await self._expired(stored)
            if status not in (200, 204) and not self._already_submitted(status, body):
                raise self._refused(status, body, "attachment")
            described.append(
                {
                    "attachmentId": attachment_id,
                    "hash": {"type": "sha512", "content": sha512(content)},
                    "purpose": purpose,
                    "filename": filename,
                    "mimeType": mime,
                }
            )
        meta = {
            "$schema": METADATA_SCHEMA_URI,
            "publicServiceType": {"name": proc.name, "identifier": LEIKA_URN + proc.leika},
            "contentStructure": {
                "data": {
                    "hash": {"type": "sha512", "content": sha512(payload)},
                    "submissionSchema": {"schemaUri": schema_uri, "mimeType": data_mime},
                },
                "attachments": described,
            },
            "additionalReferenceInfo": {
                "senderReference": idempotency_key,
                "applicationDate": datetime.now(timezone.utc).date().isoformat(),
            },
        }
        try:
            validate_metadata(meta)
        except jsonschema.ValidationError as exc:
            logger.error("metadata for %s invalid: %s", proc.id, exc.message)
            raise FitConnectError("metadata invalid") from None
        status, body = await self._call(
            "PUT",
            f"{self.submission_url}/v1/submissions/{stored.submission_id}",
            json_body={
                "encryptedMetadata": encrypt(json.dumps(meta).encode(), key, kid, "application/json"),
                "encryptedData": encrypt(payload, key, kid, data_mime),
            },
        )
        if status == 404:
            await self._expired(stored)
        if status not in (200, 202):
            if not (self._already_submitted(status, body) and await self._has_submit_event(stored.case_id)):
                raise self._refused(status, body, "send")
        await asyncio.to_thread(self.store.mark_sent, stored.idempotency_key)

    async def _expired(self, stored: Stored) -> None:
        # An unsent submission the route dropped was never delivered: start over next time.
        logger.warning("announced submission of %s no longer known to the route", stored.idempotency_key[:8])
        await asyncio.to_thread(self.store.forget, stored.idempotency_key)
        raise PortalUnavailable("announced submission expired")

    @staticmethod
    def _already_submitted(status: int, body: Any) -> bool:
        kind = body.get("type", "") if isinstance(body, dict) else ""
        return status == 409 or kind.endswith("/submission-state-invalid")

    async def _has_submit_event(self, case_id: str) -> bool:
        events = await self._verified_events(case_id)
        return any(name == "submit" for name, _, _ in events)

    @staticmethod
    def _refused(status: int, body: Any, step: str) -> Exception:
        """Problem details (RFC 7807) of a 4xx: final for this application; else retry."""
        if 400 <= status < 500 and status not in (401, 409, 429):
            detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
            logger.error(
                "FIT-Connect refused the %s step: HTTP %d %s",
                step,
                status,
                (body or {}).get("type") if isinstance(body, dict) else "",
            )
            return PortalRejected(
                message="Die Übermittlungsstelle FIT-Connect hat den Antrag nicht angenommen.",
                fields={},
                error=str(detail or f"HTTP {status}")[:200],
            )
        return PortalUnavailable(f"{step}: HTTP {status}")

    # ------------------------------------------------------------------ status

    async def _verified_events(self, case_id: str) -> list[tuple[str, int, dict]]:
        """(event name, issued at, claims) of every event whose signature checks out."""
        status, body = await self._call("GET", f"{self.submission_url}/v1/cases/{case_id}/events")
        if status == 404:
            return []
        if status != 200 or not isinstance(body, dict):
            raise PortalUnavailable(f"event log HTTP {status}")
        out = []
        for token in body.get("eventLog") or []:
            try:
                header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
                unverified = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
            except (ValueError, IndexError):
                logger.warning("event of case %s is not a JWT; ignored", case_id[:8])
                continue
            if header.get("typ") != "secevent+jwt" or header.get("alg") not in SIGNATURE_ALGORITHMS:
                logger.warning("event of case %s has a wrong header; ignored", case_id[:8])
                continue
            issuer = str(unverified.get("iss") or "")
            try:
                if _is_uuid(issuer):
                    keys = await self._destination_signing_keys(issuer, header.get("kid"))
                    claims = jwt.decode(token, keys, algorithms=SIGNATURE_ALGORITHMS).claims
                else:
                    jwks_url = f"{self.submission_url}/.well-known/jwks.json"
                    claims = (await self._decode_signed(token, jwks_url)).claims
            except (JoseError, ValueError) as exc:
                logger.warning("event signature of case %s invalid (%s); ignored", case_id[:8], type(exc).__name__)
                continue
            events = claims.get("events") or {}
            if claims.get("txn") != f"case:{case_id}" or len(events) != 1:
                logger.warning("event of case %s names another case; ignored", case_id[:8])
                continue
            uri = next(iter(events))
            if not uri.startswith(EVENT_PREFIX):
                continue
            out.append((uri[len(EVENT_PREFIX) :], int(claims.get("iat") or 0), events[uri] or {}))
        return sorted(out, key=lambda e: e[1])

    async def _destination_signing_keys(self, destination_id: str, kid: Optional[str]) -> KeySet:
        status, jwk = await self._call("GET", f"{self.submission_url}/v1/destinations/{destination_id}/keys/{kid}")
        if status != 200 or not isinstance(jwk, dict) or "verify" not in (jwk.get("key_ops") or []):
            return KeySet([])
        return KeySet.import_key_set({"keys": [dict(jwk, kid=kid)]})

    async def status_history(self, case_number: str) -> Optional[dict]:
        """``{case_number, procedure, status, history: [{status, at, note}]}`` or ``None``
        (same shape as ``PortalClient.status_history``), from the case's verified events."""
        stored = await asyncio.to_thread(self.store.by_case, case_number)
        if stored is None:
            return None
        async with self._opened():
            events = await self._verified_events(case_number)
        history = []
        for name, issued, details in events:
            if name not in EVENT_STATUS:
                continue
            status, note = EVENT_STATUS[name]
            if name == "reject" and details.get("problems"):
                note += " " + "; ".join(str(p.get("detail") or p.get("title")) for p in details["problems"])[:300]
            at = datetime.fromtimestamp(issued, timezone.utc).isoformat()
            if history and history[-1]["status"] == status and name != "reject":
                continue  # forwarded after submitted: still "eingegangen"
            history.append({"status": status, "at": at, "note": note})
        if not history:
            return None
        return {
            "case_number": case_number,
            "procedure": stored.procedure,
            "status": history[-1]["status"],
            "history": history,
        }


def data_document(procedure: str, mapping: fim_mapping.Mapping, data: dict[str, str], mime: str) -> bytes:
    """The data document in the destination's format, validated against its schema (JSON
    Schema or XSD derived from the FIM schema) before anything is encrypted and sent."""
    import xmlschema

    try:
        if mime == XML:
            payload = mapping.xml_document(data)
            mapping.validate_xml(payload)
            return payload
        document = mapping.document(data)
        mapping.validate_json(document)
        return json.dumps(document, ensure_ascii=False, sort_keys=True).encode("utf-8")
    except jsonschema.ValidationError as exc:
        # Never the message: it quotes the citizen's value. Rule and place only.
        rule, where = exc.validator, "/".join(str(p) for p in exc.absolute_path)
    except xmlschema.XMLSchemaValidationError as exc:
        rule, where = type(exc).__name__, getattr(exc, "path", "") or ""
    logger.error(
        "data document (%s) of %s violates FIM schema %s: %s at %s", mime, procedure, mapping.schema.id, rule, where
    )
    raise FitConnectError("data document invalid")


def form_pdf(proc: Procedure, data: dict[str, str]) -> bytes:
    """The form as the citizen confirmed it, as PDF (attachment purpose ``form``)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    font_dir = get_settings().receipt_font_dir
    regular, bold = font_dir / "DejaVuSans.ttf", font_dir / "DejaVuSans-Bold.ttf"
    unicode = regular.exists() and bold.exists()
    if unicode:
        pdf.add_font("Text", "", str(regular))
        pdf.add_font("Text", "B", str(bold))
    family = "Text" if unicode else "Helvetica"

    def clean(text: str) -> str:
        return text if unicode else text.encode("latin-1", "replace").decode("latin-1")

    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=timezone.utc))  # same bytes on a retry
    pdf.add_page()
    pdf.set_font(family, "B", 14)
    pdf.multi_cell(0, 8, clean(f"Antrag: {proc.name}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 11)
    pdf.ln(4)
    for f in proc.fields:
        if data.get(f.name) not in (None, ""):
            pdf.multi_cell(0, 6, clean(f"{f.label}: {data[f.name]}"), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _path(url: str) -> str:
    # Never log query strings or hosts with credentials; the path names the step.
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?")[0]


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()
