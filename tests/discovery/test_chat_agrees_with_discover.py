"""`python -m bot discover` says what the chat does: for a handful of first messages, the
decision (answer | choice | none) and the procedure(s) printed by the command match what the
running assistant does over the REST channel (answer: the slot `procedure` is set to the first
id; choice: the offered buttons are the candidates; none: neither)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.parse
import urllib.request

import pytest
from support.chat import RestChat

from bot.settings import REPO_ROOT
from buergerassistent import translations

pytestmark = pytest.mark.e2e

MESSAGES = [
    "Ich brauche eine Meldebescheinigung",  # a clear request
    "Was kostet ein Reisepass?",  # a fact question: answered for the procedure it names
    "Gewerbe aufgeben",  # direction word
    "Wie wird das Wetter morgen?",  # small talk
    "Hallo",  # a greeting: not routed to discovery
    "Ausweis",  # vague: several procedures
    "Ich möchte aus der Kirche austreten",  # outside the core procedures
    "Matratze entsorgen",
    "Motorrad abmelden",  # NLU may read "abmelden" as logout: nobody is logged in, so discovery
    "Wir bekommen ein Baby",  # a life situation: its checklist's steps are the choice
    # … and the step the message asks about comes first (Checklist.focus)
    "Mein Mann möchte nach der Geburt zwei Monate Elternzeit nehmen. Bekommt er in der Zeit Geld?",
    "Ich bin umgezogen und muss mein Auto ummelden",  # two needs: the first is presented
    "Ich finde meinen Personalausweis nicht mehr",  # … or "nicht mehr" as cancel: nothing runs
    # English (issue 20): the English path of the chat (action_other_language) decides
    "How do I register my new flat in Munich?",  # a clear request
    "I need a new permit",  # vague: parking, residence, building
    "How do I get health insurance in Germany?",  # outside the core procedures
    "Anmeldung for my apartment",  # mixed: English words, German term
    "parking permit",  # short, no language detected: German NLU path, English index
]
_FOCUS = re.compile(r"^Zu Ihrem Anliegen passt am ehesten Schritt (\d+): ")
_CHOICE = re.compile(r'^/choose_procedure\{"procedure": "([a-z0-9_]+)"\}$')
# An English choice's buttons send the services' English names (buergerassistent/language_replies.py).
_ENGLISH_NAMES = {entry.name: pid for pid, entry in translations.english_entries().items()}


@pytest.fixture(scope="module")
def stack(default_stack):
    return default_stack  # tests/conftest.py: one stack with the default options for the session


def chat_decision(stack, sender: str, text: str) -> tuple[str, list[str]]:
    chat = RestChat(stack.settings, sender=sender)
    messages = chat.say(text)
    offered = [m.group(1) for msg in messages for b in msg.get("buttons") or [] if (m := _CHOICE.match(b["payload"]))]
    offered += [
        _ENGLISH_NAMES[b["payload"]]
        for msg in messages
        for b in msg.get("buttons") or []
        if b["payload"] in _ENGLISH_NAMES
    ]
    if offered:
        # a life event's checklist names the step the message asks about above the list
        # ("Zu Ihrem Anliegen passt am ehesten Schritt 4: …"); bot discover lists it first
        focus = next((int(m.group(1)) for msg in messages if (m := _FOCUS.match(msg.get("text") or ""))), None)
        if focus is not None:
            offered.insert(0, offered.pop(focus - 1))
        return "choice", offered
    s = stack.settings
    query = urllib.parse.urlencode({"token": s.rasa_api_token})
    url = f"{s.rasa_url}/conversations/{urllib.parse.quote(chat.conversation_id)}/tracker?{query}"
    with urllib.request.urlopen(url, timeout=30) as resp:
        procedure = json.loads(resp.read())["slots"].get("procedure")
    return ("answer", [procedure]) if procedure else ("none", [])


def test_bot_discover_prints_what_the_chat_does(stack):
    out = subprocess.run(
        [sys.executable, "-m", "bot", "discover", "--top", "3"],
        input="\n".join(MESSAGES) + "\n",
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
        check=True,
    ).stdout
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [line["text"] for line in lines] == MESSAGES
    decisions = set()
    for i, line in enumerate(lines):
        kind, ids = chat_decision(stack, f"discover-agree-{i}", line["text"])
        printed = [p["id"] for p in line["procedures"]]
        assert line["decision"] == kind, (line, kind, ids)
        if kind == "answer":
            assert printed[:1] == ids, (line, ids)
        elif kind == "choice":
            assert printed == ids, (line, ids)
        else:
            assert printed == [], line
        decisions.add(kind)
    # the messages exercise every decision, so the comparison means something
    assert decisions == {"answer", "choice", "none"}, decisions
