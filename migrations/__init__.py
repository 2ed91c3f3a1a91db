"""The Alembic chain for PostgreSQL and SQLite, installed as ``tracker_server.migrations``.

Run it with ``tracker db upgrade``. To add a revision after changing ``tracker_server/store/schema.py``:
``alembic revision --autogenerate -m "what changed"`` (uses alembic.ini at the repository root and
TRACKER_DATABASE_URL), then read and edit the generated file; ``tests/store/test_migrations.py``
checks the migrated schema equals the models and that there is a single head.
"""
