"""Confirming a completed login in the chat, for every channel.

After the IdP answered, the login service keeps the identity as a *completed, unconfirmed* login
of the conversation the login link was for and gives the browser a one-time code
(``buergerassistent.identity.complete_login``). The login counts only once that code comes back through the
chat itself: the web chat widget receives it from its login window (``postMessage``) and sends
the socket event ``login_code``; elsewhere (another device, messengers) the citizen types it.

Channels call into this module before a message reaches Rasa:

    if await login_confirmation.intercept_text(agent, conversation_id, text, output_channel):
        return  # it was a login code; answered here, not passed to Rasa (nor stored in the tracker)

and, for a code that arrives out of band (the widget's ``login_code`` event):

    await login_confirmation.redeem_and_continue(agent, conversation_id, code, output_channel)

The conversation is always the one the channel bound to the sender (the web chat socket's
session, the REST caller's prefixed sender), never a value taken from the message.
After a successful redemption the assistant continues as before the change: the intent
``EXTERNAL_login_result`` is triggered in the conversation (``action_login_result`` greets the
citizen and resumes the form).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

from buergerassistent import identity as ids

logger = logging.getLogger(__name__)

LOGIN_RESULT_INTENT = "EXTERNAL_login_result"

WRONG = "Dieser Code stimmt nicht. Bitte prüfen Sie ihn; Sie haben noch {left} Versuch{suffix}."
EXHAUSTED = (
    "Der Code war zu oft falsch. Aus Sicherheitsgründen habe ich diese Anmeldung verworfen. "
    "Schreiben Sie „anmelden“, wenn Sie sich neu anmelden möchten."
)
EXPIRED = (
    "Der Code ist abgelaufen (er gilt 5 Minuten). Sie sind nicht angemeldet. "
    "Schreiben Sie „anmelden“, wenn Sie sich neu anmelden möchten."
)
NONE = "Für dieses Gespräch wartet keine Anmeldung auf Bestätigung. Schreiben Sie „anmelden“, um sich anzumelden."
FAILED = "Die Anmeldung konnte ich gerade nicht abschließen. Bitte versuchen Sie es gleich noch einmal."


def widget_info() -> dict[str, str]:
    """For the web chat's ``session_confirm``: where the login service is, so the widget opens only
    its own login pages as a window it listens to, and accepts the code only from that origin."""
    return {"login_url": ids.login_public_url()}


def message_for(result: ids.Redemption) -> Optional[str]:
    """The German answer to a failed redemption (None for success)."""
    if result.status == "ok":
        return None
    if result.status == "wrong":
        return WRONG.format(left=result.attempts_left, suffix="" if result.attempts_left == 1 else "e")
    return {"exhausted": EXHAUSTED, "expired": EXPIRED}.get(result.status, NONE)


async def continue_conversation(agent: Any, conversation_id: str, output_channel: Any) -> None:
    """Tell the assistant the login is there: the same as the login service's trigger_intent call
    through Rasa's HTTP API, but in-process (no token, same lock)."""
    async with agent.lock_store.lock(conversation_id):
        tracker = await agent.processor.fetch_tracker_and_update_session(conversation_id, output_channel)
        await agent.trigger_intent(LOGIN_RESULT_INTENT, [], output_channel, tracker)


async def redeem_and_continue(agent: Any, conversation_id: str, code: Any, output_channel: Any) -> bool:
    """Redeem ``code`` for ``conversation_id`` only. On success the conversation continues (greeting,
    prefill question, form); otherwise the citizen hears why. Returns whether it succeeded."""
    result = await asyncio.to_thread(ids.redeem_code, conversation_id, code)
    logger.info("login confirmation: %s", result.status)  # no code, no conversation id, no identity
    if not result.ok:
        await output_channel.send_text_message(conversation_id, message_for(result))
        return False
    if agent is None:  # pragma: no cover - a channel always has its agent once Rasa runs
        return True
    try:
        await continue_conversation(agent, conversation_id, output_channel)
    except Exception:
        logger.exception("login confirmed, but the conversation could not be continued")
        await output_channel.send_text_message(conversation_id, FAILED)
    return True


async def intercept_text(agent: Any, conversation_id: str, text: Any, output_channel: Any) -> bool:
    """A typed message that is exactly a login code while this conversation has a completed,
    unconfirmed login: redeem it here (True). Anything else goes to Rasa as usual (False)."""
    if ids.normalize_code(text) is None:
        return False
    if not await asyncio.to_thread(ids.has_unconfirmed_login, conversation_id, None, True):
        return False
    await redeem_and_continue(agent, conversation_id, text, output_channel)
    return True
