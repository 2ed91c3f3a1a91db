"""Run `tracker ...` commands and a `tracker server` process for tests, with bounded waits."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

CLI = [sys.executable, "-m", "tracker_server.cli"]

# A standby `tracker server`: the interpreter and the server's modules loaded (most of a start),
# then `tracker server ARGS` proper once told "start" on stdin; the code run is the same.
STANDBY = """\
import sys

import alembic.runtime.migration, alembic.script, psycopg, sqlalchemy.exc
import tracker_server.app, tracker_server.cli, tracker_server.store.migrate

print("standby", flush=True)
if sys.stdin.readline() == "start\\n":
    raise SystemExit(tracker_server.cli.main(sys.argv[1:]))
"""


def tracker(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: PLW1510 - callers assert on the return code
        [*CLI, *args], capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now, for a server that must come back on the same address."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """A `tracker server` child process whose output is collected line by line on a thread.

    ``standby=True``: the process loads everything first and starts serving only on ``start()``,
    so a test can restart a server within a fraction of a second of stopping the last one.

    Its web UI takes any free port unless ``args`` name one, so a test server never collides with a
    `tracker server` or `tracker demo` the developer runs on the default 6066."""

    def __init__(
        self, args: Sequence[str], env: dict[str, str] | None = None, *, standby: bool = False
    ) -> None:
        command = [sys.executable, "-c", STANDBY] if standby else CLI
        http = [] if any(a.startswith("--http-port") for a in args) else ["--http-port", "0"]
        self.proc = subprocess.Popen(
            [*command, "server", *args, *http],
            stdin=subprocess.PIPE if standby else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """The first output line matching ``pattern``; fails when the process ends or time runs out."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r} within {timeout}s: {self.output}"
                ) from None
            if line is None:
                raise AssertionError(f"server exited ({self.proc.wait()}) before {pattern!r}: {self.output}")
            self.lines.append(line)
            if match := re.search(pattern, line):
                return match

    def start(self) -> None:
        """Let a standby server start serving."""
        assert self.proc.stdin is not None, "not a standby server"
        self.proc.stdin.write("start\n")
        self.proc.stdin.close()

    def address(self) -> str:
        return self.wait_for(r"listening on (\S+:\d+)").group(1)

    @property
    def output(self) -> str:
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)
        return "".join(self.lines)

    def terminate(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def sigkill(self, timeout: float = 30) -> int:
        """SIGKILL the server (no cleanup of any kind) and return its exit code (-9 when the kill
        is what ended it)."""
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        if self.proc.stdin is not None:
            self.proc.stdin.close()


@contextmanager
def server_process(
    args: Sequence[str], env: dict[str, str] | None = None, *, standby: bool = False
) -> Iterator[ServerProcess]:
    server = ServerProcess(args, env, standby=standby)
    try:
        yield server
    finally:
        server.kill()
