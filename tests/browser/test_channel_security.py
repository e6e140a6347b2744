"""The socket.io channel against the real Rasa process, spoken by a real socket.io client
(python-socketio): server-issued signed sessions, hijack attempts, size and rate limits."""

from __future__ import annotations

import asyncio
import time

import jwt
import pytest
import socketio

from buergerassistent.signing import sign

pytestmark = pytest.mark.e2e

ORIGIN = {"Origin": "http://127.0.0.1"}


class Client:
    """One browser tab as the protocol sees it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sio = socketio.AsyncClient()
        self.events: asyncio.Queue = asyncio.Queue()
        for name in ("session_confirm", "history", "bot_uttered", "bot_typing", "user_echo", "session_deleted"):
            self.sio.on(name, self._recorder(name))

    def _recorder(self, name):
        async def record(data=None):
            await self.events.put((name, data))

        return record

    async def __aenter__(self) -> Client:
        # Polling transport: the installed aiohttp is older than engineio's websocket client wants.
        await self.sio.connect(self.url, headers=ORIGIN, transports=["polling"], wait_timeout=20)
        return self

    async def __aexit__(self, *exc) -> None:
        # A graceful polling disconnect waits for the open long-poll (up to 30 s): close at once.
        eio = self.sio.eio
        tasks = [t for t in (eio.read_loop_task, eio.write_loop_task) if t is not None]
        await eio.disconnect(abort=True)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def next(self, name: str, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {name!r} event within {timeout} s")
            event, data = await asyncio.wait_for(self.events.get(), remaining)
            if event == name:
                return data

    async def session(self, session_id=None) -> tuple[str, list]:
        await self.sio.emit("session_request", {"session_id": session_id})
        token = (await self.next("session_confirm"))["session_id"]
        history = (await self.next("history"))["messages"]
        return token, history

    async def say(self, text: str, **extra) -> list[str]:
        """Send and collect the bot's answers until it stops typing."""
        await self.sio.emit("user_uttered", {"message": text, **extra})
        texts = []
        while True:
            event, data = await asyncio.wait_for(self.events.get(), 30)
            if event == "bot_uttered":
                texts.append(data.get("text", ""))
            elif event == "bot_typing" and not data["typing"]:
                return texts


async def test_session_id_is_issued_and_signed_by_the_server(web_stack):
    async with Client(web_stack.rasa_url) as tab:
        token, history = await tab.session("mein-eigener-wunsch")
        assert token != "mein-eigener-wunsch" and history == []
        claims = jwt.decode(token, web_stack.secret_key(), algorithms=["HS256"], audience="webchat-session")
        assert claims["sub"].startswith("wc-") and claims["exp"] > time.time()
        assert any("Bürgerassistent" in t for t in await tab.say("Hallo"))
    # A reload presents the token and gets the same conversation back, with its history.
    async with Client(web_stack.rasa_url) as again:
        same, history = await again.session(token)
        assert web_stack.conversation_id(same) == claims["sub"]
        assert [m["sender"] for m in history][:2] == ["user", "bot"] and history[0]["text"] == "Hallo"


async def test_hijack_attempts_get_a_fresh_empty_session(web_stack):
    async with Client(web_stack.rasa_url) as victim:
        token, _ = await victim.session()
        await victim.say("Ich brauche eine Meldebescheinigung")
        await victim.say("Ja")
        await victim.say("Erika")
        victim_id = web_stack.conversation_id(token)

        now = int(time.time())
        forged = {
            "plain conversation id": victim_id,
            "token signed with another key": sign({"sub": victim_id}, "webchat-session", 3600, key=b"x" * 32),
            "token for another purpose": sign({"sub": victim_id}, "login", 3600, key=web_stack.secret_key()),
            "expired token": jwt.encode(
                {"sub": victim_id, "aud": "webchat-session", "iat": now - 7200, "exp": now - 3600},
                web_stack.secret_key(),
                algorithm="HS256",
            ),
            "unsigned token": jwt.encode(
                {"sub": victim_id, "aud": "webchat-session", "exp": now + 3600}, None, algorithm="none"
            ),
            "tampered payload": token.split(".")[0]
            + "."
            + jwt.utils.base64url_encode(
                f'{{"sub":"{victim_id}","aud":"webchat-session","exp":{now + 3600}}}'.encode()
            ).decode()
            + "."
            + token.split(".")[2],
        }
        for what, session_id in forged.items():
            async with Client(web_stack.rasa_url) as attacker:
                got, history = await attacker.session(session_id)
                assert web_stack.conversation_id(got) != victim_id, what
                assert history == [], what
                # Naming the victim's session in the message itself does not help either.
                answers = await attacker.say("Hallo", session_id=token)
                assert answers, what
        # Nothing the attackers did reached the victim's socket or tracker.
        while not victim.events.empty():
            event, data = victim.events.get_nowait()
            assert event not in ("bot_uttered", "user_echo"), (event, data)
        # ... and the victim's own conversation goes on where it was.
        assert any("geboren" in t for t in await victim.say("Mustermann"))


async def test_message_without_session_request_gets_its_own_session(web_stack):
    # Clients that skip session_request still get a server-issued session, not the socket id.
    async with Client(web_stack.rasa_url) as tab:
        await tab.sio.emit("user_uttered", {"message": "Hallo", "session_id": "wc-00000000000000000000000000000000"})
        token = (await tab.next("session_confirm"))["session_id"]
        assert web_stack.conversation_id(token) != "wc-00000000000000000000000000000000"
        assert "Bürgerassistent" in (await tab.next("bot_uttered"))["text"]


async def test_too_long_message_gets_a_friendly_answer_and_rasa_never_sees_it(web_stack):
    async with Client(web_stack.rasa_url) as tab:
        token, _ = await tab.session()
        await tab.sio.emit("user_uttered", {"message": "x" * 2001})
        answer = await tab.next("bot_uttered")
        assert "zu lang" in answer["text"] and "2000 Zeichen" in answer["text"]
        assert web_stack.tracker_rows(web_stack.conversation_id(token)) == 0


async def test_rate_limit_per_session(web_stack):
    async with Client(web_stack.rasa_url) as tab:
        await tab.session()
        # The test stack allows web_stack.rate_limit messages a minute; one more is refused politely.
        for _ in range(web_stack.rate_limit):
            assert not any("warten Sie" in t for t in await tab.say("/greet"))
        await tab.sio.emit("user_uttered", {"message": "/greet"})
        assert "warten Sie einen Moment" in (await tab.next("bot_uttered"))["text"]
    # Another session is not affected.
    async with Client(web_stack.rasa_url) as other:
        await other.session()
        assert any("Bürgerassistent" in t for t in await other.say("Hallo"))


def _portal_token(key, conversation_id: str, **overrides) -> str:
    now = int(time.time())
    claims = {
        "aud": "buergerassistent-portal-identity",
        "cid": conversation_id,
        "jti": f"j-{time.time_ns()}",
        "iat": now,
        "exp": now + 120,
        "auth_time": now - 60,
        "acr": "STORK-QAA-Level-3",
        "sub": "bPK2-portal-test",
        "given_name": "Erika",
        "family_name": "Mustermann",
    }
    claims.update(overrides)
    return jwt.encode(claims, key, algorithm="ES256")


async def test_a_portal_login_is_handed_over_once_and_only_for_its_own_conversation(web_stack):
    async with Client(web_stack.rasa_url) as tab, Client(web_stack.rasa_url) as other:
        await other.session()
        # The server tells each tab its conversation id, so the portal can sign for exactly it.
        await tab.sio.emit("session_request", {"session_id": None})
        confirmed = await tab.next("session_confirm")
        await tab.next("history")
        conversation_id = confirmed["conversation_id"]
        assert web_stack.conversation_id(confirmed["session_id"]) == conversation_id

        token = _portal_token(web_stack.portal_key, conversation_id)
        # Replayed into another conversation: refused.
        await other.sio.emit("portal_identity", {"token": token})
        refused = await other.next("bot_uttered")
        assert "angemeldet als" not in refused["text"]

        await tab.sio.emit("portal_identity", {"token": token})
        greeted = await tab.next("bot_uttered")
        assert "Sie sind angemeldet als Erika Mustermann" in greeted["text"]

        # The same token again (replay) and a token signed by someone else: refused.
        for bad in (token, _portal_token(ec_key(), conversation_id)):
            await tab.sio.emit("portal_identity", {"token": bad})
            assert "angemeldet als" not in (await tab.next("bot_uttered"))["text"]


def ec_key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())
