"""Texts in English and in Leichte Sprache, read from data files (issue 20).

* ``catalogue/translations/en/<procedure id>.yaml``: English ``name``, ``synonyms`` (what an
  English-speaking citizen types, German loan words like "Anmeldung" included), ``keywords``
  (further words for English discovery: expat terms, documents, situations), ``description``,
  ``documents`` (one per German item, same order), ``fees`` (null exactly when the German entry
  has none);
* ``catalogue/translations/<lang>/messages.yaml``: the assistant's fixed messages in ``de`` and
  ``en`` (placeholders in braces);
* ``catalogue/leichte_sprache/<procedure id>.yaml``: the plain-language ``description``;
  ``catalogue/leichte_sprache/fields.yaml``: plain form prompts by field name;
  ``catalogue/leichte_sprache/field_help.yaml``: plain help and why texts by their German text;
  ``catalogue/leichte_sprache/messages.yaml``: fixed messages in Leichte Sprache.

Texts translate or simplify only what the German entry says. ``content/lint.py`` fails a core
procedure whose text is missing in one language and checks the Leichte-Sprache rules
(:mod:`buergerassistent.plain_language`). No Rasa imports here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Optional

import yaml

from buergerassistent.catalogue import CATALOGUE_DIR, FactSource, Procedure
from buergerassistent.language_state import ENGLISH, GERMAN, PLAIN

TRANSLATIONS_DIR = CATALOGUE_DIR / "translations"
PLAIN_DIR = CATALOGUE_DIR / "leichte_sprache"
MESSAGES_FILE = "messages.yaml"
FIELDS_FILE = "fields.yaml"
FIELD_HELP_FILE = "field_help.yaml"  # Leichte Sprache: help and why texts of form fields
VALIDATION_FILE = "validation.yaml"  # validation errors by their German text (buergerassistent/form_texts.py)


@dataclass(frozen=True)
class EnglishEntry:
    id: str
    name: str
    description: str
    documents: tuple[str, ...]
    fees: Optional[str]
    synonyms: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # further words for English discovery (expat terms, situations)
    # English words that name the procedure's thing (catalogue ``defining_terms``; the German
    # entry's count too): without one of them the entry is not the confident English answer
    defining_terms: tuple[str, ...] = ()
    # The facts behind "how long does it take?", "what is the deadline?", "phone number?":
    # processing_time exactly when the German entry has one, one deadline per German deadline
    # (same order), and the contact's German texts (name, address, opening hours) in English.
    processing_time: Optional[str] = None
    deadlines: tuple[str, ...] = ()
    contact: dict[str, str] = field(default_factory=dict)
    # The responsible office (``authority``) with its German proper name kept and an English
    # explanation: "Stadtverwaltung München, Bürgerbüro (City of Munich, citizens' office)".
    authority: Optional[str] = None


def _read(path: Path) -> dict:
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping")
    return data


def english_dir(directory: Path = TRANSLATIONS_DIR) -> Path:
    return directory / ENGLISH


def procedure_files(directory: Path) -> dict[str, Path]:
    """The per-procedure files of a folder (every ``*.yaml`` except messages and fields)."""
    if not directory.is_dir():
        return {}
    return {
        p.stem: p
        for p in sorted(directory.glob("*.yaml"))
        if p.name not in (MESSAGES_FILE, FIELDS_FILE, VALIDATION_FILE, FIELD_HELP_FILE)
    }


def parse_english(data: dict, where: str) -> EnglishEntry:
    try:
        return EnglishEntry(
            id=str(data["id"]),
            name=str(data["name"]).strip(),
            description=" ".join(str(data["description"]).split()),
            documents=tuple(str(d).strip() for d in data.get("documents") or ()),
            fees=" ".join(str(data["fees"]).split()) if data.get("fees") else None,
            synonyms=tuple(str(s).strip() for s in data.get("synonyms") or ()),
            keywords=tuple(str(s).strip() for s in data.get("keywords") or ()),
            defining_terms=tuple(str(s).strip() for s in data.get("defining_terms") or ()),
            processing_time=" ".join(str(data["processing_time"]).split()) if data.get("processing_time") else None,
            deadlines=tuple(" ".join(str(d).split()) for d in data.get("deadlines") or ()),
            contact={str(k): " ".join(str(v).split()) for k, v in (data.get("contact") or {}).items() if v},
            authority=" ".join(str(data["authority"]).split()) if data.get("authority") else None,
        )
    except KeyError as exc:
        raise ValueError(f"{where}: missing {exc.args[0]!r}") from None


@cache
def english_entries(directory: Path = TRANSLATIONS_DIR) -> dict[str, EnglishEntry]:
    return {pid: parse_english(_read(path), str(path)) for pid, path in procedure_files(english_dir(directory)).items()}


def english(proc_id: Optional[str]) -> Optional[EnglishEntry]:
    return english_entries().get(proc_id or "")


@cache
def plain_descriptions(directory: Path = PLAIN_DIR) -> dict[str, str]:
    out = {}
    for pid, path in procedure_files(directory).items():
        text = _read(path).get("description")
        if text:
            out[pid] = str(text).strip()
    return out


def plain_description(proc_id: Optional[str]) -> Optional[str]:
    return plain_descriptions().get(proc_id or "")


@cache
def plain_prompts(directory: Path = PLAIN_DIR) -> dict[str, str]:
    path = directory / FIELDS_FILE
    return {str(k): " ".join(str(v).split()) for k, v in _read(path).items()} if path.is_file() else {}


def plain_prompt(field_name: str) -> Optional[str]:
    return plain_prompts().get(field_name)


@cache
def plain_field_help(directory: Path = PLAIN_DIR) -> dict[str, str]:
    """``catalogue/leichte_sprache/field_help.yaml``: the plain text of each form field's German
    help or why text, keyed by that German text (a changed German text has no plain text until
    an editor writes it; ``make check-content`` says so)."""
    path = directory / FIELD_HELP_FILE
    return (
        {" ".join(str(k).split()): " ".join(str(v).split()) for k, v in _read(path).items()} if path.is_file() else {}
    )


def plain_help(german: Optional[str]) -> Optional[str]:
    """The Leichte-Sprache text for a field's German help or why text (None: none written)."""
    return plain_field_help().get(" ".join((german or "").split())) if german else None


@cache
def _messages(lang: str) -> dict[str, str]:
    path = (PLAIN_DIR if lang == PLAIN else TRANSLATIONS_DIR / lang) / MESSAGES_FILE
    return {str(k): str(v).strip() for k, v in _read(path).items()} if path.is_file() else {}


def message(lang: str, key: str, **values: str) -> str:
    """A fixed message in ``lang`` (falls back to German, then fails loudly: a missing key is a bug
    the lint catches)."""
    texts = _messages(lang)
    text = texts.get(key) or _messages(GERMAN)[key]
    return text.format(**values) if values else text


# -- answers in English --------------------------------------------------------------------------


def english_overview(proc: Procedure) -> Optional[str]:
    """The procedure's overview in English (None without an English entry)."""
    entry = english(proc.id)
    if entry is None:
        return None
    lines = [f"**{entry.name}**: {entry.description}"]
    if entry.documents:
        lines.append(message(ENGLISH, "documents_heading") + "\n" + "\n".join(f"- {d}" for d in entry.documents))
    if entry.fees:
        lines.append(message(ENGLISH, "fees_heading") + " " + entry.fees)
    online = english_online(proc)
    if online:
        lines.append(online)
    lines.append(message(ENGLISH, "german_facts_note"))
    return "\n".join(lines)


def english_authority(proc: Optional[Procedure]) -> Optional[str]:
    """The responsible office for an English citizen: the German name with its English
    explanation (the German name alone where the English entry has none yet)."""
    if proc is None or not proc.authority:
        return None
    entry = english(proc.id)
    return (entry.authority if entry else None) or proc.authority


def english_online(proc: Procedure) -> str:
    entry = english(proc.id)
    name = entry.name if entry else proc.name
    if proc.online_available is True:
        return message(ENGLISH, "online_yes", name=name)
    if proc.online_available is False:
        return message(ENGLISH, "online_no", name=name)
    return message(ENGLISH, "online_unknown", name=name)


def english_answer(proc: Procedure, topic: Optional[str]) -> Optional[str]:
    """The answer to an English question about ``proc``: ``topic`` is an intent name
    (``ask_fees``, ``ask_documents``, ``ask_online``, ``ask_where``) or None for the overview."""
    entry = english(proc.id)
    if entry is None:
        return None
    if topic == "ask_fees":
        if entry.fees:
            return message(ENGLISH, "fees_answer", name=entry.name, fees=entry.fees)
        return message(ENGLISH, "fees_unknown", name=entry.name)
    if topic == "ask_documents":
        items = "\n".join(f"- {d}" for d in entry.documents)
        return message(ENGLISH, "documents_answer", name=entry.name) + "\n" + items
    if topic == "ask_online":
        return english_online(proc)
    if topic == "ask_where":
        if proc.authority:
            return message(ENGLISH, "where_answer", name=entry.name, authority=english_authority(proc))
        return message(ENGLISH, "where_unknown", name=entry.name)
    if topic == "ask_processing_time":
        if proc.processing_time and entry.processing_time:
            return message(ENGLISH, "processing_time_answer", name=entry.name, text=entry.processing_time) + _source_en(
                proc.source_of("processing_time")
            )
        return _unknown_en(proc, entry, "processing_time_unknown")
    if topic == "ask_deadline":
        return english_deadlines(proc, entry)
    if topic == "ask_contact":
        return english_contact(proc, entry)
    return english_overview(proc)


ENGLISH_MONTHS = "January February March April May June July August September October November December".split()


def _source_en(src: Optional[FactSource], own_line: bool = False) -> str:
    """ " (Source: Stadt München, as of 06/2026)" for a fact with a source, else "" (the source's
    name stays as the catalogue writes it)."""
    if src is None:
        return ""
    name = src.short or src.source.split(",")[0].strip()
    year, month = (src.as_of or src.checked).split("-")[:2]
    text = message(ENGLISH, "source", name=name, date=f"{month}/{year}")
    return f"\n{text}" if own_line else f" ({text})"


def _unknown_en(proc: Procedure, entry: EnglishEntry, key: str) -> str:
    """ "I do not know …": where to ask (the responsible office, the 115)."""
    text = message(ENGLISH, key, name=entry.name)
    if proc.contact is not None and entry.contact.get("name"):
        return f"{text} {message(ENGLISH, 'ask_office', authority=entry.contact['name'])}"
    return f"{text} {message(ENGLISH, 'ask_responsible')}"


def english_date(day: dt.date) -> str:
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def english_deadlines(proc: Procedure, entry: EnglishEntry, today: Optional[dt.date] = None) -> str:
    """ "what is the deadline?": every deadline of the German entry in its English text; a fixed
    day says whether it has passed (as ``answers.deadlines``)."""
    if not proc.deadlines or len(entry.deadlines) != len(proc.deadlines):
        return _unknown_en(proc, entry, "deadlines_unknown")
    today = today or dt.date.today()
    lines = []
    for item, text in zip(proc.deadlines, entry.deadlines, strict=True):
        if item.date is None:
            lines.append(f"- {text}")
        else:
            key = "deadline_passed" if item.date < today else "deadline_until"
            lines.append("- " + message(ENGLISH, key, text=text, date=english_date(item.date)))
    out = message(ENGLISH, "deadlines_answer", name=entry.name) + "\n" + "\n".join(lines)
    if any(item.date is not None and item.date < today for item in proc.deadlines):
        out += "\n" + message(ENGLISH, "deadline_passed_note")
    return out + _source_en(proc.source_of("deadlines"), own_line=True)


def english_contact(proc: Procedure, entry: EnglishEntry) -> str:
    """ "phone number?", "opening hours?": the office's contact data; its German texts (name,
    address, opening hours) in their English text, numbers and links as they are."""
    c = proc.contact
    if c is None or not entry.contact.get("name"):
        text = message(ENGLISH, "contact_unknown", name=entry.name)
        return f"{text} {message(ENGLISH, 'ask_115')}"
    lines = [message(ENGLISH, "contact_responsible", name=entry.name, office=entry.contact["name"])]
    if c.phone:
        lines.append(message(ENGLISH, "contact_phone", phone=c.phone))
    if c.email:
        lines.append(message(ENGLISH, "contact_email", email=c.email))
    if c.address:
        lines.append(message(ENGLISH, "contact_address", address=entry.contact.get("address") or c.address))
    if c.opening_hours and entry.contact.get("opening_hours"):
        lines.append(message(ENGLISH, "contact_hours", hours=entry.contact["opening_hours"]))
    else:
        lines.append(message(ENGLISH, "contact_hours_unknown"))
    if c.appointment_url:
        lines.append(message(ENGLISH, "contact_appointment", url=c.appointment_url))
    if c.url:
        lines.append(message(ENGLISH, "contact_more", url=c.url))
    if not c.phone or not c.opening_hours:
        lines.append(message(ENGLISH, "ask_115"))
    day = c.checked or c.as_of
    lines.append(
        _source_en(FactSource(source=c.source, checked=day, as_of=c.as_of), own_line=True).strip()
        if day
        else message(ENGLISH, "source_plain", name=c.source)
    )
    return "\n".join(lines)


_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ask_fees", re.compile(r"\b(cost|costs|fee|fees|price|how much|pay|charge)\b", re.I)),
    (
        "ask_deadline",
        re.compile(
            r"\b(?:deadlines?|by when|until when|time limit|how soon|at the latest|too late|in time|within how)\b", re.I
        ),
    ),
    (
        "ask_processing_time",
        re.compile(
            r"\bhow long\b|\bprocessing time\b|\bduration\b|\bhow many (?:days|weeks|months)\b"
            r"|\bwhen will i (?:get|receive|have)\b|\btakes? (?:long|time)\b",
            re.I,
        ),
    ),
    (
        "ask_contact",
        re.compile(
            r"\b(?:phone|telephone|contact|e-?mail|opening hours|office hours|open(?:ing)? times)\b"
            r"|\bwhen (?:is|are) (?:the office|it|they) open\b",
            re.I,
        ),
    ),
    # not "certificate": "I need a certificate of registration" names a service, it asks for none
    ("ask_documents", re.compile(r"\b(documents?|papers?|bring|paperwork|required)\b", re.I)),
    ("ask_online", re.compile(r"\bonline\b|\binternet\b|\bwebsite\b", re.I)),
    ("ask_where", re.compile(r"\bwhere\b|\bwhich office\b|\bauthority\b|\bresponsible\b", re.I)),
)


def without_topic(text: str, topic: str) -> str:
    """``text`` without the words that asked for ``topic`` ("what is the deadline?" → "what is the ?")."""
    pattern = dict(_TOPICS).get(topic)
    return " ".join(pattern.sub(" ", text or "").split()) if pattern else text


def english_topic(text: str) -> Optional[str]:
    """What an English message asks about a procedure (an intent name), or None (the overview)."""
    for topic, pattern in _TOPICS:
        if pattern.search(text or ""):
            return topic
    return None


def _words(text: str) -> str:
    return " " + " ".join(re.findall(r"[a-zäöüß0-9]+", (text or "").lower())) + " "


def find_english(text: str, procedures: list[Procedure]) -> Optional[str]:
    """The procedure an English message names by its English name or synonym, or by its German
    name or synonym ("How do I do the Ummeldung?"): the longest matching phrase wins."""
    words = _words(text)
    best: tuple[int, str] = (0, "")
    for proc in procedures:
        entry = english(proc.id)
        terms = [proc.name, *proc.synonyms]
        if entry is not None:
            terms += [entry.name, *entry.synonyms]
        for term in terms:
            phrase = _words(term)
            if len(phrase.strip()) >= 4 and phrase in words and len(phrase) > best[0]:
                best = (len(phrase), proc.id)
    return best[1] or None


@lru_cache(maxsize=1)
def german_terms() -> frozenset[str]:
    """Words of the German names, synonyms and keywords of the core procedures that the English
    names and descriptions do not use ("anmeldung", "kindergeld"): a message with one of them is
    mixed, and does not switch the language by itself."""
    from buergerassistent.catalogue import default_catalogue

    german: set[str] = set()
    for proc in default_catalogue().curated():
        for term in (proc.name, *proc.synonyms, *proc.keywords):
            german.update(w for w in _words(term).split() if len(w) >= 5)
    english_words: set[str] = set()
    for entry in english_entries().values():
        english_words.update(_words(f"{entry.name} {entry.description} {' '.join(entry.documents)}").split())
    return frozenset(german - english_words)


def names_german_term(text: str) -> bool:
    return any(w in german_terms() for w in _words(text).split())


def plain_overview(proc: Procedure) -> Optional[str]:
    """The plain-language description, with the offer to ask for more (None without one)."""
    text = plain_description(proc.id)
    if text is None:
        return None
    return f"**{proc.name}**\n{text}\n{message(PLAIN, 'more_questions')}"


# -- facts of a procedure in Leichte Sprache ------------------------------------------------------
# The catalogue's values (amounts, durations, documents, the office's name and contact data) are
# said as the catalogue writes them; the sentences around them are Leichte Sprache (keys
# ``fact_*`` of ``leichte_sprache/messages.yaml``, checked by the Leichte-Sprache lint).


def _plain_source(proc: Procedure, fact: str) -> str:
    src = proc.source_of(fact)
    return f"\n{src.label}" if src else ""


def _plain_unknown(proc: Procedure, fact: str) -> str:
    """ "Das weiß ich leider nicht." and where to ask (the catalogue's place, the office, the 115)."""
    marked = proc.unknown.get(fact)
    ask = marked.ask if marked else proc.authority
    parts = [message(PLAIN, "fact_unknown")]
    if ask:
        parts.append(message(PLAIN, "fact_ask", authority=ask))
    parts.append(message(PLAIN, "fact_115"))
    return " ".join(parts)


def _plain_online(proc: Procedure) -> str:
    if proc.online_available is True:
        parts = [message(PLAIN, "fact_online_yes", name=proc.name)]
        if proc.trust_level:
            parts.append(message(PLAIN, "fact_online_login"))
        if proc.has_form:
            parts.append(message(PLAIN, "fact_online_chat"))
        return " ".join(parts) + _plain_source(proc, "online")
    if proc.online_available is False:
        parts = [message(PLAIN, "fact_online_no", name=proc.name)]
        if proc.authority:
            parts.append(message(PLAIN, "fact_where", name=proc.name, authority=proc.authority))
        return " ".join(parts) + _plain_source(proc, "online")
    return _plain_unknown(proc, "online")


def _plain_deadlines(proc: Procedure, today: dt.date) -> str:
    lines = [message(PLAIN, "fact_deadlines", name=proc.name)]
    for item in proc.deadlines:
        if item.date is None:
            lines.append(f"- {item.text}")
        else:
            key = "fact_deadline_passed" if item.date < today else "fact_deadline_until"
            lines.append(f"- {item.text}. {message(PLAIN, key, date=item.date.strftime('%d.%m.%Y'))}")
    if any(item.date is not None and item.date < today for item in proc.deadlines):
        lines.append(message(PLAIN, "fact_deadline_late"))
    return "\n".join(lines) + _plain_source(proc, "deadlines")


def _plain_contact(proc: Procedure) -> str:
    c = proc.contact
    if c is None:
        return _plain_unknown(proc, "contact")
    lines = [message(PLAIN, "fact_contact", name=proc.name), c.name]
    for key, value in (
        ("fact_contact_phone", c.phone),
        ("fact_contact_email", c.email),
        ("fact_contact_address", c.address),
        ("fact_contact_hours", c.opening_hours),
        ("fact_contact_appointment", c.appointment_url),
        ("fact_contact_url", c.url),
    ):
        if value:
            lines.append(message(PLAIN, key, value=value))
    if not c.opening_hours:
        lines.append(message(PLAIN, "fact_contact_no_hours"))
    if not c.phone or not c.opening_hours:
        lines.append(message(PLAIN, "fact_115"))
    lines.append(f"Quelle: {c.source}")
    return "\n".join(lines)


def plain_fact(proc: Procedure, topic: str, today: Optional[dt.date] = None) -> Optional[str]:
    """The answer to a question about ``proc`` in Leichte Sprache; ``topic`` is an intent name of
    ``answers.ANSWERS_BY_INTENT`` (None for another topic)."""
    if topic == "ask_fees":
        if proc.fees:
            return message(PLAIN, "fact_fees", name=proc.name, fees=proc.fees) + _plain_source(proc, "fees")
        return _plain_unknown(proc, "fees")
    if topic == "ask_documents":
        if proc.documents:
            items = "\n".join(f"- {d}" for d in proc.documents)
            return f"{message(PLAIN, 'fact_documents', name=proc.name)}\n{items}" + _plain_source(proc, "documents")
        return _plain_unknown(proc, "documents")
    if topic == "ask_processing_time":
        if proc.processing_time:
            text = message(PLAIN, "fact_processing_time", name=proc.name, time=proc.processing_time)
            return text + _plain_source(proc, "processing_time")
        return _plain_unknown(proc, "processing_time")
    if topic == "ask_deadline":
        if proc.deadlines:
            return _plain_deadlines(proc, today or dt.date.today())
        return _plain_unknown(proc, "deadlines")
    if topic == "ask_where":
        links = "".join(f"\n- [{link.title}]({link.url})" for link in proc.links)
        more = f"\n{message(PLAIN, 'fact_links')}{links}" if links else ""
        if proc.authority:
            text = message(PLAIN, "fact_where", name=proc.name, authority=proc.authority)
            return text + _plain_source(proc, "authority") + more
        return _plain_unknown(proc, "authority") + more
    if topic == "ask_online":
        return _plain_online(proc)
    if topic == "ask_contact":
        return _plain_contact(proc)
    return None
