"""PR curves, texts, custom-scalar layouts, purging and writer cursors, end to end: through the Run
API and raw gRPC, the real server and the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np
import pytest
from sqlalchemy import select

import tracker_client as tracker
from tracker_client._proto import tracker_pb2 as pb
from tracker_client.channel import Connection
from tracker_client.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    TrackerError,
)
from tracker_client.pr_curve import pr_curve
from tracker_client.records import Histogram, PrCurve
from tracker_server.domain.limits import MAX_CUSTOM_SCALARS_BYTES, MAX_TEXT_LENGTH
from tracker_server.store.engine import Database
from tracker_server.store.schema import ScalarChunk, Series


@pytest.fixture
def api(address: str) -> Iterator[tracker.Api]:
    with tracker.Api(server=address) as client:
        yield client


@pytest.fixture
def conn(address: str) -> Iterator[Connection]:
    with Connection(address) as connection:
        yield connection


def _rows(curve: PrCurve) -> np.ndarray:
    return np.stack(
        [
            curve.true_positives,
            curve.false_positives,
            curve.true_negatives,
            curve.false_negatives,
            curve.precision,
            curve.recall,
        ]
    )


def _write(conn: Connection, run_id: str, seq: int = 1, writer: str = "w", **fields: Any) -> pb.WriteAck:
    return conn.call(conn.ingest.WriteOne, pb.WriteBatch(run_id=run_id, writer_id=writer, seq=seq, **fields))


def _cursor(conn: Connection, run_id: str, writer: str) -> tuple[int, int]:
    answer = conn.call(conn.ingest.GetCursor, pb.GetCursorRequest(run_id=run_id, writer_id=writer))
    return answer.last_seq, answer.position


def _curve(step: int, n: int, values: list[float] | np.ndarray, wall_time: float = 1.0) -> pb.PrCurveColumn:
    return pb.PrCurveColumn(
        tag="pr",
        curves=[pb.PrCurve(step=step, wall_time=wall_time, num_thresholds=n, values=list(values))],
    )


# -- round trips ------------------------------------------------------------------------------------


def test_pr_curves_round_trip_exactly_in_step_order(address: str, api: tracker.Api) -> None:
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 2, 300)
    predictions = rng.random(300).astype(np.float32)
    weights = rng.uniform(0.0, 3.0, 300)
    # Out of order, a step logged twice, a scalar weight, fewer and more thresholds than 127.
    calls = [(3, 127, None), (0, 11, weights), (2, 2, None), (0, 500, None), (1, 127, 2.5)]
    logged = []
    with tracker.init(project="pr", name="curves", server=address) as run:
        for i, (step, n, w) in enumerate(calls):
            wall = 1.7e9 + i / 3
            run.log_pr_curve(
                "eval/pr", labels, predictions, step, num_thresholds=n, weights=w, wall_time=wall
            )
            logged.append((step, wall, pr_curve(labels, predictions, num_thresholds=n, weights=w)))
        raw = rng.random((6, 4))
        raw[4, 0] = math.nan  # NaN is a value a curve computed elsewhere may hold; stored as is
        run.log_pr_curve_data("eval/raw", raw, step=7, wall_time=5.5)
        run.log({"x": 0.0}, step=9)
        run.log_pr_curve("eval/latest_step", [0, 1], [0.2, 0.8], num_thresholds=3)  # step: the latest log()'s
    order = sorted(range(len(logged)), key=lambda i: logged[i][0])
    stored = api.pr_curves(run.id, "eval/pr")
    assert [(c.step, c.wall_time) for c in stored] == [logged[i][:2] for i in order]
    for curve, i in zip(stored, order, strict=True):
        want = logged[i][2]
        n = want.shape[1]
        assert curve.num_thresholds == n == min(calls[i][1], 127)
        np.testing.assert_array_equal(curve.thresholds, np.arange(n) / (n - 1))
        assert _rows(curve).tobytes() == want.tobytes()  # exact, as computed
    (raw_curve,) = api.pr_curves(run.id, "eval/raw")
    assert (raw_curve.step, raw_curve.wall_time, raw_curve.num_thresholds) == (7, 5.5, 4)
    assert _rows(raw_curve).tobytes() == raw.tobytes()
    assert [c.step for c in api.pr_curves(run.id, "eval/latest_step")] == [9]

    assert [c.step for c in api.pr_curves(run.id, "eval/pr", start_step=1, end_step=2)] == [1, 2]
    assert [c.step for c in api.pr_curves(run.id, "eval/pr", start_step=2)] == [2, 3]
    assert [c.step for c in api.pr_curves(run.id, "eval/pr", end_step=0)] == [0, 0]
    assert api.pr_curves(run.id, "eval/pr", start_step=4) == []
    with pytest.raises(InvalidArgumentError, match="start_step 3 is after end_step 2"):
        api.pr_curves(run.id, "eval/pr", start_step=3, end_step=2)


def test_texts_round_trip_exactly_in_step_order(address: str, api: tracker.Api) -> None:
    texts = [
        (5, "plain"),
        (1, "**Markdown** | with | pipes\n|---|---|---|\n| a | b | c |"),
        (3, ""),
        (1, "ünïcödé ✓ 🚀 and \t tabs\r\nand CRLF"),
        (0, "x" * 200_000),
    ]
    with tracker.init(project="text", name="notes", server=address) as run:
        for i, (step, text) in enumerate(texts):
            run.log_text("notes", text, step, wall_time=1e9 + i + 0.5)
        run.log({"loss": 1.0}, step=41)
        run.log_text("notes/default_step", "lands on the latest log() step")
    order = sorted(range(len(texts)), key=lambda i: texts[i][0])
    stored = api.texts(run.id, "notes")
    assert [(t.step, t.wall_time, t.text) for t in stored] == [
        (texts[i][0], 1e9 + i + 0.5, texts[i][1]) for i in order
    ]
    assert [t.text for t in api.texts(run.id, "notes", start_step=1, end_step=3)] == [
        texts[1][1],
        texts[3][1],
        "",
    ]
    (default,) = api.texts(run.id, "notes/default_step")
    assert default.step == 41


def test_list_tags_gives_each_kind_and_count(address: str, api: tracker.Api, conn: Connection) -> None:
    with tracker.init(project="tags", name="kinds", server=address) as run:
        for step in range(3):
            run.log({"loss": float(step), "shared": 1.0}, step=step)
        run.log_histogram("weights", np.arange(10.0), step=0)
        run.log_histogram("weights", np.arange(10.0), step=1)
        for step in range(4):
            run.log_pr_curve("pr", [0, 1, 1], [0.1, 0.5, 0.9], step, num_thresholds=5)
        for step in range(5):
            run.log_text("notes", f"note {step}", step)
        run.log_text("shared", "a text with a scalar's name", 0)  # another kind, another series
        run.log_pr_curve_data("shared", np.zeros((6, 2)), 0)
    tags = api.tags(run.id)
    assert [(t.kind, t.tag, t.count) for t in tags] == [
        ("scalar", "loss", 3),
        ("scalar", "shared", 3),
        ("histogram", "weights", 2),
        ("pr_curve", "pr", 4),
        ("pr_curve", "shared", 1),
        ("text", "notes", 5),
        ("text", "shared", 1),
    ]
    assert [t.summary is None for t in tags] == [False, False, True, True, True, True, True]
    seen, token = [], ""
    while True:  # pages of 2
        page = conn.call(
            conn.reads.ListTags, pb.ListTagsRequest(run_id=run.id, page_size=2, page_token=token)
        )
        seen += [(t.kind, t.tag, t.count) for t in page.tags]
        token = page.next_page_token
        if not token:
            break
    kinds = {pb.SERIES_KIND_PR_CURVE: "pr_curve", pb.SERIES_KIND_TEXT: "text"}
    assert [(kinds.get(k, "other"), tag, n) for k, tag, n in seen][3:] == [
        ("pr_curve", "pr", 4),
        ("pr_curve", "shared", 1),
        ("text", "notes", 5),
        ("text", "shared", 1),
    ]
    assert api.texts(run.id, "shared")[0].text == "a text with a scalar's name"
    assert api.scalars(run.id, "shared").values.tolist() == [1.0, 1.0, 1.0]


def test_log_wall_time_is_stored_exactly(address: str, api: tracker.Api) -> None:
    walls = [1.5, 1e9 + 1e-6, 1.7e9 + 0.123456789, 2.0**40 + 0.5, -12.25, 5e-324]
    before = time.time()
    with tracker.init(project="wall", name="times", server=address) as run:
        for step, wall in enumerate(walls):
            run.log({"x": float(step)}, step, wall_time=wall)
        run.log({"x": 99.0}, 99)  # default: now
        run.log_histogram("h", [1.0, 2.0], step=0, wall_time=walls[2])
    after = time.time()
    series = api.scalars(run.id, "x")
    assert series.wall_times[:-1].tobytes() == np.array(walls).tobytes()
    assert before <= series.wall_times[-1] <= after
    assert api.histograms(run.id, "h")[0].wall_time == walls[2]
    (summary,) = [t.summary for t in api.tags(run.id) if t.tag == "x"]
    assert summary is not None and summary.last_wall_time == series.wall_times[-1]


# -- validation ---------------------------------------------------------------------------------------


def _invalid(conn: Connection, run_id: str, *fragments: str, **fields: Any) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        _write(conn, run_id, **fields)
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_malformed_pr_curves_and_texts_are_refused_naming_the_field(
    address: str, api: tracker.Api, conn: Connection
) -> None:
    run = tracker.init(project="bad", name="entries", server=address)
    where = "pr_curves[0].curves[0] (tag 'pr')"
    _invalid(conn, run.id, where, "18", "17", pr_curves=[_curve(1, 3, [0.0] * 17)])
    _invalid(
        conn,
        run.id,
        where,
        "6 rows of num_thresholds = 2 values (12)",
        "got 18",
        pr_curves=[_curve(1, 2, [0.0] * 18)],
    )
    for bad in (math.inf, -math.inf):
        _invalid(conn, run.id, f"{where}.values", "infinite", pr_curves=[_curve(1, 2, [0.0] * 11 + [bad])])
    _invalid(conn, run.id, f"{where}.wall_time", "finite", pr_curves=[_curve(1, 2, [0.0] * 12, math.nan)])
    _invalid(conn, run.id, f"{where}.step", ">= 0", pr_curves=[_curve(-1, 2, [0.0] * 12)])
    _invalid(conn, run.id, f"{where}.num_thresholds", "10000", pr_curves=[_curve(1, 10_001, [0.0] * 60_006)])
    _invalid(conn, run.id, "pr_curves[0]", "no curves", pr_curves=[pb.PrCurveColumn(tag="pr")])
    _invalid(
        conn,
        run.id,
        "pr_curves[0].tag",
        pr_curves=[pb.PrCurveColumn(tag="", curves=_curve(1, 1, [0] * 6).curves)],
    )
    text = "texts[0].texts[0] (tag 't')"
    _invalid(
        conn,
        run.id,
        f"{text}.text",
        "NUL",
        texts=[pb.TextColumn(tag="t", texts=[pb.Text(step=1, text="a\x00b")])],
    )
    _invalid(
        conn,
        run.id,
        f"{text}.text",
        str(MAX_TEXT_LENGTH),
        texts=[pb.TextColumn(tag="t", texts=[pb.Text(step=1, text="x" * (MAX_TEXT_LENGTH + 1))])],
    )
    _invalid(conn, run.id, "texts[0]", "no texts", texts=[pb.TextColumn(tag="t")])
    _invalid(
        conn, run.id, "texts[0].tag", texts=[pb.TextColumn(tag="bad\ntag", texts=[pb.Text(step=1, text="x")])]
    )
    # All or nothing: valid scalars and texts beside a bad curve are not stored either.
    _invalid(
        conn,
        run.id,
        "pr_curves[0]",
        scalars=[pb.ScalarColumn(tag="loss", steps=[1], wall_times=[1.0], values=[0.5])],
        texts=[pb.TextColumn(tag="t", texts=[pb.Text(step=1, wall_time=1.0, text="ok")])],
        pr_curves=[_curve(1, 3, [0.0] * 17)],
    )
    assert api.tags(run.id) == []
    assert _cursor(conn, run.id, "w") == (0, 0)  # nothing committed: seq 1 is still expected
    big = "y" * MAX_TEXT_LENGTH
    ack = _write(
        conn,
        run.id,
        texts=[pb.TextColumn(tag="t", texts=[pb.Text(step=1, wall_time=1.0, text=big)])],
        pr_curves=[_curve(1, 1, [1, 2, 3, 4, 0.5, math.nan])],  # one threshold: the wire allows it
    )
    assert (ack.seq, ack.duplicate) == (1, False)
    assert api.texts(run.id, "t")[0].text == big
    (curve,) = api.pr_curves(run.id, "pr")
    assert curve.num_thresholds == 1 and curve.thresholds.tolist() == [0.0]
    run.finish()


def test_zero_thresholds_is_refused_naming_num_thresholds(address: str, conn: Connection) -> None:
    run = tracker.init(project="bad", name="zero", server=address)
    _invalid(conn, run.id, "pr_curves[0].curves[0]", "num_thresholds", pr_curves=[_curve(1, 0, [])])
    run.finish()


def test_the_client_refuses_bad_entries_on_the_callers_line(address: str, api: tracker.Api) -> None:
    with tracker.init(project="client", name="checks", server=address) as run:
        with pytest.raises(ValueError, match="NUL"):
            run.log_text("t", "a\x00b", 0)
        with pytest.raises(TypeError, match="must be a str"):
            run.log_text("t", b"bytes", 0)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="6 rows"):
            run.log_pr_curve_data("pr", np.zeros((5, 3)), 0)
        with pytest.raises(ValueError, match="at least 2"):
            run.log_pr_curve("pr", [0, 1], [0.1, 0.9], 0, num_thresholds=1)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            run.log_pr_curve("pr", [0, 1], [0.1, 1.5], 0)
        with pytest.raises(ValueError, match="NaN"):
            run.log_pr_curve("pr", [0, 1], [0.1, math.nan], 0)
        with pytest.raises(ValueError, match="tag"):
            run.log_text("", "x", 0)
        with pytest.raises(ValueError, match="step"):
            run.log_text("t", "x", -1)
        inconsistent = Histogram(
            step=0,
            wall_time=1.0,
            count=10.0,
            min=0.0,
            max=1.0,
            sum=5.0,
            sum_squares=3.0,
            bucket_limits=np.array([0.0, 0.5, 1.0]),
            bucket_counts=np.array([0.0, 4.0, 5.0]),  # 9 in the buckets, no NaN: count 10 does not add up
        )
        with pytest.raises(ValueError, match="do not add up") as info:
            run.log_histogram_summary("h", inconsistent)
        assert info.traceback[0].path.name == "test_entries.py"  # raised by the call, not at delivery
        with pytest.raises(ValueError, match="increasing"):
            run.log_histogram_summary(
                "h", Histogram(0, 1.0, 2.0, 0, 1, 1, 1, np.array([1.0, 0.5]), np.array([1.0, 1.0]))
            )
        # None of it reached the buffer: the run goes on and delivers what is valid.
        run.log_text("t", "fine", 0)
        run.log_histogram_summary(
            "h",
            Histogram(3, 2.0, 10.0, 0, 1, 5, 3, np.array([0.0, 0.5, 1.0]), np.array([0.0, 4.0, 5.0]), 1.0),
        )
    assert [t.text for t in api.texts(run.id, "t")] == ["fine"]
    (h,) = api.histograms(run.id, "h")
    assert (h.step, h.wall_time, h.count, h.nan_count) == (3, 2.0, 10.0, 1.0)
    assert [t.tag for t in api.tags(run.id)] == ["h", "t"]


def test_a_bad_wall_time_leaves_the_run_usable(address: str, api: tracker.Api) -> None:
    run = tracker.init(project="wall", name="typo", server=address)
    with pytest.raises(TypeError):
        run.log({"x": 1.0}, 0, wall_time="now")  # type: ignore[arg-type]
    run.log({"x": 2.0}, 1, wall_time=10.0)
    run.finish()
    assert api.scalars(run.id, "x").values.tolist() == [2.0]


def test_a_non_finite_wall_time_is_refused_on_the_callers_line(address: str, api: tracker.Api) -> None:
    run = tracker.init(project="wall", name="nan", server=address)
    run.log({"x": 1.0}, 0, wall_time=10.0)
    with pytest.raises(ValueError, match="wall_time"):
        run.log({"x": 2.0}, 1, wall_time=math.nan)
    with pytest.raises(ValueError, match="wall_time"):
        run.log_text("t", "x", 1, wall_time=math.inf)
    run.finish()
    assert api.scalars(run.id, "x").values.tolist() == [1.0]


# -- custom scalars ---------------------------------------------------------------------------------


def test_custom_scalars_layout_is_stored_with_the_run(
    address: str, api: tracker.Api, conn: Connection
) -> None:
    layout = {
        "Training ✓": {
            "loss": ["Multiline", ["train/loss", "val/loss"]],
            "band": ["Margin", ["val/loss", "val/loss_lo", "val/loss_hi"]],
        }
    }
    with tracker.init(project="layout", name="a", server=address) as run:
        assert run.record.custom_scalars is None
        run.set_custom_scalars(layout)
        assert run.record.custom_scalars == layout
        replacement = {"Other": {"x": ["Multiline", ["x"]]}}
        run.set_custom_scalars(replacement)  # replaces, it does not merge
    assert api.run(run.id).custom_scalars == replacement
    assert [r.custom_scalars for r in api.runs("layout")] == [replacement]
    with tracker.init(project="layout", name="b", server=address) as other:
        pass
    assert api.run(other.id).custom_scalars is None

    def set_layout(text: str, run_id: str = run.id) -> pb.SetCustomScalarsResponse:
        return conn.call(conn.runs.SetCustomScalars, pb.SetCustomScalarsRequest(run_id=run_id, layout=text))

    exactly = '{"a":"' + "x" * (MAX_CUSTOM_SCALARS_BYTES - 8) + '"}'
    assert len(exactly.encode()) == MAX_CUSTOM_SCALARS_BYTES
    assert set_layout(exactly).run.custom_scalars == exactly
    for text, fragment in [
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"a string"', "must be a JSON object"),
        ("null", "must be a JSON object"),
        (
            '{"a":"' + "x" * (MAX_CUSTOM_SCALARS_BYTES - 7) + '"}',
            f"larger than {MAX_CUSTOM_SCALARS_BYTES} bytes",
        ),
        ('{"a":"' + "é" * 40_000 + '"}', "larger than"),  # 40,006 characters, 80,008 bytes
    ]:
        with pytest.raises(InvalidArgumentError) as info:
            set_layout(text)
        assert "layout" in str(info.value) and fragment in str(info.value), text[:20]
    assert api.run(run.id).custom_scalars == {"a": "x" * (MAX_CUSTOM_SCALARS_BYTES - 8)}  # unchanged
    with pytest.raises(NotFoundError, match="nosuchrun"):
        set_layout("{}", "nosuchrun")


# -- not found --------------------------------------------------------------------------------------


def test_unknown_runs_and_tags_are_not_found(address: str, api: tracker.Api, conn: Connection) -> None:
    with tracker.init(project="nf", name="a", server=address) as run:
        run.log({"loss": 1.0}, 0)
        run.log_text("notes", "x", 0)
        run.log_pr_curve("pr", [0, 1], [0.2, 0.7], 0)
    for read in (api.pr_curves, api.texts):
        with pytest.raises(NotFoundError, match="run 'nosuchrun' does not exist"):
            read("nosuchrun", "pr")
    with pytest.raises(NotFoundError, match="run 'nosuchrun' does not exist"):
        api.tags("nosuchrun")
    with pytest.raises(NotFoundError, match="no pr_curve tag 'missing'"):
        api.pr_curves(run.id, "missing")
    with pytest.raises(NotFoundError, match="no text tag 'loss'"):
        api.texts(run.id, "loss")  # a scalar tag is not a text
    with pytest.raises(NotFoundError, match="no pr_curve tag 'notes'"):
        api.pr_curves(run.id, "notes")
    with pytest.raises(NotFoundError, match="no scalar tag 'pr'"):
        api.scalars(run.id, "pr")
    with pytest.raises(NotFoundError, match="nosuchrun"):
        conn.call(conn.runs.PurgeSteps, pb.PurgeStepsRequest(run_id="nosuchrun", from_step=0))
    with pytest.raises(NotFoundError, match="nosuchrun"):
        conn.call(conn.ingest.GetCursor, pb.GetCursorRequest(run_id="nosuchrun", writer_id="w"))
    with pytest.raises(NotFoundError, match="nosuchrun"):
        _write(
            conn,
            "nosuchrun",
            texts=[pb.TextColumn(tag="t", texts=[pb.Text(step=0, wall_time=1.0, text="x")])],
        )
    with pytest.raises(InvalidArgumentError, match="run_id"):
        conn.call(conn.runs.PurgeSteps, pb.PurgeStepsRequest(run_id="", from_step=0))


# -- purging ------------------------------------------------------------------------------------------


def _expected_summary(points: list[tuple[int, float, float]]) -> tuple[Any, ...]:
    """(count, last step, last value, last wall time, min, max, first non-finite step) of points in
    logged order, computed independently of the server."""
    last_step = max(s for s, _, _ in points)
    last = [p for p in points if p[0] == last_step][-1]
    finite = [v for _, _, v in points if not math.isnan(v)]
    nonfinite = [s for s, _, v in points if not math.isfinite(v)]
    return (
        len(points),
        last_step,
        last[2],
        last[1],
        min(finite) if finite else None,
        max(finite) if finite else None,
        min(nonfinite) if nonfinite else None,
    )


def _summary_tuple(api: tracker.Api, run_id: str, tag: str) -> tuple[Any, ...]:
    (info,) = [t for t in api.tags(run_id) if t.tag == tag and t.kind == "scalar"]
    s = info.summary
    assert s is not None and info.count == s.count
    return (
        s.count,
        s.last_step,
        s.last_value,
        s.last_wall_time,
        s.min_value,
        s.max_value,
        s.first_nonfinite_step,
    )


def _chunks(db: Database, run_id: str, tag: str) -> list[Any]:
    with db.read() as c:
        return list(
            c.execute(
                select(ScalarChunk.__table__)
                .join(Series, Series.id == ScalarChunk.series_id)
                .where(Series.run_id == run_id, Series.tag == tag, Series.kind == "scalar")
                .order_by(ScalarChunk.id)
            )
        )


def _same(a: list[float], b: list[float]) -> bool:
    return np.array(a, dtype=np.float64).tobytes() == np.array(b, dtype=np.float64).tobytes()


PURGE_AT = 1250


def test_purge_steps_cuts_every_kind_and_recomputes_summaries(
    address: str, api: tracker.Api, db: Database
) -> None:
    rng = np.random.default_rng(17)
    logged: dict[str, list[tuple[int, float, float]]] = {"loss": [], "smooth": [], "late": [], "early": []}

    def log(run: tracker.Run, tag: str, step: int, value: float) -> None:
        wall = 1e9 + step + len(logged[tag]) * 1e-3
        run.log({tag: value}, step, wall_time=wall)
        logged[tag].append((step, wall, value))

    specials = {600: math.nan, 1800: math.inf, 2600: -math.inf}
    spikes = {300: -77.0, 2000: 1e6, 2100: -1e6}
    run = tracker.init(project="purge", name="a", server=address, flush_interval=3600)
    for start in range(0, 3000, 500):  # six batches of 500: chunks fill to ~1000 points, then a new one
        for step in range(start, start + 500):
            log(run, "loss", step, specials.get(step, float(rng.normal())))
            log(run, "smooth", step, spikes.get(step, step / 3000))
        if start == 1500:  # out of order, equal steps, both sides of the purge step, in one chunk
            for step, value in [(10, -50.0), (1100, 123.0), (1100, 5.0), (2999, 9.0), (PURGE_AT - 1, 1.0)]:
                log(run, "loss", step, value)
            log(run, "loss", PURGE_AT, 2.0)
        run.flush()
    for step in range(10):
        log(run, "early", step, float(step))
    for step in range(PURGE_AT, PURGE_AT + 50):
        log(run, "late", step, 1.0)
    for step in (0, PURGE_AT - 1, PURGE_AT, 2000):
        run.log_histogram("hist", rng.normal(size=50), step=step)
    for step in (PURGE_AT - 1, PURGE_AT):
        run.log_pr_curve("pr", [0, 1, 1], [0.3, 0.6, 0.9], step)
    for step in (0, PURGE_AT, 3000):
        run.log_text("notes", f"at {step}", step)
    run.flush()
    before = {tag: _chunks(db, run.id, tag) for tag in ("loss", "smooth", "early")}
    straddling = [c.id for c in before["loss"] if c.min_step < PURGE_AT <= c.max_step]
    assert straddling  # the purge step falls inside a chunk
    after_only = {c.id for c in before["loss"] if c.min_step >= PURGE_AT}
    assert after_only

    removed = run.purge_steps(PURGE_AT)

    gone = {tag: [p for p in points if p[0] >= PURGE_AT] for tag, points in logged.items()}
    kept = {tag: [p for p in points if p[0] < PURGE_AT] for tag, points in logged.items()}
    assert removed == sum(len(g) for g in gone.values()) + 2 + 1 + 2  # points, histograms, PR curves, texts
    for tag in ("loss", "smooth", "early"):
        series = api.scalars(run.id, tag)
        want = sorted(kept[tag], key=lambda p: p[0])  # by step, equal steps in logged order
        assert series.steps.tolist() == [p[0] for p in want], tag
        assert _same(series.values.tolist(), [p[2] for p in want]), tag
        assert series.wall_times.tolist() == [p[1] for p in want], tag
        assert _summary_tuple(api, run.id, tag) == _expected_summary(kept[tag]), tag
    assert _summary_tuple(api, run.id, "loss")[1:3] == (PURGE_AT - 1, 1.0)  # the later of two at 1249
    assert _summary_tuple(api, run.id, "loss")[4:] == (-50.0, 123.0, 600)  # the Inf at 1800 went
    assert len(api.scalars(run.id, "late")) == 0
    late = [t for t in api.tags(run.id) if t.tag == "late"]
    assert late == [] or (late[0].count == 0 and late[0].summary is None)

    # Chunks: the one holding the purge step was cut, not replaced; those after it are gone; every
    # chunk left describes its own points; together they are what was kept, in logged order.
    after = _chunks(db, run.id, "loss")
    ids = [c.id for c in after]
    assert set(straddling) <= set(ids) and not (after_only & set(ids))
    points = []
    for c in after:
        steps = np.frombuffer(c.steps, dtype="<i8")
        assert c.n == steps.size > 0 and (c.min_step, c.max_step) == (steps.min(), steps.max())
        assert c.max_step < PURGE_AT
        assert c.sorted == bool((steps[1:] >= steps[:-1]).all())
        points += list(zip(steps.tolist(), np.frombuffer(c.wall_times, "<f8").tolist(), strict=True))
    assert points == [(s, w) for s, w, _ in kept["loss"]]
    assert [(c.id, c.n) for c in _chunks(db, run.id, "early")] == [(c.id, c.n) for c in before["early"]]

    # A downsampled read sees only what is left (block digests were recomputed, the spikes went).
    sampled = api.scalars(run.id, "smooth", max_points=4)
    assert sampled.total_points == PURGE_AT and len(sampled) <= 4
    assert set(sampled.values.tolist()) <= {p[2] for p in kept["smooth"]}
    assert -77.0 in sampled.values.tolist() and sampled.steps[-1] == PURGE_AT - 1
    assert 1e6 not in sampled.values.tolist() and -1e6 not in sampled.values.tolist()

    assert [h.step for h in api.histograms(run.id, "hist")] == [0, PURGE_AT - 1]
    assert [c.step for c in api.pr_curves(run.id, "pr")] == [PURGE_AT - 1]
    assert [t.step for t in api.texts(run.id, "notes")] == [0]
    counts = {(t.kind, t.tag): t.count for t in api.tags(run.id)}
    assert counts[("histogram", "hist")] == 2 and counts[("pr_curve", "pr")] == 1
    assert counts[("text", "notes")] == 1

    # Training resumes at the purge step; new points merge into the recomputed summary.
    run.log({"loss": 7.0}, wall_time=5.0)
    run.log_text("notes", "resumed")
    run.finish()
    count, *_ = _expected_summary(kept["loss"])
    assert _summary_tuple(api, run.id, "loss")[:4] == (count + 1, PURGE_AT, 7.0, 5.0)
    assert [t.text for t in api.texts(run.id, "notes")] == ["at 0", "resumed"]


def test_purge_edges(address: str, api: tracker.Api) -> None:
    with tracker.init(project="edges", name="a", server=address) as run:
        for step in range(5):
            run.log({"x": float(step)}, step, wall_time=100.0 + step)
        run.log_text("t", "x", 4)
        run.flush()
        summary = _summary_tuple(api, run.id, "x")
        assert run.purge_steps(5) == 0  # nothing at or after step 5
        assert _summary_tuple(api, run.id, "x") == summary
        with pytest.raises(ValueError, match="step must be >= 0, got -1"):  # on the caller's line
            run.purge_steps(-1)
        assert run.purge_steps(0) == 6  # everything
        assert len(api.scalars(run.id, "x")) == 0
        assert all(t.count == 0 for t in api.tags(run.id))
        run.log({"x": 3.5})  # auto-increment starts over at 0
    series = api.scalars(run.id, "x")
    assert (series.steps.tolist(), series.values.tolist()) == ([0], [3.5])
    assert _summary_tuple(api, run.id, "x")[:3] == (1, 0, 3.5)


def test_comparison_queries_see_purged_values(address: str, api: tracker.Api) -> None:
    """The server's per-project index, warmed before the purge, must drop what the purge removed."""
    losses = {"r0": [5.0, 4.0, 3.0, 2.0, 1.0, 0.5], "r1": [9.0, 1.0, 8.0, 7.0, 0.1, 6.0], "r2": [3.0] * 6}
    ids = {}
    for name, values in losses.items():
        with tracker.init(project="cmp", name=name, hparams={"lr": len(ids) / 10}, server=address) as run:
            for step, value in enumerate(values):
                run.log({"loss": value}, step)
            if name == "r1":
                for step in (4, 5):
                    run.log({"acc": 0.9}, step)  # only at steps the purge removes
        ids[name] = run.id

    def metrics(value: str) -> dict[str, dict[str, float]]:
        groups = api.session_groups("cmp", group=False, metric_value=value)
        return {api.run(g.runs[0]).name: g.metrics for g in groups.groups}

    assert metrics("last")["r1"] == {"loss": 6.0, "acc": 0.9}
    assert metrics("min")["r1"]["loss"] == 0.1
    assert {m.tag: m.run_count for m in api.experiment("cmp").metrics} == {"acc": 1, "loss": 3}

    with tracker.init(project="cmp", name="r1", server=address) as resumed:
        assert resumed.purge_steps(4) == 2 + 2

    assert metrics("last") == {"r0": {"loss": 0.5}, "r1": {"loss": 7.0}, "r2": {"loss": 3.0}}
    assert metrics("min")["r1"] == {"loss": 1.0}
    assert metrics("max")["r1"] == {"loss": 9.0}
    assert {m.tag: m.run_count for m in api.experiment("cmp").metrics if m.run_count} == {"loss": 3}
    best = api.best("cmp", "loss", mode="max", top=1)
    assert [api.run(g.runs[0]).name for g in best] == ["r1"] and best[0].metrics == {"loss": 7.0}


# -- cursors --------------------------------------------------------------------------------------------


def test_get_cursor_returns_the_position_a_batch_carried(address: str, conn: Connection) -> None:
    run = tracker.init(project="cursor", name="importer", server=address)
    other = tracker.init(project="cursor", name="other", server=address)
    text = [pb.TextColumn(tag="t", texts=[pb.Text(step=0, wall_time=1.0, text="x")])]
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (0, 0)  # never wrote
    assert _write(conn, run.id, 1, "events.out.tfevents.1", texts=text, position=4096).seq == 1
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (1, 4096)
    _write(conn, run.id, 2, "events.out.tfevents.1", texts=text, position=2**63 - 1)
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (2, 2**63 - 1)
    again = _write(conn, run.id, 2, "events.out.tfevents.1", texts=text, position=7)
    assert again.duplicate
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (2, 2**63 - 1)  # a duplicate changes nothing
    with pytest.raises(FailedPreconditionError, match="last one committed is 2"):
        _write(conn, run.id, 4, "events.out.tfevents.1", texts=text, position=9)
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (2, 2**63 - 1)
    _write(conn, run.id, 3, "events.out.tfevents.1", position=10)  # a batch with no data still moves it
    assert _cursor(conn, run.id, "events.out.tfevents.1") == (3, 10)
    # Cursors are per (run, writer).
    assert _cursor(conn, run.id, "events.out.tfevents.2") == (0, 0)
    assert _cursor(conn, other.id, "events.out.tfevents.1") == (0, 0)
    # Through the streaming Write, as the importer sends.
    batches = [
        pb.WriteBatchBytes(run_id=run.id, writer_id="stream", seq=seq, position=100 * seq).SerializeToString()
        for seq in (1, 2, 3)
    ]
    acks = list(conn.write_stream(iter(batches), timeout=30))
    assert [a.seq for a in acks] == [1, 2, 3]
    assert _cursor(conn, run.id, "stream") == (3, 300)
    with pytest.raises(InvalidArgumentError, match="writer_id"):
        _cursor(conn, run.id, "")
    run.finish()
    other.finish()
    assert _cursor(conn, run.id, "stream") == (3, 300)  # readable after the run finished
    with pytest.raises(TrackerError):
        _write(conn, run.id, 4, "stream", texts=text)  # a finished run takes no more


def test_a_position_beyond_int64_is_refused(address: str, conn: Connection) -> None:
    run = tracker.init(project="cursor", name="huge", server=address)
    try:
        with pytest.raises(InvalidArgumentError, match=r"position must be at most 9223372036854775807"):
            _write(conn, run.id, 1, "w", position=2**64 - 1)
        assert _cursor(conn, run.id, "w") == (0, 0)
        _write(conn, run.id, 1, "w", position=2**63 - 1)  # the largest a cursor holds
        assert _cursor(conn, run.id, "w") == (1, 2**63 - 1)
    finally:
        run.finish()


# -- resuming -------------------------------------------------------------------------------------------


def test_a_resumed_run_continues_after_its_entries(address: str) -> None:
    with tracker.init(project="resume", name="entries", server=address) as run:
        run.log_text("notes", "x", 5)
        run.log_pr_curve("pr", [0, 1], [0.2, 0.8], 9)
    with Connection(address) as c:
        response = c.call(c.runs.CreateRun, pb.CreateRunRequest(project="resume", name="entries"))
        assert response.resumed
        assert response.next_step == 10
