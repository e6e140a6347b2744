"""Debian's headless Chromium as every browser test starts it (Playwright, no browser download)."""

from __future__ import annotations

from bot.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET = REPO_ROOT / "webchat" / "dist" / "buergerassistent-chat.js"
