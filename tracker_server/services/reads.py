"""ReadService: a run's tags, a scalar series in full, a tag's histograms."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.convert import histogram_to_proto
from tracker_server.domain import reads
from tracker_server.services.base import Blocking
from tracker_server.services.convert import optional_int, scalar_pages, tag_to_proto
from tracker_server.store.engine import Database

# Pages stay under gRPC's default 4 MiB message limit: 131,072 points x 24 bytes = 3 MiB.
SCALAR_PAGE_POINTS = 131_072
PAGE_BYTES = 3 * 1024 * 1024


class ReadService:
    def __init__(self, db: Database, blocking: Blocking) -> None:
        self._db = db
        self._blocking = blocking

    async def ListTags(
        self, request: pb.ListTagsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListTagsResponse:
        page = await self._blocking(
            reads.list_tags, self._db, request.run_id, size=request.page_size, token=request.page_token
        )
        return pb.ListTagsResponse(
            tags=[tag_to_proto(t) for t in page.items], next_page_token=page.next_token
        )

    async def ReadScalars(
        self, request: pb.ReadScalarsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.ScalarPageBytes]:
        series = await self._blocking(
            reads.read_scalars,
            self._db,
            request.run_id,
            request.tag,
            start_step=optional_int(request, "start_step"),
            end_step=optional_int(request, "end_step"),
        )
        for page in scalar_pages(series, SCALAR_PAGE_POINTS):
            yield page

    async def ReadHistograms(
        self, request: pb.ReadHistogramsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.HistogramPage]:
        histograms = await self._blocking(
            reads.read_histograms,
            self._db,
            request.run_id,
            request.tag,
            start_step=optional_int(request, "start_step"),
            end_step=optional_int(request, "end_step"),
        )
        page = pb.HistogramPage()
        size = 0
        for histogram in histograms:
            encoded = histogram_to_proto(histogram)
            cost = encoded.ByteSize() + 8
            if page.histograms and size + cost > PAGE_BYTES:
                yield page
                page, size = pb.HistogramPage(), 0
            page.histograms.append(encoded)
            size += cost
        if page.histograms:
            yield page
