"""The procedure catalogue: the single source of truth for every procedure.

The data is one YAML file per procedure in ``catalogue/procedures/`` at the repository root.
This code lives here and not in a ``catalogue`` package because spaCy depends on the PyPI
package ``catalogue``, which such a package would shadow. Forms, domain fragments, lookup
tables and docs are derived from it (see ``bot.generate``) and checked to be in sync.

Besides the curated (hand-written) entries, ``catalogue/imported/<source>/*.yaml`` holds entries
generated from public service catalogues (today the City of Munich, written by
``python catalogue/import_munich.py``). They are informational only (no forms), their ids carry
the source prefix (``muenchen_…``) and ``Procedure.curated`` is False. A Munich service that a
curated entry merges (``source.munich_service_id``, ``source.munich_merged_ids``) is not imported
separately. See ``catalogue/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
PROCEDURES_DIR = CATALOGUE_DIR / "procedures"
IMPORTED_DIR = CATALOGUE_DIR / "imported"

TRUST_LEVELS = ("basisregistriert", "substantiell", "hoch")


class CatalogueError(ValueError):
    """A catalogue file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    prompt: str
    help: str = ""
    required: bool = True
    prefill: Optional[str] = None
    example: Optional[str] = None
    choices: tuple[Choice, ...] = ()
    # Other words citizens use for this field ("PLZ", "Nachname"): corrections name fields so.
    synonyms: tuple[str, ...] = ()
    # Why the authority needs the value ("warum braucht ihr …?"): one or two plain sentences.
    why: str = ""


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Procedure:
    id: str
    name: str
    description: str
    leika: Optional[str] = None
    synonyms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    fees: Optional[str] = None
    processing_time: Optional[str] = None
    authority: Optional[str] = None
    online_available: Optional[bool] = None
    trust_level: Optional[str] = None
    in_person: Optional[bool] = None
    links: tuple[Link, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()
    # True for hand-written entries (catalogue/procedures/), False for generated imports.
    curated: bool = True
    # Optional key `withdrawable: true`: the citizen may withdraw a submitted application in
    # the chat. Default false: without it the assistant never claims withdrawal is possible.
    withdrawable: bool = False
    # `changes_register: true|false`: the application changes a register about the citizen
    # (Melderegister, Fahrzeugregister, …); then it needs `online.trust_level` (content/lint.py).
    # Every entry with a form must say so; None = not stated.
    changes_register: Optional[bool] = None

    @property
    def has_form(self) -> bool:
        return bool(self.fields)

    @property
    def form_name(self) -> str:
        return f"{self.id}_form"

    @property
    def munich_service_ids(self) -> tuple[str, ...]:
        """Munich services this entry describes: the primary one first, then merged ones."""
        ids = []
        if self.source.get("munich_service_id"):
            ids.append(str(self.source["munich_service_id"]))
        ids += [str(i) for i in _tuple(self.source.get("munich_merged_ids"))]
        return tuple(ids)

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def _tuple(value: Any) -> tuple:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        return tuple(value)
    return (value,)


def _parse_field(raw: dict[str, Any], where: str) -> Field:
    for key in ("name", "label", "type", "prompt"):
        if not raw.get(key):
            raise CatalogueError(f"{where}: form field without '{key}'")
    choices = tuple(
        Choice(
            value=str(c["value"]),
            label=str(c.get("label", c["value"])),
            synonyms=tuple(str(s) for s in _tuple(c.get("synonyms"))),
        )
        for c in _tuple(raw.get("choices"))
    )
    if raw["type"] == "choice" and not choices:
        raise CatalogueError(f"{where}: field '{raw['name']}' of type choice has no choices")
    return Field(
        name=str(raw["name"]),
        label=str(raw["label"]),
        type=str(raw["type"]),
        prompt=str(raw["prompt"]).strip(),
        help=str(raw.get("help") or "").strip(),
        required=bool(raw.get("required", True)),
        prefill=raw.get("prefill"),
        example=None if raw.get("example") is None else str(raw["example"]),
        choices=choices,
        synonyms=tuple(str(s) for s in _tuple(raw.get("synonyms"))),
        why=str(raw.get("why") or "").strip(),
    )


def parse_procedure(raw: dict[str, Any], where: str = "<catalogue>", curated: bool = True) -> Procedure:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: expected a mapping")
    for key in ("id", "name", "description"):
        if not raw.get(key):
            raise CatalogueError(f"{where}: missing '{key}'")
    online = raw.get("online") or {}
    trust = online.get("trust_level")
    if trust is not None and trust not in TRUST_LEVELS:
        raise CatalogueError(f"{where}: trust_level must be one of {TRUST_LEVELS}, not {trust!r}")
    changes_register = raw.get("changes_register")
    if changes_register is not None and not isinstance(changes_register, bool):
        raise CatalogueError(f"{where}: changes_register must be true or false, not {changes_register!r}")
    form = raw.get("form") or {}
    fields = tuple(_parse_field(f, where) for f in _tuple(form.get("fields")))
    names = [f.name for f in fields]
    if len(names) != len(set(names)):
        raise CatalogueError(f"{where}: duplicate field names in form")
    return Procedure(
        id=str(raw["id"]),
        name=str(raw["name"]),
        description=str(raw["description"]).strip(),
        leika=None if raw.get("leika") is None else str(raw["leika"]),
        synonyms=tuple(str(s) for s in _tuple(raw.get("synonyms"))),
        keywords=tuple(str(s) for s in _tuple(raw.get("keywords"))),
        documents=tuple(str(s) for s in _tuple(raw.get("documents"))),
        fees=raw.get("fees"),
        processing_time=raw.get("processing_time"),
        authority=raw.get("authority"),
        online_available=online.get("available"),
        trust_level=trust,
        in_person=raw.get("in_person"),
        links=tuple(Link(title=str(link["title"]), url=str(link["url"])) for link in _tuple(raw.get("links"))),
        source=dict(raw.get("source") or {}),
        fields=fields,
        curated=curated,
        withdrawable=raw.get("withdrawable") is True,
        changes_register=changes_register,
    )


# libyaml's safe loader when available: ~10x faster, and the catalogue has ~300 files.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path, curated: bool = True) -> Procedure:
    with path.open(encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=_SafeLoader)
    proc = parse_procedure(raw, where=str(path), curated=curated)
    if not curated and proc.has_form:
        raise CatalogueError(f"{path}: imported entries carry no form")
    if proc.id != path.stem:
        raise CatalogueError(f"{path}: id '{proc.id}' differs from the file name")
    return proc


class Catalogue:
    """All procedures, by id, in a stable order."""

    def __init__(self, procedures: list[Procedure]):
        self._by_id = {p.id: p for p in sorted(procedures, key=lambda p: p.id)}
        if len(self._by_id) != len(procedures):
            raise CatalogueError("duplicate procedure ids in the catalogue")

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, proc_id: object) -> bool:
        return proc_id in self._by_id

    def get(self, proc_id: Optional[str]) -> Optional[Procedure]:
        return self._by_id.get(proc_id) if proc_id else None

    def __getitem__(self, proc_id: str) -> Procedure:
        return self._by_id[proc_id]

    def with_forms(self) -> list[Procedure]:
        return [p for p in self if p.has_form]

    def curated(self) -> list[Procedure]:
        """Hand-written entries (catalogue/procedures/)."""
        return [p for p in self if p.curated]

    def imported(self) -> list[Procedure]:
        """Generated entries (catalogue/imported/)."""
        return [p for p in self if not p.curated]

    def by_form_name(self, form_name: str) -> Optional[Procedure]:
        if not form_name or not form_name.endswith("_form"):
            return None
        return self.get(form_name[: -len("_form")])


_DEFAULT: Any = object()


def _check_merges(procedures: list[Procedure]) -> None:
    owner: dict[str, str] = {}
    for proc in procedures:
        for sid in proc.munich_service_ids:
            if sid in owner:
                raise CatalogueError(
                    f"Munich service {sid} is described by both '{owner[sid]}' and '{proc.id}'"
                    " (after changing a curated entry's source.munich_service_id, re-run"
                    " python catalogue/import_munich.py)"
                )
            owner[sid] = proc.id


def load_catalogue(directory: Path = PROCEDURES_DIR, imported_dir: Any = _DEFAULT) -> Catalogue:
    """Curated entries from ``directory`` plus generated ones from ``imported_dir/*/*.yaml``.

    ``imported_dir`` defaults to ``catalogue/imported`` when ``directory`` is the shipped
    ``catalogue/procedures`` and to nothing otherwise (a test's own folder loads alone); pass
    ``None`` to load the curated entries only.
    """
    paths = sorted(Path(directory).glob("*.yaml"))
    procedures = [load_file(p) for p in paths]
    if imported_dir is _DEFAULT:
        imported_dir = IMPORTED_DIR if Path(directory).resolve() == PROCEDURES_DIR else None
    if imported_dir is not None:
        procedures += [load_file(p, curated=False) for p in sorted(Path(imported_dir).glob("*/*.yaml"))]
    _check_merges(procedures)
    return Catalogue(procedures)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped in the repository, loaded once per process."""
    return load_catalogue()
