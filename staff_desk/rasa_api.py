"""Tell the citizen's conversation what staff did: Rasa's HTTP API ``POST
/conversations/{id}/trigger_intent?output_channel=latest`` with ``RASA_API_TOKEN``. The intent's
action (``actions/handoff.py``) says it in the citizen's channel and the tracker keeps it."""

from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)


class RasaConversations:
    def __init__(self, rasa_url: str, token: Optional[str]) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self.token = token

    async def trigger(self, conversation_id: str, intent: str, entities: Optional[dict[str, str]] = None) -> bool:
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/trigger_intent"
        params = {"output_channel": "latest"}
        if self.token:
            params["token"] = self.token
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
                async with session.post(url, params=params, json={"name": intent, "entities": entities or {}}) as resp:
                    if resp.status >= 300:
                        logger.warning("Rasa did not take %s (HTTP %s)", intent, resp.status)
                        return False
                    return True
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("Rasa not reachable for %s: %s", intent, type(exc).__name__)
            return False
