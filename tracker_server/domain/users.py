"""Users and API tokens: creation, listing, revocation, and authenticating a presented token.

A token is ``trk_`` followed by 43 URL-safe characters (256 random bits). The fixed prefix makes a
leaked token recognisable to secret scanners; only its SHA-256 is stored (a fast hash is enough
for a 256-bit random secret, unlike a password), and the stored hash is compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from tracker_server.domain.errors import FailedPrecondition, InvalidArgument, NotFound
from tracker_server.domain.validation import check_name
from tracker_server.store import users as store
from tracker_server.store.engine import Database

LOCAL_USER = "local"
TOKEN_PREFIX = "trk_"  # noqa: S105 (a prefix, not a secret)
_TOKEN_SHAPE = re.compile(r"trk_[A-Za-z0-9_-]{43}")
_DURATION = re.compile(r"(\d+)([hdw])")
_UNITS = {"h": dt.timedelta(hours=1), "d": dt.timedelta(days=1), "w": dt.timedelta(weeks=1)}


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: int
    user: str
    name: str
    hint: str  # the token's first characters, to recognise it; never enough to use it
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def state(self, now: dt.datetime) -> str:
        return _state(self.revoked_at, self.expires_at, now)


def _state(revoked_at: dt.datetime | None, expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """A token's state: revoked, expired or active (``store.users.active`` says the same in SQL)."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a call speaks for: a valid token's user, or the local user on a server without
    authentication (``token_id`` None)."""

    user_id: int
    user: str
    is_admin: bool
    token_id: int | None


def hash_secret(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def parse_duration(text: str) -> dt.timedelta:
    """``90d``, ``12h``, ``2w`` as a timedelta; InvalidArgument otherwise."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or int(match.group(1)) == 0:
        raise InvalidArgument(f"expiry {text!r} is not a duration such as 90d, 12h or 2w")
    return int(match.group(1)) * _UNITS[match.group(2)]


def create_user(db: Database, name: str, *, admin: bool = False) -> None:
    check_name("user name", name)
    with db.write() as conn:
        if store.insert_user(conn, name=name, is_admin=admin, now=dt.datetime.now(dt.UTC)) is None:
            raise FailedPrecondition(f"user {name!r} already exists")


def create_token(
    db: Database, user: str, *, name: str = "", expires_in: dt.timedelta | None = None
) -> tuple[str, TokenInfo]:
    """A new token for ``user``: the secret (shown once, never stored) and its record."""
    label = name or "token"
    check_name("token name", label)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    expires_at = now + expires_in if expires_in is not None else None
    with db.write() as conn:
        found = store.find_user(conn, user)
        if found is None:
            raise NotFound(f"no user named {user!r}; create it with `tracker admin user create {user}`")
        token_id = store.insert_token(
            conn,
            user_id=found.id,
            name=label,
            hint=secret[:8],
            secret_hash=hash_secret(secret),
            now=now,
            expires_at=expires_at,
        )
    return secret, TokenInfo(token_id, user, label, secret[:8], now, expires_at, None)


def list_tokens(db: Database, user: str | None = None) -> list[TokenInfo]:
    with db.read() as conn:
        user_id = None
        if user is not None:
            found = store.find_user(conn, user)
            if found is None:
                raise NotFound(f"no user named {user!r}")
            user_id = found.id
        return [TokenInfo(*row) for row in store.list_tokens(conn, user_id)]


def revoke_token(db: Database, token_id: int) -> None:
    with db.write() as conn:
        if not store.revoke_token(conn, token_id, now=dt.datetime.now(dt.UTC)):
            raise NotFound(f"no token with id {token_id}; `tracker admin token list` shows them")


def local_principal(db: Database) -> Principal:
    """The local user (a server admin, created by revision 0002) that every call of a server
    without authentication speaks for; created again should it have been removed."""
    with db.write() as conn:
        found = store.find_user(conn, LOCAL_USER)
        if found is None:
            store.insert_user(conn, name=LOCAL_USER, is_admin=True, now=dt.datetime.now(dt.UTC))
            found = store.find_user(conn, LOCAL_USER)
    assert found is not None
    return Principal(user_id=found.id, user=found.name, is_admin=True, token_id=None)


def active_token_count(db: Database) -> int:
    with db.read() as conn:
        return store.active_token_count(conn, dt.datetime.now(dt.UTC))


def authenticate(db: Database, token: str) -> Principal | None:
    """The principal of a valid token; None for a malformed, unknown, expired or revoked one.

    Which of those it was is deliberately not said: the caller answers UNAUTHENTICATED alike."""
    if _TOKEN_SHAPE.fullmatch(token) is None:
        return None
    presented = hash_secret(token)
    with db.read() as conn:
        row = store.token_by_hash(conn, presented)
    if row is None or not hmac.compare_digest(row.secret_hash, presented):
        return None
    if _state(row.revoked_at, row.expires_at, dt.datetime.now(dt.UTC)) != "active":
        return None
    return Principal(user_id=row.user_id, user=row.user, is_admin=row.is_admin, token_id=row.id)
