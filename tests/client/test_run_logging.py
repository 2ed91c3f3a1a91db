"""Run.log() and friends against a real server (SQLite and PostgreSQL): what the caller's line
rejects stores nothing, steps auto-increment, and what flush() returns for is readable."""

from __future__ import annotations

import math
import re
import time
from typing import Any

import numpy as np
import pytest

import tracker_client as tracker
from tracker_client.histogram import summarize

from .fake_server import FakeServer


def _series(address: str, run_id: str, tag: str) -> tuple[list[int], list[float]]:
    with tracker.Api(server=address) as api:
        series = api.scalars(run_id, tag)
    return series.steps.tolist(), series.values.tolist()


def _tags(address: str, run_id: str) -> dict[str, tuple[str, int]]:
    with tracker.Api(server=address) as api:
        return {t.tag: (t.kind, t.count) for t in api.tags(run_id)}


BAD_TAGS = [
    ("", "tag must not be empty"),
    ("x" * 257, "tag is 257 characters long; the limit is 256"),
    ("loss\nval", r"contains the non-printable character '\\n'"),
    ("loss\x00", r"contains the non-printable character '\\x00'"),
    ("tab\there", r"contains the non-printable character '\\t'"),
]


def test_a_bad_tag_rejects_the_whole_call_and_stores_nothing(address: str) -> None:
    with tracker.init(project="p", name="bad-tags", server=address) as run:
        run.log({"a": 0.0})
        expected = [0.0]
        for bad, message in BAD_TAGS:
            with pytest.raises(ValueError, match=message):
                run.log({"a": -1.0, bad: 1.0})  # the valid first point is undone
            with pytest.raises(ValueError, match=message):
                run.log({bad: 1.0, "a": -1.0})
            with pytest.raises(ValueError, match=message):
                run.log_histogram(bad, [1.0])
            run.log({"a": float(len(expected))})
            expected.append(float(len(expected)))
        run.log({"y" * 256: 7.0})  # 256 characters is allowed
        run.flush()
        steps, values = _series(address, run.id, "a")
        assert steps == list(range(len(expected)))  # failed calls did not consume a step
        assert values == expected
        assert _tags(address, run.id) == {"a": ("scalar", len(expected)), "y" * 256: ("scalar", 1)}


BAD_VALUES = [("0.5", "str"), (None, "NoneType"), ([1.0], "list"), (1 + 1j, "complex"), ({}, "dict")]


def test_a_value_that_is_not_a_number_rejects_the_whole_call(address: str) -> None:
    with tracker.init(project="p", name="bad-value", server=address) as run:
        run.log({"a": 0.0, "b": 0.0}, step=0)
        for i, (bad, type_name) in enumerate(BAD_VALUES, start=1):
            with pytest.raises(TypeError, match=rf"value of 'b' must be a real number, got {type_name}"):
                run.log({"a": -1.0, "b": bad, "c": -1.0}, step=i)
            run.log({"a": float(i), "b": float(i)}, step=i)
        run.flush()
        n = len(BAD_VALUES) + 1
        assert _series(address, run.id, "a") == (list(range(n)), [float(i) for i in range(n)])
        assert _series(address, run.id, "b") == (list(range(n)), [float(i) for i in range(n)])
        assert _tags(address, run.id) == {"a": ("scalar", n), "b": ("scalar", n)}


def test_log_takes_a_mapping(address: str) -> None:
    with tracker.init(project="p", name="not-a-mapping", server=address) as run:
        with pytest.raises(TypeError, match="log\\(\\) takes a mapping of tag -> number, got list"):
            run.log([("a", 1.0)])  # type: ignore[arg-type]
        run.log({"a": 1.0})
        run.flush()
        assert _series(address, run.id, "a") == ([0], [1.0])


def test_steps_are_checked_on_the_callers_line(address: str) -> None:
    with tracker.init(project="p", name="steps", server=address) as run:
        with pytest.raises(ValueError, match="step must be >= 0, got -1"):
            run.log({"a": 1.0}, step=-1)
        with pytest.raises(TypeError, match="step must be an integer, got float"):
            run.log({"a": 1.0}, step=1.5)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="step must be an integer, got bool"):
            run.log({"a": 1.0}, step=True)
        with pytest.raises(TypeError, match="step must be an integer, got str"):
            run.log({"a": 1.0}, step="3")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="step must be >= 0, got -2"):
            run.log_histogram("h", [1.0], step=np.int64(-2))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="step must be an integer, got float"):
            run.log_histogram("h", [1.0], step=2.0)  # type: ignore[arg-type]
        run.log({"a": 5.0}, step=np.int64(5))  # type: ignore[arg-type]
        run.log({"a": 6.0})
        run.log({"a": 9.0}, step=np.uint32(9))  # type: ignore[arg-type]
        run.log({"a": float(2**63 - 1)}, step=2**63 - 1)
        run.log_histogram("h", [1.0], step=np.int16(3))  # type: ignore[arg-type]
        run.flush()
        assert _series(address, run.id, "a") == ([5, 6, 9, 2**63 - 1], [5.0, 6.0, 9.0, float(2**63 - 1)])
        with tracker.Api(server=address) as api:
            assert [h.step for h in api.histograms(run.id, "h")] == [3]


def test_a_step_beyond_int64_does_not_corrupt_the_series(address: str) -> None:
    with tracker.init(project="p", name="overflow", server=address) as run:
        run.log({"a": 1.0}, step=0)
        with pytest.raises((ValueError, OverflowError, TypeError)):
            run.log({"a": 2.0}, step=2**63)
        run.log({"a": 3.0}, step=1)
        run.log({"a": 4.0}, step=2)
        run.flush()
        assert _series(address, run.id, "a") == ([0, 1, 2], [1.0, 3.0, 4.0])


@pytest.mark.parametrize(
    ("method", "step"),
    [("log", 2**63), ("log", np.uint64(2**63)), ("log_histogram", 2**63)],
)
def test_a_step_beyond_int64_raises_value_error(method: str, step: Any) -> None:
    # Checked on the caller's line, before anything reaches a server: the test double is enough.
    with FakeServer() as fake, tracker.init(project="p", name="overflow-type", server=fake.address) as run:
        call = (
            (lambda: run.log({"a": 1.0}, step=step))
            if method == "log"
            else (lambda: run.log_histogram("h", [1.0], step=step))
        )
        with pytest.raises(ValueError, match="64-bit"):
            call()


def test_steps_auto_increment_from_the_previous_call(address: str) -> None:
    with tracker.init(project="p", name="auto", server=address) as run:
        run.log({"a": 0.0})
        run.log({"a": 1.0, "b": 1.0})  # one step per call, shared by its tags
        run.log({"a": 10.0}, step=10)
        run.log({"a": 11.0})
        run.log({"a": 3.0}, step=3)
        run.log({"a": 4.0})
        run.log({})  # an empty call still moves the step
        run.log({"a": 6.0})
        run.flush()
        assert _series(address, run.id, "a") == (
            [0, 1, 3, 4, 6, 10, 11],
            [0.0, 1.0, 3.0, 4.0, 6.0, 10.0, 11.0],
        )
        assert _series(address, run.id, "b") == ([1], [1.0])


def test_a_resumed_run_continues_after_its_largest_step(address: str) -> None:
    with tracker.init(project="p", name="resume", server=address) as first:
        first.log({"a": 1.0}, step=41)
        first.log({"a": 0.0}, step=7)
    with tracker.init(project="p", name="resume", server=address) as second:
        second.log_histogram("h", [1.0, 2.0])  # before any log(): the run's last step
        second.log({"a": 2.0})
    assert _series(address, first.id, "a") == ([7, 41, 42], [0.0, 1.0, 2.0])
    with tracker.Api(server=address) as api:
        assert [h.step for h in api.histograms(first.id, "h")] == [41]


def test_numpy_and_python_numbers_are_stored_as_doubles(address: str) -> None:
    values = {
        "f32": np.float32(0.1),
        "f64": np.float64(-0.0),
        "i64": np.int64(2**53 + 1),
        "u8": np.uint8(255),
        "int": 7,
        "bool": True,
        "npbool": np.True_,
        "zero_d": np.array(2.5),
        "nan": math.nan,
        "inf": -math.inf,
    }
    with tracker.init(project="p", name="numbers", server=address) as run:
        before = time.time()
        run.log(values, step=4)
        after = time.time()
        run.flush()
        with tracker.Api(server=address) as api:
            got = {tag: api.scalars(run.id, tag) for tag in values}
    expected = {
        "f32": float(np.float32(0.1)),
        "f64": -0.0,
        "i64": float(2**53),  # rounded to the nearest double
        "u8": 255.0,
        "int": 7.0,
        "bool": 1.0,
        "npbool": 1.0,
        "zero_d": 2.5,
        "nan": math.nan,
        "inf": -math.inf,
    }
    for tag, series in got.items():
        assert series.steps.tolist() == [4], tag
        assert series.values.tobytes() == np.array([expected[tag]]).tobytes(), tag
        assert before <= series.wall_times[0] <= after, tag


def test_nothing_is_sent_before_flush_and_everything_is_readable_after(address: str) -> None:
    run = tracker.init(project="p", name="buffered", server=address, flush_interval=3600)
    try:
        for step in range(300):
            run.log({"loss": 1.0 / (step + 1), "acc": step / 300}, step=step)
        run.log_histogram("w", np.arange(10.0), step=299)
        # The sender wakes only every hour, at a full batch, or on flush(): nothing is on the server yet.
        assert _tags(address, run.id) == {}
        run.flush()
        assert _tags(address, run.id) == {
            "acc": ("scalar", 300),
            "loss": ("scalar", 300),
            "w": ("histogram", 1),
        }
        steps, values = _series(address, run.id, "loss")
        assert steps == list(range(300))
        assert values == [1.0 / (s + 1) for s in range(300)]
        assert _series(address, run.id, "acc")[1] == [s / 300 for s in range(300)]
        run.log({"loss": 0.0}, step=300)
        assert _tags(address, run.id)["loss"] == ("scalar", 300)
        run.flush()
        assert _tags(address, run.id)["loss"] == ("scalar", 301)
    finally:
        run.finish()


def test_flush_with_nothing_logged_returns(address: str) -> None:
    with tracker.init(project="p", name="empty", server=address, flush_interval=3600) as run:
        run.flush(timeout=5)
        run.flush(timeout=5)
    assert _tags(address, run.id) == {}


def test_a_histogram_without_step_lands_on_the_latest_log_step(address: str) -> None:
    rng = np.random.default_rng(0)
    tensors = [rng.normal(size=100) for _ in range(4)]
    with tracker.init(project="p", name="hist-steps", server=address) as run:
        run.log_histogram("w", tensors[0])  # nothing logged yet: step 0
        run.log({"loss": 1.0}, step=7)
        run.log_histogram("w", tensors[1])
        run.log({"loss": 0.5})
        run.log_histogram("w", tensors[2])
        run.log_histogram("w", tensors[3], step=100, max_bins=10)
        run.flush()
        with tracker.Api(server=address) as api:
            stored = api.histograms(run.id, "w")
    assert [h.step for h in stored] == [0, 7, 8, 100]
    for h, values, max_bins in zip(stored, tensors, [None, None, None, 10], strict=True):
        want = summarize(values, step=h.step, wall_time=0.0, max_bins=max_bins)
        assert h.bucket_limits.tolist() == want.bucket_limits.tolist()
        assert h.bucket_counts.tolist() == want.bucket_counts.tolist()
        assert (h.count, h.min, h.max, h.sum, h.sum_squares) == (
            want.count,
            want.min,
            want.max,
            want.sum,
            want.sum_squares,
        )


def test_finish_twice_is_harmless_and_keeps_the_first_status(address: str) -> None:
    run = tracker.init(project="p", name="twice", server=address)
    run.log({"a": 1.0})
    run.finish()
    assert run.record.status == "finished"
    run.finish()
    run.finish("failed")
    assert run.record.status == "finished"
    with tracker.Api(server=address) as api:
        record = api.run(run.id)
    assert record.status == "finished" and record.finished_at is not None
    assert _series(address, run.id, "a") == ([0], [1.0])


def test_finish_refuses_an_unknown_status(address: str) -> None:
    run = tracker.init(project="p", name="status", server=address)
    with pytest.raises(ValueError, match="status must be 'finished', 'failed' or 'killed', got 'done'"):
        run.finish("done")  # type: ignore[arg-type]
    run.log({"a": 1.0})  # still usable
    run.finish("killed")
    with tracker.Api(server=address) as api:
        assert api.run(run.id).status == "killed"
    assert _series(address, run.id, "a") == ([0], [1.0])


def test_logging_after_finish_raises_and_stores_nothing(address: str) -> None:
    run = tracker.init(project="p", name="after", server=address)
    run.log({"a": 1.0})
    run.finish()
    with pytest.raises(
        tracker.TrackerError,
        match=re.escape("run 'after' is finished; resume it with tracker.init(project, name)"),
    ):
        run.log({"a": 2.0})
    with pytest.raises(tracker.TrackerError, match="is finished"):
        run.log_histogram("h", [1.0])
    with pytest.raises(tracker.TrackerError, match="is finished"):
        run.log_hparams({"lr": 0.1})
    with tracker.Api(server=address) as api:
        assert api.run(run.id).hparams == {}
    assert _tags(address, run.id) == {"a": ("scalar", 1)}


def test_flush_after_finish_does_not_wait_for_a_stopped_sender(address: str) -> None:
    run = tracker.init(project="p", name="flush-after", server=address)
    run.log({"a": 1.0})
    run.finish()
    try:
        run.flush(timeout=0.3)  # everything is delivered: returning at once is right
    except tracker.DeadlineExceededError:
        pytest.fail("flush() after finish() waited out its whole timeout")
    except tracker.TrackerError as exc:  # so is saying the run is finished
        assert "finished" in str(exc)


def test_log_hparams_is_sent_at_once_and_merged(address: str) -> None:
    with tracker.init(
        project="p", name="hp", hparams={"lr": 0.1, "opt": {"name": "sgd"}}, server=address
    ) as run:
        run.log_hparams({"lr": 0.01, "batch": np.int64(64)})
        assert run.record.hparams == {"lr": 0.01, "opt.name": "sgd", "batch": 64}
        with tracker.Api(server=address) as api:
            assert api.run(run.id).hparams == {"lr": 0.01, "opt.name": "sgd", "batch": 64}
        with pytest.raises(ValueError, match="hyperparameter name must not be empty"):
            run.log_hparams({"": 1})
        with pytest.raises(TypeError, match="hyperparameter 'x' has unsupported type list"):
            run.log_hparams({"x": [1]})
    with tracker.Api(server=address) as api:
        assert api.run(run.id).hparams == {"lr": 0.01, "opt.name": "sgd", "batch": 64}


def test_init_checks_names_before_contacting_a_server() -> None:
    # No server is running at this address; the name is refused first.
    with pytest.raises(
        ValueError, match=re.escape(r"run name 'bad\nname' contains the non-printable character '\n'")
    ):
        tracker.init(project="p", name="bad\nname", server="127.0.0.1:1")
    with pytest.raises(ValueError, match="project is 257 characters long"):
        tracker.init(project="p" * 257, name="r", server="127.0.0.1:1")
    with pytest.raises(ValueError, match="No project given"):
        tracker.init(name="r", server="127.0.0.1:1")
