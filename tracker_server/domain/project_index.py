"""An in-memory, columnar index of a project's runs for the comparison queries.

Comparing 10,000 runs means looking at 100,000 hyperparameter rows and 50,000 metric summaries; a
database round trip over them costs 20-40 ms each on this hardware, far too much for a table that
answers in tens of milliseconds. So each server process keeps, per project it was asked about, an
immutable snapshot of runs (rows), hyperparameter columns and metric columns, and before every
query brings it up to date with what changed since it last looked (``updated_at`` columns), looking
back a few seconds further so a transaction that committed late, or a writer whose clock is a
little behind, is not missed; a full reload every few minutes bounds any drift. Snapshots are
replaced, never mutated, so queries need no locks. It is soft state: a new process, or another
server, builds its own from the database. Deleted runs leave no trace to look for, so a refresh
that ends with a different number of runs than the project has reloads it in full.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection

from tracker_server.domain.compare_types import MetricValue
from tracker_server.domain.model import HParamValue
from tracker_server.store import compare as store
from tracker_server.store import runs as run_store

OVERLAP = dt.timedelta(seconds=5)
FULL_RELOAD_SECONDS = 300.0

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class MetricColumn:
    """One metric (scalar tag) over the index's rows: each run's last, min and max value."""

    present: BoolArray
    last: FloatArray
    min: FloatArray
    max: FloatArray

    def values(self, which: MetricValue) -> FloatArray:
        return {"last": self.last, "min": self.min, "max": self.max}[which]

    def grown(self, rows: int) -> MetricColumn:
        extra = rows - self.present.size
        if extra <= 0:
            return self
        pad = np.zeros(extra)
        return MetricColumn(
            np.concatenate([self.present, pad.astype(bool)]),
            *(np.concatenate([a, pad]) for a in (self.last, self.min, self.max)),
        )


@dataclass(frozen=True, eq=False)
class ProjectIndex:
    """A snapshot of one project: one row per run (in the order runs were first seen)."""

    project_id: int
    ids: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    created: FloatArray = field(default_factory=lambda: np.zeros(0))
    group_keys: tuple[str, ...] = ()
    hparams: Mapping[str, tuple[HParamValue | None, ...]] = field(default_factory=dict)
    metrics: Mapping[str, MetricColumn] = field(default_factory=dict)
    checked_at: dt.datetime | None = None  # the database was read as of (at least) this time
    loaded_at: float = 0.0
    memo: dict[Any, Any] = field(default_factory=dict)  # derived values, computed once per snapshot

    @property
    def size(self) -> int:
        return len(self.ids)

    def row_of(self) -> dict[str, int]:
        row_of: dict[str, int] = self._memo(
            "row_of", lambda: {run_id: i for i, run_id in enumerate(self.ids)}
        )
        return row_of

    def status_array(self) -> npt.NDArray[np.object_]:
        statuses: npt.NDArray[np.object_] = self._memo(
            "statuses", lambda: np.array(self.statuses, dtype=object)
        )
        return statuses

    def _memo(self, key: Any, make: Any) -> Any:
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]


def load(conn: Connection, project_id: int) -> ProjectIndex:
    """Everything the comparison queries need about a project, read in three queries."""
    checked = dt.datetime.now(dt.UTC)
    summaries = store.summaries(conn, project_id)  # first: see refresh()
    runs = sorted(store.runs(conn, project_id), key=lambda r: (r.created_at, r.id))
    index = _apply(ProjectIndex(project_id), runs, store.hparams(conn, project_id), summaries)
    return _stamped(index, checked_at=checked, loaded_at=time.monotonic())


def refresh(index: ProjectIndex, conn: Connection) -> ProjectIndex:
    """``index`` with whatever changed in the database since it was last checked."""
    checked = dt.datetime.now(dt.UTC)
    since = index.checked_at - OVERLAP if index.checked_at else None
    # Summaries first: a run is always committed before its first summary, so the runs read next
    # include every run a summary read here can refer to.
    summaries = store.summaries(conn, index.project_id, since=since)
    runs = store.runs(conn, index.project_id, since=since)
    row_of = index.row_of()
    hparams = store.hparams(conn, index.project_id, [r.id for r in runs]) if runs else {}
    changed = [
        r
        for r in runs
        if _run_changed(index, row_of, r) or _hparams_changed(index, row_of, r.id, hparams[r.id])
    ]
    # A run touched recently may also have lost points (a purge): take all its summaries afresh.
    of_runs = store.summaries(conn, index.project_id, run_ids=[r.id for r in runs]) if runs else []
    cleared = _lost_metrics(index, row_of, [r.id for r in runs], of_runs)
    changed_summaries = [s for s in (*summaries, *of_runs) if _summary_changed(index, row_of, s)]
    if not changed and not changed_summaries and not cleared:
        updated = index
    else:
        updated = _apply(
            index,
            sorted(changed, key=lambda r: (r.created_at, r.id)),
            hparams,
            changed_summaries,
            cleared=cleared,
        )
    if updated.size != run_store.run_count(conn, index.project_id):
        return load(conn, index.project_id)  # runs were deleted (by this server or another one)
    return _stamped(updated, checked_at=checked, same=updated is index)


def _lost_metrics(
    index: ProjectIndex, row_of: dict[str, int], run_ids: Sequence[str], summaries: Sequence[store.SummaryRow]
) -> list[str]:
    """The runs among ``run_ids`` that the index holds a metric for that they no longer have."""
    now_has: dict[str, set[str]] = {}
    for s in summaries:
        now_has.setdefault(s.run_id, set()).add(s.tag)
    lost = []
    for run_id in run_ids:
        i = row_of.get(run_id)
        if i is None:
            continue
        had = {tag for tag, column in index.metrics.items() if column.present[i]}
        if had - now_has.get(run_id, set()):
            lost.append(run_id)
    return lost


def _stamped(
    index: ProjectIndex, *, checked_at: dt.datetime, loaded_at: float | None = None, same: bool = False
) -> ProjectIndex:
    """The index as checked at ``checked_at``; ``same`` keeps its memo (its contents did not change)."""
    return ProjectIndex(
        project_id=index.project_id,
        ids=index.ids,
        names=index.names,
        statuses=index.statuses,
        created=index.created,
        group_keys=index.group_keys,
        hparams=index.hparams,
        metrics=index.metrics,
        checked_at=checked_at,
        loaded_at=index.loaded_at if loaded_at is None else loaded_at,
        memo=index.memo if same else {},
    )


def _run_changed(index: ProjectIndex, row_of: dict[str, int], run: store.RunRow) -> bool:
    i = row_of.get(run.id)
    return i is None or (index.names[i], index.statuses[i], index.group_keys[i]) != (
        run.name,
        run.status,
        run.group_key,
    )


def _hparams_changed(
    index: ProjectIndex, row_of: dict[str, int], run_id: str, values: Mapping[str, HParamValue]
) -> bool:
    i = row_of.get(run_id)
    if i is None:
        return True
    current = {name: column[i] for name, column in index.hparams.items() if column[i] is not None}
    return current != dict(values) or any(type(current[k]) is not type(v) for k, v in values.items())


def _summary_changed(index: ProjectIndex, row_of: dict[str, int], s: store.SummaryRow) -> bool:
    i = row_of.get(s.run_id)
    column = index.metrics.get(s.tag)
    if i is None or column is None or i >= column.present.size or not column.present[i]:
        return True
    new = np.array([s.last, np.nan if s.min is None else s.min, np.nan if s.max is None else s.max])
    old = np.array([column.last[i], column.min[i], column.max[i]])
    return new.tobytes() != old.tobytes()


def _apply(
    index: ProjectIndex,
    runs: Sequence[store.RunRow],
    hparams: Mapping[str, Mapping[str, HParamValue]],
    summaries: Sequence[store.SummaryRow],
    *,
    cleared: Sequence[str] = (),
) -> ProjectIndex:
    """A new snapshot with ``runs`` (new or changed, with their complete hyperparameters) and
    ``summaries`` applied, after forgetting every metric of the ``cleared`` runs (their summaries
    are among ``summaries``); columns nobody touched are shared with the old snapshot."""
    ids, names, statuses = list(index.ids), list(index.names), list(index.statuses)
    created, keys = list(index.created), list(index.group_keys)
    columns: dict[str, list[HParamValue | None]] = {
        name: list(values) for name, values in index.hparams.items()
    }
    row_of = dict(index.row_of())
    for run in runs:
        i = row_of.get(run.id)
        if i is None:
            i = row_of[run.id] = len(ids)
            ids.append(run.id)
            names.append(run.name)
            statuses.append(run.status)
            created.append(run.created_at.timestamp())
            keys.append(run.group_key)
            for column in columns.values():
                column.append(None)
        else:
            names[i], statuses[i], keys[i] = run.name, run.status, run.group_key
        values = hparams.get(run.id, {})
        for name, column in columns.items():
            column[i] = values.get(name)
        for name, value in values.items():
            if name not in columns:
                columns[name] = [None] * len(ids)
                columns[name][i] = value
    rows = len(ids)
    metrics = {tag: column.grown(rows) for tag, column in index.metrics.items()}
    touched: dict[str, tuple[BoolArray, FloatArray, FloatArray, FloatArray]] = {}

    def arrays(tag: str) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray]:
        if tag not in touched:
            old = metrics.get(tag) or MetricColumn(
                np.zeros(rows, dtype=bool), np.zeros(rows), np.zeros(rows), np.zeros(rows)
            )
            touched[tag] = (old.present.copy(), old.last.copy(), old.min.copy(), old.max.copy())
        return touched[tag]

    for run_id in cleared:
        i = row_of[run_id]
        for tag, metric in metrics.items():
            if metric.present[i]:
                arrays(tag)[0][i] = False
    for s in summaries:
        i = row_of.get(s.run_id)
        if i is None:
            continue  # the run was not seen yet; the next refresh brings both
        present, last, low, high = arrays(s.tag)
        present[i] = True
        last[i] = s.last
        low[i] = np.nan if s.min is None else s.min
        high[i] = np.nan if s.max is None else s.max
    metrics.update({tag: MetricColumn(*parts) for tag, parts in touched.items()})
    return ProjectIndex(
        project_id=index.project_id,
        ids=tuple(ids),
        names=tuple(names),
        statuses=tuple(statuses),
        created=np.array(created, dtype=np.float64),
        group_keys=tuple(keys),
        hparams=(
            {name: tuple(values) for name, values in sorted(columns.items())} if runs else index.hparams
        ),
        metrics=dict(sorted(metrics.items())),
        checked_at=index.checked_at,
        loaded_at=index.loaded_at,
    )


class IndexCache:
    """The ProjectIndex of each recently queried project (at most ``max_projects``), kept current.

    ``get`` must be called inside the read transaction the query uses, so the snapshot it returns
    includes everything committed before that transaction began.
    """

    def __init__(self, *, max_projects: int = 32, full_reload_seconds: float = FULL_RELOAD_SECONDS) -> None:
        self._max = max_projects
        self._full_reload = full_reload_seconds
        self._lock = threading.Lock()
        self._indexes: OrderedDict[int, ProjectIndex] = OrderedDict()
        self._refreshing: dict[int, threading.Lock] = {}

    def get(self, conn: Connection, project_id: int) -> ProjectIndex:
        with self._lock:
            refreshing = self._refreshing.setdefault(project_id, threading.Lock())
        with refreshing:  # one refresh per project at a time; the others reuse its result
            with self._lock:
                index = self._indexes.get(project_id)
            if index is None or time.monotonic() - index.loaded_at > self._full_reload:
                index = load(conn, project_id)
            else:
                index = refresh(index, conn)
            with self._lock:
                self._indexes[project_id] = index
                self._indexes.move_to_end(project_id)
                while len(self._indexes) > self._max:
                    evicted, _ = self._indexes.popitem(last=False)
                    self._refreshing.pop(evicted, None)
            return index
