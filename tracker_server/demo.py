"""``tracker demo``: a real (small) training sweep, logged through the real client and server.

A two-layer MLP written in numpy learns a synthetic 5-class "spirals" problem, over 12 combinations
of learning rate, hidden width and activation. Each run logs its losses and accuracies every step,
and per-layer weight and gradient histograms every epoch; the table at the end is read back through
``tracker.Api``. The largest learning rate may diverge: that is what a tracker is for seeing.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

import tracker_client as tracker
from tracker_server.table import format_table

Array = npt.NDArray[np.float64]
PROJECT = "demo"
LEARNING_RATES = (1.0, 0.1, 0.01)
HIDDEN_UNITS = (16, 64)
ACTIVATIONS = ("relu", "tanh")
EPOCHS = 20
BATCH_SIZE = 64
CLASSES = 5
DEMO_HTTP_PORT = 6066


def make_spirals(rng: np.random.Generator, n: int, features: int = 20) -> tuple[Array, npt.NDArray[np.int64]]:
    """Five interleaved 2-D spirals, embedded in ``features`` dimensions with noise."""
    labels = rng.integers(0, CLASSES, n)
    radius = rng.uniform(0.1, 1.0, n)
    angle = labels * (2 * math.pi / CLASSES) + radius * 5.0 + rng.normal(0, 0.3, n)
    plane = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    mixing = rng.normal(0, 1, (2, features))
    x = plane @ mixing + rng.normal(0, 0.05, (n, features))
    return x, labels


def _activation(name: str) -> tuple[Callable[[Array], Array], Callable[[Array, Array], Array]]:
    if name == "relu":
        return (lambda z: np.maximum(z, 0.0)), (lambda z, a: (z > 0).astype(np.float64))
    return np.tanh, (lambda z, a: 1.0 - a * a)


def _forward(
    x: Array, w1: Array, b1: Array, w2: Array, b2: Array, act: Callable[[Array], Array]
) -> tuple[Array, Array, Array]:
    z1 = x @ w1 + b1
    a1 = act(z1)
    logits = a1 @ w2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return z1, a1, log_probs


def _metrics(log_probs: Array, y: npt.NDArray[np.int64]) -> tuple[float, float]:
    loss = float(-log_probs[np.arange(y.size), y].mean())
    accuracy = float((log_probs.argmax(axis=1) == y).mean())
    return loss, accuracy


@dataclass(frozen=True)
class Combination:
    lr: float
    hidden: int
    activation: str

    @property
    def hparams(self) -> dict[str, float | int | str | bool]:
        return {
            "lr": self.lr,
            "hidden": self.hidden,
            "activation": self.activation,
            "optimizer": "sgd",
            "nesterov": False,
            "momentum": 0.9,
            "batch_size": BATCH_SIZE,
        }

    @property
    def label(self) -> str:
        return f"lr={self.lr:g} hidden={self.hidden} {self.activation}"


def train(
    run: tracker.Run,
    combo: Combination,
    data: tuple[Array, npt.NDArray[np.int64], Array, npt.NDArray[np.int64]],
    rng: np.random.Generator,
) -> float:
    """Train one MLP with SGD + momentum, logging every step; returns the final validation accuracy."""
    x, y, xv, yv = data
    act, dact = _activation(combo.activation)
    w1 = rng.normal(0, math.sqrt(2 / x.shape[1]), (x.shape[1], combo.hidden))
    b1 = np.zeros(combo.hidden)
    w2 = rng.normal(0, math.sqrt(1 / combo.hidden), (combo.hidden, CLASSES))
    b2 = np.zeros(CLASSES)
    params = [w1, b1, w2, b2]
    velocity = [np.zeros_like(p) for p in params]
    step = 0
    val_acc = float("nan")
    with np.errstate(all="ignore"):
        for _epoch in range(EPOCHS):
            order = rng.permutation(y.size)
            for start in range(0, y.size, BATCH_SIZE):
                idx = order[start : start + BATCH_SIZE]
                xb, yb = x[idx], y[idx]
                z1, a1, log_probs = _forward(xb, w1, b1, w2, b2, act)
                loss, acc = _metrics(log_probs, yb)
                grad_logits = np.exp(log_probs)
                grad_logits[np.arange(yb.size), yb] -= 1.0
                grad_logits /= yb.size
                gw2 = a1.T @ grad_logits
                gb2 = grad_logits.sum(axis=0)
                gz1 = (grad_logits @ w2.T) * dact(z1, a1)
                gw1 = xb.T @ gz1
                gb1 = gz1.sum(axis=0)
                for i, grad in enumerate((gw1, gb1, gw2, gb2)):
                    velocity[i] = 0.9 * velocity[i] - combo.lr * grad
                    params[i] += velocity[i]  # in place: w1, b1, w2, b2 are these arrays
                run.log({"train/loss": loss, "train/accuracy": acc}, step=step)
                step += 1
            _, _, val_log_probs = _forward(xv, w1, b1, w2, b2, act)
            val_loss, val_acc = _metrics(val_log_probs, yv)
            run.log({"val/loss": val_loss, "val/accuracy": val_acc}, step=step - 1)
            for name, values in (
                ("weights/fc1", w1),
                ("weights/fc2", w2),
                ("gradients/fc1", gw1),
                ("gradients/fc2", gw2),
            ):
                run.log_histogram(name, values, step=step - 1)
    return val_acc


def run_demo(server: str, *, out: Callable[[str], None] = print) -> list[tracker.RunRecord]:
    """Train the sweep against ``server`` and print its runs, best validation accuracy first."""
    seed = int(time.time())
    rng = np.random.default_rng(seed)
    features, labels = make_spirals(rng, 4000)
    x, y, xv, yv = features[:3000], labels[:3000], features[3000:], labels[3000:]
    stamp = time.strftime("%b%d_%H-%M-%S")
    combos = [
        Combination(lr, h, a) for lr, h, a in itertools.product(LEARNING_RATES, HIDDEN_UNITS, ACTIVATIONS)
    ]
    run_ids = []
    started = time.monotonic()
    for i, combo in enumerate(combos, 1):
        t0 = time.monotonic()
        with tracker.init(
            project=PROJECT, name=f"{combo.label} {stamp}", hparams=combo.hparams, server=server
        ) as run:
            val_acc = train(run, combo, (x, y, xv, yv), rng)
            run.flush()
        run_ids.append(run.id)
        out(
            f"[{i:2d}/{len(combos)}] {combo.label:<26} val/accuracy={val_acc:.3f}  "
            f"({time.monotonic() - t0:.1f}s)"
        )
    out(f"Trained and logged {len(combos)} runs in {time.monotonic() - started:.1f}s.\n")

    with tracker.Api(server=server) as api:
        records = [api.run(run_id) for run_id in run_ids]
        final = {r.id: {t.tag: t.summary for t in api.tags(r.id) if t.summary is not None} for r in records}

    def last(run_id: str, tag: str) -> float:
        summary = final[run_id].get(tag)
        return summary.last_value if summary is not None else float("nan")

    def rank(record: tracker.RunRecord) -> float:
        value = last(record.id, "val/accuracy")
        return -value if not math.isnan(value) else math.inf

    ordered = sorted(records, key=rank)
    rows = [
        [
            r.id,
            r.hparams["lr"],
            r.hparams["hidden"],
            r.hparams["activation"],
            last(r.id, "val/accuracy"),
            last(r.id, "val/loss"),
            last(r.id, "train/loss"),
            r.status,
        ]
        for r in ordered
    ]
    out(
        format_table(
            ["run", "lr", "hidden", "activation", "val/accuracy", "val/loss", "train/loss", "status"], rows
        )
    )
    with tracker.Api(server=server) as api:
        report = api.importance(PROJECT, "val/accuracy")
    mattered = ", ".join(f"{h.name} {h.importance:.2f}" for h in report.hparams if h.importance >= 0.01)
    out(
        f"\nWhat mattered for val/accuracy over the {report.run_count} demo runs so far "
        f"(random-forest importance): {mattered or 'nothing yet'}."
    )
    return ordered


def main(server: str | None = None, *, serve: bool = True) -> int:
    """Use TRACKER_SERVER (or ``server``) when given, else an embedded server on the SQLite default,
    which goes on serving the web UI until Ctrl-C unless ``serve`` is False."""
    target = server or os.environ.get("TRACKER_SERVER")
    if target:
        run_demo(target)
        return 0
    from tracker_server.app import ServerThread, open_database
    from tracker_server.settings import ServerSettings

    settings = ServerSettings()
    url = settings.resolved_database_url
    if settings.uses_default_database:
        print(f"Storing data in {settings.default_database_path}")
    db = open_database(url, announce=print)
    try:
        embedded = ServerThread(db, http_port=DEMO_HTTP_PORT)
    except OSError:
        embedded = ServerThread(db, http_port=0)  # 6066 is taken (another server?): any free port
    with embedded:
        print(f"Started an embedded Tracker server on {embedded.address}\n")
        best = run_demo(embedded.address)[0]
        if serve:
            print(
                f"\nOpen the web UI: {embedded.url}/#/p/{PROJECT}/hparams?color=val/accuracy\n"
                "(which hyperparameters won, and did any run diverge?). Serving until Ctrl-C.",
                flush=True,
            )
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                print("\nStopped.")
    db.dispose()
    if serve:
        return 0
    print(
        "\nThe runs are stored for good. To look at them again, start the server with `tracker server`, "
        f"open http://127.0.0.1:{DEMO_HTTP_PORT}/, or in another shell:\n"
        "  tracker runs --project demo\n"
        "  tracker best --project demo --metric val/accuracy --max\n"
        "  tracker importance --project demo --metric val/accuracy\n"
        '  python -c "import tracker_client as t; '
        f"print(t.Api().scalars('{best.id}', 'val/accuracy').values)\""
    )
    sys.stdout.flush()
    return 0
