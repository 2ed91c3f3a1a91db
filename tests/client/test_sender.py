"""The sender's acknowledgement and failure handling, driven by a scripted server over the real wire."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import grpc
import pytest

import tracker_client as tracker
from tracker_client._proto import tracker_pb2 as pb

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


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, tracker.InvalidArgumentError),
        (grpc.StatusCode.FAILED_PRECONDITION, tracker.FailedPreconditionError),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, tracker.ResourceExhaustedError),
        (grpc.StatusCode.PERMISSION_DENIED, tracker.PermissionDeniedError),
    ],
)
def test_a_stream_error_is_raised_on_flush_and_stays_raised(
    fake: FakeServer, code: grpc.StatusCode, error_type: type[tracker.TrackerError]
) -> None:
    fake.error = (code, "bad batch: scalars[0].tag 'x' is not allowed")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(error_type, match=r"bad batch: scalars\[0\]\.tag 'x' is not allowed") as first:
        run.flush(timeout=WAIT)
    assert first.value.code == code
    for call in (
        lambda: run.log({"a": 2.0}),
        lambda: run.log_histogram("h", [1.0]),
        lambda: run.flush(timeout=WAIT),
        lambda: run.log_hparams({"lr": 0.1}),
    ):
        with pytest.raises(error_type) as again:
            call()
        assert again.value is first.value
    with pytest.raises(error_type) as at_finish:
        run.finish()
    assert at_finish.value is first.value
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FAILED  # marked failed all the same
    run.finish()  # then finishing again does nothing
    assert len(fake.finish_requests) == 1
    assert fake.received_seqs() == [1]


def test_a_stream_error_is_raised_on_the_callers_next_log(fake: FakeServer) -> None:
    fake.error = (grpc.StatusCode.INVALID_ARGUMENT, "bad batch")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=0.01)
    run.log({"a": 1.0})
    wait_until(lambda: fake.received_seqs() == [1], WAIT, "the batch to reach the server")

    def log_fails() -> bool:
        try:
            run.log({"a": 2.0})
        except tracker.InvalidArgumentError as exc:
            assert "bad batch" in str(exc)
            assert isinstance(exc, ValueError)
            return True
        return False

    wait_until(log_fails, WAIT, "log() to raise the server's error")
    with pytest.raises(tracker.InvalidArgumentError, match="bad batch"):
        run.log({"a": 3.0})
    with pytest.raises(tracker.InvalidArgumentError, match="bad batch"):
        run.finish()
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FAILED


def test_an_unknown_status_becomes_a_tracker_error_naming_the_code(fake: FakeServer) -> None:
    fake.error = (grpc.StatusCode.INTERNAL, "disk on fire")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.TrackerError, match="INTERNAL: disk on fire") as info:
        run.flush(timeout=WAIT)
    assert type(info.value) is tracker.TrackerError
    with pytest.raises(tracker.TrackerError, match="disk on fire"):
        run.finish()


def test_unavailable_on_the_stream_says_how_to_start_a_server(fake: FakeServer) -> None:
    fake.error = (grpc.StatusCode.UNAVAILABLE, "the server is shutting down")
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.UnavailableError, match="the server is shutting down") as info:
        run.flush(timeout=WAIT)
    assert "`tracker server`" in str(info.value) and fake.address in str(info.value)
    with pytest.raises(tracker.UnavailableError):
        run.finish()


def test_an_ack_for_the_wrong_batch_fails_the_run(fake: FakeServer) -> None:
    fake.seq_offset = 98
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.TrackerError, match="acknowledged batch 99 while batch 1 was expected"):
        run.flush(timeout=WAIT)
    with pytest.raises(tracker.TrackerError, match="acknowledged batch 99"):
        run.log({"a": 2.0})
    with pytest.raises(tracker.TrackerError, match="acknowledged batch 99"):
        run.finish()
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FAILED


def test_a_stream_ended_with_batches_unacknowledged_fails_the_run(fake: FakeServer) -> None:
    fake.end_after = 0  # end the call with OK as soon as the first batch arrives, without an ack
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(tracker.TrackerError, match="ended the stream with 1 batches unacknowledged"):
        run.flush(timeout=WAIT)
    with pytest.raises(tracker.TrackerError, match="unacknowledged"):
        run.finish()
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FAILED


def test_flush_times_out_while_the_server_never_acks_and_the_run_survives(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(
        tracker.DeadlineExceededError, match=r"flush timed out after 0\.5s with 1 batches unacknowledged"
    ) as info:
        run.flush(timeout=0.5)
    assert isinstance(info.value, TimeoutError)
    assert fake.address in str(info.value)
    # A timeout is not a failure: once the server acks, the run carries on.
    fake.hold.set()
    run.flush(timeout=WAIT)
    run.log({"a": 2.0})
    run.finish()
    assert fake.acked == [1, 2]
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FINISHED


def test_finish_gives_up_after_its_timeout_and_marks_the_run_failed(fake: FakeServer) -> None:
    fake.hold.clear()
    run = tracker.init(project="p", name="r", server=fake.address, flush_interval=3600)
    run.log({"a": 1.0})
    with pytest.raises(
        tracker.DeadlineExceededError, match=r"could not deliver everything to .* within 0\.5s"
    ):
        run.finish(timeout=0.5)
    assert fake.finish_requests[-1].status == pb.RUN_STATUS_FAILED
    assert run.record.status == "failed"


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
