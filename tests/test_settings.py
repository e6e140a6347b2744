"""One settings module (buergerassistent/settings.py): every variable documented there and in
.env.example, no environment reads elsewhere, none at import time, and the secret key required
in production."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from buergerassistent import settings as settings_module
from buergerassistent import signing
from buergerassistent.settings import (
    REPO_ROOT,
    Settings,
    SettingsError,
    env_example,
    get_settings,
    reload_settings,
)

ENV_EXAMPLE = REPO_ROOT / ".env.example"
REGENERATE = ".venv/bin/python -m buergerassistent.settings --env-example > .env.example"

# Our code: nothing here reads the environment but the settings module.
PACKAGES = (
    "buergerassistent",
    "actions",
    "rasa_runtime",
    "login_service",
    "delivery_worker",
    "portal_backend",
    "bot",
    "content",
    "benchmarks",
    "nlu",
    "catalogue",
)
SETTINGS_MODULE = "buergerassistent/settings.py"
# The documented exceptions: each touches os.environ for someone else, never to read a setting.
EXCEPTIONS = {
    "buergerassistent/math_threads.py": "sets the numeric libraries' thread counts before numpy loads",
    "bot/stack.py": "builds the environment of the services it starts from ours",
    "bot/cli.py": "`make run`: writes the local demo's BA_LOGIN_REQUIRED=0 for the services it starts",
    "bot/training.py": "environment of the `rasa train` child (TF_CPP_MIN_LOG_LEVEL)",
    "content/lint.py": "environment of the Rasa child it runs (TF_CPP_MIN_LOG_LEVEL, PYTHONWARNINGS)",
    "content/evaluate.py": "TF_CPP_MIN_LOG_LEVEL for TensorFlow in this process",
    "content/evaluate_external.py": "TF_CPP_MIN_LOG_LEVEL and a fresh RASA_CACHE_DIRECTORY for the fold models it trains",
    "content/intent_experiments.py": "TF_CPP_MIN_LOG_LEVEL and a fresh RASA_CACHE_DIRECTORY for the fold models it records",
    "benchmarks/bench_training.py": "environment of the `rasa train` children (TF_*, RASA_CACHE_DIRECTORY)",
    "benchmarks/bench_rest.py": "environment of the reference Rasa; SANIC_WORKERS, which Rasa reads",
    "benchmarks/bench_forms.py": "WEBCHAT_RATE_LIMIT for the stack it starts (scripted citizens)",
    "benchmarks/bench_reliability.py": "environment of the services it starts, and its own (then reload_settings)",
    "benchmarks/bench_replicas.py": "environment of the `rasa train` child for the second model (TF_CPP_MIN_LOG_LEVEL)",
    "benchmarks/bench_matrix.py": "MATRIX_STORE_DATABASE_URL for the connector of the stack it starts (--store-postgres)",
    "benchmarks/bench_reliability_fit.py": "short retry delays for itself (then reload_settings), PYTHONPATH of the double",
}
ENV_NAMES = {"environ", "environb", "getenv", "putenv", "unsetenv"}


def env_accesses(path: Path) -> list[int]:
    """Lines where ``path`` touches the process environment through ``os``."""
    tree = ast.parse(path.read_text(), str(path))
    lines = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ENV_NAMES
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
        ):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(alias.name in ENV_NAMES for alias in node.names)
        ):
            lines.append(node.lineno)
    return lines


def our_modules() -> list[Path]:
    return sorted(
        p for package in PACKAGES for p in (REPO_ROOT / package).rglob("*.py") if "node_modules" not in p.parts
    )


def test_env_example_is_in_sync_with_the_settings():
    assert ENV_EXAMPLE.exists(), f".env.example fehlt: bitte erzeugen mit `{REGENERATE}`"
    assert ENV_EXAMPLE.read_text() == env_example(), (
        f".env.example passt nicht zu buergerassistent/settings.py: bitte neu erzeugen mit `{REGENERATE}`"
    )


def test_env_example_lists_every_variable_with_meaning_and_default():
    text = ENV_EXAMPLE.read_text()
    for name, field in Settings.__fields__.items():
        assert field.field_info.description, f"{name.upper()} has no description"
        assert f"\n#{name.upper()}=" in text
    assert "#BA_ENV=development" in text and "#BA_SECRET_KEY=\n" in text
    assert "#WEBCHAT_RATE_LIMIT=30/60" in text


def test_no_module_reads_the_environment_outside_the_settings_module():
    found = {}
    for path in our_modules():
        rel = path.relative_to(REPO_ROOT).as_posix()
        if rel == SETTINGS_MODULE:
            continue
        lines = env_accesses(path)
        if lines:
            found[rel] = lines
    unexpected = {rel: lines for rel, lines in found.items() if rel not in EXCEPTIONS}
    assert not unexpected, (
        f"os.environ/os.getenv outside {SETTINGS_MODULE}: {unexpected}; "
        "read settings through buergerassistent.settings.get_settings()"
    )
    stale = sorted(set(EXCEPTIONS) - set(found))
    assert not stale, f"exceptions that no longer touch the environment (remove them): {stale}"


def test_the_scan_finds_every_form_of_environment_access(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import os\nfrom os import getenv\nos.environ.get('A')\nos.getenv('B')\nx = os.environ['C']\n")
    assert sorted(env_accesses(sample)) == [2, 3, 4, 5]


def test_importing_our_modules_reads_no_setting():
    """An invalid BA_ENV makes every settings read fail: importing must not read any."""
    code = (
        "import importlib, pkgutil, sys\n"
        f"packages = {list(PACKAGES[:8])!r}\n"
        "names = []\n"
        "for name in packages:\n"
        "    package = importlib.import_module(name)\n"
        "    names += [m.name for m in pkgutil.walk_packages(package.__path__, name + '.')\n"
        "              if not m.name.endswith('__main__')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    env = dict(os.environ, BA_ENV="not-an-environment", TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) > 50


def test_settings_are_read_on_first_use_and_again_after_reload(monkeypatch):
    monkeypatch.setenv("BA_TRACKER_CACHE_SIZE", "7")
    assert get_settings().ba_tracker_cache_size == 7
    os.environ["BA_TRACKER_CACHE_SIZE"] = "8"
    try:
        assert get_settings().ba_tracker_cache_size == 7  # cached
        assert reload_settings().ba_tracker_cache_size == 8
    finally:
        del os.environ["BA_TRACKER_CACHE_SIZE"]


def test_var_dir_is_resolved_in_one_place(monkeypatch, tmp_path):
    from bot.settings import Settings as StackSettings
    from buergerassistent import storage
    from login_service.settings import _var_dir
    from rasa_runtime.channels.webchat.settings import WebChatSettings

    monkeypatch.delenv("BA_VAR_DIR", raising=False)
    assert get_settings().var_dir == REPO_ROOT / "var"
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    assert storage.var_dir() == _var_dir() == StackSettings().var_dir == tmp_path
    assert WebChatSettings().upload_dir == tmp_path / "uploads"
    assert storage.database_url("OUTBOX_DATABASE_URL", "outbox.db") == f"sqlite:///{tmp_path / 'outbox.db'}"


def test_an_empty_value_counts_as_unset(monkeypatch):
    monkeypatch.setenv("RASA_PORT", "")
    monkeypatch.setenv("WEBCHAT_RATE_LIMIT", " ")
    monkeypatch.setenv("BA_VAR_DIR", "")
    settings = get_settings()
    assert settings.rasa_port == 5005 and settings.webchat_rate_limit == "30/60"
    assert settings.var_dir == REPO_ROOT / "var"


def test_an_invalid_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("WEBCHAT_MAX_UPLOADS", "viele")
    with pytest.raises(SettingsError, match="Ungültige Einstellung WEBCHAT_MAX_UPLOADS"):
        get_settings()


def test_development_is_the_default_and_keeps_the_generated_key(monkeypatch, tmp_path):
    monkeypatch.delenv("BA_ENV", raising=False)
    monkeypatch.delenv("BA_SECRET_KEY", raising=False)
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    signing.secret_key.cache_clear()
    try:
        assert not get_settings().production
        key = signing.secret_key()
        assert key == (tmp_path / "secret.key").read_text().strip().encode()
    finally:
        signing.secret_key.cache_clear()


def test_production_requires_the_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("BA_ENV", "production")
    monkeypatch.delenv("BA_SECRET_KEY", raising=False)
    monkeypatch.setenv("BA_VAR_DIR", str(tmp_path))
    with pytest.raises(SettingsError, match="BA_SECRET_KEY fehlt.*BA_ENV=production"):
        get_settings()
    signing.secret_key.cache_clear()
    with pytest.raises(SettingsError):
        signing.secret_key()
    assert not (tmp_path / "secret.key").exists()  # no per-replica key in production
    monkeypatch.setenv("BA_SECRET_KEY", "k" * 64)
    try:
        assert get_settings().production
        assert signing.secret_key() == b"k" * 64
    finally:
        signing.secret_key.cache_clear()


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("BA_ENV", "prod")
    with pytest.raises(SettingsError, match="BA_ENV"):
        get_settings()


@pytest.mark.parametrize("module", ["portal_backend", "delivery_worker", "actions.server", "login_service"])
def test_a_service_in_production_without_key_stops_at_start_up_with_a_german_message(module, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "BA_SECRET_KEY"}
    env.update(BA_ENV="production", BA_VAR_DIR=str(tmp_path), ACTION_SERVER_TOKEN="t" * 40)
    result = subprocess.run(
        [sys.executable, "-m", module], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Start abgebrochen: BA_SECRET_KEY fehlt" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "secret.key").exists()


def test_markdown_table_lists_every_variable():
    table = settings_module.markdown_table()
    for name in Settings.__fields__:
        assert f"| `{name.upper()}` |" in table
