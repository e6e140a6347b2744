"""OIDC relying party for portals that front BayernID with a broker (e.g. Keycloak with the
BayernID plugin): authorization code flow with PKCE (S256), ``state`` and ``nonce``.

Client on authlib (requests session, run in a worker thread); the ID token is verified with
joserfc against the provider's JWKS (signature, ``iss``, ``aud``, ``exp``, ``nonce``). The trust
level is requested with a configured scope (``level1``/``level3``/``level4``, as the Munich
BayernID plugin maps them) and, when the provider advertises them, ``acr_values``; it is read
from the ID token's ``acr`` claim, else from the granted level scope.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cached_property
from typing import Any

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from buergerassistent.identity import STORK_LEVELS, Identity, level_rank, parse_level, rejected

from .settings import LoginSettings

logger = logging.getLogger(__name__)

# OIDC standard claims → our attribute names.
CLAIMS = {
    "given_name": "given_name",
    "family_name": "family_name",
    "birthdate": "birth_date",
    "email": "email",
}
ADDRESS_CLAIMS = {"street_address": "street", "postal_code": "postcode", "locality": "city", "country": "country"}


class RelyingParty:
    def __init__(self, settings: LoginSettings):
        self.settings = settings

    @cached_property
    def provider(self) -> dict[str, Any]:
        url = self.settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration"
        response = requests.get(url, timeout=10)
        response.raise_for_status()
        return response.json()

    def _session(self, scope: str = "openid") -> OAuth2Session:
        s = self.settings
        return OAuth2Session(
            s.oidc_client_id,
            s.oidc_client_secret,
            scope=scope,
            redirect_uri=s.oidc_redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    def _scope(self, level: str) -> str:
        return f"openid profile email address {self.settings.oidc_scope_for(level)}"

    def authorization_url(self, level: str, state: str) -> tuple[str, dict[str, str]]:
        """(URL to send the browser to, secrets to keep until the callback)."""
        verifier = generate_token(64)
        nonce = generate_token(32)
        extra = {}
        if STORK_LEVELS[level] in (self.provider.get("acr_values_supported") or []):
            extra["acr_values"] = STORK_LEVELS[level]
        url, _ = self._session(self._scope(level)).create_authorization_url(
            self.provider["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier, **extra
        )
        return url, {"nonce": nonce, "code_verifier": verifier}

    def _complete(self, code: str, secrets: dict[str, str], level_required: str) -> Identity:
        provider = self.provider
        session = self._session(self._scope(level_required))
        try:
            token = session.fetch_token(
                provider["token_endpoint"],
                grant_type="authorization_code",
                code=code,
                code_verifier=secrets["code_verifier"],
            )
        except Exception:  # wrong code, wrong verifier, replayed code: the provider refuses
            raise rejected("response_invalid") from None
        if "id_token" not in token:
            raise rejected("response_invalid")
        try:
            keys = KeySet.import_key_set(requests.get(provider["jwks_uri"], timeout=10).json())
            decoded = jwt.decode(token["id_token"], keys)
            jwt.JWTClaimsRegistry(
                leeway=60,
                iss={"essential": True, "value": provider["issuer"]},
                aud={"essential": True, "value": self.settings.oidc_client_id},
                nonce={"essential": True, "value": secrets["nonce"]},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(decoded.claims)
        except (JoseError, ValueError, KeyError):
            raise rejected("response_invalid") from None
        id_claims = decoded.claims
        userinfo: dict[str, Any] = {}
        if provider.get("userinfo_endpoint"):
            response = session.get(provider["userinfo_endpoint"], timeout=10)
            if response.ok:
                userinfo = response.json()
                if userinfo.get("sub") != id_claims["sub"]:
                    raise rejected("response_invalid")
        claims = {**userinfo, **id_claims}
        level = parse_level(claims.get("acr"))
        if level is None:
            granted = set(str(token.get("scope", "")).split())
            for candidate in reversed(("basisregistriert", "substantiell", "hoch")):
                if self.settings.oidc_scope_for(candidate) in granted:
                    level = candidate
                    break
        if level is None:
            raise rejected("response_invalid")
        if level_rank(level) < level_rank(level_required):
            exc = rejected("level_too_low")
            exc.level_achieved = level  # type: ignore[attr-defined]
            raise exc
        attributes = {ours: str(claims[theirs]) for theirs, ours in CLAIMS.items() if claims.get(theirs)}
        address = claims.get("address") or {}
        attributes.update(
            {ours: str(address[theirs]) for theirs, ours in ADDRESS_CLAIMS.items() if address.get(theirs)}
        )
        # The broker's stable subject (for BayernID it carries the bPK2).
        return Identity(
            level=level,
            source="oidc",
            subject=str(claims["sub"]),
            method=claims.get("amr") and ",".join(claims["amr"]) or None,
            attributes=attributes,
        )

    async def complete(self, code: str, secrets: dict[str, str], level_required: str) -> Identity:
        return await asyncio.to_thread(self._complete, code, secrets, level_required)

    async def start(self, level: str, state: str) -> tuple[str, dict[str, str]]:
        return await asyncio.to_thread(self.authorization_url, level, state)
