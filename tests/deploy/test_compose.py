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
    OPTIONAL_SERVICES,
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
    assert interpolate("[${A:+x}] [${B:+x}] [${EMPTY:+x}]", env) == "[x] [] []"
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
        # Store URLs (which may hold a password) are checked per service by the stores' own tests.
        given = {k for k in service["environment"] if SECRET_NAME.search(k) and "URL" not in k}
        assert given == {c for c in credentials_for(base_service(name)) if "URL" not in c}, name


def test_two_rasa_replicas_and_two_action_servers_behind_the_proxy():
    compose = compose_resolved()
    apps = app_services(compose)
    by_command = {}
    for name, service in apps.items():
        by_command.setdefault(tuple(service["command"]), []).append(name)
    assert sorted(by_command[("run", "rasa")]) == ["rasa-1", "rasa-2"]
    assert sorted(by_command[("run", "action-server")]) == ["action-server-1", "action-server-2"]
    for single in ("portal-backend", "submission-worker", "login", *OPTIONAL_SERVICES):
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


# ------------------------------------------------------------------ optional services (issues 17, 19)


def test_optional_services_run_only_in_their_profile():
    """`docker compose up` without a profile starts neither; `--profile staff-desk` or
    `--profile matrix-connector` adds exactly that one."""
    compose = compose_resolved()
    profiled = {name: s["profiles"] for name, s in compose["services"].items() if "profiles" in s}
    assert profiled == {name: [name] for name in OPTIONAL_SERVICES}
    # Nothing that always runs waits for an optional service (compose would refuse to start it).
    for name, service in compose["services"].items():
        if name not in OPTIONAL_SERVICES:
            assert not set(service.get("depends_on") or {}) & OPTIONAL_SERVICES, name


def test_a_profile_s_variables_do_not_stop_compose_without_it():
    """Compose interpolates every service before it applies profiles, so a `${NAME:?…}` in an
    optional service would stop `docker compose up` for everyone without the staff desk. The
    services refuse to start themselves instead (test_optional_services_refuse_to_start_without_settings)."""
    raw = COMPOSE.read_text()
    for name in OPTIONAL_SERVICES:
        for key, value in compose_raw()["services"][name]["environment"].items():
            if key.startswith(("STAFF_", "MATRIX_")) and "$" in str(value):
                assert ":?" not in str(value), (name, key)
    staff_and_matrix = {n for n in required_variables() if n.startswith(("STAFF_", "MATRIX_", "TELEGRAM", "THREEMA"))}
    assert not staff_and_matrix, staff_and_matrix
    assert "profiles:" in raw


def test_desk_and_connector_urls_are_set_only_with_their_tokens():
    """The action servers offer the handoff only when STAFF_DESK_URL is set (actions/handoff.py):
    without --profile staff-desk it stays unset, so citizens are offered 115 and a call-back, not
    a desk that does not run. The same for Rasa's proactive messages to the Matrix connector."""
    off = app_services(compose_resolved())
    # Empty (compose interpolates parsed values: ""; this text-level check reads YAML's null).
    assert off["action-server-1"]["environment"]["STAFF_DESK_URL"] in ("", None)
    assert off["rasa-1"]["environment"]["MATRIX_CONNECTOR_URL"] in ("", None)
    on = app_services(compose_resolved({"STAFF_DESK_TOKEN": "s" * 32, "MATRIX_CHANNEL_TOKEN": "m" * 32}))
    ports = {name: s.port for name, s in container_services().items()}
    for replica in ("action-server-1", "action-server-2"):
        env = on[replica]["environment"]
        assert env["STAFF_DESK_URL"] == f"http://staff-desk:{ports['staff-desk']}"
        assert env["STAFF_DESK_TOKEN"] == on["staff-desk"]["environment"]["STAFF_DESK_TOKEN"] == "s" * 32
        # Office hours: the action server offers, the desk times out; both read the same values.
        assert env["HANDOFF_OFFICE_HOURS"] == on["staff-desk"]["environment"]["HANDOFF_OFFICE_HOURS"]
    for replica in ("rasa-1", "rasa-2"):
        env = on[replica]["environment"]
        assert env["MATRIX_CONNECTOR_URL"] == f"http://matrix-connector:{ports['matrix-connector']}"
        assert env["MATRIX_CHANNEL_TOKEN"] == on["matrix-connector"]["environment"]["MATRIX_CHANNEL_TOKEN"]
    # The connector reaches Rasa through the proxy, the desk Rasa's API and the portal as well.
    assert on["matrix-connector"]["environment"]["RASA_URL"] == "http://proxy:5005"
    desk = on["staff-desk"]["environment"]
    assert desk["PORTAL_BACKEND_URL"] == "http://portal-backend:8080"
    # Call-backs: the desk finds the reference number in the same outbox the action servers write,
    # and the handoff tables are shared with the action servers and Rasa (deleting a conversation).
    for key in ("OUTBOX_DATABASE_URL", "HANDOFF_DATABASE_URL"):
        assert desk[key] == on["action-server-1"]["environment"][key] == on["rasa-1"]["environment"][key]
        assert desk[key].startswith("postgresql://"), key


def test_matrix_device_keys_persist_across_restarts():
    compose = compose_resolved()
    connector = compose["services"]["matrix-connector"]
    store = connector["environment"]["MATRIX_STORE_DIR"]
    volumes = dict(v.split(":", 1) for v in connector["volumes"])
    assert volumes == {"matrix-store": store}
    assert "matrix-store" in compose["volumes"]  # named: outlives `docker compose down` and new images
    assert connector["restart"] == "unless-stopped"
    # The image creates the folder owned by the service user, so the new volume is writable by it.
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"install -d -o buerger -g buerger -m 0700 .*" + re.escape(store), dockerfile)


def test_messenger_channels_get_their_settings_only_in_rasa():
    """Telegram and Threema run inside the Rasa process: their settings reach the Rasa replicas
    and nobody else; the proxy publishes their webhooks (tests/deploy/test_proxy.py)."""
    compose = compose_resolved()
    names = {
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_WEBHOOK_SECRET",
        "THREEMA_GATEWAY_ID",
        "THREEMA_API_SECRET",
        "THREEMA_PRIVATE_KEY",
    }
    for name, service in app_services(compose).items():
        given = names & set(service["environment"])
        assert given == (names if name.startswith("rasa-") else set()), name
