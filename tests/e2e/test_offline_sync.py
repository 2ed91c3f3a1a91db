"""Offline runs, spool files and ``tracker sync``, against the real server on both databases.

Also the client half of fault test (b): a training process killed with SIGKILL right after
``flush()`` returned loses nothing it flushed, online (the server has it) and offline (the spool
file has it, and ``tracker sync`` delivers it).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tracker_client as tracker
from tracker_client.spool import read_spool, spool_dir, spool_files
from tracker_client.sync import SpoolBusyError, sync_file

WAIT = 60.0


def _offline_run(name: str = "r", **kwargs: object) -> tracker.Run:
    return tracker.init(project="off", name=name, mode="offline", **kwargs)  # type: ignore[arg-type]


def _only_spool() -> Path:
    (path,) = spool_files(spool_dir())
    return path


def _log_everything(run: tracker.Run) -> None:
    """Every kind of record, with a purge in the middle (a restart from a checkpoint at step 50)."""
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 100}, step=step)
    run.log_histogram("w", np.arange(10.0), step=10)
    run.log_text("notes", "first attempt", step=20)
    run.set_custom_scalars({"losses": {"both": ["Multiline", ["loss", "acc"]]}})
    assert run.purge_steps(50) is None  # offline: it happens at sync, in order
    for step in range(50, 80):
        run.log({"loss": -float(step)}, step=step)
    run.log_text("notes", "second attempt", step=60)
    run.log_hparams({"lr": 0.01, "opt": {"name": "adam"}, "augment": True})


def _assert_everything_stored(api: tracker.Api, run_id: str) -> None:
    loss = api.scalars(run_id, "loss")
    assert loss.steps.tolist() == list(range(80))
    assert loss.values.tolist() == [1.0 / (s + 1) for s in range(50)] + [-float(s) for s in range(50, 80)]
    acc = api.scalars(run_id, "acc")
    assert acc.steps.tolist() == list(range(50))
    assert acc.values.tolist() == [s / 100 for s in range(50)]
    (histogram,) = api.histograms(run_id, "w")
    assert histogram.step == 10 and histogram.count == 10 and histogram.sum == 45.0
    assert [(t.step, t.text) for t in api.texts(run_id, "notes")] == [
        (20, "first attempt"),
        (60, "second attempt"),
    ]
    record = api.run(run_id)
    assert {k: v for k, v in record.hparams.items() if k != "seed"} == {
        "lr": 0.01,
        "opt.name": "adam",
        "augment": True,
    }
    assert record.custom_scalars == {"losses": {"both": ["Multiline", ["loss", "acc"]]}}


def test_an_offline_run_is_written_to_a_spool_file_and_synced_exactly(
    address: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run = _offline_run(hparams={"seed": 3})
    assert run.id.startswith("offline-")
    _log_everything(run)
    run.finish()
    path = _only_spool()
    assert f"tracker sync {path}" in capsys.readouterr().err
    report = sync_file(path, server=address)
    assert not path.exists()
    assert report.finished and report.batches_on_server == 0 and report.points_sent == 100 * 2 + 30 + 3
    with tracker.Api(server=address) as api:
        (stored,) = api.runs("off")
        assert stored.name == "r" and stored.status == "finished" and stored.id == report.run_id
        _assert_everything_stored(api, stored.id)
        assert api.run(stored.id).hparams["seed"] == 3 and type(api.run(stored.id).hparams["seed"]) is int


def test_the_mode_can_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_MODE", "offline")
    run = tracker.init(project="off", name="env", server="127.0.0.1:1")  # never contacted
    run.log({"x": 1.0})
    run.finish()
    assert read_spool(_only_spool()).start["name"] == "env"
    monkeypatch.setenv("TRACKER_MODE", "sometimes")
    with pytest.raises(ValueError, match='mode must be "online" or "offline", got \'sometimes\''):
        tracker.init(project="off", name="bad")


def test_syncing_twice_stores_once(address: str, tmp_path: Path) -> None:
    run = _offline_run()
    _log_everything(run)
    run.finish()
    path = _only_spool()
    copy = tmp_path / "copy.spool"
    shutil.copy(path, copy)
    first = sync_file(path, server=address)
    again = sync_file(copy, server=address)
    assert again.run_id == first.run_id
    assert again.batches_sent == 0 and again.batches_on_server == first.batches_sent > 0
    with tracker.Api(server=address) as api:
        _assert_everything_stored(api, first.run_id)
        assert api.run(first.run_id).status == "finished"


@pytest.mark.parametrize("cut", [2, 5, 6])
def test_an_interrupted_sync_resumes_where_it_stopped(address: str, tmp_path: Path, cut: int) -> None:
    """A sync stopped after ``cut`` records (before or after the purge, never its finish) leaves a
    run marked failed; syncing the whole file then completes it, nothing twice, the purge once."""
    run = _offline_run(flush_interval=3600)
    for step in range(100):
        run.log({"loss": 1.0 / (step + 1), "acc": step / 100}, step=step)
        if step % 25 == 24:
            run.flush()  # one batch per 25 steps
    _log_after_the_first_100(run)
    run.finish()
    path = _only_spool()
    contents = read_spool(path)
    assert len(contents.records) > cut
    prefix = tmp_path / "prefix.spool"
    prefix.write_bytes(path.read_bytes()[: contents.records[cut][1]])
    partial = sync_file(prefix, server=address)
    assert not partial.finished
    with tracker.Api(server=address) as api:
        assert api.run(partial.run_id).status == "failed"
    full = sync_file(path, server=address)
    assert full.batches_on_server == sum(1 for r, _ in contents.records[:cut] if r.kind.name == "BATCH")
    with tracker.Api(server=address) as api:
        loss = api.scalars(full.run_id, "loss")
        assert loss.steps.tolist() == list(range(80))
        assert loss.values.tolist() == [1.0 / (s + 1) for s in range(50)] + [-float(s) for s in range(50, 80)]
        assert api.run(full.run_id).status == "finished"


def _log_after_the_first_100(run: tracker.Run) -> None:
    run.purge_steps(50)
    for step in range(50, 80):
        run.log({"loss": -float(step)}, step=step)
        if step % 10 == 9:
            run.flush()


def test_a_torn_last_record_is_reported_and_everything_before_it_synced(address: str, tmp_path: Path) -> None:
    run = _offline_run(flush_interval=3600)
    for step in range(30):
        run.log({"x": float(step)}, step=step)
        if step % 10 == 9:
            run.flush()
    run.finish()
    path = _only_spool()
    contents = read_spool(path)
    last_batch_offset = contents.records[2][1]  # the third batch (steps 20-29)
    torn = tmp_path / "torn.spool"
    torn.write_bytes(path.read_bytes()[: last_batch_offset + 30])  # killed while writing it
    report = sync_file(torn, server=address)
    assert report.torn_at == last_batch_offset
    with tracker.Api(server=address) as api:
        assert api.scalars(report.run_id, "x").steps.tolist() == list(range(20))


def test_a_spool_file_a_live_run_is_writing_is_not_synced(address: str) -> None:
    run = _offline_run()
    run.log({"x": 1.0})
    run.flush()
    path = _only_spool()
    with pytest.raises(SpoolBusyError, match="still being written by a running process"):
        sync_file(path, server=address)
    run.finish()
    assert sync_file(path, server=address).points_sent == 1


def test_a_run_over_its_memory_budget_waits_on_disk_and_everything_arrives(address: str) -> None:
    with tracker.init(project="budget", name="r", server=address, max_memory=0, flush_interval=0.01) as run:
        for step in range(200_000):
            run.log({"a": float(step), "b": -float(step)}, step=step)
            if step == 100_000:
                run.log_hparams({"half": True})
        run.flush()
        assert spool_files(spool_dir()) == []  # caught up: the spool file is gone
    with tracker.Api(server=address) as api:
        (stored,) = api.runs("budget")
        a = api.scalars(stored.id, "a")
        assert a.steps.tolist() == list(range(200_000))
        np.testing.assert_array_equal(a.values, np.arange(200_000, dtype=np.float64))
        assert api.scalars(stored.id, "b").values.sum() == -np.arange(200_000).sum()
        assert stored.hparams == {"half": True}


def test_tracker_sync_with_nothing_to_do_says_so() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tracker_server.cli", "sync"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert f"Nothing to sync: no spool files in {spool_dir()}" in result.stdout


# -- fault test (b): SIGKILL right after flush() ----------------------------------------------------

KILLED_SCRIPT = """
import sys, time
import tracker_client as tracker

mode, address = sys.argv[1:3]
run = tracker.init(project="killed", name="k", server=address, mode=mode, flush_interval=0.05)
step = 0
while True:
    for _ in range(5000):
        run.log({"x": float(step)}, step=step)
        step += 1
    run.flush()
    print(step, flush=True)
    if mode == "online" and step >= 20000:
        time.sleep(600)  # flushed; now wait to be killed
"""


def _kill_after_flush(mode: str, address: str, flushed_at_least: int) -> int:
    """Start the script, wait for a flush() reporting >= ``flushed_at_least`` steps, SIGKILL it;
    return the number of steps the last completed flush covered."""
    process = subprocess.Popen(
        [sys.executable, "-c", KILLED_SCRIPT, mode, address],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert process.stdout is not None
    flushed = 0
    try:
        for line in process.stdout:
            flushed = int(line)
            if flushed >= flushed_at_least:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(WAIT)
    assert process.returncode == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
    assert flushed >= flushed_at_least
    return flushed


def test_an_online_process_killed_after_flush_loses_nothing_it_flushed(address: str) -> None:
    flushed = _kill_after_flush("online", address, 20_000)
    with tracker.Api(server=address) as api:
        (run,) = api.runs("killed")
        series = api.scalars(run.id, "x")
    assert series.steps.tolist() == list(range(flushed))
    np.testing.assert_array_equal(series.values, np.arange(flushed, dtype=np.float64))


def test_an_offline_process_killed_after_flush_is_recovered_by_sync(address: str) -> None:
    flushed = _kill_after_flush("offline", address, 20_000)
    report = sync_file(_only_spool(), server=address)
    assert not report.finished  # it died: the run is marked failed
    with tracker.Api(server=address) as api:
        series = api.scalars(report.run_id, "x")
        assert api.run(report.run_id).status == "failed"
    # Everything flushed is there, once; what was logged after the last flush may be there too,
    # as a whole prefix of the steps (never a hole, never a duplicate).
    n = series.steps.size
    assert n >= flushed
    assert series.steps.tolist() == list(range(n))
    np.testing.assert_array_equal(series.values, np.arange(n, dtype=np.float64))
