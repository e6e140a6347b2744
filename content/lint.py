"""Content checks for editors: ``python -m content.lint`` (``make check-content``).

Runs ``rasa data validate`` and our own checks, each reported as ``file:line: FEHLER|Warnung:
text`` (German, for the editors). Exit code 1 when there is an error; warnings are printed only.

Checks:
* the same example under two intents (the model cannot learn both),
* too few examples for an intent,
* catalogue procedures that discovery cannot reach: a procedure's own name must rank it first,
  its synonyms should,
* form fields without a question (``utter_ask_…`` response) or with an unknown field type,
* facts of the core (curated) procedures: documents, fees, processing time, deadlines, authority
  and online must be stated, each with a source and the date it was checked; fees, processing
  time, deadlines and online may instead be marked ``{unknown: <reason>, ask: <where to ask>}``
  (an unknown documents list is an error),
* generated domain files out of date (``python -m bot generate``),
* inconsistent spelling: entity synonyms mapped to two values, entities not in the domain, the
  same term spelled differently in the catalogue, a field name with different labels,
* life situations (``catalogue/lebenslagen/``): missing name, id, intro, triggers or steps, an
  unknown catalogue id, the same trigger twice, a trigger that does not lead to its situation,
* English and Leichte-Sprache texts (``content/languages.py``): a core procedure's text in one
  language only, sentence length, long words, abbreviations and passive in Leichte Sprache.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from content import nlu_data
from content.languages import check_languages
from content.nlu_data import REPO_ROOT, Example, normalise

THRESHOLDS = REPO_ROOT / "quality" / "thresholds.yml"
DOMAIN_DIR = REPO_ROOT / "bot" / "domain"


@dataclass(frozen=True)
class Issue:
    level: str  # "error" | "warning"
    where: str  # "path:line"
    message: str

    def __str__(self) -> str:
        label = "FEHLER" if self.level == "error" else "Warnung"
        return f"{self.where}: {label}: {self.message}"


def error(where: str, message: str) -> Issue:
    return Issue("error", where, message)


def warning(where: str, message: str) -> Issue:
    return Issue("warning", where, message)


def settings() -> dict:
    with THRESHOLDS.open(encoding="utf-8") as fh:
        return (yaml.safe_load(fh) or {}).get("lint") or {}


def rel(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def line_of(path: Path, needle: str, key: Optional[str] = None) -> int:
    """1-based line of the first line holding ``needle`` (after ``key:`` if given), else 1."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError:
        return 1
    for i, line in enumerate(lines, 1):
        if needle in line and (
            key is None or re.search(rf"\b{re.escape(key)}\s*:", line) or line.strip().startswith("-")
        ):
            return i
    return 1


# --------------------------------------------------------------------------- domain
def domain_files(directory: Path = DOMAIN_DIR) -> list[Path]:
    return sorted(directory.rglob("*.yml"))


def merged_domain(directory: Path = DOMAIN_DIR) -> dict:
    merged: dict = {"intents": [], "entities": [], "forms": {}, "responses": {}, "actions": []}
    for path in domain_files(directory):
        with path.open(encoding="utf-8") as fh:
            part = yaml.safe_load(fh) or {}
        for intent in part.get("intents") or []:
            merged["intents"].append(intent if isinstance(intent, str) else next(iter(intent)))
        for entity in part.get("entities") or []:
            merged["entities"].append(entity if isinstance(entity, str) else next(iter(entity)))
        merged["forms"].update(part.get("forms") or {})
        merged["responses"].update(part.get("responses") or {})
        merged["actions"] += list(part.get("actions") or [])
    return merged


# --------------------------------------------------------------------------- checks
def check_duplicates(examples: list[Example]) -> list[Issue]:
    by_text: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_text[normalise(ex.text)].append(ex)
    issues = []
    for group in by_text.values():
        intents = sorted({ex.intent for ex in group})
        if len(intents) > 1:
            first = group[0]
            others = ", ".join(f"'{ex.intent}' ({ex.where})" for ex in group[1:] if ex.intent != first.intent)
            issues.append(
                error(
                    first.where,
                    f"„{first.plain}“ steht unter '{first.intent}' und unter {others}. "
                    "Ein Satz gehört zu genau einer Absicht: entfernen Sie ihn bei der falschen.",
                )
            )
        seen: dict[tuple[str, str], Example] = {}
        for ex in group:
            key = (ex.intent, ex.text.strip())
            if key in seen:
                issues.append(
                    warning(
                        ex.where,
                        f"„{ex.plain}“ steht zweimal unter '{ex.intent}' (auch {seen[key].where}); eine Zeile genügt.",
                    )
                )
            else:
                seen[key] = ex
    return issues


def check_example_counts(examples: list[Example], domain: dict, cfg: dict) -> list[Issue]:
    minimum = int(cfg.get("min_examples", 8))
    recommended = int(cfg.get("recommended_examples", 12))
    payload_only = set(cfg.get("payload_only_intents") or [])
    counts = nlu_data.intents_in(examples)
    first_line: dict[str, str] = {}
    for ex in examples:
        first_line.setdefault(ex.intent, ex.where)
    issues = []
    for intent in sorted(set(domain["intents"]) | set(counts)):
        if intent in payload_only:
            continue
        n = counts.get(intent, 0)
        where = first_line.get(intent) or f"{rel(DOMAIN_DIR)}:1"
        if n < minimum:
            issues.append(
                error(
                    where,
                    f"Absicht '{intent}' hat nur {n} Beispielsätze (mindestens "
                    f"{minimum}, besser {recommended}). Ergänzen Sie verschiedene Formulierungen.",
                )
            )
        elif n < recommended:
            issues.append(
                warning(
                    where,
                    f"Absicht '{intent}' hat {n} Beispielsätze; "
                    f"{recommended} oder mehr machen die Erkennung verlässlicher.",
                )
            )
    return issues


def check_discovery(catalogue=None) -> list[Issue]:
    """Every curated procedure must be found by its own name, and should be by its synonyms."""
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue
    from buergerassistent.procedure_finder import ranked

    catalogue = catalogue or default_catalogue()
    issues = []
    for proc in catalogue.curated():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        for term, kind in [(proc.name, "name"), *((s, "synonyms") for s in proc.synonyms)]:
            # As a citizen would type it; the intent says "a procedure is wanted".
            got = ranked(term, "request_procedure", 1.0, top=3)
            ids = [c.id for c in got]
            if ids[:1] == [proc.id]:
                continue
            where = f"{rel(path)}:{line_of(path, term, kind)}"
            found = ", ".join(f"{c.id} ({c.score:.2f})" for c in got) or "nichts"
            if kind == "name":
                issues.append(
                    error(
                        where,
                        f"Die Suche findet „{proc.name}“ mit ihrem eigenen Namen "
                        f"nicht an erster Stelle (gefunden: {found}). Bitte Name, "
                        "Synonyme oder Suchbegriffe schärfen.",
                    )
                )
            else:
                issues.append(
                    warning(where, f"Synonym „{term}“ führt nicht zuerst zu '{proc.id}' (gefunden: {found}).")
                )
    return issues


def check_defining_terms(catalogue=None) -> list[Issue]:
    """``defining_terms`` (the words that name an entry's thing; discovery.DEFINING_MISSING): each
    one is a word of the entry's own name, synonyms or keywords, and the name itself has one (else
    the entry could never be the answer even to its own name)."""
    from buergerassistent.catalogue import INFORMATION_DIR, PROCEDURES_DIR, default_catalogue
    from buergerassistent.discovery import Discovery

    catalogue = catalogue or default_catalogue()
    entries = [p for p in catalogue if p.defining_terms]
    if not entries:
        return []
    index = Discovery.from_catalogue(catalogue)
    issues = []
    for proc in entries:
        path = (INFORMATION_DIR if proc.information else PROCEDURES_DIR) / f"{proc.id}.yaml"
        own = "\n".join((proc.name, *proc.synonyms, *proc.keywords))
        for term in proc.defining_terms:
            where = f"{rel(path)}:{line_of(path, term, 'defining_terms')}"
            stems = index.defining_stems(term)
            if not stems:
                issues.append(error(where, f"Bestimmender Begriff „{term}“ enthält kein Suchwort."))
            elif not stems & index.request_terms(own):
                issues.append(
                    error(
                        where,
                        f"Bestimmender Begriff „{term}“ steht nicht in Name, Synonymen oder "
                        f"Suchbegriffen von '{proc.id}'. Bitte dort ergänzen.",
                    )
                )
        if index.names_defining(proc.id, proc.name) is False:
            where = f"{rel(path)}:{line_of(path, proc.name, 'name')}"
            issues.append(error(where, f"Der Name von '{proc.id}' enthält keinen seiner bestimmenden Begriffe."))
    return issues + _check_english_defining_terms(catalogue)


def _check_english_defining_terms(catalogue) -> list[Issue]:
    """The English ``defining_terms`` of a translation: words of its English name, synonyms or
    keywords, and only where the German entry declares some (they extend its rule)."""
    from buergerassistent import translations
    from buergerassistent.discovery_en import english_discovery

    index = None
    issues = []
    for proc in catalogue.curated():
        entry = translations.english(proc.id)
        if entry is None or not entry.defining_terms:
            continue
        path = translations.english_dir() / f"{proc.id}.yaml"
        where = f"{rel(path)}:{line_of(path, 'defining_terms')}"
        if not proc.defining_terms:
            issues.append(error(where, f"'{proc.id}': English defining_terms, but the German entry has none."))
            continue
        index = index or english_discovery(catalogue)
        own = "\n".join((entry.name, *entry.synonyms, *entry.keywords))
        for term in entry.defining_terms:
            if not index.defining_stems(term) & index.request_terms(own):
                issues.append(
                    error(where, f"'{proc.id}': „{term}“ is not a word of the English name, synonyms or keywords.")
                )
    return issues


def check_form_responses(domain: dict, catalogue=None) -> list[Issue]:
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue
    from buergerassistent.validation import FIELD_TYPES

    catalogue = catalogue or default_catalogue()
    issues = []
    responses = set(domain["responses"])
    actions = set(domain["actions"])
    for form, spec in sorted(domain["forms"].items()):
        for slot in (spec or {}).get("required_slots") or []:
            asks = {f"utter_ask_{form}_{slot}", f"utter_ask_{slot}"}
            if not asks & responses and not {f"action_ask_{form}_{slot}", f"action_ask_{slot}"} & actions:
                proc = catalogue.by_form_name(form)
                path = PROCEDURES_DIR / f"{proc.id}.yaml" if proc else DOMAIN_DIR
                issues.append(
                    error(
                        f"{rel(path)}:{line_of(path, slot, 'name') if proc else 1}",
                        f"Formular '{form}': keine Frage für das Feld '{slot}' "
                        f"(Antwort utter_ask_{form}_{slot} fehlt; `python -m bot generate`).",
                    )
                )
    for proc in catalogue.with_forms():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        for f in proc.fields:
            where = f"{rel(path)}:{line_of(path, f.name, 'name')}"
            if f.type not in FIELD_TYPES:
                issues.append(
                    error(where, f"Feld '{f.name}': unbekannter Typ '{f.type}' (erlaubt: {', '.join(FIELD_TYPES)}).")
                )
            if not f.help:
                issues.append(
                    warning(
                        where,
                        f"Feld '{f.name}': kein Hilfetext (help); auf "
                        "„Wozu brauchen Sie das?“ hat der Assistent dann keine Erklärung.",
                    )
                )
    return issues


def check_trust_levels(catalogue=None) -> list[Issue]:
    """A procedure that changes a register about the citizen (``changes_register: true``) must
    name the trust level of the login it needs; every procedure with a form must say whether it
    changes a register."""
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue

    catalogue = catalogue or default_catalogue()
    issues = []
    for proc in catalogue.curated():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        if proc.changes_register and not proc.trust_level:
            issues.append(
                error(
                    f"{rel(path)}:{line_of(path, 'trust_level', 'trust_level')}",
                    f"„{proc.name}“ ändert ein Register (changes_register: true), aber "
                    "online.trust_level fehlt: ohne Anmeldung könnte jeder im Namen anderer "
                    "Bürger handeln. Bitte das nötige Vertrauensniveau eintragen.",
                )
            )
        elif proc.has_form and proc.changes_register is None:
            issues.append(
                error(
                    f"{rel(path)}:1",
                    f"„{proc.name}“ hat ein Formular, sagt aber nicht, ob es ein Register ändert: "
                    "bitte `changes_register: true` oder `false` eintragen.",
                )
            )
    return issues


def check_fim_mappings(catalogue=None) -> list[Issue]:
    """FIT-Connect: the FIM mapping of every procedure that declares ``fim_schema`` (and of none
    that does not) is complete and names fields of the shipped schema
    (buergerassistent/fim_mapping.py)."""
    from buergerassistent import fim_mapping
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue

    catalogue = catalogue if catalogue is not None else default_catalogue().curated()
    issues = []
    for proc in catalogue:
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        where = f"{rel(path)}:{line_of(path, 'fim_schema', 'fim_schema') if path.is_file() else 1}"
        errors, notes = fim_mapping.check_mapping(proc)
        issues += [error(where, f"FIM-Zuordnung „{proc.name}“: {e}") for e in errors]
        issues += [warning(where, f"FIM-Zuordnung „{proc.name}“: {n}") for n in notes]
    return issues


FACT_LABELS = {
    "documents": "Unterlagen (documents)",
    "fees": "Gebühren (fees)",
    "processing_time": "Bearbeitungsdauer (processing_time)",
    "deadlines": "Fristen (deadlines)",
    "authority": "zuständige Stelle (authority)",
    "online": "online möglich (online.available)",
}
# Where a fact may be left unknown on purpose ({unknown, ask}); documents may not.
MAY_BE_UNKNOWN = ("fees", "processing_time", "deadlines", "online")
# A source checked longer ago than this gets a warning: facts change (fees, rules).
MAX_SOURCE_AGE_DAYS = 365


def _fact_value(proc, fact: str):
    return {
        "documents": proc.documents,
        "fees": proc.fees,
        "processing_time": proc.processing_time,
        "deadlines": proc.deadlines,
        "authority": proc.authority,
        "online": proc.online_available,
    }[fact]


def check_core_facts(catalogue=None, today=None) -> list[Issue]:
    """Every core (curated) procedure states its facts, each with source and date checked."""
    import datetime as dt

    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue

    catalogue = catalogue or default_catalogue()
    today = today or dt.date.today()
    issues = []
    for proc in catalogue.curated():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        for fact, label in FACT_LABELS.items():
            key = "online" if fact == "online" else fact
            where = f"{rel(path)}:{line_of(path, key + ':', key)}"
            value = _fact_value(proc, fact)
            known = value not in (None, (), "")
            if not known and fact in proc.unknown and fact not in MAY_BE_UNKNOWN:
                issues.append(
                    error(
                        where,
                        f"„{proc.name}“: {label} als unbekannt markiert. Für ein Kernverfahren muss "
                        "das bekannt sein: bitte aus dem Münchner Katalog oder sicherem Bundesrecht "
                        "eintragen, mit Quelle.",
                    )
                )
                continue
            if not known and fact not in proc.unknown:
                hint = (
                    " oder ausdrücklich `{unknown: <Grund>, ask: <wo nachfragen>}` eintragen"
                    if fact in MAY_BE_UNKNOWN
                    else ""
                )
                issues.append(error(where, f"„{proc.name}“: {label} fehlt. Bitte mit Quelle eintragen{hint}."))
                continue
            if not known:
                continue  # marked unknown with reason and where to ask (the loader checks both)
            source = proc.source_of(fact)
            if source is None:
                issues.append(
                    error(
                        where,
                        f"„{proc.name}“: {label} ohne Quelle. Bitte unter `fact_sources:` "
                        f"`{fact}:` oder `default:` mit `source:` und `checked:` (Datum) eintragen.",
                    )
                )
                continue
            checked = dt.date.fromisoformat(source.checked if len(source.checked) == 10 else source.checked + "-01")
            if checked > today:
                issues.append(error(where, f"„{proc.name}“: {label}: Prüfdatum {source.checked} liegt in der Zukunft."))
            elif (today - checked).days > MAX_SOURCE_AGE_DAYS:
                issues.append(
                    warning(
                        where,
                        f"„{proc.name}“: {label} zuletzt am {source.checked} geprüft; bitte neu prüfen.",
                    )
                )
    return issues


def check_life_situations(directory: Optional[Path] = None, catalogue=None) -> list[Issue]:
    """The life situations in ``catalogue/lebenslagen/``: well-formed, steps that exist in the
    catalogue, every trigger once (compared by its word stems, across files) and recognised as
    its own situation."""
    from buergerassistent import life_situations as ls
    from buergerassistent.catalogue import default_catalogue
    from buergerassistent.procedure_finder import discovery

    directory = Path(directory or ls.LEBENSLAGEN_DIR)
    catalogue = catalogue or default_catalogue()
    issues: list[Issue] = []
    parsed: list[tuple[Path, ls.LifeSituation]] = []
    seen_triggers: dict[frozenset[str], tuple[str, str]] = {}
    for path in sorted(directory.glob("*.yaml")):
        where = rel(path)
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            issues.append(error(f"{where}:{line}", f"kein gültiges YAML: {getattr(exc, 'problem', exc)}"))
            continue
        if not isinstance(raw, dict):
            issues.append(
                error(f"{where}:1", "Eine Lebenslage ist eine Zuordnung mit id, name, triggers, intro, steps.")
            )
            continue
        problems = False
        for key, what in (("id", "id"), ("name", "Name"), ("intro", "Einleitungssatz (intro)")):
            if not str(raw.get(key) or "").strip():
                issues.append(error(f"{where}:1", f"{what} fehlt."))
                problems = True
        if raw.get("id") and str(raw["id"]).strip() != path.stem:
            issues.append(
                error(
                    f"{where}:{line_of(path, 'id:')}",
                    f"id '{raw['id']}' muss gleich dem Dateinamen '{path.stem}' sein.",
                )
            )
            problems = True
        if not ls.as_strings(raw.get("triggers")):
            issues.append(error(f"{where}:{line_of(path, 'triggers')}", "Keine Auslöser (triggers)."))
            problems = True
        steps = raw.get("steps") or []
        if not isinstance(steps, list) or not steps:
            issues.append(error(f"{where}:{line_of(path, 'steps')}", "Keine Schritte (steps): die Liste wäre leer."))
            problems = True
            steps = []
        used: set[str] = set()
        for i, step in enumerate(steps, 1):
            proc_id = str(step.get("procedure") or "").strip() if isinstance(step, dict) else ""
            if not proc_id:
                issues.append(error(f"{where}:{line_of(path, 'steps')}", f"Schritt {i} ohne procedure (Katalog-id)."))
                problems = True
                continue
            at = f"{where}:{line_of(path, proc_id, 'procedure')}"
            if proc_id not in catalogue:
                issues.append(
                    error(
                        at,
                        f"Schritt {i}: unbekannte Katalog-id '{proc_id}' (catalogue/procedures, catalogue/imported).",
                    )
                )
            if proc_id in used:
                issues.append(warning(at, f"Schritt {i}: '{proc_id}' steht zweimal in der Liste."))
            used.add(proc_id)
            if not str(step.get("note") or "").strip():
                issues.append(warning(at, f"Schritt {i} ('{proc_id}') ohne Hinweis (note): wann und warum?"))
        for trigger in ls.as_strings(raw.get("triggers")):
            at = f"{where}:{line_of(path, trigger, 'triggers')}"
            terms = ls.key_terms(trigger)
            if not terms:
                issues.append(error(at, f"Auslöser „{trigger}“ besteht nur aus Füllwörtern."))
                continue
            if terms in seen_triggers:
                other_file, other = seen_triggers[terms]
                issues.append(
                    error(at, f"Auslöser „{trigger}“ ist derselbe wie „{other}“ in {other_file} (gleiche Grundform).")
                )
            else:
                seen_triggers[terms] = (where, trigger)
        if not problems:
            try:
                parsed.append((path, ls.parse_situation(raw, where)))
            except ls.LifeSituationError as exc:
                issues.append(error(f"{where}:1", str(exc)))
    if not parsed:
        return issues
    situations = ls.LifeSituations([s for _, s in parsed], catalogue, discovery())
    for path, situation in parsed:
        for trigger in situation.triggers:
            if not ls.key_terms(trigger):
                continue
            found = situations.recognise(trigger)
            if found is not None and found.id == situation.id:
                continue
            named = situations.named_procedures(trigger)
            if named:
                why = f"er nennt die Leistung '{named[0]}' (Name oder Synonym), und die geht vor"
            elif found is not None:
                why = f"er führt zur Lebenslage '{found.id}'"
            else:
                why = "ein Wort aus exclude hebt ihn auf, oder die Suche findet eine einzelne Leistung"
            issues.append(
                error(
                    f"{rel(path)}:{line_of(path, trigger, 'triggers')}",
                    f"Auslöser „{trigger}“ führt nicht zu dieser Lebenslage: {why}.",
                )
            )
    return issues


def check_generated() -> list[Issue]:
    from bot import generate

    return [
        error(f"{rel(path)}:1", "veraltet: aus dem Katalog neu erzeugen mit `python -m bot generate`")
        for path in generate.out_of_date()
    ]


def _spelling_key(term: str) -> str:
    return re.sub(r"[\s\-_./]+", "", term.casefold().replace("ß", "ss"))


def check_spelling(examples: list[Example], synonyms: list, domain: dict, catalogue=None) -> list[Issue]:
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue

    catalogue = catalogue or default_catalogue()
    issues = []
    # NLU entity synonyms: one text, one value; entities must be in the domain.
    mapped: dict[str, tuple[str, str]] = {}
    for syn in synonyms:
        key = syn.text.casefold()
        where = f"{rel(syn.path)}:{syn.line}"
        if key in mapped and mapped[key][0] != syn.value:
            issues.append(
                error(
                    where, f"„{syn.text}“ ist Synonym für '{syn.value}' und für '{mapped[key][0]}' ({mapped[key][1]})."
                )
            )
        mapped.setdefault(key, (syn.value, where))
    values_by_key: dict[str, set[str]] = defaultdict(set)
    for syn in synonyms:
        values_by_key[_spelling_key(syn.value)].add(syn.value)
    entities = set(domain["entities"])
    for ann in nlu_data.annotations(examples):
        where = f"{rel(ann.path)}:{ann.line}"
        if ann.entity not in entities:
            issues.append(error(where, f"Entität '{ann.entity}' steht nicht in der Domain (bot/domain)."))
        if ann.value:
            values_by_key[_spelling_key(ann.value)].add(ann.value)
    for spellings in values_by_key.values():
        if len(spellings) > 1:
            issues.append(
                warning(
                    "nlu/data:1",
                    "Synonym-Wert in verschiedenen Schreibweisen: " + ", ".join(f"„{s}“" for s in sorted(spellings)),
                )
            )
    # Catalogue terms: one spelling per term, one curated procedure per term.
    # Variants inside one entry ("ElterngeldPlus", "Elterngeld Plus") are deliberate search
    # terms; between entries they are inconsistent. Shared keywords are fine (search words),
    # a shared name or synonym is not.
    seen: dict[str, tuple[str, str, str, str]] = {}  # key -> (spelling, procedure, where, kind)
    for proc in catalogue.curated():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        for kind, terms in (("name", [proc.name]), ("synonyms", proc.synonyms), ("keywords", proc.keywords)):
            for term in terms:
                key = _spelling_key(term)
                where = f"{rel(path)}:{line_of(path, term, kind)}"
                if key not in seen:
                    seen[key] = (term, proc.id, where, kind)
                    continue
                spelling, other, other_where, other_kind = seen[key]
                if other == proc.id:
                    continue
                if spelling != term and spelling.casefold() != term.casefold():
                    issues.append(
                        warning(
                            where,
                            f"„{term}“ ist anders geschrieben als „{spelling}“ "
                            f"({other_where}); bitte eine Schreibweise wählen.",
                        )
                    )
                elif "keywords" not in (kind, other_kind):
                    issues.append(
                        warning(
                            where,
                            f"„{term}“ steht bei '{proc.id}' und bei '{other}' "
                            f"({other_where}); die Suche kann die beiden dann nicht trennen.",
                        )
                    )
    # Form fields: one slot name, one label (the summary shows it).
    labels: dict[str, tuple[str, str]] = {}
    for proc in catalogue.with_forms():
        path = PROCEDURES_DIR / f"{proc.id}.yaml"
        for f in proc.fields:
            where = f"{rel(path)}:{line_of(path, f.name, 'name')}"
            if f.name in labels and labels[f.name][0] != f.label:
                issues.append(
                    warning(
                        where, f"Feld '{f.name}' heißt hier „{f.label}“, in {labels[f.name][1]} „{labels[f.name][0]}“."
                    )
                )
            labels.setdefault(f.name, (f.label, where))
    return issues


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def rasa_validate(cfg: Optional[dict] = None) -> tuple[list[Issue], str]:
    """``rasa data validate``; its warnings become ours, minus the ones that are by design."""
    cfg = cfg if cfg is not None else settings()
    payload_only = set(cfg.get("payload_only_intents") or [])
    command = [
        sys.executable,
        "-m",
        "rasa",
        "data",
        "validate",
        "--config",
        "bot/config.yml",
        "--domain",
        "bot/domain",
        "--data",
        "nlu/data",
        "bot/data",
    ]
    proc = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=_quiet_env())
    output = _ANSI.sub("", proc.stdout + proc.stderr)
    issues = []
    for line in output.splitlines():
        m = re.search(r"UserWarning: (.*)", line)
        if m:
            text = m.group(1).strip()
            # Forms ask with utter_ask_<form>_<slot>; Rasa's validator does not know that.
            if re.match(r"The utterance 'utter_ask_\w+' is not used", text):
                continue
            intent = re.match(r"The intent '(\w+)' is listed in the domain file, but is not found", text)
            if intent and intent.group(1) in payload_only:
                continue
            issues.append(warning("rasa data validate", text))
        elif re.search(r"\bERROR\b", line):
            issues.append(error("rasa data validate", line.strip()))
    if proc.returncode != 0 and not any(i.level == "error" for i in issues):
        tail = "\n".join(output.splitlines()[-15:])
        issues.append(error("rasa data validate", f"Rasa meldet Fehler (Code {proc.returncode}):\n{tail}"))
    return issues, output


def _quiet_env() -> dict:
    import os

    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore::DeprecationWarning")


def run_checks(with_rasa: bool = True) -> list[Issue]:
    import logging

    logging.disable(logging.WARNING)
    cfg = settings()
    domain = merged_domain()
    examples, synonyms = nlu_data.read_all()
    issues: list[Issue] = []
    if with_rasa:
        issues += rasa_validate(cfg)[0]
    issues += check_duplicates(examples)
    issues += check_example_counts(examples, domain, cfg)
    issues += check_discovery()
    issues += check_defining_terms()
    issues += check_form_responses(domain)
    issues += check_trust_levels()
    issues += check_fim_mappings()
    issues += check_core_facts()
    issues += check_life_situations()
    issues += check_generated()
    issues += check_spelling(examples, synonyms, domain)
    issues += [
        error(w, m) for w, m in check_languages()
    ]  # English and Leichte Sprache (content/languages.py, issue 20)
    return issues


def report(issues: Iterable[Issue], out=sys.stdout) -> int:
    issues = list(issues)
    errors = [i for i in issues if i.level == "error"]
    warnings = [i for i in issues if i.level == "warning"]
    for issue in errors + warnings:
        print(issue, file=out)
    print(f"\n{len(errors)} Fehler, {len(warnings)} Warnungen.", file=out)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content.lint", description=__doc__.splitlines()[0])
    parser.add_argument("--no-rasa", action="store_true", help="skip `rasa data validate` (faster)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    code = report(run_checks(with_rasa=not args.no_rasa))
    print(f"Prüfung dauerte {time.perf_counter() - t0:.1f} s.")
    return code


if __name__ == "__main__":
    sys.exit(main())
