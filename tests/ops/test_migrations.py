"""Real schema migrations (issue 18): every store's tables come from its Alembic revisions
(buergerassistent/migrations.py, migrations/), and the models match the migrated schema.

Three starting points, each migrated as the migration Job does it (``python -m bot.container
migrate``, twice): an EMPTY database, a database that today's ``create_all`` made before there
were migrations (it is stamped, its rows stay), and the ``alembic`` command line an operator or a
developer uses. After each, Alembic's autogenerate comparison finds no difference between a
store's model and its tables. On PostgreSQL (all stores in one database, as compose has it) and
on SQLite files (one per store, as ``make run`` has it).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bot import schema
from buergerassistent import drafts, migrations

REPO = Path(__file__).resolve().parents[2]

# The setting that names each store's database (outbox and FIT-Connect share one).
URL_VARIABLE = {
    "portal": "PORTAL_DATABASE_URL",
    "outbox": "OUTBOX_DATABASE_URL",
    "fitconnect": "OUTBOX_DATABASE_URL",
    "identity": "BA_IDENTITY_DATABASE_URL",
    "drafts": "BA_DRAFTS_DATABASE_URL",
    "privacy": "BA_PRIVACY_DATABASE_URL",
    "handoff": "HANDOFF_DATABASE_URL",
    "insights": "INSIGHTS_DATABASE_URL",
}


@pytest.fixture(params=["postgresql", "sqlite"])
def urls(request, tmp_path):
    """store -> URL: one fresh PostgreSQL schema shared by all stores, or a SQLite file each."""
    if request.param == "sqlite":
        yield {store: f"sqlite:///{tmp_path / (URL_VARIABLE[store].lower() + '.db')}" for store in URL_VARIABLE}
        return
    base = os.environ.get("DATABASE_URL")
    if not base or make_url(base).get_backend_name() != "postgresql":
        pytest.skip("PostgreSQL variant skipped: DATABASE_URL is not a PostgreSQL URL")
    from support.databases import postgres_schema

    with postgres_schema(make_url(base), "migrations_test") as url:
        rendered = url.render_as_string(hide_password=False)
        yield dict.fromkeys(URL_VARIABLE, rendered)


def _environment(tmp_path, urls: dict[str, str]) -> dict[str, str]:
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "BA_VAR_DIR": str(tmp_path / "var"),
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        **{URL_VARIABLE[store]: url for store, url in urls.items()},
    }


def _migrate_job(tmp_path, urls: dict[str, str]) -> str:
    output = ""
    for _ in range(2):  # the next release's Job finds everything at head and changes nothing
        result = subprocess.run(
            [sys.executable, "-m", "bot.container", "migrate"],
            cwd=REPO,
            env=_environment(tmp_path, urls),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        output += result.stdout
    return output


def _state(url: str, store: str) -> tuple[str | None, list]:
    engine = sa.create_engine(url, future=True)
    try:
        with engine.connect() as conn:
            return migrations.current(conn, store), migrations.differences(conn, schema.metadata_of(store))
    finally:
        engine.dispose()


def _assert_at_head_without_differences(urls: dict[str, str]) -> None:
    for store, url in urls.items():
        revision, differences = _state(url, store)
        assert revision == migrations.head(store), store
        assert differences == [], (store, differences)


def test_an_empty_database_is_migrated_to_the_models(tmp_path, urls):
    output = _migrate_job(tmp_path, urls)
    _assert_at_head_without_differences(urls)
    for store in urls:
        assert f"{store}: Schema auf Stand {migrations.head(store)}" in output


def test_a_schema_made_by_create_all_is_stamped_and_keeps_its_rows(tmp_path, urls):
    """Databases of installations from before the migrations: ``create_all`` of today's models
    (that is what every service ran at start). While the first revision is the head, this is the
    same schema; from the second revision on, build it from the first revision's tables here."""
    for store, url in urls.items():
        engine = sa.create_engine(url, future=True)
        try:
            schema.metadata_of(store).create_all(engine)
        finally:
            engine.dispose()
    engine = sa.create_engine(urls["drafts"], future=True)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(drafts.drafts).values(
                    conversation_id="c-1", procedure="meldebescheinigung", data="{}", updated_at=1.0
                )
            )
    finally:
        engine.dispose()
    assert all(_state(url, store)[0] is None for store, url in urls.items())

    _migrate_job(tmp_path, urls)

    _assert_at_head_without_differences(urls)
    engine = sa.create_engine(urls["drafts"], future=True)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.select(drafts.drafts.c.conversation_id)).scalars().all() == ["c-1"]
    finally:
        engine.dispose()


def test_the_alembic_command_line_migrates_and_checks_a_store(tmp_path, urls):
    """What docs/operations.md tells operators: ``alembic -n <store> upgrade head`` / ``check``."""
    env = _environment(tmp_path, urls)
    alembic = [sys.executable, "-m", "alembic", "-c", str(REPO / "alembic.ini")]
    for store in ("portal", "drafts"):
        for command in (["upgrade", "head"], ["current"], ["check"]):
            result = subprocess.run(
                [*alembic, "-n", store, *command], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
            )
            assert result.returncode == 0, (store, command, result.stderr[-2000:])
        assert _state(urls[store], store) == (migrations.head(store), [])


def test_a_model_change_without_a_revision_is_found(tmp_path, urls):
    """The comparison can fail: a column the revisions do not create is a difference."""
    _migrate_job(tmp_path, urls)
    engine = sa.create_engine(urls["drafts"], future=True)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f"ALTER TABLE {drafts.drafts.name} ADD COLUMN channel VARCHAR(20)"))
        with engine.connect() as conn:
            differences = migrations.differences(conn, drafts.metadata)
    finally:
        engine.dispose()
    assert [d[0] for d in differences] == ["remove_column"], differences
    # The other stores in the same database are not reported for it.
    assert _state(urls["portal"], "portal") == (migrations.head("portal"), [])


def test_every_store_has_one_lineage_starting_empty():
    assert set(schema.STORES) == set(URL_VARIABLE)
    for store in schema.STORES:
        metadata = schema.metadata_of(store)
        assert metadata.info["store"] == store
        assert migrations.baseline(store) == f"{store}_0001"
        assert migrations.head(store)
        assert (REPO / "alembic.ini").read_text().count(f"[{store}]") == 1
