"""``tracker.Api``: the read side. Returns plain records and numpy arrays."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.channel import DEFAULT_TIMEOUT, Connection
from tracker_client.config import resolve_project
from tracker_client.convert import (
    AGGREGATE_CODES,
    METRIC_VALUE_CODES,
    STATUS_CODES,
    code_of,
    distribution_record,
    experiment_record,
    filter_to_proto,
    histogram_record,
    importance_record,
    pr_curve_record,
    project_record,
    run_record,
    session_groups_record,
    sort_to_proto,
    tag_record,
    text_record,
)
from tracker_client.records import (
    Distribution,
    Experiment,
    Filter,
    Histogram,
    Importance,
    PrCurve,
    ProjectRecord,
    RunRecord,
    ScalarSeries,
    SessionGroup,
    SessionGroups,
    Sort,
    TagRecord,
    TextRecord,
)

# Reading a long series streams many pages; give it more time than a unary call.
READ_TIMEOUT = 300.0


class Api:
    """Read runs, tags, scalar series and histograms from a Tracker server.

    ``server`` and ``token`` default to TRACKER_SERVER (else 127.0.0.1:6065) and TRACKER_TOKEN.
    """

    def __init__(
        self,
        server: str | None = None,
        *,
        token: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        tls_ca: str | Path | None = None,
    ) -> None:
        """``tls_ca`` (else TRACKER_TLS_CA): the PEM file of the CA that signed a TLS server's
        certificate; an ``https://HOST:PORT`` server address uses the system's CAs instead."""
        self._connection = Connection(server, token=token, timeout=timeout, tls_ca=tls_ca)

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

    def delete_run(self, run_id: str) -> None:
        """Delete a run and everything logged to it (needs the project's admin role)."""
        conn = self._connection
        conn.call(conn.runs.DeleteRun, pb.DeleteRunRequest(run_id=run_id))

    def whoami(self) -> str:
        """The user name this client's token speaks for ("local" on a server without authentication)."""
        conn = self._connection
        return str(conn.call(conn.admin.WhoAmI, pb.WhoAmIRequest()).user)

    def tags(self, run_id: str) -> list[TagRecord]:
        """The run's tags, scalar tags first, each with its summary (count, last, min, max)."""
        request = pb.ListTagsRequest(run_id=run_id, page_size=10_000)
        return [
            tag_record(t) for page in self._pages(self._connection.reads.ListTags, request) for t in page.tags
        ]

    def scalars(
        self,
        run_id: str,
        tag: str,
        *,
        max_points: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> ScalarSeries:
        """The points of a scalar tag ordered by step, optionally within [start_step, end_step].

        Every point by default. With ``max_points`` (>= 4), a longer series is downsampled on the
        server to at most that many real points keeping its shape: per bucket its min, its max,
        its first NaN and its last point, so spikes, divergence and the final value survive.
        """
        conn = self._connection
        request = pb.ReadScalarsRequest(
            run_id=run_id, tag=tag, start_step=start_step, end_step=end_step, max_points=max_points or 0
        )
        pages = list(conn.stream(conn.read_scalars, request, timeout=READ_TIMEOUT))
        return _series(run_id, tag, pages)

    def scalars_many(
        self,
        run_ids: Sequence[str],
        tags: Sequence[str],
        *,
        max_points: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[tuple[str, str], ScalarSeries]:
        """Every run x every tag in one call, by (run id, tag); pairs without data are left out.
        ``max_points`` downsamples each series as ``scalars`` does."""
        conn = self._connection
        request = pb.ReadScalarsManyRequest(
            run_ids=list(run_ids),
            tags=list(tags),
            max_points=max_points or 0,
            start_step=start_step,
            end_step=end_step,
        )
        out: dict[tuple[str, str], ScalarSeries] = {}
        pages: list[Any] = []
        for page in conn.stream(conn.read_scalars_many, request, timeout=READ_TIMEOUT):
            pages.append(page)
            if page.last:
                out[(page.run_id, page.tag)] = _series(page.run_id, page.tag, pages)
                pages = []
        return out

    def histograms(
        self,
        run_id: str,
        tag: str,
        *,
        bins: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> list[Histogram]:
        """Every histogram of a tag ordered by step, optionally within [start_step, end_step].

        As stored by default; with ``bins``, re-binned to that many equal-width buckets over one
        range shared by all of them (TensorBoard's histogram view; the first of the bins + 1
        buckets is empty and its limit is the range's left edge).
        """
        conn = self._connection
        request = pb.ReadHistogramsRequest(
            run_id=run_id, tag=tag, start_step=start_step, end_step=end_step, bins=bins or 0
        )
        return [
            histogram_record(h)
            for page in conn.stream(conn.reads.ReadHistograms, request, timeout=READ_TIMEOUT)
            for h in page.histograms
        ]

    def pr_curves(
        self, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> list[PrCurve]:
        """Every precision-recall curve of a tag ordered by step."""
        conn = self._connection
        request = pb.ReadPrCurvesRequest(run_id=run_id, tag=tag, start_step=start_step, end_step=end_step)
        return [
            pr_curve_record(c)
            for page in conn.stream(conn.reads.ReadPrCurves, request, timeout=READ_TIMEOUT)
            for c in page.curves
        ]

    def texts(
        self, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> list[TextRecord]:
        """Every text summary of a tag ordered by step."""
        conn = self._connection
        request = pb.ReadTextsRequest(run_id=run_id, tag=tag, start_step=start_step, end_step=end_step)
        return [
            text_record(t)
            for page in conn.stream(conn.reads.ReadTexts, request, timeout=READ_TIMEOUT)
            for t in page.texts
        ]

    def distributions(
        self, run_id: str, tag: str, *, start_step: int | None = None, end_step: int | None = None
    ) -> list[Distribution]:
        """Per step, the values at the basis points ``tracker_client.BASIS_POINTS`` (TensorBoard's
        distributions view: min, -1.5σ, -1σ, -0.5σ, median, +0.5σ, +1σ, +1.5σ, max for a normal)."""
        conn = self._connection
        request = pb.ReadDistributionsRequest(
            run_id=run_id, tag=tag, start_step=start_step, end_step=end_step
        )
        return [
            distribution_record(d)
            for page in conn.stream(conn.reads.ReadDistributions, request, timeout=READ_TIMEOUT)
            for d in page.distributions
        ]

    # -- comparing runs --------------------------------------------------------------------------

    def experiment(self, project: str | None = None, *, metric_value: str = "last") -> Experiment:
        """The project's hyperparameters (type, domain, whether they differ) and metrics."""
        conn = self._connection
        request = pb.GetExperimentRequest(
            project=resolve_project(project),
            metric_value=code_of("metric_value", METRIC_VALUE_CODES, metric_value),
        )
        return experiment_record(conn.call(conn.compare.GetExperiment, request))

    def session_groups(
        self,
        project: str | None = None,
        *,
        group: bool = True,
        metric_value: str = "last",
        aggregate: str = "mean",
        filters: Sequence[Filter] = (),
        where: str | None = None,
        statuses: Sequence[str] = (),
        sort: Sequence[Sort | str] = (),
        offset: int = 0,
        limit: int = 100,
        metrics: Sequence[str] | None = None,
        ignore_hparams: Sequence[str] = (),
    ) -> SessionGroups:
        """TensorBoard's HParams table, done right: runs with identical hyperparameters form a group
        (``group=False``: one row per run); a run's metric value is its last point (or ``"min"``,
        ``"max"``); groups aggregate their runs (mean, median, min, max, std; a NaN makes the
        aggregate NaN); ``filters`` and ``where`` select, ``sort`` orders (a string sorts by a
        metric, "-tag" descending), ``offset``/``limit`` page, and ``total`` counts every group.
        ``ignore_hparams`` (e.g. ``["seed"]``) do not separate groups: runs differing only in them
        are repeated trials of one combination.
        The axes describe each hyperparameter and metric for a parallel-coordinates view.
        """
        conn = self._connection
        request = pb.ListSessionGroupsRequest(
            project=resolve_project(project),
            ungrouped=not group,
            metric_value=code_of("metric_value", METRIC_VALUE_CODES, metric_value),
            aggregate=code_of("aggregate", AGGREGATE_CODES, aggregate),
            filters=[filter_to_proto(f) for f in filters],
            where=where or "",
            statuses=[code_of("status", STATUS_CODES, s) for s in statuses],
            sort=[sort_to_proto(s) for s in sort],
            offset=offset,
            page_size=limit,
            metrics=list(metrics or ()),
            ignore_hparams=list(ignore_hparams),
        )
        return session_groups_record(conn.call(conn.compare.ListSessionGroups, request))

    def best(
        self,
        project: str | None,
        metric: str,
        mode: str = "max",
        top: int = 5,
        where: str | None = None,
        aggregate: str = "mean",
        *,
        metric_value: str = "last",
        group: bool = True,
    ) -> list[SessionGroup]:
        """The ``top`` hyperparameter combinations by ``metric`` (``mode`` "max" or "min"), best first.

        Each row has ``.hparams``, ``.metrics`` (aggregated over its runs), ``.runs`` (run ids) and
        ``.count``. ``where`` filters, e.g. ``"lr < 0.01 and optimizer = 'adam'"``; combinations
        lacking the metric are left out, and a NaN (diverged) aggregate ranks last.
        """
        if mode not in ("max", "min"):
            raise ValueError(f"mode must be 'max' or 'min', got {mode!r}")
        result = self.session_groups(
            project,
            group=group,
            metric_value=metric_value,
            aggregate=aggregate,
            filters=[Filter(metric, kind="metric")],
            where=where,
            sort=[Sort(metric, descending=mode == "max")],
            limit=top,
        )
        return list(result.groups)

    def importance(
        self, project: str | None, metric: str, *, metric_value: str = "last", where: str | None = None
    ) -> Importance:
        """How much each hyperparameter matters for ``metric``: Spearman rank correlation and
        permutation importance in a random forest, over the runs with a finite value of it."""
        conn = self._connection
        request = pb.GetImportanceRequest(
            project=resolve_project(project),
            metric=metric,
            metric_value=code_of("metric_value", METRIC_VALUE_CODES, metric_value),
            where=where or "",
        )
        return importance_record(metric, conn.call(conn.compare.GetImportance, request))

    def _pages(self, method: Any, request: Any) -> Iterator[Any]:
        """Follow next_page_token until the last page."""
        while True:
            page = self._connection.call(method, request)
            yield page
            if not page.next_page_token:
                return
            request.page_token = page.next_page_token


def _series(run_id: str, tag: str, pages: Sequence[Any]) -> ScalarSeries:
    """Join pages of packed little-endian arrays into one series."""
    return ScalarSeries(
        run_id=run_id,
        tag=tag,
        steps=np.frombuffer(b"".join(p.steps for p in pages), dtype="<i8").astype(np.int64, copy=False),
        values=np.frombuffer(b"".join(p.values for p in pages), dtype="<f8").astype(np.float64, copy=False),
        wall_times=np.frombuffer(b"".join(p.wall_times for p in pages), dtype="<f8").astype(
            np.float64, copy=False
        ),
        total_points=pages[0].total_points if pages else 0,
    )
