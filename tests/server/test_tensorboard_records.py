"""Reading TensorBoard logdirs: TFRecord framing with damage and resynchronisation, the summaries of
every kind tensorboardX (and torch, when its TensorBoard dependency is installed) writes, values
forged directly as protos, the hand-decoded scalar fast path against protobuf, and the freshness of
the generated code for the vendored proto."""

from __future__ import annotations

import importlib.util
import io
import math
import random
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tensorboardX

from tracker_client.histogram import summarize
from tracker_server.tensorboard import events as ev
from tracker_server.tensorboard._proto import tensorboard_events_pb2 as pb
from tracker_server.tensorboard.events import (
    EventParser,
    HistogramEvent,
    HParamsEvent,
    HParamsExperimentEvent,
    PrCurveEvent,
    RestartEvent,
    ScalarEvent,
    SessionEndEvent,
    SkippedEvent,
    TensorBoardEvent,
    TextEvent,
    parse_event,
    tensor_array,
)
from tracker_server.tensorboard.records import (
    Record,
    RecordProblem,
    RecordReader,
    iter_records,
    masked_crc32c,
    write_record,
)

ROOT = Path(__file__).resolve().parent.parent.parent


# -- records ---------------------------------------------------------------------------------------


def _forge(path: Path, payloads: list[bytes]) -> list[int]:
    """Write payloads as records; return the offset of each."""
    offsets = []
    with open(path, "wb") as file:
        for payload in payloads:
            offsets.append(file.tell())
            write_record(file, payload)
    return offsets


def _payloads(count: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [rng.randbytes(rng.choice([0, 1, 7, 40, 300, 5000])) for _ in range(count)]


def _read(path: Path, **kwargs: Any) -> tuple[list[Record], RecordReader]:
    reader = RecordReader(path, **kwargs)
    return list(reader), reader


def _frame(payload: bytes) -> bytes:
    buffer = io.BytesIO()
    write_record(buffer, payload)
    return buffer.getvalue()


def test_masked_crc_is_tensorflows() -> None:
    # crc32c("123456789") is the standard check value 0xE3069283; TFRecord rotates it and adds a delta.
    crc = 0xE3069283
    assert masked_crc32c(b"123456789") == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
    assert masked_crc32c(b"") == 0xA282EAD8


@pytest.mark.parametrize("block_size", [4096, 1 << 20])
def test_round_trip_with_records_across_block_boundaries(tmp_path: Path, block_size: int) -> None:
    payloads = [*_payloads(300), b"x" * 20_000, b""]  # one record larger than a small block
    path = tmp_path / "events"
    offsets = _forge(path, payloads)
    records, reader = _read(path, block_size=block_size)
    assert [r.data for r in records] == payloads
    assert [r.offset for r in records] == offsets
    assert reader.problems == []
    assert reader.position == path.stat().st_size


def test_iter_records_reports_problems_to_a_callback(tmp_path: Path) -> None:
    path, payloads, offsets, size = _damaged(tmp_path, 3, 20)
    problems: list[RecordProblem] = []
    records = list(iter_records(path, on_problem=problems.append))
    assert [r.data for r in records] == payloads[:3] + payloads[4:]
    assert [(p.offset, p.kind, p.skipped) for p in problems] == [(offsets[3], "corrupt", size)]
    assert list(iter_records(path, start=offsets[10])) == records[9:]


def test_a_consumer_that_stops_early_resumes_after_the_last_record_it_got(tmp_path: Path) -> None:
    payloads = _payloads(100)
    path = tmp_path / "events"
    offsets = _forge(path, payloads)
    reader = RecordReader(path)
    first = []
    for record in reader:
        first.append(record.data)
        if len(first) == 37:
            break
    assert reader.position == offsets[37]
    assert first + [r.data for r in reader] == payloads  # iterating again continues
    assert reader.position == path.stat().st_size


def test_write_record_frames_exactly(tmp_path: Path) -> None:
    frame = _frame(b"abc")
    assert len(frame) == 12 + 3 + 4
    assert struct.unpack("<Q", frame[:8]) == (3,)
    assert struct.unpack("<I", frame[8:12]) == (masked_crc32c(frame[:8]),)
    assert frame[12:15] == b"abc"
    assert struct.unpack("<I", frame[15:]) == (masked_crc32c(b"abc"),)


def _damaged(tmp_path: Path, index: int, byte: int) -> tuple[Path, list[bytes], list[int], int]:
    """Records with one byte flipped at ``byte`` within record ``index``."""
    payloads = [f"record {i} ".encode() * (i % 5 + 1) for i in range(50)]
    path = tmp_path / "events"
    offsets = _forge(path, payloads)
    data = bytearray(path.read_bytes())
    data[offsets[index] + byte] ^= 0x40
    path.write_bytes(bytes(data))
    return path, payloads, offsets, offsets[index + 1] - offsets[index]


@pytest.mark.parametrize(("byte", "reason"), [(2, "length CRC"), (9, "length CRC"), (14, "data CRC")])
def test_a_damaged_record_is_reported_and_the_rest_is_read(tmp_path: Path, byte: int, reason: str) -> None:
    seen: list[RecordProblem] = []
    path, payloads, offsets, size = _damaged(tmp_path, 17, byte)
    records, reader = _read(path, on_problem=seen.append)
    assert [r.data for r in records] == payloads[:17] + payloads[18:]
    assert [r.offset for r in records] == offsets[:17] + offsets[18:]
    (problem,) = reader.problems
    assert seen == [problem]
    assert problem.path == str(path)
    assert (problem.offset, problem.kind, problem.skipped) == (offsets[17], "corrupt", size)
    assert problem.reason.startswith(f"{reason} mismatch")
    assert reader.position == path.stat().st_size


def test_data_crc_damage_in_the_footer(tmp_path: Path) -> None:
    path, payloads, _, size = _damaged(tmp_path, 0, 12 + len(b"record 0 ") + 1)  # in the data CRC
    records, reader = _read(path)
    assert [r.data for r in records] == payloads[1:]
    assert [(p.offset, p.skipped) for p in reader.problems] == [(0, size)]
    assert reader.problems[0].reason.startswith("data CRC mismatch")


@pytest.mark.parametrize(
    "garbage",
    [b"\x00" * 3000, b"\xff" * 17, bytes(random.Random(1).randbytes(70_000)), b"not a record at all\n" * 40],
    ids=["zeros", "ones", "random-70k", "text"],
)
def test_garbage_between_records_is_skipped_with_its_exact_extent(tmp_path: Path, garbage: bytes) -> None:
    payloads = _payloads(40, seed=3)
    frames = [_frame(p) for p in payloads]
    path = tmp_path / "events"
    path.write_bytes(b"".join(frames[:25]) + garbage + b"".join(frames[25:]))
    records, reader = _read(path, block_size=4096)
    assert [r.data for r in records] == payloads
    start = sum(len(f) for f in frames[:25])
    assert [r.offset for r in records][25] == start + len(garbage)
    (problem,) = reader.problems
    assert (problem.offset, problem.kind, problem.skipped) == (start, "corrupt", len(garbage))
    assert "skipped to the next valid record" in problem.reason


def test_garbage_at_the_end_is_corrupt_to_the_end(tmp_path: Path) -> None:
    payloads = _payloads(10)
    path = tmp_path / "events"
    _forge(path, payloads)
    good = path.stat().st_size
    with open(path, "ab") as file:
        file.write(b"\x13" * 500)
    records, reader = _read(path)
    assert [r.data for r in records] == payloads
    (problem,) = reader.problems
    assert (problem.offset, problem.kind, problem.skipped) == (good, "corrupt", 500)
    assert "up to the end of the file" in problem.reason
    assert reader.position == good + 500


@pytest.mark.parametrize("cut", [1, 5, 11, 12, 20, 40 + 12 + 3])
def test_a_truncated_last_record_is_reported_and_reading_resumes_when_it_is_complete(
    tmp_path: Path, cut: int
) -> None:
    payloads = _payloads(20)
    path = tmp_path / "events"
    _forge(path, payloads)
    good = path.stat().st_size
    last = _frame(b"y" * 40)
    with open(path, "ab") as file:
        file.write(last[:cut])
    records, reader = _read(path)
    assert [r.data for r in records] == payloads
    (problem,) = reader.problems
    assert (problem.offset, problem.kind, problem.skipped) == (good, "truncated", cut)
    assert reader.position == good
    # The writer finishes the record; a reader resuming at `position` gets it and nothing else.
    with open(path, "ab") as file:
        file.write(last[cut:])
    resumed, again = _read(path, start=reader.position)
    assert resumed == [Record(good, b"y" * 40)]
    assert again.problems == []
    assert again.position == path.stat().st_size


def test_damage_followed_by_a_truncated_record(tmp_path: Path) -> None:
    payloads = _payloads(5)
    path = tmp_path / "events"
    _forge(path, payloads)
    good = path.stat().st_size
    tail = _frame(b"z" * 100)[:60]
    path.write_bytes(path.read_bytes() + b"\xee" * 33 + tail)
    records, reader = _read(path)
    assert [r.data for r in records] == payloads
    assert [(p.offset, p.kind, p.skipped) for p in reader.problems] == [
        (good, "corrupt", 33),
        (good + 33, "truncated", 60),
    ]
    assert reader.position == good + 33


def test_resynchronisation_gives_up_after_its_bound(tmp_path: Path) -> None:
    payloads = _payloads(5)
    frames = [_frame(p) for p in payloads]
    path = tmp_path / "events"
    path.write_bytes(frames[0] + b"\x77" * 10_000 + b"".join(frames[1:]))
    records, reader = _read(path, max_resync_bytes=4000)
    assert [r.data for r in records] == payloads[:1]
    (problem,) = reader.problems
    assert (problem.offset, problem.kind, problem.skipped) == (len(frames[0]), "corrupt", 4001)
    assert "gave up" in problem.reason


def test_an_empty_file_has_no_records_and_no_problems(tmp_path: Path) -> None:
    path = tmp_path / "events"
    path.write_bytes(b"")
    records, reader = _read(path)
    assert records == [] and reader.problems == [] and reader.position == 0


# -- files written by tensorboardX -----------------------------------------------------------------


def _event_files(logdir: Path) -> list[Path]:
    return sorted(logdir.rglob("events.out.tfevents.*"))


def _parse_run(path: Path) -> list[TensorBoardEvent]:
    parser = EventParser()
    reader = RecordReader(path)
    out = [event for record in reader for event in parser.parse(record.data)]
    assert reader.problems == []
    return out


def test_every_tensorboardx_scalar_is_read_back_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    values = np.concatenate([rng.normal(size=3000) * 1e3, [0.0, -0.0, np.inf, -np.inf, np.nan, 3e38]])
    written = []
    with tensorboardX.SummaryWriter(str(tmp_path), flush_secs=3600) as writer:
        for i, value in enumerate(values):
            tag = ["loss", "metrics/accuracy", "λ/ünïcode", "t" * 200][i % 4]
            step = [i, -i, 2**40 + i, 0][i % 4]
            wall_time = 1.7e9 + i * 0.25
            writer.add_scalar(tag, float(value), step, walltime=wall_time)
            written.append((tag, step, wall_time, float(np.float32(value))))
    (path,) = _event_files(tmp_path)
    scalars = _parse_run(path)
    assert all(isinstance(e, ScalarEvent) for e in scalars)
    got = [(e.tag, e.step, e.wall_time, e.value) for e in scalars if isinstance(e, ScalarEvent)]
    assert len(got) == len(written)
    for (tag, step, wall, value), expected in zip(got, written, strict=True):
        assert (tag, step, wall) == expected[:3]
        assert value == expected[3] or (math.isnan(value) and math.isnan(expected[3]))


def test_tensorboardx_histograms_keep_the_layout_and_count_nan(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    plain = rng.normal(size=1000)
    with_nan = np.concatenate([rng.normal(size=50), [np.nan, np.nan]])
    with tensorboardX.SummaryWriter(str(tmp_path), flush_secs=3600) as writer:
        writer.add_histogram("weights", plain, 3, walltime=10.0)
        writer.add_histogram("weights", with_nan, 4, walltime=11.0)
        writer.add_histogram("coarse", plain, 5, bins=7, walltime=12.0)
    (path,) = _event_files(tmp_path)
    first, second, coarse = _parse_run(path)
    assert isinstance(first, HistogramEvent)
    assert (first.tag, first.step, first.wall_time) == ("weights", 3, 10.0)
    assert (first.count, first.nan_count) == (1000, 0)
    # Exactly what Tracker's own client computes for the same values (torch's default edges).
    ours = summarize(plain, step=3, wall_time=10.0)
    np.testing.assert_array_equal(first.bucket_limits, ours.bucket_limits)
    np.testing.assert_array_equal(first.bucket_counts, ours.bucket_counts)
    assert (first.min, first.max, first.sum) == (ours.min, ours.max, pytest.approx(ours.sum, rel=1e-12))
    assert first.bucket_counts[0] == 0 and first.bucket_limits[0] <= first.min
    assert isinstance(second, HistogramEvent)
    assert (second.count, second.nan_count, second.bucket_counts.sum()) == (52, 2, 50)
    assert math.isnan(second.min)  # tensorboardX computes min/max over the NaNs too
    np.testing.assert_array_equal(
        second.bucket_counts, summarize(with_nan, step=4, wall_time=0).bucket_counts
    )
    assert isinstance(coarse, HistogramEvent)
    counts, edges = np.histogram(plain, bins=7)
    np.testing.assert_array_equal(coarse.bucket_limits, edges)
    np.testing.assert_array_equal(coarse.bucket_counts, np.concatenate([[0], counts]))


def test_tensorboardx_pr_curves_text_and_hparams(tmp_path: Path) -> None:
    from tensorboardX.summary import compute_curve

    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 500)
    predictions = rng.random(500)
    with tensorboardX.SummaryWriter(str(tmp_path), flush_secs=3600) as writer:
        writer.add_pr_curve("pr", labels, predictions, 7, num_thresholds=33, walltime=20.0)
        writer.add_pr_curve("pr", labels, predictions, 8, walltime=21.0)  # default 127
        writer.add_text("notes", "# Title\nsome *markdown*", 9, walltime=22.0)
        writer.add_text("notes", "", 10, walltime=23.0)
        writer.add_hparams(
            {"lr": 0.001, "batch": 64, "optimizer": "adam", "nesterov": True, "none": None},
            {"hparam/accuracy": 0.75},
            name="trial",
        )
    main, trial = _event_files(tmp_path)
    pr33, pr127, text, empty = _parse_run(main)
    for event, n, step in ((pr33, 33, 7), (pr127, 127, 8)):
        assert isinstance(event, PrCurveEvent)
        assert (event.tag, event.step, event.num_thresholds, event.data.shape) == ("pr", step, n, (6, n))
        assert event.data.dtype == np.float64
        expected = compute_curve(labels, predictions, num_thresholds=n)
        np.testing.assert_array_equal(event.data, expected.astype(np.float32))  # stored as float32
    assert text == TextEvent("notes", 9, 22.0, "# Title\nsome *markdown*")
    assert empty == TextEvent("notes", 10, 23.0, "")
    experiment, start, end, metric = _parse_run(trial)
    assert isinstance(experiment, HParamsExperimentEvent)
    assert experiment.hparams == {
        "lr": "number",
        "batch": "number",
        "optimizer": "string",
        "nesterov": "bool",
    }
    assert experiment.metrics == (("", "hparam/accuracy"),)
    assert isinstance(start, HParamsEvent)
    assert start.hparams == {"lr": 0.001, "batch": 64.0, "optimizer": "adam", "nesterov": True}
    assert type(start.hparams["batch"]) is float and type(start.hparams["nesterov"]) is bool
    assert (start.group_name, start.start_time) == ("", None)
    assert isinstance(end, SessionEndEvent) and end.status == "finished" and end.end_time is None
    assert isinstance(metric, ScalarEvent)
    assert (metric.tag, metric.value) == ("hparam/accuracy", 0.75)


# -- files written by torch.utils.tensorboard (needs the tensorboard package) -----------------------


def test_torch_summary_writer_events(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    tb = pytest.importorskip("torch.utils.tensorboard")
    summary = pytest.importorskip("torch.utils.tensorboard.summary")
    import torch

    rng = np.random.default_rng(11)
    values = rng.normal(size=400)
    labels = torch.tensor(rng.integers(0, 2, 300))
    predictions = torch.tensor(rng.random(300), dtype=torch.float32)
    with tb.SummaryWriter(str(tmp_path), flush_secs=3600, purge_step=5) as writer:
        writer.add_scalar("legacy", 1.5, 5, walltime=30.0)
        writer.add_scalar("tensor32", 2.25, 6, walltime=31.0, new_style=True)
        writer.add_scalar("tensor64", 0.1, 7, walltime=32.0, new_style=True, double_precision=True)
        writer.add_histogram("hist", torch.tensor(values), 8, walltime=33.0)
        writer.add_pr_curve("pr", labels, predictions, 9, num_thresholds=200, walltime=34.0)
        writer.add_text("log", "hello", 10, walltime=35.0)
        writer.add_hparams({"lr": 0.5, "flag": True, "name": "x"}, {"m": 1.0}, run_name="hp")
    main, hp = _event_files(tmp_path)
    got = _parse_run(main)
    assert isinstance(got[0], RestartEvent) and got[0].step == 5  # purge_step
    legacy, t32, t64, hist, pr, text = got[1:]
    assert legacy == ScalarEvent("legacy", 5, 30.0, 1.5)
    assert t32 == ScalarEvent("tensor32", 6, 31.0, 2.25)
    assert t64 == ScalarEvent("tensor64", 7, 32.0, 0.1)  # double precision: exact
    assert isinstance(hist, HistogramEvent)
    ours = summarize(values, step=8, wall_time=33.0)
    np.testing.assert_array_equal(hist.bucket_limits, ours.bucket_limits)
    np.testing.assert_array_equal(hist.bucket_counts, ours.bucket_counts)
    assert isinstance(pr, PrCurveEvent) and pr.num_thresholds == 127  # torch caps 200 at 127
    expected = summary.compute_curve(labels.numpy(), predictions.numpy(), num_thresholds=127)
    np.testing.assert_array_equal(pr.data, expected.astype(np.float32).astype(np.float64))
    assert text == TextEvent("log", 10, 35.0, "hello")
    start = next(e for e in _parse_run(hp) if isinstance(e, HParamsEvent))
    assert start.hparams == {"lr": 0.5, "flag": 1.0, "name": "x"}  # torch stores bools as numbers


# -- forged events: tensors, legacy values, plugins ------------------------------------------------


def _event(*values: pb.Summary.Value, step: int = 4, wall_time: float = 99.5) -> bytes:
    event = pb.Event(wall_time=wall_time, step=step)
    event.summary.value.extend(values)
    return event.SerializeToString()


def _metadata(plugin: str, content: bytes = b"") -> pb.SummaryMetadata:
    return pb.SummaryMetadata(plugin_data=pb.SummaryMetadata.PluginData(plugin_name=plugin, content=content))


def _shape(*dims: int) -> pb.TensorShapeProto:
    return pb.TensorShapeProto(dim=[pb.TensorShapeProto.Dim(size=d) for d in dims])


SCALAR_TENSORS = [
    (pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[0.5]), 0.5),
    (pb.TensorProto(dtype=pb.DT_FLOAT, tensor_content=np.float32(-2.5).tobytes()), -2.5),
    (pb.TensorProto(dtype=pb.DT_DOUBLE, double_val=[0.1]), 0.1),
    (
        pb.TensorProto(
            dtype=pb.DT_DOUBLE, tensor_content=np.float64(1e300).tobytes(), tensor_shape=_shape(1)
        ),
        1e300,
    ),
    (pb.TensorProto(dtype=pb.DT_HALF, half_val=[int(np.float16(1.5).view(np.uint16))]), 1.5),
    (pb.TensorProto(dtype=pb.DT_HALF, tensor_content=np.float16(-0.25).tobytes()), -0.25),
    (pb.TensorProto(dtype=pb.DT_BFLOAT16, half_val=[0x3FC0]), 1.5),  # bfloat16 1.5
    (pb.TensorProto(dtype=pb.DT_BFLOAT16, tensor_content=struct.pack("<H", 0xC020)), -2.5),
    (pb.TensorProto(dtype=pb.DT_INT32, int_val=[-7]), -7.0),
    (pb.TensorProto(dtype=pb.DT_INT64, int64_val=[2**53]), float(2**53)),
    (pb.TensorProto(dtype=pb.DT_INT8, int_val=[-3]), -3.0),
    (pb.TensorProto(dtype=pb.DT_UINT8, tensor_content=bytes([200])), 200.0),
    (pb.TensorProto(dtype=pb.DT_UINT64, uint64_val=[2**63]), float(2**63)),
    (pb.TensorProto(dtype=pb.DT_BOOL, bool_val=[True]), 1.0),
]


@pytest.mark.parametrize(("tensor", "value"), SCALAR_TENSORS)
def test_scalar_tensors_of_every_dtype(tensor: pb.TensorProto, value: float) -> None:
    data = _event(pb.Summary.Value(tag="s", tensor=tensor, metadata=_metadata("scalars")))
    assert parse_event(data) == [ScalarEvent("s", 4, 99.5, value)]


def test_tensor_values_fill_the_shape_and_must_match_it() -> None:
    filled = pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[2.0], tensor_shape=_shape(2, 3))
    np.testing.assert_array_equal(tensor_array(filled), np.full((2, 3), 2.0, dtype=np.float32))
    wrong = pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1.0, 2.0], tensor_shape=_shape(3))
    with pytest.raises(ValueError, match="holds 2 values"):
        tensor_array(wrong)
    (skipped,) = parse_event(_event(pb.Summary.Value(tag="s", tensor=wrong, metadata=_metadata("scalars"))))
    assert isinstance(skipped, SkippedEvent) and skipped.what == "bad scalars"
    assert skipped.detail == "tensor of shape [3] holds 2 values"


def test_the_plugin_is_remembered_per_tag_across_events() -> None:
    parser = EventParser()
    first = pb.Summary.Value(
        tag="t", tensor=pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1]), metadata=_metadata("scalars")
    )
    later = pb.Summary.Value(tag="t", tensor=pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[2]))
    assert parser.parse(_event(first, step=1)) == [ScalarEvent("t", 1, 99.5, 1.0)]
    assert parser.parse(_event(later, step=2)) == [ScalarEvent("t", 2, 99.5, 2.0)]
    # On its own, the later event names no plugin.
    (skipped,) = parse_event(_event(later, step=2))
    assert isinstance(skipped, SkippedEvent) and skipped.what == "tensor without a plugin"


def test_tensor_histograms_become_right_edges_with_an_empty_first_bucket() -> None:
    buckets = np.array([[-1.0, 0.0, 3.0], [0.0, 1.0, 5.0], [1.0, 2.5, 2.0]])
    tensor = pb.TensorProto(dtype=pb.DT_DOUBLE, tensor_content=buckets.tobytes(), tensor_shape=_shape(3, 3))
    (event,) = parse_event(_event(pb.Summary.Value(tag="h", tensor=tensor, metadata=_metadata("histograms"))))
    assert isinstance(event, HistogramEvent)
    np.testing.assert_array_equal(event.bucket_limits, [-1.0, 0.0, 1.0, 2.5])
    np.testing.assert_array_equal(event.bucket_counts, [0.0, 3.0, 5.0, 2.0])
    assert (event.count, event.min, event.max, event.nan_count) == (10.0, -1.0, 2.5, 0.0)
    assert math.isnan(event.sum) and math.isnan(event.sum_squares)
    empty = pb.TensorProto(dtype=pb.DT_DOUBLE, tensor_shape=_shape(0, 3))
    (none,) = parse_event(_event(pb.Summary.Value(tag="h", tensor=empty, metadata=_metadata("histograms"))))
    assert isinstance(none, HistogramEvent) and none.count == 0 and none.bucket_limits.size == 0


def test_legacy_histograms_nan_count_and_a_first_bucket_that_is_not_empty() -> None:
    histo = pb.HistogramProto(
        min=-3.0, max=4.0, num=12, sum=1.0, sum_squares=30.0, bucket_limit=[-1.0, 2.0, 4.0], bucket=[2, 5, 3]
    )
    (event,) = parse_event(_event(pb.Summary.Value(tag="h", histo=histo)))
    assert isinstance(event, HistogramEvent)
    np.testing.assert_array_equal(event.bucket_limits, [-3.0, -1.0, 2.0, 4.0])  # min is the left edge
    np.testing.assert_array_equal(event.bucket_counts, [0.0, 2.0, 5.0, 3.0])
    assert (event.count, event.nan_count, event.min, event.max, event.sum) == (12.0, 2.0, -3.0, 4.0, 1.0)
    all_nan = pb.HistogramProto(min=math.nan, max=math.nan, num=3, sum=math.nan, sum_squares=math.nan)
    (nan_event,) = parse_event(_event(pb.Summary.Value(tag="h", histo=all_nan)))
    assert isinstance(nan_event, HistogramEvent)
    assert (nan_event.count, nan_event.nan_count, nan_event.bucket_counts.size) == (3.0, 3.0, 0)


def test_text_tensors_of_vectors_and_matrices() -> None:
    def text(strings: list[str], *dims: int, tag: str = "t/text_summary") -> TensorBoardEvent:
        tensor = pb.TensorProto(
            dtype=pb.DT_STRING, string_val=[s.encode() for s in strings], tensor_shape=_shape(*dims)
        )
        (event,) = parse_event(_event(pb.Summary.Value(tag=tag, tensor=tensor, metadata=_metadata("text"))))
        return event

    assert text(["scalar"]) == TextEvent("t", 4, 99.5, "scalar")
    assert text(["a", "b", "c"], 3) == TextEvent("t", 4, 99.5, "a\nb\nc")
    assert text(["a", "b", "c", "d", "e", "f"], 2, 3) == TextEvent("t", 4, 99.5, "a | b | c\nd | e | f")
    assert text(["x"], 1, tag="plain") == TextEvent("plain", 4, 99.5, "x")
    assert text(["x"], 1, tag="/text_summary") == TextEvent("/text_summary", 4, 99.5, "x")
    assert isinstance(text(["a", "b", "c"], 2, 2), SkippedEvent)


def test_pr_curve_tensor_without_plugin_content_takes_its_width() -> None:
    data = np.arange(18, dtype=np.float32).reshape(6, 3)
    tensor = pb.TensorProto(dtype=pb.DT_FLOAT, float_val=data.reshape(-1).tolist(), tensor_shape=_shape(6, 3))
    (event,) = parse_event(_event(pb.Summary.Value(tag="p", tensor=tensor, metadata=_metadata("pr_curves"))))
    assert isinstance(event, PrCurveEvent) and event.num_thresholds == 3
    np.testing.assert_array_equal(event.data, data)
    bad = pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1.0] * 10, tensor_shape=_shape(5, 2))
    (skipped,) = parse_event(_event(pb.Summary.Value(tag="p", tensor=bad, metadata=_metadata("pr_curves"))))
    assert isinstance(skipped, SkippedEvent) and skipped.what == "bad pr_curves"
    assert skipped.detail == "a PR curve tensor must be [6, n], got [5, 2]"


def test_hparams_session_start_and_end_forged() -> None:
    start = pb.SessionStartInfo(group_name="g1", start_time_secs=123.5)
    start.hparams["n"].number_value = 3
    start.hparams["s"].string_value = "x"
    start.hparams["b"].bool_value = False
    start.hparams["l"].list_value.values.add().number_value = 1
    start.hparams["null"].null_value = 0
    content = pb.HParamsPluginData(version=0, session_start_info=start).SerializeToString()
    (event,) = parse_event(
        _event(pb.Summary.Value(tag="_hparams_/session_start_info", metadata=_metadata("hparams", content)))
    )
    assert event == HParamsEvent(99.5, {"n": 3.0, "s": "x", "b": False, "l": "[1.0]"}, "g1", 123.5)
    for status, expected in [
        (pb.STATUS_SUCCESS, "finished"),
        (pb.STATUS_FAILURE, "failed"),
        (pb.STATUS_RUNNING, "running"),
        (pb.STATUS_UNKNOWN, "finished"),
    ]:
        end = pb.HParamsPluginData(session_end_info=pb.SessionEndInfo(status=status, end_time_secs=9.0))
        value = pb.Summary.Value(
            tag="_hparams_/session_end_info", metadata=_metadata("hparams", end.SerializeToString())
        )
        assert parse_event(_event(value)) == [SessionEndEvent(99.5, expected, 9.0)]


def test_what_is_not_imported_is_skipped_and_named() -> None:
    image = pb.Summary.Value(tag="img", image=b"\x08\x01")
    plugin = pb.Summary.Value(
        tag="mesh", tensor=pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1]), metadata=_metadata("mesh")
    )
    scalar = pb.Summary.Value(tag="ok", simple_value=1.0)
    got = parse_event(_event(image, plugin, scalar))
    assert got == [
        SkippedEvent("img", 4, 99.5, "image"),
        SkippedEvent("mesh", 4, 99.5, "plugin mesh"),
        ScalarEvent("ok", 4, 99.5, 1.0),
    ]
    assert parse_event(pb.Event(step=1, graph_def=b"g").SerializeToString()) == [
        SkippedEvent("", 1, 0.0, "graph_def")
    ]
    assert parse_event(pb.Event(wall_time=1.0, file_version="brain.Event:2").SerializeToString()) == []
    start = pb.Event(step=7, wall_time=2.0, session_log=pb.SessionLog(status=pb.SessionLog.START))
    assert parse_event(start.SerializeToString()) == [RestartEvent(7, 2.0)]
    (garbage,) = parse_event(b"\xff\xff\xff")
    assert isinstance(garbage, SkippedEvent) and garbage.what == "undecodable event" and garbage.detail


def test_parsing_never_raises_on_mutated_events() -> None:
    rng = random.Random(5)
    seeds = [
        _event(pb.Summary.Value(tag="s", simple_value=1.0)),
        _event(pb.Summary.Value(tag="h", histo=pb.HistogramProto(num=2, bucket_limit=[1, 2], bucket=[1, 1]))),
        _event(pb.Summary.Value(tag="t", tensor=SCALAR_TENSORS[3][0], metadata=_metadata("scalars"))),
        _event(
            pb.Summary.Value(
                tag="p",
                tensor=pb.TensorProto(dtype=pb.DT_FLOAT, float_val=[1.0] * 12, tensor_shape=_shape(6, 2)),
                metadata=_metadata("pr_curves", b"\x10\x02"),
            )
        ),
    ]
    parser = EventParser()
    for _ in range(3000):
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        result = parser.parse(bytes(data[: rng.randint(0, len(data))] if rng.random() < 0.2 else data))
        assert isinstance(result, list)


# -- the scalar fast path --------------------------------------------------------------------------


def _scalar_cases() -> Iterator[bytes]:
    rng = random.Random(9)
    for tag in ["a", "train/loss", "ü" * 20, "x" * 120, "x" * 200, ""]:
        for step in [0, 1, 127, 128, 300_000, 2**62, -1, -(2**63)]:
            for wall_time in [0.0, 1.7e9 + rng.random()]:
                for value in [0.0, -0.0, 1.5, math.inf, math.nan, 3.4e38]:
                    yield _event(
                        pb.Summary.Value(tag=tag, simple_value=value), step=step, wall_time=wall_time
                    )
    yield _event(pb.Summary.Value(tag="m", simple_value=1.0, metadata=pb.SummaryMetadata(display_name="M")))
    yield _event(pb.Summary.Value(tag="a", simple_value=1.0), pb.Summary.Value(tag="b", simple_value=2.0))


def _same(a: list[TensorBoardEvent], b: list[TensorBoardEvent]) -> bool:
    return repr(a) == repr(b)  # repr: NaN equals NaN


def test_the_fast_path_agrees_with_protobuf_whenever_it_answers() -> None:
    answered = 0
    for data in _scalar_cases():
        fast = ev._fast_scalar(data)
        event = pb.Event.FromString(data)
        slow = [ScalarEvent(v.tag, event.step, event.wall_time, v.simple_value) for v in event.summary.value]
        if fast is not None:
            answered += 1
            assert _same([fast], slow), (data, fast, slow)
        assert _same(parse_event(data), slow)
    assert answered == 144  # tags "a", "train/loss" and "ü" * 20 with a wall time; the rest fall back


# -- generated code --------------------------------------------------------------------------------


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "generate_tensorboard", ROOT / "proto" / "generate_tensorboard.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh = module.generate(tmp_path)
    committed = ROOT / "tracker_server" / "tensorboard" / "_proto"
    fresh_files = sorted(p.name for p in fresh.iterdir() if p.is_file())
    committed_files = sorted(p.name for p in committed.iterdir() if p.is_file())
    assert fresh_files == committed_files
    stale = [name for name in fresh_files if (fresh / name).read_bytes() != (committed / name).read_bytes()]
    assert not stale, f"{stale} differ: run `python proto/generate_tensorboard.py` and commit"


def test_vendored_fields_match_tensorboards_own_descriptors() -> None:
    """Field numbers, types, labels, oneofs, packing and enum values equal TensorBoard's (where a
    message field is declared as bytes here, TensorBoard's is a message: the same wire type)."""
    pytest.importorskip("tensorboard")
    from google.protobuf.descriptor import Descriptor, FieldDescriptor
    from tensorboard.compat.proto import event_pb2, histogram_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
    from tensorboard.plugins.hparams import api_pb2
    from tensorboard.plugins.hparams import plugin_data_pb2 as hparams_pb2
    from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_curve_pb2
    from tensorboard.plugins.text import plugin_data_pb2 as text_pb2

    theirs = {
        "Event": event_pb2.Event,
        "SourceMetadata": event_pb2.SourceMetadata,
        "SessionLog": event_pb2.SessionLog,
        "Summary": summary_pb2.Summary,
        "SummaryMetadata": summary_pb2.SummaryMetadata,
        "HistogramProto": histogram_pb2.HistogramProto,
        "TensorProto": tensor_pb2.TensorProto,
        "TensorShapeProto": tensor_shape_pb2.TensorShapeProto,
        "HParamsPluginData": hparams_pb2.HParamsPluginData,
        "SessionStartInfo": hparams_pb2.SessionStartInfo,
        "SessionEndInfo": hparams_pb2.SessionEndInfo,
        "Experiment": api_pb2.Experiment,
        "HParamInfo": api_pb2.HParamInfo,
        "Interval": api_pb2.Interval,
        "MetricName": api_pb2.MetricName,
        "MetricInfo": api_pb2.MetricInfo,
        "PrCurvePluginData": pr_curve_pb2.PrCurvePluginData,
        "TextPluginData": text_pb2.TextPluginData,
    }

    def compare(ours: Descriptor, reference: Descriptor) -> int:
        checked = 0
        for f in ours.fields:
            g = reference.fields_by_number[f.number]
            bytes_for_message = (
                f.type == FieldDescriptor.TYPE_BYTES and g.type == FieldDescriptor.TYPE_MESSAGE
            )
            assert f.type == g.type or bytes_for_message, (ours.name, f.name)
            assert f.name == g.name, (ours.name, f.name)
            assert f.is_repeated == g.is_repeated, (ours.name, f.name)
            assert getattr(f.containing_oneof, "name", None) == getattr(g.containing_oneof, "name", None)
            if not bytes_for_message:
                assert f.is_packed == g.is_packed, (ours.name, f.name)
            if f.type == FieldDescriptor.TYPE_ENUM:
                for value in f.enum_type.values:
                    assert g.enum_type.values_by_number[value.number].name == value.name
            checked += 1
        for nested in ours.nested_types:
            if not nested.GetOptions().map_entry:
                checked += compare(nested, reference.nested_types_by_name[nested.name])
        return checked

    checked = sum(
        compare(pb.DESCRIPTOR.message_types_by_name[name], m.DESCRIPTOR) for name, m in theirs.items()
    )
    assert checked == 90
    from tensorboard.compat.proto import types_pb2

    for value in pb.DESCRIPTOR.enum_types_by_name["DataType"].values:
        assert types_pb2.DataType.Name(value.number) == value.name
