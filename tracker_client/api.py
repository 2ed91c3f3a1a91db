"""``tracker.Api``: the read side. Returns plain records and numpy arrays."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.channel import DEFAULT_TIMEOUT, Connection
from tracker_client.config import resolve_project
from tracker_client.convert import histogram_record, project_record, run_record, tag_record
from tracker_client.records import Histogram, ProjectRecord, RunRecord, ScalarSeries, TagRecord

# Reading a long series streams many pages; give it more time than a unary call.
READ_TIMEOUT = 300.0


class Api:
    """Read runs, tags, scalar series and histograms from a Tracker server.

    ``server`` and ``token`` default to TRACKER_SERVER (else 127.0.0.1:6065) and TRACKER_TOKEN.
    """

    def __init__(
        self, server: str | None = None, *, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self._connection = Connection(server, token=token, timeout=timeout)

    @property
    def server(self) -> str:
        return self._connection.server

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def projects(self) -> list[ProjectRecord]:
        """Every project, by name."""
        conn = self._connection
        return [
            project_record(p)
            for page in self._pages(conn.runs.ListProjects, pb.ListProjectsRequest(page_size=1000))
            for p in page.projects
        ]

    def runs(self, project: str | None = None) -> list[RunRecord]:
        """Every run of ``project`` (default TRACKER_PROJECT), oldest first."""
        request = pb.ListRunsRequest(project=resolve_project(project), page_size=1000)
        return [
            run_record(r) for page in self._pages(self._connection.runs.ListRuns, request) for r in page.runs
        ]

    def run(self, run_id: str) -> RunRecord:
        conn = self._connection
        return run_record(conn.call(conn.runs.GetRun, pb.GetRunRequest(run_id=run_id)).run)

    def tags(self, run_id: str) -> list[TagRecord]:
        """The run's tags, scalar tags first, each with its summary (count, last, min, max)."""
        request = pb.ListTagsRequest(run_id=run_id, page_size=10_000)
        return [
            tag_record(t) for page in self._pages(self._connection.reads.ListTags, request) for t in page.tags
        ]

    def scalars(
        self, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> ScalarSeries:
        """Every point of a scalar tag ordered by step, optionally within [start_step, end_step]."""
        conn = self._connection
        request = pb.ReadScalarsRequest(run_id=run_id, tag=tag, start_step=start_step, end_step=end_step)
        steps, walls, values = [], [], []
        for page in conn.stream(conn.read_scalars, request, timeout=READ_TIMEOUT):
            steps.append(page.steps)
            walls.append(page.wall_times)
            values.append(page.values)
        return ScalarSeries(
            run_id=run_id,
            tag=tag,
            steps=np.frombuffer(b"".join(steps), dtype="<i8").astype(np.int64, copy=False),
            values=np.frombuffer(b"".join(values), dtype="<f8").astype(np.float64, copy=False),
            wall_times=np.frombuffer(b"".join(walls), dtype="<f8").astype(np.float64, copy=False),
        )

    def histograms(
        self, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> list[Histogram]:
        """Every histogram of a tag ordered by step, optionally within [start_step, end_step]."""
        conn = self._connection
        request = pb.ReadHistogramsRequest(run_id=run_id, tag=tag, start_step=start_step, end_step=end_step)
        return [
            histogram_record(h)
            for page in conn.stream(conn.reads.ReadHistograms, request, timeout=READ_TIMEOUT)
            for h in page.histograms
        ]

    def _pages(self, method: Any, request: Any) -> Iterator[Any]:
        """Follow next_page_token until the last page."""
        while True:
            page = self._connection.call(method, request)
            yield page
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token
