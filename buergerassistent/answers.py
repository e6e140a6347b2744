"""German answers composed from catalogue facts.

Only what the catalogue says is stated; where it has no value, the answer says so and points to
the authority or the 115. Texts: polite "Sie", short sentences, plain language.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Optional

from buergerassistent.catalogue import Contact, FactSource, Procedure

UNKNOWN_HINT = "Allgemeine Auskunft erhalten Sie auch unter der Behördennummer 115."

TRUST_LEVEL_TEXT = {
    "basisregistriert": "Basisregistrierung (Benutzername und Passwort)",
    "substantiell": "Vertrauensniveau substantiell (zum Beispiel mit ELSTER-Zertifikat)",
    "hoch": "Vertrauensniveau hoch (mit der Online-Ausweisfunktion)",
}


def _where_to_ask(proc: Procedure) -> str:
    if proc.authority:
        return f"Bitte fragen Sie bei dieser Stelle nach: {proc.authority}. {UNKNOWN_HINT}"
    return UNKNOWN_HINT


def _source(proc: Procedure, fact: str) -> str:
    """ "(Quelle: Stadt München, Stand 06/2026)" for a fact with a source, else ""."""
    src = proc.source_of(fact)
    return f" ({src.label})" if src else ""


def _unknown(proc: Procedure, fact: str, sentence: str) -> str:
    """ "weiß ich nicht" for a fact: the catalogue's reason and where to ask, or the authority."""
    marked = proc.unknown.get(fact)
    if marked:
        return f"{sentence} {marked.reason} Bitte fragen Sie dort nach: {marked.ask}. {UNKNOWN_HINT}"
    return f"{sentence} {_where_to_ask(proc)}"


def fees(proc: Procedure) -> str:
    if proc.fees:
        return f"Gebühren für „{proc.name}“: {proc.fees}{_source(proc, 'fees')}"
    return _unknown(proc, "fees", f"Zu den Gebühren für „{proc.name}“ habe ich leider keine Angaben.")


def documents(proc: Procedure) -> str:
    if proc.documents:
        items = "\n".join(f"- {d}" for d in proc.documents)
        return f"Für „{proc.name}“ brauchen Sie:\n{items}\n{_source(proc, 'documents').strip(' ()')}".rstrip()
    return _unknown(proc, "documents", f"Welche Unterlagen Sie für „{proc.name}“ brauchen, weiß ich leider nicht.")


def processing_time(proc: Procedure) -> str:
    """ "wie lange dauert das?" """
    if proc.processing_time:
        return f"Dauer für „{proc.name}“: {proc.processing_time}{_source(proc, 'processing_time')}"
    return _unknown(proc, "processing_time", f"Wie lange „{proc.name}“ dauert, weiß ich leider nicht.")


def _date(day: dt.date) -> str:
    return day.strftime("%d.%m.%Y")


def deadlines(proc: Procedure, today: Optional[dt.date] = None) -> str:
    """ "bis wann muss ich …?": every deadline; fixed days say whether they have passed."""
    if not proc.deadlines:
        return _unknown(proc, "deadlines", f"Welche Fristen für „{proc.name}“ gelten, weiß ich leider nicht.")
    today = today or dt.date.today()
    lines = []
    for item in proc.deadlines:
        if item.date is None:
            lines.append(f"- {item.text}")
        elif item.date < today:
            lines.append(f"- {item.text}: bis {_date(item.date)} (diese Frist ist abgelaufen)")
        else:
            lines.append(f"- {item.text}: bis {_date(item.date)}")
    text = f"Fristen für „{proc.name}“:\n" + "\n".join(lines)
    if any(item.date is not None and item.date < today for item in proc.deadlines):
        text += "\nIst Ihre Frist abgelaufen, holen Sie es bitte so bald wie möglich nach."
    source = _source(proc, "deadlines").strip(" ()")
    return f"{text}\n{source}" if source else text


def contact(proc: Procedure) -> str:
    """ "Telefonnummer?", "Öffnungszeiten?": what the catalogue knows about the office."""
    c = proc.contact
    if c is None:
        who = f" ({proc.authority})" if proc.authority else ""
        return f"Die Kontaktdaten der zuständigen Stelle für „{proc.name}“{who} kenne ich leider nicht. {UNKNOWN_HINT}"
    lines = [f"Zuständig für „{proc.name}“: {c.name}."]
    if c.phone:
        lines.append(f"Telefon: {c.phone}")
    if c.email:
        lines.append(f"E-Mail: {c.email}")
    if c.address:
        lines.append(f"Adresse: {c.address}")
    if c.opening_hours:
        lines.append(f"Öffnungszeiten: {c.opening_hours}")
    else:
        lines.append("Die Öffnungszeiten kenne ich leider nicht.")
    if c.appointment_url:
        lines.append(f"Termin vereinbaren: {c.appointment_url}")
    if c.url:
        lines.append(f"Mehr dazu: {c.url}")
    if not c.phone or not c.opening_hours:
        lines.append(UNKNOWN_HINT)
    src = contact_source(c)
    lines.append(src.label if src else f"Quelle: {c.source}")
    return "\n".join(lines)


def contact_source(c: Contact) -> Optional[FactSource]:
    """The source of a ``contact:`` block as a fact source ("Quelle: Stadt München, Stand 06/2026");
    None when the block has no date (the catalogue's contact blocks all have one)."""
    day = c.checked or c.as_of
    return FactSource(source=c.source, checked=day, as_of=c.as_of) if day else None


def online(proc: Procedure) -> str:
    text = _online(proc)
    return text + _source(proc, "online") if proc.online_available is not None else text


def _online(proc: Procedure) -> str:
    if proc.online_available is True:
        text = f"Ja, „{proc.name}“ können Sie online beantragen."
        if proc.trust_level:
            text += (
                " Dafür melden Sie sich mit Ihrem Nutzerkonto (BundID oder BayernID) an: "
                f"{TRUST_LEVEL_TEXT[proc.trust_level]}."
            )
        if proc.has_form:
            text += " Ich kann den Antrag auch direkt hier im Chat aufnehmen."
        return text
    if proc.online_available is False:
        text = f"Nein, für „{proc.name}“ müssen Sie persönlich vorsprechen."
        if proc.authority:
            text += f" Zuständig ist: {proc.authority}."
        return text
    return f"Ob „{proc.name}“ online möglich ist, weiß ich leider nicht. {_where_to_ask(proc)}"


def where(proc: Procedure) -> str:
    parts = []
    if proc.authority:
        parts.append(f"Zuständig für „{proc.name}“ ist: {proc.authority}{_source(proc, 'authority')}.")
    else:
        parts.append(f"Welche Stelle für „{proc.name}“ zuständig ist, weiß ich leider nicht.")
    if proc.links:
        parts.append("Mehr dazu: " + ", ".join(f"[{link.title}]({link.url})" for link in proc.links))
    if not proc.authority:
        parts.append(UNKNOWN_HINT)
    return " ".join(parts)


ANSWERS_BY_INTENT = {
    "ask_fees": fees,
    "ask_documents": documents,
    "ask_online": online,
    "ask_where": where,
    "ask_processing_time": processing_time,
    "ask_deadline": deadlines,
    "ask_contact": contact,
}


def _source_names(sources: list[Optional[FactSource]]) -> list[str]:
    """ "Stadt München (Stand 06/2026)", "Bundesmeldegesetz (Stand 12/2026)": each source once;
    a combined name ("Bundesmeldegesetz und Stadt München") counts for both; the oldest date."""
    stands: dict[str, str] = {}
    for src in sources:
        if src is None:
            continue
        day = src.as_of or src.checked
        for name in (src.short or src.source.split(",")[0]).split(" und "):
            name = name.strip()
            stands[name] = min(stands.get(name, day), day)
    return [f"{name} (Stand {day[5:7]}/{day[:4]})" for name, day in stands.items()]


def overview(proc: Procedure) -> str:
    """The first answer when a procedure was found: what it is and the key facts."""
    lines = [f"**{proc.name}**: {proc.description}"]
    if proc.documents:
        lines.append("Unterlagen:\n" + "\n".join(f"- {d}" for d in proc.documents))
    if proc.fees:
        lines.append(f"Gebühren: {proc.fees}")
    if proc.deadlines:
        first = proc.deadlines[0]
        if first.date is None:
            lines.append(f"Frist: {first.text}")
        else:
            lines.append("Frist: Sie hängt von Ihrem Fall ab. Fragen Sie mich: „Bis wann muss ich das erledigen?“")
    if proc.online_available is True:
        lines.append("Das geht auch online.")
    elif proc.online_available is False:
        lines.append("Dafür müssen Sie persönlich vorsprechen.")
    shown = [f for f in ("documents", "fees") if getattr(proc, f)]
    if proc.deadlines and proc.deadlines[0].date is None:
        shown.append("deadlines")
    sources = _source_names([proc.source_of(f) for f in shown])
    if sources:
        lines.append(("Quellen: " if len(sources) > 1 else "Quelle: ") + ", ".join(sources))
    return "\n".join(lines)


def in_one_sentence(proc: Procedure) -> str:
    """The first sentence of the catalogue's description ("" without one)."""
    text = " ".join((proc.description or "").split())
    match = re.match(r"(.+?[.!?])(?:\s|$)", text)
    return match.group(1) if match else text


def compare(procs: list[Procedure]) -> str:
    """ "Was ist der Unterschied?" to a list of offered procedures: each in one sentence, from the
    catalogue (nothing invented: without a description, only the name)."""
    lines = ["Kurz zu den Möglichkeiten:"]
    for i, proc in enumerate(procs, 1):
        sentence = in_one_sentence(proc)
        lines.append(f"{i}. {proc.name}: {sentence}" if sentence else f"{i}. {proc.name}")
    return "\n".join(lines)


def shown_in_overview(proc: Procedure, intent: str) -> bool:
    """Whether ``overview(proc)`` already answers the question ``intent`` in full (then the
    answer to it need not be said before the overview)."""
    if intent == "ask_fees":
        return bool(proc.fees)
    if intent == "ask_documents":
        return bool(proc.documents)
    if intent == "ask_online":
        return proc.online_available is not None
    return False


def where_to_ask(proc: Procedure) -> str:
    """For an entry outside the core procedures (an information entry or an imported one, whose
    facts are not checked here): where to ask, always with the 115. "" for a core procedure."""
    if proc.curated:
        return ""
    if proc.authority:
        return f"Verbindliche Auskunft gibt: {proc.authority}. {UNKNOWN_HINT}"
    return UNKNOWN_HINT


def with_where_to_ask(proc: Procedure, text: str) -> str:
    """``text`` followed by :func:`where_to_ask` unless it already names the 115."""
    hint = where_to_ask(proc)
    if not hint or "115" in text:
        return text
    return f"{text}\n{hint}"


def no_procedure_found() -> str:
    return (
        "Dazu habe ich leider keine passende Leistung gefunden. Das weiß ich nicht sicher. "
        "Bitte beschreiben Sie Ihr Anliegen noch einmal mit anderen Worten. "
        "Sie erreichen die Behördennummer 115 oder suchen im Dienstleistungsfinder: "
        "https://stadt.muenchen.de/service/"
    )
