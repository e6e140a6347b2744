"""Context across turns, as a citizen types it over the REST channel against the real stack:
follow-ups stay with the procedure in focus, a reply to a choice is a choice, two needs in one
message are both offered, a saved draft is offered again on request, and "nein, das meine ich
nicht" gets other candidates and shows up in the review inbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from support.forms import CASE_NUMBER, fill_in_chat, step
from support.portal_auth import fetch_application

from bot.settings import REPO_ROOT

pytestmark = pytest.mark.e2e


def shown(messages: list[dict]) -> str:
    """Texts and button titles, as the citizen sees them."""
    return "\n".join(
        [m.get("text") or "" for m in messages] + [b["title"] for m in messages for b in m.get("buttons") or []]
    )


def titles(messages: list[dict]) -> list[str]:
    return [b["title"] for m in messages for b in m.get("buttons") or []]


# --------------------------------------------------------------------------- 1. follow-ups


@pytest.mark.parametrize(
    "question",
    [
        "kann ich das online machen?",
        "was kostet das?",
        "welche Unterlagen brauche ich?",
        "und wie lange dauert das?",
        "geht das auch per Post?",
    ],
)
def test_follow_ups_are_answered_for_the_procedure_in_focus(chat, question):
    assert "Hund zur Hundesteuer anmelden" in chat.say_text("Ich habe mir einen Hund gekauft und muss ihn anmelden")
    answer = shown(chat.say(question))
    assert "Hund" in answer, answer
    assert "Briefwahl" not in answer and "keine passende Leistung" not in answer, answer
    # The focus stays: the next follow-up is about the dog as well.
    assert "Hund" in chat.say_text("Und was muss ich dafür mitbringen?")


def test_a_named_other_procedure_moves_the_focus(chat):
    chat.say("Ich brauche eine Meldebescheinigung")
    answer = shown(chat.say("Und was kostet ein Reisepass?"))
    assert "Reisepass" in answer and "Meldebescheinigung" not in answer
    assert "Reisepass" in chat.say_text("kann ich das online machen?")


# --------------------------------------------------------------------------- 2. choices


def _offer_a_choice(chat) -> list[str]:
    reply = chat.say("Ausweis")
    offered = titles(reply)
    assert len(offered) >= 2, reply
    return offered


@pytest.mark.parametrize("reply,index", [("das erste", 0), ("die zweite", 1), ("Nummer 2", 1), ("1", 0)])
def test_an_ordinal_after_a_choice_chooses(chat, reply, index):
    offered = _offer_a_choice(chat)
    answer = chat.say_text(reply)
    assert offered[index] in answer, answer
    assert "nicht verstanden" not in answer and "Beschreiben Sie mir einfach" not in answer


def test_a_name_after_a_choice_chooses(chat):
    offered = _offer_a_choice(chat)
    word = "Reisepass" if any("Reisepass" in t for t in offered) else offered[-1]
    answer = chat.say_text(word)
    assert word in answer
    assert "Welche dieser Leistungen" not in answer


def test_yes_to_a_single_suggestion_starts_it(chat):
    reply = chat.say("Ich möchte einen Hund anmelden, was kostet das?")
    # Either discovery is sure (then "ja" starts the form) or it asks "Meinen Sie …?".
    said = shown(reply)
    answer = chat.say_text("ja")
    assert "Beschreiben Sie mir einfach Ihr Anliegen" not in answer, (said, answer)
    if "Meinen Sie" in said:
        assert "Hund" in answer


# --------------------------------------------------------------------------- 3. two needs


def test_two_needs_in_one_message_are_offered_one_after_the_other(chat):
    first = chat.say_text("Ich bin umgezogen und muss mein Auto ummelden")
    assert "zwei Anliegen" in first, first
    assert "Wohnsitz" in first and "Fahrzeug" in first
    assert "Möchten Sie „Wohnsitz anmelden oder ummelden“ jetzt hier im Chat beantragen?" in first
    # Declining the first: the second is offered.
    second = chat.say_text("nein")
    assert "Nun zu Ihrem nächsten Anliegen" in second, second
    assert "Fahrzeug zulassen" in second


def test_the_second_need_follows_a_cancelled_first_form(chat):
    chat.say("Ich muss Sperrmüll anmelden und außerdem meinen Hund anmelden")
    started = chat.say_text("ja")
    assert "Sperrmüll" in started
    after = chat.say_text("abbrechen")
    assert "abgebrochen" in after
    assert "Nun zu Ihrem nächsten Anliegen: „Hund zur Hundesteuer anmelden“" in after, after


def test_the_second_need_follows_a_submitted_first_application(chat, stack):
    first = chat.say_text("Ich brauche eine Meldebescheinigung, außerdem will ich meinen Hund anmelden")
    assert "zwei Anliegen" in first and "jetzt hier im Chat beantragen" in first
    fill_in_chat(chat.say_text, start=step("Ja"))
    final = chat.say_text("Ja, absenden")
    match = CASE_NUMBER.search(final)
    assert match, final
    assert fetch_application(stack, match.group(1))["procedure"] == "meldebescheinigung"
    # First the question about status messages (issue 17), then the next need.
    assert "wenn sich der Stand Ihres Antrags ändert?" in final, final
    after = chat.say_text("nein")
    assert "Nun zu Ihrem nächsten Anliegen: „Hund zur Hundesteuer anmelden“" in after, after
    assert "Möchten Sie „Hund zur Hundesteuer anmelden“ jetzt hier im Chat beantragen?" in after


# --------------------------------------------------------------------------- 4. draft on request


def test_a_saved_draft_is_offered_again_in_the_same_session(chat):
    chat.say("Ich brauche eine Meldebescheinigung")
    chat.say("Ja")
    chat.say("Erika")
    saved = chat.say_text("später weitermachen")
    assert "gespeichert" in saved
    offer = chat.say_text("ich möchte weitermachen")
    assert "Meldebescheinigung" in offer and "weitermachen" in offer, offer
    resumed = chat.say_text("Ja")
    assert "wir machen mit „Meldebescheinigung“ weiter" in resumed
    assert "Familienname" in resumed  # the first answer is kept: the form asks the next one


def test_asking_to_continue_without_a_draft_says_so(chat):
    assert "keinen gespeicherten Antrag" in chat.say_text("wo war ich stehengeblieben?")


# --------------------------------------------------------------------------- 5. wrong guess


def review_json(stack, state) -> list[dict]:
    command = [sys.executable, "-m", "content.review", "--tracker-store", stack.settings.tracker_store_url]
    done = subprocess.run(
        command + ["--state", str(state), "--json"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_nein_das_meine_ich_nicht_offers_other_candidates_and_reaches_the_review_inbox(chat, stack, tmp_path):
    first = chat.say_text("Ich möchte meinen Wohnsitz anmelden")
    assert "Wohnsitz anmelden" in first
    recovery = chat.say("nein, das meine ich nicht")
    said = shown(recovery)
    assert "Wohnsitz anmelden oder ummelden" not in titles(recovery)
    assert "Entschuldigung" in said
    assert titles(recovery) or "Worum geht es genau?" in said, said
    if titles(recovery):
        # The first candidate is chosen with words, too.
        assert titles(recovery)[0] in chat.say_text("das erste")

    entries = review_json(stack, tmp_path / "review")
    texts = {e["text"]: e for e in entries}
    assert "nein, das meine ich nicht" in texts, sorted(texts)
    assert "correction" in texts["nein, das meine ich nicht"]["reasons"]
    assert "contradicted" in texts["Ich möchte meinen Wohnsitz anmelden"]["reasons"]


def test_nein_was_anderes_ends_with_one_clarifying_question(chat):
    assert "Meldebescheinigung" in chat.say_text("Ich brauche eine Meldebescheinigung")
    for _ in range(3):  # other candidates first, if discovery had any; then the question
        answer = chat.say("nein, was anderes")
        assert "Entschuldigung" in shown(answer)
        assert "Meldebescheinigung" not in titles(answer)
        if "Worum geht es genau?" in shown(answer):
            break
    assert "Worum geht es genau?" in shown(answer) and "zum Beispiel" in shown(answer)
    assert not titles(answer)
