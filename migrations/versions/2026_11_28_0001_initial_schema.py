"""Initial schema: projects, runs (with their hyperparameter group key and custom-scalars layout),
typed hparams, series, scalar chunks (with block digests), summaries, histograms, PR curves, texts,
the ingest ledger.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Timestamp = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", Id64, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("project_id", Id64, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", Timestamp, nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.Column("finished_at", Timestamp, nullable=True),
        sa.Column("custom_scalars", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'finished', 'failed', 'killed')", name=op.f("ck_runs_status")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_runs_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("project_id", "name", name=op.f("uq_runs_project_id_name")),
    )
    op.create_index(op.f("ix_runs_project_id_created_at_id"), "runs", ["project_id", "created_at", "id"])
    op.create_index(op.f("ix_runs_project_id_group_key"), "runs", ["project_id", "group_key"])
    op.create_index(op.f("ix_runs_project_id_updated_at"), "runs", ["project_id", "updated_at"])
    op.create_table(
        "hparams",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("number_value", sa.Double(), nullable=True),
        sa.Column("int_value", sa.BigInteger(), nullable=True),
        sa.Column("string_value", sa.Text(), nullable=True),
        sa.Column("bool_value", sa.Boolean(), nullable=True),
        sa.CheckConstraint("kind IN ('int', 'float', 'str', 'bool')", name=op.f("ck_hparams_kind")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_hparams_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "name", name=op.f("pk_hparams")),
    )
    op.create_table(
        "ingest_cursors",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("writer_id", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_ingest_cursors_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "writer_id", name=op.f("pk_ingest_cursors")),
    )
    op.create_table(
        "series",
        sa.Column("id", Id64, nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("tag", sa.String(length=256), nullable=False),
        sa.CheckConstraint(
            "kind IN ('scalar', 'histogram', 'pr_curve', 'text')", name=op.f("ck_series_kind")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_series_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("run_id", "kind", "tag", name=op.f("uq_series_run_id_kind_tag")),
    )
    op.create_table(
        "histograms",
        sa.Column("id", Id64, nullable=False),
        sa.Column("series_id", Id64, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        *(
            sa.Column(name, sa.Double(), nullable=False)
            for name in ("wall_time", "count", "min", "max", "sum", "sum_squares", "nan_count")
        ),
        sa.Column("bucket_limits", sa.LargeBinary(), nullable=False),
        sa.Column("bucket_counts", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_histograms_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_histograms")),
    )
    op.create_index(op.f("ix_histograms_series_id_step"), "histograms", ["series_id", "step"])
    op.create_table(
        "metric_summaries",
        sa.Column("series_id", Id64, nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=False),
        sa.Column("last_value", sa.Double(), nullable=False),
        sa.Column("last_wall_time", sa.Double(), nullable=False),
        sa.Column("min_value", sa.Double(), nullable=True),
        sa.Column("max_value", sa.Double(), nullable=True),
        sa.Column("first_nonfinite_step", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", Timestamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_metric_summaries_series_id_series"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("series_id", name=op.f("pk_metric_summaries")),
    )
    op.create_index(op.f("ix_metric_summaries_updated_at"), "metric_summaries", ["updated_at"])
    op.create_table(
        "scalar_chunks",
        sa.Column("id", Id64, nullable=False),
        sa.Column("series_id", Id64, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("min_step", sa.BigInteger(), nullable=False),
        sa.Column("max_step", sa.BigInteger(), nullable=False),
        sa.Column("sorted", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.LargeBinary(), nullable=False),
        sa.Column("steps", sa.LargeBinary(), nullable=False),
        sa.Column("wall_times", sa.LargeBinary(), nullable=False),
        sa.Column("values", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_scalar_chunks_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scalar_chunks")),
    )
    op.create_index(op.f("ix_scalar_chunks_series_id_id"), "scalar_chunks", ["series_id", "id"])
    op.create_table(
        "pr_curves",
        sa.Column("id", Id64, nullable=False),
        sa.Column("series_id", Id64, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("wall_time", sa.Double(), nullable=False),
        sa.Column("num_thresholds", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_pr_curves_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pr_curves")),
    )
    op.create_index(op.f("ix_pr_curves_series_id_step"), "pr_curves", ["series_id", "step"])
    op.create_table(
        "texts",
        sa.Column("id", Id64, nullable=False),
        sa.Column("series_id", Id64, nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("wall_time", sa.Double(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"], ["series.id"], name=op.f("fk_texts_series_id_series"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_texts")),
    )
    op.create_index(op.f("ix_texts_series_id_step"), "texts", ["series_id", "step"])
    if op.get_bind().dialect.name == "postgresql":
        # Float bytes barely compress; pglz's attempt costs ~8x ingest speed. Store them as they are.
        for table, columns in {
            "scalar_chunks": ("steps", "wall_times", "values"),
            "histograms": ("bucket_limits", "bucket_counts"),
            "pr_curves": ("data",),
        }.items():
            for column in columns:
                op.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" SET STORAGE EXTERNAL')


def downgrade() -> None:
    op.drop_table("texts")
    op.drop_table("pr_curves")
    op.drop_table("scalar_chunks")
    op.drop_table("metric_summaries")
    op.drop_table("histograms")
    op.drop_table("series")
    op.drop_table("ingest_cursors")
    op.drop_table("hparams")
    op.drop_table("runs")
    op.drop_table("projects")
