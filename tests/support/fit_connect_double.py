"""A local TEST DOUBLE of FIT-Connect (OAuth token endpoint, Routing API, Submission API).

FIT-Connect's test environment is not reachable from this project's machines, so the adapter
(``buergerassistent/submission/fit_connect.py``) is tested against this aiohttp server. It is
NOT FIT-Connect: it implements only the paths the adapter uses, as published by FITKO
(Submission API v1, Routing API v1, docs.fitko.de/fit-connect):

* ``POST /token`` – OAuth 2.0 client credentials (form encoded), bearer tokens that expire;
* ``GET /v1/routes?leikaKey&ars`` – routes with a ``destinationSignature`` (JWS PS512, signed by
  the "self-service portal" key published at ``/ssp/.well-known/jwks.json``);
* ``GET /v1/destinations/{id}`` and ``…/keys/{kid}`` – the destination, its RSA-4096 encryption
  key (wrapKey) and its signature key (verify);
* ``POST /v1/submissions``, ``PUT /v1/submissions/{id}/attachments/{aid}``,
  ``PUT /v1/submissions/{id}``;
* ``GET /v1/cases/{caseId}/events`` – Security Event Tokens (PS512, ``typ secevent+jwt``):
  submit and forward signed by the "submission service" (keys at ``/.well-known/jwks.json``),
  accept/reject signed by the destination.

What it checks like the real route would as the destination: it DECRYPTS every JWE with the
destination's private key, validates the metadata against the FIT-Connect metadata schema,
compares the SHA-512 hashes of data and attachments and requires every announced attachment;
a destination given a data schema (``data_schema``: a JSON Schema, or an XSD for
``mime="application/xml"``) validates the decrypted data document against it and rejects the
submission (``reject`` event) when it does not fit, as a receiving authority would.
Faults on demand: ``fail_rate`` (HTTP 503; half of them after the request took effect),
``slow_rate`` (answers after ``slow_s``, i.e. a client timeout; half after taking effect),
``reject`` (the destination rejects every submission), ``tamper_route`` (a wrong signature).

As a process (for benchmarks): ``PYTHONPATH=. python tests/support/fit_connect_double.py --port P
--leika … --ars … --schema-uri … --client-secret … [--mime … --data-schema FILE]``;
``GET /_double/stats`` tells what reached the destination, ``GET /_double/submissions`` the
decrypted metadata and data documents (test only; a real route never shows them).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import random
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Optional

import jsonschema
from aiohttp import web
from joserfc import jwe, jwt
from joserfc.jwk import RSAKey

from buergerassistent.submission.fit_connect import (
    ARS_URN,
    EVENT_PREFIX,
    JWE_REGISTRY,
    LEIKA_URN,
    metadata_schema,
)

CLIENT_ID = "sender-client-id"


@dataclass
class Submission:
    submission_id: str
    case_id: str
    destination_id: str
    service: str
    announced: list[str]
    attachments: dict[str, bytes] = field(default_factory=dict)
    submitted: bool = False
    metadata: Optional[dict] = None
    data: Optional[dict] = None
    data_raw: bytes = b""
    events: list[str] = field(default_factory=list)


@dataclass
class Destination:
    destination_id: str
    leika: str
    ars: str
    schema_uri: str
    encryption_key: RSAKey
    signing_key: RSAKey
    mime: str = "application/json"
    data_schema: Any = None  # JSON Schema (dict) or XSD (str) the destination validates with
    encryption_kid: str = "enc-1"
    signing_kid: str = "sig-1"
    status: str = "active"


class FitConnectDouble:
    def __init__(self, *, encryption_bits: int = 4096, client_secret: Optional[str] = None):
        self.client_secret = client_secret or secrets.token_urlsafe(16)
        self.ssp_key = RSAKey.generate_key(2048, parameters={"kid": "ssp-1"})
        self.service_key = RSAKey.generate_key(2048, parameters={"kid": "sub-1"})
        self.encryption_bits = encryption_bits
        self.destinations: dict[str, Destination] = {}
        self.submissions: dict[str, Submission] = {}
        self.tokens: dict[str, float] = {}
        self.fail_rate = 0.0
        self.slow_rate = 0.0
        self.slow_s = 3.0
        self.reject = False
        self.tamper_route = False
        self.accept = True
        self.requests: list[tuple[str, str]] = []
        # One-off faults: (method, path regex, "lost" | "slow"); each fires once.
        self.fail_once: list[tuple[str, str, str]] = []
        self.problems: list[str] = []  # what the destination found wrong (tests read it)
        self.base_url = ""

    # ------------------------------------------------------------------ setup

    def sender_settings(self) -> dict[str, Any]:
        """Where and as whom a sender (``FitConnectBackend``) reaches this double, once it serves."""
        return {
            "submission_url": self.base_url,
            "routing_url": self.base_url,
            "token_url": self.base_url + "/token",
            "signature_jwks_url": self.base_url + "/ssp/.well-known/jwks.json",
            "client_id": CLIENT_ID,
            "client_secret": self.client_secret,
        }

    def add_destination(
        self, leika: str, ars: str, schema_uri: str, *, mime: str = "application/json", data_schema: Any = None
    ) -> Destination:
        dest = Destination(
            destination_id=str(uuid.uuid4()),
            leika=leika,
            ars=ars,
            schema_uri=schema_uri,
            mime=mime,
            data_schema=data_schema,
            encryption_key=RSAKey.generate_key(self.encryption_bits),
            signing_key=RSAKey.generate_key(2048),
        )
        self.destinations[dest.destination_id] = dest
        return dest

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._faults])
        r = app.router
        r.add_post("/token", self.token)
        r.add_get("/.well-known/jwks.json", self.service_jwks)
        r.add_get("/ssp/.well-known/jwks.json", self.ssp_jwks)
        r.add_get("/v1/routes", self.routes)
        r.add_get("/v1/destinations/{id}", self.destination)
        r.add_get("/v1/destinations/{id}/keys/{kid}", self.destination_key)
        r.add_post("/v1/submissions", self.announce)
        r.add_put("/v1/submissions/{id}/attachments/{aid}", self.attachment)
        r.add_put("/v1/submissions/{id}", self.send)
        r.add_get("/v1/cases/{case}/events", self.events)
        r.add_get("/_double/stats", self.stats)
        r.add_get("/_double/submissions", self.submitted)
        return app

    # ------------------------------------------------------------------ faults

    @web.middleware
    async def _faults(self, request: web.Request, handler):
        self.requests.append((request.method, request.path))
        if request.path.startswith("/_double") or request.path.endswith("jwks.json"):
            return await handler(request)
        for planned in list(self.fail_once):
            method, prefix, kind = planned
            if request.method == method and re.fullmatch(prefix, request.path):
                self.fail_once.remove(planned)
                response = await handler(request)  # takes effect; the client never learns it
                if kind == "slow":
                    await asyncio.sleep(self.slow_s)
                    return response
                return web.json_response({"type": "about:blank", "title": "Service Unavailable"}, status=503)
        roll = random.random()
        if roll < self.fail_rate:
            if random.random() < 0.5:
                await handler(request)  # took effect, but the answer is lost
            return web.json_response({"type": "about:blank", "title": "Service Unavailable"}, status=503)
        if roll < self.fail_rate + self.slow_rate:
            if random.random() < 0.5:
                response = await handler(request)
                await asyncio.sleep(self.slow_s)
                return response
            await asyncio.sleep(self.slow_s)
        return await handler(request)

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization", "")
        expires = self.tokens.get(auth.removeprefix("Bearer "))
        return bool(expires and expires > time.monotonic())

    @staticmethod
    def _problem(status: int, kind: str, detail: str) -> web.Response:
        return web.json_response(
            {
                "type": f"https://schema.fitko.de/fit-connect/submission-api/problems/{kind}",
                "title": kind,
                "detail": detail,
            },
            status=status,
            content_type="application/problem+json",
        )

    # ------------------------------------------------------------------ OAuth, keys

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return web.json_response({"error": "unsupported_grant_type"}, status=400)
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + 1800
        return web.json_response({"access_token": token, "token_type": "Bearer", "expires_in": 1800})

    async def service_jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self._public(self.service_key, "sub-1", "verify")]})

    async def ssp_jwks(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": [self._public(self.ssp_key, "ssp-1", "verify")]})

    @staticmethod
    def _public(key: RSAKey, kid: str, op: str) -> dict:
        alg = "RSA-OAEP-256" if op == "wrapKey" else "PS512"
        return dict(key.as_dict(private=False), kid=kid, key_ops=[op], alg=alg)

    # ------------------------------------------------------------------ routing

    async def routes(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        leika, ars = request.query.get("leikaKey", ""), request.query.get("ars", "")
        found = [d for d in self.destinations.values() if d.leika == leika and d.ars == ars]
        routes = []
        for dest in found:
            claims = {
                "iss": self.base_url + "/ssp",
                "iat": int(time.time()),
                "jti": str(uuid.uuid4()),
                "destinationId": dest.destination_id,
                "submissionHost": self.base_url.split("://")[-1],
                "services": [{"gebietIDs": [ARS_URN + dest.ars], "leistungIDs": [LEIKA_URN + dest.leika]}],
            }
            signer = RSAKey.generate_key(2048) if self.tamper_route else self.ssp_key
            token = jwt.encode({"alg": "PS512", "kid": "ssp-1"}, claims, signer, algorithms=["PS512"])
            routes.append(
                {"destinationId": dest.destination_id, "destinationSignature": token, "destinationName": "Testbehörde"}
            )
        return web.json_response({"count": len(routes), "offset": 0, "totalCount": len(routes), "routes": routes})

    async def destination(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        dest = self.destinations.get(request.match_info["id"])
        if dest is None:
            return self._problem(404, "destination-not-found", "unknown destination")
        return web.json_response(
            {
                "destinationId": dest.destination_id,
                "status": dest.status,
                "services": [
                    {
                        "identifier": LEIKA_URN + dest.leika,
                        "submissionSchemas": [{"schemaUri": dest.schema_uri, "mimeType": dest.mime}],
                        "regions": [ARS_URN + dest.ars],
                    }
                ],
                "encryptionKid": dest.encryption_kid,
                "metadataVersions": ["1.0.0"],
            }
        )

    async def destination_key(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        dest = self.destinations.get(request.match_info["id"])
        kid = request.match_info["kid"]
        if dest is None or kid not in (dest.encryption_kid, dest.signing_kid):
            return self._problem(404, "key-not-found", "unknown key")
        if kid == dest.encryption_kid:
            return web.json_response(self._public(dest.encryption_key, kid, "wrapKey"))
        return web.json_response(self._public(dest.signing_key, kid, "verify"))

    # ------------------------------------------------------------------ submission

    async def announce(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        body = await request.json()
        dest = self.destinations.get(body.get("destinationId", ""))
        if dest is None:
            return self._problem(404, "destination-not-found", "unknown destination")
        service = (body.get("serviceType") or {}).get("identifier")
        if service != LEIKA_URN + dest.leika:
            return self._problem(422, "service-type-mismatch", "destination does not offer this service")
        sub = Submission(
            str(uuid.uuid4()),
            str(uuid.uuid4()),
            dest.destination_id,
            service,
            list(body.get("announcedAttachments") or []),
        )
        self.submissions[sub.submission_id] = sub
        sub.events.append(self._event(sub, "create", self.service_key, "sub-1", self.base_url))
        return web.json_response(
            {"destinationId": dest.destination_id, "submissionId": sub.submission_id, "caseId": sub.case_id}, status=201
        )

    def _decrypt(self, dest: Destination, token: str) -> bytes:
        return jwe.decrypt_compact(token, dest.encryption_key, registry=JWE_REGISTRY).plaintext

    async def attachment(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        sub = self.submissions.get(request.match_info["id"])
        if sub is None:
            return self._problem(404, "submission-not-found", "unknown submission")
        if sub.submitted:
            return self._problem(409, "submission-state-invalid", "already submitted")
        aid = request.match_info["aid"]
        if aid not in sub.announced or request.content_type != "application/jose":
            return self._problem(422, "attachment-invalid", "not announced or not application/jose")
        try:
            sub.attachments[aid] = self._decrypt(self.destinations[sub.destination_id], await request.text())
        except Exception as exc:  # noqa: BLE001 - any decryption failure is a client error
            return self._problem(400, "encryption-invalid", type(exc).__name__)
        return web.Response(status=204)

    async def send(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        sub = self.submissions.get(request.match_info["id"])
        if sub is None:
            return self._problem(404, "submission-not-found", "unknown submission")
        if sub.submitted:
            return self._problem(409, "submission-state-invalid", "already submitted")
        body = await request.json()
        dest = self.destinations[sub.destination_id]
        missing = [a for a in sub.announced if a not in sub.attachments]
        if missing:
            return self._problem(422, "missing-attachments", f"{len(missing)} announced attachments missing")
        try:
            meta_raw = self._decrypt(dest, body["encryptedMetadata"])
            data_raw = self._decrypt(dest, body["encryptedData"])
        except Exception as exc:  # noqa: BLE001
            return self._problem(400, "encryption-invalid", type(exc).__name__)
        meta = json.loads(meta_raw)
        try:
            jsonschema.Draft202012Validator(
                metadata_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            ).validate(meta)
        except jsonschema.ValidationError as exc:
            self.problems.append(f"metadata: {exc.message}")
            return self._problem(422, "metadata-schema-violation", exc.message)
        problems = self._check(sub, dest, meta, data_raw)
        data, data_problems = self._data(dest, data_raw)
        problems += data_problems
        sub.submitted, sub.metadata, sub.data, sub.data_raw = True, meta, data, data_raw
        sub.events.append(self._event(sub, "submit", self.service_key, "sub-1", self.base_url))
        sub.events.append(self._event(sub, "forward", self.service_key, "sub-1", self.base_url))
        # The destination (subscriber) decides at once: reject what does not check out.
        if problems or self.reject:
            self.problems += problems
            details = {
                "problems": [{"type": "urn:test", "title": p, "detail": p} for p in problems or ["Abgelehnt (Test)"]]
            }
            sub.events.append(
                self._event(sub, "reject", dest.signing_key, dest.signing_kid, dest.destination_id, details)
            )
        elif self.accept:
            sub.events.append(self._event(sub, "accept", dest.signing_key, dest.signing_kid, dest.destination_id))
        return web.json_response(
            {"destinationId": dest.destination_id, "submissionId": sub.submission_id, "caseId": sub.case_id}, status=202
        )

    @staticmethod
    def _data(dest: Destination, data_raw: bytes) -> tuple[Optional[dict], list[str]]:
        """The decrypted data document, parsed, and what the destination finds wrong with it."""
        if dest.mime == "application/xml":
            import xml.etree.ElementTree as ET

            import xmlschema

            try:
                root = ET.fromstring(data_raw)
            except ET.ParseError:
                return None, ["data: not well-formed XML"]
            problems = []
            if dest.data_schema is not None:
                errors = list(xmlschema.XMLSchema(dest.data_schema).iter_errors(data_raw.decode("utf-8")))
                problems = [f"data: {e.reason} at {e.path}" for e in errors[:3]]

            def walk(el: ET.Element) -> dict[str, Any]:
                return {c.tag.split("}")[-1]: walk(c) if len(c) else (c.text or "") for c in el}

            return {root.tag.split("}")[-1]: walk(root)}, problems
        try:
            data = json.loads(data_raw)
        except ValueError:
            return None, ["data: not JSON"]
        problems = []
        if dest.data_schema is not None:
            validator = jsonschema.Draft202012Validator(
                dest.data_schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
            )
            problems = [f"data: {e.message}" for e in list(validator.iter_errors(data))[:3]]
        return data, problems

    @staticmethod
    def _check(sub: Submission, dest: Destination, meta: dict, data_raw: bytes) -> list[str]:
        problems = []
        structure = meta["contentStructure"]
        if structure.get("data", {}).get("hash", {}).get("content") != hashlib.sha512(data_raw).hexdigest():
            problems.append("data hash mismatch")
        if structure.get("data", {}).get("submissionSchema", {}).get("schemaUri") != dest.schema_uri:
            problems.append("unexpected data schema")
        described = {a["attachmentId"]: a for a in structure.get("attachments", [])}
        for aid, content in sub.attachments.items():
            if described.get(aid, {}).get("hash", {}).get("content") != hashlib.sha512(content).hexdigest():
                problems.append(f"attachment {aid} hash mismatch")
        if (meta.get("publicServiceType") or {}).get("identifier") != sub.service:
            problems.append("service type mismatch")
        return problems

    def _event(
        self, sub: Submission, name: str, key: RSAKey, kid: str, issuer: str, details: Optional[dict] = None
    ) -> str:
        claims = {
            "iss": issuer,
            "iat": int(time.time()),
            "jti": str(uuid.uuid4()),
            "sub": f"submission:{sub.submission_id}",
            "txn": f"case:{sub.case_id}",
            "events": {EVENT_PREFIX + name: details or {}},
        }
        return jwt.encode({"alg": "PS512", "kid": kid, "typ": "secevent+jwt"}, claims, key, algorithms=["PS512"])

    async def events(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "unauthorized"}, status=401)
        found = [s for s in self.submissions.values() if s.case_id == request.match_info["case"]]
        if not found:
            return self._problem(404, "case-not-found", "unknown case")
        return web.json_response({"eventLog": found[0].events})

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.summary())

    async def submitted(self, request: web.Request) -> web.Response:
        return web.json_response(
            [
                {"caseId": s.case_id, "metadata": s.metadata, "data": s.data, "events": len(s.events)}
                for s in self.submissions.values()
                if s.submitted
            ]
        )

    def summary(self) -> dict[str, Any]:
        sent = [s for s in self.submissions.values() if s.submitted]
        refs = [(s.metadata or {}).get("additionalReferenceInfo", {}).get("senderReference") for s in sent]
        return {
            "announced": len(self.submissions),
            "submitted": len(sent),
            "distinct_references": len(set(refs)),
            "references": refs,
            "problems": self.problems,
        }


def private_jwk(key: RSAKey) -> str:
    return base64.b64encode(json.dumps(key.as_dict(private=True)).encode()).decode()


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="FIT-Connect test double (NOT FIT-Connect)")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--leika", required=True)
    parser.add_argument("--ars", required=True)
    parser.add_argument("--schema-uri", required=True)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--slow-rate", type=float, default=0.0)
    parser.add_argument("--slow-s", type=float, default=3.0)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--mime", default="application/json", choices=["application/json", "application/xml"])
    parser.add_argument("--data-schema", default=None, help="file: JSON Schema or XSD the destination validates with")
    parser.add_argument(
        "--lose-first-send", action="store_true", help="the first send takes effect, its answer is a 503"
    )
    args = parser.parse_args(argv)
    double = FitConnectDouble(client_secret=args.client_secret)
    double.base_url = f"http://127.0.0.1:{args.port}"
    data_schema = None
    if args.data_schema:
        with open(args.data_schema, encoding="utf-8") as fh:
            data_schema = json.load(fh) if args.mime == "application/json" else fh.read()
    double.add_destination(args.leika, args.ars, args.schema_uri, mime=args.mime, data_schema=data_schema)
    double.fail_rate, double.slow_rate, double.slow_s = args.fail_rate, args.slow_rate, args.slow_s
    if args.lose_first_send:
        double.fail_once.append(("PUT", r"/v1/submissions/[^/]+", "lost"))
    web.run_app(double.app(), host="127.0.0.1", port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
