"""Typed hyperparameters: Python values <-> the wire's HParamValue.

Kept types are int, float, str and bool (numpy scalars count as their Python kin). Nested dicts
are flattened with "." (``{"opt": {"lr": 0.1}}`` becomes ``{"opt.lr": 0.1}``), as configs from
Hydra or argparse namespaces turned into dicts often nest.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.records import HParamValue
from tracker_client.validation import hparam_string_problem, hparams_count_problem


def flatten(hparams: Mapping[str, Any], prefix: str = "") -> dict[str, HParamValue]:
    """Flatten nested mappings and normalise every value to int, float, str or bool."""
    out: dict[str, HParamValue] = {}
    for key, value in hparams.items():
        if not isinstance(key, str):
            raise TypeError(f"hyperparameter names must be strings, got {key!r}")
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, prefix=f"{name}."))
        else:
            out[name] = normalize(name, value)
    return out


def normalize(name: str, value: Any) -> HParamValue:
    """Return value as a plain int, float, str or bool, or raise TypeError naming the hparam."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise TypeError(
        f"hyperparameter {name!r} has unsupported type {type(value).__name__}: use int, float, str or "
        "bool (for a list or other object, log str(value))"
    )


def to_proto(value: HParamValue) -> pb.HParamValue:
    if isinstance(value, bool):
        return pb.HParamValue(bool_value=value)
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"integer hyperparameter {value} does not fit in 64 bits")
        return pb.HParamValue(int_value=value)
    if isinstance(value, float):
        return pb.HParamValue(float_value=value)
    return pb.HParamValue(string_value=value)


def to_proto_map(hparams: Mapping[str, HParamValue]) -> dict[str, pb.HParamValue]:
    """The wire form; ValueError, in the server's words, for what the server would refuse."""
    if (problem := hparams_count_problem("hparams", len(hparams))) is not None:
        raise ValueError(problem)
    out = {}
    for name, value in hparams.items():
        if isinstance(value, str) and (problem := hparam_string_problem(value)) is not None:
            raise ValueError(f"hparams[{name!r}] {problem}")
        try:
            out[name] = to_proto(value)
        except ValueError as exc:
            raise ValueError(f"hyperparameter {name!r}: {exc}") from None
    return out


def from_proto(message: pb.HParamValue) -> HParamValue:
    kind = message.WhichOneof("kind")
    if kind is None:
        raise ValueError("HParamValue without a value")
    value: HParamValue = getattr(message, kind)
    return value
