"""SIGTERM while a client streams: the batch being written commits and is acknowledged, the server
exits cleanly, and the database holds an exact prefix of what was logged: whole batches, no holes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

import tracker_client as tracker
from tests.server.serverproc import server_process
from tracker_server.domain.reads import read_scalars
from tracker_server.store.engine import Database


def _wait(condition, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_sigterm_during_ingest_commits_whole_batches_and_exits_cleanly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    with server_process(["--db", url, "--port", "0", "--shutdown-grace", "20"]) as server:
        address = server.address()
        run = tracker.init(project="shutdown", name="r", server=address, flush_interval=0.05)
        logged = 0
        failure: list[BaseException] = []
        stop = threading.Event()

        def train() -> None:
            nonlocal logged
            try:
                while not stop.is_set():
                    run.log({"x": float(logged)}, step=logged)
                    logged += 1
            except tracker.TrackerError as exc:
                failure.append(exc)

        thread = threading.Thread(target=train)
        thread.start()
        with tracker.Api(server=address) as api:
            _wait(lambda: any(t.count >= 50_000 for t in api.tags(run.id)), 60, "50,000 points to be stored")
        acked_before = run._sender.acked_seq
        assert server.terminate(timeout=60) == 0
        assert "Stopped" in server.output
        _wait(lambda: bool(failure) or not thread.is_alive(), 30, "the client to see the shutdown")
        stop.set()
        thread.join(timeout=30)
        acked_after = run._sender.acked_seq
        with pytest.raises(tracker.UnavailableError):
            run.finish(timeout=10)

    assert failure and isinstance(failure[0], tracker.UnavailableError)
    assert "shutting down" in str(failure[0])
    db = Database(url)
    try:
        stored = read_scalars(db, run.id, "x")
    finally:
        db.dispose()
    n = stored.steps.size
    assert 50_000 <= n <= logged
    np.testing.assert_array_equal(stored.steps, np.arange(n))
    np.testing.assert_array_equal(stored.values, np.arange(n, dtype=np.float64))
    assert acked_after >= acked_before > 0
