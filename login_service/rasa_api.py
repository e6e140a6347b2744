"""Tell the conversation that a login finished, through Rasa's HTTP API.

Only an intent name travels (``EXTERNAL_login_result``); the assistant reads the identity or the
failure reason from the server-side store (``buergerassistent.identity``), so nothing personal passes
through the tracker as user-settable data.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)

LOGIN_RESULT_INTENT = "EXTERNAL_login_result"


async def notify_conversation(rasa_url: str, token: str, conversation_id: str) -> bool:
    url = f"{rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='')}/trigger_intent"
    params = {"output_channel": "latest"}
    if token:
        params["token"] = token
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            async with session.post(url, params=params, json={"name": LOGIN_RESULT_INTENT}) as resp:
                if resp.status >= 300:
                    logger.warning("Rasa did not take the login result (HTTP %s)", resp.status)
                    return False
                return True
    except (aiohttp.ClientError, TimeoutError) as exc:
        logger.warning("Rasa not reachable for the login result: %s", type(exc).__name__)
        return False
