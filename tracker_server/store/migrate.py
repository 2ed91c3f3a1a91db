"""Schema migrations run from code: upgrade, and the check the server makes before it starts."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from tracker_server.store.engine import Database


class SchemaOutOfDateError(RuntimeError):
    """The database's schema is not the one this server needs."""


def migrations_dir() -> Path:
    return Path(str(resources.files("tracker_server.migrations")))


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def head_revision() -> str:
    heads = ScriptDirectory.from_config(_config()).get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the migration chain has {len(heads)} heads: {heads}")
    return heads[0]


def current_revision(database: Database) -> str | None:
    with database.read() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    return heads[0] if heads else None


def upgrade(database: Database, target: str = "head") -> tuple[str | None, str]:
    """Bring the schema to the newest revision (or ``target``, for tests of a migration's data
    step); returns (revision before, revision after)."""
    before = current_revision(database)
    config = _config()
    with database.write() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, target)
    return before, head_revision() if target == "head" else target


def check_current(database: Database) -> None:
    """Raise SchemaOutOfDateError unless the database is at the newest revision."""
    current, head = current_revision(database), head_revision()
    if current != head:
        state = "has no Tracker schema yet" if current is None else f"is at schema revision {current}"
        raise SchemaOutOfDateError(f"the database {state}; this server needs revision {head}")
