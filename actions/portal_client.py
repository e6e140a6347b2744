"""Client of the portal backend (the one adapter for that external system).

Contract: ``portal_backend/openapi.yaml``. Transient failures (connection errors, timeouts,
HTTP 5xx/429) are retried with backoff; what is still failing becomes ``PortalUnavailable``.
Validation errors become ``PortalRejected`` with the fields the citizen must fix.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp

DEFAULT_URL = "http://localhost:8080"


class PortalError(Exception):
    pass


class PortalUnavailable(PortalError):
    """The backend could not be reached or answered with a server error."""


@dataclass
class PortalRejected(PortalError):
    """The backend refused the application; ``fields`` maps field names to German messages."""

    message: str
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:  # never includes submitted values
        return f"rejected: {sorted(self.fields)}"


@dataclass(frozen=True)
class Receipt:
    case_number: str
    status: str
    received_at: str
    procedure: str


@dataclass
class PortalClient:
    base_url: str = field(default_factory=lambda: os.environ.get("PORTAL_BACKEND_URL", DEFAULT_URL))
    timeout_s: float = float(os.environ.get("PORTAL_TIMEOUT_S", "5"))
    attempts: int = int(os.environ.get("PORTAL_ATTEMPTS", "3"))
    backoff_s: float = 0.2

    async def _request(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        url = self.base_url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        last_error: Optional[BaseException] = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.request(method, url, json=json) as resp:
                        try:
                            body = await resp.json(content_type=None)
                        except ValueError:
                            body = None
                        if resp.status >= 500 or resp.status == 429:
                            last_error = PortalUnavailable(f"HTTP {resp.status}")
                            continue
                        return resp.status, body
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last_error = exc
        raise PortalUnavailable(str(last_error)) from last_error

    async def submit(
        self,
        procedure: str,
        data: dict[str, str],
        idempotency_key: str,
        citizen: Optional[str] = None,
    ) -> Receipt:
        payload = {"procedure": procedure, "data": data, "idempotency_key": idempotency_key}
        if citizen:
            payload["citizen"] = citizen
        status, body = await self._request("POST", "/api/v1/applications", json=payload)
        if status in (200, 201) and isinstance(body, dict) and body.get("case_number"):
            return Receipt(
                case_number=body["case_number"],
                status=body.get("status", ""),
                received_at=body.get("received_at", ""),
                procedure=body.get("procedure", procedure),
            )
        if status in (400, 409, 422) and isinstance(body, dict):
            raise PortalRejected(
                message=str(body.get("message") or "Der Antrag wurde nicht angenommen."),
                fields={str(k): str(v) for k, v in (body.get("fields") or {}).items()},
            )
        raise PortalUnavailable(f"unexpected answer HTTP {status}")

    async def get_application(self, case_number: str) -> Optional[dict]:
        status, body = await self._request("GET", f"/api/v1/applications/{case_number}")
        if status == 404:
            return None
        if status == 200 and isinstance(body, dict):
            return body
        raise PortalUnavailable(f"unexpected answer HTTP {status}")
