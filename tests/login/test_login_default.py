"""Login enforcement is on by default: a deployment that forgets a setting is safe.

Attack (issue 13): docker-compose ran without login enforcement (it was on only with an IdP
configured or BA_LOGIN_REQUIRED=1), so anyone could change a citizen's registration."""

from __future__ import annotations

from actions.login import login_enforced, required_level
from bot.cli import local_demo_login_default
from bot.settings import REPO_ROOT
from buergerassistent.catalogue import default_catalogue


def test_login_is_enforced_without_any_setting(monkeypatch):
    for name in ("BA_LOGIN_REQUIRED", "SAML_IDP_METADATA", "OIDC_ISSUER"):
        monkeypatch.delenv(name, raising=False)
    assert login_enforced()
    assert required_level(default_catalogue()["wohnsitz_abmelden"]) == "hoch"
    monkeypatch.setenv("BA_LOGIN_REQUIRED", "0")
    assert not login_enforced() and required_level(default_catalogue()["wohnsitz_abmelden"]) is None


def test_only_the_local_demo_turns_it_off_and_only_when_not_set():
    environ: dict[str, str] = {}
    assert "BA_LOGIN_REQUIRED=1" in local_demo_login_default(environ)
    assert environ["BA_LOGIN_REQUIRED"] == "0"
    chosen = {"BA_LOGIN_REQUIRED": "1"}
    assert local_demo_login_default(chosen) is None and chosen["BA_LOGIN_REQUIRED"] == "1"


def test_docker_compose_enforces_it():
    import yaml

    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
    for name, service in compose["services"].items():
        env = service.get("environment") or {}
        if "BA_SECRET_KEY" in env:  # our services (the shared block)
            assert str(env.get("BA_LOGIN_REQUIRED")) == "1", name
