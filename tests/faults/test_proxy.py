"""Fault tests (d) and (e): network faults between a logging client and a real server.

A TCP proxy (tests/faults/proxy.py) sits between ``tracker.init(server=proxy.address)`` and the
server of the ``address`` fixture (SQLite and PostgreSQL). The client logs 100,000 points
(2 tags x 50,000 steps) in rounds of 10,000 points, flushing after each; faults are armed to
fire after a seeded random number of bytes (TRACKER_FAULT_SEED overrides the seed), so they land
inside a message:

- reset: both sides of the connection closed with RST, four times (three inside a batch going
  up, one inside an acknowledgement coming down);
- stall: nothing forwarded either way until the client has given up on the stream (its ack
  deadline passed), then forwarding resumes, or the connection is reset;
- slice: forwarding in pieces of 1-7 bytes with delays up to 1 ms until the client has given up
  on the stream at least once;
- (e) acknowledgements held (server -> client only) after the server committed a batch, until
  the client's deadline passed: the client resends and the server answers ``duplicate``.

Each test proves its fault happened from the proxy's counters and the client's delivery stats,
and checks that the server holds every point exactly once and the run finished.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator

import pytest

import tracker_client as tracker
from tests.faults.proxy import BOTH, DOWN, UP, Proxy
from tests.faults.workload import WAIT, Background, Workload, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.timeout(90)]

SEED = int(os.environ.get("TRACKER_FAULT_SEED", "20250611"))
TAGS, STEPS = 2, 50_000  # 100,000 points
ROUND_STEPS = 5_000  # 10,000 points per round, about 240 kB up and 80 bytes down
ROUND_UP_BYTES = 200_000  # a trigger in [1, this] going up fires within its round
ROUND_DOWN_BYTES = 40  # likewise coming down
ACK_TIMEOUT = 1.5  # the client's deadline for an acknowledgement, for stalls


@pytest.fixture
def proxy(address: str) -> Iterator[Proxy]:
    with Proxy(address, seed=SEED) as running:
        yield running


def _init(proxy: Proxy, name: str, timeout: float = ACK_TIMEOUT) -> tracker.Run:
    return tracker.init(
        project="faults", name=name, server=proxy.address, flush_interval=0.02, timeout=timeout
    )


def _session(run: tracker.Run, workload: Workload, arm: dict[int, object]) -> None:
    """Log every round and flush after each; before round r, ``arm[r]()`` arms a fault."""
    rounds = 0
    while not workload.done:
        action = arm.get(rounds)
        if callable(action):
            action()
        workload.log(run, ROUND_STEPS)
        run.flush(timeout=WAIT)
        rounds += 1


def _finish_and_check(run: tracker.Run, workload: Workload, address: str) -> None:
    """Finish the run, then read everything back from the server itself (not through the proxy)."""
    run.finish(timeout=WAIT)
    workload.assert_finished_exactly_once(run, address)


def test_connections_reset_mid_stream(proxy: Proxy, address: str, backend: str) -> None:
    rng = random.Random(SEED)
    workload = Workload(tags=TAGS, steps=STEPS, seed=SEED)
    rounds = sorted(rng.sample(range(1, STEPS // ROUND_STEPS - 1), 4))
    directions = [UP, DOWN, UP, UP]
    offsets = [rng.randint(1, ROUND_UP_BYTES if d == UP else ROUND_DOWN_BYTES) for d in directions]
    run = _init(proxy, f"reset-{backend}", timeout=10)
    reset_counts: list[int] = []
    fired = []

    def arm(direction: str, nbytes: int):  # type: ignore[no-untyped-def]
        return lambda: fired.append(
            proxy.after(nbytes, lambda: reset_counts.append(proxy.reset_now()), direction)  # type: ignore[arg-type]
        )

    _session(run, workload, {r: arm(d, n) for r, d, n in zip(rounds, directions, offsets, strict=True)})
    wait_until(lambda: all(e.is_set() for e in fired), 10, "every reset to fire")
    _finish_and_check(run, workload, address)

    assert len(fired) == 4 and reset_counts == [1, 1, 1, 1], reset_counts  # each tore down a live connection
    stats = proxy.stats()
    assert stats.resets == 4 and stats.accepted >= 5, stats  # and the client came back each time
    assert run.delivery_stats().reconnects >= 4, run.delivery_stats()


@pytest.mark.parametrize("then", ["resume", "reset"])
def test_stall_longer_than_the_ack_deadline(proxy: Proxy, address: str, backend: str, then: str) -> None:
    rng = random.Random(SEED)
    workload = Workload(tags=TAGS, steps=STEPS, seed=SEED)
    stall_round = rng.randrange(2, STEPS // ROUND_STEPS - 2)
    offset = rng.randint(1, ROUND_UP_BYTES)
    run = _init(proxy, f"stall-{then}-{backend}")
    stats = run.delivery_stats()
    scripts: list[Background] = []

    def stall(fired: threading.Event) -> dict[str, object]:
        wait_until(fired.is_set, WAIT, "the stall to begin")
        began, at_stall, reconnects = time.monotonic(), proxy.stats(), stats.reconnects
        # Longer than the deadline, and until the client gave up on the silent stream.
        wait_until(
            lambda: stats.reconnects > reconnects and time.monotonic() - began > ACK_TIMEOUT,
            WAIT,
            "the client to give up on the stalled stream",
        )
        at_end, lasted = proxy.stats(), time.monotonic() - began
        resets = proxy.reset() if then == "reset" else 0
        proxy.resume(*BOTH)
        return {
            "lasted": lasted,
            "flowed": {d: at_end.forwarded[d] - at_stall.forwarded[d] for d in BOTH},
            "held": at_end.held[UP],
            "reconnects": stats.reconnects - reconnects,
            "resets": resets,
        }

    def arm() -> None:
        fired = proxy.after(offset, proxy.pause_now(*BOTH), UP)
        scripts.append(Background(lambda: stall(fired), name="stall"))

    _session(run, workload, {stall_round: arm})
    (script,) = scripts
    outcome = script.join()
    _finish_and_check(run, workload, address)

    assert outcome["lasted"] > ACK_TIMEOUT, outcome  # longer than the client's deadline
    assert outcome["flowed"] == {UP: 0, DOWN: 0}, outcome  # nothing got through while stalled
    assert outcome["held"] >= 1, outcome  # the batch being sent was cut and held
    assert outcome["reconnects"] >= 1, outcome  # the client gave up on the stream during the stall
    if then == "reset":
        assert outcome["resets"] >= 1, outcome
    assert run.delivery_stats().reconnects > 0, run.delivery_stats()


def test_stream_sliced_into_tiny_pieces(proxy: Proxy, address: str, backend: str) -> None:
    rng = random.Random(SEED)
    workload = Workload(tags=TAGS, steps=STEPS, seed=SEED)
    slice_round = rng.randrange(2, STEPS // ROUND_STEPS - 2)
    offset = rng.randint(1, ROUND_UP_BYTES)
    run = _init(proxy, f"slice-{backend}")
    stats = run.delivery_stats()
    scripts: list[Background] = []

    def slicing(fired: threading.Event) -> dict[str, object]:
        wait_until(fired.is_set, WAIT, "slicing to begin")
        began, at_start, reconnects = time.monotonic(), proxy.stats(), stats.reconnects
        # Slow enough that a batch misses its deadline: slice until the client reconnected.
        wait_until(
            lambda: stats.reconnects > reconnects and proxy.stats().sliced[DOWN] > at_start.sliced[DOWN],
            WAIT,
            "the client to give up on the sliced stream",
        )
        proxy.slice_off()
        at_end = proxy.stats()
        return {
            "lasted": time.monotonic() - began,
            "sliced": {d: at_end.sliced[d] - at_start.sliced[d] for d in BOTH},
            "bytes": {d: at_end.forwarded[d] - at_start.forwarded[d] for d in BOTH},
            "largest": at_end.largest_slice,
            "reconnects": stats.reconnects - reconnects,
        }

    def arm() -> None:
        fired = proxy.after(offset, proxy.slice_now(1, 7, 0.001), UP)
        scripts.append(Background(lambda: slicing(fired), name="slice"))

    _session(run, workload, {slice_round: arm})
    (script,) = scripts
    outcome = script.join()
    _finish_and_check(run, workload, address)

    assert 1 <= outcome["largest"] <= 7, outcome  # type: ignore[operator]
    assert outcome["sliced"][UP] >= 100 and outcome["sliced"][DOWN] >= 1, outcome  # type: ignore[index]
    assert outcome["reconnects"] >= 1, outcome
    assert run.delivery_stats().reconnects > 0, run.delivery_stats()


def test_ack_held_past_the_deadline_after_commit_is_answered_duplicate(
    proxy: Proxy, address: str, backend: str
) -> None:
    """(e) DEADLINE_EXCEEDED after commit: the resend must not write twice."""
    workload = Workload(tags=TAGS, steps=20_000, seed=SEED)
    run = _init(proxy, f"late-ack-{backend}")
    stats = run.delivery_stats()
    workload.log(run, 10_000)
    run.flush(timeout=WAIT)
    acked, reconnects, duplicates = stats.points_acked, stats.reconnects, stats.duplicates
    assert acked == 20_000 and duplicates == 0

    proxy.pause(DOWN)  # acknowledgements are held; requests still reach the server
    workload.log(run, 500)  # one small batch, well within the HTTP/2 flow-control window
    flusher = Background(lambda: run.flush(timeout=WAIT), name="flush")
    with tracker.Api(server=address) as direct:
        # The server committed the batch ...
        wait_until(
            lambda: [t.count for t in direct.tags(run.id)] == [10_500] * TAGS,
            WAIT,
            "the server to commit the batch",
            interval=0.02,
        )
    assert stats.points_acked == acked  # ... and the client has not heard of it.
    # The client gives up on the stream (ack overdue), reopens it and resends the batch.
    wait_until(lambda: stats.reconnects > reconnects, WAIT, "the client to give up on the stream")
    assert not flusher.done and stats.points_acked == acked
    held = proxy.stats().held[DOWN]
    proxy.resume(DOWN)
    flusher.join()

    assert held >= 1  # acknowledgements really were held back
    assert stats.duplicates >= duplicates + 1, stats  # the resend was recognised as committed
    assert stats.points_acked == 21_000, stats
    while not workload.done:
        workload.log(run, ROUND_STEPS)
        run.flush(timeout=WAIT)
    _finish_and_check(run, workload, address)
