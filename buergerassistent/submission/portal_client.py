"""Client of the portal backend (the one adapter for that external system).

Contract: ``portal_backend/openapi.yaml``. Transient failures (connection errors, timeouts,
HTTP 5xx/429) are retried with backoff; what is still failing becomes ``PortalUnavailable``.
Validation errors become ``PortalRejected`` with the fields the citizen must fix.

Authentication: every API request carries the assistant's service token
(``Authorization: Bearer $PORTAL_API_TOKEN``). A request for a citizen (list, postbox, an
application linked to the account, withdrawal of one) also carries a short-lived citizen
assertion (``buergerassistent/citizen_assertion.py``, key ``PORTAL_CITIZEN_KEY``); callers pass the bPK2
only of a citizen the login service established for their conversation.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Optional

import aiohttp

from buergerassistent import citizen_assertion, logs
from buergerassistent.settings import get_settings

DEFAULT_URL = "http://localhost:8080"

logger = logging.getLogger(__name__)


class PortalError(Exception):
    pass


class PortalUnavailable(PortalError):
    """The backend could not be reached or answered with a server error."""


@dataclass
class PortalRejected(PortalError):
    """The backend refused the request; ``fields`` maps field names to German messages.

    For a submission the keys are the procedure's form fields (= Rasa slot names), so the chat
    can ask again for exactly those; envelope errors use ``procedure``, ``data``,
    ``idempotency_key`` or ``citizen`` (see openapi.yaml).
    """

    message: str
    fields: dict[str, str] = field(default_factory=dict)
    error: str = ""

    def fields_of(self, names) -> dict[str, str]:
        """The rejected fields among ``names`` (e.g. the form's fields), in that order."""
        return {n: self.fields[n] for n in names if n in self.fields}

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
    base_url: str = field(default_factory=lambda: get_settings().portal_backend_url or DEFAULT_URL)
    timeout_s: float = field(default_factory=lambda: float(get_settings().portal_timeout_s))
    attempts: int = field(default_factory=lambda: int(get_settings().portal_attempts))
    backoff_s: float = 0.2
    api_token: str = field(default_factory=lambda: (get_settings().portal_api_token or "").strip(), repr=False)

    def _headers(self, citizen: Optional[str]) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.api_token}"} if self.api_token else {}
        # The bPK2 travels only inside a signed assertion, never in the URL (access logs).
        try:
            headers.update(citizen_assertion.headers_for(citizen))
        except citizen_assertion.InvalidAssertion:
            # PORTAL_CITIZEN_KEY missing: a configuration error; retried like an outage so
            # that nothing is refused for good (the outbox keeps the application).
            logger.error("cannot assert the citizen: %s is not set", citizen_assertion.KEY_ENV)
            raise PortalUnavailable("citizen assertion key missing") from None
        headers.update(logs.headers())  # the message's request id (buergerassistent/logs.py)
        return headers

    async def _request(
        self, method: str, path: str, json: Any = None, citizen: Optional[str] = None
    ) -> tuple[int, Any]:
        url = self.base_url.rstrip("/") + path
        timeout = aiohttp.ClientTimeout(total=self.timeout_s)
        last_error: Optional[BaseException] = None
        for attempt in range(self.attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    # A fresh assertion per attempt: a retry after a pause must not expire.
                    headers = self._headers(citizen)
                    async with session.request(method, url, json=json, headers=headers) as resp:
                        try:
                            body = await resp.json(content_type=None)
                        except ValueError:
                            body = None
                        if resp.status == 401:
                            logger.error("portal backend refused the service token (HTTP 401): check PORTAL_API_TOKEN")
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
        status, body = await self._request("POST", "/api/v1/applications", json=payload, citizen=citizen)
        if status in (200, 201) and isinstance(body, dict) and body.get("case_number"):
            return Receipt(
                case_number=body["case_number"],
                status=body.get("status", ""),
                received_at=body.get("received_at", ""),
                procedure=body.get("procedure", procedure),
            )
        raise self._rejected_or_unavailable(status, body)

    @staticmethod
    def _rejected_or_unavailable(status: int, body: Any) -> PortalError:
        # 401: our own service token is missing or wrong (a configuration error, not the
        # citizen's): retried like an outage, so that a fixed configuration delivers it.
        if status in (400, 403, 404, 409, 422) and isinstance(body, dict):
            return PortalRejected(
                message=str(body.get("message") or "Der Antrag wurde nicht angenommen."),
                fields={str(k): str(v) for k, v in (body.get("fields") or {}).items()},
                error=str(body.get("error") or ""),
            )
        return PortalUnavailable(f"unexpected answer HTTP {status}")

    async def status_history(self, case_number: str) -> Optional[dict]:
        """``{case_number, procedure, status, history: [{status, at, note}]}`` or ``None``.

        Reads any application by case number (the service may): callers decide whether the
        conversation may see it (``actions/submission_actions.py``)."""
        status, body = await self._request("GET", f"/api/v1/applications/{case_number}/history")
        if status == 404:
            return None
        if status == 200 and isinstance(body, dict):
            return body
        raise self._rejected_or_unavailable(status, body)

    async def list_applications(self, citizen: str) -> list[dict]:
        """The citizen's applications (bPK2 from the login), newest first."""
        status, body = await self._request("GET", "/api/v1/applications", citizen=citizen)
        if status == 200 and isinstance(body, dict):
            return list(body.get("applications") or [])
        raise self._rejected_or_unavailable(status, body)

    async def postbox(self, citizen: str) -> list[dict]:
        status, body = await self._request("GET", "/api/v1/postbox", citizen=citizen)
        if status == 200 and isinstance(body, dict):
            return list(body.get("messages") or [])
        raise self._rejected_or_unavailable(status, body)

    async def withdraw(
        self, case_number: str, idempotency_key: Optional[str] = None, citizen: Optional[str] = None
    ) -> dict:
        """Withdraws; proof is the bPK2 (after login) or the submission's idempotency key.

        Raises ``PortalRejected`` (error ``not_withdrawable``, ``status_final``, ``forbidden``,
        ``not_found``) or ``PortalUnavailable``. Retrying is safe: a second withdrawal of the
        same application is ``status_final``.
        """
        payload = {"idempotency_key": idempotency_key} if idempotency_key else {}
        status, body = await self._request(
            "POST", f"/api/v1/applications/{case_number}/withdrawal", json=payload, citizen=citizen
        )
        if status == 200 and isinstance(body, dict):
            return body
        raise self._rejected_or_unavailable(status, body)
