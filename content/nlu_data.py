"""Read the NLU training files with line numbers, and append one example to them.

Lints need ``file:line`` for every example, which Rasa's loader does not keep; appending must
keep the file byte for byte as it was (comments, order, blank lines) apart from the new line.
So examples are located with ruamel.yaml (positions of the ``examples: |`` blocks) and a new
example is inserted as one text line after the last example of its intent; the result is parsed
again before it is written, so a broken file is never left behind.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ruamel.yaml import YAML

REPO_ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = REPO_ROOT / "nlu" / "data"

# Rasa's entity annotation: [text](entity), [text]{"entity": …}, [text][{…}]
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\}|\[[^\]]*\])")
_ENTITY_NAME = re.compile(r"\[([^\]]+)\]\(([^):]+)(?::([^)]+))?\)|\[([^\]]+)\]\{\s*\"entity\"\s*:\s*\"([^\"]+)\"")


@dataclass(frozen=True)
class Example:
    intent: str
    text: str  # as written, with entity annotations
    path: Path
    line: int  # 1-based

    @property
    def plain(self) -> str:
        return plain_text(self.text)

    @property
    def where(self) -> str:
        return f"{_rel(self.path)}:{self.line}"


@dataclass(frozen=True)
class Annotation:
    """An entity annotation in an example: the text, the entity and its synonym value."""

    text: str
    entity: str
    value: Optional[str]
    path: Path
    line: int


@dataclass(frozen=True)
class Synonym:
    value: str
    text: str
    path: Path
    line: int


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def plain_text(text: str) -> str:
    return _ANNOTATION.sub(lambda m: m.group(1), text).strip()


def normalise(text: str) -> str:
    """For comparing examples: case, punctuation and spacing do not make a new example."""
    text = plain_text(text).casefold()
    text = re.sub(r"[^\w\s-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def _yaml() -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    return y


def _block_lines(lines: list[str], value_line: int) -> Iterable[tuple[int, str]]:
    """(0-based line, example text) of a ``|`` block that starts after ``value_line``."""
    indent = None
    for i in range(value_line + 1, len(lines)):
        raw = lines[i]
        if not raw.strip():
            continue
        cur = len(raw) - len(raw.lstrip(" "))
        if indent is None:
            indent = cur
        if cur < indent:
            return
        stripped = raw.strip()
        if stripped.startswith("- "):
            yield i, stripped[2:].strip()
        elif stripped == "-":
            yield i, ""


def _items(path: Path):
    text = path.read_text(encoding="utf-8")
    data = _yaml().load(text) or {}
    return text.splitlines(), data.get("nlu") or []


def read_file(path: Path) -> tuple[list[Example], list[Synonym]]:
    lines, items = _items(path)
    examples: list[Example] = []
    synonyms: list[Synonym] = []
    for item in items:
        if not hasattr(item, "lc") or "examples" not in item:
            continue
        value_line = item.lc.value("examples")[0]
        for i, text in _block_lines(lines, value_line):
            if "intent" in item:
                examples.append(Example(str(item["intent"]), text, path, i + 1))
            elif "synonym" in item:
                synonyms.append(Synonym(str(item["synonym"]), text, path, i + 1))
    return examples, synonyms


def nlu_files(directory: Path = NLU_DIR) -> list[Path]:
    return sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))


def read_all(directory: Path = NLU_DIR) -> tuple[list[Example], list[Synonym]]:
    examples: list[Example] = []
    synonyms: list[Synonym] = []
    for path in nlu_files(directory):
        e, s = read_file(path)
        examples += e
        synonyms += s
    return examples, synonyms


def annotations(examples: Iterable[Example]) -> list[Annotation]:
    out = []
    for ex in examples:
        for m in _ENTITY_NAME.finditer(ex.text):
            if m.group(1) is not None:
                out.append(Annotation(m.group(1), m.group(2), m.group(3), ex.path, ex.line))
            else:
                out.append(Annotation(m.group(4), m.group(5), None, ex.path, ex.line))
    return out


def intents_in(examples: Iterable[Example]) -> Counter:
    return Counter(ex.intent for ex in examples)


def file_for_intent(intent: str, directory: Path = NLU_DIR, default: str = "review.yml") -> Path:
    """The file that holds most examples of ``intent`` (the right place for one more)."""
    examples, _ = read_all(directory)
    per_file = Counter(ex.path for ex in examples if ex.intent == intent)
    if per_file:
        return per_file.most_common(1)[0][0]
    return directory / default


class AppendError(ValueError):
    pass


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise AppendError("leeres Beispiel")
    return text


def append_example(intent: str, text: str, path: Optional[Path] = None, directory: Path = NLU_DIR) -> tuple[Path, int]:
    """Append ``text`` as an example of ``intent``; returns (file, 1-based line).

    Inserts one line after the intent's last example in the file (or a new intent block at
    the end); every other byte of the file stays as it was. Raises AppendError when the
    example is already there (in any file, compared case- and punctuation-insensitively).
    """
    text = _one_line(text)
    key = normalise(text)
    for ex in read_all(directory)[0]:
        if normalise(ex.text) == key:
            raise AppendError(f"schon vorhanden als Beispiel für '{ex.intent}' in {ex.where}")
    path = path or file_for_intent(intent, directory)
    if path.exists():
        original = path.read_text(encoding="utf-8")
        lines, items = _items(path)
    else:
        original, lines, items = 'version: "3.1"\nnlu:\n', ['version: "3.1"', "nlu:"], []
    target = None
    for item in items:
        if hasattr(item, "lc") and item.get("intent") == intent and "examples" in item:
            target = item
    if target is not None:
        value_line = target.lc.value("examples")[0]
        block = list(_block_lines(lines, value_line))
        if block:
            last, _ = block[-1]
            indent = lines[last][: len(lines[last]) - len(lines[last].lstrip(" "))]
        else:
            last, indent = value_line, " " * (target.lc.col + 4)
        new_lines = lines[: last + 1] + [f"{indent}- {text}"] + lines[last + 1 :]
        new_line_no = last + 2
    else:
        new_lines = list(lines)
        while new_lines and not new_lines[-1].strip():
            new_lines.pop()
        new_lines += ["", f"- intent: {intent}", "  examples: |", f"    - {text}"]
        new_line_no = len(new_lines)
    result = "\n".join(new_lines) + ("\n" if original.endswith("\n") or not path.exists() else "")
    # Parse again: the file must stay valid YAML and hold the new example where we think.
    check = _yaml().load(io.StringIO(result)) or {}
    found = any(
        hasattr(it, "get")
        and it.get("intent") == intent
        and f"- {text}" in [ln.strip() for ln in str(it.get("examples", "")).splitlines()]
        for it in check.get("nlu") or []
    )
    if not found:
        raise AppendError(f"{_rel(path)}: das Beispiel ließ sich nicht sicher einfügen")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(result, encoding="utf-8")
    return path, new_line_no
