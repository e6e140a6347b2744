"""Conversation repair inside a form: what did the citizen's message fill, fix or skip?

A clerk does not insist on one answer per question. ``read_message`` takes the text of one
message, the form's procedure, the field asked for and the fields already filled, and finds

- a skip ("überspringen", "keine Angabe") of an optional field,
- a question ("warum braucht ihr das?"): nothing is read as a value (``Reading.question``),
- corrections that name a field ("nein, die Postleitzahl ist 80331", "ändere das Geburtsdatum"),
- several values in one message ("Erika Mustermann, geboren 12.8.1964"),
- else the plain answer to the question asked.

Field names come from the catalogue (label, ``synonyms``, slot name) plus a few everyday words
per validator type ("PLZ", "geboren"), used only when one field of that type is in the form.
Values are checked with the German validators (``buergerassistent.validation``), so nothing is stored
that a single answer would not have been allowed to store. A message that fills more than one
field is echoed for confirmation by the form (``confirmation_reply`` reads the answer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Optional

from buergerassistent import nationality, regional_key
from buergerassistent.catalogue import Field, Procedure
from buergerassistent.form_questions import is_question
from buergerassistent.validation import validate
from buergerassistent.validation.base import clean, hint

# Stored for an optional field the citizen skipped: not None (the form must not ask again), and
# left out of the submitted data.
SKIPPED = "__keine_angabe__"

_SKIP = re.compile(
    r"^(?:bitte\s+)?(?:überspringen|ueberspringen|überspring(?:e)?|skip|keine angabe|keine angaben|"
    r"ohne angabe|weiß ich nicht|weiss ich nicht|habe ich nicht|hab ich nicht|gibt es nicht|"
    r"nicht vorhanden|keine|keiner|keins|nichts|-|—|weiter|nächste frage|"
    r"(?:das )?(?:möchte|will) ich nicht angeben|(?:das )?lasse ich (?:weg|aus)|"
    r"(?:das )?überspringe ich|kann ich das überspringen\??|(?:das )?brauche ich nicht)(?:\s+bitte)?[.!]*$",
    re.IGNORECASE,
)

# "weiß ich nicht, hab grad keine feste Nummer": a skip with a reason (no digits in the reason).
_SKIP_WITH_REASON = re.compile(
    r"^(?:weiß ich nicht|weiss ich nicht|habe ich nicht|hab ich nicht|gibt es nicht|keine|keiner|keins|"
    r"(?:das )?(?:möchte|will) ich nicht angeben|überspringen|ueberspringen)\s*[,.;:–—-]\s*[^\d]*$",
    re.IGNORECASE,
)
# A change of mind inside one answer: "Hauptwohnung – nein warte, Nebenwohnung", "10 … ach nee,
# lieber 12". What follows the last cue is the answer.
# A bare ", nein," between values may be a value itself (a yes/no field): the cue must be clear –
# after a dash or "…", with "ach"/"oh", followed by "warte"/"lieber"/…, or "moment"/"warte" itself.
_SELF_CORRECTION = re.compile(
    r"(?P<lead>^|\s*[…–—]|\s+-|\.\.\.|[\s,;:.])\s*(?P<ach>(?:ach|oh|ah|äh|ähm|oje|mist)[\s,]+)?"
    r"(?P<cue>nein|nee|ne|nö|moment|warte|korrektur)\b"
    r"[\s,;:!.…–—-]*(?P<then>(?:(?:warte|moment|doch|lieber|besser|eher|sondern|richtig ist)\b[\s,;:!.…–—-]*)*)",
    re.IGNORECASE,
)
_NOT_BUT = re.compile(r"\s+nicht\b[^,;]*[,;]?\s*sondern\s+", re.IGNORECASE)
# Field types whose answer may itself be "nein" or contain it (free text).
_NO_SELF_CORRECTION = frozenset({"yes_no", "text"})

# Everyday words for a field, by validator type: used when exactly one field of the type exists.
TYPE_WORDS: dict[str, tuple[str, ...]] = {
    "birth_date": ("geburtsdatum", "geburtstag", "geboren am", "geboren", "geb.", "geb"),
    "postcode": ("postleitzahl", "plz"),
    # "adress": a frequent spelling (English "address") in questions like "wozu braucht ihr mei adress?"
    "street": ("straße und hausnummer", "straße", "strasse", "hausnummer", "adresse", "adress", "address", "anschrift"),
    "city": ("wohnort", "ort", "stadt"),
    "email": ("e-mail-adresse", "e-mail adresse", "emailadresse", "e-mail", "email", "mail", "mailadresse"),
    "phone": ("telefonnummer", "telefon", "handynummer", "handy", "rufnummer", "nummer"),
    "iban": ("iban", "kontonummer", "bankverbindung", "konto"),
    "steuer_id": ("steuer-id", "steuerid", "steuer-identifikationsnummer", "steueridentifikationsnummer"),
    "kfz_kennzeichen": ("kennzeichen", "kfz-kennzeichen", "nummernschild"),
    "fin": ("fahrzeug-identifizierungsnummer", "fahrgestellnummer", "fin"),
}

# "… is wrong" in plain words and in dialect: "falsch", Bavarian "foisch", "stimmt ned", "passt
# nicht", "is ned richtig", "verkehrt".
_NEG = r"(?:nicht|nich|ned|net|nid)"
_WRONG = rf"(?:falsch|foisch|fåisch|verkehrt|stimmt\s+{_NEG}|passt\s+{_NEG}|{_NEG}\s+richtig)"
_CHANGE_VERBS = r"(?:ändere|ändern|änder|aendere|aendern|korrigiere|korrigieren|berichtige|berichtigen)"
_FILLER = r"(?:nein|ne|nee|doch|also|moment|stopp|stop|halt|sorry|entschuldigung|pardon|oh|oops|ups|korrektur|falsch)"
_ARTICLE = (
    r"(?:mein|meine|meinen|meiner|unser|unsere|unseren|unserer|die|der|das|den|dem|ihr|ihre|bei|beim|im|in der|unter|"
    # Bavarian: "d hausnummer", "de plz", "mei kennzeichen"
    r"d|de|da|des|mei|dei|unsa)"
)
_PARTICLES = {
    "von",
    "van",
    "de",
    "del",
    "della",
    "der",
    "den",
    "di",
    "da",
    "du",
    "zu",
    "vom",
    "zur",
    "ten",
    "ter",
    "le",
    "la",
    "al",
    "el",
    "bin",
    "ibn",
}


@dataclass(frozen=True)
class PlaceCheck:
    """A place that does not fit the postcode we know: "Münche" with 80331 → "München"."""

    field: str  # the city field
    typed: str  # what the citizen wrote (normalised by the validator)
    suggested: str  # the municipality of the postcode
    postcode: str


@dataclass
class Reading:
    """What one message did to the form."""

    values: dict[str, str] = field(default_factory=dict)  # field name → normalised value
    errors: dict[str, str] = field(default_factory=dict)  # field name → German re-prompt
    reopen: list[str] = field(default_factory=list)  # fields to clear and ask again
    corrected: list[str] = field(default_factory=list)  # filled fields given a new value
    skipped: Optional[str] = None  # the optional field the citizen skipped
    refused_skip: Optional[str] = None  # a required field the citizen tried to skip
    question: bool = False  # the message asks something: answer it, store nothing, ask again
    unassigned: list[str] = field(default_factory=list)  # parts no field could take for sure
    place: Optional[PlaceCheck] = None  # the place given does not belong to the postcode

    @property
    def filled(self) -> dict[str, str]:
        """The values given (skips left out): more than one must be confirmed before storing."""
        return {k: v for k, v in self.values.items() if v != SKIPPED}


# The IBAN question offers "überspringen und überweisen": "ich überweise lieber selbst",
# Bavarian "i überweis des liaba selba".
_SKIP_BY_TRANSFER = re.compile(
    r"^(?:ich\s+|i\s+)?(?:möchte\s+|will\s+|würde\s+)?(?:lieber\s+|das\s+|es\s+)?(?:selbst\s+)?"
    r"(?:überweis(?:e|en)?|ueberweis(?:e|en)?|per überweisung|per ueberweisung)\b[^\d]*$",
    re.IGNORECASE,
)


# Skips in other words, for a field whose answer is not yes/no and only when the text is no
# valid answer: "nein danke", "lieber keine Telefonnummer", "hab ich grad nicht da", "na, des
# überweis i selber" (Bavarian).
_SOFT_SKIP = re.compile(
    r"^(?:(?:nein|nee|ne|nö|na|naa)[\s,]+)?(?:"
    # "na, des brauchts ned", "brauch ma ned", "nein, brauchen Sie nicht": not needed
    r"(?:des|das|die|den|dies)?\s*(?:brauchts|braucht'?s|braucht\s+(?:es|ihr)|brauch(?:en|a|an)?\s+(?:ma|mer|wir|sie|ihr|es))"
    r"\s+(?:nicht|ned|net|nich|koane?|keine?n?)\b[^\d]*|"
    r"(?:nein|nee|ne|nö|na|naa)[\s,]+danke|danke[\s,]+(?:nein|nicht)|"
    # Bavarian "na" alone: plain "nein" keeps its other readings (NLU's deny).
    r"naa?|"
    r"lieber\s+(?:nicht|keine?n?)\b[^\d]*|"
    r"keine?n?\s+[a-zäöüß-]+(?:\s+(?:bitte|danke|angeben|angegeben))?|"
    r"(?:die|das|den|des|eine?n?\s+)?\s*(?:hab|habe|hob)\s+(?:ich|i)\s+(?:[a-zäöüß]+\s+){0,3}(?:nicht|ned|net|nich|keine?n?)\b[^\d]*|"
    r"(?:(?:nein|nee|na|nö)[\s,]+)?(?:des|das|dies)?\s*(?:überweis|ueberweis)\w*\s+(?:i|ich)\b[^\d]*"
    r")[.!]*$",
    re.IGNORECASE,
)


def is_skip(text: str) -> bool:
    text = clean(text)
    return bool(_SKIP.match(text) or _SKIP_WITH_REASON.match(text) or _SKIP_BY_TRANSFER.match(text))


def is_soft_skip(f: Field, text: str) -> bool:
    """A skip in other words (``_SOFT_SKIP``) for ``f``: never for a yes/no field ("nein danke"
    is its answer) and never when the text is a valid answer to ``f``."""
    text = clean(text)
    return (
        f.type != "yes_no" and "?" not in text and bool(_SOFT_SKIP.match(text)) and not _check(f, text).ok
    )  # "Brauchen Sie nicht meine Nummer?" is a question


def self_corrected(text: str) -> Optional[str]:
    """The answer after a change of mind in the middle of a message, or None if there is none."""
    last = None
    for m in _SELF_CORRECTION.finditer(text):
        if m.start() == 0 and not m["lead"] or not text[: m.start()].strip(" ,;:.…–—-"):
            continue
        clear = (
            any(ch in m["lead"] for ch in "…–—-") or m["lead"] == "..." or m["ach"] or m["then"]
            or m["cue"].lower() in ("moment", "warte", "korrektur")
        )  # fmt: skip
        if clear:
            last = m
    if last is None:
        return None
    tail = text[last.end() :].strip(" ,;:.…–—-")
    return tail or None


def _norm(text: str) -> str:
    return clean(text).casefold()


_DATE_TYPES = frozenset({"date", "future_date", "birth_date", "past_date"})


def field_names(proc: Procedure) -> list[tuple[str, Field]]:
    """(casefolded name, field) pairs to look fields up by, longest first."""
    by_type: dict[str, list[Field]] = {}
    for f in proc.fields:
        by_type.setdefault(f.type, []).append(f)
    pairs: dict[str, Field] = {}
    ambiguous: set[str] = set()

    def add(term: str, f: Field) -> None:
        term = _norm(term)
        if len(term) < 2:
            return
        if term in pairs and pairs[term] is not f:
            ambiguous.add(term)
        pairs.setdefault(term, f)

    for f in proc.fields:
        for term in (f.label, *f.synonyms, f.name.replace("_", " ")):
            add(term, f)
    for f in proc.fields:
        # "der Umzug ist am 26.03." names the Umzugstag: the event of a date field's label.
        if f.type in _DATE_TYPES:
            m = re.fullmatch(r"([A-Za-zÄÖÜäöüß]{4,}?)s?(?:tag|datum|termin)", f.label)
            if m and _norm(m[1]) not in pairs:
                add(m[1], f)
    for ftype, fields in by_type.items():
        if len(fields) == 1:
            for term in TYPE_WORDS.get(ftype, ()):
                if term not in pairs:
                    add(term, fields[0])
    return sorted(((t, f) for t, f in pairs.items() if t not in ambiguous), key=lambda p: -len(p[0]))


def _find_field(proc: Procedure, text: str) -> Optional[tuple[Field, int, int]]:
    """The first field named in ``text`` (leftmost, then longest), with the span of its name."""
    low = _norm(text)
    best = None
    for term, f in field_names(proc):
        # German inflection: "den Vornamen", "des Geburtsdatums"
        m = re.search(rf"(?<![\w-]){re.escape(term)}(?:n|s|es|en)?(?![\w-])", low)
        if m and (best is None or m.start() < best[1] or (m.start() == best[1] and m.end() > best[2])):
            best = (f, m.start(), m.end())
    return best


def _check(f: Field, text: str):
    return validate(f.type, text, choices=f.choices or None, example=f.example)


_HOUSE_NUMBER_ONLY = re.compile(r"^(?:die|der|de|d|nr\.?|nummer|hausnummer)?\s*(\d{1,4}\s?[a-zA-Z]?)$", re.IGNORECASE)


def _check_with(f: Field, value: str, filled: Mapping[str, object]):
    """Like ``_check``; a bare house number ("die 23") for a known street changes only the number."""
    m = _HOUSE_NUMBER_ONLY.match(value.strip())
    known = str(filled.get(f.name) or "")
    if f.type == "street" and m and known and known != SKIPPED:
        street = re.sub(r"\s*\d{1,4}\s?[a-zA-Z]?(?:\s*[-/]\s*\d{1,4}\s?[a-zA-Z]?)?$", "", known).strip()
        if street:
            return _check(f, f"{street} {m[1]}")
    return _check(f, value)


_CORRECTION_LEAD = re.compile(
    r"^(?:(?:richtig|korrekt)(?:\s+(?:ist|wäre|waere|wär|war|is))?|sondern|eigentlich|"
    r"(?:es|er|sie|das|des|dies)\s+(?:ist|is|wäre|wär)|es sind)\s*:?\s*",
    re.IGNORECASE,
)
# "41 ned 14", "M-AB 12 statt M-AB 21": what follows the negation is the value the citizen rejects.
_REJECTED_TAIL = re.compile(rf"[\s,;]+(?:und\s+)?(?:{_NEG}|statt|anstatt|anstelle\s+von)\s+[^,;]*$", re.IGNORECASE)


def _take_correction(reading: Reading, f: Field, value: object, filled: Mapping[str, object]) -> None:
    """The new value of the field the citizen said was wrong (the first one reopened)."""
    reading.reopen.pop(0)
    reading.values[f.name] = value
    if filled.get(f.name) not in (None, ""):
        reading.corrected.append(f.name)


def _one_value_in(f: Field, parts: list[str], filled: Mapping[str, object]):
    """The result for ``f`` if exactly one new value of its type stands in ``parts`` (a whole
    part or a run of up to four words), else None: two candidates are a question, not a guess."""
    results = {}
    rejected = set()
    for part in parts:
        words = part.split()
        spans = [(0, part)] + [(i, " ".join(words[i : i + n])) for n in (4, 3, 2, 1) for i in range(len(words) - n + 1)]
        for i, span in spans:
            span = span.strip(" .,;:!?")
            if not span:
                continue
            result = _check_with(f, span, filled)
            if not result.ok or result.value == filled.get(f.name):  # the old value is what is wrong
                continue
            if _after_negation(words[:i]):  # "41 ned 14", "M-AB 12 statt M-AB 21": 14 is rejected
                rejected.add(result.value)
            else:
                results.setdefault(result.value, result)
    for value in rejected:
        results.pop(value, None)
    known = str(filled.get(f.name) or "")
    if f.type == "street" and known and known != SKIPPED and len(results) > 1:
        # "die Hausnummer ist 41": a new number for the known street, not a street called "Ist 41".
        same = {v: r for v, r in results.items() if _street_name(v).casefold() == _street_name(known).casefold()}
        results = same or results
    return next(iter(results.values())) if len(results) == 1 else None


def _after_negation(words_before: list[str]) -> bool:
    """Do the words before a value end in a negation ("ned de", "nicht die", "statt")? Not a
    negation that ends its own clause: "stimmt ned, M-AB 12" says the old value is wrong."""
    words = list(words_before[-3:])
    if len(words) >= 2 and re.fullmatch(r"d|de|die|der|das|den|dem|des|am|an", words[-1], re.IGNORECASE):
        words = words[:-1]
    if not words or words[-1][-1:] in ",;:.!":
        return False
    if len(words) >= 2 and re.fullmatch(r"stimmt|passt|is|ist|war", words[-2], re.IGNORECASE):
        return False
    return bool(re.fullmatch(rf"{_NEG}|statt|anstatt|anstelle|kein|keine|nein", words[-1], re.IGNORECASE))


def _street_name(street: str) -> str:
    return re.sub(r"\s*\d{1,4}\s?[a-zA-Z]?(?:\s*[-/]\s*\d{1,4}\s?[a-zA-Z]?)?$", "", street).strip()


def _strip_filler(text: str) -> tuple[str, bool]:
    """Remove leading "nein," / "Moment," and say whether there was one (a correction cue)."""
    cue = False
    while True:
        m = re.match(rf"^{_FILLER}\b[\s,.:;!-]*", text, re.IGNORECASE)
        if not m or m.end() == 0:
            return text, cue
        # "nein und Max, Muster": a "nein" listed with other values is one of them, no cue.
        if re.match(r"und\b", text[m.end() :], re.IGNORECASE):
            return text, cue
        text, cue = text[m.end() :], True


def _value_after_name(rest: str) -> str:
    """ "ist 80331" → "80331"; "lautet richtig: Erika" → "Erika"; "auf 80333" → "80333"."""
    rest = rest.strip(" :,=-")
    rest = re.sub(
        r"^(?:ist|is|lautet|heißt|heisst|war|wäre|wär|sollte|soll|muss|richtig|eigentlich|doch|bitte|korrekt|"
        r"auf|in|zu|nicht\s+\S+\s+sondern|:)(?:\s+|$)",
        "",
        rest,
        flags=re.IGNORECASE,
    )
    rest = re.sub(
        r"^(?:ist|lautet|heißt|heisst|richtig|eigentlich|doch|bitte|korrekt|sein|lauten|schon|erst)(?:\s+|$)",
        "",
        rest,
        flags=re.IGNORECASE,
    ).strip(" :,=-")
    rest = re.sub(r"\s+(?:sein|lauten|heißen|ändern|sein\.)$", "", rest, flags=re.IGNORECASE)
    # A spelling note is no part of the value: "Bella mit zwei l", "Meier mit ei", "Lutz mit tz geschrieben".
    rest = re.sub(
        r"\s+(?:mit\s+(?:zwei|doppel|doppeltem|doppelt|einem|ein|nur\s+einem)?\s*-?\s*[a-zäöüß]{1,3}|so)\s*(?:geschrieben)?$",
        "",
        rest,
        flags=re.IGNORECASE,
    )
    return rest.strip(" .!")


def _named_segment(proc: Procedure, seg: str) -> Optional[tuple[Field, str, bool]]:
    """A segment that names a field: (field, value text or "", whether it asks to change)."""
    body, _ = _strip_filler(seg)
    change = bool(
        re.search(
            rf"\b{_CHANGE_VERBS}\b|\b{_WRONG}\b|\bkorrigieren\b|\bvertippt\b|\bverschrieben\b",
            body,
            re.IGNORECASE,
        )
    )
    body = re.sub(
        r"^(?:(?:ich\s+(?:möchte|will|muss|würde\s+gerne?)|können\s+sie|kann\s+ich|bitte|noch)\s+)+",
        "",
        body,
        flags=re.IGNORECASE,
    )
    body = re.sub(rf"^{_CHANGE_VERBS}\b\s*(?:bitte\s+)?", "", body, flags=re.IGNORECASE)
    body = re.sub(r"^(?:bitte\s+)?(?:noch\s+)?(?:mal\s+)?", "", body, flags=re.IGNORECASE)
    found = _find_field(proc, body)
    if not found:
        return None
    f, start, end = found
    before = _norm(body[:start]).strip()
    # The name must lead the segment ("die PLZ ist …", "geboren 12.8."), perhaps after an article;
    # otherwise "Ich wohne in der Hauptstraße 5" would name the street field by accident.
    if before and not change and not re.fullmatch(rf"{_ARTICLE}(?:\s+{_ARTICLE})?", before):
        return None
    rest = body[end:]
    rest = re.sub(r"^\s*(?:vertippt|verschrieben)\b.*$", "", rest, flags=re.IGNORECASE)
    # "… ändern" / "… korrigieren" at the end is the request, not the value
    rest = re.sub(rf"\s*\b{_CHANGE_VERBS}\b.*$|\s+(?:korrigiert|geändert)\b.*$", "", rest, flags=re.IGNORECASE)
    explicit = bool(
        re.match(
            r"^\s*(?:ist|lautet|heißt|heisst|war|muss|soll|sollte|richtig|:|=|auf)\b|^\s*[:=]", rest, re.IGNORECASE
        )
    )
    wrong = re.search(rf"\s*\b(?:(?:ist|is|war)\s+)?{_WRONG}\b.*$", rest, flags=re.IGNORECASE)
    if wrong:
        # "das Kennzeichen M-CW 3017 stimmt nicht": the value before "stimmt nicht" is the wrong
        # one, never the new one. The field is reopened; the new value may follow.
        return f, "", True
    return f, _value_after_name(rest), change or explicit or not rest.strip()


_WEEKDAY_COMMA = re.compile(
    r"\b(montag|dienstag|mittwoch|donnerstag|freitag|samstag|sonnabend|sonntag|mo|di|mi|do|fr|sa|so)\.?,\s*(?=\d)",
    re.IGNORECASE,
)


def _segments(text: str) -> list[str]:
    # "Samstag, 13. März 2027" is one date: no split after a weekday.
    text = _WEEKDAY_COMMA.sub(r"\1 ", text)
    # Commas not inside numbers ("12,50 €"), semicolons, " und ", and before "geboren"/"geb.".
    # … and "Hauptstraße 20 in Freising": after a house number, "in" starts the place.
    parts = re.split(
        r"\s*;\s*|,(?!\d)\s*|\s+und\s+|\s+(?=geb(?:oren\b|\.|\s))|"
        r"(?:(?<=\d)|(?<=\d[a-z]))\s+in\s+(?=(?!(?:der|die|dem|den|des)\b)[^\W_])",
        text,
    )
    return [p.strip() for p in parts if p and p.strip(" .")]


def _split_full_name(text: str) -> Optional[tuple[str, str]]:
    words = text.split()
    if len(words) < 2:
        return None
    for i in range(1, len(words)):
        if words[i].casefold() in _PARTICLES:
            return " ".join(words[:i]), " ".join(words[i:])
    return " ".join(words[:-1]), words[-1]


def _unfilled_after(proc: Procedure, start: str, filled: Mapping[str, object], taken: Iterable[str]) -> list[Field]:
    names = [f.name for f in proc.fields]
    taken = set(taken)
    i = names.index(start) if start in names else 0
    return [f for f in proc.fields[i:] if filled.get(f.name) in (None, "") and f.name not in taken]


# Types whose validators take almost any word ("München" is a valid name, "Erika" a valid
# place): a part of a message goes to such a field only in the form's order, never by guessing.
WEAK_TYPES = frozenset({"name", "city", "text"})


def _weak(f: Field) -> bool:
    """Whether the field's validator takes almost any word. A nationality is checked against
    the official list only when the operator has loaded it; without it any word passes ("Max"
    would become the nationality), so it is weak then."""
    if f.type == "nationality":
        return nationality.loaded_table() is None
    return f.type in WEAK_TYPES


_NAME_LEAD = re.compile(r"^(?:mein name ist|ich heiße|ich heisse|ich bin|name:?)\s+", re.IGNORECASE)
_CHANGE_CUE = re.compile(rf"\b{_CHANGE_VERBS}\b|\b{_WRONG}\b|\bvertippt\b|\bverschrieben\b", re.IGNORECASE)


# Among several fields that accept a part, the more specific type wins (lower = more specific).
_SPECIFIC = {
    "email": 0,
    "iban": 0,
    "steuer_id": 0,
    "fin": 0,
    "kfz_kennzeichen": 1,
    "postcode": 1,
    "birth_date": 2,
    "date": 2,
    "future_date": 2,
    "past_date": 2,
    "phone": 3,
    "yes_no": 4,
    "choice": 4,
    "amount": 5,
    "count": 5,
    "street": 6,
}
# In a message with several values a bare "2" is a count, never "the second choice".
_BY_POSITION = re.compile(r"\d+\.?|(?:die |das |der )?(?:erste|zweite|dritte|vierte|fünfte)[nrs]?", re.IGNORECASE)


def reads_as_correction(proc: Procedure, text: str, filled: Mapping[str, object]) -> bool:
    """At the summary: does the message change an answer ("der Umzugstag ist der 20.03.")?"""
    text = clean(text)
    if not text or text.startswith("/") or is_question(text):
        return False
    reading = read_message(proc, None, text, filled)
    return bool(reading.corrected or reading.reopen)


_CALLED_LEAD = re.compile(
    r"^(?:(?:er|sie|es|der hund|die hündin|unser hund|unsere hündin|mein hund|meine hündin)\s+)?"
    r"(?:heißt|heisst|hört auf (?:den namen\s+)?)\s*",
    re.IGNORECASE,
)


def is_given_name(f: Field) -> bool:
    return f.type == "name" and (f.prefill == "given_name" or f.name == "vorname")


def _is_change_request(proc: Procedure, text: str) -> bool:
    """ "Können Sie den Vornamen ändern?" is a correction, not a question about the field."""
    return bool(_CHANGE_CUE.search(text)) and _find_field(proc, text) is not None


def read_message(
    proc: Procedure,
    requested: Optional[str],
    text: str,
    filled: Mapping[str, object],
    skip_intent: bool = False,
    single: bool = False,
) -> Reading:
    """Interpret one message in the form; see the module docstring.

    ``skip_intent``: NLU read the message as "skip this question" (intent ``skip_field``).
    ``single``: the whole message is the answer to the field asked for (after the citizen
    rejected how an earlier message was split).
    A place that does not belong to the postcode (where we know the postcode's municipality)
    is named in ``Reading.place``: the form asks "Meinen Sie „München“?" instead of storing it.
    """
    reading = _read_message(proc, requested, text, filled, skip_intent, single)
    reading.place = check_place(proc, reading.values, filled)
    return reading


def municipality_name(postcode: object) -> Optional[str]:
    """The municipality a postcode belongs to ("München"), where the regional-key tables know it."""
    found = regional_key.lookup(str(postcode or ""))
    return found.name.split(",")[0].strip() if found else None


def _other_names(postcode: object) -> tuple[str, ...]:
    """The municipality's names in other languages ("Munich"), from the regional-key table."""
    found = regional_key.lookup(str(postcode or ""))
    return found.other_names if found else ()


def place_fits(place: str, municipality: str) -> bool:
    """ "München", "muenchen", "München-Pasing", "Landeshauptstadt München" fit "München"."""
    words = regional_key.normalise(place.replace("-", " ")).split()
    wanted = regional_key.normalise(municipality).split()
    n = len(wanted)
    return any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def check_place(proc: Procedure, values: Mapping[str, str], filled: Mapping[str, object]) -> Optional[PlaceCheck]:
    """The place just given (in ``values``) checked against the form's postcode (given now or
    before). ``None`` when it fits, when the postcode is unknown to us, or without both fields."""
    cities = [f for f in proc.fields if f.type == "city" and values.get(f.name) not in (None, "", SKIPPED)]
    postcodes = [f for f in proc.fields if f.type == "postcode"]
    if len(cities) != 1 or len(postcodes) != 1:
        return None
    city, pc = cities[0], postcodes[0]
    postcode = values.get(pc.name) or filled.get(pc.name)
    if postcode in (None, "", SKIPPED):
        return None
    municipality = municipality_name(postcode)
    typed = str(values[city.name])
    if municipality is None or any(place_fits(typed, name) for name in (municipality, *_other_names(postcode))):
        return None
    return PlaceCheck(city.name, typed, municipality, str(postcode))


def _read_message(
    proc: Procedure,
    requested: Optional[str],
    text: str,
    filled: Mapping[str, object],
    skip_intent: bool,
    single: bool,
) -> Reading:
    reading = Reading()
    typed = clean(text, typography=False)  # free text is stored with its own dashes and quotes
    text = clean(text)
    current = None
    if requested:
        try:
            current = proc.field(requested)
        except KeyError:
            current = None

    # NLU's "skip" intent alone is not trusted when the text is a valid answer ("nächsten Samstag").
    if current is not None and (
        is_skip(text)
        or is_soft_skip(current, text)
        or (skip_intent and not _find_field(proc, text) and not _check(current, text).ok)
    ):
        if current.required:
            reading.refused_skip = current.name
        else:
            reading.skipped = current.name
            reading.values[current.name] = SKIPPED
        return reading

    # Questions first: "was ist der Unterschied zwischen A und B?" must not store A.
    if is_question(text) and not _is_change_request(proc, text):
        reading.question = True
        return reading

    by_old = _correction_by_old_value(proc, text, filled)
    if by_old is not None:
        reading.values[by_old[0]] = by_old[1]
        reading.corrected.append(by_old[0])
        return reading

    if current is not None and current.type not in _NO_SELF_CORRECTION:
        tail = self_corrected(text)
        if tail is not None:
            # The last word counts: "A – nein warte, B, weil …" stores B (the reason is no value).
            # "…, also beide": the conclusion after "also" is the answer
            conclusion = re.search(
                r"(?:^|[,;.]|\s)\s*(?:also|sprich|dann eben|dann halt)\s+([^,;.]+?)[.!]*$", tail, re.I
            )
            first = _segments(tail)[0] if _segments(tail) else tail
            for candidate in (*([conclusion[1]] if conclusion else []), tail, first):
                result = _check(current, candidate)
                if result.ok:
                    reading.values[current.name] = result.value
                    return reading
            text = tail

    if current is not None and current.type == "yes_no" and len(_segments(text)) > 1:
        # "nein, ich glaube, ich habe ihn verloren": a yes/no with a reason is one answer –
        # unless a part names a field ("nein, der Vorname ist Anna").
        result = _check(current, text)
        if result.ok and not any(_named_segment(proc, seg) for seg in _segments(text)):
            reading.values[current.name] = result.value
            return reading

    if current is None or current.type != "text":
        # "Der Beginn ist nicht der 1. März, sondern der 15.02.2027": the part after "sondern".
        text = _NOT_BUT.sub(" ", text).strip()

    # "nein" is the answer to a yes/no question, not a correction cue
    body = text if current is not None and current.type == "yes_no" else _strip_filler(text)[0]
    # "nein, …" / "Moment: …" only introduce what follows.
    if current is not None and (current.type == "text" or single):
        # Free text may contain commas and "und" ("Sofa, Schrank und zwei Stühle"): one answer.
        segments = [typed if current.type == "text" and body == text else body or text]
    else:
        # "nein danke" (one part) to a yes/no question: "nein" is the answer, not a filler
        parts = _segments(body or text)
        keep = current is not None and current.type == "yes_no" and len(parts) == 1
        parts = [seg if keep else _strip_filler(seg)[0] for seg in parts]
        segments = [s for s in parts if s.strip(" .!")]
    if not segments:
        segments = [text]
    multi = len(segments) > 1
    loose: list[str] = []
    said_wrong: dict[str, str] = {}  # field → the part that says it is wrong ("… war falsch. Richtig ist …")
    for seg in segments:
        named = _named_segment(proc, seg)
        if named is None:
            loose.append(seg)
            continue
        f, value, change = named
        if not value:
            if f.name != requested:
                reading.reopen.append(f.name)
                said_wrong[f.name] = seg
            continue
        result = _check_with(f, value, filled)
        if not result.ok:
            # "geboren" is a cue, not a label: "geboren in Köln" is no birth date
            if f.name == requested or change:
                reading.errors[f.name] = result.error
            else:
                loose.append(seg)
            continue
        reading.values[f.name] = result.value
        if filled.get(f.name) not in (None, "") and f.name != requested:
            reading.corrected.append(f.name)

    if reading.reopen:
        # "Der Vorname ist falsch, richtig ist Anna": the next part is the new value.
        f = proc.field(reading.reopen[0])
        lead = _CORRECTION_LEAD.sub("", _REJECTED_TAIL.sub("", loose[0])) if loose else ""
        first = _check_with(f, lead, filled) if lead else None
        if first is not None and first.ok and first.value != filled.get(f.name):
            _take_correction(reading, f, first.value, filled)
            loose = loose[1:]
        elif not _weak(f):
            # "Das Einzugsdatum stimmt nicht … Wir ziehen erst am 15.02.2027 ein." or "das
            # Kennzeichen war falsch. Richtig ist M-CW 3071.": the one value of the field's type in
            # the explanation or in the part that said it was wrong. The rest only explains.
            found = _one_value_in(f, [*loose, said_wrong.get(f.name, "")], filled)
            if found is not None:
                _take_correction(reading, f, found.value, filled)
                return reading
    if not loose:
        return reading

    if not multi and current is not None and current.name not in reading.values:
        _read_single(proc, current, loose[0], filled, reading, split=not single)
        return reading
    _assign_several(proc, current, loose, filled, reading)
    if current is None and reading.unassigned:
        _changed_choice(proc, filled, reading)
    return reading


# "die 41, ned die 14", "Meier statt Maier": a new value, a negation, the rejected value.
_NEW_NOT_OLD = re.compile(
    rf"(?P<new>[^,;:]+?)[\s,]+(?:und\s+)?(?:{_NEG}|statt|anstatt|anstelle\s+von)\s+"
    r"(?P<old>[^,;:!?]+?)[\s.!?]*(?=$|[,;:])",
    re.IGNORECASE,
)
_TRAILING_FILLER = re.compile(r"(?:\s+(?:bitte|danke|halt|eben|natürlich|gell|oder))+$", re.IGNORECASE)
_LEADING_ARTICLE = re.compile(r"^(?:d|de|die|der|das|den|dem|des|am|an|nicht)\s+", re.IGNORECASE)


def _correction_by_old_value(proc: Procedure, text: str, filled: Mapping[str, object]) -> Optional[tuple[str, str]]:
    """(field, new value) of a correction that names no field but the wrong value, or None.

    "die 41, ned die 14" / "Meier statt Maier": the value after the negation is the one stored
    for exactly one field, the value before it is that field's new value. "M-AB 12 stimmt nicht,
    richtig wäre M-AB 21": a message that says something is wrong and holds a field's stored
    value and exactly one other value of its type. Never the stored value again, never a guess
    between two fields: both readings must point to one field."""
    named = _find_field(proc, text)
    found: dict[str, str] = {}
    stored = [f for f in proc.fields if filled.get(f.name) not in (None, "", SKIPPED) and f.type != "yes_no"]
    for m in _NEW_NOT_OLD.finditer(text):
        old = _TRAILING_FILLER.sub("", _LEADING_ARTICLE.sub("", m["old"].strip()))
        new_part = _CORRECTION_LEAD.sub("", _strip_filler(m["new"].strip())[0])
        for f in stored:
            known = filled.get(f.name)
            # "8 bei der Hausnummer": the rejected value leads what follows the negation.
            heads = [" ".join(old.split()[:n]) for n in range(1, min(4, len(old.split())) + 1)]
            if not any(_check_with(f, head, filled).value == known for head in heads):
                continue
            if _weak(f):
                # "unser Hund heißt Rexi, nicht Rex": the value after the field's name
                said = _named_segment(proc, new_part)
                value = said[1] if said is not None and said[0] is f and said[1] else new_part
                value = _CALLED_LEAD.sub("", _NAME_LEAD.sub("", _LEADING_ARTICLE.sub("", value))) or value
                after = _check_with(f, value, filled) if len(value.split()) <= 3 else None
                new = after.value if after is not None and after.ok else None
            else:
                one = _one_value_in(f, [new_part], filled)
                new = one.value if one is not None else None
            if new is not None and new != known:
                found.setdefault(f.name, new)
    if not found and re.search(rf"\b{_WRONG}\b", text, re.IGNORECASE):
        for f in stored:
            if _weak(f) or f.type in ("choice", "yes_no"):
                continue
            words = text.split()
            spans = {
                " ".join(words[i : i + n]).strip(" .,;:!?") for n in (4, 3, 2, 1) for i in range(len(words) - n + 1)
            }
            if not any(_check_with(f, span, filled).value == filled.get(f.name) for span in spans if span):
                continue  # the stored value is not the one said to be wrong
            one = _one_value_in(f, [text], filled)
            if one is not None:
                found[f.name] = one.value
    if named is not None and set(found) != {named[0].name}:
        return None  # a field is named: only its own correction, else the general reading
    return next(iter(found.items())) if len(found) == 1 else None


def _changed_choice(proc: Procedure, filled: Mapping[str, object], reading: Reading) -> None:
    """At the summary: "doch lieber nur 12 Monate" names no field, but only one answered choice
    has an option called so (a word of five letters or more) – and it is not the stored one."""
    found: dict[str, str] = {}
    for seg in reading.unassigned:
        s = _norm(seg)
        for f in proc.fields:
            if f.type != "choice" or filled.get(f.name) in (None, "", SKIPPED) or f.name in reading.values:
                continue
            for c in f.choices:
                terms = {_norm(str(t)) for t in (c.value, c.label, *(getattr(c, "synonyms", ()) or ()))}
                if any(len(t) >= 5 and re.search(rf"(?<!\w){re.escape(t)}(?!\w)", s) for t in terms):
                    found.setdefault(f.name, str(c.value))
                    if found[f.name] != str(c.value):
                        found[f.name] = ""  # two options of one field: unclear
    found = {n: v for n, v in found.items() if v}
    if len(found) == 1:
        name, value = next(iter(found.items()))
        if str(filled.get(name)) != value:
            reading.values[name] = value
            reading.corrected.append(name)


def _read_single(
    proc: Procedure, current: Field, seg: str, filled: Mapping[str, object], reading: Reading, split: bool = True
) -> None:
    """One part for the field asked for; a full name at the given-name question fills both names."""
    nxt = _unfilled_after(proc, current.name, filled, [current.name])
    if split and current.type == "name" and nxt and nxt[0].type == "name":
        full = _NAME_LEAD.sub("", seg)
        # "Max Mustermann" to "Wie lautet Ihr Vorname?": both names (confirmed before storing,
        # since "Anna Lena" may be two given names); elsewhere only after "Mein Name ist …".
        if (is_given_name(current) or full != seg) and len(full.split()) >= 2:
            if _assign_full_name(reading, current, nxt[0], full):
                return
    if is_given_name(current):
        # The family name is known already and repeated: "Max Mustermann" → "Max".
        family = next((f for f in proc.fields if f.type == "name" and f is not current), None)
        known = str(filled.get(family.name) or "") if family is not None else ""
        words = _NAME_LEAD.sub("", seg).split()
        if known and known != SKIPPED and len(words) >= 2 and " ".join(words[-len(known.split()) :]) == known:
            seg = " ".join(words[: -len(known.split())])
    if current.name.endswith("name"):
        # "Sie heißt Luna" to "Wie heißt Ihr Hund?": the name is "Luna".
        seg = _CALLED_LEAD.sub("", seg) or seg
    result = _check(current, seg)
    if not result.ok and not _weak(current) and _REJECTED_TAIL.search(seg):
        # "3 statt 2", "den 5. ned den 4.": the value before the negation is the answer.
        kept = _check(current, _REJECTED_TAIL.sub("", seg))
        result = kept if kept.ok else result
    if result.ok:
        reading.values[current.name] = result.value
    else:
        reading.errors[current.name] = result.error


def _in_form_order(proc: Procedure, reading: Reading, f: Field) -> bool:
    names = [x.name for x in proc.fields]
    return all(names.index(n) < names.index(f.name) for n in reading.values if n in names)


def _assign_several(
    proc: Procedure, current: Optional[Field], loose: list[str], filled: Mapping[str, object], reading: Reading
) -> None:
    """Several values: each part goes to the one field it can only mean, else it is left out.

    A part that exactly one open field accepts (a date, a postcode, an e-mail address …) goes
    there. Names, places and free text fit almost anything, so such a part goes to the next
    open field of those types in the form's order (a full name to first and family name). When
    two fields take a part (two dates), it goes to the field asked for if it comes first, or to
    the first one when the message so far follows the form's order; otherwise it is not used.
    """
    start = current.name if current is not None else (proc.fields[0].name if proc.fields else "")
    named_before = set(reading.values)  # values of parts that named their field
    deferred: list[int] = []  # parts only a name, place or free-text field would take
    for idx, seg in enumerate(loose):
        open_fields = _unfilled_after(proc, start, filled, reading.values)
        if not open_fields:
            reading.unassigned.append(seg)
            continue
        m = re.fullmatch(r"(\d{5})\s+(\D.+)", seg)
        pc_city = [f for f in open_fields if f.type in ("postcode", "city")]
        if m and len(pc_city) == 2 and pc_city[0].type != pc_city[1].type:
            pc = next(f for f in pc_city if f.type == "postcode")
            city = next(f for f in pc_city if f.type == "city")
            r1, r2 = _check(pc, m[1]), _check(city, m[2])
            if r1.ok and r2.ok:
                reading.values[pc.name], reading.values[city.name] = r1.value, r2.value
                continue
        strong = [
            (f, r)
            for f in open_fields
            if not _weak(f) and not (f.type == "choice" and _BY_POSITION.fullmatch(seg))
            for r in [_check(f, seg)]
            if r.ok
        ]
        if len(strong) > 1:  # "M-AB 1234" is a number plate before it is a street
            best = min(_SPECIFIC.get(f.type, 9) for f, _ in strong)
            strong = [(f, r) for f, r in strong if _SPECIFIC.get(f.type, 9) == best]
        if strong:
            chosen = None
            if len(strong) == 1:
                chosen = strong[0]
            elif idx == 0 and current is not None and any(f is current for f, _ in strong):
                chosen = next((f, r) for f, r in strong if f is current)
            elif _in_form_order(proc, reading, strong[0][0]):
                chosen = strong[0]
            if chosen is None:
                reading.unassigned.append(seg)
            else:
                reading.values[chosen[0].name] = chosen[1].value
            continue
        deferred.append(idx)
    # Then the parts that fit almost any name or place field, once the parts that can only mean
    # one field are placed: "Max Mustermann, 12.5.1990" at the birth date lost the date when the
    # name came first (it went to a later place field, and the date then seemed out of order).
    for idx in deferred:
        seg = loose[idx]
        open_fields = _unfilled_after(proc, start, filled, reading.values)
        # The first part may answer the question asked even when its field takes any word
        # (a nationality without the official list, a free text): "Indien, München".
        weak = [f for f in open_fields if f.type in ("name", "city") or (idx == 0 and f is current and _weak(f))]
        if not weak:
            reading.unassigned.append(seg)
            continue
        target = weak[0]
        if target.type == "name" and len(weak) > 1 and weak[1].type == "name":
            full = _NAME_LEAD.sub("", seg)
            if len(full.split()) >= 2 and _assign_full_name(reading, target, weak[1], full):
                continue
        result = _check(target, _NAME_LEAD.sub("", seg) if target.type == "name" else seg)
        if result.ok:
            reading.values[target.name] = result.value
        else:
            reading.unassigned.append(seg)
            if target is current:
                reading.errors[current.name] = result.error
    # Two parts for one field ("Samstag" and "13. März" read as two dates): no guess.
    for name in [n for n in reading.values if n not in named_before]:
        f = proc.field(name)
        if _weak(f) or f.type in ("choice", "yes_no"):
            continue
        rivals = [
            seg
            for seg in reading.unassigned
            if not _REJECTED.match(seg) and _check(f, seg).ok and _check(f, seg).value != reading.values[name]
        ]
        if rivals:
            del reading.values[name]
            reading.errors[name] = (
                f"Für „{f.label}“ habe ich mehr als eine Angabe gefunden. Bitte nennen Sie nur eine. "
                + hint(f.type, f.example or "", refer=False)
            )
    if current is not None and current.name not in reading.values and current.name not in reading.errors:
        if not reading.values and loose:
            reading.errors[current.name] = _check(current, loose[0]).error


# "…, nicht 219": the value the citizen rejects is no rival
_REJECTED = re.compile(r"^\s*(?:nicht|kein|keine|nein|statt|anstatt|anstelle)\b", re.IGNORECASE)


def _assign_full_name(reading: Reading, first: Field, second: Field, full: str) -> bool:
    parts = _split_full_name(full)
    if not parts:
        return False
    r1, r2 = _check(first, parts[0]), _check(second, parts[1])
    if not (r1.ok and r2.ok):
        return False
    reading.values[first.name], reading.values[second.name] = r1.value, r2.value
    return True


@dataclass
class ConfirmationReply:
    """The citizen's answer to "Ich habe übernommen: … Stimmt das?"."""

    # "yes", "no" (correct one by one), "corrected" (values changed), "next" (the answer to the
    # next question: the echo is taken as right), "question", "unclear"
    kind: str
    values: dict[str, str] = field(default_factory=dict)  # for "corrected": all values, changed ones new
    next_field: Optional[str] = None  # "next": the field answered; "question": the field named


_CORRECT = re.compile(
    rf"^(?:(?:das|des|dies|es)\s+(?:ist|is|war)\s+)?(?:korrigieren|korrigiere|korrektur|ändern|aendern|{_WRONG})\b",
    re.I,
)


def confirmation_reply(
    proc: Procedure, text: str, values: Mapping[str, str], filled: Mapping[str, object]
) -> ConfirmationReply:
    """Read the answer to the echo of several values (``values``, not stored yet).

    "Ja" confirms them all; "Korrigieren"/"nein" drops them (the form then asks field by field);
    a correction naming a field ("nein, der Familienname ist Muster") changes that value and the
    echo is shown again. Anything else is asked again: nothing is stored on a guess.
    """
    s = clean(text)
    answer = validate("yes_no", s)
    if answer.ok and answer.value == "ja":
        return ConfirmationReply("yes")
    # A correction that names a field of the echo and gives its new value.
    reading = read_message(proc, None, s, {**filled, **values})
    changed = {n: v for n, v in reading.values.items() if n in values and v != SKIPPED}
    if changed and not reading.question:
        return ConfirmationReply("corrected", {**values, **changed})
    if (answer.ok and answer.value == "nein") or _CORRECT.match(s) or reading.reopen:
        return ConfirmationReply("no")
    after = next_open_field(proc, {**filled, **values})
    if is_question(s):
        # "warum braucht ihr meine Adresse?": about the field it names (None: the field asked).
        named = _find_field(proc, s)
        return ConfirmationReply("question", next_field=named[0].name if named else None)
    if after is not None and _answers_next(proc, after, s, {**filled, **values}, values):
        # The citizen went on with the next answer ("12.03.1985") instead of "ja": a clerk takes
        # the echo as seen and right. Only for fields whose validator is strict: a word that
        # any name or place would take is no sign that the citizen moved on.
        return ConfirmationReply("next", next_field=after.name)
    return ConfirmationReply("unclear")


def next_open_field(proc: Procedure, filled: Mapping[str, object]) -> Optional[Field]:
    """The field the form asks next: the first without a value (conditional fields not asked
    get their ``otherwise`` value as soon as their deciding question is answered)."""
    for f in proc.fields:
        if filled.get(f.name) in (None, ""):
            return f
    return None


def _answers_next(
    proc: Procedure, f: Field, text: str, filled: Mapping[str, object], pending: Mapping[str, str]
) -> bool:
    """Whether ``text`` reads as the answer to ``f`` and leaves the values waiting untouched."""
    if _weak(f) or f.type in ("yes_no", "text") or is_skip(text):
        return False
    reading = read_message(proc, f.name, text, filled)
    if reading.question or reading.reopen or reading.corrected or set(reading.filled) & set(pending):
        return False
    if reading.place is not None:
        return reading.place.field == f.name or f.name in reading.filled
    return f.name in reading.filled and f.name not in reading.errors
