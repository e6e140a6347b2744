"""Checks of the English and Leichte-Sprache texts (issue 20), run by ``content/lint.py``.

* every core (curated) procedure has an English entry (``catalogue/translations/en/<id>.yaml``)
  with name, description, one English item per German document, and fees exactly when the German
  entry states fees; and a Leichte-Sprache description (``catalogue/leichte_sprache/<id>.yaml``);
* every form field has a plain prompt (``catalogue/leichte_sprache/fields.yaml``);
* a text file for an id that is no core procedure, or a plain prompt for no field, is an error
  (the text would exist in one language only);
* the fixed messages have the same keys in every language that has them;
* Leichte-Sprache texts follow the measurable rules (``content/plain_language.py``).
"""

from __future__ import annotations

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
    return issues


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
        for key in sorted({"switched", "switched_form", "ask_need"} - keys):
            issues.append(error(f"{_rel(path)}:1", f"fester Text '{key}' fehlt in dieser Sprache."))
        if path == plain_messages:
            for key, text in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
                issues += _check_plain(path, str(text), key)
    if not german_keys:
        issues.append(error(f"{_rel(german)}:1", "die deutschen festen Texte zum Sprachwechsel fehlen."))
    return issues
