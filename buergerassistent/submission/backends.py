"""Adapter interface to the system that receives applications.

``SUBMISSION_BACKEND`` selects it:

* ``reference`` (default): the portal backend of this repository, or any portal backend that
  implements ``portal_backend/openapi.yaml`` (set ``PORTAL_BACKEND_URL``).
* ``fit-connect``: the federal FIT-Connect submission route for every procedure
  (``buergerassistent/submission/fit_connect.py``, operator's guide ``docs/fit-connect.md``),
  except the entries that declare ``submission_route: portal`` (the call-back request: a request
  to the portal's own staff, not an application to an authority): those go to the reference
  backend (``PORTAL_BACKEND_URL``).
* ``reference`` with ``FITCONNECT_PROCEDURES=a,b``: those procedures over FIT-Connect, the
  others to the reference backend (per-procedure switch). Each listed procedure must have a
  LeiKa key and a complete FIM mapping and must not be a ``submission_route: portal`` entry,
  else the start fails with the reason.
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
    """Each application to one of two backends: the listed procedures over FIT-Connect and the
    rest to the reference backend (``FITCONNECT_PROCEDURES``), or – ``fit_connect_default`` –
    everything over FIT-Connect except the listed ones (``submission_route: portal``)."""

    def __init__(
        self,
        reference: SubmissionBackend,
        fit_connect: SubmissionBackend,
        procedures: set[str],
        fit_connect_default: bool = False,
    ):
        self.reference, self.fit_connect, self.procedures = reference, fit_connect, procedures
        self.fit_connect_default = fit_connect_default
        self.name = "fit-connect+reference" if fit_connect_default else "reference+fit-connect"

    def backend_for(self, procedure: str) -> SubmissionBackend:
        listed = procedure in self.procedures
        return self.fit_connect if listed != self.fit_connect_default else self.reference

    async def submit(self, procedure, data, idempotency_key, citizen=None) -> Receipt:
        return await self.backend_for(procedure).submit(procedure, data, idempotency_key, citizen)

    async def status_history(self, case_number: str) -> Optional[dict]:
        # FIT-Connect case ids are UUIDs known to our own table (no request for others); the
        # reference backend's numbers look like BA-2026-….
        found = await self.fit_connect.status_history(case_number)
        return found if found is not None else await self.reference.status_history(case_number)


@lru_cache(maxsize=1)
def portal_procedures() -> frozenset[str]:
    """Entries that always go to the portal backend (``submission_route: portal``): catalogue
    procedures and the requests of ``catalogue/requests/`` (the call-back request)."""
    from buergerassistent.catalogue import CATALOGUE_DIR, default_catalogue, load_file

    requests = [load_file(path) for path in sorted((CATALOGUE_DIR / "requests").glob("*.yaml"))]
    return frozenset(p.id for p in [*default_catalogue(), *requests] if p.submission_route == "portal")


class BackendNotAvailable(RuntimeError):
    pass


def backend_from_env(setting: Optional[str] = None) -> SubmissionBackend:
    choice = (setting or get_settings().submission_backend or "reference").strip()
    if choice == "reference":
        listed = {p.strip() for p in (get_settings().fitconnect_procedures or "").split(",") if p.strip()}
        if not listed:
            return ReferencePortalBackend()
        portal = portal_procedures()
        for procedure in sorted(listed & portal):
            raise BackendNotAvailable(
                f"FITCONNECT_PROCEDURES: {procedure} is a request to the portal's own staff "
                "(submission_route: portal), it never goes over FIT-Connect"
            )
        fit = _fit_connect()
        for procedure in sorted(listed):
            try:
                fit.check_procedure(procedure)
            except ValueError as exc:
                raise BackendNotAvailable(f"FITCONNECT_PROCEDURES: {exc}") from None
        return PerProcedureBackend(ReferencePortalBackend(), fit, listed)
    if choice in ("fit-connect", "fitconnect"):
        # Applications go to authorities over FIT-Connect; requests to the portal's own staff
        # (the call-back request) have no authority there and go to the portal backend.
        return PerProcedureBackend(ReferencePortalBackend(), _fit_connect(), set(portal_procedures()), True)
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
