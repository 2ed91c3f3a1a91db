"""ReadService: a run's tags, scalar series (whole or downsampled, one or many), histograms, distributions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.convert import histogram_to_proto, pr_curve_to_proto
from tracker_server.domain import reads
from tracker_server.domain.histograms import BASIS_POINTS
from tracker_server.domain.series import Window, read_many
from tracker_server.domain.validation import check_name, check_run_id
from tracker_server.services.base import Blocking
from tracker_server.services.convert import optional_int, scalar_pages, tag_to_proto
from tracker_server.store.engine import Database

# Pages stay under gRPC's default 4 MiB message limit: 131,072 points x 24 bytes = 3 MiB.
SCALAR_PAGE_POINTS = 131_072
PAGE_BYTES = 3 * 1024 * 1024
DISTRIBUTIONS_PER_PAGE = 10_000  # ~120 bytes each


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
            max_points=request.max_points,
        )
        for page in scalar_pages(series, SCALAR_PAGE_POINTS):
            yield page

    async def ReadScalarsMany(
        self, request: pb.ReadScalarsManyRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.SeriesPageBytes]:
        for run_id in request.run_ids:
            check_run_id(run_id, "run_ids")
        for tag in request.tags:
            check_name("tags", tag)
        window = Window(
            optional_int(request, "start_step"), optional_int(request, "end_step"), request.max_points
        )
        found = await self._blocking(read_many, self._db, list(request.run_ids), list(request.tags), window)
        for run_id, tag, series in found:
            pages = list(scalar_pages(series, SCALAR_PAGE_POINTS))
            for i, page in enumerate(pages):
                yield pb.SeriesPageBytes(
                    run_id=run_id,
                    tag=tag,
                    steps=page.steps,
                    wall_times=page.wall_times,
                    values=page.values,
                    total_points=page.total_points,
                    last=i == len(pages) - 1,
                )

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
            bins=request.bins,
        )
        for page in _pages([histogram_to_proto(h) for h in histograms]):
            yield pb.HistogramPage(histograms=page)

    async def ReadDistributions(
        self, request: pb.ReadDistributionsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.DistributionPage]:
        found = await self._blocking(
            reads.read_distributions,
            self._db,
            request.run_id,
            request.tag,
            start_step=optional_int(request, "start_step"),
            end_step=optional_int(request, "end_step"),
        )
        for start in range(0, len(found), DISTRIBUTIONS_PER_PAGE):
            yield pb.DistributionPage(
                basis_points=BASIS_POINTS,
                distributions=[
                    pb.Distribution(
                        step=h.step,
                        wall_time=h.wall_time,
                        values=values.tolist(),
                        count=h.count,
                        nan_count=h.nan_count,
                    )
                    for h, values in found[start : start + DISTRIBUTIONS_PER_PAGE]
                ],
            )

    async def ReadPrCurves(
        self, request: pb.ReadPrCurvesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.PrCurvePage]:
        curves = await self._blocking(
            reads.read_pr_curves,
            self._db,
            request.run_id,
            request.tag,
            start_step=optional_int(request, "start_step"),
            end_step=optional_int(request, "end_step"),
        )
        for page in _pages([pr_curve_to_proto(c.step, c.wall_time, c.data) for c in curves]):
            yield pb.PrCurvePage(curves=page)

    async def ReadTexts(
        self, request: pb.ReadTextsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.TextPage]:
        texts = await self._blocking(
            reads.read_texts,
            self._db,
            request.run_id,
            request.tag,
            start_step=optional_int(request, "start_step"),
            end_step=optional_int(request, "end_step"),
        )
        for page in _pages([pb.Text(step=t.step, wall_time=t.wall_time, text=t.text) for t in texts]):
            yield pb.TextPage(texts=page)


def _pages(messages: list[Any]) -> Iterator[list[Any]]:
    """Consecutive runs of messages of at most PAGE_BYTES each (at least one message per page)."""
    page: list[Any] = []
    size = 0
    for message in messages:
        cost = message.ByteSize() + 8
        if page and size + cost > PAGE_BYTES:
            yield page
            page, size = [], 0
        page.append(message)
        size += cost
    if page:
        yield page
