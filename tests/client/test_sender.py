"""The sender's acknowledgement and failure handling, driven by a scripted server over the real wire."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

import tracker_client as tracker
from tracker_client._proto import tracker_pb2 as pb
from tracker_client.spool import Kind, read_spool

from .fake_server import RUN_ID, FakeServer, wait_until

WAIT = 5.0  # upper bound on any wait for something that should happen promptly


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server


def _start_flush(run: tracker.Run, timeout: float = 30.0) -> tuple[threading.Event, list[BaseException]]:
    """Call run.flush() on another thread; return an event set when it returns and its error, if any."""
    done = threading.Event()
    errors: list[BaseException] = []

    def target() -> None:
        try:
            run.flush(timeout)
        except BaseException as exc:
            errors.append(exc)
        finally:
            done.set()

    threading.Thread(target=target, daemon=True).start()
    return done, errors


def test_flush_waits_for_the_ack_and_returns_once_it_arrives(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0, "b": 2.0}, step=3)
    done, errors = _start_flush(run)
    wait_until(lambda: fake.received_seqs() == [1], WAIT, "the batch to reach the server")
    # The server holds the batch uncommitted: flush() must not have returned.
    assert not done.wait(0.3)
    assert fake.acked == []
    fake.hold.set()
    assert done.wait(WAIT), "flush() did not return after the ack"
    assert errors == []
    assert fake.acked == [1]
    run.finish()
    assert fake.events == [("batch", 1), ("finish", pb.RUN_STATUS_FINISHED)]


def test_flush_waits_for_the_last_batch_logged_before_it(fake: FakeServer) -> None:
    fake.max_acks = 1
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=0.01)
    run.log({"a": 1.0})
    wait_until(lambda: fake.acked == [1], WAIT, "the first batch to be acked")
    run.log({"a": 2.0})
    done, errors = _start_flush(run)
    wait_until(lambda: fake.received_seqs() == [1, 2], WAIT, "the second batch")
    # Batch 1 is acked, batch 2 is not: flush() must still wait.
    assert not done.wait(0.3)
    fake.max_acks = None
    assert done.wait(WAIT) and errors == []
    assert fake.acked == [1, 2]
    run.finish()


def test_batches_carry_the_run_one_writer_and_consecutive_seqs(fake: FakeServer) -> None:
    run = tracker.init(project="proj", name="r", server=fake.address, flush_interval=3600)
    for step in range(3):
        run.log({"loss": step / 2, "acc": -step}, step=step)
        run.log_histogram("w", [1.0, 2.0, 3.0])
        run.flush(timeout=WAIT)
    run.finish()
    assert [b.seq for b in fake.batches] == [1, 2, 3]
    assert {b.run_id for b in fake.batches} == {RUN_ID}
    writers = {b.writer_id for b in fake.batches}
    assert len(writers) == 1 and len(writers.pop()) == 32
    # The server parsed the client's WriteBatchBytes as the typed WriteBatch, point for point.
    for step, batch in enumerate(fake.batches):
        columns = {c.tag: c for c in batch.scalars}
        assert list(columns["loss"].steps) == [step] and list(columns["loss"].values) == [step / 2]
        assert list(columns["acc"].steps) == [step] and list(columns["acc"].values) == [-float(step)]
        ((hist,),) = [list(c.histograms) for c in batch.histograms if c.tag == "w"]
        assert hist.step == step and hist.count == 3.0 and hist.sum == 6.0
    assert fake.create_requests[0].project == "proj" and fake.create_requests[0].name == "r"
    assert fake.finish_requests[0].run_id == RUN_ID
    assert fake.finish_requests[0].status == pb.RUN_STATUS_FINISHED


def test_finish_delivers_what_is_buffered_before_marking_the_run(fake: FakeServer) -> None:
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    for step in range(1000):
        run.log({"a": float(step)})
    run.finish()
    assert fake.events == [("batch", 1), ("finish", pb.RUN_STATUS_FINISHED)]
    assert fake.received_points() == 1000
    assert run.record.status == "finished"


def test_the_token_is_sent_on_every_call(fake: FakeServer) -> None:
    run = tracker.init(project="p", name="r", server=fake.address, token="s3cret")
    run.log({"a": 1.0})
    run.finish()
    assert [method for method, _ in fake.metadata] == ["CreateRun", "Write", "FinishRun"]
    assert all(md.get("authorization") == "Bearer s3cret" for _, md in fake.metadata)


def _spooled(path: Path) -> list[tuple[Kind, list[int]]]:
    """The records of a spool file: (kind, the scalar steps of a batch / [seq] of a call)."""
    contents = read_spool(path)
    out = []
    for record, _offset in contents.records:
        if record.kind is Kind.BATCH:
            batch = pb.WriteBatch.FromString(record.body)
            out.append((record.kind, [step for c in batch.scalars for step in c.steps]))
        else:
            out.append((record.kind, [record.seq]))
    return out


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.PERMISSION_DENIED,
    ],
)
def test_a_refused_batch_parks_everything_on_disk_and_training_goes_on(
    fake: FakeServer, code: grpc.StatusCode, capsys: pytest.CaptureFixture[str]
) -> None:
    fake.error = (code, "bad batch: scalars[0].tag 'x' is not allowed")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0}, step=0)
    with pytest.raises(tracker.DeliveryError, match=r"delivery stopped .*bad batch") as first:
        run.flush(timeout=WAIT)
    cause = first.value.__cause__
    assert isinstance(cause, tracker.TrackerError) and cause.code == code
    path = first.value.spool_path
    assert path is not None and path.is_file()
    assert f"everything logged is kept in {path}" in capsys.readouterr().err
    # The training loop is not stopped: logging goes on, into the spool file.
    run.log({"a": 2.0}, step=1)
    run.log_histogram("h", [1.0])
    with pytest.raises(
        tracker.DeliveryError, match=rf"kept in {path}; upload it with:\n    tracker sync {path}"
    ):
        run.finish()
    assert fake.finish_requests == []  # the run is not marked finished: its data is not there yet
    assert fake.received_seqs() == [1]
    assert _spooled(path) == [(Kind.BATCH, [0]), (Kind.BATCH, [1]), (Kind.FINISH, [2])]
    run.finish()  # then finishing again does nothing


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    ],
)
def test_a_transient_stream_error_is_retried_and_the_batch_delivered(
    fake: FakeServer, code: grpc.StatusCode
) -> None:
    fake.error = (code, "blip")
    fake.error_times = 3
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0}, step=0)
    run.flush(timeout=WAIT)
    assert fake.received_seqs() == [1, 1, 1, 1]  # three refused attempts, then the one acked
    assert fake.acked == [1]
    assert run.delivery_stats().reconnects == 3
    run.finish()
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FINISHED


def test_flush_names_the_unreachable_server_and_delivery_resumes(fake: FakeServer) -> None:
    fake.error = (grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(
        tracker.DeliveryError, match=r"within 0\.5s; delivery goes on in the background"
    ) as info:
        run.flush(timeout=0.5)
    message = str(info.value)
    assert "the server is shutting down" in message and "`tracker server`" in message
    assert info.value.spool_path is None  # still in memory, still being retried
    run.log({"a": 2.0})  # logging is never stopped
    fake.error = None
    run.flush(timeout=WAIT)
    run.finish()
    assert fake.acked == [1, 2]


def test_an_ack_for_the_wrong_batch_stops_delivery(fake: FakeServer) -> None:
    fake.seq_offset = 98
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.DeliveryError, match="acknowledged batch 99, but batch 1 was next"):
        run.flush(timeout=WAIT)
    run.log({"a": 2.0})
    with pytest.raises(tracker.DeliveryError, match="acknowledged batch 99"):
        run.finish()
    assert fake.finish_requests == []


def test_a_stream_ended_with_batches_unacknowledged_is_reopened(fake: FakeServer) -> None:
    fake.end_after = 0  # end the call with OK as soon as the first batch arrives, without an ack
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.DeliveryError, match="ended the stream with 1 batches unacknowledged"):
        run.flush(timeout=0.5)
    fake.end_after = None
    run.flush(timeout=WAIT)
    assert fake.acked == [1] and fake.write_calls >= 2
    run.finish()


def test_an_overdue_acknowledgement_reopens_the_stream_and_resends(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600, timeout=0.3)
    run.log({"a": 1.0})
    done, errors = _start_flush(run)
    wait_until(lambda: fake.received_seqs().count(1) >= 2, WAIT, "the batch to be sent again")
    assert run.delivery_stats().reconnects >= 1
    fake.hold.set()
    assert done.wait(WAIT) and errors == []
    assert set(fake.acked) == {1}
    run.finish()


def test_flush_times_out_while_the_server_never_acks_and_the_run_survives(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(
        tracker.DeliveryError,
        match=rf"flush: not everything was acknowledged by {fake.address} within 0\.5s",
    ):
        run.flush(timeout=0.5)
    # A timeout is not a failure: once the server acks, the run carries on.
    fake.hold.set()
    run.flush(timeout=WAIT)
    run.log({"a": 2.0})
    run.finish()
    assert fake.acked == [1, 2]
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FINISHED


def test_finish_gives_up_after_its_timeout_and_keeps_the_rest_in_a_spool_file(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0}, step=0)
    with pytest.raises(tracker.DeliveryError, match=r"tracker sync ") as info:
        run.finish(timeout=0.5)
    path = info.value.spool_path
    assert path is not None
    assert _spooled(path) == [(Kind.BATCH, [0]), (Kind.FINISH, [1])]
    assert fake.finish_requests == []  # the run is finished by `tracker sync`, after its data
    assert read_spool(path).start["run_id"] == RUN_ID


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_init_without_a_server_says_how_to_start_one() -> None:
    address = f"127.0.0.1:{_closed_port()}"
    with pytest.raises(tracker.UnavailableError) as info:
        tracker.init(project="p", name="r", server=address, timeout=WAIT)
    message = str(info.value)
    assert f"Tracker server at {address} is not reachable" in message
    assert "`tracker server`" in message
    assert "TRACKER_SERVER" in message
    assert isinstance(info.value, ConnectionError)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE


def test_init_uses_the_tracker_server_variable(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_SERVER", f"grpc://{fake.address}/")
    monkeypatch.setenv("TRACKER_PROJECT", "from-env")
    run = tracker.init(name="r")
    run.finish()
    assert fake.create_requests[0].project == "from-env"
    assert run.project == "from-env"
