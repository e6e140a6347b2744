"""Adapter interface to the system that receives applications.

``SUBMISSION_BACKEND`` selects it:

* ``reference`` (default): the portal backend of this repository, or any portal backend that
  implements ``portal_backend/openapi.yaml`` (set ``PORTAL_BACKEND_URL``).
* ``fit-connect``: the federal FIT-Connect submission route for every procedure
  (``buergerassistent/submission/fit_connect.py``, operator's guide ``docs/fit-connect.md``).
* ``reference`` with ``FITCONNECT_PROCEDURES=a,b``: those procedures over FIT-Connect, the
  others to the reference backend (per-procedure switch). Each listed procedure must have a
  LeiKa key and a complete FIM mapping, else the start fails with the reason.
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
from functools import lru_cache
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


class PerProcedureBackend:
    """Some procedures over FIT-Connect (``FITCONNECT_PROCEDURES``), the rest elsewhere."""

    name = "reference+fit-connect"

    def __init__(self, default: SubmissionBackend, fit_connect: SubmissionBackend, procedures: set[str]):
        self.default, self.fit_connect, self.procedures = default, fit_connect, procedures

    async def submit(self, procedure, data, idempotency_key, citizen=None) -> Receipt:
        backend = self.fit_connect if procedure in self.procedures else self.default
        return await backend.submit(procedure, data, idempotency_key, citizen)

    async def status_history(self, case_number: str) -> Optional[dict]:
        # FIT-Connect case ids are UUIDs; the reference backend's numbers look like BA-2026-….
        found = await self.fit_connect.status_history(case_number)
        return found if found is not None else await self.default.status_history(case_number)


class BackendNotAvailable(RuntimeError):
    pass


def backend_from_env(setting: Optional[str] = None) -> SubmissionBackend:
    choice = (setting or get_settings().submission_backend or "reference").strip()
    if choice == "reference":
        listed = {p.strip() for p in (get_settings().fitconnect_procedures or "").split(",") if p.strip()}
        if not listed:
            return ReferencePortalBackend()
        fit = _fit_connect()
        for procedure in sorted(listed):
            try:
                fit.check_procedure(procedure)
            except ValueError as exc:
                raise BackendNotAvailable(f"FITCONNECT_PROCEDURES: {exc}") from None
        return PerProcedureBackend(ReferencePortalBackend(), fit, listed)
    if choice in ("fit-connect", "fitconnect"):
        return _fit_connect()
    if ":" in choice:
        module_name, _, class_name = choice.partition(":")
        backend = getattr(importlib.import_module(module_name), class_name)()
        if not isinstance(backend, SubmissionBackend):
            raise BackendNotAvailable(f"{choice} does not implement SubmissionBackend")
        return backend
    raise BackendNotAvailable(f"unknown SUBMISSION_BACKEND {choice!r}")


def _fit_connect():
    settings = get_settings()
    key = tuple(
        str(getattr(settings, name))
        for name in sorted(type(settings).__fields__)
        if name.startswith("fitconnect_") or name in ("outbox_database_url", "ba_var_dir")
    )
    return _fit_connect_for(key)


@lru_cache(maxsize=4)
def _fit_connect_for(settings_key: tuple):
    """One backend (token cache, database engine) per process and configuration."""
    from buergerassistent.submission.fit_connect import FitConnectBackend

    try:
        return FitConnectBackend()
    except ValueError as exc:
        raise BackendNotAvailable(str(exc)) from None
