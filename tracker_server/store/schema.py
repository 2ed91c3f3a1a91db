"""The database schema: SQLAlchemy 2 typed models, one set for PostgreSQL and SQLite.

Scalar points are stored in columnar chunks, not a row per point: one ``scalar_chunks`` row per
series per write batch holds the batch's steps, wall times and values as little-endian arrays
(the wire's bytes, unchanged). A row per point costs 40-60 bytes of tuple header and index entry
per point and is what makes MLflow's ``metrics`` table slow; chunks keep every point and read back
as one sequential scan. ``metric_summaries`` is maintained in the ingest transaction so comparison
queries never scan a series. ``ingest_cursors`` is the exactly-once ledger.

Every large table is keyed by run (``series`` belongs to one run), so it can be partitioned or
distributed by run later.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

RUN_STATUSES = ("running", "finished", "failed", "killed")
HPARAM_KINDS = ("int", "float", "str", "bool")
SERIES_KINDS = ("scalar", "histogram", "pr_curve", "text")
NAME_LENGTH = 256

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
Id64 = BigInteger().with_variant(Integer(), "sqlite")


class Float64(TypeDecorator[float]):
    """A double that keeps NaN on both databases.

    PostgreSQL stores NaN natively. SQLite turns a bound NaN into NULL, so there NaN is stored as
    the text 'NaN' in the REAL column; SQLite sorts text after every number, as PostgreSQL sorts
    NaN after every number, so ORDER BY and comparisons agree on both databases.
    """

    impl = Double
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: float | None) -> Any:  # replaces Double's float(), which would undo "NaN"
            if value is None:
                return None
            value = float(value)
            return "NaN" if math.isnan(value) else value

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> float | None:
        return None if value is None else float(value)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always timezone-aware UTC in Python (SQLite keeps no time zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Run(Base):
    """A run. ``group_key`` identifies its set of hyperparameter values (``domain.groups.group_key``):
    runs sharing it are repeated trials of one combination (seeds), grouped by comparison queries."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        CheckConstraint(f"status IN {RUN_STATUSES}", name="status"),
        Index(None, "project_id", "created_at", "id"),
        Index(None, "project_id", "group_key"),
        Index(None, "project_id", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    custom_scalars: Mapped[str | None] = mapped_column(Text)
    # users.id of the creator; not a foreign key (see revision 0003): users are never deleted.
    created_by: Mapped[int | None] = mapped_column(Id64)


class HParam(Base):
    """One typed hyperparameter of a run. Ints and floats both fill ``number_value`` for filters and
    sorts; ``int_value`` keeps an int exact beyond 2**53."""

    __tablename__ = "hparams"
    __table_args__ = (CheckConstraint(f"kind IN {HPARAM_KINDS}", name="kind"),)

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    number_value: Mapped[float | None] = mapped_column(Float64)
    int_value: Mapped[int | None] = mapped_column(BigInteger)
    string_value: Mapped[str | None] = mapped_column(Text)
    bool_value: Mapped[bool | None] = mapped_column(Boolean)


class Series(Base):
    """One (run, tag, kind): what chunks, summaries and histograms hang from."""

    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("run_id", "kind", "tag"),
        CheckConstraint(f"kind IN {SERIES_KINDS}", name="kind"),
    )

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    tag: Mapped[str] = mapped_column(String(NAME_LENGTH))


class ScalarChunk(Base):
    """Points of one series, as little-endian arrays (int64, float64, float64), in logged order.

    A large write batch makes its own chunk; small ones extend the series' newest chunk up to
    ``domain.ingest.CHUNK_POINTS`` points, so a slow training loop flushing a few points a second
    does not end up with a row per point. ``min_step``/``max_step`` let a range read skip chunks.
    ``sorted`` says the points are in step order; ``digest`` summarises them per block of 1,024
    (``domain.downsample``), so a long series can be downsampled without reading its points.
    On PostgreSQL the array columns use STORAGE EXTERNAL: float bytes barely compress, and the
    default pglz attempt costs several times the ingest speed.
    """

    __tablename__ = "scalar_chunks"
    __table_args__ = (Index(None, "series_id", "id"),)

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    n: Mapped[int] = mapped_column(Integer)
    min_step: Mapped[int] = mapped_column(BigInteger)
    max_step: Mapped[int] = mapped_column(BigInteger)
    sorted: Mapped[bool] = mapped_column(Boolean)
    digest: Mapped[bytes] = mapped_column(LargeBinary)
    steps: Mapped[bytes] = mapped_column(LargeBinary)
    wall_times: Mapped[bytes] = mapped_column(LargeBinary)
    values: Mapped[bytes] = mapped_column(LargeBinary)


class MetricSummary(Base):
    """Per scalar series, maintained at ingest (see ``domain.summaries``). ``updated_at`` lets the
    comparison index (``domain.project_index``) fetch only what changed since it last looked."""

    __tablename__ = "metric_summaries"

    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger)
    last_step: Mapped[int] = mapped_column(BigInteger)
    last_value: Mapped[float] = mapped_column(Float64)
    last_wall_time: Mapped[float] = mapped_column(Float64)
    min_value: Mapped[float | None] = mapped_column(Float64)
    max_value: Mapped[float | None] = mapped_column(Float64)
    first_nonfinite_step: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class HistogramRow(Base):
    """One histogram summary of a series at a step; buckets as little-endian float64 arrays."""

    __tablename__ = "histograms"
    __table_args__ = (Index(None, "series_id", "step"),)

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(BigInteger)
    wall_time: Mapped[float] = mapped_column(Float64)
    count: Mapped[float] = mapped_column(Float64)
    min: Mapped[float] = mapped_column(Float64)
    max: Mapped[float] = mapped_column(Float64)
    sum: Mapped[float] = mapped_column(Float64)
    sum_squares: Mapped[float] = mapped_column(Float64)
    nan_count: Mapped[float] = mapped_column(Float64)
    bucket_limits: Mapped[bytes] = mapped_column(LargeBinary)
    bucket_counts: Mapped[bytes] = mapped_column(LargeBinary)


class PrCurveRow(Base):
    """One precision-recall curve of a series at a step: 6 x num_thresholds little-endian float64
    (TP, FP, TN, FN, precision, recall), as TensorBoard lays them out."""

    __tablename__ = "pr_curves"
    __table_args__ = (Index(None, "series_id", "step"),)

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(BigInteger)
    wall_time: Mapped[float] = mapped_column(Float64)
    num_thresholds: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class TextRow(Base):
    __tablename__ = "texts"
    __table_args__ = (Index(None, "series_id", "step"),)

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"))
    step: Mapped[int] = mapped_column(BigInteger)
    wall_time: Mapped[float] = mapped_column(Float64)
    text: Mapped[str] = mapped_column(Text)


class IngestCursor(Base):
    """The exactly-once ledger: the last batch committed per (run, writer), advanced in the same
    transaction as the batch's data, with the position the client attached to it."""

    __tablename__ = "ingest_cursors"

    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    writer_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person (or a service) using the server. No passwords: a user authenticates with API tokens."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ApiToken(Base):
    """An API token, stored as the SHA-256 of the secret (tokens are 256-bit random, so a fast hash
    is enough; the secret is shown once, at creation). ``hint`` is the token's first characters,
    to recognise it in listings."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Id64, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    hint: Mapped[str] = mapped_column(String(16))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


PROJECT_ROLES = ("viewer", "writer", "admin")


class ProjectMember(Base):
    """A user's role in a project: viewer reads; writer also creates runs and logs; admin also
    manages members and deletes runs."""

    __tablename__ = "project_members"
    __table_args__ = (CheckConstraint(f"role IN {PROJECT_ROLES}", name="role"),)

    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(String(16))


metadata = Base.metadata
# Bytea columns that must not be compressed on PostgreSQL (applied by the migrations).
EXTERNAL_STORAGE_COLUMNS = {
    "scalar_chunks": ("steps", "wall_times", "values"),
    "histograms": ("bucket_limits", "bucket_counts"),
    "pr_curves": ("data",),
}
