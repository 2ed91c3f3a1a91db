"""Alembic environment. Run from code (``tracker db upgrade``) with a connection in
``config.attributes["connection"]``, or from the alembic CLI with TRACKER_DATABASE_URL set."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from tracker_server.store.engine import Database
from tracker_server.store.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = os.environ.get("TRACKER_DATABASE_URL")
    if not url:
        raise SystemExit("set TRACKER_DATABASE_URL to the database to migrate")
    database = Database(url)
    try:
        with database.write() as conn:
            _run(conn)
    finally:
        database.dispose()
