"""IngestService: batches in, one ack per batch after commit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain import ingest
from tracker_server.domain.errors import Unavailable
from tracker_server.services.base import Blocking
from tracker_server.services.convert import batch_from_proto
from tracker_server.store.engine import Database

T = TypeVar("T")


class Draining:
    """Set when the server begins a graceful shutdown: a stream finishes the batch it is applying,
    acks it, and ends with UNAVAILABLE; a stream waiting for its next batch ends at once."""

    def __init__(self) -> None:
        self.active = False
        self._event = asyncio.Event()

    def start(self) -> None:
        self.active = True
        self._event.set()

    async def next_or_stop(self, requests: AsyncIterator[T]) -> T | None:
        """The next request (None at the end of the stream); Unavailable when draining starts first."""
        read = asyncio.ensure_future(anext(requests, None))
        stopped = asyncio.ensure_future(self._event.wait())
        done, _ = await asyncio.wait({read, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if read in done:
            stopped.cancel()
            return read.result()
        read.cancel()
        raise Unavailable("the server is shutting down; reconnect to resume from the next batch")


class IngestService:
    """Requests arrive as ``WriteBatchBytes``, so packed arrays stay bytes from socket to database."""

    def __init__(self, db: Database, blocking: Blocking, draining: Draining) -> None:
        self._db = db
        self._blocking = blocking
        self._draining = draining

    async def Write(
        self, requests: AsyncIterator[pb.WriteBatchBytes], context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.WriteAck]:
        while (message := await self._draining.next_or_stop(requests)) is not None:
            yield await self._apply(message)

    async def WriteOne(self, request: pb.WriteBatchBytes, context: grpc.aio.ServicerContext) -> pb.WriteAck:
        return await self._apply(request)

    async def GetCursor(
        self, request: pb.GetCursorRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCursorResponse:
        last_seq, position = await self._blocking(ingest.cursor, self._db, request.run_id, request.writer_id)
        return pb.GetCursorResponse(last_seq=last_seq, position=position)

    async def _apply(self, message: pb.WriteBatchBytes) -> pb.WriteAck:
        if self._draining.active:
            raise Unavailable("the server is shutting down; retry against a running server")
        # Decoding is Python work proportional to the batch: off the event loop, like the write.
        batch = await self._blocking(batch_from_proto, message)
        result = await self._blocking(ingest.write_batch, self._db, batch)
        return pb.WriteAck(writer_id=batch.writer_id, seq=result.seq, duplicate=result.duplicate)
