"""Questions inside a form: recognise them and answer them, whatever the field's type.

A citizen asked "Wie lautet Ihre Steuer-ID?" may answer with a question ("warum braucht ihr
meine Steuer-ID?", "was ist der Unterschied zwischen einfach und erweitert?", "so 2 bis 3?").
Such a message is never stored as the value: ``is_question`` recognises it before any value is
matched, ``answer`` says what the catalogue knows (the field's ``why`` and ``help``, its choices,
or a fact of the procedure from ``buergerassistent.answers``), and the form asks the same
field again. Nothing here invents facts: without a ``why`` text the answer says only what the
field is used for in the application.
"""

from __future__ import annotations

import re
from typing import Optional

from buergerassistent import answers
from buergerassistent.catalogue import Field, Procedure
from buergerassistent.validation import default_example
from buergerassistent.validation.base import clean

_QUESTION_WORD = (
    r"was|wie|wo|wohin|woher|wann|warum|wozu|wieso|weshalb|wofür|wofuer|welche[rsnm]?|wer|wen|wem|"
    r"muss|müssen|muessen|kann|können|koennen|darf|dürfen|soll|sollte|sollen|brauche|brauchen|braucht|"
    r"reicht|genügt|gibt es|geht das|ist das|ist es|sind das|heißt das|heisst das|what|why|how|"
    # Bavarian: "wia soll i des wissn", "wos is des", "muas i", "ko ma"
    r"wia|wos|wer|wann|warum|muas|muass|ko ma|kann ma|gibt's|gibts"
)
_QUESTION_START = re.compile(
    rf"^(?:(?:und|aber|also|ähm|äh|hm+|sorry|moment|ok|okay)[,\s]+)?(?:{_QUESTION_WORD})\b", re.I
)
# Question phrases anywhere in the message ("Moment, warum braucht ihr das").
_QUESTION_PHRASE = re.compile(
    r"\b(?:warum|wozu|wieso|weshalb|wofür|wofuer|was ist|was sind|was heißt|was heisst|was bedeutet|"
    r"wie lange|muss ich|müssen wir|unterschied|für was|was für|welche möglichkeiten|"
    r"wia soll|wia vui|wos is|keine ahnung wie|koa ahnung)\b",
    re.I,
)

_WHY = re.compile(
    r"\b(?:warum|wozu|wieso|weshalb|wofür|wofuer|für was|why|brauchen sie das|braucht ihr|"
    r"muss ich (?:das|die|den|meine?n?)\b.*\b(?:angeben|sagen|nennen)|ist das (?:pflicht|nötig|notwendig))",
    re.I,
)
_OPTIONS = re.compile(
    r"\b(?:unterschied|welche (?:gibt es|möglichkeiten|arten|optionen)|was gibt es|was für|was kann ich wählen|"
    r"welche soll ich|was ist besser|was nehme ich|was passt)\b",
    re.I,
)
_DIFFERENCE = re.compile(r"\bunterschied", re.I)
# Questions about the procedure rather than the field, answered from the catalogue facts. The
# keys are the intents of ``answers.ANSWERS_BY_INTENT``; an intent without an answer function
# there (yet) falls back to the field's explanation.
_PROCEDURE_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ask_fees", re.compile(r"\b(?:kostet|kosten|gebühr\w*|gebuehr\w*|preis|teuer|bezahlen|zahlen)\b", re.I)),
    ("ask_documents", re.compile(r"\b(?:unterlagen|dokumente|mitbringen|nachweise?)\b", re.I)),
    ("ask_online", re.compile(r"\b(?:online|internet)\b", re.I)),
    ("ask_processing_time", re.compile(r"\bwie lange dauert|\bbearbeitungszeit|\bwann (?:bekomme|erhalte)", re.I)),
    ("ask_deadline", re.compile(r"\bbis wann\b|\bfrist\b", re.I)),
    ("ask_where", re.compile(r"\b(?:zuständig\w*|welche(?:s|r)? (?:amt|behörde|stelle))\b", re.I)),
)


def is_question(text: str) -> bool:
    """True for a message that asks something rather than giving a value."""
    s = clean(text)
    if not s:
        return False
    return "?" in s or bool(_QUESTION_START.match(s)) or bool(_QUESTION_PHRASE.search(s))


def choices_text(field: Field) -> str:
    """ "Sie können wählen: 1. Einfach, 2. Erweitert." """
    listed = ", ".join(f"{i}. {c.label}" for i, c in enumerate(field.choices, 1))
    return f"Sie können wählen: {listed}."


def _optional_note(field: Field) -> str:
    if field.required:
        return "Für den Antrag hier im Chat brauche ich diese Angabe."
    if "überspringen" in field.help:
        return ""
    return "Die Angabe ist freiwillig; schreiben Sie sonst „überspringen“."


def _example(field: Field) -> str:
    ex = field.example or default_example(field.type, choices=field.choices or None)
    return f"Zum Beispiel: {ex}." if ex else ""


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def procedure_topic(text: str, intent: Optional[str] = None) -> Optional[str]:
    """The procedure fact a question asks for (an intent name of ``answers.ANSWERS_BY_INTENT``)."""
    if intent in answers.ANSWERS_BY_INTENT:
        return intent
    for topic, pattern in _PROCEDURE_TOPICS:
        if pattern.search(text) and topic in answers.ANSWERS_BY_INTENT:
            return topic
    return None


def explain_why(proc: Procedure, field: Field) -> str:
    why = field.why or field.help or f"Diese Angabe braucht die Behörde für den Antrag „{proc.name}“."
    return _join(f"Zu „{field.label}“: {why}", choices_text(field) if field.choices else "", _optional_note(field))


def explain_field(proc: Procedure, field: Field) -> str:
    """What the field means and how to answer it (help, choices, example)."""
    text = f"Zu „{field.label}“: {field.help}" if field.help else f"Gefragt ist: {field.label}."
    if field.choices:
        return _join(text, choices_text(field), _optional_note(field) if not field.required else "")
    return _join(text, _example(field), "" if field.required else _optional_note(field))


def names_choice(text: str, choice) -> bool:
    """Does ``text`` speak of ``choice`` ("Die einfache Bescheinigung …" names "Einfach")?"""
    low = text.casefold()
    for term in (str(choice.label), str(choice.value)):
        stem = re.sub(r"\W+", " ", term.casefold()).strip()[:6].strip()
        if len(stem) >= 3 and re.search(rf"(?<!\w){re.escape(stem)}", low):
            return True
    return False


def asks_why(text: str) -> bool:
    """ "Warum?", "Wozu brauchen Sie das?" """
    return bool(_WHY.search(clean(text)))


def asks_about_options(text: str) -> bool:
    return _asks_about_options(clean(text))


def _asks_about_options(text: str) -> bool:
    """ "Was ist der Unterschied …?", "welche gibt es?" – not "was für Unterlagen brauche ich?"
    (a fact of the procedure) nor "warum …?"."""
    if not _OPTIONS.search(text) or _WHY.search(text):
        return False
    return bool(_DIFFERENCE.search(text)) or procedure_topic(text) is None


def explain_options(proc: Procedure, field: Field) -> str:
    """What the choices mean ("Was ist der Unterschied zwischen einfach und erweitert?"): the
    field's help where it speaks of the choices; otherwise honestly that the catalogue does not
    say, and where to ask. The choices follow either way."""
    help_text = field.help or ""
    described = sum(names_choice(help_text, c) for c in field.choices)
    if described >= min(2, len(field.choices)):
        return _join(f"Zu „{field.label}“: {help_text}", choices_text(field))
    ask = f"Genaue Auskunft gibt: {proc.authority}." if proc.authority else ""
    return _join(
        f"Was die Möglichkeiten bei „{field.label}“ im Einzelnen unterscheidet, weiß ich leider nicht sicher.",
        help_text,
        ask,
        answers.UNKNOWN_HINT,
        choices_text(field),
    )


def answer(proc: Procedure, field: Field, text: str, intent: Optional[str] = None) -> str:
    """The German answer to a question asked while ``field`` is being asked for."""
    s = clean(text)
    if field.choices and _asks_about_options(s):
        # "Was ist der Unterschied …?" asks what the choices mean, whatever NLU read it as
        # (often "ask_why_field"): the why-text would not answer it.
        return explain_options(proc, field)
    if intent not in ("ask_why_field", "help"):
        topic = procedure_topic(s, intent)
        if topic is not None:
            return answers.ANSWERS_BY_INTENT[topic](proc)
    if _ABOUT_CANCELLING.search(s):
        # "kann ich den Antrag später noch abbrechen?" (intent_guard reads it as help)
        return CANCELLING_LATER
    if intent == "ask_why_field" or _WHY.search(s):
        return explain_why(proc, field)
    return explain_field(proc, field)


_ABOUT_CANCELLING = re.compile(r"abbrech|abbruch|abgebrochen|zurückzieh|zurueckzieh|stornier", re.I)
CANCELLING_LATER = (
    "Bis Sie den Antrag absenden, können Sie jederzeit „abbrechen“ schreiben. Ihre Angaben werden dann "
    "gelöscht. Einen abgesendeten Antrag können Sie in diesem Chat mit „Antrag zurückziehen“ zurücknehmen."
)
