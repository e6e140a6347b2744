"""Telegram input channel (``rasa_runtime.channels.telegram.channel.TelegramChannel``)."""
