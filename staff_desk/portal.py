"""The staff desk reads call-back requests from the portal backend like the authority reads any
application: ``GET /api/v1/applications/{case_number}`` with ``PORTAL_AUTHORITY_TOKEN``
(issue 19). The desk asks only for case numbers of call-back requests it was told about
(``handoff_callback_notices``), and only when a member of staff asks (audited first)."""

from __future__ import annotations

import logging
from typing import Any, Optional
from urllib.parse import quote

import aiohttp

logger = logging.getLogger(__name__)


class PortalUnreachable(RuntimeError):
    pass


class AuthorityPortal:
    def __init__(self, base_url: str, token: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    async def application(self, case_number: str) -> Optional[dict[str, Any]]:
        """The application (``case_number``, ``procedure``, ``received_at``, ``data`` …) or None."""
        url = f"{self.base_url}/api/v1/applications/{quote(case_number, safe='')}"
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s)) as session:
                async with session.get(url, headers={"Authorization": f"Bearer {self.token}"}) as resp:
                    if resp.status == 404:
                        return None
                    if resp.status != 200:
                        logger.warning("portal backend answered HTTP %s", resp.status)
                        raise PortalUnreachable(f"HTTP {resp.status}")
                    return await resp.json()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PortalUnreachable(type(exc).__name__) from exc
