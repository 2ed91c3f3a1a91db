"""An independent, plain-Python model of the comparison queries, written from the contract in
proto/tracker/v1/tracker.proto (CompareService) and nothing else: the tests of test_compare.py
check every answer of the server against it.

It knows what was logged (``LoggedRun``: hyperparameters with their Python types, every point of
every series in the order it was logged, the status the run was finished with) and answers the
questions the server answers: a run's value of a metric (last / min / max), the experiment schema,
session groups (filters, statuses, aggregates, sorts, paging), and Spearman rank correlations.
Nothing here imports the server.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from tracker_client.records import Filter, Interval, Sort

HParam = int | float | str | bool


# -- what was logged -----------------------------------------------------------------------------


@dataclass
class LoggedRun:
    """One run as the test logged it. ``points`` keep the logged order, repeated steps included."""

    name: str
    hparams: dict[str, HParam]
    points: dict[str, list[tuple[int, float]]]
    status: str
    id: str = ""

    def value(self, tag: str, which: str) -> float | None:
        """The run's value of ``tag``: the point with the largest step (of equal steps the one logged
        later), or the NaN-ignoring min / max (NaN when every point is NaN); None without the tag."""
        points = self.points.get(tag)
        if not points:
            return None
        if which == "last":
            best_step = max(step for step, _ in points)
            return [v for step, v in points if step == best_step][-1]
        values = [v for _, v in points if not math.isnan(v)]
        if not values:
            return math.nan
        return min(values) if which == "min" else max(values)


# -- values --------------------------------------------------------------------------------------


def kind(value: HParam) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, str):
        return "string"
    return "number"


def canonical(value: HParam) -> tuple[str, object]:
    """Equality as the contract groups values: numbers by value (1 == 1.0), bools only with bools,
    strings only with strings."""
    k = kind(value)
    if k == "number" and math.isnan(float(value)):
        return (k, "nan")  # NaN equals NaN: `x != nan` drops the runs that diverged
    return (k, float(value) if k == "number" else value)


def same(a: HParam, b: HParam) -> bool:
    return canonical(a) == canonical(b)


_TYPE_ORDER = {"bool": 0, "number": 1, "string": 2}


def order_key(value: HParam) -> tuple[int, object]:
    """bool < number < string; within a type the natural order."""
    k = kind(value)
    return (_TYPE_ORDER[k], float(value) if k == "number" else value)


def group_identity(hparams: Mapping[str, HParam]) -> tuple[tuple[str, tuple[str, object]], ...]:
    return tuple(sorted((name, canonical(v)) for name, v in hparams.items()))


def contains(interval: Interval, value: float) -> bool:
    """Closed ends unless marked open, an unset end unbounded; NaN lies in no interval."""
    if math.isnan(value):
        return False
    low, high = interval.min, interval.max
    if low is not None and (value < low or (interval.min_open and value == low)):
        return False
    return not (high is not None and (value > high or (interval.max_open and value == high)))


def same_float(a: float | None, b: float | None, *, rel: float = 0.0) -> bool:
    """Equal (NaN equals NaN, infinities by sign), or within ``rel`` relative tolerance."""
    if a is None or b is None:
        return a is b
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    if rel == 0.0:
        return a == b
    return abs(a - b) <= rel * max(abs(a), abs(b)) or abs(a - b) <= 1e-300


# -- the experiment schema -----------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedHParam:
    name: str
    type: str
    domain: Interval | tuple[HParam, ...] | None
    differs: bool
    run_count: int


@dataclass(frozen=True)
class ExpectedMetric:
    tag: str
    run_count: int
    domain: Interval | None


def value_type(values: Iterable[HParam]) -> str:
    kinds = {kind(v) for v in values}
    if kinds == {"number"}:
        return "number"
    if kinds == {"bool"}:
        return "bool"
    return "string"


def distinct(values: Iterable[HParam]) -> list[HParam]:
    """One value per canonical value, in first-seen order."""
    seen: dict[tuple[str, object], HParam] = {}
    for v in values:
        seen.setdefault(canonical(v), v)
    return list(seen.values())


def finite_interval(values: Iterable[float]) -> Interval | None:
    finite = [v for v in values if math.isfinite(v)]
    return Interval(min(finite), max(finite)) if finite else None


def expected_hparams(runs: Sequence[LoggedRun]) -> dict[str, ExpectedHParam]:
    names = sorted({name for r in runs for name in r.hparams})
    out = {}
    for name in names:
        values = [r.hparams[name] for r in runs if name in r.hparams]
        t = value_type(values)
        domain: Interval | tuple[HParam, ...] | None
        if t == "number":
            domain = finite_interval(float(v) for v in values) or Interval()
        else:
            domain = tuple(sorted(distinct(values), key=order_key))
        differs = len(distinct(values)) > 1 or len(values) < len(runs)
        out[name] = ExpectedHParam(name, t, domain, differs, len(values))
    return out


def expected_metrics(runs: Sequence[LoggedRun], which: str) -> dict[str, ExpectedMetric]:
    tags = sorted({tag for r in runs for tag in r.points})
    out = {}
    for tag in tags:
        values = [v for r in runs if (v := r.value(tag, which)) is not None]
        out[tag] = ExpectedMetric(tag, len(values), finite_interval(values))
    return out


# -- session groups ------------------------------------------------------------------------------


def aggregate(values: Sequence[float], how: str) -> float:
    """A NaN among the values makes the aggregate NaN; std is the population std (0 for one run)."""
    if any(math.isnan(v) for v in values):
        return math.nan
    n = len(values)
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "median":
        ordered = sorted(values)
        return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
    mean = sum(values) / n
    if how == "mean":
        return mean
    if how == "std":
        if n == 1:
            return 0.0
        return math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    raise ValueError(how)


@dataclass
class ExpectedGroup:
    runs: list[LoggedRun]
    index: int  # the group's position by its first run's creation
    metrics: dict[str, float] = field(default_factory=dict)  # every metric: what filters and sorts see
    shown: dict[str, float] = field(default_factory=dict)  # the metrics asked for

    @property
    def hparams(self) -> dict[str, HParam]:
        return self.runs[0].hparams

    @property
    def run_ids(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.runs)


def passes_hparam(test: Filter, value: HParam) -> bool:
    if test.min is not None or test.max is not None:
        return kind(value) == "number" and contains(
            Interval(test.min, test.max, test.min_open, test.max_open), float(value)
        )
    if test.one_of is not None:
        return any(same(value, v) for v in test.one_of)
    if test.none_of is not None:
        return not any(same(value, v) for v in test.none_of)
    if test.regex is not None:
        return isinstance(value, str) and re.search(test.regex, value) is not None
    return True


def passes_metric(test: Filter, value: float) -> bool:
    if test.min is not None or test.max is not None:
        return contains(Interval(test.min, test.max, test.min_open, test.max_open), value)
    if test.one_of is not None:
        return any(same_float(value, float(v)) for v in test.one_of)
    if test.none_of is not None:
        return not any(same_float(value, float(v)) for v in test.none_of)
    return True


def _compare_present(a: HParam | float, b: HParam | float, descending: bool) -> int:
    a_nan = isinstance(a, float) and math.isnan(a)
    b_nan = isinstance(b, float) and math.isnan(b)
    if a_nan or b_nan:  # NaN after every number, whichever the direction
        return (a_nan > b_nan) - (a_nan < b_nan)
    ka, kb = order_key(a), order_key(b)
    result = (ka > kb) - (ka < kb)  # type: ignore[operator]
    return -result if descending else result


def sort_groups(groups: list[ExpectedGroup], sorts: Sequence[Sort]) -> list[ExpectedGroup]:
    def column(g: ExpectedGroup, s: Sort) -> HParam | float | None:
        return g.hparams.get(s.name) if s.kind == "hparam" else g.metrics.get(s.name)

    def compare(a: ExpectedGroup, b: ExpectedGroup) -> int:
        for s in sorts:
            va, vb = column(a, s), column(b, s)
            if va is None or vb is None:
                if va is None and vb is None:
                    continue
                missing_a = va is None
                first = -1 if s.missing_first else 1
                return first if missing_a else -first
            result = _compare_present(va, vb, s.descending)
            if result:
                return result
        return (a.index > b.index) - (a.index < b.index)  # ties: the older group first

    return sorted(groups, key=functools.cmp_to_key(compare))


@dataclass
class Expected:
    groups: list[ExpectedGroup]
    total: int


def session_groups(
    runs: Sequence[LoggedRun],
    *,
    group: bool = True,
    metric_value: str = "last",
    aggregate_by: str = "mean",
    filters: Sequence[Filter] = (),
    statuses: Sequence[str] = (),
    sort: Sequence[Sort] = (),
    offset: int = 0,
    limit: int = 100,
    metrics: Sequence[str] | None = None,
) -> Expected:
    """What ListSessionGroups answers, computed from what was logged (``runs`` in creation order)."""
    selected = [r for r in runs if not statuses or r.status in statuses]
    for test in filters:
        if test.kind == "hparam":
            selected = [
                r
                for r in selected
                if (
                    passes_hparam(test, r.hparams[test.name])
                    if test.name in r.hparams
                    else test.include_missing
                )
            ]
    by_identity: dict[object, ExpectedGroup] = {}
    for r in selected:
        identity = group_identity(r.hparams) if group else r.id
        if identity not in by_identity:
            by_identity[identity] = ExpectedGroup([], len(by_identity))
        by_identity[identity].runs.append(r)
    how = aggregate_by if group else "mean"
    tags = sorted({tag for r in runs for tag in r.points})
    groups = list(by_identity.values())
    for g in groups:
        for tag in tags:
            values = [v for r in g.runs if (v := r.value(tag, metric_value)) is not None]
            if values:
                g.metrics[tag] = aggregate(values, how)
        g.shown = {t: v for t, v in g.metrics.items() if metrics is None or t in metrics}
    for test in filters:
        if test.kind == "metric":
            groups = [
                g
                for g in groups
                if (
                    passes_metric(test, g.metrics[test.name])
                    if test.name in g.metrics
                    else test.include_missing
                )
            ]
    ordered = sort_groups(groups, sort)
    return Expected(ordered[offset : offset + limit], len(ordered))


# -- Spearman ------------------------------------------------------------------------------------


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    ma, mb = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - ma) * (y - mb) for x, y in zip(a, b, strict=True))
    va = sum((x - ma) ** 2 for x in a)
    vb = sum((y - mb) ** 2 for y in b)
    if va == 0 or vb == 0:
        return None
    return cov / math.sqrt(va * vb)


def spearman(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Pearson correlation of average ranks; None under three pairs or for a constant side."""
    if len(pairs) < 3:
        return None
    return pearson(average_ranks([x for x, _ in pairs]), average_ranks([y for _, y in pairs]))


def expected_correlations(
    runs: Sequence[LoggedRun], metric: str, which: str = "last", keep: Callable[[LoggedRun], bool] = bool
) -> tuple[dict[str, tuple[float | None, int]], int]:
    """Per hyperparameter: (Spearman correlation or None, runs having it) over the runs kept with a
    finite value of ``metric``; and how many such runs there are."""
    used = [r for r in runs if keep(r) and (v := r.value(metric, which)) is not None and math.isfinite(v)]
    names = sorted({name for r in runs for name in r.hparams})
    out: dict[str, tuple[float | None, int]] = {}
    for name in names:
        having = [r for r in used if name in r.hparams]
        values = [r.hparams[name] for r in having]
        kinds = {kind(v) for v in values}
        numeric = kinds <= {"number"} or kinds == {"bool"}
        correlation = None
        if numeric:
            pairs = [(float(r.hparams[name]), r.value(metric, which)) for r in having]
            correlation = spearman(pairs)  # type: ignore[arg-type]
        out[name] = (correlation, len(having))
    return out, len(used)
