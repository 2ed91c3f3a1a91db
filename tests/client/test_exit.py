"""A script that never calls finish(): the run is delivered and marked at interpreter exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import tracker_client as tracker

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


def test_exit_gives_up_after_the_exit_timeout_and_the_sync_command_delivers_the_rest(address: str) -> None:
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
        assert fake.finish_requests == []  # not finished: its data is not on the server
    assert result.returncode == 0
    assert f"could not deliver everything to {fake.address}" in result.stderr
    command = result.stderr.strip().splitlines()[-1].strip()
    assert command.startswith("tracker sync ") and command.endswith(".spool")
    path = Path(command.removeprefix("tracker sync "))
    assert path.is_file()
    # The printed command, pointed at a real server, delivers the run whole and finishes it.
    synced = subprocess.run(
        [sys.executable, "-m", "tracker_server.cli", "sync", str(path), "--server", address, "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert synced.returncode == 0, synced.stderr
    assert "Synced run 'stuck' of project 'exit'" in synced.stdout
    assert not path.exists()
    with tracker.Api(server=address) as api:
        (run,) = api.runs("exit")
    record = _assert_everything_stored(address, run.id)
    assert record.status == "finished"
