"""Users and API tokens: the SQL behind domain.users. Only hashes of token secrets are stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from tracker_server.store.runs import insert_ignore
from tracker_server.store.schema import ApiToken, Project, ProjectMember, Run, User


def insert_user(conn: Connection, *, name: str, is_admin: bool, now: dt.datetime) -> int | None:
    """The new user's id; None when the name is taken."""
    user_id = conn.scalar(
        insert_ignore(conn, User)
        .values(name=name, is_admin=is_admin, created_at=now)
        .on_conflict_do_nothing()
        .returning(User.id)
    )
    return None if user_id is None else int(user_id)


def find_user(conn: Connection, name: str) -> Any | None:
    return conn.execute(select(User.id, User.name, User.is_admin).where(User.name == name)).first()


def insert_token(
    conn: Connection,
    *,
    user_id: int,
    name: str,
    hint: str,
    secret_hash: str,
    now: dt.datetime,
    expires_at: dt.datetime | None,
) -> int:
    token_id = conn.scalar(
        insert_ignore(conn, ApiToken)
        .values(
            user_id=user_id,
            name=name,
            hint=hint,
            secret_hash=secret_hash,
            created_at=now,
            expires_at=expires_at,
        )
        .returning(ApiToken.id)
    )
    assert token_id is not None
    return int(token_id)


_TOKEN_COLUMNS = (
    ApiToken.id,
    User.name.label("user"),
    ApiToken.name,
    ApiToken.hint,
    ApiToken.created_at,
    ApiToken.expires_at,
    ApiToken.revoked_at,
)


def list_tokens(conn: Connection, user_id: int | None) -> Sequence[Any]:
    query = select(*_TOKEN_COLUMNS).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return conn.execute(query).all()


def revoke_token(conn: Connection, token_id: int, *, now: dt.datetime) -> bool:
    """Revoke token ``token_id``; False when there is no such token (revoking twice keeps the first time)."""
    found = conn.scalar(select(ApiToken.id).where(ApiToken.id == token_id))
    if found is None:
        return False
    conn.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    return True


def token_by_hash(conn: Connection, secret_hash: str) -> Any | None:
    """The token with this secret hash and its user (id, name, admin flag), or None."""
    return conn.execute(
        select(
            ApiToken.id,
            ApiToken.secret_hash,
            ApiToken.expires_at,
            ApiToken.revoked_at,
            User.id.label("user_id"),
            User.name.label("user"),
            User.is_admin,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.secret_hash == secret_hash)
    ).first()


def set_member(conn: Connection, *, project_id: int, user_id: int, role: str) -> None:
    """Give ``user_id`` ``role`` in the project (replacing the role it had)."""
    conn.execute(
        insert_ignore(conn, ProjectMember)
        .values(project_id=project_id, user_id=user_id, role=role)
        .on_conflict_do_update(index_elements=["project_id", "user_id"], set_={"role": role})
    )


def remove_member(conn: Connection, *, project_id: int, user_id: int) -> bool:
    removed = conn.execute(
        delete(ProjectMember)
        .where(ProjectMember.project_id == project_id, ProjectMember.user_id == user_id)
        .returning(ProjectMember.user_id)
    ).first()
    return removed is not None


def members(conn: Connection, project_id: int) -> Sequence[Any]:
    return conn.execute(
        select(User.name, ProjectMember.role)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(User.name)
    ).all()


def admins_left(conn: Connection, project_id: int) -> int:
    return int(
        conn.scalar(
            select(func.count())
            .select_from(ProjectMember)
            .where(ProjectMember.project_id == project_id, ProjectMember.role == "admin")
        )
        or 0
    )


def role_in_project(conn: Connection, user_id: int, project: str) -> str | None:
    """The user's role in the project named ``project``; None when not a member (or no such project)."""
    role = conn.scalar(
        select(ProjectMember.role)
        .join(Project, Project.id == ProjectMember.project_id)
        .where(Project.name == project, ProjectMember.user_id == user_id)
    )
    return None if role is None else str(role)


def roles_for_runs(
    conn: Connection, user_id: int, run_ids: Sequence[str]
) -> list[tuple[str, str, str | None]]:
    """(run id, project name, the user's role there or None) for each of ``run_ids`` that exists."""
    rows = conn.execute(
        select(Run.id, Project.name, ProjectMember.role)
        .join(Project, Project.id == Run.project_id)
        .outerjoin(
            ProjectMember,
            (ProjectMember.project_id == Run.project_id) & (ProjectMember.user_id == user_id),
        )
        .where(Run.id.in_(run_ids))
    )
    return [(row[0], row[1], row[2]) for row in rows]


def active(now: dt.datetime) -> Any:
    """Tokens neither revoked nor expired at ``now``, as a WHERE condition."""
    return ApiToken.revoked_at.is_(None) & (ApiToken.expires_at.is_(None) | (ApiToken.expires_at > now))


def token_is_active(conn: Connection, token_id: int, now: dt.datetime) -> bool:
    return conn.scalar(select(ApiToken.id).where(ApiToken.id == token_id, active(now))) is not None


def active_token_count(conn: Connection, now: dt.datetime) -> int:
    return int(conn.scalar(select(func.count()).select_from(ApiToken).where(active(now))) or 0)
