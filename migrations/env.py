"""Alembic's environment for every store (buergerassistent/migrations.py): the store and its
model come from the ``Config``'s attributes (``storage.create_tables``) or from the ini section
(``alembic -n <store>``, the model from bot/schema.py)."""

from __future__ import annotations

from alembic import context

from buergerassistent import migrations, storage

config = context.config
store = config.attributes.get("store") or config.config_ini_section
metadata = config.attributes.get("metadata")
if metadata is None:
    from bot import schema

    metadata = schema.metadata_of(store)
# SQLite cannot ALTER most things: later revisions change its tables by copying them (batch).
options = {"target_metadata": metadata, "render_as_batch": True, **migrations.options(metadata)}


def run(connection) -> None:
    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    from bot import schema

    context.configure(url=schema.url_of(store), literal_binds=True, **options)
    with context.begin_transaction():
        context.run_migrations()
elif config.attributes.get("connection") is not None:
    run(config.attributes["connection"])
else:
    # The alembic command line: the store's database from the settings, under the schema lock.
    from bot import schema

    engine = storage.make_engine(schema.url_of(store))
    try:
        with storage.schema_lock(engine) as connection:
            run(connection)
    finally:
        engine.dispose()
