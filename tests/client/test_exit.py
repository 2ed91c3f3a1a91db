"""A script that never calls finish(): the run is delivered and marked at interpreter exit."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

import tracker_client as tracker
from tracker_client._proto import tracker_pb2 as pb

from .fake_server import FakeServer

SCRIPT = """
import sys
import tracker_client as tracker

name, address, ending = sys.argv[1:4]
run = tracker.init(project="exit", name=name, server=address)
for i in range(1000):
    run.log({"x": i * 0.5})
run.log_histogram("w", [1.0, 2.0, 3.0])
print(run.id, flush=True)
if ending == "raise":
    raise RuntimeError("boom in the training loop")
"""


def _run_script(address: str, name: str, ending: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TRACKER_EXIT_TIMEOUT": "30"}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, name, address, ending],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _assert_everything_stored(address: str, run_id: str) -> tracker.RunRecord:
    with tracker.Api(server=address) as api:
        series = api.scalars(run_id, "x")
        assert series.steps.tolist() == list(range(1000))
        np.testing.assert_array_equal(series.values, np.arange(1000) * 0.5)
        assert [h.step for h in api.histograms(run_id, "w")] == [999]
        return api.run(run_id)


def test_a_script_that_exits_without_finish_is_delivered_and_finished(address: str) -> None:
    result = _run_script(address, "clean", "return")
    assert result.returncode == 0, result.stderr
    assert "could not finish" not in result.stderr
    record = _assert_everything_stored(address, result.stdout.strip())
    assert record.status == "finished"
    assert record.finished_at is not None


def test_a_script_that_dies_of_an_exception_is_delivered_and_failed(address: str) -> None:
    result = _run_script(address, "crash", "raise")
    assert result.returncode == 1
    assert "RuntimeError: boom in the training loop" in result.stderr  # the traceback still shows
    record = _assert_everything_stored(address, result.stdout.strip())
    assert record.status == "failed"
    assert record.finished_at is not None


def test_exit_gives_up_after_the_exit_timeout_when_the_server_never_acks() -> None:
    with FakeServer() as fake:
        fake.hold.clear()  # the batch stays unacknowledged
        env = {**os.environ, "TRACKER_EXIT_TIMEOUT": "1"}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, "stuck", fake.address, "return"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
        assert fake.received_points() == 1000
        assert fake.acked == []
        assert [r.status for r in fake.finish_requests] == [pb.RUN_STATUS_FAILED]
    assert result.returncode == 0
    assert "tracker: could not finish run 'stuck'" in result.stderr
    assert f"could not deliver everything to {fake.address} within 1s" in result.stderr
