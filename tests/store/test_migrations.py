"""The Alembic chain: one head, and on both databases the migrated schema equals the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text

from tracker_server.store import migrate
from tracker_server.store.engine import Database
from tracker_server.store.schema import EXTERNAL_STORAGE_COLUMNS, metadata


def test_the_chain_has_a_single_head_and_dated_named_files() -> None:
    script = ScriptDirectory(str(migrate.migrations_dir()))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        name = revision.path.rsplit("/", 1)[-1]
        assert name[:11].replace("_", "").isdigit(), name  # YYYY_MM_DD_ prefix
        assert revision.doc and revision.doc.strip().lower() != "empty message"


def test_migrated_schema_equals_the_models(db: Database) -> None:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": False}
        )
        assert compare_metadata(context, metadata) == []
    assert migrate.current_revision(db) == migrate.head_revision()
    migrate.check_current(db)


def test_upgrade_is_idempotent(db: Database) -> None:
    head = migrate.head_revision()
    assert migrate.upgrade(db) == (head, head)


def test_chunk_arrays_are_stored_uncompressed_on_postgresql(db: Database) -> None:
    if not db.is_postgres:
        return
    with db.read() as conn:
        for table, columns in EXTERNAL_STORAGE_COLUMNS.items():
            for column in columns:
                storage = conn.scalar(
                    text(
                        "SELECT attstorage FROM pg_attribute "
                        "WHERE attrelid = CAST(:t AS regclass) AND attname = :c"
                    ),
                    {"t": table, "c": column},
                )
                assert storage == "e", (table, column)


def test_an_empty_database_is_reported_out_of_date(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        assert migrate.current_revision(db) is None
        with pytest.raises(migrate.SchemaOutOfDateError, match="has no Tracker schema yet") as raised:
            migrate.check_current(db)
        assert migrate.head_revision() in str(raised.value)
    finally:
        db.dispose()
