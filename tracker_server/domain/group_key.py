"""The key that makes runs with identical hyperparameters one group (repeated trials, e.g. seeds).

Two runs are in one group when they have the same hyperparameter names with equal values: numbers
compare by value (``1`` equals ``1.0``), bools only equal bools, strings only strings. The key is
stored with the run and kept current as its hyperparameters change, so grouping is a column lookup.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

from tracker_server.domain.model import HParamValue

GROUP_KEY_LENGTH = 32


def _canonical(value: HParamValue) -> list[object]:
    if isinstance(value, bool):
        return ["b", value]
    if isinstance(value, int):
        return ["n", str(value)]
    if isinstance(value, float):
        if math.isnan(value):
            return ["n", "nan"]
        if value.is_integer() and abs(value) < 2**63:
            return ["n", str(int(value))]
        return ["n", repr(value)]
    return ["s", value]


def group_key(hparams: Mapping[str, HParamValue]) -> str:
    """A stable digest of a run's hyperparameter values (32 hex characters)."""
    canonical = [[name, *_canonical(value)] for name, value in sorted(hparams.items())]
    text = json.dumps(canonical, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:GROUP_KEY_LENGTH]
