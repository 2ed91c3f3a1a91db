"""Per-series scalar summaries, computed from a batch and merged into what is stored.

The summary answers comparison queries without scanning a series: count, the last point (the
largest step; among equal steps the one logged later), min and max ignoring NaN (None when every
value is NaN), and the first step holding a non-finite value (where a run diverged).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from tracker_server.domain.model import ScalarSummary


def summarize(
    steps: npt.NDArray[np.int64], wall_times: npt.NDArray[np.float64], values: npt.NDArray[np.float64]
) -> ScalarSummary:
    """The summary of one batch's points of a series (in logged order; at least one point)."""
    last = steps.size - 1 - int(np.argmax(steps[::-1]))  # the last occurrence of the largest step
    nan = np.isnan(values)
    finite_or_inf = values[~nan] if nan.any() else values
    nonfinite = ~np.isfinite(values)
    return ScalarSummary(
        count=int(steps.size),
        last_step=int(steps[last]),
        last_value=float(values[last]),
        last_wall_time=float(wall_times[last]),
        min_value=float(finite_or_inf.min()) if finite_or_inf.size else None,
        max_value=float(finite_or_inf.max()) if finite_or_inf.size else None,
        first_nonfinite_step=int(steps[nonfinite].min()) if nonfinite.any() else None,
    )


def _pick(a: float | None, b: float | None, choose: Callable[[float, float], float]) -> float | None:
    if a is None:
        return b
    if b is None:
        return a
    return choose(a, b)


def merge(old: ScalarSummary | None, new: ScalarSummary) -> ScalarSummary:
    """Fold a newer batch's summary into the stored one."""
    if old is None:
        return new
    newer_last = new.last_step >= old.last_step
    latest = new if newer_last else old
    first_nonfinite = [s for s in (old.first_nonfinite_step, new.first_nonfinite_step) if s is not None]
    return ScalarSummary(
        count=old.count + new.count,
        last_step=latest.last_step,
        last_value=latest.last_value,
        last_wall_time=latest.last_wall_time,
        min_value=_pick(old.min_value, new.min_value, min),
        max_value=_pick(old.max_value, new.max_value, max),
        first_nonfinite_step=min(first_nonfinite) if first_nonfinite else None,
    )
