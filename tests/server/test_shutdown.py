"""SIGTERM while a client streams: the batch being written commits and is acknowledged, the server
exits cleanly, and the database holds an exact prefix of what was logged (whole batches, no holes).
The training loop never notices; a server started again on the same address (a standby process,
loaded beforehand, so the restart takes a moment) receives the rest, and every point is then
stored exactly once."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tracker_client as tracker
from tests.faults.workload import wait_until
from tests.server.serverproc import free_port, server_process
from tracker_server.domain.reads import read_scalars
from tracker_server.store.engine import Database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def _stored(url: str, run_id: str) -> np.ndarray:
    db = Database(url)
    try:
        stored = read_scalars(db, run_id, "x")
    finally:
        db.dispose()
    np.testing.assert_array_equal(stored.values, stored.steps.astype(np.float64))
    return stored.steps


def test_sigterm_during_ingest_commits_whole_batches_and_a_restarted_server_gets_the_rest(
    database_url: str,
) -> None:
    args = ["--db", database_url, "--port", str(free_port()), "--shutdown-grace", "20"]
    stop = threading.Event()
    errors: list[BaseException] = []
    logged = 0

    def train() -> None:
        nonlocal logged
        try:
            while not stop.is_set():
                run.log({"x": float(logged)}, step=logged)
                logged += 1
        except BaseException as exc:
            errors.append(exc)

    # The server started again later waits loaded (a standby) meanwhile: a restart takes a moment.
    with server_process(args, standby=True) as restarted:
        with server_process(args) as server:
            address = server.address()
            run = tracker.init(project="shutdown", name="r", server=address, flush_interval=0.05, timeout=5)
            stats = run.delivery_stats()
            thread = threading.Thread(target=train, name="train", daemon=True)
            thread.start()
            try:
                wait_until(lambda: stats.points_acked >= 50_000, 60, "50,000 points acknowledged")
                assert server.terminate(timeout=60) == 0
                assert "Stopped" in server.output
            except BaseException:
                stop.set()
                raise
        acked_at_stop = stats.points_acked
        logged_at_stop = logged

        # The stopped server left an exact prefix: every acknowledged point, nothing after a hole.
        prefix = _stored(database_url, run.id)
        assert acked_at_stop <= prefix.size <= logged_at_stop
        np.testing.assert_array_equal(prefix, np.arange(prefix.size))

        # Training goes on with no server at all, and nothing is raised.
        try:
            wait_until(lambda: logged >= logged_at_stop + 20_000, 60, "the loop to go on logging")
            wait_until(lambda: stats.reconnects >= 1, 60, "the client to notice the shutdown")
            assert thread.is_alive() and not errors
        except BaseException:
            stop.set()
            raise

        restarted.start()
        restarted.address()
        stop.set()
        thread.join(timeout=30)
        assert not thread.is_alive() and errors == []
        run.finish(timeout=60)
        assert stats.points_acked == logged
        assert restarted.terminate(timeout=60) == 0

    steps = _stored(database_url, run.id)
    np.testing.assert_array_equal(steps, np.arange(logged))
