"""REST channel for development and tests (``POST /webhooks/rest/webhook``), with a token.

Added to the channels Rasa starts with only when ``REST_CHANNEL_TOKEN`` is set (bot/settings.py
``credentials()``); see ``rasa_runtime/channels/rest/channel.py``.
"""
