"""A test double of the Tracker server over the real wire: a grpc server on 127.0.0.1, port 0.

It speaks the real contract (``tracker.v1.RunService`` and ``tracker.v1.IngestService/Write`` with
the typed messages of ``tracker_client._proto.tracker_pb2``) but its ingest behaviour is scripted
by the test, so the client's acknowledgement and error handling can be driven deliberately:
hold acks until released, answer with an error status, ack a wrong seq, or end the stream.
Nothing is stored anywhere but in this object's lists.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc

from tracker_client._proto import tracker_pb2 as pb

RUN_ID = "fake-run-id"


def wait_until(condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Poll ``condition`` until it is truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(0.005)


class FakeServer:
    """Scripted RunService + IngestService. Configure the attributes before the client writes.

    - ``hold``: while this event is clear, received batches are not acknowledged (they are acked,
      in order, once it is set). Set by default.
    - ``error``: ``(StatusCode, message)`` to abort the Write call with on the next batch received;
      ``error_times`` limits how many calls are aborted so (None: every one).
    - ``max_acks``: acknowledge no more than this many batches in all (None: no limit).
    - ``seq_offset``: added to every acked seq (non-zero = a wrong ack).
    - ``end_after``: end the Write call with OK, without acknowledging the batch just received,
      once this many batches have been acknowledged on it (0: at the first batch).

    ``events`` records, in order, ``("batch", seq)`` for every batch received and
    ``("finish", status)`` for every FinishRun; ``metadata`` the invocation metadata of every call.
    """

    def __init__(self) -> None:
        self.hold = threading.Event()
        self.hold.set()
        self.error: tuple[grpc.StatusCode, str] | None = None
        self.error_times: int | None = None
        self.seq_offset = 0
        self.max_acks: int | None = None
        self.end_after: int | None = None
        self.batches: list[pb.WriteBatch] = []
        self.acked: list[int] = []
        self.write_calls = 0
        self.create_requests: list[pb.CreateRunRequest] = []
        self.finish_requests: list[pb.FinishRunRequest] = []
        self.events: list[tuple[str, int]] = []
        self.metadata: list[tuple[str, dict[str, str]]] = []
        self._project, self._name = "", ""
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = grpc.server(ThreadPoolExecutor(max_workers=16))
        self._server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    "tracker.v1.IngestService",
                    {
                        "Write": grpc.stream_stream_rpc_method_handler(
                            self._write,
                            request_deserializer=pb.WriteBatch.FromString,
                            response_serializer=pb.WriteAck.SerializeToString,
                        ),
                    },
                ),
                grpc.method_handlers_generic_handler(
                    "tracker.v1.RunService",
                    {
                        "CreateRun": grpc.unary_unary_rpc_method_handler(
                            self._create_run,
                            request_deserializer=pb.CreateRunRequest.FromString,
                            response_serializer=pb.CreateRunResponse.SerializeToString,
                        ),
                        "FinishRun": grpc.unary_unary_rpc_method_handler(
                            self._finish_run,
                            request_deserializer=pb.FinishRunRequest.FromString,
                            response_serializer=pb.FinishRunResponse.SerializeToString,
                        ),
                    },
                ),
            )
        )
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{self.port}"

    def __enter__(self) -> FakeServer:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self.hold.set()
        self._server.stop(grace=None).wait(5)

    # -- observations ------------------------------------------------------------------------------

    def received_points(self) -> int:
        with self._lock:
            return sum(len(c.steps) for b in self.batches for c in b.scalars)

    def received_seqs(self) -> list[int]:
        with self._lock:
            return [b.seq for b in self.batches]

    def _may_ack(self) -> bool:
        with self._lock:
            return self.hold.is_set() and (self.max_acks is None or len(self.acked) < self.max_acks)

    # -- handlers ----------------------------------------------------------------------------------

    def _run(self, status: int = pb.RUN_STATUS_RUNNING) -> pb.Run:
        run = pb.Run(id=RUN_ID, project=self._project, name=self._name, status=status)
        run.created_at.FromSeconds(1_700_000_000)
        if status != pb.RUN_STATUS_RUNNING:
            run.finished_at.FromSeconds(1_700_000_100)
        return run

    def _note_metadata(self, method: str, context: grpc.ServicerContext) -> None:
        with self._lock:
            self.metadata.append((method, dict(context.invocation_metadata())))

    def _create_run(
        self, request: pb.CreateRunRequest, context: grpc.ServicerContext
    ) -> pb.CreateRunResponse:
        self._note_metadata("CreateRun", context)
        with self._lock:
            self.create_requests.append(request)
            self._project, self._name = request.project, request.name
        return pb.CreateRunResponse(run=self._run(), next_step=0)

    def _finish_run(
        self, request: pb.FinishRunRequest, context: grpc.ServicerContext
    ) -> pb.FinishRunResponse:
        self._note_metadata("FinishRun", context)
        with self._lock:
            self.finish_requests.append(request)
            self.events.append(("finish", request.status))
        return pb.FinishRunResponse(run=self._run(status=request.status))

    def _write(
        self, requests: Iterator[pb.WriteBatch], context: grpc.ServicerContext
    ) -> Iterator[pb.WriteAck]:
        self._note_metadata("Write", context)
        with self._lock:
            self.write_calls += 1
        # Read requests on their own thread, so batches sent while one is held are seen at once.
        pending: queue.SimpleQueue[pb.WriteBatch | None] = queue.SimpleQueue()

        def read() -> None:
            try:
                for batch in requests:
                    with self._lock:
                        self.batches.append(batch)
                        self.events.append(("batch", batch.seq))
                    pending.put(batch)
            except Exception:
                pass
            finally:
                pending.put(None)

        threading.Thread(target=read, name="fake-write-reader", daemon=True).start()
        acked_here = 0
        while True:
            try:
                batch = pending.get(timeout=0.01)
            except queue.Empty:
                if self._stopping.is_set() or not context.is_active():
                    return
                continue
            if batch is None:
                return
            if self.end_after is not None and acked_here >= self.end_after:
                return
            if self.error is not None and self.error_times != 0:
                code, message = self.error
                with self._lock:
                    if self.error_times is not None:
                        self.error_times -= 1
                context.abort(code, message)
            while not self._may_ack():
                if self._stopping.is_set() or not context.is_active():
                    return
                time.sleep(0.005)
            seq = batch.seq + self.seq_offset
            with self._lock:
                self.acked.append(seq)
            yield pb.WriteAck(writer_id=batch.writer_id, seq=seq)
            acked_here += 1
