"""A throwaway PostgreSQL cluster for tests that stop, kill or restart the database.

The shared server named by TRACKER_TEST_DATABASE_URL must never be stopped, so outage tests run
their own cluster: ``initdb`` into a temporary directory, ``pg_ctl`` on a free port on 127.0.0.1,
its Unix socket inside that directory. As root (PostgreSQL refuses to run as root) every command
runs as the ``postgres`` user through ``runuser``. Every wait is a poll with a deadline.

    with PgCluster() as cluster:      # initdb + start
        url = cluster.create_database("tracker")
        cluster.stop()                # fast shutdown: sessions are terminated, nothing is lost
        cluster.start()               # same port, same data
        cluster.restart(mode="immediate")  # crash and recover from the WAL

The ``pg_cluster`` fixture (tests/conftest.py) gives a started cluster per test; a module whose
tests share one uses ``started_cluster()`` in a module-scoped fixture of its own. Without the
PostgreSQL binaries both skip, unless TRACKER_TEST_DATABASE_URL is set (CI), where they fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

import psycopg
import pytest

StopMode = Literal["smart", "fast", "immediate"]

_BIN_DIRS = ("/usr/lib/postgresql/*/bin", "/usr/local/pgsql/bin", "/opt/homebrew/opt/postgresql*/bin")


def find_bin_dir() -> Path | None:
    """The directory holding initdb and pg_ctl: pg_config's, PATH's, or a packaged install's."""
    candidates: list[str] = []
    if pg_config := shutil.which("pg_config"):
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(found.stdout.strip())
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).parent))
    for pattern in _BIN_DIRS:
        candidates.extend(sorted(glob.glob(pattern), reverse=True))  # the newest version first
    for directory in candidates:
        if directory and all((Path(directory) / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return Path(directory)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition, timeout: float, what: str, interval: float = 0.02) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class PgCluster:
    """One PostgreSQL cluster in a temporary directory, owned by this process."""

    def __init__(self, bin_dir: Path | None = None, *, port: int | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin_dir = found
        self.port = port or free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tracker-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self._user: str | None = None
        if os.geteuid() == 0:
            self._user = "postgres"
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )
        # Throwaway data: no fsync (a fast or immediate stop still loses nothing the OS holds).
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nfsync = off\nfull_page_writes = off\n"
                "max_connections = 50\nshared_buffers = 32MB\n"
            )

    # -----------------------------------------------------------------------------------------

    def _command(self, name: str, *args: str) -> list[str]:
        command = [str(self.bin_dir / name), *args]
        return ["runuser", "-u", self._user, "--", *command] if self._user else command

    def _run(self, name: str, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            self._command(name, *args), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{name} failed ({result.returncode}): {result.stderr}{result.stdout}\n{self.log()}"
            )
        return result.stdout

    def log(self) -> str:
        """The server log's tail, for failure messages."""
        try:
            return self.logfile.read_text(errors="replace")[-4000:]
        except OSError:
            return ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database} connect_timeout=2"

    def accepting(self) -> bool:
        """Whether a new session can be opened right now."""
        try:
            with psycopg.connect(self.dsn(), autocommit=True) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    @property
    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    # -----------------------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> None:
        """Start the postmaster and wait (bounded) until it accepts sessions."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-W", "start")
        wait_until(
            self.accepting, timeout, f"PostgreSQL on port {self.port} to accept sessions\n{self.log()}"
        )

    def stop(self, mode: StopMode = "fast", timeout: float = 30) -> None:
        """Stop the postmaster: ``fast`` terminates sessions (their transactions roll back) and
        checkpoints; ``immediate`` is a crash (recovery from the WAL on the next start)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-W", "stop")
        wait_until(lambda: not self.running, timeout, "the postmaster to exit")
        wait_until(lambda: not self.accepting(), timeout, "the port to refuse sessions")

    def restart(self, mode: StopMode = "fast", timeout: float = 30) -> None:
        self.stop(mode, timeout)
        self.start(timeout)

    def create_database(self, name: str, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given) and return its SQLAlchemy URL."""
        clause = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{clause}')
        return self.url(name)

    def destroy(self) -> None:
        """Stop the cluster (immediately) if it runs, and remove its directory."""
        if self.running:
            subprocess.run(
                self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop"),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        try:
            self.start()
        except BaseException:
            self.destroy()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.destroy()


@contextmanager
def started_cluster() -> Iterator[PgCluster]:
    """A started cluster, removed afterwards; skips (or, with TRACKER_TEST_DATABASE_URL set as in
    CI, fails) when the PostgreSQL server binaries are missing."""
    if find_bin_dir() is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found"
        if os.environ.get("TRACKER_TEST_DATABASE_URL"):
            pytest.fail(message)
        pytest.skip(message)
    with PgCluster() as cluster:
        yield cluster
