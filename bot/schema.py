"""Our stores with migrations (buergerassistent/migrations.py): where each declares its tables
and which setting names its database. The launcher's list, because the portal backend is an
edge the domain must not import."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

# store -> (module that declares its ``metadata``, "module:function" that gives its URL)
STORES: dict[str, tuple[str, str]] = {
    "portal": ("portal_backend.db", "portal_backend.db:database_url_from_env"),
    "outbox": ("buergerassistent.submission.outbox", "buergerassistent.submission.outbox:default_url"),
    # FIT-Connect's idempotency table lives in the outbox's database.
    "fitconnect": ("buergerassistent.submission.fit_connect", "buergerassistent.submission.outbox:default_url"),
    "identity": ("buergerassistent.identity", "buergerassistent.identity:database_url"),
    "drafts": ("buergerassistent.drafts", "buergerassistent.drafts:database_url"),
    "privacy": ("buergerassistent.privacy", "buergerassistent.privacy:database_url"),
    "handoff": ("buergerassistent.handoff.store", "buergerassistent.handoff.store:database_url"),
    "insights": ("buergerassistent.insights", "buergerassistent.insights:database_url"),
}

# Stores of services that are not part of every deployment: the migration Job migrates them only
# when their database is set (the service itself migrates its store at start either way).
OPTIONAL = {"insights": "insights_database_url"}


def configured(store: str) -> bool:
    from buergerassistent.settings import get_settings

    return store not in OPTIONAL or bool(getattr(get_settings(), OPTIONAL[store]))


def metadata_of(store: str) -> MetaData:
    metadata = importlib.import_module(STORES[store][0]).metadata
    if metadata.info.get("store") != store:
        raise RuntimeError(f"{STORES[store][0]}.metadata is not marked as store {store!r}")
    return metadata


def url_of(store: str) -> str:
    module, function = STORES[store][1].split(":")
    return getattr(importlib.import_module(module), function)()
