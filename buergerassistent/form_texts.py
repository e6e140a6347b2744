"""What the forms say, in the conversation's language (issue 20): German, English, Leichte Sprache.

The texts are data, read by :mod:`buergerassistent.translations`:

* a field's label, prompt, help, why, example and choice labels: German from the catalogue entry,
  English from ``fields:`` in ``catalogue/translations/en/<procedure id>.yaml``, the plain prompt
  from ``catalogue/leichte_sprache/fields.yaml``;
* the form machinery's sentences (summary, echo, re-prompts, receipt, status): the keys
  ``form_*`` of ``messages.yaml`` in each language;
* validation errors: the validators say what was wrong in German (``Result.problem``);
  ``validation.yaml`` of each language has the same sentence by its German text (``{}`` stands for
  a number or a value in it), and the hint how to answer is built here with the field's example.

The submitted values never change with the language: a choice is stored by its value, a date
as ISO, yes/no as "ja"/"nein". No Rasa imports here.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Optional

import yaml

from buergerassistent import translations
from buergerassistent.catalogue import Choice, Field, Procedure
from buergerassistent.language_state import ENGLISH, GERMAN, LANGUAGES, PLAIN
from buergerassistent.repair import SKIPPED
from buergerassistent.validation import Result, default_example, validate
from buergerassistent.validation.base import INPUT_LANGUAGE

VALIDATION_FILE = translations.VALIDATION_FILE

ENGLISH_MONTHS = ("January February March April May June July August September October November December").split()


def language_of(value: Any) -> str:
    return value if value in LANGUAGES else GERMAN


@contextmanager
def input_language(lang: Any) -> Iterator[None]:
    """Read the citizen's answers as written in ``lang`` for the duration of the block (an
    English "08/12/1964" is a question, not a date)."""
    token = INPUT_LANGUAGE.set(language_of(lang))
    try:
        yield
    finally:
        INPUT_LANGUAGE.reset(token)


def say(lang: Any, key: str, **values: Any) -> str:
    """A fixed sentence of the form machinery in ``lang`` (``messages.yaml``)."""
    return translations.message(language_of(lang), key, **{k: str(v) for k, v in values.items()})


# ----------------------------------------------------------------------------------------- fields


@dataclass(frozen=True)
class FieldText:
    label: str
    prompt: str
    help: str = ""
    why: str = ""
    example: str = ""
    choices: dict[str, str] = field(default_factory=dict)  # value → label


@cache
def english_fields(directory: Path = translations.TRANSLATIONS_DIR) -> dict[str, dict[str, dict]]:
    """``{procedure id: {field name: {label, prompt, help, why, example, choices}}}``."""
    out: dict[str, dict[str, dict]] = {}
    for pid, path in translations.procedure_files(translations.english_dir(directory)).items():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        fields = data.get("fields") or {}
        if fields:
            out[pid] = {str(name): dict(entry or {}) for name, entry in fields.items()}
    return out


def _clean(text: Any) -> str:
    return " ".join(str(text or "").split())


def field_text(proc: Procedure, f: Field, lang: Any) -> FieldText:
    german = FieldText(
        label=f.label,
        prompt=f.prompt,
        help=f.help or "",
        why=f.why or "",
        example=f.example or "",
        choices={c.value: c.label for c in f.choices or ()},
    )
    lang = language_of(lang)
    if lang == PLAIN:
        plain = translations.plain_prompt(f.name)
        return replace(
            german,
            prompt=plain or german.prompt,
            help=translations.plain_help(german.help) or german.help,
            why=translations.plain_help(german.why) or german.why,
        )
    if lang != ENGLISH:
        return german
    entry = english_fields().get(proc.id, {}).get(f.name)
    if not entry:
        return german
    return FieldText(
        label=_clean(entry.get("label")) or f.label,
        prompt=_clean(entry.get("prompt")) or f.prompt,
        help=_clean(entry.get("help")) or german.help,
        why=_clean(entry.get("why")) or german.why,
        # An example that is a value (a name, a date, a postcode) is the same in every language.
        example=_clean(entry.get("example")) or german.example,
        choices={**german.choices, **{str(k): _clean(v) for k, v in (entry.get("choices") or {}).items()}},
    )


def choices(proc: Procedure, f: Field) -> tuple[Choice, ...]:
    """The field's choices with their English labels as synonyms: "Extended" and "erweitert"
    both give the value ``erweitert``."""
    english = field_text(proc, f, ENGLISH).choices
    out = []
    for c in f.choices or ():
        extra = english.get(c.value)
        out.append(Choice(c.value, c.label, (*c.synonyms, extra) if extra and extra != c.label else c.synonyms))
    return tuple(out)


def in_language(proc: Procedure, f: Field, lang: Any) -> Field:
    """``f`` with its help and why texts in Leichte Sprache (for the German explanations of
    ``form_questions``); unchanged in other languages."""
    if language_of(lang) != PLAIN:
        return f
    texts = field_text(proc, f, PLAIN)
    return replace(f, help=texts.help or f.help, why=texts.why or f.why)


def for_reading(proc: Procedure, lang: Any) -> Procedure:
    """``proc`` with the English choice labels and field labels as synonyms, for reading answers
    in English (a choice "Extended"; a change after the summary "the postcode is 80333")."""
    if language_of(lang) != ENGLISH:
        return proc

    def english(f: Field) -> Field:
        label = field_text(proc, f, ENGLISH).label
        # "Street and house number" is named "the street" too, "Town or city" "the city".
        parts = [p for p in re.split(r"\s+(?:and|or)\s+", label) if len(p) >= 4] if label else []
        synonyms = (*f.synonyms, *dict.fromkeys(t for t in (label, *parts) if t and t != f.label))
        return replace(f, choices=choices(proc, f) if f.choices else f.choices, synonyms=synonyms)

    return replace(proc, fields=tuple(english(f) for f in proc.fields))


# A change after the summary in English words: "no, the postcode is 80333", "change my date of
# birth to 12 August 1964", "the first name should be Erika", "please correct the street".
# The form's reader (buergerassistent.repair) reads German cue words; the English cues around the
# field's name are put in German words, the value stays as written.
_EN_CHANGE_LEAD = re.compile(
    r"^(?:(?:no|nope|sorry|wait|oops|actually|wrong)\b[\s,.:;!-]*)*"
    r"(?:(?:i\s+(?:want|would\s+like|need)\s+to|can\s+you|could\s+you|let\s+me|please)\s+)*"
    r"(?P<verb>(?:change|correct|fix|update|edit|amend)\s+)?(?:please\s+)?(?:the\s+|my\s+)?",
    re.I,
)
_EN_CHANGE_VALUE = re.compile(
    r"\s+(?:is\s+(?:actually\s+|really\s+)?|should\s+be\s+|must\s+be\s+|has\s+to\s+be\s+|to\s+|=\s*)|\s*:\s*",
    re.I,
)
_EN_WRONG_TAIL = re.compile(r"\s+(?:is\s+(?:wrong|not\s+right|incorrect)|was\s+wrong)[.!]*$", re.I)


def change_in_german(text: str, lang: Any) -> str:
    """An English change request in the cue words the form's reader knows ("the postcode is
    80333" → "nein, postcode ist 80333"); other text and other languages unchanged."""
    if language_of(lang) != ENGLISH or not text:
        return text
    lead = _EN_CHANGE_LEAD.match(text.strip())
    body = text.strip()[lead.end() :] if lead else text.strip()
    wrong = _EN_WRONG_TAIL.search(body)
    if wrong:
        return f"ändere {body[: wrong.start()]}"
    value = _EN_CHANGE_VALUE.search(body)
    if value is None:
        return f"ändere {body.rstrip('.!')}" if lead and lead.group("verb") else text
    name, rest = body[: value.start()], body[value.end() :].strip().rstrip(".!")
    if not name or not rest:
        return text
    return f"nein, {name} ist {rest}"


def check(proc: Procedure, f: Field, text: Any, lang: Any = GERMAN) -> Result:
    """Validate an answer to ``f`` written in ``lang`` (English choice labels and dates too)."""
    with input_language(lang):
        return validate(f.type, str(text), choices=choices(proc, f) or None, example=f.example)


DATE_TYPES = ("birth_date", "date", "future_date", "past_date")


def as_read(proc: Procedure, f: Field, text: str, lang: Any) -> str:
    """The answer as the form's reader (``buergerassistent.repair``) should see it: an English
    date written with a comma ("Aug 12, 1964") is one date, not two parts, so a whole answer that
    is a valid date is passed on as that date."""
    if language_of(lang) != ENGLISH or f.type not in DATE_TYPES or "," not in text:
        return text
    result = check(proc, f, text, lang)
    return result.display if result.ok and result.display else text


def _english_date(value: str) -> Optional[str]:
    try:
        day = dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def display(proc: Procedure, f: Field, value: Any, lang: Any = GERMAN) -> str:
    """How a stored value is shown in ``lang`` (summary, echo): the choice's label, a date in
    words in English, "yes"/"no"."""
    lang = language_of(lang)
    if value is None:
        return "—"
    if value == SKIPPED:
        return say(lang, "form_not_given")
    result = validate(f.type, str(value), choices=f.choices or None, example=f.example)
    shown = result.display if result.ok and result.display else str(value)
    if lang != ENGLISH or not result.ok:
        return shown
    if f.type == "choice":
        return field_text(proc, f, lang).choices.get(str(result.value), shown)
    if f.type == "yes_no":
        return say(lang, "form_yes") if result.value == "ja" else say(lang, "form_no")
    if f.type in DATE_TYPES:
        return _english_date(str(result.value)) or shown
    return shown


# ------------------------------------------------------------------------------- validation errors


@cache
def problem_texts(lang: str) -> dict[str, str]:
    """The validators' German problem sentences → their text in ``lang`` (``validation.yaml``)."""
    directory = translations.PLAIN_DIR if lang == PLAIN else translations.TRANSLATIONS_DIR / lang
    path = directory / VALIDATION_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): _clean(v) for k, v in (data.get("problems") or {}).items()}


@cache
def hint_texts(lang: str) -> dict[str, str]:
    directory = translations.PLAIN_DIR if lang == PLAIN else translations.TRANSLATIONS_DIR / lang
    path = directory / VALIDATION_FILE
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): _clean(v) for k, v in (data.get("hints") or {}).items()}


@cache
def _patterns(lang: str) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for german, text in problem_texts(lang).items():
        parts = [re.escape(p) for p in german.split("{}")]
        out.append((re.compile("(.+?)".join(parts), re.S), text))
    return out


_GERMAN_DATE = re.compile(r"^(\d{2})\.(\d{2})\.(\d{4})$")


def _value_in(lang: str, value: str) -> str:
    m = _GERMAN_DATE.match(value)
    if lang == ENGLISH and m:
        return _english_date(f"{m[3]}-{m[2]}-{m[1]}") or value
    return value


def translate_problem(problem: str, lang: str, whole: bool = True) -> Optional[tuple[str, int]]:
    """``problem`` (a German sentence of the validators, or the start of a German error) in
    ``lang``, with the length of the German text it replaces; None when no text matches."""
    best: Optional[tuple[str, int]] = None
    for pattern, text in _patterns(lang):
        m = pattern.fullmatch(problem) if whole else pattern.match(problem)
        if m and (best is None or m.end() > best[1]):
            best = (text.format(*(_value_in(lang, g) for g in m.groups())), m.end())
    return best


def error_text(proc: Procedure, f: Field, german: str, lang: Any) -> str:
    """A German error (problem + hint, ``Result.error``) in ``lang``: the problem looked up, the
    hint built for the field. Stays German when the problem has no text (the lint prevents that)."""
    lang = language_of(lang)
    if lang == GERMAN or not german:
        return german
    found = translate_problem(german, lang, whole=False)
    if found is None:
        return german
    return f"{found[0]} {hint(proc, f, lang)}".strip()


def error(proc: Procedure, f: Field, result: Result, lang: Any) -> str:
    """The re-prompt for a failed answer in ``lang``: what was wrong and how to answer."""
    lang = language_of(lang)
    german = result.error or ""
    if lang == GERMAN or not result.problem:
        return german
    found = translate_problem(result.problem, lang)
    if found is None:  # the lint (content/languages.py) makes sure this does not happen
        return german
    return f"{found[0]} {hint(proc, f, lang)}".strip()


def hint(proc: Procedure, f: Field, lang: Any) -> str:
    """How to answer ``f`` in ``lang``, with an example (its choices for a choice field)."""
    lang = language_of(lang)
    texts = field_text(proc, f, lang)
    example = texts.example or default_example(f.type, choices=f.choices or None)
    if f.type in DATE_TYPES and lang == ENGLISH:
        example = _value_in(lang, example)
    hints = hint_texts(lang)
    if f.type == "choice":
        listed = ", ".join(f"{i}. {label}" for i, label in enumerate(texts.choices.values(), 1))
        return hints["choice"].format(choices=listed, example=example)
    template = hints.get(f.type) or hints["default"]
    return template.format(example=example if example.endswith((".", "!", "?")) else example + ".")


# ------------------------------------------------------------------------ questions inside a form

_WHY_EN = re.compile(r"\b(?:why|what for|what do you need|do i have to|is it required|must i)\b", re.I)


def procedure_name(proc: Procedure, lang: Any) -> str:
    entry = translations.english(proc.id) if language_of(lang) == ENGLISH else None
    return entry.name if entry is not None else proc.name


def answer_question(proc: Procedure, f: Field, text: str, intent: Optional[str], lang: Any) -> Optional[str]:
    """The answer to a question asked while ``f`` is asked for, in English or Leichte Sprache
    (None in German: ``form_questions.answer`` answers those)."""
    if language_of(lang) == PLAIN:
        return _plain_answer(proc, f, text, intent)
    if language_of(lang) != ENGLISH:
        return None
    topic = translations.english_topic(text) if intent not in ("ask_why_field", "help") else None
    if topic is not None:
        answered = translations.english_answer(proc, topic)
        if answered:
            return answered
    texts = field_text(proc, f, ENGLISH)
    parts = []
    if intent == "ask_why_field" or _WHY_EN.search(text or ""):
        why = (
            texts.why
            or texts.help
            or say(ENGLISH, "form_explain_nohelp", label=texts.label, name=procedure_name(proc, ENGLISH))
        )
        parts.append(say(ENGLISH, "form_about", label=texts.label, text=why))
    else:
        parts.append(say(ENGLISH, "form_about", label=texts.label, text=texts.help or texts.prompt))
        if not f.choices and texts.example:
            parts.append(say(ENGLISH, "form_for_example", example=texts.example))
    if f.choices:
        listed = ", ".join(f"{i}. {label}" for i, label in enumerate(texts.choices.values(), 1))
        parts.append(say(ENGLISH, "form_choices", choices=listed))
    parts.append(say(ENGLISH, "form_required_note" if f.required else "form_optional_note"))
    return " ".join(parts)


def _plain_answer(proc: Procedure, f: Field, text: str, intent: Optional[str]) -> Optional[str]:
    """ "Warum?" or "Was heißt das?" in Leichte Sprache: the field's plain help or why text in
    plain sentences around it (keys ``form_about``, ``form_about_why``, ``form_*_note`` of
    ``leichte_sprache/messages.yaml``); "Was ist der Unterschied?" and a question about the
    procedure ("Was kostet das?") in plain sentences too (``fact_*``)."""
    from buergerassistent import form_questions

    s = " ".join((text or "").split())
    texts = field_text(proc, f, PLAIN)
    optional = "" if f.required or "überspringen" in texts.help else say(PLAIN, "form_optional_note")
    listed = ", ".join(f"{i}. {label}" for i, label in enumerate(texts.choices.values(), 1))
    choices = say(PLAIN, "form_choices", choices=listed) if f.choices else ""
    if f.choices and form_questions.asks_about_options(s):
        return _plain_options(proc, f, texts, choices)
    topic = form_questions.procedure_topic(s, intent) if intent not in ("ask_why_field", "help") else None
    if topic is not None:
        return translations.plain_fact(proc, topic)
    if intent == "ask_why_field" or form_questions.asks_why(s):
        why = texts.why or texts.help
        parts = [
            say(PLAIN, "form_about_why", label=texts.label, text=why)
            if why
            else say(PLAIN, "form_explain_nohelp", label=texts.label, name=proc.name),
            choices,
            say(PLAIN, "form_required_note") if f.required else optional,
        ]
    else:
        example = "" if f.choices else (texts.example or default_example(f.type, choices=None))
        parts = [
            say(PLAIN, "form_about", label=texts.label, text=texts.help) if texts.help else texts.prompt,
            choices,
            say(PLAIN, "form_for_example", example=example) if example else "",
            optional,
        ]
    return " ".join(p.strip() for p in parts if p and p.strip())


def _plain_options(proc: Procedure, f: Field, texts: FieldText, choices: str) -> str:
    """ "Was ist der Unterschied?" in Leichte Sprache: the plain help where it speaks of the
    choices; otherwise honestly that the catalogue does not say, and where to ask."""
    from buergerassistent import form_questions

    described = sum(form_questions.names_choice(texts.help, c) for c in f.choices)
    if texts.help and described >= min(2, len(f.choices)):
        return " ".join((say(PLAIN, "form_about", label=texts.label, text=texts.help), choices))
    parts = [say(PLAIN, "fact_options_unknown", label=texts.label), texts.help]
    if proc.authority:
        parts.append(say(PLAIN, "fact_ask", authority=proc.authority))
    parts += [say(PLAIN, "fact_115"), choices]
    return " ".join(p.strip() for p in parts if p and p.strip())


def duration(seconds: int, lang: Any) -> str:
    """ "7 Tage", "7 days", "1 Stunde" (how long a receipt link is valid)."""
    days = seconds // 86400
    if days >= 1:
        return say(lang, "duration_day") if days == 1 else say(lang, "duration_days", n=days)
    hours = max(1, seconds // 3600)
    return say(lang, "duration_hour") if hours == 1 else say(lang, "duration_hours", n=hours)
