"""The ingest and run contract at the raw gRPC level, as a client in any language sees it.

Batches are the typed ``WriteBatch`` (packed ``repeated sfixed64``/``double``), sent with
IngestService.WriteOne and the bidi IngestService.Write, through a real channel to a real server on
a fresh SQLite or PostgreSQL database. Every rejection is checked for its exact status code, the
field its message names, and that nothing of the rejected request was stored.
"""

from __future__ import annotations

import base64
import json
import math
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import numpy as np
import pytest
from sqlalchemy import select

import tracker_client as tracker
from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_server.domain import limits
from tracker_server.store.engine import Database
from tracker_server.store.schema import IngestCursor

TIMEOUT = 30.0
MAX_STEP = 2**63 - 1


# ---------------------------------------------------------------------------------------------
# Helpers


@dataclass
class Stubs:
    channel: grpc.Channel
    runs: pb_grpc.RunServiceStub
    ingest: pb_grpc.IngestServiceStub
    reads: pb_grpc.ReadServiceStub


@pytest.fixture
def stubs(address: str) -> Iterator[Stubs]:
    channel = grpc.insecure_channel(
        address,
        options=[
            ("grpc.max_receive_message_length", 64 * 1024 * 1024),
            ("grpc.max_send_message_length", 64 * 1024 * 1024),
        ],
    )
    yield Stubs(
        channel,
        pb_grpc.RunServiceStub(channel),
        pb_grpc.IngestServiceStub(channel),
        pb_grpc.ReadServiceStub(channel),
    )
    channel.close()


def new_run(stubs: Stubs, name: str = "r", project: str = "p") -> str:
    response = stubs.runs.CreateRun(pb.CreateRunRequest(project=project, name=name), timeout=TIMEOUT)
    assert response.run.status == pb.RUN_STATUS_RUNNING
    return str(response.run.id)


def col(
    tag: str, steps: list[int], values: list[float] | None = None, wall_times: list[float] | None = None
) -> pb.ScalarColumn:
    """A scalar column; values default to step / 2 and wall times to 1000 + step."""
    return pb.ScalarColumn(
        tag=tag,
        steps=steps,
        values=[s / 2 for s in steps] if values is None else values,
        wall_times=[1000.0 + s for s in steps] if wall_times is None else wall_times,
    )


def hist(
    step: int = 0,
    limits_: tuple[float, ...] = (0.0, 1.0, 2.0),
    counts: tuple[float, ...] = (1.0, 2.0, 3.0),
    *,
    nan_count: float = 0.0,
    count: float | None = None,
    wall_time: float = 5.0,
) -> pb.Histogram:
    """A histogram whose count adds up unless ``count`` says otherwise."""
    return pb.Histogram(
        step=step,
        wall_time=wall_time,
        count=sum(counts) + nan_count if count is None else count,
        min=-0.5,
        max=1.5,
        sum=3.25,
        sum_squares=4.5,
        bucket_limits=limits_,
        bucket_counts=counts,
        nan_count=nan_count,
    )


def hcol(tag: str, *histograms: pb.Histogram) -> pb.HistogramColumn:
    return pb.HistogramColumn(tag=tag, histograms=histograms)


def batch(
    run_id: str,
    seq: int,
    *scalars: pb.ScalarColumn,
    writer: str = "w",
    histograms: tuple[pb.HistogramColumn, ...] = (),
) -> pb.WriteBatch:
    return pb.WriteBatch(run_id=run_id, writer_id=writer, seq=seq, scalars=scalars, histograms=histograms)


def write(stubs: Stubs, message: pb.WriteBatch) -> pb.WriteAck:
    return stubs.ingest.WriteOne(message, timeout=TIMEOUT)


def rpc_error(call: Callable[[], object], code: grpc.StatusCode, *words: str) -> str:
    """Make the call, which must fail with ``code`` and a message holding every one of ``words``."""
    with pytest.raises(grpc.RpcError) as caught:
        result = call()
        if isinstance(result, Iterator):  # a server stream fails when it is read
            list(result)
    error = caught.value
    assert isinstance(error, grpc.Call)
    details = error.details() or ""
    assert error.code() == code, f"{error.code()}: {details}"
    for word in words:
        assert word in details, f"{word!r} not in {details!r}"
    return details


def tags(stubs: Stubs, run_id: str) -> list[tuple[int, str, int]]:
    """(kind, tag, count) of every tag of the run, in the server's order."""
    response = stubs.reads.ListTags(pb.ListTagsRequest(run_id=run_id), timeout=TIMEOUT)
    assert response.next_page_token == ""
    return [(t.kind, t.tag, t.count) for t in response.tags]


def scalars(
    stubs: Stubs, run_id: str, tag: str, **step_range: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(steps, wall_times, values) of a scalar tag, read with the typed ScalarPage."""
    pages = list(
        stubs.reads.ReadScalars(pb.ReadScalarsRequest(run_id=run_id, tag=tag, **step_range), timeout=TIMEOUT)
    )
    assert pages, "ReadScalars sends at least one page"
    return (
        np.array([s for p in pages for s in p.steps], dtype=np.int64),
        np.array([w for p in pages for w in p.wall_times], dtype=np.float64),
        np.array([v for p in pages for v in p.values], dtype=np.float64),
    )


def cursor(db: Database, run_id: str, writer: str = "w") -> int | None:
    """The writer's exactly-once cursor as stored (None: the writer never committed a batch)."""
    with db.read() as conn:
        return conn.scalar(
            select(IngestCursor.last_seq).where(
                IngestCursor.run_id == run_id, IngestCursor.writer_id == writer
            )
        )


def acks(call: Iterator[pb.WriteAck]) -> list[tuple[str, int, bool]]:
    return [(a.writer_id, a.seq, a.duplicate) for a in call]


def each_case(cases: dict[str, object], check: Callable[[str], None]) -> None:
    """Run ``check`` for every case on this test's server, then fail listing every case that failed.

    Cases of pure input validation share one server and database per backend (a fresh run each);
    a database per case would cost more than the checks themselves.
    """
    failed = []
    for case in cases:
        try:
            check(case)
        except (AssertionError, pytest.fail.Exception) as exc:
            failed.append(f"{case}: {exc}")
    assert not failed, "\n".join(failed)


# ---------------------------------------------------------------------------------------------
# Exactly-once


def test_a_batch_sent_twice_is_acknowledged_as_a_duplicate_and_stored_once(
    stubs: Stubs, db: Database
) -> None:
    run = new_run(stubs)
    message = batch(run, 1, col("loss", [0, 1, 2]), histograms=(hcol("w", hist(0)),))
    first = write(stubs, message)
    assert (first.writer_id, first.seq, first.duplicate) == ("w", 1, False)
    second = write(stubs, message)
    assert (second.writer_id, second.seq, second.duplicate) == ("w", 1, True)

    steps, walls, values = scalars(stubs, run, "loss")
    assert steps.tolist() == [0, 1, 2]
    assert values.tolist() == [0.0, 0.5, 1.0]
    assert walls.tolist() == [1000.0, 1001.0, 1002.0]
    assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "loss", 3), (pb.SERIES_KIND_HISTOGRAM, "w", 1)]
    assert cursor(db, run) == 1


def test_an_earlier_seq_sent_again_is_a_duplicate_and_not_applied(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    sent = [batch(run, seq, col("x", [seq * 10, seq * 10 + 1])) for seq in (1, 2, 3)]
    assert [write(stubs, m).duplicate for m in sent] == [False, False, False]
    again = write(stubs, sent[1])
    assert (again.seq, again.duplicate) == (2, True)
    # A duplicate is recognised by (writer_id, seq) alone: different content is not applied either.
    changed = write(stubs, batch(run, 2, col("x", [99]), col("other", [1])))
    assert (changed.seq, changed.duplicate) == (2, True)

    steps, _, values = scalars(stubs, run, "x")
    assert steps.tolist() == [10, 11, 20, 21, 30, 31]
    assert values.tolist() == [5.0, 5.5, 10.0, 10.5, 15.0, 15.5]
    assert [t[1:] for t in tags(stubs, run)] == [("x", 6)]
    assert cursor(db, run) == 3
    # The writer carries on after its duplicates.
    assert write(stubs, batch(run, 4, col("x", [40]))).duplicate is False
    assert cursor(db, run) == 4


def test_a_gap_in_a_writers_sequence_fails_and_stores_nothing(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    for seq in (1, 2, 3):
        write(stubs, batch(run, seq, col("x", [seq])))
    details = rpc_error(
        lambda: write(stubs, batch(run, 5, col("x", [5]), col("gap", [5]))),
        grpc.StatusCode.FAILED_PRECONDITION,
        "5",
        "3",
        "in order",
    )
    assert "'w'" in details
    assert [t[1:] for t in tags(stubs, run)] == [("x", 3)]
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2, 3]
    assert cursor(db, run) == 3
    # The missing batch, then the one that was refused, are applied in order.
    assert write(stubs, batch(run, 4, col("x", [4]))).duplicate is False
    assert write(stubs, batch(run, 5, col("x", [5]), col("gap", [5]))).duplicate is False
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2, 3, 4, 5]
    assert cursor(db, run) == 5


def test_a_new_writer_must_start_at_seq_1(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    rpc_error(
        lambda: write(stubs, batch(run, 2, col("x", [1]), writer="fresh")),
        grpc.StatusCode.FAILED_PRECONDITION,
        "'fresh'",
        "2",
        "in order",
    )
    assert tags(stubs, run) == []
    assert cursor(db, run, "fresh") is None


@pytest.mark.parametrize("seq", [1, 3])
def test_the_same_batch_sent_concurrently_is_applied_exactly_once(
    stubs: Stubs, db: Database, seq: int
) -> None:
    """Eight deliveries of one batch race (a new writer's first batch, and a later one): one applies it."""
    run = new_run(stubs)
    for earlier in range(1, seq):
        write(stubs, batch(run, earlier, col("warmup", [earlier])))
    message = batch(run, seq, col("x", list(range(100))), histograms=(hcol("h", hist(7)),))
    barrier = threading.Barrier(8, timeout=TIMEOUT)
    results: list[pb.WriteAck | BaseException] = []
    lock = threading.Lock()

    def deliver() -> None:
        barrier.wait()
        try:
            outcome: pb.WriteAck | BaseException = write(stubs, message)
        except BaseException as exc:  # reported below
            outcome = exc
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert len(results) == 8
    assert sorted((a.writer_id, a.seq, a.duplicate) for a in results if isinstance(a, pb.WriteAck)) == (
        [("w", seq, False)] + [("w", seq, True)] * 7
    )
    steps, _, values = scalars(stubs, run, "x")
    assert steps.tolist() == list(range(100))
    assert values.tolist() == [s / 2 for s in range(100)]
    summary = {t.tag: t for t in stubs.reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags}
    assert summary["x"].count == 100 and summary["x"].summary.count == 100
    assert summary["h"].count == 1
    assert cursor(db, run) == seq


def test_writers_are_independent(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    a = write(stubs, batch(run, 1, col("x", [1]), writer="a"))
    b = write(stubs, batch(run, 1, col("x", [2]), writer="b"))
    assert (a.writer_id, a.seq, a.duplicate) == ("a", 1, False)
    assert (b.writer_id, b.seq, b.duplicate) == ("b", 1, False)
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2]
    assert (cursor(db, run, "a"), cursor(db, run, "b")) == (1, 1)
    # The same writer id on another run is another writer.
    other = new_run(stubs, "other")
    assert write(stubs, batch(other, 1, col("x", [3]), writer="a")).duplicate is False
    assert scalars(stubs, other, "x")[0].tolist() == [3]


def test_concurrent_writers_to_shared_tags_all_land(stubs: Stubs, address: str) -> None:
    """Eight writers each send three batches at once, creating and extending the same series."""
    run = new_run(stubs)
    writers, batches, points = 8, 3, 50
    barrier = threading.Barrier(writers, timeout=TIMEOUT)
    failures: list[BaseException] = []
    outcomes: list[tuple[str, int, bool]] = []
    lock = threading.Lock()

    def writer(i: int) -> None:
        try:
            barrier.wait()
            for seq in range(1, batches + 1):
                steps = [i * 1000 + seq * 100 + j for j in range(points)]
                ack = write(
                    stubs,
                    batch(
                        run,
                        seq,
                        col("shared/a", steps),
                        col("shared/b", steps[::-1]),
                        col(f"own/{i}", steps),
                        writer=f"writer-{i}",
                        histograms=(hcol("shared/h", hist(steps[0])),),
                    ),
                )
                with lock:
                    outcomes.append((ack.writer_id, ack.seq, ack.duplicate))
        except BaseException as exc:  # reported below
            with lock:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    assert sorted(outcomes) == sorted((f"writer-{i}", s, False) for i in range(writers) for s in range(1, 4))

    every_step = sorted(
        i * 1000 + s * 100 + j for i in range(writers) for s in range(1, batches + 1) for j in range(points)
    )
    with tracker.Api(server=address) as api:
        for tag in ("shared/a", "shared/b"):
            series = api.scalars(run, tag)
            assert series.steps.tolist() == every_step
            assert series.values.tolist() == [s / 2 for s in every_step]
        infos = {t.tag: t for t in api.tags(run)}
        assert infos["shared/a"].summary is not None
        assert infos["shared/a"].summary.count == len(every_step)
        assert infos["shared/b"].summary is not None
        assert infos["shared/b"].summary.count == len(every_step)
        assert infos["shared/a"].summary.last_step == max(every_step)
        assert infos["shared/a"].summary.min_value == min(every_step) / 2
        assert infos["shared/h"].count == writers * batches
        own = [f"own/{i}" for i in range(writers)]
        assert sorted(infos) == sorted(["shared/a", "shared/b", "shared/h", *own])


def test_the_stream_acknowledges_every_batch_in_order(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    b1 = batch(run, 1, col("x", [1]))
    b2 = batch(run, 2, col("x", [2]), histograms=(hcol("h", hist(2)),))
    b3 = batch(run, 3, col("x", [3]))
    other = batch(run, 1, col("x", [100]), writer="other")
    sent = [b1, b2, b2, other, b3, b2, b3]
    assert acks(stubs.ingest.Write(iter(sent), timeout=TIMEOUT)) == [
        ("w", 1, False),
        ("w", 2, False),
        ("w", 2, True),
        ("other", 1, False),
        ("w", 3, False),
        ("w", 2, True),
        ("w", 3, True),
    ]
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2, 3, 100]
    assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "x", 4), (pb.SERIES_KIND_HISTOGRAM, "h", 1)]
    assert cursor(db, run) == 3
    # A later stream resumes the sequence; an empty stream is answered with no acks.
    assert acks(stubs.ingest.Write(iter([b3, batch(run, 4, col("x", [4]))]), timeout=TIMEOUT)) == [
        ("w", 3, True),
        ("w", 4, False),
    ]
    assert acks(stubs.ingest.Write(iter([]), timeout=TIMEOUT)) == []


def test_the_stream_acks_a_repeated_first_batch_as_a_duplicate(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    b1 = batch(run, 1, col("x", [1]))
    b2 = batch(run, 2, col("x", [2]))
    assert acks(stubs.ingest.Write(iter([b1, b1, b2, b1]), timeout=TIMEOUT)) == [
        ("w", 1, False),
        ("w", 1, True),
        ("w", 2, False),
        ("w", 1, True),
    ]
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2]
    assert cursor(db, run) == 2


def test_the_stream_acks_each_batch_after_commit_before_the_next_arrives(stubs: Stubs) -> None:
    """Lock-step: the next batch is sent only once the previous ack is in, and is readable by then."""
    run = new_run(stubs)
    outbox: queue.Queue[pb.WriteBatch | None] = queue.Queue()

    def requests() -> Iterator[pb.WriteBatch]:
        while (item := outbox.get(timeout=TIMEOUT)) is not None:
            yield item

    outbox.put(batch(run, 1, col("x", [0])))
    call = stubs.ingest.Write(requests(), timeout=TIMEOUT)
    received = []
    for ack in call:
        received.append((ack.seq, ack.duplicate))
        # Acknowledged after commit: the batch is visible to another reader now.
        assert scalars(stubs, run, "x")[0].tolist() == list(range(ack.seq))
        outbox.put(batch(run, ack.seq + 1, col("x", [ack.seq])) if ack.seq < 5 else None)
    assert received == [(1, False), (2, False), (3, False), (4, False), (5, False)]


def test_an_error_ends_the_stream_after_the_batches_before_it(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    sent = [
        batch(run, 1, col("x", [1])),
        batch(run, 2, col("x", [2]), col("", [2])),
        batch(run, 3, col("x", [3])),
    ]
    call = stubs.ingest.Write(iter(sent), timeout=TIMEOUT)
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for ack in call:
            received.append((ack.seq, ack.duplicate))
    assert received == [(1, False)]
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "scalars[1].tag" in (caught.value.details() or "")
    assert scalars(stubs, run, "x")[0].tolist() == [1]
    assert cursor(db, run) == 1

    gap = stubs.ingest.Write(
        iter([batch(run, 2, col("x", [2])), batch(run, 4, col("x", [4]))]), timeout=TIMEOUT
    )
    received = []
    with pytest.raises(grpc.RpcError) as caught:
        for ack in gap:
            received.append((ack.seq, ack.duplicate))
    assert received == [(2, False)]
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "in order" in (caught.value.details() or "")
    assert scalars(stubs, run, "x")[0].tolist() == [1, 2]
    assert cursor(db, run) == 2


# ---------------------------------------------------------------------------------------------
# No partial writes

# A batch with a valid scalar column first and one bad part after it: the words its message must hold.
HALF_BAD: dict[str, tuple[Callable[[str], pb.WriteBatch], tuple[str, ...]]] = {
    "mismatched lengths": (
        lambda run: batch(run, 1, col("good", [0, 1]), col("bad", [0, 1, 2], values=[1.0, 2.0])),
        ("scalars[1]", "'bad'", "equal lengths"),
    ),
    "bad tag": (
        lambda run: batch(run, 1, col("good", [0, 1]), col("bad\ntag", [0])),
        ("scalars[1].tag", "non-printable"),
    ),
    "negative step": (
        lambda run: batch(run, 1, col("good", [0, 1]), col("bad", [3, -1, 4])),
        ("scalars[1]", "steps", ">= 0", "-1"),
    ),
    "histogram that does not add up": (
        lambda run: batch(run, 1, col("good", [0, 1]), histograms=(hcol("h", hist(0, count=7.0)),)),
        ("histograms[0]", "'h'", "add up"),
    ),
    "second histogram bad": (
        lambda run: batch(
            run,
            1,
            col("good", [0, 1]),
            histograms=(hcol("h", hist(0)), hcol("h2", hist(0), hist(1, counts=(1.0, -1.0, 3.0)))),
        ),
        ("histograms[1].histograms[1]", "bucket_counts"),
    ),
}


def test_a_batch_with_one_bad_part_stores_nothing(stubs: Stubs, db: Database) -> None:
    def check(case: str) -> None:
        run = new_run(stubs, case)
        make, words = HALF_BAD[case]
        rpc_error(lambda: write(stubs, make(run)), grpc.StatusCode.INVALID_ARGUMENT, *words)
        assert tags(stubs, run) == []
        rpc_error(lambda: scalars(stubs, run, "good"), grpc.StatusCode.NOT_FOUND, "'good'")
        assert cursor(db, run) is None
        # The cursor did not move: seq 1 with valid data is applied, not a duplicate; the server is up.
        ack = write(stubs, batch(run, 1, col("fixed", [0])))
        assert (ack.seq, ack.duplicate) == (1, False)
        assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "fixed", 1)]
        assert cursor(db, run) == 1

    each_case(HALF_BAD, check)


def test_a_bad_batch_mid_sequence_leaves_the_cursor_where_it_was(stubs: Stubs, db: Database) -> None:
    run = new_run(stubs)
    write(stubs, batch(run, 1, col("x", [0])))
    rpc_error(
        lambda: write(stubs, batch(run, 2, col("x", [1]), col("y", [1], values=[]))),
        grpc.StatusCode.INVALID_ARGUMENT,
        "scalars[1]",
    )
    assert cursor(db, run) == 1
    assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "x", 1)]
    assert write(stubs, batch(run, 2, col("x", [1]))).duplicate is False
    assert scalars(stubs, run, "x")[0].tolist() == [0, 1]


# ---------------------------------------------------------------------------------------------
# Bad input, one problem at a time

LONG_TAG = "t" * 257
BAD_BATCHES: dict[str, tuple[Callable[[str], pb.WriteBatch], tuple[str, ...]]] = {
    "empty run_id": (lambda run: batch("", 1, col("x", [0])), ("run_id",)),
    "empty writer_id": (lambda run: batch(run, 1, col("x", [0]), writer=""), ("writer_id",)),
    "writer_id too long": (lambda run: batch(run, 1, col("x", [0]), writer="w" * 65), ("writer_id", "64")),
    "writer_id with a control character": (
        lambda run: batch(run, 1, col("x", [0]), writer="w\x01"),
        ("writer_id",),
    ),
    "seq 0": (lambda run: batch(run, 0, col("x", [0])), ("seq", ">= 1")),
    "empty tag": (lambda run: batch(run, 1, col("x", [0]), col("", [0])), ("scalars[1].tag", "empty")),
    "tag of 257 characters": (
        lambda run: batch(run, 1, col(LONG_TAG, [0])),
        ("scalars[0].tag", "257", "256"),
    ),
    "tag with a newline": (lambda run: batch(run, 1, col("a\nb", [0])), ("scalars[0].tag", "'\\n'")),
    "tag with a bell": (lambda run: batch(run, 1, col("a\x07b", [0])), ("scalars[0].tag", "'\\x07'")),
    "tag with a line separator": (lambda run: batch(run, 1, col("a\u2028b", [0])), ("scalars[0].tag",)),
    "more steps than values": (
        lambda run: batch(run, 1, col("x", [0, 1], values=[1.0])),
        ("scalars[0]", "equal lengths", "2, 2 and 1"),
    ),
    "fewer wall_times": (
        lambda run: batch(run, 1, col("x", [0, 1], wall_times=[1.0])),
        ("scalars[0]", "equal lengths", "2, 1 and 2"),
    ),
    "more values than steps": (
        lambda run: batch(run, 1, col("x", [0], values=[1.0, 2.0])),
        ("scalars[0]", "equal lengths", "1, 1 and 2"),
    ),
    "empty column": (lambda run: batch(run, 1, col("x", [0]), col("empty", [])), ("scalars[1]", "no points")),
    "negative step": (lambda run: batch(run, 1, col("x", [-5])), ("scalars[0]", "steps", "-5")),
    "most negative step": (lambda run: batch(run, 1, col("x", [0, -(2**63)])), ("scalars[0]", "steps")),
    "NaN wall time": (
        lambda run: batch(run, 1, col("x", [0, 1], wall_times=[1.0, math.nan])),
        ("scalars[0]", "wall_times", "finite"),
    ),
    "infinite wall time": (
        lambda run: batch(run, 1, col("x", [0], wall_times=[-math.inf])),
        ("scalars[0]", "wall_times", "finite"),
    ),
    "empty histogram tag": (
        lambda run: batch(run, 1, histograms=(hcol("", hist()),)),
        ("histograms[0].tag",),
    ),
    "histogram column without histograms": (
        lambda run: batch(run, 1, histograms=(hcol("h"),)),
        ("histograms[0]", "no histograms"),
    ),
    "bucket lengths differ": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(counts=(1.0, 2.0))),)),
        ("histograms[0].histograms[0]", "bucket_limits", "bucket_counts", "3 and 2"),
    ),
    "negative bucket count": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(counts=(1, -2, 3))),)),
        ("histograms[0].histograms[0]", "bucket_counts", ">= 0"),
    ),
    "NaN bucket count": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(counts=(1, math.nan, 3))),)),
        ("histograms[0].histograms[0]", "bucket_counts"),
    ),
    "decreasing limits": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(limits_=(0.0, 2.0, 1.0))),)),
        ("histograms[0].histograms[0]", "bucket_limits", "increasing"),
    ),
    "NaN limit": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(limits_=(0.0, math.nan, 1.0))),)),
        ("histograms[0].histograms[0]", "bucket_limits"),
    ),
    "negative histogram step": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(step=-1)),)),
        ("histograms[0].histograms[0]", "step"),
    ),
    "NaN histogram wall time": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(wall_time=math.nan)),)),
        ("histograms[0].histograms[0]", "wall_time", "finite"),
    ),
    "buckets do not add up": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(count=5.0)),)),
        ("histograms[0].histograms[0]", "add up"),
    ),
    "negative nan_count": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(nan_count=-1, count=5)),)),
        ("histograms[0].histograms[0]", "nan_count"),
    ),
    "infinite count": (
        lambda run: batch(run, 1, histograms=(hcol("h", hist(count=math.inf)),)),
        ("histograms[0].histograms[0]", "count"),
    ),
    "third histogram of the second column": (
        lambda run: batch(
            run, 1, histograms=(hcol("a", hist()), hcol("b", hist(0), hist(1), hist(2, count=1.0)))
        ),
        ("histograms[1].histograms[2]", "'b'", "add up"),
    ),
    "too many columns": (
        lambda run: batch(run, 1, *(col(f"c{i}", [0]) for i in range(limits.MAX_COLUMNS_PER_BATCH + 1))),
        ("columns", str(limits.MAX_COLUMNS_PER_BATCH)),
    ),
}


def test_a_bad_batch_is_invalid_argument_naming_the_field(stubs: Stubs, db: Database) -> None:
    def check(case: str) -> None:
        run = new_run(stubs, case)
        make, words = BAD_BATCHES[case]
        rpc_error(lambda: write(stubs, make(run)), grpc.StatusCode.INVALID_ARGUMENT, *words)
        assert tags(stubs, run) == []
        assert cursor(db, run) is None
        # The same through the stream.
        call = stubs.ingest.Write(iter([make(run)]), timeout=TIMEOUT)
        rpc_error(lambda: call, grpc.StatusCode.INVALID_ARGUMENT, *words)
        assert tags(stubs, run) == []
        assert write(stubs, batch(run, 1, col("x", [0]))).duplicate is False

    each_case(BAD_BATCHES, check)


def test_names_at_the_limits_are_accepted(stubs: Stubs) -> None:
    run = new_run(stubs)
    names = ["t" * 256, "ünï/cödé ✓ 𝔘", "a b/c.d-e_f:g", "🙂" * 256]
    write(
        stubs,
        batch(
            run,
            1,
            *(col(name, [0]) for name in names),
            writer="w" * 64,
            histograms=(hcol("t" * 256, hist()),),
        ),
    )
    assert sorted(t[1] for t in tags(stubs, run) if t[0] == pb.SERIES_KIND_SCALAR) == sorted(names)
    for name in names:
        assert scalars(stubs, run, name)[0].tolist() == [0]


def test_an_unknown_run_is_not_found(stubs: Stubs, db: Database) -> None:
    rpc_error(
        lambda: write(stubs, batch("no-such-run", 1, col("x", [0]))),
        grpc.StatusCode.NOT_FOUND,
        "'no-such-run'",
    )
    rpc_error(
        lambda: stubs.ingest.Write(iter([batch("no-such-run", 1, col("x", [0]))]), timeout=TIMEOUT),
        grpc.StatusCode.NOT_FOUND,
        "'no-such-run'",
    )
    assert cursor(db, "no-such-run") is None


FINAL_STATUSES = {
    "finished": pb.RUN_STATUS_FINISHED,
    "failed": pb.RUN_STATUS_FAILED,
    "killed": pb.RUN_STATUS_KILLED,
}


def test_a_finished_run_refuses_batches_until_it_is_resumed(stubs: Stubs, db: Database) -> None:
    each_case(FINAL_STATUSES, lambda word: _refuses_until_resumed(stubs, db, word))


def _refuses_until_resumed(stubs: Stubs, db: Database, word: str) -> None:
    status = FINAL_STATUSES[word]
    run = new_run(stubs, word)
    write(stubs, batch(run, 1, col("x", [0])))
    finished = stubs.runs.FinishRun(pb.FinishRunRequest(run_id=run, status=status), timeout=TIMEOUT).run
    assert finished.status == status and finished.HasField("finished_at")
    rpc_error(
        lambda: write(stubs, batch(run, 2, col("x", [1]), col("late", [1]))),
        grpc.StatusCode.FAILED_PRECONDITION,
        repr(run),
        word,
        "resume",
    )
    rpc_error(
        lambda: stubs.ingest.Write(iter([batch(run, 2, col("x", [1]))]), timeout=TIMEOUT),
        grpc.StatusCode.FAILED_PRECONDITION,
        word,
    )
    assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "x", 1)]
    assert cursor(db, run) == 1

    resumed = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name=word), timeout=TIMEOUT)
    assert resumed.resumed is True
    assert resumed.run.id == run
    assert resumed.run.status == pb.RUN_STATUS_RUNNING
    assert not resumed.run.HasField("finished_at")
    assert resumed.next_step == 1
    ack = write(stubs, batch(run, 2, col("x", [1]), col("late", [1])))
    assert (ack.seq, ack.duplicate) == (2, False)
    assert tags(stubs, run) == [(pb.SERIES_KIND_SCALAR, "late", 1), (pb.SERIES_KIND_SCALAR, "x", 2)]


def test_concurrent_create_run_of_one_new_name_creates_one_run(stubs: Stubs) -> None:
    """Eight clients start the same new run at once (five rounds): one creates it, the others resume it."""
    names = [f"race-{i}" for i in range(5)]
    for name in names:
        barrier = threading.Barrier(8, timeout=TIMEOUT)
        outcomes: list[object] = []
        lock = threading.Lock()

        def create(
            name: str = name,
            barrier: threading.Barrier = barrier,
            outcomes: list[object] = outcomes,
            lock: threading.Lock = lock,
        ) -> None:
            barrier.wait()
            try:
                response = stubs.runs.CreateRun(
                    pb.CreateRunRequest(project="p", name=name, hparams={"lr": _hp(float_value=0.5)}),
                    timeout=TIMEOUT,
                )
                outcome: object = (response.run.id, response.resumed, response.run.status)
            except grpc.RpcError as exc:
                outcome = (exc.code(), exc.details())
            with lock:
                outcomes.append(outcome)

        threads = [threading.Thread(target=create) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(TIMEOUT)
        assert not any(t.is_alive() for t in threads)
        ids = {o[0] for o in outcomes}  # type: ignore[index]
        assert len(ids) == 1, outcomes
        assert sorted(o[1] for o in outcomes) == [False] + [True] * 7  # type: ignore[index]
    listed = stubs.runs.ListRuns(pb.ListRunsRequest(project="p"), timeout=TIMEOUT).runs
    assert sorted(r.name for r in listed) == names
    assert all(dict(r.hparams)["lr"].float_value == 0.5 for r in listed)


def test_finish_run_needs_a_final_status(stubs: Stubs) -> None:
    run = new_run(stubs)
    for status in (pb.RUN_STATUS_RUNNING, pb.RUN_STATUS_UNSPECIFIED, 99):
        request = pb.FinishRunRequest(run_id=run, status=status)
        rpc_error(
            lambda r=request: stubs.runs.FinishRun(r, timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            "status",
            "RUN_STATUS_FINISHED",
        )
        got = stubs.runs.GetRun(pb.GetRunRequest(run_id=run), timeout=TIMEOUT).run
        assert got.status == pb.RUN_STATUS_RUNNING and not got.HasField("finished_at")


def test_run_calls_on_an_unknown_run_are_not_found(stubs: Stubs) -> None:
    for call in (
        lambda: stubs.runs.GetRun(pb.GetRunRequest(run_id="nope"), timeout=TIMEOUT),
        lambda: stubs.runs.FinishRun(
            pb.FinishRunRequest(run_id="nope", status=pb.RUN_STATUS_FINISHED), timeout=TIMEOUT
        ),
        lambda: stubs.runs.SetHParams(
            pb.SetHParamsRequest(run_id="nope", hparams={"a": pb.HParamValue(int_value=1)}), timeout=TIMEOUT
        ),
        lambda: stubs.reads.ListTags(pb.ListTagsRequest(run_id="nope"), timeout=TIMEOUT),
        lambda: stubs.reads.ReadScalars(pb.ReadScalarsRequest(run_id="nope", tag="x"), timeout=TIMEOUT),
        lambda: stubs.reads.ReadHistograms(pb.ReadHistogramsRequest(run_id="nope", tag="x"), timeout=TIMEOUT),
    ):
        rpc_error(call, grpc.StatusCode.NOT_FOUND, "'nope'")
    rpc_error(
        lambda: stubs.runs.ListRuns(pb.ListRunsRequest(project="ghost"), timeout=TIMEOUT),
        grpc.StatusCode.NOT_FOUND,
        "'ghost'",
    )
    rpc_error(
        lambda: stubs.runs.ListRuns(pb.ListRunsRequest(project=""), timeout=TIMEOUT),
        grpc.StatusCode.INVALID_ARGUMENT,
        "project",
    )
    assert list(stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects) == []


def _hp(**kinds: object) -> pb.HParamValue:
    return pb.HParamValue(**kinds)  # type: ignore[arg-type]


BAD_CREATES: dict[str, tuple[pb.CreateRunRequest, tuple[str, ...]]] = {
    "empty project": (pb.CreateRunRequest(project="", name="r"), ("project", "empty")),
    "empty name": (pb.CreateRunRequest(project="p", name=""), ("name", "empty")),
    "project with a newline": (pb.CreateRunRequest(project="a\nb", name="r"), ("project",)),
    "name of 257 characters": (pb.CreateRunRequest(project="p", name="n" * 257), ("name", "257")),
    "hparam without a value": (
        pb.CreateRunRequest(
            project="p", name="r", hparams={"ok": _hp(int_value=1), "unset": pb.HParamValue()}
        ),
        ("hparams['unset']", "no value"),
    ),
    "hparam string with NUL": (
        pb.CreateRunRequest(
            project="p", name="r", hparams={"ok": _hp(int_value=1), "s": _hp(string_value="a\x00b")}
        ),
        ("hparams['s']", "NUL"),
    ),
    "hparam string too long": (
        pb.CreateRunRequest(project="p", name="r", hparams={"s": _hp(string_value="x" * 8193)}),
        ("hparams['s']", "8193", "8192"),
    ),
    "empty hparam name": (
        pb.CreateRunRequest(project="p", name="r", hparams={"": _hp(bool_value=True)}),
        ("hparams name", "empty"),
    ),
    "hparam name with a control character": (
        pb.CreateRunRequest(project="p", name="r", hparams={"a\tb": _hp(bool_value=True)}),
        ("hparams name",),
    ),
}


def test_a_bad_create_run_is_invalid_argument_and_creates_nothing(stubs: Stubs) -> None:
    def check(case: str) -> None:
        request, words = BAD_CREATES[case]
        rpc_error(
            lambda: stubs.runs.CreateRun(request, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT, *words
        )
        assert list(stubs.runs.ListProjects(pb.ListProjectsRequest(), timeout=TIMEOUT).projects) == []

    each_case(BAD_CREATES, check)


def test_hparams_at_the_limits_round_trip(stubs: Stubs) -> None:
    hparams = {
        "s": _hp(string_value="x" * 8192),
        "line": _hp(string_value="a\nb\tc ü"),
        "big": _hp(int_value=-(2**63)),
        "nan": _hp(float_value=math.nan),
        "tiny": _hp(float_value=-5e-324),
        "flag": _hp(bool_value=False),
    }
    created = stubs.runs.CreateRun(
        pb.CreateRunRequest(project="p", name="r", hparams=hparams), timeout=TIMEOUT
    )
    run = stubs.runs.GetRun(pb.GetRunRequest(run_id=created.run.id), timeout=TIMEOUT).run
    assert {k: v.WhichOneof("kind") for k, v in run.hparams.items()} == {
        "s": "string_value",
        "line": "string_value",
        "big": "int_value",
        "nan": "float_value",
        "tiny": "float_value",
        "flag": "bool_value",
    }
    assert run.hparams["s"].string_value == "x" * 8192
    assert run.hparams["line"].string_value == "a\nb\tc ü"
    assert run.hparams["big"].int_value == -(2**63)
    assert math.isnan(run.hparams["nan"].float_value)
    assert run.hparams["tiny"].float_value == -5e-324
    assert run.hparams["flag"].bool_value is False


def test_negative_zero_keeps_its_sign_in_points_and_on_postgresql(stubs: Stubs, backend: str) -> None:
    created = stubs.runs.CreateRun(
        pb.CreateRunRequest(project="p", name="r", hparams={"neg0": _hp(float_value=-0.0)}), timeout=TIMEOUT
    )
    run = stubs.runs.GetRun(pb.GetRunRequest(run_id=created.run.id), timeout=TIMEOUT).run
    assert run.hparams["neg0"].WhichOneof("kind") == "float_value"
    write(stubs, batch(run.id, 1, col("x", [0], values=[-0.0])))
    assert scalars(stubs, run.id, "x")[2].tobytes() == np.array([-0.0]).tobytes()  # the points keep it
    (info,) = stubs.reads.ListTags(pb.ListTagsRequest(run_id=run.id), timeout=TIMEOUT).tags
    stored = (run.hparams["neg0"].float_value, info.summary.last_value, info.summary.min_value)
    assert stored == (0.0, 0.0, 0.0)
    # Documented in docs/design.md: SQLite writes a whole-number REAL as an integer, so hparams and
    # summaries read -0.0 back as +0.0 there; PostgreSQL keeps the sign.
    expected_sign = -1.0 if backend == "postgresql" else 1.0
    assert [math.copysign(1.0, v) for v in stored] == [expected_sign] * 3


def _token(*key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


TAMPERED_TOKENS = {
    "not base64": "not a token",
    "nothing left": "!!!",
    "empty list": _token(),
    "too long a list": _token(1, 2, 3),
    "not a list": base64.urlsafe_b64encode(b'{"offset": 1}').decode(),
    "not JSON": base64.urlsafe_b64encode(b"\xff\xfe").decode(),
}


def test_a_tampered_page_token_is_invalid_argument(stubs: Stubs) -> None:
    run = new_run(stubs)

    def check(case: str) -> None:
        token = TAMPERED_TOKENS[case]
        for call in (
            lambda: stubs.runs.ListRuns(pb.ListRunsRequest(project="p", page_token=token), timeout=TIMEOUT),
            lambda: stubs.runs.ListProjects(pb.ListProjectsRequest(page_token=token), timeout=TIMEOUT),
            lambda: stubs.reads.ListTags(pb.ListTagsRequest(run_id=run, page_token=token), timeout=TIMEOUT),
        ):
            rpc_error(call, grpc.StatusCode.INVALID_ARGUMENT, "page_token")

    each_case(TAMPERED_TOKENS, check)
    # A list-runs key whose time does not parse is refused too.
    bad_time = pb.ListRunsRequest(project="p", page_token=_token("yesterday", "x"))
    rpc_error(
        lambda: stubs.runs.ListRuns(bad_time, timeout=TIMEOUT), grpc.StatusCode.INVALID_ARGUMENT, "page_token"
    )


def test_a_list_tags_token_with_a_bad_offset_is_invalid_argument(stubs: Stubs) -> None:
    run = new_run(stubs)
    write(stubs, batch(run, 1, col("x", [0])))
    keys: dict[str, object] = {"string": "x", "null": None, "negative": -1}

    def check(case: str) -> None:
        token = _token(keys[case])
        request = pb.ListTagsRequest(run_id=run, page_token=token)
        rpc_error(
            lambda: stubs.reads.ListTags(request, timeout=TIMEOUT),
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_token",
        )

    each_case(keys, check)


def test_negative_page_sizes_are_invalid_argument(stubs: Stubs) -> None:
    run = new_run(stubs)
    for call in (
        lambda: stubs.runs.ListRuns(pb.ListRunsRequest(project="p", page_size=-1), timeout=TIMEOUT),
        lambda: stubs.runs.ListProjects(pb.ListProjectsRequest(page_size=-1), timeout=TIMEOUT),
        lambda: stubs.reads.ListTags(pb.ListTagsRequest(run_id=run, page_size=-1), timeout=TIMEOUT),
    ):
        rpc_error(call, grpc.StatusCode.INVALID_ARGUMENT, "page_size")


def test_reads_of_missing_tags_and_bad_ranges(stubs: Stubs) -> None:
    run = new_run(stubs)
    write(stubs, batch(run, 1, col("s", [0, 5, 10]), histograms=(hcol("h", hist(0), hist(5)),)))
    rpc_error(lambda: scalars(stubs, run, "missing"), grpc.StatusCode.NOT_FOUND, "'missing'")
    # A histogram tag is not a scalar tag, and the other way round.
    rpc_error(lambda: scalars(stubs, run, "h"), grpc.StatusCode.NOT_FOUND, "'h'")
    rpc_error(
        lambda: stubs.reads.ReadHistograms(pb.ReadHistogramsRequest(run_id=run, tag="s"), timeout=TIMEOUT),
        grpc.StatusCode.NOT_FOUND,
        "'s'",
    )
    rpc_error(
        lambda: scalars(stubs, run, "s", start_step=6, end_step=5),
        grpc.StatusCode.INVALID_ARGUMENT,
        "start_step",
        "end_step",
    )
    rpc_error(
        lambda: stubs.reads.ReadHistograms(
            pb.ReadHistogramsRequest(run_id=run, tag="h", start_step=6, end_step=5), timeout=TIMEOUT
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "start_step",
        "end_step",
    )
    # Equal bounds are a one-step range; a range with nothing in it is one empty page.
    assert scalars(stubs, run, "s", start_step=5, end_step=5)[0].tolist() == [5]
    assert scalars(stubs, run, "s", start_step=6, end_step=9)[0].tolist() == []
    assert scalars(stubs, run, "s", start_step=1)[0].tolist() == [5, 10]
    assert scalars(stubs, run, "s", end_step=5)[0].tolist() == [0, 5]
    pages = list(
        stubs.reads.ReadHistograms(
            pb.ReadHistogramsRequest(run_id=run, tag="h", start_step=1), timeout=TIMEOUT
        )
    )
    assert [h.step for p in pages for h in p.histograms] == [5]


# ---------------------------------------------------------------------------------------------
# Values


def test_nan_and_infinite_values_are_legal_and_stored(stubs: Stubs, address: str) -> None:
    run = new_run(stubs)
    write(
        stubs,
        batch(
            run,
            1,
            col("x", [0, 1, 2, 3], values=[1.0, math.nan, math.inf, -math.inf]),
            col("allnan", [4, 2], values=[math.nan, math.nan]),
        ),
    )
    _, _, values = scalars(stubs, run, "x")
    assert values[0] == 1.0 and math.isnan(values[1]) and values[2] == math.inf and values[3] == -math.inf
    with tracker.Api(server=address) as api:
        infos = {t.tag: t.summary for t in api.tags(run)}
    x, allnan = infos["x"], infos["allnan"]
    assert x is not None and allnan is not None
    assert (x.count, x.last_step, x.last_value) == (4, 3, -math.inf)
    assert (x.min_value, x.max_value, x.first_nonfinite_step) == (-math.inf, math.inf, 1)
    assert (allnan.count, allnan.last_step, allnan.min_value, allnan.max_value) == (2, 4, None, None)
    assert math.isnan(allnan.last_value) and allnan.first_nonfinite_step == 2


def _bits(*words: int) -> list[float]:
    return np.array(words, dtype=np.uint64).view(np.float64).tolist()


SPECIAL_VALUES = np.array(
    [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1 / 3,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        math.inf,
        -math.inf,
        math.nan,
        # NaNs with payloads, negative, signalling, all ones; a negative signalling NaN.
        *_bits(
            0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FFFFFFFFFFFFFFF, 0xFFF0000000000001
        ),
    ],
    dtype=np.float64,
)


def test_typed_batches_store_values_bit_exactly(stubs: Stubs, address: str) -> None:
    run = new_run(stubs)
    n = SPECIAL_VALUES.size
    steps = np.array(
        [0, 1, 2, 3, 1000, 2**31, 2**32 + 1, 2**53 + 1, *range(10, 10 + n - 9), MAX_STEP], dtype=np.int64
    )
    steps.sort()
    assert steps.size == n
    walls = np.array([1.7e9 + i * 0.001 for i in range(n - 3)] + [0.0, -0.0, 5e-324], dtype=np.float64)
    message = batch(
        run,
        1,
        pb.ScalarColumn(
            tag="special", steps=steps.tolist(), wall_times=walls.tolist(), values=SPECIAL_VALUES.tolist()
        ),
    )
    # The typed message carries exactly these bytes on the wire (precondition, client side).
    wire = pb.WriteBatchBytes.FromString(message.SerializeToString()).scalars[0]
    assert wire.values == [SPECIAL_VALUES.astype("<f8").tobytes()]
    assert wire.steps == [steps.astype("<i8").tobytes()]
    assert write(stubs, message).duplicate is False

    got_steps, got_walls, got_values = scalars(stubs, run, "special")
    assert got_steps.tobytes() == steps.tobytes()
    assert got_walls.tobytes() == walls.tobytes()
    assert got_values.tobytes() == SPECIAL_VALUES.tobytes()
    with tracker.Api(server=address) as api:
        series = api.scalars(run, "special")
    assert series.steps.tobytes() == steps.tobytes()
    assert series.wall_times.tobytes() == walls.tobytes()
    assert series.values.tobytes() == SPECIAL_VALUES.tobytes()


def test_points_come_back_ordered_by_step_with_ties_in_logged_order(stubs: Stubs) -> None:
    run = new_run(stubs)
    write(stubs, batch(run, 1, col("x", [5, 1, 5, 0], values=[50.0, 10.0, 51.0, 0.0])))
    write(stubs, batch(run, 2, col("x", [5, 3], values=[52.0, 30.0])))
    steps, walls, values = scalars(stubs, run, "x")
    assert steps.tolist() == [0, 1, 3, 5, 5, 5]
    assert values.tolist() == [0.0, 10.0, 30.0, 50.0, 51.0, 52.0]
    assert walls.tolist() == [1000.0, 1001.0, 1003.0, 1005.0, 1005.0, 1005.0]
    (info,) = stubs.reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT).tags
    assert (info.summary.count, info.summary.last_step, info.summary.last_value) == (6, 5, 52.0)
    assert (info.summary.min_value, info.summary.max_value) == (0.0, 52.0)
    assert not info.summary.HasField("first_nonfinite_step")


def test_typed_histograms_are_stored_exactly(stubs: Stubs) -> None:
    run = new_run(stubs)
    sent = [
        pb.Histogram(
            step=3,
            wall_time=1.5,
            count=7.0,
            min=-math.inf,
            max=1e300,
            sum=math.nan,
            sum_squares=math.inf,
            bucket_limits=[-1e308, -0.0, 5e-324, 1.7976931348623157e308],
            bucket_counts=[1.0, 0.0, 2.5, 2.5],
            nan_count=1.0,
        ),
        pb.Histogram(
            step=1, wall_time=2.5, count=4.0, min=0.0, max=0.0, sum=0.0, sum_squares=0.0, nan_count=4.0
        ),
        pb.Histogram(step=3, wall_time=3.5, count=1.0, bucket_limits=[2.0, 2.0], bucket_counts=[0.0, 1.0]),
    ]
    write(stubs, batch(run, 1, histograms=(hcol("h", *sent),)))
    pages = list(stubs.reads.ReadHistograms(pb.ReadHistogramsRequest(run_id=run, tag="h"), timeout=TIMEOUT))
    got = [h for p in pages for h in p.histograms]
    # Ordered by step, equal steps in logged order; every field bit for bit.
    assert [h.SerializeToString(deterministic=True) for h in got] == [
        sent[i].SerializeToString(deterministic=True) for i in (1, 0, 2)
    ]
    assert tags(stubs, run) == [(pb.SERIES_KIND_HISTOGRAM, "h", 3)]


def test_large_histograms_read_back_in_pages_that_fit(stubs: Stubs) -> None:
    run = new_run(stubs)
    buckets = limits.MAX_HISTOGRAM_BUCKETS
    bucket_limits = np.arange(buckets, dtype=np.float64).tolist()
    counts = [1.0] * buckets
    for seq in (1, 2):  # 20 histograms of 16,384 buckets (~5 MiB) per batch, under the receive limit
        write(
            stubs,
            batch(
                run,
                seq,
                histograms=(
                    hcol(
                        "big",
                        *(
                            pb.Histogram(
                                step=seq * 100 + i,
                                wall_time=1.0,
                                count=buckets,
                                bucket_limits=bucket_limits,
                                bucket_counts=counts,
                            )
                            for i in range(20)
                        ),
                    ),
                ),
            ),
        )
    pages = list(stubs.reads.ReadHistograms(pb.ReadHistogramsRequest(run_id=run, tag="big"), timeout=TIMEOUT))
    got = [h.step for p in pages for h in p.histograms]
    assert got == [*range(100, 120), *range(200, 220)]


def test_a_step_just_below_the_largest_resumes_at_the_largest(stubs: Stubs) -> None:
    run = new_run(stubs, "edge")
    write(stubs, batch(run, 1, col("x", [MAX_STEP - 1])))
    resumed = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="edge"), timeout=TIMEOUT)
    assert (resumed.resumed, resumed.run.id, resumed.next_step) == (True, run, MAX_STEP)


def test_a_run_holding_the_largest_step_can_be_resumed(stubs: Stubs) -> None:
    run = new_run(stubs, "edge")
    assert write(stubs, batch(run, 1, col("x", [MAX_STEP]))).duplicate is False
    assert scalars(stubs, run, "x")[0].tolist() == [MAX_STEP]
    resumed = stubs.runs.CreateRun(pb.CreateRunRequest(project="p", name="edge"), timeout=TIMEOUT)
    assert (resumed.resumed, resumed.run.id) == (True, run)


def test_a_nul_character_in_an_id_or_tag_is_not_an_internal_error(stubs: Stubs) -> None:
    """A run id or tag holding NUL names nothing that exists. NOT_FOUND (what SQLite answers) or
    INVALID_ARGUMENT are both fair; INTERNAL is not, and both databases must agree."""
    run = new_run(stubs)
    calls: dict[str, Callable[[], object]] = {
        "GetRun": lambda: stubs.runs.GetRun(pb.GetRunRequest(run_id="a\x00b"), timeout=TIMEOUT),
        "WriteOne": lambda: write(stubs, batch("a\x00b", 1, col("x", [0]))),
        "ListTags": lambda: stubs.reads.ListTags(pb.ListTagsRequest(run_id="a\x00b"), timeout=TIMEOUT),
        "ReadScalars tag": lambda: scalars(stubs, run, "a\x00b"),
        "ReadHistograms tag": lambda: stubs.reads.ReadHistograms(
            pb.ReadHistogramsRequest(run_id=run, tag="a\x00b"), timeout=TIMEOUT
        ),
    }

    def check(where: str) -> None:
        with pytest.raises(grpc.RpcError) as caught:
            result = calls[where]()
            if isinstance(result, Iterator):
                list(result)
        assert caught.value.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT), (
            caught.value.code(),
            caught.value.details(),
        )

    each_case(calls, check)
