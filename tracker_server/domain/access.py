"""Authorization: the one function that decides whether a principal may do an action on a project.

Roles are ordered viewer < writer < admin; each action needs a least role, and a server admin may
do everything. A caller who is not a member of a project is told PERMISSION_DENIED whether or not
the project exists, so project names are not disclosed to outsiders. Run ids (62 random bits)
cannot be guessed; an unknown one is NOT_FOUND.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum

from tracker_server.domain.errors import PermissionDenied, Unauthenticated
from tracker_server.domain.users import Principal
from tracker_server.domain.validation import check_name, check_run_id
from tracker_server.store import users as store
from tracker_server.store.engine import Database


class Action(Enum):
    """What a call does; the value is the least project role it needs (None: no project)."""

    SIGNED_IN = None
    READ = "viewer"
    WRITE = "writer"
    MANAGE = "admin"
    SERVER_ADMIN = "server admin"


ROLE_RANK = {"viewer": 1, "writer": 2, "admin": 3}
_VERB = {Action.READ: "reading", Action.WRITE: "writing", Action.MANAGE: "managing"}


@dataclass(frozen=True, slots=True)
class Target:
    """What a request acts on: a project by name, or the project(s) of some runs."""

    project: str | None = None
    run_ids: tuple[str, ...] = ()
    field: str = "run_id"


REVOKED = "the API token was revoked or has expired; ask a server admin for a new one"


def authorize(
    db: Database, principal: Principal, action: Action, target: Target, *, recheck_token: bool = False
) -> None:
    """Return if ``principal`` may do ``action`` on ``target``; raise PermissionDenied (or
    Unauthenticated when ``recheck_token`` finds its token revoked or expired since the call began).
    One read transaction, at most two indexed lookups."""
    needs_role = not principal.is_admin and action in _VERB
    if action is Action.SERVER_ADMIN and not principal.is_admin:
        raise PermissionDenied(f"only a server admin may do this, and {principal.user!r} is not one")
    if target.project is not None and needs_role:
        check_name("project", target.project)
    if needs_role:
        for run_id in target.run_ids:
            check_run_id(run_id, target.field)
    token_id = principal.token_id if recheck_token else None
    if token_id is None and not needs_role:
        return
    with db.read() as conn:
        if token_id is not None and not store.token_is_active(conn, token_id, dt.datetime.now(dt.UTC)):
            raise Unauthenticated(REVOKED)
        if not needs_role:
            return
        if target.project is not None:
            found = [(target.project, store.role_in_project(conn, principal.user_id, target.project))]
        else:
            # Runs that do not exist are left to the call itself (NOT_FOUND, or skipped by a
            # many-run read).
            found = sorted(
                {
                    (project, role)
                    for _, project, role in store.roles_for_runs(conn, principal.user_id, target.run_ids)
                }
            )
    for project, role in found:
        _check_role(principal, action, project, role)


def _check_role(principal: Principal, action: Action, project: str, role: str | None) -> None:
    needed = action.value
    assert isinstance(needed, str)
    if role is None:
        raise PermissionDenied(
            f"{principal.user!r} is not a member of project {project!r}; a project admin can grant a "
            f"role with `tracker admin project grant {project} {principal.user} {needed}`"
        )
    if ROLE_RANK[role] < ROLE_RANK[needed]:
        raise PermissionDenied(
            f"{_VERB[action]} project {project!r} needs the {needed} role; {principal.user!r} is a {role}"
        )
