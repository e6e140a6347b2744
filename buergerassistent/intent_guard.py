"""Actions with consequences need certainty (issue 15).

Saving a draft, cancelling (which deletes the answers), logging in or out, submitting and ending
the conversation happen only on a clear request. NLU alone is not enough: "wie spät ist es"
once saved a draft, "bis wann muss ich mich ummelden?" got "Auf Wiedersehen", "Auto abmelden"
logged the citizen out. :func:`decide` looks at the intent NLU chose, its confidence and the text,
and says one of

``act``          the request is clear: do it (a button, or a confident command without a
                 stronger reading);
``ask``          it may be meant, but it is not clear: ask first ("Möchten Sie den Antrag jetzt
                 speichern und später weitermachen?"); only a clear "ja" performs it;
``reinterpret``  the message has a stronger reading: a question about a deadline, the
                 processing time, the office's contact data, whether something can be done
                 online, the time of day, or it names a procedure ("Auto abmelden"). The
                 message is handled as that intent instead.

The Rasa process applies the decision right after NLU (``rasa_runtime/intent_guard.py``): it
replaces the intent, or for ``ask`` sets intent :data:`CONFIRM_INTENT` with the entity
:data:`ACTION_ENTITY` naming the request; ``actions/conversation.py`` asks the question.
No Rasa imports here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from buergerassistent.conversation_context import is_position_reply, question_topic
from buergerassistent.dialogue_state import Awaiting

# The intent the guard sets when it wants to ask first, and the entity naming what to confirm.
CONFIRM_INTENT = "confirm_request"
ACTION_ENTITY = "requested_action"
# "weitermachen", "continue my application": the intent shares its name with the dialogue state
# Awaiting.RESUME_DRAFT (bot/domain/context.yml).
RESUME_INTENT = "resume_draft"
# What a "ja" confirms: the request as an intent name (affirm at the summary = submit).
SAVE_DRAFT, CANCEL, LOGIN, LOGOUT, SUBMIT = "save_draft", "cancel", "login", "logout", "submit"
REQUESTS = frozenset({SAVE_DRAFT, CANCEL, LOGIN, LOGOUT, SUBMIT})

# Below this NLU confidence a command is never carried out without asking.
CLEAR_CONFIDENCE = 0.85

# Intents with consequences. affirm only while a submission or withdrawal waits for the "ja".
CONSEQUENTIAL = frozenset({"save_draft", "cancel", "login", "logout", "goodbye", "change_field"})
# Dialogue states (slot ``awaiting``) in which "ja" submits or withdraws something.
AFFIRM_ACTS_IN = frozenset(
    {Awaiting.CONFIRM_SUMMARY.value, Awaiting.RETRY_SUBMISSION.value, Awaiting.CONFIRM_WITHDRAWAL.value}
)
# Requests the guard asks about when unsure; for the others (goodbye, change_field, affirm) it
# only reinterprets: asking "Möchten Sie sich verabschieden?" helps nobody.
ASKABLE = frozenset({"save_draft", "cancel", "login", "logout"})

# Words that make each command clear. A message without any of them is not a clear request.
_CLEAR_WORDS = {
    # the verb, not the noun: "das Zeug vom Speicher" (the attic) asks for nothing
    "save_draft": r"speicher(?:n|e|t|st)\b|gespeichert|\bspeicher (?:das|es|den|die|mal|bitte|alles)\b|später|spaeter|"
    r"pause|zwischen|unterbrech|andermal|fortsetz|weitermach|aufheb|komme? .*wieder",
    "cancel": r"abbrech|abbruch|abgebrochen|aufhör|aufhoer|stop|stopp|beend|vergessen|lösch|loesch|nicht mehr|lassen",
    "login": r"anmeld|einlogg|log ?in|bund ?id|bayern ?id|nutzerkonto|konto|ausweisfunktion|elster",
    "logout": r"abmeld|auslogg|log ?out|ausloggen|abmelden",
    "goodbye": r"tsch[üu]ss|wiedersehen|wiederschauen|ciao|bye|servus|pfiat|ade\b|bis (dann|später|bald|morgen|nächste)|schönen (tag|abend)|baba",
    "change_field": r"änder|aender|korrig|falsch|stimmt nicht|berichtig|statt|anders|verbesser|doch",
}

_QUESTION_WORDS = (
    r"was|wie|wo|wohin|woher|wann|warum|wieso|weshalb|wozu|welche[rsnm]?|wer|wen|wem|wieviel|"
    r"kann|könnte|koennte|können|koennen|darf|dürfen|muss|müssen|muessen|soll|sollte|ist|sind|gibt|geht|"
    r"hat|habe|haben|bekomme|braucht|brauche|dauert|stimmt|heißt|heisst"
)
_QUESTION_START = re.compile(rf"^\W*(?:{_QUESTION_WORDS})\b", re.IGNORECASE)

# Stronger readings, in order. Each is (intent, pattern); a match wins over the command.
_READINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("out_of_scope", re.compile(r"\bwie ?sp[äa]e?t\b|\bwie ?viel uhr\b|\bwieviel uhr\b|\buhrzeit\b", re.I)),
    (
        "ask_deadline",
        re.compile(
            r"\bbis wann\b|\bbiss? wan+\b|\bfrist|\bspätestens\b|\bspaetestens\b|\bzu spät\b|\bwie lange habe? ich\b",
            re.I,
        ),
    ),
    (
        "ask_processing_time",
        re.compile(
            r"\bwie ?lange? (dauert|brauch)|\bdauert\b.*\blange?\b|\bbearbeitungs(zeit|dauer)\b|\bwartezeit\b", re.I
        ),
    ),
    (
        "ask_contact",
        re.compile(
            r"telefon|\bnummer\b|rufnummer|hotline|öffnungszeit|oeffnungszeit|sprechzeit|\be-?mail\b|anschrift|"
            r"\banrufen\b|erreichbar|\berreiche\b|\bgeöffnet\b|\boffen\b",
            re.I,
        ),
    ),
    (
        "ask_online",
        re.compile(r"\b(online|im chat|im internet|übers internet|digital)\b", re.I),
    ),
)
# Inside a form these intents are stored as the answer to the question asked.
_TAKEN_AS_ANSWER = frozenset({"nlu_fallback", "inform", "out_of_scope"})
_OFF_TOPIC = _READINGS[0][1]
# A contact or online reading needs a question: "meine Telefonnummer ist falsch" is a change.
_NEEDS_QUESTION = frozenset({"ask_contact", "ask_online"})
# Readings that apply to each command ("ändere den Vornamen, ich bin zu spät" stays a change).
_READINGS_FOR = {
    "save_draft": {"out_of_scope", "ask_deadline", "ask_processing_time", "ask_contact", "ask_online"},
    "cancel": {"out_of_scope", "ask_deadline", "ask_processing_time", "ask_contact", "ask_online"},
    "login": {"out_of_scope", "ask_deadline", "ask_processing_time", "ask_contact", "ask_online"},
    "logout": {"out_of_scope", "ask_deadline", "ask_processing_time", "ask_contact", "ask_online"},
    "goodbye": {"out_of_scope", "ask_deadline", "ask_processing_time", "ask_contact", "ask_online"},
    "change_field": {"ask_contact", "ask_deadline", "ask_processing_time", "out_of_scope"},
    "affirm": {"ask_deadline", "ask_processing_time", "ask_contact", "ask_online", "out_of_scope"},
}
# Words about the citizen ("ich hab grad keine Zeit", "das ist mir zu viel"): such a message may
# mean stopping, so it is asked about; a message without them inside a form is an answer.
_ABOUT_SPEAKER = re.compile(
    r"\b(?:ich|i|mir|mich|wir|uns|mag|will|möchte|moechte|lust|zeit|genug|zu viel|schluss|nerv\w*|keinen bock)\b",
    re.I,
)
# The words that questions to a person carry; inside a form such an intent without them is an answer.
_HUMAN_CUES = {
    "bot_challenge": re.compile(
        r"mensch|\bbot\b|roboter|computer|maschine|\bki\b|künstlich|kuenstlich|\becht|programm|automat|person|chatbot",
        re.I,
    ),
    "ask_human": re.compile(
        r"mensch|person|mitarbeiter|jemand|jemandem|sprechen|reden|telefon|anruf|berater|sachbearbeiter|kontakt|human",
        re.I,
    ),
    "complain": re.compile(
        r"beschwer|unverschämt|unfreundlich|frech|ärger|aerger|sauer|schlecht|katastroph|unmöglich|skandal|"
        r"wütend|wuetend|enttäusch|unzufrieden|zumutung|frechheit|mist|doof|blöd",
        re.I,
    ),
}
# Where naming a procedure means "this procedure", not the command (log in/out of the account).
_PROCEDURE_BEATS = frozenset({"login", "logout"})
# Moving and where one lives: "ich ziehe nach Polen und will mich abmelden" is the residence,
# not the account – unless the account is named.
_RESIDENCE = re.compile(
    r"\bzieh|umzug|umgezogen|wegzug|weggezogen|auszug|ausgezogen|ausland|wohnung|wohnsitz|meldeamt|"
    r"bürgerbüro|buergerbuero|bürgeramt|ummeld|hauptwohn|nebenwohn",
    re.I,
)
_ACCOUNT = re.compile(r"konto|bund ?id|bayern ?id|einlogg|auslogg|log ?in|log ?out|ausweisfunktion|elster", re.I)
# "Antrag zurückziehen": a message without these words ("ich finde meinen Reisepass nicht mehr",
# "bafög antrag") that names a procedure is a need, not a withdrawal.
_WITHDRAW_WORDS = re.compile(
    r"zurück|zurueck|stornier|storno|widerruf|aktenzeichen|stopp|abbrech|lösch|"
    r"eingereicht|gestellt|\bmein\w* antrag",
    re.I,
)

# A first message answers nothing and has no form, draft or application behind it: read by NLU
# as one of these dialogue intents ("Eheschließung anmelden" as login, "Ihr Reisepass ist weg?"
# as ask_status, "Was tun, wenn der Ausweis abgelaufen ist?" as affirm), a message that names a
# procedure's thing is a need to find (request_procedure) unless it carries the intent's own
# words. Intents whose start action looks for a procedure anyway (cancel, out_of_scope, …) and
# those the guard reads elsewhere (greet, withdraw_application) are not listed.
_OWN_WORDS_AT_START: dict[str, Optional[re.Pattern[str]]] = {
    "affirm": None,  # nothing was asked: there is nothing to say yes or no to
    "deny": None,
    "ask_why_field": None,  # no form, no field
    "change_field": None,  # nothing filled in yet
    "skip_field": None,
    "ask_status": re.compile(
        r"\b(?:stand|status|aktenzeichen|bearbeit\w*|eingegangen|angekommen|bleibt|erledigt|fertig|"
        r"zugestellt|verschickt|ba-\d{4})|\bmein\w* antrag",
        re.I,
    ),
    "ask_contact": re.compile(
        r"telefon|\bnummer\b|rufnummer|hotline|öffnungszeit|oeffnungszeit|sprechzeit|\be-?mail\b|anschrift|"
        r"\banrufen\b|erreichbar|\berreiche\b|\bgeöffnet\b|\boffen\b",
        re.I,
    ),
    "ask_human": _HUMAN_CUES["ask_human"],
    "bot_challenge": _HUMAN_CUES["bot_challenge"],
    "complain": _HUMAN_CUES["complain"],
    # "Hilfe bei den Wohnkosten" asks for a benefit, not for help with the chat
    "help": re.compile(
        r"\bhilfe\b(?!\s+(?:bei|für|zu|zur|zum)\b)|was kannst|was können sie|wie funktioniert|\bbedien", re.I
    ),
    "goodbye": re.compile(_CLEAR_WORDS["goodbye"], re.I),
    "thanks": re.compile(r"dank|merci|vergelt", re.I),
    "save_draft": re.compile(_CLEAR_WORDS["save_draft"], re.I),
    "resume_draft": re.compile(r"entwurf|weitermach|fortsetz|gespeichert|zwischengespeichert", re.I),
    "rate_assistant": re.compile(r"stern|bewert|note\b|feedback|zufrieden", re.I),
    # "Ist mein Führerschein von 2008 noch gültig?" asks about the document, not the log-in
    "login_status": re.compile(r"eingeloggt|einlogg|log ?in|konto|bund ?id|bayern ?id|elster|\bangemeldet\b", re.I),
}


# A question about cancelling some other time or in some case, not now
_LATER_OR_IF = re.compile(
    r"\bspäter\b|\bspaeter\b|\bfalls\b|\bwenn sich\b|\bnachträglich|\bnachtraeglich|\bim nachhinein\b", re.I
)

# Help with the chat itself, not with a procedure ("Hilfe, wie funktioniert der Chat?")
_CHAT_HELP = re.compile(r"was kannst|was können sie|\bbedien|\bchat|assistent|\bbot\b|hier\b", re.I)


def misread_at_start(text: str, intent: Optional[str]) -> bool:
    """A first message that NLU read as a dialogue intent with nothing behind it, but that names
    a procedure's thing without the intent's own words: a need (see ``_OWN_WORDS_AT_START``).
    An intent without own words (a yes, a field question) can mean nothing at the start, so any
    catalogue noun is enough, a generic one too: "Sie möchten Ihren Betrieb aufgeben?"."""
    if intent not in _OWN_WORDS_AT_START or text.startswith("/"):
        return False
    own = _OWN_WORDS_AT_START[intent]
    if own is None:
        return names_procedure(text, procedure_nouns(generic=True))
    if intent == "help" and not _CHAT_HELP.search(text) and names_procedure(text, procedure_nouns() - {"hilfe"}):
        # "GewA 1 ausfüllen Hilfe": help with a procedure the message names is that procedure
        return True
    return names_procedure(text) and not own.search(text)


# Nouns of the catalogue that name no procedure by themselves (or name the account, a field).
_GENERIC_NOUNS = frozenset(
    {
        "abmeldung", "anmeldung", "online", "nicht", "plus", "post", "platz", "karte", "geld",
        "bestätigung", "bescheinigung", "nachweis", "arbeit", "job", "frist", "münchen", "deutschland",
        "deutsche", "deutscher", "blaue", "digitaler", "europäisches", "bürgerbüro", "adresse", "titel",
        "haus", "familie", "reise", "urlaub", "laden", "betrieb", "verlust", "bewerbung", "residence",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Context:
    """What the conversation is doing when the message comes."""

    in_form: bool = False
    awaiting: Optional[str] = None  # the slot ``awaiting`` (buergerassistent/dialogue_state.py)
    # At the summary the message changes an answer (``repair.reads_as_correction``).
    corrects_answer: bool = False
    # No text typed by the citizen before this message (buttons do not count).
    first_message: bool = False


@dataclass(frozen=True)
class Decision:
    kind: str  # act | ask | reinterpret
    intent: str  # the intent to handle the message as (for ask: the request to confirm)
    reason: str = ""
    confidence: float = 1.0


@dataclass(frozen=True)
class Message:
    text: str
    intent: Optional[str]
    confidence: float = 0.0
    ranking: tuple[tuple[str, float], ...] = field(default_factory=tuple)


def is_question(text: str) -> bool:
    """A question mark, or a sentence that starts like a German question."""
    return "?" in text or bool(_QUESTION_START.match(text.strip()))


def stronger_reading(text: str, command: str) -> Optional[str]:
    """The intent a message about ``command`` really is, if one of the known readings fits."""
    allowed = _READINGS_FOR.get(command, set())
    question = is_question(text)
    for intent, pattern in _READINGS:
        if intent not in allowed or not pattern.search(text):
            continue
        if intent in _NEEDS_QUESTION and not question:
            continue
        return intent
    return None


@lru_cache(maxsize=2)
def procedure_nouns(generic: bool = False) -> frozenset[str]:
    """Nouns in the names, synonyms and keywords of the curated catalogue entries (lower case);
    without the generic ones unless ``generic``."""
    from buergerassistent.catalogue import default_catalogue

    nouns: set[str] = set()
    for proc in default_catalogue().curated():
        for term in (proc.name, *proc.synonyms, *proc.keywords):
            for word in re.findall(r"[A-Za-zÄÖÜäöüß]+", term):
                if word[0].isupper() and len(word) >= 3:
                    nouns.add(word.lower())
    return frozenset(nouns if generic else nouns - _GENERIC_NOUNS)


@lru_cache(maxsize=4)
def _noun_stems(nouns: frozenset[str]) -> frozenset[str]:
    """Long nouns without their last one to four letters: "Staatsangehörige" names
    "Staatsangehörigkeit", "Wohnungsgeber" "Wohnungsgeberbestätigung" does not (too short a cut)."""
    return frozenset(n[:-k] for n in nouns for k in range(1, 5) if len(n) - k >= 10)


def names_procedure(text: str, nouns: Optional[frozenset[str]] = None) -> bool:
    """The message names a thing a procedure is about ("Auto", "Hund", "Gewerbe", "Wohnsitz")."""
    nouns = procedure_nouns() if nouns is None else nouns
    for word in re.findall(r"[a-zäöüß]+", text.lower()):
        if len(word) < 3:
            continue
        if word in nouns:
            return True
        # plural and case endings: "Autos", "Hundes", "Gewerbes"
        for cut in (1, 2):
            if len(word) - cut >= 3 and word[:-cut] in nouns:
                return True
        if len(word) >= 10 and word in _noun_stems(nouns):
            return True
    return False


def _clear_words(command: str, text: str) -> bool:
    pattern = _CLEAR_WORDS.get(command)
    return bool(pattern and re.search(pattern, text, re.IGNORECASE))


def _at_stake(command: str, context: Context) -> bool:
    """Would carrying out ``command`` now lose or change something?"""
    if command in ("save_draft", "cancel"):
        return context.in_form or context.awaiting is not None
    return command in ("login", "logout")


def decide(message: Message, context: Context = Context()) -> Decision:
    """Act on, ask about or reinterpret the NLU reading of a message (see the module docstring)."""
    intent = message.intent or ""
    text = (message.text or "").strip()
    command = intent
    if (
        context.corrects_answer
        and context.awaiting == Awaiting.CONFIRM_SUMMARY.value
        and intent != "change_field"
        and not text.startswith("/")
    ):
        # "Der Umzugstag ist doch der 20.03." at the summary is a change, whatever NLU read.
        return Decision("reinterpret", "change_field", f"{intent} changes an answer at the summary", 1.0)
    if context.first_message and not context.in_form and not context.awaiting and misread_at_start(text, intent):
        return Decision("reinterpret", "request_procedure", f"a first message read as {intent} names a procedure", 1.0)
    if intent == "greet" and not context.in_form and not text.startswith("/") and names_procedure(text):
        # "Hallo, ich hab da was mit meinem Hund": the greeting carries a need.
        return Decision("reinterpret", "request_procedure", "a greeting that names a procedure", 1.0)
    if (
        intent == "ask_contact"
        and not context.in_form
        and not text.startswith("/")
        and not is_question(text)
        and names_procedure(text)
    ):
        # "ich will mein Auto abmelden, es hat noch eine Nummer aus Ebersberg": a need, no question
        # for a phone number.
        return Decision("reinterpret", "request_procedure", "a statement that names a procedure", 1.0)
    if not context.in_form and intent != "inform" and not text.startswith("/") and is_position_reply(text):
        # "das erste" after a list (choice, life-situation checklist) is a choice, whatever NLU
        # guessed (it read "das erste" as ask_why_field): the reply goes where choices are read.
        return Decision("reinterpret", "inform", f"{intent} is a choice by position", 1.0)
    if (
        intent == "withdraw_application"
        and not text.startswith("/")
        and not _WITHDRAW_WORDS.search(text)
        # at the start a generic noun is enough: "blaue karte eu antrag"
        and names_procedure(text, procedure_nouns(generic=context.first_message))
    ):
        return Decision("reinterpret", "request_procedure", "a withdrawal without a word for it names a procedure", 1.0)
    if context.in_form and intent in _HUMAN_CUES and not text.startswith("/") and not _HUMAN_CUES[intent].search(text):
        # "Eckcouch, Couchtisch und ein Regal" read as "are you a bot?": without a word of that
        # question it is the answer to the form's question.
        return Decision("reinterpret", "inform", f"{intent} without its words in a form", 1.0)
    if intent == "affirm" and not context.in_form and not text.startswith("/") and question_topic(text):
        # "Nur zur Info, ich will noch nichts beantragen: was kostet das?" to "Möchten Sie … jetzt
        # beantragen?" is a question about the procedure, not a yes that starts the form.
        topic = question_topic(text)
        return Decision("reinterpret", topic, f"affirm is a question ({topic})", 1.0)
    if intent == "affirm":
        if context.awaiting not in AFFIRM_ACTS_IN:
            return Decision("act", intent, "nothing waits for a yes", message.confidence)
        command = "affirm"
    elif intent not in CONSEQUENTIAL:
        if context.in_form and intent in _TAKEN_AS_ANSWER and _OFF_TOPIC.search(text) and not text.startswith("/"):
            # Storing "wie spät ist es" as a name is a consequence too: explain the question instead.
            return Decision("reinterpret", "help", f"{intent} is off topic in a form", 1.0)
        return Decision("act", intent, "no consequences", message.confidence)
    if text.startswith("/"):
        return Decision("act", intent, "button", message.confidence)

    reading = stronger_reading(text, command)
    if reading == "out_of_scope" and context.in_form:
        # Inside a form an off-topic question must not become the answer: explain the question.
        reading = "help"
    if reading is not None:
        return Decision("reinterpret", reading, f"{command} reads as {reading}", 1.0)
    if command in _PROCEDURE_BEATS and (
        names_procedure(text) or (_RESIDENCE.search(text) and not _ACCOUNT.search(text))
    ):
        return Decision("reinterpret", "request_procedure", f"{command} names a procedure", 1.0)
    if command in _PROCEDURE_BEATS and not _clear_words(command, text) and not context.in_form and not context.awaiting:
        # "mein Vermieter will einen Nachweis, dass ich hier gemeldet bin" names no account:
        # asking "Möchten Sie sich abmelden?" helps nobody; it is a need to find.
        return Decision("reinterpret", "request_procedure", f"{command} without a word for the account", 1.0)

    if command == "affirm":
        if is_question(text):
            # "Ja? Und dann?" at the summary is no "Ja, absenden": ask the question again.
            return Decision("ask", SUBMIT, "a question, not a yes", message.confidence)
        return Decision("act", intent, "a yes", message.confidence)
    if command not in ASKABLE:
        return Decision("act", intent, "harmless", message.confidence)
    if not _at_stake(command, context):
        return Decision("act", intent, "nothing at stake", message.confidence)
    if command == "cancel" and is_question(text) and _LATER_OR_IF.search(text):
        # "kann ich den Antrag später noch abbrechen, falls sich was ändert?" asks whether it
        # could be done, not to do it now: the help explains the question and "abbrechen"
        return Decision("reinterpret", "help", "a question whether cancelling is possible later", 1.0)
    if is_question(text):
        return Decision("ask", command, "a question", message.confidence)
    if (
        context.in_form
        and command in ("save_draft", "cancel")
        and not _clear_words(command, text)
        and not _ABOUT_SPEAKER.search(text)
    ):
        # "alte Möbel vom Speicher" to "Was soll abgeholt werden?": no word of the command and
        # none about the citizen – an answer to the question asked, not a request.
        return Decision("reinterpret", "inform", f"{command} without a word for it is an answer", 1.0)
    if message.confidence < CLEAR_CONFIDENCE:
        return Decision("ask", command, "NLU unsure", message.confidence)
    if not _clear_words(command, text):
        return Decision("ask", command, "no command word", message.confidence)
    return Decision("act", intent, "clear", message.confidence)


# -- what the assistant asks ------------------------------------------------------------------


def confirm_question(request: str, procedure_name: Optional[str] = None) -> str:
    """The question before carrying out ``request`` (German, answered with Ja/Nein)."""
    what = f"„{procedure_name}“" if procedure_name else "Ihren Antrag"
    if request == "save_draft":
        return f"Möchten Sie {what} jetzt speichern und später weitermachen?"
    if request == "cancel":
        return f"Möchten Sie {what} wirklich abbrechen? Ihre Angaben werden dann gelöscht."
    if request == "login":
        return "Möchten Sie sich jetzt mit Ihrem Nutzerkonto (zum Beispiel BundID) anmelden?"
    if request == "logout":
        return "Möchten Sie sich von Ihrem Nutzerkonto abmelden?"
    if request == SUBMIT:
        return f"Soll ich {what} jetzt absenden? Bitte antworten Sie mit Ja oder Nein."
    raise ValueError(f"no question for {request!r}")


def confirm_buttons(request: str) -> list[dict[str, str]]:
    yes = {
        "save_draft": "Ja, speichern",
        "cancel": "Ja, abbrechen",
        "login": "Ja, anmelden",
        "logout": "Ja, abmelden",
        SUBMIT: "Ja, absenden",
    }[request]
    no = "Nein, weiter" if request in ("save_draft", "cancel") else "Nein"
    return [{"title": yes, "payload": "/affirm"}, {"title": no, "payload": "/deny"}]
