"""Each messenger channel is started only with all its settings (bot/settings.py: credentials),
and its secrets never end up in the credentials file Rasa reads."""

from __future__ import annotations

import yaml

from bot.local_stack import local_settings
from bot.settings import MESSENGER_CHANNELS, credentials

TELEGRAM = "rasa_runtime.channels.telegram.channel.TelegramChannel"
THREEMA = "rasa_runtime.channels.threema.channel.ThreemaChannel"
ALL = {
    "TELEGRAM_BOT_TOKEN": "1:tg-Zr4nd0m",
    "TELEGRAM_WEBHOOK_SECRET": "tg-secret-Zr4nd0m",
    "THREEMA_GATEWAY_ID": "*BUERGER",
    "THREEMA_API_SECRET": "th-secret-Zr4nd0m",
    "THREEMA_PRIVATE_KEY": "private:" + "ab" * 32,
}


def test_no_messenger_without_settings(tmp_path, monkeypatch):
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    channels = credentials(local_settings(tmp_path))
    assert not set(MESSENGER_CHANNELS) & set(channels)


def test_each_messenger_needs_all_its_settings(tmp_path, monkeypatch):
    for name, value in ALL.items():
        monkeypatch.setenv(name, value)
    channels = credentials(local_settings(tmp_path))
    assert TELEGRAM in channels and THREEMA in channels
    dumped = yaml.safe_dump(channels)
    assert "Zr4nd0m" not in dumped and "abab" not in dumped
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    monkeypatch.delenv("THREEMA_PRIVATE_KEY")
    channels = credentials(local_settings(tmp_path))
    assert TELEGRAM not in channels and THREEMA not in channels


def test_a_stacks_own_environment_switches_a_messenger_on(tmp_path, monkeypatch):
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    extra = {k: v for k, v in ALL.items() if k.startswith("TELEGRAM")}
    channels = credentials(local_settings(tmp_path), extra_env=extra)
    assert TELEGRAM in channels and THREEMA not in channels
