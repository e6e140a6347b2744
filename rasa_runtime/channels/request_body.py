"""A webhook's body, read no further than a limit (REST, Telegram, Threema, and Matrix through REST).

The declared Content-Length is checked first, then the streamed body as it arrives, so a sender
that lies about the length or sends no length at all still cannot make us hold more than the limit.
"""

from __future__ import annotations

from typing import Optional

from sanic.request import Request


async def read_limited(request: Request, limit: int) -> Optional[bytes]:
    """The body, or None when it is larger than ``limit`` bytes (read no further than that).
    The route must be registered with ``stream=True``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return bytes(body)
        body.extend(chunk)
        if len(body) > limit:
            return None
