"""A small seeded training script written for ``torch.utils.tensorboard.SummaryWriter``.

``tests/e2e/test_summary_writer.py`` runs the very same functions twice: once with torch's class
(writing event files) and once with ``tracker_client.SummaryWriter`` (logging to a server), and
compares what each stored. Nothing here knows which class it was given.

The script logs through every kind of call the drop-in supports: scalars as Python floats, numpy
scalars and 0-d tensors, steps as ints, numpy ints and tensors, with and without an explicit
walltime, old- and new-style scalars, ``add_scalars``, histograms of weights and gradients
(TensorBoard's default bins, "auto", an int, ``max_bins``), a raw histogram, PR curves (tensors and
numpy, weighted, 127 and fewer thresholds, more than 127 asked for), a raw PR curve, text,
hyperparameters (without and with ``run_name``), custom-scalar layouts and one image.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

STEPS = 6
WALL0 = 1_700_000_000.125  # explicit walltimes: exactly representable, compared exactly
SAMPLES = 96
FEATURES = 5

# Tags and add_scalars runs logged with an explicit walltime: their wall times must match exactly.
EXPLICIT_WALLTIME_TAGS = frozenset(
    {"train/lr", "precise/double", "hist/out_binned", "raw/out", "pr/weighted", "pr/raw", "notes/step"}
)
EXPLICIT_WALLTIME_RUNS = frozenset({"metrics_acc_train", "metrics_acc_val"})

# Scalars logged with new_style=True: torch keeps them as tensors (float32, or float64 with
# double_precision), not as legacy simple_value.
NEW_STYLE_TAGS = {"precise/double": "double", "precise/float": "float"}

LAYOUT = {
    "Training": {
        "loss": ["Multiline", ["train/loss", "val/loss"]],
        "learning rate": ["Multiline", ["train/lr"]],
    }
}
FIRST_HPARAMS: dict[str, Any] = {
    "lr": 0.1,
    "hidden": 8,
    "optimizer": "sgd",
    "nesterov": False,
    "augment": True,
    "scheduler": None,  # skipped, as torch skips it
    # torch's add_hparams indexes tensors with [0], so a 0-d tensor raises IndexError there:
    # a 1-element tensor is the portable way to log one.
    "weight_decay": torch.tensor([1e-4]),
}
SECOND_HPARAMS: dict[str, Any] = {"lr": 0.05, "hidden": 16, "optimizer": "adam", "nesterov": True}


def _data(seed: int) -> tuple[torch.Tensor, torch.Tensor, nn.Module]:
    torch.manual_seed(seed)
    x = torch.randn(SAMPLES, FEATURES)
    true_w = torch.randn(FEATURES, 1)
    y = x @ true_w + 0.3 * torch.randn(SAMPLES, 1)
    model = nn.Sequential(nn.Linear(FEATURES, 8), nn.Tanh(), nn.Linear(8, 1))
    return x, y, model


def _step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor) -> Any:
    optimizer.zero_grad()
    out = model(x)
    loss = F.mse_loss(out, y)
    loss.backward()
    optimizer.step()
    return out, loss


def train(summary_writer: Any, log_dir: str, **writer_kwargs: Any) -> dict[str, float]:
    """Train a 2-layer MLP for STEPS steps, logging through ``summary_writer`` into ``log_dir``."""
    x, y, model = _data(1234)
    labels = (y > 0).squeeze(1)  # bool tensor
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    rng = np.random.default_rng(1234)
    sample_weights = rng.uniform(0.5, 2.0, size=SAMPLES)
    val_x = torch.randn(32, FEATURES)
    val_y = val_x.sum(dim=1, keepdim=True)

    with summary_writer(log_dir=log_dir, **writer_kwargs) as writer:
        assert writer.get_logdir() == log_dir
        writer.add_scalar("setup/parameters", sum(p.numel() for p in model.parameters()))  # no step: 0
        writer.add_custom_scalars(LAYOUT)
        for step in range(STEPS):
            out, loss = _step(model, optimizer, x, y)
            with torch.no_grad():
                val_loss = F.mse_loss(model(val_x), val_y)
                probs = torch.sigmoid(out).squeeze(1)
                accuracy = ((probs > 0.5) == labels).float().mean()
            lr = 0.1 * 0.9**step

            # Scalars: a Python float, a 0-d tensor with a tensor step, a numpy scalar with a numpy
            # step, explicit walltimes, new-style tensors in float32 and float64.
            writer.add_scalar("train/loss", loss.item(), step)
            writer.add_scalar("train/loss_tensor", loss.detach(), torch.tensor(step))
            writer.add_scalar("train/lr", lr, step, walltime=WALL0 + step)
            writer.add_scalar("val/loss", np.float64(val_loss.item()), np.int64(step))
            writer.add_scalar("val/accuracy", np.float32(accuracy.item()), step)
            writer.add_scalar("val/loss_array", np.array(val_loss.item()), step)  # a 0-d numpy array
            writer.add_scalar(
                "precise/double",
                0.1 + step * 1e-9,
                step,
                walltime=WALL0 + step,
                new_style=True,
                double_precision=True,
            )
            writer.add_scalar("precise/float", 0.1 + step * 1e-9, step, new_style=True)
            writer.add_scalars("loss", {"train": loss.item(), "val": val_loss}, step)
            writer.add_scalars(
                "metrics/acc",
                {"train": accuracy, "val": np.float32(1 - val_loss.item() / 10)},
                step,
                WALL0 + step,
            )

            # Histograms of weights and gradients: default bins, "auto", an int, max_bins.
            if step % 2 == 0:
                for name, parameter in model.named_parameters():
                    writer.add_histogram(f"weights/{name}", parameter, step)
                    assert parameter.grad is not None
                    writer.add_histogram(f"grads/{name}", parameter.grad, step, bins="auto")
                outputs = out.detach().numpy()  # float32 numpy
                writer.add_histogram(
                    "hist/out_binned", outputs, step, bins=16, walltime=WALL0 + step, max_bins=5
                )
                writer.add_histogram("hist/out_max_bins", out.detach(), step, max_bins=100)
                flat = outputs.astype(np.float64).reshape(-1)
                counts, edges = np.histogram(flat, bins=10)
                writer.add_histogram_raw(
                    "raw/out",
                    min=float(flat.min()),
                    max=float(flat.max()),
                    num=flat.size,
                    sum=float(flat.sum()),
                    sum_squares=float(flat.dot(flat)),
                    bucket_limits=edges[1:].tolist(),
                    bucket_counts=counts.tolist(),
                    global_step=step,
                    walltime=WALL0 + step,
                )

            # PR curves: tensors at 127 thresholds, numpy with weights at 11, 200 asked for (torch
            # caps it at 127), and a curve computed here.
            writer.add_pr_curve("pr/default", labels, probs, step)
            writer.add_pr_curve(
                "pr/weighted",
                labels.numpy().astype(np.int64),
                probs.numpy(),
                step,
                num_thresholds=11,
                weights=sample_weights,
                walltime=WALL0 + step,
            )
            writer.add_pr_curve("pr/capped", labels, probs, step, num_thresholds=200)
            thresholds = np.linspace(0.0, 1.0, 5)
            p = probs.numpy().astype(np.float64)
            positive = labels.numpy()
            tp = np.array([np.sum((p >= t) & positive) for t in thresholds], dtype=np.float64)
            fp = np.array([np.sum((p >= t) & ~positive) for t in thresholds], dtype=np.float64)
            fn, tn = positive.sum() - tp, (~positive).sum() - fp
            writer.add_pr_curve_raw(
                "pr/raw",
                tp,
                fp,
                tn,
                fn,
                tp / np.maximum(tp + fp, 1),
                tp / np.maximum(tp + fn, 1),
                step,
                num_thresholds=5,
                walltime=WALL0 + step,
            )

            writer.add_text(
                "notes/step", f"step {step}: **loss** = {loss.item():.6f} ✓", step, walltime=WALL0 + step
            )
            if step == 0:
                writer.add_text("notes/config", "| lr | hidden |\n|---|---|\n| 0.1 | 8 |")
                writer.add_image("inputs/sample", torch.rand(3, 8, 8), step)
            if step == 1:
                writer.add_image("inputs/sample", torch.rand(3, 8, 8), step)  # warned once already
                writer.flush()

        writer.add_custom_scalars_multilinechart(
            ["precise/double", "precise/float"], category="Precision", title="both"
        )
        writer.add_custom_scalars_marginchart(
            ["val/loss", "train/loss", "train/loss_tensor"], category="Training", title="band"
        )
        final = {"hparam/loss": loss.item(), "hparam/accuracy": accuracy}
        writer.add_hparams(FIRST_HPARAMS, final, hparam_domain_discrete={"optimizer": ["sgd", "adam"]})
        writer.add_hparams(SECOND_HPARAMS, {"hparam/loss": 0.5}, run_name="trial-2", global_step=STEPS)
        writer.flush()
    writer.close()  # closing twice does nothing
    return {"loss": loss.item()}


def train_resumed(
    summary_writer: Any, log_dir: str, *, crash_after: int, purge_step: int, steps: int, **writer_kwargs: Any
) -> None:
    """A job that logs steps 0..crash_after, dies, and is restarted from a checkpoint at
    ``purge_step`` with ``purge_step=``: TensorBoard then hides what the first attempt logged at or
    after that step. The first attempt diverges (NaN, +Inf) after the checkpoint."""
    for attempt, (first, last, kwargs) in enumerate(
        ((0, crash_after, {}), (purge_step, steps - 1, {"purge_step": purge_step}))
    ):
        x, y, model = _data(99 + attempt)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        writer = summary_writer(log_dir=log_dir, **kwargs, **writer_kwargs)
        for step in range(first, last + 1):
            out, loss = _step(model, optimizer, x, y)
            value = loss.item()
            if attempt == 0 and step == purge_step + 1:
                value = float("nan")
            if attempt == 0 and step == purge_step + 2:
                value = float("inf")
            writer.add_scalar("loss", value, step, walltime=WALL0 + 100 * attempt + step)
            writer.add_scalar("loss/smooth", loss.item() * 0.5, step, walltime=WALL0 + 100 * attempt + step)
            if attempt == 0 and step == 1:
                writer.add_scalar("diverged/early", float("-inf"), step, walltime=WALL0 + step)
            if attempt == 0 and step >= purge_step:
                writer.add_scalar("only/first_attempt_late", value, step, walltime=WALL0 + step)
            writer.add_scalars("split", {"a": step * 1.5}, step, walltime=WALL0 + 100 * attempt + step)
            writer.add_histogram("weights", model[0].weight, step, walltime=WALL0 + 100 * attempt + step)
            probs = torch.sigmoid(out.detach()).squeeze(1)
            writer.add_pr_curve(
                "pr", (y > 0).squeeze(1), probs, step, num_thresholds=9, walltime=WALL0 + 100 * attempt + step
            )
            writer.add_text(
                "log", f"attempt {attempt} step {step}", step, walltime=WALL0 + 100 * attempt + step
            )
        if attempt == 0:
            writer.flush()  # the crash: what was flushed is all there is
        writer.close()
