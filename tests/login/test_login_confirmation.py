"""A login completes only into the chat of the person who completed it (issue 13, item 1).

Attack: the attacker takes the login link from their own chat and gets a victim to open it; the
victim logs in at the IdP. Before the fix the attacker's conversation was then logged in as the
victim. Now the login service keeps the completed login unconfirmed and gives the victim's browser
a one-time code; only the chat that hands back that code (bound to the conversation it was issued
for, single use, 5 minutes, 5 attempts) is logged in.

In-process here (login service + real SAML IdP + real OIDC provider, Rasa: the recorder); the
same attack against the whole stack is in test_e2e_login.py.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from contextlib import asynccontextmanager

import pytest
import requests

from buergerassistent import identity as ids
from rasa_runtime.channels import login_confirmation as lc

from .conftest import code_of, saml_login, text_of
from .test_oidc_login import login as oidc_login


def conv() -> str:
    return f"wc-{uuid.uuid4().hex}"


def _victim_logs_in(world, protocol: str, link_conversation: str):
    """The victim's own browser (a fresh HTTP session: no cookie, no chat) opens the attacker's
    link and logs in with the victim's account."""
    if protocol == "saml":
        return saml_login(world, link_conversation, "substantiell", "erika3", "geheim-3")[1]
    return oidc_login(world, link_conversation, "substantiell", "erika3", "geheim-3")[1]


@pytest.mark.parametrize("protocol", ["saml", "oidc"])
def test_attackers_link_completed_by_the_victim_logs_in_nobody(world, protocol):
    attacker = conv()
    page = _victim_logs_in(world, protocol, attacker)
    assert page.status_code == 200
    # The attacker's conversation is not logged in: not now, and not later either (the old code
    # wrote the identity at once and told Rasa to greet "Erika Mustermann" in the attacker's chat).
    assert ids.current_identity(attacker) is None
    time.sleep(1.0)
    assert ids.current_identity(attacker) is None
    assert not [c for c in world.recorder.calls if c["conversation"] == attacker]
    # The victim's browser got the code with the warning never to pass it on.
    assert "Geben Sie ihn niemandem weiter; die Verwaltung fragt nie danach." in page.text
    assert ids.chat_label(attacker) in page.text
    # Guessing does not help the attacker: 5 wrong codes and the completed login is gone.
    code = code_of(page)
    wrong = [f"{(int(code.replace('-', '')) + i) % 10**8:08d}" for i in range(1, 6)]
    results = [ids.redeem_code(attacker, w) for w in wrong]
    assert [r.status for r in results] == ["wrong"] * 4 + ["exhausted"]
    assert ids.redeem_code(attacker, code).status == "none"  # even the right code is useless now
    assert ids.current_identity(attacker) is None


def test_start_page_names_the_chat_and_warns_before_going_on(world):
    conversation = conv()
    start = requests.get(world.link(conversation, "substantiell"), timeout=30)
    assert start.status_code == 200
    text = text_of(start)
    assert ids.chat_label(conversation) in text and "Web-Chat" in text
    assert "Melden Sie sich nur an, wenn Sie diesen Link selbst in Ihrem Chat geöffnet haben." in text
    # No automatic redirect and no inline script: the citizen reads the page, then clicks on.
    assert "<script" not in start.text
    assert re.search(r"<button type=\"submit\">Weiter zum Nutzerkonto</button>", start.text)


def test_result_page_hands_the_code_over_by_a_script_file_only(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "erika3", "geheim-3")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page.text, re.S)
    assert scripts == [(' src="/login/static/login-result.js"', "")]  # CSP without unsafe-inline
    js = requests.get(f"{world.login_url}/login/static/login-result.js", timeout=30)
    assert js.status_code == 200 and js.headers["Content-Type"].startswith("application/javascript")
    assert "ba-login-code" in js.text
    # Default settings: loopback portal pages only; never "*".
    assert 'data-loopback="1"' in page.text


def test_wildcard_origins_hand_the_code_to_no_page(world):
    from login_service.app import handover_origins
    from login_service.settings import LoginSettings

    settings = LoginSettings(saml_key=world.settings.saml_key, saml_cert=world.settings.saml_cert)
    settings.webchat_origins = ("*",)
    assert handover_origins(settings) == ([], False)
    settings.webchat_origins = ("https://portal.example",)
    assert handover_origins(settings) == (["https://portal.example"], False)


def test_the_own_chat_redeems_the_code_once(world):
    conversation = conv()
    _, page = saml_login(world, conversation, "substantiell", "erika3", "geheim-3")
    code = code_of(page)
    result = ids.redeem_code(conversation, code.replace("-", " "))  # typed with a space: fine
    assert result.ok and result.identity.attributes["family_name"] == "Mustermann"
    assert ids.current_identity(conversation).level == "substantiell"
    assert ids.redeem_code(conversation, code).status == "none"  # single use


# --- redemption rules, on the store directly --------------------------------------------------


def _completed(conversation: str, ttl: int = ids.CONFIRM_TTL) -> str:
    ident = ids.Identity(
        level="substantiell",
        source="saml",
        subject="bPK2-x",
        attributes={"given_name": "Erika", "family_name": "Mustermann"},
    )
    return ids.complete_login(conversation, ident, ttl=ttl)


def test_code_from_another_conversation_is_refused():
    mine, other = conv(), conv()
    code = _completed(mine)
    _completed(other)
    assert ids.redeem_code(other, code).status == "wrong"
    assert ids.current_identity(other) is None and ids.current_identity(mine) is None
    assert ids.redeem_code(mine, code).ok  # still the owner's


def test_a_conversation_without_completed_login_has_nothing_to_redeem():
    mine, other = conv(), conv()
    code = _completed(mine)
    assert ids.redeem_code(other, code).status == "none"
    assert ids.current_identity(other) is None


def test_expired_code_is_refused_and_dropped():
    conversation = conv()
    code = _completed(conversation)
    assert ids.redeem_code(conversation, code, now=time.time() + ids.CONFIRM_TTL + 1).status == "expired"
    assert ids.redeem_code(conversation, code).status == "none"
    assert ids.current_identity(conversation) is None


@pytest.mark.parametrize("garbage", ["", "1234", "abcd-efgh", "1234-56789", None, 12345678, "1" * 100])
def test_malformed_codes_count_as_wrong(garbage):
    conversation = conv()
    _completed(conversation)
    assert ids.redeem_code(conversation, garbage).status == "wrong"


def test_attempts_are_limited():
    conversation = conv()
    code = _completed(conversation)
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    for left in (4, 3, 2, 1):
        result = ids.redeem_code(conversation, wrong)
        assert (result.status, result.attempts_left) == ("wrong", left)
    assert ids.redeem_code(conversation, wrong).status == "exhausted"
    assert ids.redeem_code(conversation, code).status == "none"
    assert not ids.has_unconfirmed_login(conversation)


def test_code_is_stored_only_as_a_keyed_hash():
    conversation = conv()
    code = _completed(conversation)
    with ids.engine().connect() as conn:
        row = (
            conn.execute(ids.select(ids.completed).where(ids.completed.c.conversation_id == conversation))
            .mappings()
            .first()
        )
    assert code.replace("-", "") not in row["code_hash"] and code not in row["code_hash"]


def test_forget_conversation_deletes_every_login_row():
    conversation = conv()
    ids.store_identity(conversation, ids.Identity(level="hoch", source="saml", subject="s"))
    ids.record_outcome(conversation, "cancelled")
    ids.start_pending(conversation, "hoch", "saml")
    _completed(conversation)
    assert ids.forget_conversation(conversation) == 4
    assert ids.current_identity(conversation) is None and not ids.has_unconfirmed_login(conversation)
    assert ids.pop_outcome(conversation) is None
    with ids.engine().connect() as conn:
        for table in (ids.identities, ids.pending, ids.completed, ids.outcomes):
            assert conn.execute(ids.select(table).where(table.c.conversation_id == conversation)).first() is None


# --- the channel-independent part the channels call -------------------------------------------


class FakeOutput:
    def __init__(self):
        self.texts: list[tuple[str, str]] = []

    async def send_text_message(self, recipient_id, text, **_):
        self.texts.append((recipient_id, text))


class FakeAgent:
    """Records what login_confirmation asks of Rasa's agent (lock, tracker, trigger_intent)."""

    def __init__(self):
        self.triggered: list[tuple[str, str]] = []
        self.locked: list[str] = []
        agent = self

        class Locks:
            @asynccontextmanager
            async def lock(self, conversation_id):
                agent.locked.append(conversation_id)
                yield

        class Processor:
            async def fetch_tracker_and_update_session(self, conversation_id, output_channel=None):
                return conversation_id

        self.lock_store = Locks()
        self.processor = Processor()

    async def trigger_intent(self, intent_name, entities, output_channel, tracker):
        self.triggered.append((tracker, intent_name))


def test_typed_code_is_recognised_and_continues_the_conversation():
    conversation = conv()
    code = _completed(conversation)
    agent, out = FakeAgent(), FakeOutput()
    assert asyncio.run(lc.intercept_text(agent, conversation, f" {code} ", out))
    assert agent.triggered == [(conversation, "EXTERNAL_login_result")] and agent.locked == [conversation]
    assert out.texts == []
    assert ids.current_identity(conversation) is not None


def test_typed_text_is_left_to_rasa():
    conversation = conv()
    _completed(conversation)
    agent, out = FakeAgent(), FakeOutput()
    for text in ("Ich brauche eine Meldebescheinigung", "12345", "PLZ 8033 1234 bitte"):
        assert not asyncio.run(lc.intercept_text(agent, conversation, text, out))
    # A code-shaped message in a conversation without a completed login is ordinary text
    # (a case number, a phone number…).
    assert not asyncio.run(lc.intercept_text(agent, conv(), "4829-1736", out))
    assert agent.triggered == [] and out.texts == []


def test_wrong_typed_code_is_answered_without_rasa():
    conversation = conv()
    code = _completed(conversation)
    agent, out = FakeAgent(), FakeOutput()
    wrong = "0000-0000" if code != "0000-0000" else "1111-1111"
    assert asyncio.run(lc.intercept_text(agent, conversation, wrong, out))
    assert agent.triggered == [] and "noch 4 Versuche" in out.texts[0][1]
    for _ in range(4):
        asyncio.run(lc.intercept_text(agent, conversation, wrong, out))
    assert "zu oft falsch" in out.texts[-1][1]
    # Afterwards the code is ordinary text again, and logs in nobody.
    assert not asyncio.run(lc.intercept_text(agent, conversation, code, out))
    assert ids.current_identity(conversation) is None


def test_code_event_from_another_conversation_logs_in_nobody():
    owner, intruder = conv(), conv()
    code = _completed(owner)
    agent, out = FakeAgent(), FakeOutput()
    assert not asyncio.run(lc.redeem_and_continue(agent, intruder, code, out))
    assert out.texts == [(intruder, lc.NONE)] and agent.triggered == []
    assert ids.current_identity(intruder) is None and ids.current_identity(owner) is None


def test_expired_code_event_is_explained():
    conversation = conv()
    code = _completed(conversation, ttl=-1)
    agent, out = FakeAgent(), FakeOutput()
    assert not asyncio.run(lc.redeem_and_continue(agent, conversation, code, out))
    assert out.texts == [(conversation, lc.EXPIRED)]
    assert ids.current_identity(conversation) is None


def test_parallel_guesses_share_one_attempt_budget():
    from concurrent.futures import ThreadPoolExecutor

    conversation = conv()
    code = _completed(conversation)
    wrong = [f"{(int(code.replace('-', '')) + i) % 10**8:08d}" for i in range(1, 17)]
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda guess: ids.redeem_code(conversation, guess).status, wrong))
    assert statuses.count("wrong") <= ids.CONFIRM_MAX_ATTEMPTS - 1
    assert statuses.count("exhausted") >= 1 and "ok" not in statuses
    assert ids.redeem_code(conversation, code).status == "none"
