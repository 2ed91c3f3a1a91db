"""Fixtures: a fresh, migrated database per test on SQLite and on PostgreSQL, and a real gRPC
server on an ephemeral port in front of it.

PostgreSQL runs when TRACKER_TEST_DATABASE_URL names a server we can create databases on (CI sets
it); the variable set but the server unreachable is a failure, never a skip. Each test gets its
own database, cloned from a template migrated once per session.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.pgcluster import PgCluster, started_cluster
from tracker_server.app import ServerThread
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade

PG_ENV = "TRACKER_TEST_DATABASE_URL"
BACKENDS = ("sqlite", "postgresql")
_counter = itertools.count()
_session_tag = uuid.uuid4().hex[:8]

# Property tests: the same examples on every run and machine, and no example database on disk.
settings.register_profile("tracker", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("tracker")


def pytest_report_header() -> str:
    url = os.environ.get(PG_ENV)
    shown = make_url(url).render_as_string(hide_password=True) if url else "not set: PostgreSQL tests skip"
    return f"{PG_ENV}: {shown}"


TOKEN_SHAPE = re.compile(r"trk_[A-Za-z0-9_-]{43}")


class TokenScan(logging.Handler):
    """Keeps every formatted log line (message, arguments, traceback) that holds a token."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.leaks: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
        if TOKEN_SHAPE.search(line):
            self.leaks.append(line)


@pytest.fixture(scope="session", autouse=True)
def _no_token_in_any_server_log() -> Iterator[None]:
    """Every log line of every in-process server, at every level, for the whole suite, searched for
    anything shaped like an API token; one found fails the session."""
    scan = TokenScan()
    root, ours = logging.getLogger(), logging.getLogger("tracker")
    level = ours.level
    ours.setLevel(logging.DEBUG)
    root.addHandler(scan)
    yield
    root.removeHandler(scan)
    ours.setLevel(level)
    assert not scan.leaks, f"API tokens appeared in log lines: {scan.leaks[:3]}"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test touches the user's real data directory or a server named in their environment."""
    monkeypatch.setenv("TRACKER_DATA_DIR", str(tmp_path_factory.mktemp("data")))
    for name in (
        "TRACKER_SERVER",
        "TRACKER_PROJECT",
        "TRACKER_TOKEN",
        "TRACKER_DATABASE_URL",
        "TRACKER_MODE",
        "TRACKER_SPOOL_DIR",
        "TRACKER_MAX_MEMORY_MB",
        "TRACKER_EXIT_TIMEOUT",
    ):
        monkeypatch.delenv(name, raising=False)


def _pg_server_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set")
    return url


def _admin_engine(server_url: str):  # type: ignore[no-untyped-def]
    url = make_url(Database(server_url).url).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once, cloned by every PostgreSQL test."""
    server_url = _pg_server_url()
    admin = _admin_engine(server_url)
    name = f"tracker_tpl_{_session_tag}"
    with admin.connect() as conn:  # fails loudly when the server is unreachable
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(Database(server_url).url).set(database=name).render_as_string(hide_password=False)
    db = Database(url, pool_size=1)
    upgrade(db)
    db.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}", pool_size=1)
    upgrade(db)
    db.dispose()
    return path


def fresh_database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of ``backend`` for one test, dropped afterwards."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("_sqlite_template")
        path = tmp_path / "tracker.db"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    with _pg_database(request.getfixturevalue("_pg_template")) as url:
        yield url


@contextmanager
def _pg_database(template: str | None) -> Iterator[str]:
    """A new PostgreSQL database (a clone of ``template``, or empty), dropped afterwards."""
    server_url = _pg_server_url()
    name = f"tracker_t_{_session_tag}_{next(_counter)}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin = _admin_engine(server_url)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    try:
        yield make_url(Database(server_url).url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from fresh_database_url(backend, request, tmp_path)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url, pool_size=4)
    yield database
    database.dispose()


@pytest.fixture
def server(db: Database) -> Iterator[ServerThread]:
    """A real gRPC server on an ephemeral port, on this test's database."""
    with ServerThread(db) as running:
        yield running


@pytest.fixture
def address(server: ServerThread) -> str:
    return server.address


@pytest.fixture
def empty_database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database of ``backend`` with no schema at all (never migrated)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with _pg_database(None) as url:
        yield url


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    """A started PostgreSQL cluster of this test's own (tests/pgcluster.py), which the test may
    stop, crash and restart; removed afterwards."""
    with started_cluster() as cluster:
        yield cluster
