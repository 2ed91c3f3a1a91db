"""CompareService: the experiment schema, session groups, importance."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.hparams import from_proto, to_proto
from tracker_server.domain import compare
from tracker_server.domain.compare_types import (
    Axis,
    Column,
    Experiment,
    Filter,
    GroupQuery,
    Interval,
    MetricValue,
    SessionGroup,
    Sort,
)
from tracker_server.domain.errors import InvalidArgument
from tracker_server.domain.model import HParamValue, RunStatus
from tracker_server.domain.project_index import IndexCache
from tracker_server.services.base import Blocking
from tracker_server.services.convert import STATUS_FROM_PROTO, STATUS_TO_PROTO
from tracker_server.store.engine import Database

METRIC_VALUE: dict[int, MetricValue] = {
    pb.METRIC_VALUE_LAST: "last",
    pb.METRIC_VALUE_MIN: "min",
    pb.METRIC_VALUE_MAX: "max",
}
AGGREGATE = {
    pb.AGGREGATE_MEAN: "mean",
    pb.AGGREGATE_MEDIAN: "median",
    pb.AGGREGATE_MIN: "min",
    pb.AGGREGATE_MAX: "max",
    pb.AGGREGATE_STD: "std",
}
VALUE_TYPE = {"number": pb.VALUE_TYPE_NUMBER, "string": pb.VALUE_TYPE_STRING, "bool": pb.VALUE_TYPE_BOOL}
COLUMN_KIND = {pb.COLUMN_KIND_HPARAM: "hparam", pb.COLUMN_KIND_METRIC: "metric"}
COLUMN_KIND_TO_PROTO = {name: code for code, name in COLUMN_KIND.items()}


def _choice(field: str, table: Mapping[int, str], code: int) -> str:
    if code not in table:
        raise InvalidArgument(f"{field} {code} is not a known value")
    return table[code]


def metric_value_from_proto(code: int) -> MetricValue:
    return _choice("metric_value", METRIC_VALUE, code)  # type: ignore[return-value]


def statuses_from_proto(codes: list[int]) -> tuple[RunStatus, ...]:
    out = []
    for code in codes:
        status = STATUS_FROM_PROTO.get(code)  # type: ignore[call-overload]
        if status is None:
            raise InvalidArgument(f"statuses: {code} is not a run status")
        out.append(status)
    return tuple(out)


def column_from_proto(field: str, column: pb.Column) -> Column:
    if not column.name:
        raise InvalidArgument(f"{field}.name is empty")
    return Column(_choice(f"{field}.kind", COLUMN_KIND, column.kind), column.name)  # type: ignore[arg-type]


def interval_from_proto(interval: pb.Interval) -> Interval:
    return Interval(
        min=interval.min if interval.HasField("min") else None,
        max=interval.max if interval.HasField("max") else None,
        min_open=interval.min_open,
        max_open=interval.max_open,
    )


def interval_to_proto(interval: Interval) -> pb.Interval:
    return pb.Interval(
        min=interval.min, max=interval.max, min_open=interval.min_open, max_open=interval.max_open
    )


def _values(values: pb.ValueSet) -> tuple[HParamValue, ...]:
    return tuple(from_proto(v) for v in values.values)


def filter_from_proto(i: int, message: pb.Filter) -> Filter:
    column = column_from_proto(f"filters[{i}].column", message.column)
    test = message.WhichOneof("test")
    return Filter(
        column=column,
        interval=interval_from_proto(message.interval) if test == "interval" else None,
        one_of=_values(message.one_of) if test == "one_of" else None,
        none_of=_values(message.none_of) if test == "none_of" else None,
        regex=message.regex if test == "regex" else None,
        include_missing=message.include_missing,
    )


def domain_to_proto(domain: Interval | tuple[HParamValue, ...] | None, truncated: bool) -> pb.Domain:
    if domain is None:
        return pb.Domain()
    if isinstance(domain, Interval):
        return pb.Domain(interval=interval_to_proto(domain))
    return pb.Domain(values=pb.ValueSet(values=[to_proto(v) for v in domain], truncated=truncated))


def experiment_to_proto(schema: Experiment) -> pb.Experiment:
    return pb.Experiment(
        project=schema.project,
        run_count=schema.run_count,
        hparams=[
            pb.HParamInfo(
                name=h.name,
                type=VALUE_TYPE[h.type],
                domain=domain_to_proto(h.domain, h.domain_truncated),
                differs=h.differs,
                run_count=h.run_count,
            )
            for h in schema.hparams
        ],
        metrics=[
            pb.MetricInfo(
                tag=m.tag,
                run_count=m.run_count,
                domain=interval_to_proto(m.domain) if m.domain is not None else None,
            )
            for m in schema.metrics
        ],
    )


def axis_to_proto(axis: Axis) -> pb.Axis:
    return pb.Axis(
        column=pb.Column(kind=COLUMN_KIND_TO_PROTO[axis.column.kind], name=axis.column.name),
        type=VALUE_TYPE[axis.type],
        domain=domain_to_proto(axis.domain, axis.domain_truncated),
    )


def group_to_proto(group: SessionGroup) -> pb.SessionGroup:
    return pb.SessionGroup(
        key=group.key,
        hparams={name: to_proto(value) for name, value in group.hparams.items()},
        metrics=group.metrics,
        runs=[
            pb.SessionRun(id=r.id, name=r.name, status=STATUS_TO_PROTO[r.status], metrics=r.metrics)
            for r in group.runs
        ],
    )


class CompareService:
    """Queries run on the server's per-project in-memory index (``domain.project_index``)."""

    def __init__(self, db: Database, blocking: Blocking, cache: IndexCache) -> None:
        self._db = db
        self._blocking = blocking
        self._cache = cache

    async def GetExperiment(
        self, request: pb.GetExperimentRequest, context: grpc.aio.ServicerContext
    ) -> pb.Experiment:
        schema = await self._blocking(
            compare.experiment,
            self._db,
            self._cache,
            request.project,
            metric_value=metric_value_from_proto(request.metric_value),
        )
        return experiment_to_proto(schema)

    async def ListSessionGroups(
        self, request: pb.ListSessionGroupsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSessionGroupsResponse:
        query = GroupQuery(
            project=request.project,
            grouped=not request.ungrouped,
            metric_value=metric_value_from_proto(request.metric_value),
            aggregate=_choice("aggregate", AGGREGATE, request.aggregate),  # type: ignore[arg-type]
            filters=tuple(filter_from_proto(i, f) for i, f in enumerate(request.filters)),
            where=request.where,
            statuses=statuses_from_proto(list(request.statuses)),
            sort=tuple(
                Sort(column_from_proto(f"sort[{i}].column", s.column), s.descending, s.missing_first)
                for i, s in enumerate(request.sort)
            ),
            offset=request.offset,
            page_size=request.page_size,
            metrics=tuple(request.metrics) or None,
            ignore_hparams=tuple(request.ignore_hparams),
        )
        result = await self._blocking(compare.session_groups, self._db, self._cache, query)
        return pb.ListSessionGroupsResponse(
            axes=[axis_to_proto(a) for a in result.axes],
            groups=[group_to_proto(g) for g in result.groups],
            total=result.total,
        )

    async def GetImportance(
        self, request: pb.GetImportanceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetImportanceResponse:
        if not request.metric:
            raise InvalidArgument("metric is empty")
        report = await self._blocking(
            compare.importance,
            self._db,
            self._cache,
            request.project,
            request.metric,
            metric_value=metric_value_from_proto(request.metric_value),
            where=request.where,
            statuses=statuses_from_proto(list(request.statuses)),
        )
        return pb.GetImportanceResponse(
            hparams=[
                pb.HParamImportance(
                    name=h.name, correlation=h.correlation, importance=h.importance, run_count=h.run_count
                )
                for h in report.hparams
            ],
            run_count=report.run_count,
            model_r2=report.model_r2,
        )
