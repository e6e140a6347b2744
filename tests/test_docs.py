"""The docs name only what exists: every repository path, `make` target and `python -m` module
mentioned in README.md, DEVELOPERS.md and docs/ (in backticks, code blocks or links)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", ROOT / "DEVELOPERS.md", *sorted((ROOT / "docs").glob("*.md"))]

# Paths that exist only at run time or after a build, never in a checkout.
RUNTIME_PREFIXES = (
    "var/",
    ".venv/",
    "build/",
    "test-artifacts/",
    "reports/latest/",
    "webchat/dist/",
    "node_modules/",
    "~/",
    "$",
)
# Named on purpose though they are not in the repository.
NOT_PATHS = {
    "catalogue/__init__.py",  # DEVELOPERS.md: there must be no such file
    "anwohnerparken_verlaengern.yaml",  # docs/redaktion.md: the example of a new entry an editor adds
}
PATH_LIKE = re.compile(r"^[A-Za-z0-9_.\-/]+$")
EXTENSIONS = (".py", ".yml", ".yaml", ".md", ".json", ".toml", ".txt", ".lock", ".conf", ".js", ".xml", ".cfg")
PLACEHOLDER = re.compile(r"[<>{}…*|]|\.\.\.")

TOP_LEVEL = {p.name for p in ROOT.iterdir()}
TRACKED = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()

SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")
MAKE = re.compile(r"(?:^|[\s;&(`])make((?:\s+-\S+)*)\s+([a-z][a-z0-9_-]*)")
PYTHON_M = re.compile(r"python(?:3(?:\.\d+)?)?\s+-m\s+([A-Za-z_][\w.]*)")


def code_of(text: str) -> list[str]:
    """The text of every code span and code block."""
    return [m.group(1) for m in FENCE.finditer(text)] + SPAN.findall(FENCE.sub("", text))


def path_candidates(code: str) -> set[str]:
    found = set()
    for word in code.split():
        word = word.strip("()[],;:\"'").split("::")[0].rstrip(":.,")
        if "=" in word:  # VAR=value or --flag=value: only a value that is a path counts
            word = word.rsplit("=", 1)[1]
        if not word or PLACEHOLDER.search(word) or "://" in word or word.startswith(("/", "-", "#")):
            continue
        if not PATH_LIKE.match(word) or word in NOT_PATHS or word.startswith(RUNTIME_PREFIXES):
            continue
        if word in EXTENSIONS:  # "(without `.yaml`)"
            continue
        # A word with a slash is a path when it names a folder (`tests/e2e/`), a file, or starts
        # at a top-level entry; "30/60", "SAML/OIDC" or "owner/repo" are not.
        if word.endswith(EXTENSIONS) or word.endswith("/") or ("/" in word and word.split("/")[0] in TOP_LEVEL):
            found.add(word)
    return found


def make_targets() -> set[str]:
    targets = set()
    for line in (ROOT / "Makefile").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\- ]+):(?!=)", line)
        if match:
            targets.update(match.group(1).split())
    return targets


def mentions(doc: Path):
    text = doc.read_text(encoding="utf-8")
    code = code_of(text)
    paths = set().union(*(path_candidates(c) for c in code)) if code else set()
    paths |= {
        link
        for link in LINK.findall(text)
        if "://" not in link and not link.startswith("mailto:") and not PLACEHOLDER.search(link)
    }
    makes = {m.group(2) for c in code for m in MAKE.finditer(c)}
    modules = {m for c in code for m in PYTHON_M.findall(c)}
    return paths, makes, modules


def exists(path: str, doc: Path) -> bool:
    """At the repository root or next to the doc; a bare file name or a folder named inside a
    row about its parent (`config.yml` of `bot/`) where some tracked path ends with it."""
    if (ROOT / path).exists() or (doc.parent / path).exists():
        return True
    if path.startswith(tuple(f"{top}/" for top in TOP_LEVEL)):
        return False  # a full path: it must be there
    tail = path.rstrip("/")
    return any(f == tail or f.endswith("/" + tail) or f"/{tail}/" in f"/{f}" for f in TRACKED)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_paths_exist(doc):
    paths, _, _ = mentions(doc)
    missing = sorted(p for p in paths if not exists(p, doc))
    assert not missing, f"{doc.name} names paths that are not in the repository: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_make_targets_exist(doc):
    _, makes, _ = mentions(doc)
    missing = sorted(makes - make_targets())
    assert not missing, f"{doc.name} names make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_named_modules_exist(doc):
    _, _, modules = mentions(doc)
    missing = sorted(m for m in modules if importlib.util.find_spec(m) is None)
    assert not missing, f"{doc.name} names `python -m` modules that do not exist: {missing}"


def test_test_names_in_docs_exist():
    """`tests/x.py::test_name` mentions point at a test that exists."""
    missing = []
    for doc in DOCS:
        for code in code_of(doc.read_text(encoding="utf-8")):
            for path, name, cut in re.findall(r"(tests/[\w/]+\.py)::(\w+)(…?)", code):
                file = ROOT / path
                # "test_long_name…" names the start of a test's name
                pattern = rf"def {name}" + ("" if cut else r"\b")
                if not file.exists() or not re.search(pattern, file.read_text()):
                    missing.append(f"{doc.name}: {path}::{name}")
    assert not missing, missing


def test_the_checker_finds_what_it_should():
    code = "`make bench-forms` `python -m bot run` `tests/e2e/` `var/tracker.db` `<id>.yaml` `https://x/y`"
    text = " ".join(code_of(code))
    assert path_candidates(text) == {"tests/e2e/"}
    assert {m.group(2) for m in MAKE.finditer(text)} == {"bench-forms"}
    assert PYTHON_M.findall(text) == ["bot"]
    assert {"run", "test", "bench", "check-content"} <= make_targets()
