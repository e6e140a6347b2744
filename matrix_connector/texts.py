"""What the connector itself says in a room (German, polite "Sie")."""

GROUP_ROOM = (
    "Ich spreche nur in direkten Chats mit einer Person. In diesem Raum sind weitere Personen; "
    "damit niemand Ihre Angaben mitliest, verlasse ich den Raum. Bitte schreiben Sie mir in einem "
    "direkten Chat."
)
UNDECRYPTABLE = (
    "Ihre letzte Nachricht konnte ich nicht entschlüsseln. Bitte senden Sie sie noch einmal. "
    "Hilft das nicht, öffnen Sie bitte einen neuen direkten Chat mit mir."
)
NOT_TEXT = "Ich kann leider nur Textnachrichten lesen. Bitte schreiben Sie Ihr Anliegen als Text."
BUSY = (
    "Gerade schreiben mir sehr viele Menschen gleichzeitig. "
    "Bitte öffnen Sie in einer Minute noch einmal einen direkten Chat mit mir."
)
UNAVAILABLE = "Entschuldigung, ich bin gerade nicht erreichbar. Bitte versuchen Sie es in ein paar Minuten noch einmal."
RECEIPT_FAILED = "Die Eingangsbestätigung konnte ich nicht als Datei senden. Sie finden sie über den Link oben."
REACTION_OLD = (
    "Diese Reaktion gehört zu einer früheren Frage. Ich werte nur Antworten auf meine letzte Frage aus. "
    "Bitte antworten Sie dort oder schreiben Sie mir, was Sie möchten."
)
REACTION_UNKNOWN = (
    "Diese Reaktion kann ich keiner Auswahl zuordnen. Bitte antworten Sie mit der Nummer, dem Text "
    "oder einer der genannten Reaktionen."
)

# English (issue 20): the same texts in catalogue/translations/en/messages.yaml (keys matrix_*),
# said in a room whose conversation speaks English (the ``lang`` of Rasa's latest answer there).
_KEYS = {
    "UNDECRYPTABLE": "matrix_undecryptable",
    "NOT_TEXT": "matrix_not_text",
    "UNAVAILABLE": "matrix_unavailable",
    "RECEIPT_FAILED": "matrix_receipt_failed",
    "REACTION_OLD": "matrix_reaction_old",
    "REACTION_UNKNOWN": "matrix_reaction_unknown",
    "OPTIONS_HINT": "matrix_options_hint",
    "REACT_YES_NO": "matrix_react_yes_no",
    "REACT_NUMBERS": "matrix_react_numbers",
}
REACT_YES_NO = "Oder reagieren Sie auf diese Nachricht mit 👍 ({yes}) oder 👎 ({no})."
REACT_NUMBERS = "Oder reagieren Sie auf diese Nachricht mit {first} bis {last}."


def welcome() -> str:
    """The greeting in a new direct chat, before the citizen wrote anything: German first, then
    English with how to go on in English (``matrix_welcome`` in the de and en message files)."""
    from buergerassistent import translations

    return f"{translations.message('de', 'matrix_welcome')}\n\n{translations.message('en', 'matrix_welcome')}"


def say(name: str, lang: str = "de", **values: str) -> str:
    """The text ``name`` (a constant of this module) in ``lang``: English from the message
    catalogue, German (also for Leichte Sprache, whose conversations are German) from here."""
    if lang == "en":
        from buergerassistent import translations

        return translations.message("en", _KEYS[name], **values)
    if name == "OPTIONS_HINT":
        from buergerassistent.messenger_format import OPTIONS_HINT

        text = OPTIONS_HINT
    else:
        text = globals()[name]
    return text.format(**values) if values else text
