"""German answers composed from catalogue facts.

Only what the catalogue says is stated; where it has no value, the answer says so and points to
the authority or the 115. Texts: polite "Sie", short sentences, plain language.
"""

from __future__ import annotations

from buergerassistent.catalogue import Procedure

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


def fees(proc: Procedure) -> str:
    if proc.fees:
        return f"Gebühren für „{proc.name}“: {proc.fees}"
    return f"Zu den Gebühren für „{proc.name}“ habe ich leider keine Angaben. {_where_to_ask(proc)}"


def documents(proc: Procedure) -> str:
    if proc.documents:
        items = "\n".join(f"- {d}" for d in proc.documents)
        return f"Für „{proc.name}“ brauchen Sie:\n{items}"
    return f"Welche Unterlagen Sie für „{proc.name}“ brauchen, weiß ich leider nicht. {_where_to_ask(proc)}"


def online(proc: Procedure) -> str:
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
        parts.append(f"Zuständig für „{proc.name}“ ist: {proc.authority}.")
    else:
        parts.append(f"Welche Stelle für „{proc.name}“ zuständig ist, weiß ich leider nicht.")
    if proc.links:
        parts.append("Mehr dazu: " + ", ".join(f"[{link.title}]({link.url})" for link in proc.links))
    if not proc.authority:
        parts.append(UNKNOWN_HINT)
    return " ".join(parts)


# --- safety (issue 15), minimal until branch `content` brings processing_time/deadlines: keep
# --- or drop on merge in favour of content's functions.
def _processing_time_fallback(proc: Procedure) -> str:
    if proc.processing_time:
        return f"Bearbeitungszeit für „{proc.name}“: {proc.processing_time}"
    return f"Wie lange „{proc.name}“ dauert, weiß ich leider nicht. {_where_to_ask(proc)}"


def _deadlines_fallback(proc: Procedure) -> str:
    return f"Zu Fristen für „{proc.name}“ habe ich leider keine Angaben. {_where_to_ask(proc)}"


ANSWERS_BY_INTENT = {
    "ask_fees": fees,
    "ask_documents": documents,
    "ask_online": online,
    "ask_where": where,
    "ask_processing_time": _processing_time_fallback,  # safety: replaced by content's processing_time
    "ask_deadline": _deadlines_fallback,  # safety: replaced by content's deadlines
}


def overview(proc: Procedure) -> str:
    """The first answer when a procedure was found: what it is and the key facts."""
    lines = [f"**{proc.name}**: {proc.description}"]
    if proc.documents:
        lines.append("Unterlagen: " + "; ".join(proc.documents) + ".")
    if proc.fees:
        lines.append(f"Gebühren: {proc.fees}")
    if proc.online_available is True:
        lines.append("Das geht auch online.")
    elif proc.online_available is False:
        lines.append("Dafür müssen Sie persönlich vorsprechen.")
    return "\n".join(lines)


def no_procedure_found() -> str:
    return (
        "Dazu habe ich leider keine passende Leistung gefunden. Das weiß ich nicht sicher. "
        "Bitte beschreiben Sie Ihr Anliegen noch einmal mit anderen Worten. "
        "Sie erreichen die Behördennummer 115 oder suchen im Dienstleistungsfinder: "
        "https://stadt.muenchen.de/service/"
    )
