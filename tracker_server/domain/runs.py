"""Run use cases: create or resume, hyperparameters, finish, get and list."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection

from tracker_server.domain import limits
from tracker_server.domain.errors import InvalidArgument, NotFound
from tracker_server.domain.group_key import group_key
from tracker_server.domain.model import HParamValue, Page, ProjectInfo, RunInfo
from tracker_server.domain.paging import decode_token, encode_token
from tracker_server.domain.validation import check_hparams, check_name, check_run_id, page_size
from tracker_server.store import runs as store
from tracker_server.store.engine import Database

_ID_ALPHABET = string.ascii_lowercase + string.digits
FINAL_STATUSES = ("finished", "failed", "killed")


def new_run_id() -> str:
    """12 random characters of [a-z0-9] (62 bits): short enough to type, never guessed."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


@dataclass(frozen=True, slots=True)
class CreatedRun:
    run: RunInfo
    resumed: bool
    next_step: int


def create_or_resume(
    db: Database,
    *,
    project: str,
    name: str,
    hparams: Mapping[str, HParamValue],
    creator: int | None = None,
) -> CreatedRun:
    """Create run ``name`` in ``project`` or resume it. A new run records user ``creator``; a
    missing project is created with ``creator`` as its admin (authorization lets only server
    admins reach that far with a project they have no role in).

    A resumed run is RUNNING again; ``hparams`` are merged into its own in either case.
    """
    check_name("project", project)
    check_name("name", name)
    check_hparams("hparams", hparams)
    now = dt.datetime.now(dt.UTC)
    with db.write() as conn:
        project_id = store.project_id(conn, project, create_at=now, owner=creator)
        assert project_id is not None
        run_id = store.find_run_id(conn, project_id, name)
        resumed = run_id is not None
        if run_id is None:
            run_id = new_run_id()
            key = group_key(hparams)
            if not store.insert_run(
                conn,
                run_id=run_id,
                project=project_id,
                name=name,
                group_key=key,
                now=now,
                created_by=creator,
            ):
                run_id = store.find_run_id(conn, project_id, name)  # created concurrently: resume it
                resumed = True
        assert run_id is not None
        if resumed:
            store.set_status(conn, run_id, "running", now=now)
        run = _update_hparams(conn, run_id, hparams, now=now)
        return CreatedRun(run=run, resumed=resumed, next_step=store.next_step(conn, run_id) if resumed else 0)


def _update_hparams(
    conn: Connection, run_id: str, hparams: Mapping[str, HParamValue], *, now: dt.datetime
) -> RunInfo:
    """Merge ``hparams`` into the run's and keep its group key in step with the result."""
    store.upsert_hparams(conn, run_id, hparams)
    run = store.get_run(conn, run_id)
    assert run is not None
    if hparams:
        store.set_group_key(conn, run_id, group_key(run.hparams), now=now)
    return run


def set_hparams(db: Database, run_id: str, hparams: Mapping[str, HParamValue]) -> RunInfo:
    check_run_id(run_id)
    check_hparams("hparams", hparams)
    with db.write() as conn:
        if store.run_status(conn, run_id) is None:
            raise NotFound(f"run {run_id!r} does not exist")
        return _update_hparams(conn, run_id, hparams, now=dt.datetime.now(dt.UTC))


def finish(db: Database, run_id: str, status: str) -> RunInfo:
    check_run_id(run_id)
    if status not in FINAL_STATUSES:
        raise InvalidArgument(f"status must be one of {', '.join(FINAL_STATUSES)}, got {status!r}")
    with db.write() as conn:
        if not store.set_status(conn, run_id, status, now=dt.datetime.now(dt.UTC)):
            raise NotFound(f"run {run_id!r} does not exist")
        run = store.get_run(conn, run_id)
    assert run is not None
    return run


def delete(db: Database, run_id: str) -> None:
    """Delete a run and everything logged to it."""
    check_run_id(run_id)
    with db.write() as conn:
        if not store.delete_run(conn, run_id):
            raise NotFound(f"run {run_id!r} does not exist")


def get(db: Database, run_id: str) -> RunInfo:
    check_run_id(run_id)
    with db.read() as conn:
        run = store.get_run(conn, run_id)
    if run is None:
        raise NotFound(f"run {run_id!r} does not exist")
    return run


def list_runs(db: Database, project: str, *, size: int, token: str) -> Page[RunInfo]:
    """A page of the project's runs, oldest first."""
    check_name("project", project)
    limit = page_size(size)
    key = decode_token(token, 2)
    after = None
    if key is not None:
        try:
            after = (dt.datetime.fromisoformat(key[0]), str(key[1]))
        except (TypeError, ValueError):
            raise InvalidArgument("page_token is not a token this server issued") from None
    with db.read() as conn:
        project_id = store.project_id(conn, project)
        if project_id is None:
            raise NotFound(f"project {project!r} does not exist")
        runs = store.list_runs(conn, project_id, after=after, limit=limit + 1)
    more = len(runs) > limit
    runs = runs[:limit]
    next_token = encode_token(runs[-1].created_at.isoformat(), runs[-1].id) if more else ""
    return Page(runs, next_token)


def list_projects(db: Database, *, size: int, token: str, member: int | None = None) -> Page[ProjectInfo]:
    """A page of projects by name: every project, or with ``member`` those that user belongs to."""
    limit = page_size(size)
    key = decode_token(token, 1)
    with db.read() as conn:
        projects = store.list_projects(
            conn, after=str(key[0]) if key else None, limit=limit + 1, member=member
        )
    more = len(projects) > limit
    projects = projects[:limit]
    return Page(projects, encode_token(projects[-1].name) if more else "")


def set_custom_scalars(db: Database, run_id: str, layout: str) -> RunInfo:
    """Store a custom-scalars layout (a JSON object, TensorBoard's custom scalars plugin) with a run."""
    check_run_id(run_id)
    if len(layout.encode()) > limits.MAX_CUSTOM_SCALARS_BYTES:
        raise InvalidArgument(f"layout is larger than {limits.MAX_CUSTOM_SCALARS_BYTES} bytes")
    try:
        parsed = json.loads(layout)
    except ValueError as exc:
        raise InvalidArgument(f"layout is not valid JSON: {exc}") from None
    if not isinstance(parsed, dict):
        raise InvalidArgument("layout must be a JSON object: {category: {title: [kind, [tags]]}}")
    with db.write() as conn:
        if not store.set_custom_scalars(conn, run_id, layout, now=dt.datetime.now(dt.UTC)):
            raise NotFound(f"run {run_id!r} does not exist")
        run = store.get_run(conn, run_id)
    assert run is not None
    return run
