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

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

import yaml

CATALOGUE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
PROCEDURES_DIR = CATALOGUE_DIR / "procedures"
IMPORTED_DIR = CATALOGUE_DIR / "imported"
# Hand-written information entries for frequent topics outside the core procedures (ids info_…):
# who is responsible and where to turn, with their source; no form (catalogue/README.md).
INFORMATION_DIR = CATALOGUE_DIR / "information"

TRUST_LEVELS = ("basisregistriert", "substantiell", "hoch")

SUBMISSION_ROUTES = ("portal",)

# Facts of an entry that carry a source and the date it was checked (``fact_sources:``), and that
# may be marked ``{unknown: <reason>, ask: <where to ask>}`` instead of a value.
FACTS = ("documents", "fees", "processing_time", "deadlines", "authority", "online")
UNKNOWABLE_FACTS = ("documents", "fees", "processing_time", "deadlines")  # and online: {unknown, ask}
_DATE = re.compile(r"^\d{4}-\d{2}(-\d{2})?$")


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
    # The FIM data field this field fills (``F…`` or ``{id, group}``; buergerassistent/fim_mapping.py).
    fim: Any = None
    # Asked only when an earlier field has this answer (``ask_if: {field: …, value: …}``), else it
    # takes ``otherwise`` (the answer the earlier one already gave): buergerassistent/form_conditions.py.
    ask_if: Optional[tuple[str, str]] = None
    otherwise: Optional[str] = None


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class FactSource:
    """Where a fact comes from and when we checked it.

    ``source`` names it ("Stadt München, Dienstleistungskatalog, Leistung 1063441"; "§ 17
    Bundesmeldegesetz"), ``short`` is the name for answers (default: ``source`` up to the first
    comma), ``as_of`` the date of the source data (YYYY-MM[-DD]), ``checked`` the day we checked.
    """

    source: str
    checked: str
    as_of: Optional[str] = None
    short: Optional[str] = None
    url: Optional[str] = None

    @property
    def label(self) -> str:
        """ "Quelle: Stadt München, Stand 06/2026" (the month of ``as_of``, else of ``checked``)."""
        name = self.short or self.source.split(",")[0].strip()
        year, month = (self.as_of or self.checked).split("-")[:2]
        return f"Quelle: {name}, Stand {month}/{year}"


@dataclass(frozen=True)
class Unknown:
    """A fact the catalogue does not know, on purpose: why, and where the citizen can ask."""

    reason: str
    ask: str


@dataclass(frozen=True)
class Deadline:
    """A deadline as a short text; ``date`` when it is one fixed day (then answers can say
    whether it has passed)."""

    text: str
    date: Optional[dt.date] = None


@dataclass(frozen=True)
class Contact:
    """The responsible office's contact data (see /work/wt/CONTACT_SCHEMA.md); None = unknown."""

    name: str
    source: str
    phone: Optional[str] = None
    email: Optional[str] = None
    opening_hours: Optional[str] = None
    address: Optional[str] = None
    url: Optional[str] = None
    appointment_url: Optional[str] = None
    as_of: Optional[str] = None
    checked: Optional[str] = None


@dataclass(frozen=True)
class Procedure:
    id: str
    name: str
    description: str
    leika: Optional[str] = None
    synonyms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    # Optional ``defining_terms``: the words that name this entry's thing ("Kirche" for the church
    # exit). When set, the entry is presented as THE answer only to a request that has one of them
    # (a word or a compound part); "aus dem Sportverein austreten" matches "Austritt" but not
    # "Kirche" (discovery.DEFINING_MISSING). Each must be a word of its name, synonyms or keywords.
    defining_terms: tuple[str, ...] = ()
    # Optional ``event_terms``: the words that name the event a report is about ("verloren",
    # "gestohlen" for the lost-ID report). A request that asks for a document ("Reisepass
    # beantragen") and names none of them is not about this entry (discovery.EVENT_MISSING).
    event_terms: tuple[str, ...] = ()
    documents: tuple[str, ...] = ()
    fees: Optional[str] = None
    processing_time: Optional[str] = None
    deadlines: tuple[Deadline, ...] = ()
    authority: Optional[str] = None
    online_available: Optional[bool] = None
    trust_level: Optional[str] = None
    in_person: Optional[bool] = None
    links: tuple[Link, ...] = ()
    source: dict[str, Any] = field(default_factory=dict)
    fields: tuple[Field, ...] = ()
    # True for hand-written entries (catalogue/procedures/), False for generated imports.
    curated: bool = True
    # True for the information entries of catalogue/information/ (not curated, not imported).
    information: bool = False
    # Optional key `withdrawable: true`: the citizen may withdraw a submitted application in
    # the chat. Default false: without it the assistant never claims withdrawal is possible.
    withdrawable: bool = False
    # `changes_register: true|false`: the application changes a register about the citizen
    # (Melderegister, Fahrzeugregister, …); then it needs `online.trust_level` (content/lint.py).
    # Every entry with a form must say so; None = not stated.
    changes_register: Optional[bool] = None
    # Per fact (FACTS, or "default" for all without their own): source and date checked.
    fact_sources: dict[str, FactSource] = field(default_factory=dict)
    # Facts marked unknown on purpose: {fact: Unknown(reason, ask)}.
    unknown: dict[str, Unknown] = field(default_factory=dict)
    contact: Optional[Contact] = None
    # FIM master data schema the destination expects (``fim_schema: {id: S…, version}``); with it
    # every form field names its FIM data field (buergerassistent/fim_mapping.py, FIT-Connect).
    fim_schema: Optional[str] = None
    fim_schema_version: Optional[str] = None
    # Where a confirmed application goes (``submission_route:``). ``portal``: always to the portal
    # backend, i.e. to the portal's own staff (the call-back request), never over FIT-Connect to
    # an authority. None: as the operator configures (SUBMISSION_BACKEND, FITCONNECT_PROCEDURES).
    submission_route: Optional[str] = None

    def source_of(self, fact: str) -> Optional[FactSource]:
        """The source of one fact: its own entry in ``fact_sources``, else the default."""
        return self.fact_sources.get(fact) or self.fact_sources.get("default")

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
        fim=raw.get("fim"),
        **_parse_ask_if(raw, where),
    )


def _parse_ask_if(raw: dict[str, Any], where: str) -> dict[str, Any]:
    condition = raw.get("ask_if")
    if condition is None:
        if raw.get("otherwise") is not None:
            raise CatalogueError(f"{where}: field '{raw['name']}' has 'otherwise' but no 'ask_if'")
        return {}
    if not (isinstance(condition, dict) and condition.get("field") and condition.get("value") is not None):
        raise CatalogueError(f"{where}: field '{raw['name']}': ask_if must be {{field, value}}")
    if raw.get("otherwise") is None:
        raise CatalogueError(f"{where}: field '{raw['name']}': ask_if needs 'otherwise' (the value when not asked)")
    return {"ask_if": (str(condition["field"]), str(condition["value"])), "otherwise": str(raw["otherwise"])}


def _date_text(value: Any, where: str, what: str, required: bool = True) -> Optional[str]:
    if value is None and not required:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if not isinstance(value, str) or not _DATE.match(value):
        raise CatalogueError(f"{where}: {what} must be a date YYYY-MM-DD or YYYY-MM, not {value!r}")
    return value


def _parse_fact_sources(raw: Any, where: str) -> dict[str, FactSource]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: fact_sources must be a mapping fact -> {{source, checked}}")
    out = {}
    for fact, spec in raw.items():
        if fact not in (*FACTS, "default"):
            raise CatalogueError(f"{where}: fact_sources: unknown fact {fact!r} (allowed: default, {', '.join(FACTS)})")
        if not isinstance(spec, dict) or not spec.get("source"):
            raise CatalogueError(f"{where}: fact_sources.{fact} needs 'source'")
        out[fact] = FactSource(
            source=str(spec["source"]).strip(),
            checked=_date_text(spec.get("checked"), where, f"fact_sources.{fact}.checked"),
            as_of=_date_text(spec.get("as_of"), where, f"fact_sources.{fact}.as_of", required=False),
            short=None if spec.get("short") is None else str(spec["short"]).strip(),
            url=None if spec.get("url") is None else str(spec["url"]),
        )
    return out


def _is_unknown(value: Any) -> bool:
    return isinstance(value, dict) and "unknown" in value


def _parse_unknown(fact: str, value: dict, where: str) -> Unknown:
    reason, ask = value.get("unknown"), value.get("ask")
    if not isinstance(reason, str) or not reason.strip() or not isinstance(ask, str) or not ask.strip():
        raise CatalogueError(f"{where}: {fact}: unknown needs a reason text and 'ask' (where to ask)")
    return Unknown(reason=reason.strip(), ask=ask.strip())


def _parse_deadline(item: Any, where: str) -> Deadline:
    if isinstance(item, str):
        return Deadline(text=item.strip())
    if isinstance(item, dict) and item.get("text"):
        day = item.get("date")
        if day is not None and not isinstance(day, dt.date):
            try:
                day = dt.date.fromisoformat(str(day))
            except ValueError:
                raise CatalogueError(f"{where}: deadline date must be YYYY-MM-DD, not {day!r}") from None
        return Deadline(text=str(item["text"]).strip(), date=day)
    raise CatalogueError(f"{where}: a deadline is a text or {{text, date}}, not {item!r}")


def _parse_contact(raw: Any, where: str) -> Optional[Contact]:
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw.get("name") or not raw.get("source"):
        raise CatalogueError(f"{where}: contact needs at least 'name' and 'source'")

    def text(key: str) -> Optional[str]:
        value = raw.get(key)
        return None if value is None else str(value).strip()

    return Contact(
        name=str(raw["name"]).strip(),
        source=str(raw["source"]).strip(),
        phone=text("phone"),
        email=text("email"),
        opening_hours=text("opening_hours"),
        address=text("address"),
        url=text("url"),
        appointment_url=text("appointment_url"),
        as_of=_date_text(raw.get("as_of"), where, "contact.as_of", required=False),
        checked=_date_text(raw.get("checked"), where, "contact.checked", required=False),
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
    for i, f in enumerate(fields):
        # The deciding field comes first and is itself always asked: one level, in form order.
        if f.ask_if and not any(g.name == f.ask_if[0] and not g.ask_if for g in fields[:i]):
            raise CatalogueError(
                f"{where}: field '{f.name}': ask_if names '{f.ask_if[0]}', which must be an earlier field "
                "that is always asked"
            )
    unknown = {}
    facts = {key: raw.get(key) for key in UNKNOWABLE_FACTS}
    for fact in UNKNOWABLE_FACTS:
        if _is_unknown(facts[fact]):
            unknown[fact] = _parse_unknown(fact, facts[fact], where)
            facts[fact] = None
    if _is_unknown(online):
        if online.get("available") is not None:
            raise CatalogueError(f"{where}: online: either 'available' or 'unknown', not both")
        unknown["online"] = _parse_unknown("online", online, where)
    for fact in ("fees", "processing_time"):
        if facts[fact] is not None and not isinstance(facts[fact], str):
            raise CatalogueError(f"{where}: {fact} must be a text or {{unknown, ask}}")
    return Procedure(
        id=str(raw["id"]),
        name=str(raw["name"]),
        description=str(raw["description"]).strip(),
        leika=None if raw.get("leika") is None else str(raw["leika"]),
        synonyms=tuple(str(s) for s in _tuple(raw.get("synonyms"))),
        keywords=tuple(str(s) for s in _tuple(raw.get("keywords"))),
        defining_terms=tuple(str(s) for s in _tuple(raw.get("defining_terms"))),
        event_terms=tuple(str(s) for s in _tuple(raw.get("event_terms"))),
        documents=tuple(str(s) for s in _tuple(facts["documents"])),
        fees=facts["fees"],
        processing_time=None if facts["processing_time"] is None else facts["processing_time"].strip(),
        deadlines=tuple(_parse_deadline(d, where) for d in _tuple(facts["deadlines"])),
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
        fact_sources=_parse_fact_sources(raw.get("fact_sources"), where),
        unknown=unknown,
        contact=_parse_contact(raw.get("contact"), where),
        submission_route=_parse_submission_route(raw.get("submission_route"), where),
        **_parse_fim_schema(raw.get("fim_schema"), where),
    )


def _parse_submission_route(raw: Any, where: str) -> Optional[str]:
    if raw is not None and raw not in SUBMISSION_ROUTES:
        raise CatalogueError(f"{where}: submission_route must be one of {SUBMISSION_ROUTES}, not {raw!r}")
    return raw


def _parse_fim_schema(raw: Any, where: str) -> dict[str, Optional[str]]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"fim_schema": raw}
    if isinstance(raw, dict) and raw.get("id"):
        version = raw.get("version")
        return {"fim_schema": str(raw["id"]), "fim_schema_version": None if version is None else str(version)}
    raise CatalogueError(f"{where}: fim_schema must be an id (S…) or {{id, version}}")


# libyaml's safe loader when available: ~10x faster, and the catalogue has ~300 files.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_file(path: Path, curated: bool = True, information: bool = False) -> Procedure:
    with path.open(encoding="utf-8") as fh:
        raw = yaml.load(fh, Loader=_SafeLoader)
    proc = parse_procedure(raw, where=str(path), curated=curated and not information)
    if not proc.curated and proc.has_form:
        raise CatalogueError(f"{path}: imported and information entries carry no form")
    if information:
        if not proc.id.startswith("info_"):
            raise CatalogueError(f"{path}: information entry ids start with 'info_'")
        if not (proc.source or {}).get("url") or not (proc.source or {}).get("retrieved"):
            raise CatalogueError(f"{path}: information entries name their source (source.url, source.retrieved)")
        proc = replace(proc, information=True)
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
        return [p for p in self if not p.curated and not p.information]

    def information(self) -> list[Procedure]:
        """Hand-written information entries outside the core procedures (catalogue/information/)."""
        return [p for p in self if p.information]

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
    if imported_dir is not None and Path(directory).resolve() == PROCEDURES_DIR and INFORMATION_DIR.is_dir():
        procedures += [load_file(p, information=True) for p in sorted(INFORMATION_DIR.glob("*.yaml"))]
    _check_merges(procedures)
    return Catalogue(procedures)


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The catalogue shipped in the repository, loaded once per process."""
    return load_catalogue()
