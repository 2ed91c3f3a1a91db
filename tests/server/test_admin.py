"""Operator commands for users and API tokens (`tracker admin ...`), on both databases, and what a
presented token authenticates as: only a hash is stored, the secret is printed once, and a
malformed, unknown, expired or revoked token authenticates as nobody."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from sqlalchemy import insert, select, text

from tests.server.serverproc import tracker
from tracker_server.domain import members, users
from tracker_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from tracker_server.store import migrate
from tracker_server.store.engine import Database
from tracker_server.store.schema import ApiToken, Project, ProjectMember, User


def admin(database_url: str, *args: str) -> tuple[int, str, str]:
    done = tracker("admin", *args, "--db", database_url)
    return done.returncode, done.stdout, done.stderr


def test_a_token_is_printed_once_stored_hashed_and_authenticates_its_user(
    database_url: str, db: Database
) -> None:
    code, out, err = admin(database_url, "user", "create", "alice", "--admin")
    assert code == 0, err
    assert "Created a server admin 'alice'" in out
    code, out, err = admin(database_url, "token", "create", "alice", "--name", "laptop", "--expires", "30d")
    assert code == 0, err
    secret = out.strip()
    assert secret.startswith("trk_") and len(secret) == 47 and "\n" not in secret
    assert secret not in err and "shown only now" in err

    principal = users.authenticate(db, secret)
    assert principal is not None
    assert (principal.user, principal.is_admin) == ("alice", True)

    with db.read() as conn:
        rows = conn.execute(select(ApiToken.__table__)).all()
    assert len(rows) == 1
    (row,) = rows
    assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = " ".join(str(value) for value in row)
    assert secret not in stored and secret[8:] not in stored  # only the first 8 characters, as a hint
    assert row.hint == secret[:8] and row.name == "laptop"
    assert row.expires_at is not None
    assert dt.timedelta(days=29, hours=23) < row.expires_at - row.created_at <= dt.timedelta(days=30)

    code, out, err = admin(database_url, "token", "list")
    assert code == 0, err
    assert f"{secret[:8]}..." in out and secret not in out
    assert "alice" in out and "laptop" in out and "active" in out


def test_a_revoked_token_stops_authenticating_and_the_listing_says_so(
    database_url: str, db: Database
) -> None:
    users.create_user(db, "bob")
    secret, info = users.create_token(db, "bob")
    other, _ = users.create_token(db, "bob", name="ci")
    assert users.authenticate(db, secret) is not None
    code, out, err = admin(database_url, "token", "revoke", str(info.id))
    assert code == 0, err
    assert f"Revoked token {info.id}" in out
    assert users.authenticate(db, secret) is None
    assert users.authenticate(db, other) is not None  # only that token
    code, out, _ = admin(database_url, "token", "list", "bob")
    lines = {line.split()[0]: line for line in out.splitlines()[2:]}
    assert lines[str(info.id)].endswith("revoked") and lines[str(info.id + 1)].endswith("active")
    code, _, err = admin(database_url, "token", "revoke", "999")
    assert code == 1 and "no token with id 999" in err


def test_an_expired_token_authenticates_as_nobody(db: Database) -> None:
    users.create_user(db, "carol")
    expired, _ = users.create_token(db, "carol", expires_in=dt.timedelta(0))
    lasting, _ = users.create_token(db, "carol", expires_in=dt.timedelta(days=1))
    assert users.authenticate(db, expired) is None
    assert users.authenticate(db, lasting) is not None
    (info_expired, info_lasting) = users.list_tokens(db, "carol")
    now = dt.datetime.now(dt.UTC)
    assert (info_expired.state(now), info_lasting.state(now)) == ("expired", "active")


@pytest.mark.parametrize(
    "presented",
    ["", "trk_", "Bearer trk_x", "x" * 47, "trk_" + "A" * 42, "trk_" + "A" * 44, "trk_" + "A" * 42 + "\x00"],
)
def test_malformed_tokens_authenticate_as_nobody(db: Database, presented: str) -> None:
    assert users.authenticate(db, presented) is None


def test_an_unknown_token_of_the_right_shape_or_one_changed_character_is_nobody(db: Database) -> None:
    users.create_user(db, "dave")
    secret, _ = users.create_token(db, "dave")
    changed = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    assert users.authenticate(db, changed) is None
    assert users.authenticate(db, "trk_" + "A" * 43) is None


def test_refusals_are_one_clear_line(database_url: str, db: Database) -> None:
    users.create_user(db, "erin")
    code, _, err = admin(database_url, "user", "create", "erin")
    assert code == 1 and err.strip() == "tracker: user 'erin' already exists"
    code, _, err = admin(database_url, "token", "create", "nobody")
    assert code == 1 and "no user named 'nobody'; create it with `tracker admin user create nobody`" in err
    code, _, err = admin(database_url, "token", "create", "erin", "--expires", "soon")
    assert code == 1 and "expiry 'soon' is not a duration such as 90d" in err
    code, _, err = admin(database_url, "user", "create", "bad\nname")
    assert code == 1 and "user name" in err and "non-printable" in err
    with pytest.raises(FailedPrecondition):
        users.create_user(db, "erin")
    with pytest.raises(NotFound):
        users.list_tokens(db, "nobody")
    with pytest.raises(InvalidArgument):
        users.parse_duration("-3d")


def test_never_expiring_tokens_and_durations() -> None:
    assert users.parse_duration("12h") == dt.timedelta(hours=12)
    assert users.parse_duration("2w") == dt.timedelta(weeks=2)
    assert users.parse_duration("90d") == dt.timedelta(days=90)


def test_the_migration_makes_the_local_user_admin_of_existing_projects(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    try:
        migrate.upgrade(db, "0001")
        now = dt.datetime.now(dt.UTC)
        with db.write() as conn:
            conn.execute(
                insert(Project), [{"name": "a", "created_at": now}, {"name": "b", "created_at": now}]
            )
        migrate.upgrade(db)
        with db.read() as conn:
            local = conn.execute(select(User.id, User.is_admin).where(User.name == "local")).one()
            members = conn.execute(
                select(Project.name, ProjectMember.user_id, ProjectMember.role)
                .join(Project, Project.id == ProjectMember.project_id)
                .order_by(Project.name)
            ).all()
            assert conn.scalar(text("SELECT count(*) FROM api_tokens")) == 0
        assert local.is_admin is True
        assert [tuple(m) for m in members] == [("a", local.id, "admin"), ("b", local.id, "admin")]
    finally:
        db.dispose()


def test_projects_get_an_owner_and_roles_that_can_change_but_never_lose_the_last_admin(
    database_url: str, db: Database
) -> None:
    users.create_user(db, "alice")
    users.create_user(db, "bob")
    code, out, err = admin(database_url, "project", "create", "vision", "--owner", "alice")
    assert code == 0, err
    assert "owned by 'alice'" in out
    code, out, err = admin(database_url, "project", "grant", "vision", "bob", "writer")
    assert code == 0, err
    assert members.members(db, "vision") == [("alice", "admin"), ("bob", "writer")]
    code, out, _ = admin(database_url, "project", "members", "vision")
    assert [line.split() for line in out.splitlines()[2:]] == [["alice", "admin"], ["bob", "writer"]]

    members.grant(db, "vision", "bob", "viewer")  # a new role replaces the old one
    assert members.members(db, "vision") == [("alice", "admin"), ("bob", "viewer")]
    for refused in (
        lambda: members.revoke(db, "vision", "alice"),
        lambda: members.grant(db, "vision", "alice", "writer"),
    ):
        with pytest.raises(FailedPrecondition, match="'alice' is the last admin of 'vision'"):
            refused()
    assert members.members(db, "vision") == [("alice", "admin"), ("bob", "viewer")]  # nothing changed
    members.grant(db, "vision", "bob", "admin")
    members.revoke(db, "vision", "alice")
    assert members.members(db, "vision") == [("bob", "admin")]


def test_project_commands_refuse_clearly(database_url: str, db: Database) -> None:
    users.create_user(db, "alice")
    members.create_project(db, "vision", owner="alice")
    code, _, err = admin(database_url, "project", "create", "vision", "--owner", "alice")
    assert code == 1 and "project 'vision' already exists" in err
    with pytest.raises(NotFound, match="no user named 'zed'"):
        members.create_project(db, "nlp", owner="zed")
    with pytest.raises(NotFound, match="no project named 'nlp'"):
        members.grant(db, "nlp", "alice", "viewer")
    with pytest.raises(InvalidArgument, match="role must be one of viewer, writer, admin"):
        members.grant(db, "vision", "alice", "owner")
    with pytest.raises(NotFound, match="'alice' is not a member of 'other'"):
        users.create_user(db, "x")
        members.create_project(db, "other", owner="x")
        members.revoke(db, "other", "alice")
    code, _, err = admin(database_url, "project", "grant", "vision", "alice", "owner")
    assert code == 2 and "invalid choice: 'owner'" in err
