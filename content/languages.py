"""Checks of the English and Leichte-Sprache texts (issue 20), run by ``content/lint.py``.

* every core (curated) procedure has an English entry (``catalogue/translations/en/<id>.yaml``)
  with name, description, one English item per German document, and fees exactly when the German
  entry states fees; and a Leichte-Sprache description (``catalogue/leichte_sprache/<id>.yaml``);
* every form field has a plain prompt (``catalogue/leichte_sprache/fields.yaml``);
* a text file for an id that is no core procedure, or a plain prompt for no field, is an error
  (the text would exist in one language only);
* the fixed messages have the same keys in every language that has them;
* every form field has its English texts (``fields:`` in ``catalogue/translations/en/<id>.yaml``):
  label and prompt, help and why exactly when the German field has them, an English label for
  every choice value and for no other; an English field text for no German field is an error;
* the form machinery's sentences (keys ``form_*``, ``receipt_*``, ``status_*``, ``duration_*``,
  ``login_*``, ``feedback_*``) and those around it (``handoff_*``, ``draft_*``, ``withdraw_*``,
  ``change_*``, ``fallback_*``) of ``messages.yaml`` exist in German, English and Leichte Sprache;
* every German help and why text of a form field has its Leichte-Sprache text in
  ``catalogue/leichte_sprache/field_help.yaml`` (keyed by the German text), and no text stands
  there for a German text no field has;
* every German problem sentence of the validators (``buergerassistent/validation/``) has its
  English and Leichte-Sprache text in ``validation.yaml``, and no text stands there for a sentence
  the validators no longer say;
* Leichte-Sprache texts follow the measurable rules (``content/plain_language.py``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Optional

import yaml

from buergerassistent import translations
from content import plain_language
from content.nlu_data import REPO_ROOT


def error(where: str, message: str) -> tuple[str, str]:
    """A problem as (``path:line``, German message); ``content/lint.py`` reports it as an error."""
    return where, message


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def check_languages(catalogue=None, translations_dir: Optional[Path] = None, plain_dir: Optional[Path] = None) -> list:
    from buergerassistent.catalogue import PROCEDURES_DIR, default_catalogue

    catalogue = catalogue or default_catalogue()
    translations_dir = translations_dir or translations.TRANSLATIONS_DIR
    plain_dir = plain_dir or translations.PLAIN_DIR
    en_dir = translations.english_dir(translations_dir)
    issues = []
    core = {p.id: p for p in catalogue.curated()}
    en_files = translations.procedure_files(en_dir)
    plain_files = translations.procedure_files(plain_dir)

    for pid, proc in sorted(core.items()):
        german = f"{_rel(PROCEDURES_DIR / f'{pid}.yaml')}:1"
        path = en_files.get(pid)
        if path is None:
            issues.append(
                error(german, f"„{proc.name}“ hat keinen englischen Text ({_rel(en_dir / f'{pid}.yaml')} fehlt).")
            )
        else:
            issues += _check_english(proc, path)
        plain = plain_files.get(pid)
        if plain is None:
            issues.append(
                error(
                    german,
                    f"„{proc.name}“ hat keine Beschreibung in Leichter Sprache ({_rel(plain_dir / f'{pid}.yaml')} fehlt).",
                )
            )
        else:
            issues += _check_plain(plain, (yaml.safe_load(plain.read_text(encoding="utf-8")) or {}).get("description"))

    for pid, path in sorted({**en_files, **plain_files}.items()):
        if pid not in core:
            issues.append(
                error(f"{_rel(path)}:1", f"'{pid}' ist keine Leistung des Kernkatalogs: Text nur in einer Sprache.")
            )

    fields_path = plain_dir / translations.FIELDS_FILE
    prompts = translations.plain_prompts(plain_dir)
    names = {f.name for p in catalogue.with_forms() for f in p.fields}
    for name in sorted(names - set(prompts)):
        issues.append(error(f"{_rel(fields_path)}:1", f"Feld '{name}' hat keine Frage in Leichter Sprache."))
    for name in sorted(set(prompts) - names):
        issues.append(
            error(f"{_rel(fields_path)}:1", f"'{name}' ist kein Feld eines Formulars: Frage nur in Leichter Sprache.")
        )
    for name in sorted(set(prompts) & names):
        issues += _check_plain(fields_path, prompts[name], name)

    issues += _check_messages(translations_dir, plain_dir)
    issues += check_form_texts(catalogue, translations_dir, plain_dir)
    return issues


# ------------------------------------------------------------------------------------ forms (issue 20)

FORM_MESSAGE_PREFIXES = (
    "form_", "receipt_", "status_", "duration_", "login_", "feedback_",
    # the conversation around the forms: handoff to staff, drafts, withdrawal, changes, fallbacks
    "handoff_", "draft_", "withdraw_", "change_", "fallback_",
)  # fmt: skip
VALIDATION_DIR = REPO_ROOT / "buergerassistent" / "validation"


def check_form_texts(catalogue, translations_dir: Path, plain_dir: Path, validation_dir: Path = VALIDATION_DIR) -> list:
    """Form fields, form messages and validation errors exist in every language (see the module
    docstring)."""
    issues = []
    en_dir = translations.english_dir(translations_dir)
    for proc in catalogue.with_forms():
        path = en_dir / f"{proc.id}.yaml"
        where = f"{_rel(path)}:1"
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
        english = data.get("fields") or {}
        for f in proc.fields:
            entry = english.get(f.name) or {}
            if not entry:
                issues.append(error(where, f"Feld '{f.name}' von „{proc.name}“ hat keinen englischen Text."))
                continue
            for key, german in (("label", f.label), ("prompt", f.prompt), ("help", f.help), ("why", f.why)):
                if bool(german) != bool(entry.get(key)):
                    issues.append(
                        error(where, f"Feld '{f.name}': '{key}' nur in einer Sprache (deutsch und englisch).")
                    )
            values = {c.value for c in f.choices or ()}
            labels = {str(k) for k in (entry.get("choices") or {})}
            for value in sorted(values - labels):
                issues.append(error(where, f"Feld '{f.name}': Auswahl '{value}' hat keinen englischen Text."))
            for value in sorted(labels - values):
                issues.append(error(where, f"Feld '{f.name}': '{value}' ist keine Auswahl des Feldes."))
        for name in sorted(set(english) - {f.name for f in proc.fields}):
            issues.append(error(where, f"'{name}' ist kein Feld von „{proc.name}“: Text nur auf Englisch."))

    files = {
        "de": translations_dir / "de" / translations.MESSAGES_FILE,
        "en": en_dir / translations.MESSAGES_FILE,
        "ls": plain_dir / translations.MESSAGES_FILE,
    }
    keys = {
        lang: {
            k for k in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if k.startswith(FORM_MESSAGE_PREFIXES)
        }
        if path.is_file()
        else set()
        for lang, path in files.items()
    }
    every = set().union(*keys.values())
    for lang, path in files.items():
        for key in sorted(every - keys[lang]):
            issues.append(error(f"{_rel(path)}:1", f"Formular-Text '{key}' fehlt in dieser Sprache."))

    issues += _check_plain_field_help(catalogue, plain_dir)

    german = validator_sentences(validation_dir)
    for directory in (en_dir, plain_dir):
        path = directory / translations.VALIDATION_FILE
        where = f"{_rel(path)}:1"
        data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
        problems = {str(k): str(v) for k, v in (data.get("problems") or {}).items()}
        for sentence, source in sorted(german.items()):
            if sentence not in problems:
                issues.append(error(where, f"Fehlermeldung „{sentence}“ ({source}) fehlt in dieser Sprache."))
        for sentence in sorted(set(problems) - set(german)):
            issues.append(error(where, f"„{sentence}“ sagt keine Prüfung (mehr): Text nur in einer Sprache."))
        hints = data.get("hints") or {}
        for key in ("default", "choice", "yes_no", "text"):
            if not hints.get(key):
                issues.append(error(where, f"Hinweis '{key}' fehlt."))
        if directory == plain_dir:
            for sentence, text in {**problems, **{str(k): str(v) for k, v in hints.items()}}.items():
                issues += _check_plain(path, text.replace("{}", "3"), sentence)
    return issues


def _check_plain_field_help(catalogue, plain_dir: Path) -> list:
    """Every German help and why text of a form field has its Leichte-Sprache text in
    ``field_help.yaml`` (keyed by the German text), that text follows the rules, and no text
    stands there for a German text no field has any more."""
    path = plain_dir / translations.FIELD_HELP_FILE
    where = f"{_rel(path)}:1"
    data = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {}
    plain = {" ".join(str(k).split()): str(v) for k, v in data.items()}
    german: dict[str, str] = {}
    for proc in catalogue.with_forms():
        for f in proc.fields:
            for key in ("help", "why"):
                text = " ".join((getattr(f, key) or "").split())
                if text:
                    german.setdefault(text, f"{proc.id}.{f.name}.{key}")
    issues = []
    for text, source in sorted(german.items(), key=lambda item: item[1]):
        if text not in plain:
            issues.append(error(where, f"Leichte Sprache fehlt für {source}: „{text}“"))
    for text in sorted(set(plain) - set(german)):
        issues.append(error(where, f"„{text}“ sagt kein Formularfeld (mehr): Text nur in Leichter Sprache."))
    for text, simple in plain.items():
        issues += _check_plain(path, simple, german.get(text, text[:40]))
    return issues


_SENTENCE = re.compile(r"^[A-ZÄÖÜ][^\n]* [^\n]*[.?!]$")


def validator_sentences(directory: Path = VALIDATION_DIR) -> dict[str, str]:
    """The German sentences the validators say (string and f-string literals inside functions
    that are whole sentences; values of an f-string become ``{}``) → ``file:line``."""
    found: dict[str, str] = {}
    for path in sorted(directory.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            docstring = function.body[0] if ast.get_docstring(function) is not None else None
            for node in ast.walk(function):
                if docstring is not None and node is getattr(docstring, "value", None):
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value
                elif isinstance(node, ast.JoinedStr):
                    text = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
                else:
                    continue
                if _SENTENCE.match(text):
                    found.setdefault(text, f"{_rel(path)}:{node.lineno}")
    return found


def _check_english(proc, path: Path) -> list:
    where = f"{_rel(path)}:1"
    try:
        entry = translations.parse_english(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, str(path))
    except ValueError as exc:
        return [error(where, str(exc))]
    issues = []
    if entry.id != proc.id:
        issues.append(error(where, f"id '{entry.id}' passt nicht zum Dateinamen '{proc.id}'."))
    if not entry.name or not entry.description:
        issues.append(error(where, "englischer Name oder Beschreibung fehlt."))
    if len(entry.documents) != len(proc.documents or ()):
        issues.append(
            error(
                where,
                f"{len(entry.documents)} englische Unterlagen, aber {len(proc.documents or ())} deutsche: "
                "jede Unterlage braucht ihren Text in beiden Sprachen.",
            )
        )
    if bool(entry.fees) != bool(proc.fees):
        issues.append(
            error(where, "Gebühren nur in einer Sprache (deutsch und englisch müssen beide fehlen oder beide da sein).")
        )
    issues += _check_english_facts(proc, entry, where)
    return issues


def _check_english_facts(proc, entry, where: str) -> list:
    """Dauer, Fristen, Kontakt und zuständige Stelle: jeder deutsche Text hat seinen englischen, und keiner steht nur
    englisch da. Die Meldung nennt den deutschen Text, der noch keinen englischen hat."""
    issues = []
    if proc.processing_time and not entry.processing_time:
        issues.append(error(where, f"Dauer (processing_time) fehlt auf Englisch: „{proc.processing_time[:80]}“"))
    if entry.processing_time and not proc.processing_time:
        issues.append(error(where, "Dauer (processing_time) nur auf Englisch: der deutsche Eintrag nennt keine."))
    german = [d.text for d in proc.deadlines]
    for i, text in enumerate(german[len(entry.deadlines) :], len(entry.deadlines) + 1):
        issues.append(error(where, f"Frist {i} (deadlines) fehlt auf Englisch: „{text[:80]}“"))
    if len(entry.deadlines) > len(german):
        issues.append(
            error(
                where, f"{len(entry.deadlines)} englische Fristen, aber {len(german)} deutsche (gleiche Reihenfolge)."
            )
        )
    c = proc.contact
    for key in ("name", "address", "opening_hours"):
        text = getattr(c, key, None) if c is not None else None
        if text and not entry.contact.get(key):
            issues.append(error(where, f"Kontakt ({key}) fehlt auf Englisch: „{text[:80]}“"))
        if entry.contact.get(key) and not text:
            issues.append(error(where, f"Kontakt ({key}) nur auf Englisch: der deutsche Eintrag nennt keinen."))
    for key in sorted(set(entry.contact) - {"name", "address", "opening_hours"}):
        issues.append(error(where, f"Kontakt ({key}): kein Text zum Übersetzen (nur name, address, opening_hours)."))
    if proc.authority and not entry.authority:
        issues.append(error(where, f"Zuständige Stelle (authority) fehlt auf Englisch: „{proc.authority[:80]}“"))
    if entry.authority and not proc.authority:
        issues.append(error(where, "Zuständige Stelle (authority) nur auf Englisch: der deutsche Eintrag nennt keine."))
    return issues


def _check_plain(path: Path, text: Optional[str], name: str = "") -> list:
    where = f"{_rel(path)}:1"
    if not text:
        return [error(where, "Beschreibung in Leichter Sprache fehlt.")]
    prefix = f"{name}: " if name else ""
    return [error(where, f"Leichte Sprache: {prefix}{problem}") for problem in plain_language.problems(text)]


def _check_messages(translations_dir: Path, plain_dir: Path) -> list:
    files = [p for p in sorted(translations_dir.glob(f"*/{translations.MESSAGES_FILE}"))]
    plain_messages = plain_dir / translations.MESSAGES_FILE
    issues = []
    german = translations_dir / "de" / translations.MESSAGES_FILE
    german_keys = set((yaml.safe_load(german.read_text(encoding="utf-8")) or {}) if german.is_file() else ())
    for path in [*files, plain_messages]:
        if not path.is_file():
            continue
        keys = set(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
        # Every language that speaks a message German has (the switch confirmations) must have it.
        for key in sorted({"switched", "switched_form", "ask_need", "ask_which_procedure"} - keys):
            issues.append(error(f"{_rel(path)}:1", f"fester Text '{key}' fehlt in dieser Sprache."))
        if path == plain_messages:
            for key, text in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
                issues += _check_plain(path, str(text), key)
    if not german_keys:
        issues.append(error(f"{_rel(german)}:1", "die deutschen festen Texte zum Sprachwechsel fehlen."))
    issues += _check_page_texts(translations_dir, plain_dir)
    return issues


PAGE_PREFIXES = ("web_login_", "pdf_receipt_")  # login pages, receipt PDF
# German refusals of the login pages are buergerassistent.identity.MESSAGES, not messages.yaml.
GERMAN_ELSEWHERE = "web_login_rejected_"


def _check_page_texts(translations_dir: Path, plain_dir: Path) -> list:
    """The login pages and the receipt PDF speak German, English and Leichte Sprache: every
    text of them exists in each (German refusals excepted: ``identity.MESSAGES``)."""
    files = {
        "de": translations_dir / "de" / translations.MESSAGES_FILE,
        "en": translations_dir / translations.ENGLISH / translations.MESSAGES_FILE,
        "ls": plain_dir / translations.MESSAGES_FILE,
    }
    keys = {
        lang: {
            k
            for k in ((yaml.safe_load(path.read_text(encoding="utf-8")) or {}) if path.is_file() else {})
            if str(k).startswith(PAGE_PREFIXES)
        }
        for lang, path in files.items()
    }
    every = set().union(*keys.values())
    issues = []
    for lang, path in files.items():
        wanted = {k for k in every if not k.startswith(GERMAN_ELSEWHERE)} if lang == "de" else every
        for key in sorted(wanted - keys[lang]):
            issues.append(
                error(f"{_rel(path)}:1", f"Text der Anmeldeseite oder des PDF '{key}' fehlt in dieser Sprache.")
            )
    return issues
