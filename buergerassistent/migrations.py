"""Schema migrations of our own databases (Alembic, issue 18): one lineage per store.

Each store declares its tables once, as a ``MetaData(info={"store": <name>})`` in its module;
``bot/schema.py`` lists them. A store's revisions are in ``migrations/versions/<name>/`` (the
Alembic environment is ``migrations/`` at the repository root), its applied revision in the table
``alembic_version_<name>``; so a store can have a database of its own or share one with other
stores (compose puts the portal backend, outbox, identities, drafts, … into one database).

``storage.create_tables`` (every service at start, and ``python -m bot.container migrate``, the
migration Job) runs ``upgrade(connection, metadata)`` under the schema lock:

* empty database: the revisions create the tables;
* tables made by ``create_all`` before there were migrations (no version table, tables there):
  they are today's schema, the first revision; it is stamped, the later revisions run;
* at head: nothing happens.

A schema change is a new revision, never an edit of an applied one:
``alembic -n <store> revision --autogenerate -m "…"`` (``alembic.ini`` names every store; the
database is the store's setting, e.g. ``BA_DRAFTS_DATABASE_URL``).
``tests/ops/test_migrations.py`` fails while a model and its revisions differ.

Rasa's tracker store (table ``events``) is not ours: Rasa creates and changes it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import Connection

SCRIPT_LOCATION = Path(__file__).resolve().parent.parent / "migrations"


def version_table(store: str) -> str:
    return f"alembic_version_{store}"


def config(store: str, connection: Connection | None = None, metadata: MetaData | None = None):
    """An Alembic ``Config`` for one store, without an ini file (migrations/env.py reads the
    attributes)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    cfg.set_main_option("version_locations", str(SCRIPT_LOCATION / "versions" / store))
    cfg.attributes["store"] = store
    cfg.attributes["connection"] = connection
    cfg.attributes["metadata"] = metadata
    return cfg


@cache
def _script(store: str):
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(config(store))


def head(store: str) -> str:
    return _script(store).get_current_head()


def baseline(store: str) -> str:
    """The first revision: the schema ``create_all`` made before there were migrations."""
    return _script(store).get_base()


def current(connection: Connection, store: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": version_table(store)})
    return context.get_current_revision()


def upgrade(connection: Connection, metadata: MetaData) -> None:
    """Bring the store of ``metadata`` to its newest revision on ``connection`` (inside the
    caller's transaction and lock; see ``storage.create_tables``)."""
    from alembic import command

    store = metadata.info["store"]
    revision = current(connection, store)
    if revision == head(store):
        return
    cfg = config(store, connection, metadata)
    if revision is None and set(inspect(connection).get_table_names()) & set(metadata.tables):
        # Made by create_all before migrations existed: that schema is the first revision.
        command.stamp(cfg, baseline(store))
    command.upgrade(cfg, "head")


def include_name(metadata: MetaData):
    """Only this store's tables: other stores (and their version tables) may share the database."""

    def include(name, type_, parent_names):
        if type_ == "table":
            return name in metadata.tables
        return True

    return include


def options(metadata: MetaData) -> dict:
    """How Alembic compares ``metadata`` with a database (migrations/env.py and ``differences``)."""
    return {
        "version_table": version_table(metadata.info["store"]),
        "include_name": include_name(metadata),
        "compare_type": True,
        "compare_server_default": True,
    }


def differences(connection: Connection, metadata: MetaData) -> list:
    """What Alembic's autogenerate finds between the store's model and the database ([] = none)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts=options(metadata))
    return compare_metadata(context, metadata)
