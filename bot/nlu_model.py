"""The trained model's NLU outside the Rasa server, for batch use (``python -m bot discover``,
``make evaluate``, ``make bench-discovery``). Here, not in the domain package: it loads Rasa."""

from __future__ import annotations

from typing import Optional

from buergerassistent.procedure_finder import intent_of


class NluModel:
    """The trained Rasa model's NLU, for batch use outside the Rasa server."""

    def __init__(self, model_path) -> None:
        import asyncio
        import logging

        from rasa.core.agent import Agent
        from rasa.utils.log_utils import configure_structlog

        # Unconfigured, Rasa's structlog prints every parse at debug level, with the message
        # text: batch runs over citizens' phrasings must not write them out.
        configure_structlog(logging.WARNING)
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))

    def intent(self, text: str) -> tuple[Optional[str], float]:
        return intent_of(self._loop.run_until_complete(self._agent.parse_message(text)))
