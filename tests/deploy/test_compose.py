"""docker-compose.yml: valid against the Compose Specification, and the deployment the issue asks
for (two Rasa replicas and two action servers behind a TLS proxy, PostgreSQL, Redis, restart
policies, health checks, secrets only from the environment or files).

No Docker engine or compose plugin runs here (Debian 12 has neither the plugin nor an engine
that starts in this sandbox), so ``docker compose config`` is replaced by the same schema check
compose performs: the Compose Specification's JSON schema (vendored in docker/schema/, with
its source and licence), after compose's variable interpolation."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml
from sqlalchemy.engine import make_url

from bot.container import services as container_services

from .manifests import (
    COMPOSE,
    COMPOSE_SCHEMA,
    NOT_SETTINGS,
    ROOT,
    app_services,
    base_service,
    compose_raw,
    compose_resolved,
    credentials_for,
    interpolate,
    required_variables,
    setting_names,
)

SECRET_NAME = re.compile(r"(TOKEN|SECRET|PASSWORD|_KEY)$")


def validator() -> jsonschema.Draft7Validator:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def test_interpolation_follows_compose():
    env = {"A": "a", "EMPTY": ""}
    assert interpolate("${A} ${B:-b} ${EMPTY:-e} $${A}", env) == "a b e ${A}"
    with pytest.raises(KeyError, match="set B"):
        interpolate("${B:?set B}", env)
    with pytest.raises(KeyError):
        interpolate("${EMPTY:?set it}", env)


def test_compose_file_is_valid_against_the_compose_specification():
    errors = sorted(validator().iter_errors(compose_resolved()), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_check_rejects_what_compose_rejects():
    """The check is live: a misspelt key and a wrong type are errors, as in `docker compose config`."""
    broken = compose_resolved()
    broken["services"]["rasa-1"]["comand"] = broken["services"]["rasa-1"].pop("command")
    broken["services"]["proxy"]["ports"] = {"https": 443}
    messages = [e.message for e in validator().iter_errors(broken)]
    assert any("comand" in m for m in messages), messages
    assert any("is not of type 'array'" in m for m in messages), messages


def test_without_the_secrets_compose_refuses_to_start():
    """Every credential is `${NAME:?…}`: a missing one stops `docker compose` with its name."""
    for name in (
        "BA_SECRET_KEY",
        "RASA_API_TOKEN",
        "ACTION_SERVER_TOKEN",
        "PORTAL_API_TOKEN",
        "PORTAL_AUTHORITY_TOKEN",
        "PORTAL_CITIZEN_KEY",
        "POSTGRES_PASSWORD",
        "REDIS_PASSWORD",
        "TLS_CERT_FILE",
        "TLS_KEY_FILE",
    ):
        assert name in required_variables(), name
    env = {name: "x" for name in required_variables() - {"POSTGRES_PASSWORD"}}
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        interpolate(COMPOSE.read_text(), env)


def test_secrets_only_from_the_environment_or_files():
    raw = compose_raw()
    for name, service in raw["services"].items():
        env = service.get("environment") or {}
        for key, value in env.items():
            value = str(value)
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{" + key + r"(:[?-][^}]*)?\}", value), f"{name}: {key}={value!r}"
            if "://" in value and "@" in value:
                password = make_url(interpolate(value, {"POSTGRES_PASSWORD": "P", "REDIS_PASSWORD": "P"})).password
                assert password == "P", f"{name}: {key} has a password that is not from the environment"
    # TLS certificate and key: files, handed to the proxy as compose secrets.
    assert set(raw["secrets"]) == {"tls_cert", "tls_key"}
    assert all(s["file"].startswith("${") for s in raw["secrets"].values())
    proxy_conf = (ROOT / "docker" / "proxy-nginx.conf").read_text()
    assert "ssl_certificate     /run/secrets/tls_cert;" in proxy_conf
    assert "ssl_certificate_key /run/secrets/tls_key;" in proxy_conf


def test_each_service_gets_only_its_credentials():
    """The same least-privilege split as `make run` (SECRETS_FOR in bot/stack.py)."""
    compose = compose_resolved()
    for name, service in app_services(compose).items():
        if name == "migrate":
            continue
        given = {k for k in service["environment"] if SECRET_NAME.search(k) and "URL" not in k}
        assert given == credentials_for(base_service(name)), name


def test_two_rasa_replicas_and_two_action_servers_behind_the_proxy():
    compose = compose_resolved()
    apps = app_services(compose)
    by_command = {}
    for name, service in apps.items():
        by_command.setdefault(tuple(service["command"]), []).append(name)
    assert sorted(by_command[("run", "rasa")]) == ["rasa-1", "rasa-2"]
    assert sorted(by_command[("run", "action-server")]) == ["action-server-1", "action-server-2"]
    for single in ("portal-backend", "submission-worker", "login"):
        assert by_command[("run", single)] == [single]
    assert by_command[("migrate",)] == ["migrate"]
    for store in ("postgres", "redis", "proxy", "web"):
        assert store in compose["services"]
    # Only the proxy is published.
    published = {name for name, s in compose["services"].items() if s.get("ports")}
    assert published == {"proxy"}
    assert {p.split(":")[1] for p in compose["services"]["proxy"]["ports"]} == {"8080", "8443"}
    # Rasa reaches the action servers, and our services Rasa, through the proxy's load balancer.
    env = apps["rasa-1"]["environment"]
    assert env["ACTION_SERVER_URL"] == "http://proxy:5055/webhook"
    assert env["RASA_URL"] == "http://proxy:5005"
    assert env["TRACKER_STORE_URL"].startswith("postgresql://")
    assert env["LOCK_STORE_URL"].startswith("redis://") and env["WEBCHAT_REDIS_URL"].startswith("redis://")


def test_proxy_routes_to_services_that_exist_on_their_ports():
    compose = compose_resolved()
    ports = {name: s.port for name, s in container_services().items()}
    conf = (ROOT / "docker" / "proxy-nginx.conf").read_text()
    targets = set(re.findall(r"server\s+([a-z0-9-]+):(\d+)", conf))
    targets |= set(re.findall(r"proxy_pass\s+http://([a-z0-9-]+):(\d+)", conf))
    assert targets, "no upstream found"
    for host, port in targets:
        assert host in compose["services"], host
        if host == "web":
            assert port == "8080"
        else:
            assert int(port) == ports[base_service(host)], (host, port)
    for replica in ("rasa-1", "rasa-2", "action-server-1", "action-server-2"):
        assert (replica, str(ports[base_service(replica)])) in targets
    # socket.io: sticky per client and WebSocket upgrade.
    rasa_upstream = re.search(r"upstream rasa \{(.*?)\}", conf, re.S).group(1)
    assert "ip_hash;" in rasa_upstream
    assert "proxy_set_header Upgrade $http_upgrade;" in conf


def test_restart_policies_and_health_checks():
    compose = compose_resolved()
    for name, service in compose["services"].items():
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), f"{name} has no health check"
    for name in app_services(compose):
        if name != "migrate":
            assert compose["services"][name]["healthcheck"]["test"] == [
                "CMD",
                "python",
                "-m",
                "bot.container",
                "health",
            ]
    # Services start once the stores are healthy and the tables exist.
    for name, service in app_services(compose).items():
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
            assert service["depends_on"]["postgres"]["condition"] == "service_healthy", name


def test_environment_names_are_settings():
    """A misspelt variable would be ignored silently: every name is one of buergerassistent/settings.py."""
    names = setting_names() | NOT_SETTINGS
    for name, service in app_services(compose_resolved()).items():
        unknown = set(service["environment"]) - names
        assert not unknown, f"{name}: {sorted(unknown)}"


def test_postgres_init_creates_the_databases_the_urls_name():
    compose = compose_resolved()
    init = (ROOT / "docker" / "postgres-init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", init)) | {
        compose["services"]["postgres"]["environment"]["POSTGRES_DB"]
    }
    for service in app_services(compose).values():
        for key, value in service["environment"].items():
            if str(value).startswith("postgresql://"):
                assert make_url(value).database in created, key


def test_compose_file_is_plain_yaml_without_tabs():
    text = COMPOSE.read_text()
    assert "\t" not in text
    assert yaml.safe_load(text)["services"]
