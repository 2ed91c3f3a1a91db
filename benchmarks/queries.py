"""Query benchmark: comparison queries over a 10,000-run project on PostgreSQL, beside MLflow.

    python benchmarks/queries.py [--runs 10000] [--points 1000] [--series-points 10000000]

Loads, through a `tracker server` process and the real client, a project of RUNS runs x 10
hyperparameters x 5 metrics of POINTS points each (combinations repeat three times, as seeds do),
plus one run holding a SERIES_POINTS-point series; ANALYZEs; then times (median of repeats):
  - session groups with one filter and a sort, top 50;
  - best (top 5 with a `where`);
  - hyperparameter importance;
  - 100 runs' loss, downsampled to 1,000 points each, in one call;
  - the long series downsampled to 2,000 points.
When MLflow is installed, the same runs' final metrics and parameters go into an MLflow tracking
store on PostgreSQL and its `search_runs` is timed with the same filter and order.
TRACKER_BENCH_DATABASE_URL names the PostgreSQL server (default the local one).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from ingest import DEFAULT_SERVER_URL, scratch_database, server_process

import tracker_client as tracker

PROJECT = "bench"
METRICS = ("train/loss", "val/loss", "val/acc", "lr_now", "grad_norm")
SPACE = {
    "lr": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "batch_size": [32, 64, 128, 256],
    "optimizer": ["adam", "sgd", "rmsprop"],
    "dropout": [0.0, 0.1, 0.2, 0.3, 0.5],
    "layers": [2, 3, 4, 6, 8],
    "warmup": [True, False],
    "weight_decay": [0.0, 1e-5, 1e-4, 1e-3],
    "activation": ["relu", "gelu", "tanh"],
    "width": [64, 128, 256, 512, 1024],
    "label_smoothing": [0.0, 0.05, 0.1],
}


def combinations(runs: int, seed: int = 0) -> list[dict[str, float | int | str | bool]]:
    """``runs`` hyperparameter sets: runs / 3 random combinations, each repeated 3 times."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(math.ceil(runs / 3)):
        combo = {name: values[int(rng.integers(len(values)))] for name, values in SPACE.items()}
        out += [combo] * 3
    return out[:runs]


def final_accuracy(hp: dict[str, float | int | str | bool], rng: np.random.Generator) -> float:
    lr = float(hp["lr"])  # type: ignore[arg-type]
    best = 1e-3 if hp["optimizer"] == "adam" else 3e-2
    score = 0.9 - 0.08 * (math.log10(lr) - math.log10(best)) ** 2 - 0.1 * float(hp["dropout"])  # type: ignore[arg-type]
    return float(score + rng.normal(0, 0.01)) if lr < 0.1 or hp["optimizer"] != "sgd" else math.nan


def load(
    address: str, runs: int, points: int
) -> list[tuple[str, dict[str, float | int | str | bool], float]]:
    """Log the project through the client, a few runs at a time; returns (run id, hparams, val/acc)."""
    steps = np.arange(points)

    def one(
        i_hp: tuple[int, dict[str, float | int | str | bool]],
    ) -> tuple[str, dict[str, float | int | str | bool], float]:
        i, hp = i_hp
        rng = np.random.default_rng(i)
        acc = final_accuracy(hp, rng)
        curve = acc * (1 - np.exp(-steps / (points / 5)))
        with tracker.init(
            project=PROJECT, name=f"run-{i:05d}", hparams=hp, server=address, flush_interval=3600
        ) as run:
            for step in range(points):
                run.log(
                    {
                        "train/loss": 1.0 / (step + 1),
                        "val/loss": 1.2 / (step + 1),
                        "val/acc": float(curve[step]),
                        "lr_now": float(hp["lr"]),  # type: ignore[arg-type]
                        "grad_norm": 1.0,
                    },
                    step=step,
                )
        return run.id, hp, acc

    combos = combinations(runs)
    done = []
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for n, result in enumerate(pool.map(one, enumerate(combos)), 1):
            done.append(result)
            if n % 1000 == 0:
                print(f"  loaded {n:,}/{runs:,} runs ({time.monotonic() - started:.0f}s)", file=sys.stderr)
    return done


def load_long_series(address: str, points: int) -> str:
    with tracker.init(project=PROJECT, name="long-series", server=address) as run:
        value = 0.0
        rng = np.random.default_rng(1)
        noise = rng.normal(size=1_000_000)
        for step in range(points):
            value += noise[step % noise.size]
            run.log({"long": value}, step=step)
    return run.id


def analyze(database_url: str) -> None:
    url = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE")


def median_ms(call: Callable[[], object], repeats: int) -> float:
    call()  # warm caches and connections
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def mlflow_search(
    server_url: str, loaded: list[tuple[str, dict[str, float | int | str | bool], float]], repeats: int
) -> float | None:
    try:
        from mlflow.entities import Metric, Param
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    with scratch_database(server_url) as url:
        client = MlflowClient(tracking_uri=url)
        experiment = client.create_experiment("bench")
        now = int(time.time() * 1000)
        started = time.monotonic()
        for n, (_, hp, acc) in enumerate(loaded, 1):
            run = client.create_run(experiment)
            client.log_batch(
                run.info.run_id,
                metrics=[Metric("val/acc", acc, now, 999), Metric("val/loss", 0.1, now, 999)],
                params=[Param(k, str(v)) for k, v in hp.items()],
            )
            if n % 2000 == 0:
                print(f"  MLflow: loaded {n:,} runs ({time.monotonic() - started:.0f}s)", file=sys.stderr)
        analyze(url)
        return median_ms(
            lambda: client.search_runs(
                [experiment],
                filter_string="params.optimizer = 'adam'",
                order_by=["metrics.`val/acc` DESC"],
                max_results=50,
            ),
            repeats,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--points", type=int, default=1_000)
    parser.add_argument("--series-points", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    server_url = os.environ.get("TRACKER_BENCH_DATABASE_URL", DEFAULT_SERVER_URL)

    results: dict[str, float] = {}
    with scratch_database(server_url) as database_url, server_process(database_url) as address:
        print(f"loading {args.runs:,} runs x 5 metrics x {args.points:,} points ...", file=sys.stderr)
        loaded = load(address, args.runs, args.points)
        print(f"loading one {args.series_points:,}-point series ...", file=sys.stderr)
        long_run = load_long_series(address, args.series_points)
        analyze(database_url)
        api = tracker.Api(server=address)
        run_ids = [run_id for run_id, _, _ in loaded[:100]]
        r = args.repeats
        results["session groups: 1 filter + sort, top 50"] = median_ms(
            lambda: api.session_groups(
                PROJECT, filters=[tracker.Filter("optimizer", one_of=("adam",))], sort=["-val/acc"], limit=50
            ),
            r,
        )
        results["best: top 5 with a where"] = median_ms(
            lambda: api.best(PROJECT, "val/acc", top=5, where="lr < 0.01 and optimizer = 'adam'"), r
        )
        results["importance of 10 hparams for val/acc"] = median_ms(
            lambda: api.importance(PROJECT, "val/acc"), 5
        )
        results["100 runs' train/loss at <= 1,000 points, one call"] = median_ms(
            lambda: api.scalars_many(run_ids, ["train/loss"], max_points=1000), r
        )
        results[f"{args.series_points:,}-point series to 2,000 points"] = median_ms(
            lambda: api.scalars(long_run, "long", max_points=2000), r
        )
        groups = api.session_groups(PROJECT, limit=1)
        api.close()
    mlflow = mlflow_search(server_url, loaded, args.repeats)

    print(
        f"\nTracker query benchmark: {args.runs:,} runs ({groups.total:,} hyperparameter groups) "
        f"x 10 hparams x 5 metrics x {args.points:,} points, PostgreSQL, {os.cpu_count()} cores, median ms\n"
    )
    print(f"{'query':<58} {'ms':>10}")
    print(f"{'-' * 58} {'-' * 10}")
    for name, ms in results.items():
        print(f"{name:<58} {ms:>10.1f}")
    if mlflow is not None:
        print(f"{'MLflow search_runs: same filter + order, top 50':<58} {mlflow:>10.1f}")


if __name__ == "__main__":
    main()
