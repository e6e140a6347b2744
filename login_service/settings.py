"""Settings of the login service: a view over ``buergerassistent.settings`` (LOGIN_*, SAML_*,
OIDC_*, BA_HOST, RASA_URL, RASA_API_TOKEN, WEBCHAT_ALLOWED_ORIGINS; their defaults and meanings
are listed there and in ``.env.example``), with the values derived from them: the public URL,
the protocol, and the SP key pair generated in ``$BA_VAR_DIR/login/`` when none is configured.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from buergerassistent.settings import get_settings

from .keys import ensure_pair


def _var_dir() -> Path:
    return get_settings().var_dir


def _path(name: str) -> Optional[Path]:
    value = getattr(get_settings(), name.lower())
    return Path(value) if value else None


def _get(name: str, default: str = "") -> str:
    value = getattr(get_settings(), name.lower())
    return default if value is None else str(value)


@dataclass
class LoginSettings:
    host: str = field(default_factory=lambda: _get("BA_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(_get("LOGIN_PORT") or 8090))
    public_url: str = ""
    protocol: str = field(default_factory=lambda: _get("LOGIN_PROTOCOL", ""))
    saml_idp_metadata: Optional[Path] = field(default_factory=lambda: _path("SAML_IDP_METADATA"))
    saml_entity_id: str = field(default_factory=lambda: _get("SAML_SP_ENTITY_ID", ""))
    saml_key: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_KEY"))
    saml_cert: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_CERT"))
    saml_enc_key: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_ENC_KEY"))
    saml_enc_cert: Optional[Path] = field(default_factory=lambda: _path("SAML_SP_ENC_CERT"))
    organization_display_name: str = field(default_factory=lambda: _get("LOGIN_ORGANIZATION_NAME", "Bürgerassistent"))
    online_service_id: str = field(default_factory=lambda: _get("LOGIN_ONLINE_SERVICE_ID", ""))
    lang: str = field(default_factory=lambda: _get("LOGIN_LANG", "de"))
    oidc_issuer: str = field(default_factory=lambda: _get("OIDC_ISSUER", ""))
    oidc_client_id: str = field(default_factory=lambda: _get("OIDC_CLIENT_ID", ""))
    oidc_client_secret: str = field(default_factory=lambda: _get("OIDC_CLIENT_SECRET", ""))
    oidc_level_scopes: tuple[str, ...] = field(
        default_factory=lambda: tuple(_get("OIDC_LEVEL_SCOPES", "level1,level3,level4").split(","))
    )
    rasa_url: str = field(default_factory=lambda: _get("RASA_URL", "http://127.0.0.1:5005"))
    rasa_api_token: str = field(default_factory=lambda: _get("RASA_API_TOKEN", ""))
    # The web chat's portal origins: where the login window may hand the one-time code back to.
    webchat_origins: tuple[str, ...] = field(
        default_factory=lambda: tuple(o.strip() for o in _get("WEBCHAT_ALLOWED_ORIGINS", "").split(",") if o.strip())
    )

    def __post_init__(self) -> None:
        self.public_url = (self.public_url or _get("LOGIN_PUBLIC_URL") or f"http://{self.host}:{self.port}").rstrip("/")
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
