"""Everything a training loop logs comes back exactly: through the client, the real gRPC server and
the database, on SQLite and PostgreSQL."""

from __future__ import annotations

import math

import numpy as np
import pytest

import tracker_client as tracker
from tracker_client.histogram import summarize

HPARAMS = {
    "lr": 0.01,
    "momentum": 0.0,
    "wd": -1e-300,
    "optimizer": "adam",
    "note": "ünïcödé ✓ and a\nnewline",
    "layers": 3,
    "seed": 2**62 + 1,  # beyond float precision: must stay an exact int
    "augment": True,
    "dropout_on": False,
    "model": {"depth": 18, "width": 2.5},  # nested: flattened with "."
}
EXPECTED_HPARAMS = {
    "augment": True,
    "dropout_on": False,
    "layers": 3,
    "lr": 0.01,
    "model.depth": 18,
    "model.width": 2.5,
    "momentum": 0.0,
    "note": "ünïcödé ✓ and a\nnewline",
    "optimizer": "adam",
    "seed": 2**62 + 1,
    "wd": -1e-300,
}


def test_hparams_of_every_type_round_trip_with_their_types(address: str) -> None:
    with tracker.init(project="types", name="a", hparams=HPARAMS, server=address) as run:
        run.log_hparams({"dropout": 0.1, "layers": 4})
    with tracker.init(project="types", name="b", hparams={"lr": 1, "optimizer": "sgd"}, server=address):
        pass
    with tracker.Api(server=address) as api:
        runs = api.runs("types")
    assert [r.name for r in runs] == ["a", "b"]
    a, b = runs
    assert a.hparams == {**EXPECTED_HPARAMS, "dropout": 0.1, "layers": 4}
    for name, value in a.hparams.items():
        assert type(value) is type({**EXPECTED_HPARAMS, "dropout": 0.1, "layers": 4}[name]), name
    assert b.hparams == {"lr": 1, "optimizer": "sgd"}
    assert type(b.hparams["lr"]) is int
    assert a.status == b.status == "finished"
    assert a.finished_at is not None and a.finished_at >= a.created_at
    assert a.project == "types"


def _expected_series(steps: list[int], values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Points ordered by step, equal steps in the order they were logged."""
    order = np.argsort(np.array(steps, dtype=np.int64), kind="stable")
    return np.array(steps, dtype=np.int64)[order], np.array(values, dtype=np.float64)[order]


def test_every_scalar_point_round_trips_exactly(address: str) -> None:
    rng = np.random.default_rng(7)
    n = 40_000
    tags = ["train/loss", "train/acc", "val/loss"]
    logged: dict[str, tuple[list[int], list[float]]] = {t: ([], []) for t in tags}
    specials = {
        100: math.nan,
        200: math.inf,
        300: -math.inf,
        400: -0.0,
        500: 5e-324,
        600: 1.7976931348623157e308,
    }
    with tracker.init(project="p", name="points", server=address) as run:
        for step in range(n):
            values = {tag: float(v) for tag, v in zip(tags, rng.normal(size=len(tags)), strict=True)}
            if step in specials:
                values["train/loss"] = specials[step]
            run.log(values, step=step)
            for tag, value in values.items():
                logged[tag][0].append(step)
                logged[tag][1].append(value)
        # Out of order, and a step logged twice: both points are kept.
        for step, value in ((17, 1.5), (5, 2.5), (17, 3.5), (n + 10, 4.5), (3, math.nan)):
            run.log({"train/loss": value}, step=step)
            logged["train/loss"][0].append(step)
            logged["train/loss"][1].append(value)
        run_id = run.id

    with tracker.Api(server=address) as api:
        total = 0
        for tag in tags:
            series = api.scalars(run_id, tag)
            steps, values = _expected_series(*logged[tag])
            assert series.steps.dtype == np.int64 and series.values.dtype == np.float64
            np.testing.assert_array_equal(series.steps, steps)
            # Bit-exact, NaN included: compare the bytes.
            assert series.values.tobytes() == values.tobytes()
            assert series.wall_times.shape == steps.shape
            assert np.all(np.isfinite(series.wall_times))
            total += len(series)
        assert total == 3 * n + 5

        loss = api.scalars(run_id, "train/loss")
        at_17 = loss.values[loss.steps == 17]
        original_17 = logged["train/loss"][1][17]
        assert at_17.tolist() == [original_17, 1.5, 3.5]

        tag_infos = {t.tag: t for t in api.tags(run_id)}
        assert set(tag_infos) == set(tags)
        summary = tag_infos["train/loss"].summary
        assert summary is not None
        assert summary.count == n + 5
        assert summary.last_step == n + 10 and summary.last_value == 4.5
        assert summary.first_nonfinite_step == 3
        assert summary.min_value == -math.inf and summary.max_value == math.inf
        acc = tag_infos["train/acc"].summary
        assert acc is not None
        acc_values = np.array(logged["train/acc"][1])
        assert acc.min_value == acc_values.min() and acc.max_value == acc_values.max()
        assert acc.last_step == n - 1 and acc.last_value == acc_values[-1]
        assert acc.first_nonfinite_step is None


def test_a_step_range_reads_only_its_points(address: str) -> None:
    with tracker.init(project="p", name="range", server=address) as run:
        for step in range(1000):
            run.log({"x": float(step)}, step=step)
        run.log({"x": -1.0}, step=500)
    with tracker.Api(server=address) as api:
        part = api.scalars(run.id, "x", start_step=498, end_step=501)
        assert part.steps.tolist() == [498, 499, 500, 500, 501]
        assert part.values.tolist() == [498.0, 499.0, 500.0, -1.0, 501.0]
        assert len(api.scalars(run.id, "x", start_step=2000)) == 0


def test_histograms_round_trip_exactly(address: str) -> None:
    rng = np.random.default_rng(3)
    tensors = {
        0: rng.normal(size=(64, 32)),
        1: rng.normal(scale=1e-3, size=10_000).astype(np.float32),
        2: np.array([0.0, 0.0, 1.0, np.nan, np.inf, -np.inf, 1e25]),
        3: np.full(7, np.nan),
    }
    with tracker.init(project="p", name="hist", server=address) as run:
        for step, values in tensors.items():
            run.log_histogram("weights/fc1", values, step=step)
        run.log_histogram("grads", rng.uniform(size=100), step=5, bins=10)
    with tracker.Api(server=address) as api:
        stored = api.histograms(run.id, "weights/fc1")
        assert [h.step for h in stored] == [0, 1, 2, 3]
        for h in stored:
            want = summarize(tensors[h.step], step=h.step, wall_time=0.0)
            for field in ("count", "min", "max", "sum", "sum_squares", "nan_count"):
                got, expected = getattr(h, field), getattr(want, field)
                assert got == expected or (math.isnan(got) and math.isnan(expected)), field
            np.testing.assert_array_equal(h.bucket_limits, want.bucket_limits)
            np.testing.assert_array_equal(h.bucket_counts, want.bucket_counts)
            assert h.bucket_counts.sum() + h.nan_count == h.count
        assert stored[2].count == 7 and stored[2].nan_count == 1
        assert stored[3].bucket_counts.size == 0 and stored[3].nan_count == 7
        grads = api.histograms(run.id, "grads")
        assert len(grads) == 1 and grads[0].bucket_counts.sum() == 100
        kinds = {t.tag: (t.kind, t.count) for t in api.tags(run.id)}
        assert kinds == {"weights/fc1": ("histogram", 4), "grads": ("histogram", 1)}


def test_resuming_a_run_keeps_its_id_and_continues_its_steps(address: str) -> None:
    with tracker.init(project="p", name="resume", hparams={"lr": 0.1}, server=address) as first:
        for _ in range(10):
            first.log({"loss": 1.0})
    with tracker.init(project="p", name="resume", hparams={"epochs": 3}, server=address) as second:
        assert second.id == first.id
        assert second.record.status == "running"
        second.log({"loss": 2.0})
    with tracker.Api(server=address) as api:
        series = api.scalars(first.id, "loss")
        assert series.steps.tolist() == list(range(11))
        assert series.values.tolist() == [1.0] * 10 + [2.0]
        (record,) = api.runs("p")
        assert record.hparams == {"lr": 0.1, "epochs": 3}
        assert record.status == "finished"


@pytest.mark.parametrize(("exc", "status"), [(RuntimeError, "failed"), (KeyboardInterrupt, "killed")])
def test_leaving_the_with_block_on_an_exception_marks_the_run(
    address: str, exc: type[BaseException], status: str
) -> None:
    with pytest.raises(exc), tracker.init(project="p", name=status, server=address) as run:
        run.log({"loss": 1.0})
        raise exc("boom")
    with tracker.Api(server=address) as api:
        assert api.run(run.id).status == status
        assert api.scalars(run.id, "loss").values.tolist() == [1.0]


def test_listing_pages_through_every_run_once(address: str) -> None:
    from tracker_client._proto import tracker_pb2 as pb
    from tracker_client.channel import Connection

    names = [f"run-{i:03d}" for i in range(25)]
    for name in names:
        tracker.init(project="many", name=name, server=address).finish()
    with Connection(address) as conn:
        seen, token, pages = [], "", 0
        while True:
            page = conn.call(
                conn.runs.ListRuns, pb.ListRunsRequest(project="many", page_size=7, page_token=token)
            )
            seen += [r.name for r in page.runs]
            pages += 1
            token = page.next_page_token
            if not token:
                break
    assert seen == names and pages == 4
    with tracker.Api(server=address) as api:
        assert [r.name for r in api.runs("many")] == names
        assert {p.name: p.run_count for p in api.projects()} == {"many": 25}


def test_small_flushes_extend_chunks_instead_of_making_a_row_per_flush(address: str, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from tracker_server.domain.ingest import CHUNK_POINTS
    from tracker_server.store.schema import ScalarChunk, Series

    with tracker.init(project="p", name="slow", server=address) as run:
        for step in range(3000):
            run.log({"loss": step / 3000, "acc": -step}, step=step)
            if step % 10 == 9:
                run.flush()  # a slow training loop: one small batch per flush
        run.flush()
        big = {"loss": 0.0}
        for step in range(3000, 3000 + 2 * CHUNK_POINTS):
            run.log(big, step=step)
        run.flush()
        run.log({"loss": 1.0}, step=10_000)
    with db.read() as conn:
        chunks = dict(
            conn.execute(
                select(Series.tag, func.count(ScalarChunk.id))
                .join(ScalarChunk, ScalarChunk.series_id == Series.id)
                .group_by(Series.tag)
            ).all()
        )
    # 3000 points in 300 flushes fill ceil(3000 / 1024) chunks; the large batch is a chunk of its own
    # (it is not merged), and the point after it starts a new one.
    assert chunks == {"acc": 3, "loss": 3 + 1 + 1}
    with tracker.Api(server=address) as api:
        loss = api.scalars(run.id, "loss")
        assert loss.steps.tolist() == [*range(3000 + 2 * CHUNK_POINTS), 10_000]
        assert loss.values[:3000].tolist() == [step / 3000 for step in range(3000)]
        assert api.scalars(run.id, "acc").values.tolist() == [float(-s) for s in range(3000)]
        assert api.scalars(run.id, "loss", start_step=1020, end_step=1030).steps.tolist() == list(
            range(1020, 1031)
        )
