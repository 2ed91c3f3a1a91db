"""The Database handle: one engine, its dialect's settings, and read/write transactions.

Passed explicitly to every store function (no process-wide engine). The dialect is chosen by the
URL: ``sqlite:///path`` (the embedded default) or ``postgresql+psycopg://...`` (teams).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

_WRITE = "tracker_write"

# Seconds to wait for a new database connection; psycopg's own default is 130.
DEFAULT_CONNECT_TIMEOUT = 5
# Seconds a call waits for a free pooled connection.
DEFAULT_POOL_TIMEOUT = 5.0


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` as psycopg 3 URLs, like most tools do."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL with any password replaced by ***, safe to print or log."""
    return make_url(url).render_as_string(hide_password=True)


class Database:
    """An engine plus transactions that behave the same on PostgreSQL and SQLite.

    SQLite: WAL journal, synchronous=FULL (an acknowledged batch survives a power cut), foreign keys
    on, a 30 s busy timeout, and write transactions opened with BEGIN IMMEDIATE so concurrent
    writers queue instead of failing on a lock upgrade. PostgreSQL: a bounded pool
    (``pool_size``, no overflow) whose connections are checked before use, and new connections
    that give up after ``connect_timeout`` seconds, so a call fails fast while the database is away.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 8,
        pool_timeout: float = DEFAULT_POOL_TIMEOUT,
        connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    ) -> None:
        self.url = normalize_url(url)
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        self._ping_engine: Engine | None = None
        self._connect_args: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=pool_timeout,
                hide_parameters=True,
                connect_args={"check_same_thread": False},
            )
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin)
        elif self.dialect == "postgresql":
            if "connect_timeout" not in parsed.query:  # one given in the URL wins
                self._connect_args["connect_timeout"] = connect_timeout
            self.engine = create_engine(
                self.url,
                pool_size=pool_size,
                max_overflow=0,
                pool_timeout=pool_timeout,
                pool_pre_ping=True,
                hide_parameters=True,
                connect_args=self._connect_args,
            )
        else:
            raise ValueError(
                f"unsupported database URL {redact(self.url)!r}: use sqlite:///PATH or "
                "postgresql+psycopg://USER@HOST/DB"
            )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that may write; commits on success, rolls back on any exception."""
        with self.engine.connect() as plain:
            conn = plain.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (on SQLite it does not take the write lock)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def ping(self) -> None:
        """Run ``SELECT 1`` on a connection of its own (not one of the pool's, so a health check
        never waits behind the calls); raises the database's error when it is unreachable."""
        if self._ping_engine is None:
            if self.dialect == "sqlite":
                self._ping_engine = create_engine(
                    self.url, pool_size=1, max_overflow=0, connect_args={"check_same_thread": False}
                )
            else:
                self._ping_engine = create_engine(
                    self.url,
                    pool_size=1,
                    max_overflow=0,
                    pool_pre_ping=True,  # a connection that died with the last outage is replaced
                    connect_args=self._connect_args,
                )
        with self._ping_engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self.engine.dispose()
        if self._ping_engine is not None:
            self._ping_engine.dispose()

    def __repr__(self) -> str:
        return f"Database({redact(self.url)!r})"


def is_outage(exc: BaseException) -> bool:
    """Whether ``exc`` says the database itself is unreachable (down, restarting, the connection
    lost), as opposed to one transaction failing (a lock timeout, a deadlock, a bad statement)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    sqlite_error = getattr(orig, "sqlite_errorname", None)
    if sqlite_error is not None:  # sqlite3: the file cannot be opened or read
        return str(sqlite_error).startswith(("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_NOTADB"))
    # psycopg: no SQLSTATE when libpq could not connect at all; class 08 is connection exceptions;
    # 57P01-57P03: the server is shutting down, crashed, or is starting up.
    sqlstate = getattr(orig, "sqlstate", None)
    return sqlstate is None or sqlstate.startswith("08") or sqlstate in ("57P01", "57P02", "57P03")


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=30000"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
