"""What the fault tests log, and the exact check of what the server holds afterwards.

Every point is distinct (tag x step, a seeded random double), so a point stored twice, stored at
the wrong step or missing is visible, and values are compared bit for bit. Waits are polls with
deadlines; a helper thread's exception is raised in the test.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import tracker_client as tracker

WAIT = 60.0


def wait_until(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.002) -> float:
    """Poll ``condition`` until it holds and return the seconds it took; AssertionError naming
    ``what`` after ``timeout`` seconds."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
    return time.monotonic() - start


class Background:
    """A function on a thread; ``join`` waits (bounded) and raises what it raised."""

    def __init__(self, target: Callable[[], Any], name: str) -> None:
        self.error: BaseException | None = None
        self.result: Any = None
        self._target = target
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        try:
            self.result = self._target()
        except BaseException as exc:
            self.error = exc

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout: float = WAIT) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise AssertionError(f"{self._thread.name} did not end within {timeout:g}s")
        if self.error is not None:
            raise self.error
        return self.result


class Workload:
    """``tags`` x ``steps`` points, logged one step (one ``log`` call of every tag) at a time."""

    def __init__(self, *, tags: int, steps: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.tags = [f"fault/t{k}" for k in range(tags)]
        self.steps = steps
        self.values = rng.standard_normal((tags, steps))
        self._rows = self.values.T.tolist()
        self.next_step = 0
        self.logged = 0  # points logged so far (read by other threads)

    @property
    def total(self) -> int:
        return len(self.tags) * self.steps

    @property
    def done(self) -> bool:
        return self.next_step >= self.steps

    def log(self, run: tracker.Run, steps: int) -> None:
        """Log the next ``steps`` steps (fewer at the end)."""
        tags, rows, width = self.tags, self._rows, len(self.tags)
        end = min(self.steps, self.next_step + steps)
        for step in range(self.next_step, end):
            run.log(dict(zip(tags, rows[step], strict=True)), step=step)
            self.logged += width
        self.next_step = end

    def assert_finished_exactly_once(self, run: tracker.Run, address: str) -> None:
        """After ``run.finish()``: the client had every point acknowledged once, and the server at
        ``address`` holds every point once and the run as finished."""
        stats = run.delivery_stats()
        assert stats.points_acked == self.total, stats  # each batch acknowledged once to the client
        with tracker.Api(server=address) as api:
            self.assert_stored_exactly_once(api, run.id)
            record = api.run(run.id)
        assert record.status == "finished" and record.finished_at is not None, record
        assert run.record.status == "finished"

    def assert_stored_exactly_once(self, api: tracker.Api, run_id: str) -> None:
        """The server holds every point once: each tag's steps are exactly 0..steps-1 in order, its
        values are the logged doubles bit for bit, and its count and summary agree."""
        expected_steps = np.arange(self.steps, dtype=np.int64)
        for k, tag in enumerate(self.tags):
            series = api.scalars(run_id, tag)
            steps = series.steps
            if steps.size != self.steps or not np.array_equal(steps, expected_steps):
                counts = np.bincount(steps[(steps >= 0) & (steps < self.steps)], minlength=self.steps)
                missing = np.flatnonzero(counts == 0)
                doubled = np.flatnonzero(counts > 1)
                raise AssertionError(
                    f"{tag}: {steps.size:,} points stored for {self.steps:,} logged; "
                    f"{missing.size:,} steps missing (first {missing[:10].tolist()}), "
                    f"{doubled.size:,} steps stored more than once (first {doubled[:10].tolist()})"
                )
            wrong = np.flatnonzero(series.values.view(np.uint64) != self.values[k].view(np.uint64))
            assert wrong.size == 0, f"{tag}: {wrong.size:,} values differ (at steps {wrong[:10].tolist()}...)"
        records = {t.tag: t for t in api.tags(run_id)}
        assert sorted(records) == sorted(self.tags), f"tags stored: {sorted(records)}"
        for k, tag in enumerate(self.tags):
            record = records[tag]
            assert record.count == self.steps, f"{tag}: the tag counts {record.count:,} points"
            assert record.summary is not None
            assert record.summary.count == self.steps, f"{tag}: the summary counts {record.summary.count:,}"
            assert record.summary.min_value == self.values[k].min()
            assert record.summary.max_value == self.values[k].max()
            assert record.summary.last_step == self.steps - 1
            assert record.summary.last_value == self.values[k][-1]
