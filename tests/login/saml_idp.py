"""A real SAML 2.0 identity provider for the tests: pysaml2's IdP (``saml2.server.Server``),
signing and encrypting with xmlsec1, behind a small aiohttp app with a login page.

It issues BundID-shaped assertions: attributes named by OID (NameFormat uri), each with an
``akdb:TrustLevel`` XML attribute, the login's trust level as attribute
``urn:oid:1.2.40.0.10.2.1.1.261.94`` and as AuthnContextClassRef, a transient NameID, bPK2
except for a temporary login. Test citizens exist at levels 1, 3 and 4.

For the rejection tests, ``Idp.response_for(...)`` builds variants the way an attacker or a
broken IdP would: unsigned, signed with a key the SP does not know, for another audience,
outside the validity window.
"""

from __future__ import annotations

import base64
import html
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from aiohttp import web
from saml2 import BINDING_HTTP_POST, samlp
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_TRANSIENT, Attribute, AttributeStatement, AttributeValue, NameID
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary
from saml2.time_util import instant

from login_service import saml_sp as oids
from login_service.keys import make_self_signed

AKDB_NS = "https://www.akdb.de/request/2018/09"
STORK = {1: "STORK-QAA-Level-1", 3: "STORK-QAA-Level-3", 4: "STORK-QAA-Level-4"}
ATTRIBUTE_TRUST = {1: "NORMAL", 3: "SUBSTANTIELL", 4: "HOCH"}
METHODS = {1: "Benutzername", 3: "Elster", 4: "eID"}


@dataclass
class Citizen:
    username: str
    password: str
    level: int
    given_name: str
    family_name: str
    birth_date: str
    street: str
    postcode: str
    city: str
    email: str
    bpk2: Optional[str] = None  # None: temporary login

    def attributes(self) -> dict[str, str]:
        values = {
            oids.OID_GIVEN_NAME: self.given_name,
            oids.OID_SURNAME: self.family_name,
            oids.OID_BIRTH_DATE: self.birth_date,
            oids.OID_STREET: self.street,
            oids.OID_POSTCODE: self.postcode,
            oids.OID_CITY: self.city,
            oids.OID_COUNTRY: "DE",
            oids.OID_EMAIL: self.email,
            oids.OID_TRUST_LEVEL: STORK[self.level],
            oids.OID_LOGIN_METHOD: METHODS[self.level],
        }
        if self.bpk2:
            values[oids.OID_BPK2] = self.bpk2
        return values


CITIZENS = {
    c.username: c
    for c in (
        Citizen(
            "erika3",
            "geheim-3",
            3,
            "Erika",
            "Mustermann",
            "1964-08-12",
            "Heidestraße 17",
            "51147",
            "Köln",
            "erika.mustermann@example.org",
            "bPK2-erika-0001",
        ),
        Citizen(
            "erika4",
            "geheim-4",
            4,
            "Erika",
            "Mustermann",
            "1964-08-12",
            "Heidestraße 17",
            "51147",
            "Köln",
            "erika.mustermann@example.org",
            "bPK2-erika-0001",
        ),
        Citizen(
            "max1",
            "geheim-1",
            1,
            "Max",
            "Musterberg",
            "1990-01-31",
            "Marienplatz 8",
            "80331",
            "München",
            "max@example.org",
            "bPK2-max-0002",
        ),
        Citizen(
            "temp3",
            "geheim-t",
            3,
            "Tamara",
            "Temporär",
            "1975-05-05",
            "Lindwurmstraße 1",
            "80337",
            "München",
            "tamara@example.org",
            None,
        ),
    )
}


@dataclass
class Variant:
    """How to distort a response (defaults: a correct, signed, encrypted response)."""

    sign: bool = True
    foreign_key: bool = False
    audience: Optional[str] = None
    expired: bool = False
    level: Optional[int] = None


class BundIdLikeServer(Server):
    """pysaml2's IdP, with attributes built by OID plus akdb:TrustLevel, and test distortions."""

    variant: Variant = Variant()
    citizen: Optional[Citizen] = None

    def setup_assertion(self, *args, **kwargs):
        assertion = super().setup_assertion(*args, **kwargs)
        citizen, variant = self.citizen, self.variant
        level = variant.level or citizen.level
        values = citizen.attributes()
        values[oids.OID_TRUST_LEVEL] = STORK[level]
        assertion.attribute_statement = [
            AttributeStatement(
                attribute=[
                    Attribute(
                        name=name,
                        name_format=NAME_FORMAT_URI,
                        # A misleading FriendlyName: the SP must map by Name only.
                        friendly_name="surname" if name == oids.OID_GIVEN_NAME else None,
                        attribute_value=[AttributeValue(text=value)],
                        extension_attributes={f"{{{AKDB_NS}}}TrustLevel": ATTRIBUTE_TRUST[level]},
                    )
                    for name, value in values.items()
                ]
            )
        ]
        if variant.audience:
            assertion.conditions.audience_restriction[0].audience[0].text = variant.audience
        if variant.expired:
            past = instant(time_stamp=int(time.time()) - 3600)
            assertion.conditions.not_on_or_after = past
            for confirmation in assertion.subject.subject_confirmation:
                confirmation.subject_confirmation_data.not_on_or_after = past
        return assertion


def _config(entity_id: str, base_url: str, key: Path, cert: Path, sp_metadata: Optional[str]) -> IdPConfig:
    conf = {
        "entityid": entity_id,
        "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
        "key_file": str(key),
        "cert_file": str(cert),
        "metadata": {"inline": [sp_metadata]} if sp_metadata else {},
        "service": {
            "idp": {
                "endpoints": {"single_sign_on_service": [(f"{base_url}/sso/post", BINDING_HTTP_POST)]},
                "want_authn_requests_signed": True,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
            }
        },
    }
    config = IdPConfig()
    config.load(conf)
    return config


@dataclass
class Idp:
    base_url: str
    workdir: Path
    sp_metadata: Optional[str] = None
    requests: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entity_id = f"{self.base_url}/metadata"
        self.key, self.cert = self.workdir / "idp.key", self.workdir / "idp.crt"
        make_self_signed("test-idp", self.key, self.cert)
        # An attacker's pair: same entity id, a key the SP has never seen.
        self.evil_key, self.evil_cert = self.workdir / "evil.key", self.workdir / "evil.crt"
        make_self_signed("test-idp", self.evil_key, self.evil_cert)

    def metadata_xml(self) -> str:
        config = _config(self.entity_id, self.base_url, self.key, self.cert, None)
        xml = create_metadata_string(None, config=config, valid=24)
        return xml.decode() if isinstance(xml, bytes) else xml

    def server(self, foreign_key: bool = False) -> BundIdLikeServer:
        key, cert = (self.evil_key, self.evil_cert) if foreign_key else (self.key, self.cert)
        return BundIdLikeServer(config=_config(self.entity_id, self.base_url, key, cert, self.sp_metadata))

    def parse_request(self, saml_request: str):
        """Parse and verify (signature required) the SP's AuthnRequest."""
        return self.server().parse_authn_request(saml_request, BINDING_HTTP_POST).message

    def response_for(self, request, username: str, variant: Variant = Variant()) -> str:
        """A base64 SAMLResponse answering ``request`` (an AuthnRequest) for a test citizen."""
        citizen = CITIZENS[username]
        server = self.server(foreign_key=variant.foreign_key)
        server.citizen, server.variant = citizen, variant
        level = variant.level or citizen.level
        response = server.create_authn_response(
            identity={},
            in_response_to=request.id,
            destination=request.assertion_consumer_service_url,
            sp_entity_id=request.issuer.text,
            name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text=secrets.token_hex(16)),
            authn={"class_ref": STORK[level], "authn_auth": self.entity_id},
            sign_assertion=variant.sign,
            sign_response=variant.sign,
            encrypt_assertion=True,
        )
        return base64.b64encode(str(response).encode()).decode()

    def cancel_for(self, request) -> str:
        server = self.server()
        response = server.create_error_response(
            request.id,
            request.assertion_consumer_service_url,
            info=(samlp.STATUS_AUTHN_FAILED, "Der Nutzer hat die Anmeldung abgebrochen."),
            sign=True,
        )
        return base64.b64encode(str(response).encode()).decode()

    # --- the browser side: login page of the IdP ---------------------------------------------

    async def sso(self, request: web.Request) -> web.Response:
        form = await request.post()
        authn_request = self.parse_request(str(form["SAMLRequest"]))
        key = secrets.token_urlsafe(12)
        self.requests[key] = {"request": authn_request, "relay_state": str(form.get("RelayState", ""))}
        options = "".join(f'<option value="{u}">{u}</option>' for u in CITIZENS)
        body = (
            f'<form method="post" action="/sso/login"><input type="hidden" name="key" value="{key}">'
            f'<select name="username">{options}</select><input type="password" name="password">'
            '<button name="action" value="login">Anmelden</button>'
            '<button name="action" value="cancel">Abbrechen</button></form>'
        )
        return web.Response(text=f"<html><body><h1>Test-IdP</h1>{body}</body></html>", content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        form = await request.post()
        pending = self.requests.pop(str(form["key"]))
        authn_request = pending["request"]
        if form.get("action") == "cancel":
            saml_response = self.cancel_for(authn_request)
        else:
            citizen = CITIZENS.get(str(form["username"]))
            if citizen is None or citizen.password != form.get("password"):
                return web.Response(status=401, text="falsches Passwort")
            saml_response = self.response_for(authn_request, citizen.username)
        fields = {"SAMLResponse": saml_response, "RelayState": pending["relay_state"]}
        inputs = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
        acs = html.escape(authn_request.assertion_consumer_service_url)
        return web.Response(
            # As a real IdP without script: a button back to the service (browser tests click it).
            text=f'<html><body><form method="post" action="{acs}">{inputs}'
            '<button type="submit">Weiter zum Dienst</button></form></body></html>',
            content_type="text/html",
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([web.post("/sso/post", self.sso), web.post("/sso/login", self.login)])
        return app
