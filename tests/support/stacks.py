"""The whole stack for a test: five processes (portal backend, action server, delivery worker,
login service, Rasa with the cached model) on free ports, with their own SQLite files in
``var_dir`` (``bot/stack.py``, ``bot/local_stack.py``). Every package that needs a stack starts
it here; its fixtures only choose the options."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.local_stack import local_settings
from bot.stack import Stack, free_port  # noqa: F401 (free_port: the one of the tests too)
from bot.training import ensure_model


def start_stack(
    var_dir: Path,
    *,
    login_required: bool = False,
    env: dict[str, str] | None = None,
    cors_origins: tuple[str, ...] = (),
    timeout: float = 240,
    **settings,
) -> Stack:
    """Start a stack and wait until every service is healthy.

    ``login_required``: whether applications need a login (these stacks have no IdP unless
    ``env`` names one); ``env``: more environment for every service; ``settings``: overrides of
    ``bot.local_stack.local_settings`` (e.g. ``rest_channel_token=None``: no REST channel)."""
    stack = Stack(local_settings(var_dir, **settings), ensure_model(quiet=True), cors_origins=list(cors_origins))
    stack.extra_env = {"BA_LOGIN_REQUIRED": "1" if login_required else "0", **(env or {})}
    stack.start(timeout=timeout, progress=lambda _msg: None)
    return stack


@contextmanager
def running_stack(var_dir: Path, **options) -> Iterator[Stack]:
    """``start_stack`` for a fixture: ``with running_stack(tmp) as stack: yield stack``."""
    stack = start_stack(var_dir, **options)
    try:
        yield stack
    finally:
        stack.stop()
