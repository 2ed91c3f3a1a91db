"""Runs, projects and hyperparameters: the repository functions. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from tracker_client.validation import MAX_STEP
from tracker_server.domain.model import HParamValue, ProjectInfo, RunInfo
from tracker_server.store.schema import (
    HistogramRow,
    HParam,
    MetricSummary,
    PrCurveRow,
    Project,
    ProjectMember,
    Run,
    Series,
    TextRow,
    User,
)


def insert_ignore(conn: Connection, table: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING-capable insert for the connection's dialect.

    To learn whether such an insert wrote its row, add ``.returning(...)`` and look for a row:
    SQLAlchemy 2.1 does not keep ``rowcount`` for INSERT on PostgreSQL (it reads -1).
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def by_codepoint(conn: Connection, column: Any) -> Any:
    """``column`` compared and sorted by code point on both databases (SQLite's BINARY collation;
    PostgreSQL's database collation may be a locale's), so listings and page keys agree."""
    return column.collate("C") if conn.dialect.name == "postgresql" else column


def project_id(
    conn: Connection, name: str, *, create_at: dt.datetime | None = None, owner: int | None = None
) -> int | None:
    """The id of project ``name``; created (race-free) when ``create_at`` is given and it is
    missing, with user ``owner`` (if given) as its admin."""
    found = conn.scalar(select(Project.id).where(Project.name == name))
    if found is not None or create_at is None:
        return found
    created = conn.scalar(
        insert_ignore(conn, Project)
        .values(name=name, created_at=create_at)
        .on_conflict_do_nothing()
        .returning(Project.id)
    )
    if created is not None and owner is not None:
        conn.execute(
            insert_ignore(conn, ProjectMember).values(project_id=created, user_id=owner, role="admin")
        )
    return conn.scalar(select(Project.id).where(Project.name == name))


def find_run_id(conn: Connection, project: int, name: str) -> str | None:
    return conn.scalar(select(Run.id).where(Run.project_id == project, Run.name == name))


def insert_run(
    conn: Connection,
    *,
    run_id: str,
    project: int,
    name: str,
    group_key: str,
    now: dt.datetime,
    created_by: int | None = None,
) -> bool:
    """Insert a running run; False when (project, name) was taken concurrently."""
    result = conn.execute(
        insert_ignore(conn, Run)
        .values(
            id=run_id,
            project_id=project,
            name=name,
            status="running",
            group_key=group_key,
            created_at=now,
            updated_at=now,
            finished_at=None,
            created_by=created_by,
        )
        .on_conflict_do_nothing()
        .returning(Run.id)
    )
    return result.first() is not None


def set_status(conn: Connection, run_id: str, status: str, *, now: dt.datetime) -> bool:
    """Set a run's status (finished_at follows: set when finishing, cleared when running)."""
    result = conn.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(status=status, updated_at=now, finished_at=None if status == "running" else now)
    )
    return bool(result.rowcount)


def set_custom_scalars(conn: Connection, run_id: str, layout: str, *, now: dt.datetime) -> bool:
    result = conn.execute(update(Run).where(Run.id == run_id).values(custom_scalars=layout, updated_at=now))
    return bool(result.rowcount)


def touch(conn: Connection, run_id: str, *, now: dt.datetime) -> None:
    """Mark the run changed, so comparison indexes reload it (after its data was rewritten)."""
    conn.execute(update(Run).where(Run.id == run_id).values(updated_at=now))


def set_group_key(conn: Connection, run_id: str, group_key: str, *, now: dt.datetime) -> None:
    conn.execute(update(Run).where(Run.id == run_id).values(group_key=group_key, updated_at=now))


def run_status(conn: Connection, run_id: str) -> str | None:
    return conn.scalar(select(Run.status).where(Run.id == run_id))


def upsert_hparams(conn: Connection, run_id: str, hparams: Mapping[str, HParamValue]) -> None:
    """Insert or replace typed hyperparameters of a run."""
    if not hparams:
        return
    rows = [_hparam_row(run_id, name, value) for name, value in hparams.items()]
    stmt = insert_ignore(conn, HParam)
    stmt = stmt.on_conflict_do_update(
        index_elements=[HParam.run_id, HParam.name],
        set_={
            c: stmt.excluded[c] for c in ("kind", "number_value", "int_value", "string_value", "bool_value")
        },
    )
    conn.execute(stmt, rows)


def _hparam_row(run_id: str, name: str, value: HParamValue) -> dict[str, Any]:
    row: dict[str, Any] = {
        "run_id": run_id,
        "name": name,
        "number_value": None,
        "int_value": None,
        "string_value": None,
        "bool_value": None,
    }
    if isinstance(value, bool):
        row.update(kind="bool", bool_value=value)
    elif isinstance(value, int):
        row.update(kind="int", int_value=value, number_value=float(value))
    elif isinstance(value, float):
        row.update(kind="float", number_value=value)
    else:
        row.update(kind="str", string_value=value)
    return row


def _hparam_value(row: Any) -> HParamValue:
    kind = row.kind
    if kind == "bool":
        return bool(row.bool_value)
    if kind == "int":
        return int(row.int_value)
    if kind == "float":
        return float(row.number_value)
    return str(row.string_value)


def hparams_of(conn: Connection, run_ids: Sequence[str]) -> dict[str, dict[str, HParamValue]]:
    """Hyperparameters of several runs, by run id then name (sorted)."""
    out: dict[str, dict[str, HParamValue]] = {run_id: {} for run_id in run_ids}
    if not run_ids:
        return out
    rows = conn.execute(
        select(HParam.__table__).where(HParam.run_id.in_(run_ids)).order_by(HParam.run_id, HParam.name)
    )
    for row in rows:
        out[row.run_id][row.name] = _hparam_value(row)
    return out


_RUN_COLUMNS = (
    Run.id,
    Project.name.label("project"),
    Run.name,
    Run.status,
    Run.created_at,
    Run.finished_at,
    Run.custom_scalars,
    User.name.label("created_by"),
)


def _select_runs() -> Any:
    """Runs with their project's name and their creator's (empty when unknown)."""
    return (
        select(*_RUN_COLUMNS)
        .join(Project, Project.id == Run.project_id)
        .outerjoin(User, User.id == Run.created_by)
    )


def _run_infos(conn: Connection, rows: Sequence[Any]) -> list[RunInfo]:
    hparams = hparams_of(conn, [r.id for r in rows])
    return [
        RunInfo(
            id=r.id,
            project=r.project,
            name=r.name,
            status=r.status,
            hparams=hparams[r.id],
            created_at=r.created_at,
            finished_at=r.finished_at,
            custom_scalars=r.custom_scalars,
            created_by=r.created_by or "",
        )
        for r in rows
    ]


def get_run(conn: Connection, run_id: str) -> RunInfo | None:
    row = conn.execute(_select_runs().where(Run.id == run_id)).one_or_none()
    return _run_infos(conn, [row])[0] if row is not None else None


def list_runs(
    conn: Connection, project: int, *, after: tuple[dt.datetime, str] | None, limit: int
) -> list[RunInfo]:
    """Runs of a project ordered by (created_at, id), starting after the given key."""
    query = _select_runs().where(Run.project_id == project).order_by(Run.created_at, Run.id).limit(limit)
    if after is not None:
        created, run_id = after
        query = query.where(or_(Run.created_at > created, and_(Run.created_at == created, Run.id > run_id)))
    return _run_infos(conn, conn.execute(query).all())


def list_projects(
    conn: Connection, *, after: str | None, limit: int, member: int | None = None
) -> list[ProjectInfo]:
    """Projects by name; with ``member``, only those that user has a role in."""
    run_count = select(func.count(Run.id)).where(Run.project_id == Project.id).scalar_subquery()
    name = by_codepoint(conn, Project.name)
    query = select(Project.name, Project.created_at, run_count.label("run_count")).order_by(name)
    if member is not None:
        query = query.join(
            ProjectMember, (ProjectMember.project_id == Project.id) & (ProjectMember.user_id == member)
        )
    if after is not None:
        query = query.where(name > after)
    return [
        ProjectInfo(name=r.name, created_at=r.created_at, run_count=r.run_count)
        for r in conn.execute(query.limit(limit))
    ]


def next_step(conn: Connection, run_id: str) -> int:
    """One past the largest step stored for the run in any series (0 when it has none)."""
    largest = conn.scalar(
        select(func.max(MetricSummary.last_step))  # a scalar series' last point is its largest step
        .join(Series, Series.id == MetricSummary.series_id)
        .where(Series.run_id == run_id)
    )
    for table in (HistogramRow, PrCurveRow, TextRow):
        step = conn.scalar(
            select(func.max(table.step))
            .join(Series, Series.id == table.series_id)
            .where(Series.run_id == run_id)
        )
        if step is not None and (largest is None or step > largest):
            largest = step
    return 0 if largest is None else min(int(largest) + 1, MAX_STEP)  # a run at 2**63-1 cannot go further


def delete_run(conn: Connection, run_id: str) -> bool:
    """Delete a run; its hyperparameters, series and everything in them go with it (ON DELETE
    CASCADE). False when there is no such run."""
    deleted = conn.execute(delete(Run).where(Run.id == run_id).returning(Run.id)).first()
    return deleted is not None


def run_count(conn: Connection, project: int) -> int:
    return int(conn.scalar(select(func.count()).select_from(Run).where(Run.project_id == project)) or 0)
