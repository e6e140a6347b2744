"""Adapter interface to the system that receives applications.

``SUBMISSION_BACKEND`` selects it:

* ``reference`` (default): the portal backend of this repository, or any portal backend that
  implements ``portal_backend/openapi.yaml`` (set ``PORTAL_BACKEND_URL``).
* ``fit-connect``: the federal FIT-Connect submission route. Not implemented yet; what it needs
  is written down in ``docs/fit-connect.md``. Selecting it fails at start-up with that pointer,
  never silently.
* ``package.module:ClassName``: any class that implements :class:`SubmissionBackend`
  (constructed without arguments; it reads its own settings from the environment).

Contract for every adapter: ``submit`` is idempotent per ``idempotency_key`` (the same key
must never create a second application), raises ``PortalUnavailable`` for anything worth
retrying and ``PortalRejected`` (with form field names) for a final refusal.
``status_history`` gives ``{case_number, procedure, status, history: [{status, at, note}]}``
(oldest first; the first entry is the status at receipt) or ``None`` for an unknown case
number; the delivery worker polls it for status messages (``delivery_worker/status.py``).
"""

from __future__ import annotations

import importlib
from typing import Optional, Protocol, runtime_checkable

from buergerassistent.settings import get_settings
from buergerassistent.submission.portal_client import PortalClient, Receipt


@runtime_checkable
class SubmissionBackend(Protocol):
    name: str

    async def submit(
        self,
        procedure: str,
        data: dict[str, str],
        idempotency_key: str,
        citizen: Optional[str] = None,
    ) -> Receipt: ...

    async def status_history(self, case_number: str) -> Optional[dict]: ...


class ReferencePortalBackend:
    """The portal backend API of ``portal_backend/openapi.yaml`` over HTTP."""

    name = "reference"

    def __init__(self, client: Optional[PortalClient] = None):
        self.client = client or PortalClient()

    async def submit(self, procedure, data, idempotency_key, citizen=None) -> Receipt:
        return await self.client.submit(procedure, data, idempotency_key, citizen)

    async def status_history(self, case_number: str) -> Optional[dict]:
        return await self.client.status_history(case_number)


class BackendNotAvailable(RuntimeError):
    pass


def backend_from_env(setting: Optional[str] = None) -> SubmissionBackend:
    choice = (setting or get_settings().submission_backend or "reference").strip()
    if choice == "reference":
        return ReferencePortalBackend()
    if choice in ("fit-connect", "fitconnect"):
        raise BackendNotAvailable(
            "SUBMISSION_BACKEND=fit-connect: the FIT-Connect adapter is not implemented yet; "
            "see docs/fit-connect.md for what it needs"
        )
    if ":" in choice:
        module_name, _, class_name = choice.partition(":")
        backend = getattr(importlib.import_module(module_name), class_name)()
        if not isinstance(backend, SubmissionBackend):
            raise BackendNotAvailable(f"{choice} does not implement SubmissionBackend")
        return backend
    raise BackendNotAvailable(f"unknown SUBMISSION_BACKEND {choice!r}")
