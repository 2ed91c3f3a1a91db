"""Runs record who created them (``runs.created_by``). Runs that existed before were created by the
single local user, so they are credited to ``local``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
LOCAL_USER = "local"


def upgrade() -> None:
    # A plain column, no foreign key: SQLite cannot add one to an existing table without copying
    # it, and users are never deleted (a user is retired by revoking its tokens).
    op.add_column("runs", sa.Column("created_by", Id64, nullable=True))
    op.execute(
        sa.text("UPDATE runs SET created_by = (SELECT id FROM users WHERE name = :local)").bindparams(
            local=LOCAL_USER
        )
    )


def downgrade() -> None:
    op.drop_column("runs", "created_by")
