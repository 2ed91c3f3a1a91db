"""Hyperparameters: flattening, normalisation to int/float/str/bool, and the typed wire value."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.hparams import flatten, from_proto, normalize, to_proto, to_proto_map


def test_nested_dicts_are_flattened_with_dots() -> None:
    nested = {
        "lr": 0.1,
        "opt": {"name": "adam", "betas": {"b1": 0.9, "b2": 0.999}},
        "model": {"depth": 18},
        "empty": {},
    }
    assert flatten(nested) == {
        "lr": 0.1,
        "opt.name": "adam",
        "opt.betas.b1": 0.9,
        "opt.betas.b2": 0.999,
        "model.depth": 18,
    }


def test_flat_dicts_are_returned_with_the_same_values_and_types() -> None:
    flat = {"a": 1, "b": 2.0, "c": "x", "d": False, "e": -(2**63), "f": math.inf}
    out = flatten(flat)
    assert out == flat
    assert [type(v) for v in out.values()] == [int, float, str, bool, int, float]


@pytest.mark.parametrize(
    ("value", "expected", "kind"),
    [
        (np.int64(3), 3, int),
        (np.int8(-4), -4, int),
        (np.uint64(2**64 - 1), 2**64 - 1, int),
        (np.float32(0.1), float(np.float32(0.1)), float),
        (np.float64(2.5), 2.5, float),
        (np.float16(0.5), 0.5, float),
        (Fraction(1, 4), 0.25, float),
    ],
)
def test_numpy_and_other_numbers_become_python_ints_and_floats(value: Any, expected: Any, kind: type) -> None:
    out = flatten({"x": value})["x"]
    assert out == expected
    assert type(out) is kind


def test_numpy_bool_becomes_python_bool() -> None:
    out = flatten({"x": np.True_, "y": np.bool_(False)})
    assert out == {"x": True, "y": False}
    assert type(out["x"]) is bool and type(out["y"]) is bool


def test_bool_stays_bool_not_int() -> None:
    out = flatten({"t": True, "f": False, "one": 1})
    assert type(out["t"]) is bool and out["t"] is True
    assert type(out["f"]) is bool and out["f"] is False
    assert type(out["one"]) is int
    assert to_proto(True).WhichOneof("kind") == "bool_value"
    assert to_proto(False).WhichOneof("kind") == "bool_value"
    assert to_proto(1).WhichOneof("kind") == "int_value"
    assert to_proto(1.0).WhichOneof("kind") == "float_value"
    assert to_proto("1").WhichOneof("kind") == "string_value"


@pytest.mark.parametrize(
    ("hparams", "name", "type_name"),
    [
        ({"opt": None}, "opt", "NoneType"),
        ({"layers": [64, 64]}, "layers", "list"),
        ({"shape": (1, 2)}, "shape", "tuple"),
        ({"model": {"act": object()}}, "model.act", "object"),
        ({"z": 1 + 2j}, "z", "complex"),
        ({"blob": b"bytes"}, "blob", "bytes"),
    ],
)
def test_unsupported_values_raise_type_error_naming_the_hparam(
    hparams: dict[str, Any], name: str, type_name: str
) -> None:
    with pytest.raises(TypeError, match=f"hyperparameter '{name}' has unsupported type {type_name}"):
        flatten(hparams)


def test_the_message_says_what_to_do_with_a_list() -> None:
    with pytest.raises(TypeError, match=r"use int, float, str or bool .*log str\(value\)"):
        normalize("layers", [1, 2])


@pytest.mark.parametrize(("hparams", "bad"), [({1: "a"}, 1), ({"opt": {2.5: "b"}}, 2.5), ({None: 1}, None)])
def test_non_string_names_raise_type_error(hparams: dict[Any, Any], bad: Any) -> None:
    with pytest.raises(TypeError, match=rf"hyperparameter names must be strings, got {bad!r}"):
        flatten(hparams)


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, 10**30])
def test_integers_outside_int64_are_refused_on_the_wire(value: int) -> None:
    assert flatten({"seed": value}) == {"seed": value}  # kept exactly until encoding
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        to_proto(value)
    with pytest.raises(ValueError, match="does not fit in 64 bits"):
        to_proto_map({"ok": 1, "seed": value})


@pytest.mark.parametrize("value", [2**63 - 1, -(2**63), 0, 2**53 + 1, True, False, 0.1, -0.0, "", "ü\n"])
def test_values_round_trip_through_the_wire_with_their_type(value: Any) -> None:
    message = to_proto(value)
    parsed = pb.HParamValue.FromString(message.SerializeToString())
    back = from_proto(parsed)
    assert back == value and type(back) is type(value)
    if isinstance(value, float):
        assert math.copysign(1.0, back) == math.copysign(1.0, value)


def test_nan_round_trips() -> None:
    back = from_proto(pb.HParamValue.FromString(to_proto(math.nan).SerializeToString()))
    assert type(back) is float and math.isnan(back)


def test_a_wire_value_without_a_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="without a value"):
        from_proto(pb.HParamValue())


def test_to_proto_map_keeps_every_name() -> None:
    out = to_proto_map(flatten({"a": 1, "b": {"c": "x"}}))
    assert set(out) == {"a", "b.c"}
    assert out["a"].int_value == 1 and out["b.c"].string_value == "x"
