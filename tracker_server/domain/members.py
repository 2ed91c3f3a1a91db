"""Projects and their members: who may read (viewer), write (writer) or manage (admin) a project.

Operators create projects with an owner and grant roles; enforcement on every call is the
authorization layer's job. A project always keeps at least one admin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from tracker_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from tracker_server.domain.validation import check_name
from tracker_server.store import runs as run_store
from tracker_server.store import users as store
from tracker_server.store.engine import Database
from tracker_server.store.schema import PROJECT_ROLES


def _user_id(conn: Connection, name: str) -> int:
    found = store.find_user(conn, name)
    if found is None:
        raise NotFound(f"no user named {name!r}; create it with `tracker admin user create {name}`")
    return int(found.id)


def _project_id(conn: Connection, name: str) -> int:
    found = run_store.project_id(conn, name)
    if found is None:
        raise NotFound(f"no project named {name!r}")
    return found


def create_project(db: Database, name: str, *, owner: str) -> None:
    """Create project ``name`` with ``owner`` as its admin; an existing project is refused."""
    check_name("project", name)
    with db.write() as conn:
        owner_id = _user_id(conn, owner)
        if run_store.project_id(conn, name) is not None:
            raise FailedPrecondition(
                f"project {name!r} already exists; give {owner!r} a role with `tracker admin project grant`"
            )
        project_id = run_store.project_id(conn, name, create_at=dt.datetime.now(dt.UTC))
        assert project_id is not None
        store.set_member(conn, project_id=project_id, user_id=owner_id, role="admin")


def grant(db: Database, project: str, user: str, role: str) -> None:
    if role not in PROJECT_ROLES:
        raise InvalidArgument(f"role must be one of {', '.join(PROJECT_ROLES)}, got {role!r}")
    with db.write() as conn:
        project_id, user_id = _project_id(conn, project), _user_id(conn, user)
        store.set_member(conn, project_id=project_id, user_id=user_id, role=role)
        if store.admins_left(conn, project_id) == 0:
            raise FailedPrecondition(
                f"{user!r} is the last admin of {project!r}; grant admin to someone else first"
            )


def revoke(db: Database, project: str, user: str) -> None:
    with db.write() as conn:
        project_id, user_id = _project_id(conn, project), _user_id(conn, user)
        if not store.remove_member(conn, project_id=project_id, user_id=user_id):
            raise NotFound(f"{user!r} is not a member of {project!r}")
        if store.admins_left(conn, project_id) == 0:
            raise FailedPrecondition(
                f"{user!r} is the last admin of {project!r}; grant admin to someone else first"
            )


def members(db: Database, project: str) -> list[tuple[str, str]]:
    """(user, role) of every member, by name."""
    with db.read() as conn:
        return [(row.name, row.role) for row in store.members(conn, _project_id(conn, project))]
