"""SAML 2.0 service provider for BundID / BayernID, on pysaml2 (signatures and encryption by
xmlsec1).

- ``metadata_xml()``: our SP metadata (signing + encryption certificates, ACS endpoint).
- ``authn_request()``: a signed AuthnRequest (HTTP-POST binding) with
  ``RequestedAuthnContext Comparison="minimum"`` ``STORK-QAA-Level-1/3/4`` and the AKDB extension
  ``akdb:AuthenticationRequest`` (requested attributes by OID, display information).
- ``parse_response()``: checks signature, InResponseTo, audience, validity window and
  decrypts encrypted assertions (all pysaml2), then maps attributes by their SAML ``Name``
  (OIDs), never by FriendlyName.

pysaml2 logs whole messages (with personal data) at debug/info level and some error texts, so its
loggers are silenced here; we log reason codes only.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Optional

from saml2 import BINDING_HTTP_POST, ExtensionElement, samlp
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.sigver import get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from buergerassistent.identity import STORK_LEVELS, Identity, LoginRejected, level_rank, parse_level, rejected

from .settings import LoginSettings

for _name in ("saml2", "xmlschema"):
    logging.getLogger(_name).setLevel(logging.CRITICAL + 1)
    logging.getLogger(_name).propagate = False

AKDB_NS = "https://www.akdb.de/request/2018/09"
AKDB_UI_NS = "https://www.akdb.de/request/2018/09/classic-ui/v1"

# SAML attribute Name (OID) → our attribute name. See shared reference egov.md §1.
OID_GIVEN_NAME = "urn:oid:2.5.4.42"
OID_SURNAME = "urn:oid:2.5.4.4"
OID_EMAIL = "urn:oid:0.9.2342.19200300.100.1.3"
OID_STREET = "urn:oid:2.5.4.16"
OID_POSTCODE = "urn:oid:2.5.4.17"
OID_CITY = "urn:oid:2.5.4.7"
OID_COUNTRY = "urn:oid:1.2.40.0.10.2.1.1.225599"
OID_BIRTH_DATE = "urn:oid:1.2.40.0.10.2.1.1.55"
OID_BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"
OID_TRUST_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"
OID_LOGIN_METHOD = "urn:oid:1.3.6.1.4.1.25484.494450.2"

ATTRIBUTES_BY_OID = {
    OID_GIVEN_NAME: "given_name",
    OID_SURNAME: "family_name",
    OID_EMAIL: "email",
    OID_STREET: "street",
    OID_POSTCODE: "postcode",
    OID_CITY: "city",
    OID_COUNTRY: "country",
    OID_BIRTH_DATE: "birth_date",
}
REQUESTED_OIDS = (*ATTRIBUTES_BY_OID, OID_BPK2, OID_TRUST_LEVEL, OID_LOGIN_METHOD)


@dataclass
class SamlResult:
    conversation_state: str
    identity: Identity


def _el(tag: str, ns: str = AKDB_NS, text: Optional[str] = None, children=None, **attributes) -> ExtensionElement:
    return ExtensionElement(tag, namespace=ns, attributes=attributes, children=children or [], text=text)


class ServiceProvider:
    def __init__(self, settings: LoginSettings):
        self.settings = settings

    @cached_property
    def config(self) -> SPConfig:
        s = self.settings
        conf = {
            "entityid": s.saml_entity_id,
            "xmlsec_binary": get_xmlsec_binary(["/usr/bin", "/usr/local/bin"]),
            "key_file": str(s.saml_key),
            "cert_file": str(s.saml_cert),
            "encryption_keypairs": [{"key_file": str(s.saml_enc_key), "cert_file": str(s.saml_enc_cert)}],
            "metadata": {"local": [str(s.saml_idp_metadata)]} if s.saml_idp_metadata else {},
            "allow_unknown_attributes": True,
            "accepted_time_diff": 60,
            "signing_algorithm": SIG_RSA_SHA256,
            "digest_algorithm": DIGEST_SHA256,
            "service": {
                "sp": {
                    "name": s.organization_display_name,
                    "endpoints": {"assertion_consumer_service": [(s.acs_url, BINDING_HTTP_POST)]},
                    "authn_requests_signed": True,
                    "want_assertions_signed": True,
                    "want_response_signed": False,
                    "allow_unsolicited": False,
                    "name_id_format": NAMEID_FORMAT_TRANSIENT,
                },
            },
        }
        config = SPConfig()
        config.load(conf)
        return config

    @cached_property
    def client(self) -> Saml2Client:
        return Saml2Client(config=self.config)

    def metadata_xml(self) -> str:
        return _text(create_metadata_string(None, config=self.config, valid=24 * 7, sign=True))

    def idp_entity_id(self) -> str:
        idps = list(self.client.metadata.identity_providers())
        if len(idps) != 1:
            raise RuntimeError("SAML_IDP_METADATA must describe exactly one identity provider")
        return idps[0]

    def _extensions(self) -> samlp.Extensions:
        s = self.settings
        display = [
            _el("OrganizationDisplayName", AKDB_UI_NS, s.organization_display_name),
            _el("Lang", AKDB_UI_NS, s.lang),
        ]
        if s.online_service_id:
            display.append(_el("OnlineServiceId", AKDB_UI_NS, s.online_service_id))
        request = _el(
            "AuthenticationRequest",
            Version="2",
            children=[
                _el(
                    "RequestedAttributes",
                    children=[_el("RequestedAttribute", Name=oid, RequiredAttribute="false") for oid in REQUESTED_OIDS],
                ),
                _el("DisplayInformation", children=[_el("Version", AKDB_UI_NS, children=display)]),
            ],
        )
        return samlp.Extensions(extension_elements=[request])

    def authn_request(self, level: str, relay_state: str) -> tuple[str, str, dict[str, str]]:
        """(request id, IdP URL, form fields) for an auto-submitting HTTP-POST form."""
        idp = self.idp_entity_id()
        destination = self.client.metadata.single_sign_on_service(idp, BINDING_HTTP_POST)[0]["location"]
        context = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=STORK_LEVELS[level])], comparison="minimum"
        )
        request_id, xml = self.client.create_authn_request(
            destination,
            binding=BINDING_HTTP_POST,
            sign=True,
            sign_alg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256,
            extensions=self._extensions(),
            requested_authn_context=context,
            nameid_format=NAMEID_FORMAT_TRANSIENT,
        )
        fields = {"SAMLRequest": base64.b64encode(str(xml).encode()).decode(), "RelayState": relay_state}
        return request_id, destination, fields

    def parse_response(self, saml_response: str, request_id: str, level_required: str) -> Identity:
        """Verify the IdP's answer to ``request_id``; raises ``LoginRejected``."""
        try:
            response = self.client.parse_authn_request_response(
                saml_response, BINDING_HTTP_POST, outstanding={request_id: "/"}
            )
        except StatusError as exc:
            # The citizen cancelled (AuthnFailed / RequestDenied …) or the IdP refused.
            raise rejected(
                "cancelled"
                if "cancel" in type(exc).__name__.lower()
                or type(exc).__name__ in ("StatusAuthnFailed", "StatusRequestDenied")
                else "idp_error"
            ) from None
        except UnsolicitedResponse:
            raise rejected("response_unknown") from None
        except LoginRejected:
            raise
        except Exception:  # signature, audience, time window, decryption, malformed XML
            raise rejected("response_invalid") from None
        if response is None or not response.assertion:
            raise rejected("response_invalid")
        return identity_from_assertion(response.assertion, level_required)


def identity_from_assertion(assertion, level_required: str) -> Identity:
    values: dict[str, str] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute:
            texts = [v.text for v in attribute.attribute_value if v.text]
            if texts:
                values[attribute.name] = texts[0].strip()
    level = parse_level(values.get(OID_TRUST_LEVEL))
    context_level = None
    for statement in assertion.authn_statement or []:
        ref = statement.authn_context.authn_context_class_ref if statement.authn_context else None
        if ref is not None:
            context_level = parse_level(ref.text)
    # Both should agree; if they do not, the lower one counts.
    found = [lvl for lvl in (level, context_level) if lvl]
    if not found:
        raise rejected("response_invalid")
    achieved = min(found, key=level_rank)
    if level_rank(achieved) < level_rank(level_required):
        exc = rejected("level_too_low")
        exc.level_achieved = achieved  # type: ignore[attr-defined]
        raise exc
    return Identity(
        level=achieved,
        source="saml",
        subject=values.get(OID_BPK2) or None,  # a temporary login carries no bPK2
        method=values.get(OID_LOGIN_METHOD),
        attributes={ours: values[oid] for oid, ours in ATTRIBUTES_BY_OID.items() if values.get(oid)},
    )


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else value
