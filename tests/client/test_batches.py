"""Encoding buffered points into numbered WriteBatch payloads: size budget, numbering, and wire identity
of the ``*Bytes`` views with the typed messages a server in any language would parse."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from tracker_client._proto import tracker_pb2 as pb
from tracker_client.batches import Column, EncodedBatch, PointBuffer, encode_batches
from tracker_client.convert import histogram_to_proto
from tracker_client.histogram import summarize
from tracker_client.records import Histogram

RUN_ID = "run-0123456789abcdef"
WRITER_ID = "writer-fedcba9876543210"
SPECIALS = [math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]


def _column(steps: list[int], values: list[float], walls: list[float] | None = None) -> Column:
    return Column(
        steps=np.array(steps, dtype=np.int64),
        wall_times=np.array(
            walls if walls is not None else [1_700_000_000.0 + i / 7 for i in range(len(steps))],
            dtype=np.float64,
        ),
        values=np.array(values, dtype=np.float64),
    )


def _columns(rng: np.random.Generator, tags: dict[str, int]) -> dict[str, Column]:
    columns = {}
    for tag, n in tags.items():
        values = rng.normal(size=n).tolist()
        values[: len(SPECIALS)] = SPECIALS[: min(n, len(SPECIALS))]
        steps = rng.integers(0, 2**63 - 1, size=n, dtype=np.int64).tolist()
        steps[:2] = [0, 2**63 - 1][: min(n, 2)]
        walls = (1.7e9 + rng.uniform(size=n)).tolist()
        columns[tag] = _column(steps, values, walls)
    return columns


def _histograms(tag_counts: dict[str, int], bins: int = 10) -> dict[str, list[Histogram]]:
    rng = np.random.default_rng(9)
    out: dict[str, list[Histogram]] = {}
    for tag, n in tag_counts.items():
        out[tag] = [summarize(rng.normal(size=50), step=i, wall_time=1.7e9 + i, bins=bins) for i in range(n)]
    return out


def _encode(
    columns: dict[str, Column],
    histograms: dict[str, list[Histogram]] | None = None,
    *,
    first_seq: int = 1,
    max_bytes: int = 10_000,
) -> list[EncodedBatch]:
    return encode_batches(
        run_id=RUN_ID,
        writer_id=WRITER_ID,
        first_seq=first_seq,
        columns=columns,
        entries={
            "histograms": {
                tag: [histogram_to_proto(h) for h in items] for tag, items in (histograms or {}).items()
            }
        },
        max_bytes=max_bytes,
    )


def _parsed(batches: list[EncodedBatch]) -> list[pb.WriteBatch]:
    return [pb.WriteBatch.FromString(b.payload) for b in batches]


def _concatenated_scalars(
    messages: list[pb.WriteBatch],
) -> dict[str, tuple[list[int], list[float], list[float]]]:
    out: dict[str, tuple[list[int], list[float], list[float]]] = {}
    for message in messages:
        for column in message.scalars:
            steps, walls, values = out.setdefault(column.tag, ([], [], []))
            assert len(column.steps) == len(column.wall_times) == len(column.values) > 0
            steps.extend(column.steps)
            walls.extend(column.wall_times)
            values.extend(column.values)
    return out


def _as_bytes(values: list[float]) -> bytes:
    return struct.pack(f"<{len(values)}d", *values)


def test_payloads_stay_under_the_budget_and_are_numbered_from_first_seq() -> None:
    columns = _columns(np.random.default_rng(1), {"train/loss": 3000, "train/acc": 1700, "lr": 5})
    batches = _encode(columns, first_seq=41)
    assert len(batches) > 10
    assert [b.seq for b in batches] == list(range(41, 41 + len(batches)))
    assert all(len(b.payload) <= 10_000 for b in batches)
    assert sum(b.points for b in batches) == 3000 + 1700 + 5
    for batch, message in zip(batches, _parsed(batches), strict=True):
        assert message.run_id == RUN_ID
        assert message.writer_id == WRITER_ID
        assert message.seq == batch.seq
        assert batch.points == sum(len(c.steps) for c in message.scalars)


def test_every_point_arrives_once_in_order_bit_for_bit() -> None:
    columns = _columns(np.random.default_rng(2), {"a": 2500, "b/ü ✓": 999, "c": 1})
    sent = _concatenated_scalars(_parsed(_encode(columns)))
    assert list(sent) == ["a", "b/ü ✓", "c"]
    for tag, column in columns.items():
        steps, walls, values = sent[tag]
        assert steps == column.steps.tolist()
        # Compare bytes so that NaN, -0.0 and subnormals count as exactly equal.
        assert _as_bytes(values) == column.values.tobytes()
        assert _as_bytes(walls) == column.wall_times.tobytes()


def test_payloads_are_filled_not_one_point_each() -> None:
    columns = {"x": _column(list(range(4000)), [float(i) for i in range(4000)])}
    batches = _encode(columns)
    # 24 bytes a point: every batch but the last uses at least 90% of the 10 kB budget.
    assert all(9_000 <= len(b.payload) <= 10_000 for b in batches[:-1])
    assert len(batches) == math.ceil(4000 * 24 / 10_000)
    assert sum(b.points for b in batches) == 4000


def test_a_budget_smaller_than_one_point_still_makes_progress() -> None:
    columns = {"x": _column([1, 2, 3], [1.0, 2.0, 3.0])}
    batches = _encode(columns, max_bytes=10)
    assert [b.points for b in batches] == [1, 1, 1]
    sent = _concatenated_scalars(_parsed(batches))
    assert sent["x"][0] == [1, 2, 3] and sent["x"][2] == [1.0, 2.0, 3.0]


def test_nothing_buffered_encodes_to_no_batch() -> None:
    assert _encode({}) == []
    assert _encode({"empty": _column([], [])}) == []


def test_histograms_are_split_across_batches_and_none_is_lost() -> None:
    histograms = _histograms({"weights/fc1": 60, "grads": 45})
    columns = {"loss": _column(list(range(500)), [0.5] * 500)}
    batches = _encode(columns, histograms, first_seq=1, max_bytes=10_000)
    assert len(batches) > 3
    assert all(len(b.payload) <= 10_000 for b in batches)
    assert sum(b.points for b in batches) == 500 + 60 + 45
    received: dict[str, list[pb.Histogram]] = {}
    for message in _parsed(batches):
        for column in message.histograms:
            received.setdefault(column.tag, []).extend(column.histograms)
    assert list(received) == ["weights/fc1", "grads"]
    for tag, items in histograms.items():
        got = received[tag]
        assert [h.step for h in got] == [h.step for h in items]
        for h, want in zip(got, items, strict=True):
            assert (h.step, h.wall_time, h.count, h.min, h.max, h.sum, h.sum_squares, h.nan_count) == (
                want.step,
                want.wall_time,
                want.count,
                want.min,
                want.max,
                want.sum,
                want.sum_squares,
                want.nan_count,
            )
            assert list(h.bucket_limits) == want.bucket_limits.tolist()
            assert list(h.bucket_counts) == want.bucket_counts.tolist()


def test_all_nan_histogram_is_encoded_with_its_nan_summary() -> None:
    h = summarize(np.full(4, np.nan), step=2, wall_time=5.0)
    (batch,) = _encode({}, {"h": [h]})
    (column,) = pb.WriteBatch.FromString(batch.payload).histograms
    (sent,) = column.histograms
    assert sent.count == 4.0 and sent.nan_count == 4.0 and sent.step == 2
    assert math.isnan(sent.min) and math.isnan(sent.max)
    assert list(sent.bucket_limits) == [] and list(sent.bucket_counts) == []


# -- wire identity of the Bytes views ---------------------------------------------------------------------


def _typed_batch() -> pb.WriteBatch:
    return pb.WriteBatch(
        run_id=RUN_ID,
        writer_id=WRITER_ID,
        seq=2**40 + 3,
        scalars=[
            pb.ScalarColumn(
                tag="a",
                steps=[0, 5, 2**63 - 1],
                wall_times=[1.5, 2.5, 3.5],
                values=[math.nan, -0.0, math.inf],
            ),
            pb.ScalarColumn(tag="b", steps=[7], wall_times=[1e9], values=[5e-324]),
        ],
        histograms=[
            pb.HistogramColumn(
                tag="h",
                histograms=[
                    pb.Histogram(
                        step=1,
                        wall_time=2.0,
                        count=3.0,
                        min=-1.0,
                        max=1.0,
                        sum=0.0,
                        sum_squares=2.0,
                        bucket_limits=[-1.0, 0.0, 1.0],
                        bucket_counts=[0.0, 1.0, 2.0],
                    ),
                ],
            )
        ],
    )


def test_a_typed_batch_parses_as_the_bytes_view_and_back_identically() -> None:
    typed = _typed_batch()
    wire = typed.SerializeToString()
    view = pb.WriteBatchBytes.FromString(wire)
    assert view.SerializeToString() == wire
    assert view.seq == 2**40 + 3
    a, b = view.scalars
    assert a.steps == [struct.pack("<3q", 0, 5, 2**63 - 1)]
    assert a.wall_times == [_as_bytes([1.5, 2.5, 3.5])]
    assert a.values == [_as_bytes([math.nan, -0.0, math.inf])]
    assert b.values == [_as_bytes([5e-324])]
    assert pb.WriteBatch.FromString(view.SerializeToString()).SerializeToString() == wire


def test_encoded_payloads_reserialise_identically_as_typed_messages() -> None:
    columns = _columns(np.random.default_rng(3), {"a": 900, "b": 10})
    batches = _encode(columns, _histograms({"h": 12}))
    for batch in batches:
        typed = pb.WriteBatch.FromString(batch.payload)
        assert typed.SerializeToString() == batch.payload
        assert pb.WriteBatchBytes.FromString(batch.payload).SerializeToString() == batch.payload


def test_column_arrays_are_sent_as_little_endian_machine_values() -> None:
    column = _column([1, 2**62], [0.1, -2.5], [10.0, 20.0])
    (batch,) = _encode({"t": column})
    (view,) = pb.WriteBatchBytes.FromString(batch.payload).scalars
    assert view.steps == [struct.pack("<2q", 1, 2**62)]
    assert view.values == [struct.pack("<2d", 0.1, -2.5)]
    assert view.wall_times == [struct.pack("<2d", 10.0, 20.0)]


# -- the buffer log() appends to --------------------------------------------------------------------------


def _log(buffer: PointBuffer, metrics: dict[str, float], step: int, wall: float) -> None:
    """What Run.log() does under the lock, without the checks."""
    keys = tuple(metrics)
    layout = buffer.last_layout if keys == buffer.last_keys else buffer.layout(keys)
    buffer.values.extend(metrics.values())
    buffer.steps.append(step)
    buffer.wall_times.append(wall)
    buffer.layout_ids.append(layout)
    buffer.points += len(keys)


def test_drain_regroups_calls_into_columns_and_leaves_the_buffer_empty() -> None:
    buffer = PointBuffer()
    _log(buffer, {"loss": 1.0, "acc": 0.1}, step=0, wall=10.0)
    _log(buffer, {"loss": 2.0, "acc": 0.2}, step=1, wall=11.0)
    hist = histogram_to_proto(summarize([1.0], step=0, wall_time=0.0))
    buffer.add_entry("histograms", "h", hist)
    columns, entries = buffer.drain()
    assert entries == {"histograms": {"h": [hist]}, "pr_curves": {}, "texts": {}}
    assert {
        tag: (c.steps.tolist(), c.values.tolist(), c.wall_times.tolist()) for tag, c in columns.items()
    } == {
        "loss": ([0, 1], [1.0, 2.0], [10.0, 11.0]),
        "acc": ([0, 1], [0.1, 0.2], [10.0, 11.0]),
    }
    assert buffer.points == 0 and len(buffer.values) == 0
    assert buffer.drain() == ({}, {"histograms": {}, "pr_curves": {}, "texts": {}})


def test_calls_with_different_tags_keep_each_tags_logged_order() -> None:
    buffer = PointBuffer()
    calls = [
        ({"loss": 1.0}, 5),
        ({"loss": 2.0, "val": 9.0}, 3),
        ({"val": 8.0}, 3),
        ({"loss": 3.0}, 4),
        ({"val": 7.0, "loss": 4.0}, 1),
    ]
    for i, (metrics, step) in enumerate(calls):
        _log(buffer, metrics, step=step, wall=100.0 + i)
    columns, _ = buffer.drain()
    assert columns["loss"].steps.tolist() == [5, 3, 4, 1]
    assert columns["loss"].values.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert columns["loss"].wall_times.tolist() == [100.0, 101.0, 103.0, 104.0]
    assert columns["val"].steps.tolist() == [3, 3, 1]
    assert columns["val"].values.tolist() == [9.0, 8.0, 7.0]
    assert columns["val"].wall_times.tolist() == [101.0, 102.0, 104.0]


@pytest.mark.parametrize("first_seq", [1, 2**32 + 5])
def test_histogram_only_batches_are_numbered_too(first_seq: int) -> None:
    batches = _encode({}, _histograms({"h": 40}), first_seq=first_seq, max_bytes=4_000)
    assert [b.seq for b in batches] == list(range(first_seq, first_seq + len(batches)))
    assert len(batches) > 1
    assert sum(len(c.histograms) for m in _parsed(batches) for c in m.histograms) == 40
