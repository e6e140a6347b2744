"""Settings of the login service, from the environment with safe local defaults.

| variable | default | meaning |
|---|---|---|
| `LOGIN_PORT` | 8090 | port of the login service (binds `BA_HOST`, default 127.0.0.1) |
| `LOGIN_PUBLIC_URL` | `http://127.0.0.1:$LOGIN_PORT` | how browsers reach it (login links, ACS, OIDC redirect) |
| `LOGIN_PROTOCOL` | `saml` if `SAML_IDP_METADATA` is set, else `oidc` if `OIDC_ISSUER` is set | which service account to use |
| `SAML_IDP_METADATA` | – | IdP metadata file (BundID/BayernID) |
| `SAML_SP_ENTITY_ID` | `$LOGIN_PUBLIC_URL/login/saml/metadata` | our entity id |
| `SAML_SP_KEY`, `SAML_SP_CERT` | generated in `$BA_VAR_DIR/login/` | signing key pair (PEM files) |
| `SAML_SP_ENC_KEY`, `SAML_SP_ENC_CERT` | the signing pair | encryption key pair |
| `LOGIN_ORGANIZATION_NAME` | `Bürgerassistent` | OrganizationDisplayName shown by the IdP |
| `LOGIN_ONLINE_SERVICE_ID` | – | OnlineServiceId (mandatory for BundID since 2025-06-30) |
| `LOGIN_LANG` | `de` | Lang in the AKDB extension |
| `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET` | – | OIDC broker (e.g. Keycloak with the BayernID plugin) |
| `OIDC_LEVEL_SCOPES` | `level1,level3,level4` | scopes that request basisregistriert, substantiell, hoch |
| `WEBCHAT_ALLOWED_ORIGINS` | – (pages on 127.0.0.1/localhost) | portal pages the result page hands the login code to (`postMessage`); `*` hands it to none |
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .keys import ensure_pair


def _var_dir() -> Path:
    return Path(os.environ.get("BA_VAR_DIR", Path(__file__).resolve().parents[2] / "var"))


def _path(name: str) -> Optional[Path]:
    value = os.environ.get(name)
    return Path(value) if value else None


@dataclass
class LoginSettings:
    host: str = field(default_factory=lambda: os.environ.get("BA_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("LOGIN_PORT") or 8090))
    public_url: str = ""
    protocol: str = field(default_factory=lambda: os.environ.get("LOGIN_PROTOCOL", ""))
    saml_idp_metadata: Optional[Path] = field(default_factory=lambda: _path("SAML_IDP_METADATA"))
    saml_entity_id: str = field(default_factory=lambda: os.environ.get("SAML_SP_ENTITY_ID", ""))
    saml_key: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_KEY"))
    saml_cert: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_CERT"))
    saml_enc_key: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_ENC_KEY"))
    saml_enc_cert: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_ENC_CERT"))
    organization_display_name: str = field(default_factory=lambda: os.environ.get("LOGIN_ORGANIZATION_NAME", "Bürgerassistent"))
    online_service_id: str = field(default_factory=lambda: os.environ.get("LOGIN_ONLINE_SERVICE_ID", ""))
    lang: str = field(default_factory=lambda: os.environ.get("LOGIN_LANG", "de"))
    oidc_issuer: str = field(default_factory=lambda: os.environ.get("OIDC_ISSUER", ""))
    oidc_client_id: str = field(default_factory=lambda: os.environ.get("OIDC_CLIENT_ID", ""))
    oidc_client_secret: str = field(default_factory=lambda: os.environ.get("OIDC_CLIENT_SECRET", ""))
    oidc_level_scopes: tuple[str, ...] = field(
        default_factory=lambda: tuple(os.environ.get("OIDC_LEVEL_SCOPES", "level1,level3,level4").split(","))
    )
    rasa_url: str = field(default_factory=lambda: os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    rasa_api_token: str = field(default_factory=lambda: os.environ.get("RASA_API_TOKEN", ""))
    # The web chat's portal origins: where the login window may hand the one-time code back to.
    webchat_origins: tuple[str, ...] = field(default_factory=lambda: tuple(
        o.strip() for o in os.environ.get("WEBCHAT_ALLOWED_ORIGINS", "").split(",") if o.strip()))

    def __post_init__(self) -> None:
        self.public_url = (self.public_url or os.environ.get("LOGIN_PUBLIC_URL") or f"http://{self.host}:{self.port}").rstrip("/")
        self.saml_entity_id = self.saml_entity_id or f"{self.public_url}/login/saml/metadata"
        if not self.protocol:
            self.protocol = "saml" if self.saml_idp_metadata else ("oidc" if self.oidc_issuer else "saml")
        if self.saml_key is None or self.saml_cert is None:
            folder = _var_dir() / "login"
            self.saml_key, self.saml_cert = ensure_pair("buergerassistent-sp", folder / "sp.key", folder / "sp.crt")
        if self.saml_enc_key is None or self.saml_enc_cert is None:
            self.saml_enc_key, self.saml_enc_cert = self.saml_key, self.saml_cert

    @property
    def available_protocols(self) -> tuple[str, ...]:
        found = []
        if self.saml_idp_metadata:
            found.append("saml")
        if self.oidc_issuer and self.oidc_client_id:
            found.append("oidc")
        return tuple(found)

    @property
    def acs_url(self) -> str:
        return f"{self.public_url}/login/saml/acs"

    @property
    def oidc_redirect_uri(self) -> str:
        return f"{self.public_url}/login/oidc/callback"

    def oidc_scope_for(self, level: str) -> str:
        from buergerassistent.identity import level_rank

        return self.oidc_level_scopes[level_rank(level) - 1]
