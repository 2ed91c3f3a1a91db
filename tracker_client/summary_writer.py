"""``tracker_client.SummaryWriter``: torch.utils.tensorboard's SummaryWriter, logging to Tracker.

Swapping ``from torch.utils.tensorboard import SummaryWriter`` for
``from tracker_client import SummaryWriter`` is the whole migration: same constructor, same
methods, same arguments. ``log_dir`` names the run (a project groups runs: ``project=`` or
TRACKER_PROJECT, else the current directory's name). Nothing here imports torch; values may be
Python numbers, numpy scalars or arrays, or tensors.

Where we differ from torch, on purpose:
- Scalars keep full double precision (torch rounds ``add_scalar`` values to float32).
- ``add_hparams`` without ``run_name`` puts the hyperparameters (types kept: bools stay bools)
  and the metrics on this writer's run, so they sit beside its training curves in comparisons;
  torch writes them to a separate timestamp-named sub-run. Called again on the same writer, it
  does as torch does (a ``<log_dir>/<time>`` sub-run per call), for one writer summarising several
  trials; with ``run_name`` the sub-run is ``<log_dir>/<run_name>``, as in torch.
- ``add_text`` keeps the tag as given (torch appends "/text_summary").
- Layouts from the ``add_custom_scalars*`` calls are merged into one stored with the run.
- ``max_queue``, ``flush_secs`` and ``filename_suffix`` are accepted; data reaches the server
  within about a second whatever they say, and no files are written.
Images, audio, video, figures, graphs, embeddings and meshes are not stored yet: those methods
warn once each and return, so training goes on.
"""

from __future__ import annotations

import builtins
import os
import socket
import time
import warnings
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from tracker_client.histogram import Bins, as_float_array
from tracker_client.pr_curve import pr_curve_raw
from tracker_client.records import Histogram
from tracker_client.run import Run, init


def _default_project() -> str:
    return os.environ.get("TRACKER_PROJECT") or Path.cwd().name or "default"


def _step(global_step: Any) -> int:
    """TensorBoard's convention: no step means step 0."""
    return 0 if global_step is None else int(global_step)


def _scalar(value: Any) -> Any:
    """As torch: any one-element array, list or tensor is a scalar (0-d values pass through)."""
    if type(value) is float or type(value) is int:
        return value
    if not isinstance(value, (list, tuple)) and getattr(value, "ndim", 0) == 0:
        return value
    if hasattr(value, "numel") and value.numel() == 1:  # a tensor, possibly on a GPU
        return value.item()
    array = np.asarray(value)
    if array.size != 1:
        raise ValueError(f"scalar_value must hold one number, got an array of shape {array.shape}")
    return array.item()


class SummaryWriter:
    """Writes TensorBoard-style summaries to a Tracker run named after ``log_dir``."""

    def __init__(
        self,
        log_dir: str | os.PathLike[str] | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: int = 120,
        filename_suffix: str = "",
        *,
        project: str | None = None,
        server: str | None = None,
        token: str | None = None,
    ) -> None:
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", stamp + "_" + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self._project = project or _default_project()
        self._server = server
        self._token = token
        self._runs: dict[str, Run] = {}
        self._layout: dict[str, dict[str, Any]] = {}
        self._hparams_set = False
        self._warned: set[str] = set()
        self._closed = False
        self._run = self._open(self.log_dir)
        if purge_step is not None:
            self._run.purge_steps(int(purge_step))

    def _open(self, log_dir: str) -> Run:
        name = log_dir.replace(os.sep, "/")
        run = self._runs.get(name)
        if run is None:
            run = self._runs[name] = init(
                project=self._project, name=name, server=self._server, token=self._token
            )
        return run

    def _main(self) -> Run:
        """This writer's run; after close() the next add_* resumes it, as torch reopens its file."""
        if self._closed:
            self._closed = False
            self._run = self._open(self.log_dir)
        return self._run

    @property
    def run(self) -> Run:
        """The Tracker run this writer logs to (``log_dir``)."""
        return self._run

    def get_logdir(self) -> str:
        return self.log_dir

    # -- scalars ---------------------------------------------------------------------------------

    def add_scalar(
        self,
        tag: str,
        scalar_value: Any,
        global_step: Any = None,
        walltime: float | None = None,
        new_style: bool = False,
        double_precision: bool = False,
    ) -> None:
        self._main().log({tag: _scalar(scalar_value)}, _step(global_step), wall_time=walltime)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: Mapping[str, Any],
        global_step: Any = None,
        walltime: float | None = None,
    ) -> None:
        """As torch: one run per key, ``<log_dir>/<main_tag with / replaced by _>_<key>``, each logging
        ``main_tag``."""
        walltime = time.time() if walltime is None else walltime
        step = _step(global_step)
        for key, value in tag_scalar_dict.items():
            run = self._open(f"{self.log_dir}/{main_tag.replace('/', '_')}_{key}")
            run.log({main_tag: _scalar(value)}, step, wall_time=walltime)

    # -- histograms --------------------------------------------------------------------------------

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: Any = None,
        bins: Bins = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        self._main().log_histogram(
            tag, values, _step(global_step), bins=bins, max_bins=max_bins, wall_time=walltime
        )

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: float,
        sum: float,
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: Any = None,
        walltime: float | None = None,
    ) -> None:
        """A histogram given as its summary. Values counted in ``num`` but in no bucket are kept as
        ``nan_count``; more values in the buckets than ``num`` is a ValueError."""
        limits, counts = as_float_array(bucket_limits), as_float_array(bucket_counts)
        if limits.size != counts.size:
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        total = float(counts.sum())
        if total > float(num) * (1 + 1e-12):
            raise ValueError(f"bucket_counts add up to {total:g}, more than num = {num:g}")
        self._main().log_histogram_summary(
            tag,
            Histogram(
                step=_step(global_step),
                wall_time=time.time() if walltime is None else walltime,
                count=float(num),
                min=float(min),
                max=float(max),
                sum=float(sum),
                sum_squares=float(sum_squares),
                bucket_limits=limits,
                bucket_counts=counts,
                nan_count=builtins.max(0.0, float(num) - total),
            ),
        )

    # -- PR curves ---------------------------------------------------------------------------------

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: Any = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        self._main().log_pr_curve(
            tag, labels, predictions, _step(global_step), num_thresholds, weights, wall_time=walltime
        )

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: Any = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        # As in torch, the rows decide how many thresholds there are; num_thresholds is not checked.
        data = pr_curve_raw(
            true_positive_counts,
            false_positive_counts,
            true_negative_counts,
            false_negative_counts,
            precision,
            recall,
        )
        self._main().log_pr_curve_data(tag, data, _step(global_step), wall_time=walltime)

    # -- text --------------------------------------------------------------------------------------

    def add_text(
        self, tag: str, text_string: str, global_step: Any = None, walltime: float | None = None
    ) -> None:
        self._main().log_text(tag, text_string, _step(global_step), wall_time=walltime)

    # -- hyperparameters ---------------------------------------------------------------------------

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, Sequence[Any]] | None = None,
        run_name: str | None = None,
        global_step: Any = None,
    ) -> None:
        """Hyperparameters (types kept; None values skipped, as torch does) and final metrics.

        Without ``run_name`` they go on this writer's run the first time, then on a torch-style
        ``<log_dir>/<time>`` sub-run per further call; with it, on ``<log_dir>/<run_name>``.
        ``hparam_domain_discrete`` is checked as torch checks it; domains are otherwise inferred.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        for name, domain in (hparam_domain_discrete or {}).items():
            if (
                name not in hparam_dict
                or not isinstance(domain, list)
                or not all(isinstance(d, type(hparam_dict[name])) for d in domain)
            ):
                raise TypeError(
                    f"parameter: hparam_domain_discrete[{name}] should be a list of same type as "
                    f"hparam_dict[{name}]."
                )
        hparams = {name: _plain(value) for name, value in hparam_dict.items() if value is not None}
        if run_name:
            run = self._open(f"{self.log_dir}/{run_name}")
        elif not self._hparams_set:
            run = self._main()
        else:
            run = self._open(f"{self.log_dir}/{time.time()}")
        self._hparams_set = self._hparams_set or run is self._run
        run.log_hparams(hparams)
        if metric_dict:
            run.log(metric_dict, _step(global_step))
        if run is not self._run:
            run.flush()

    # -- custom scalars ----------------------------------------------------------------------------

    def add_custom_scalars(self, layout: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge ``layout`` ({category: {title: ["Multiline", tags] | ["Margin", [value, lower,
        upper]]}}) into the layout stored with the run."""
        for category, charts in layout.items():
            self._layout.setdefault(category, {}).update(
                {title: [kind, list(tags)] for title, (kind, tags) in charts.items()}
            )
        self._main().set_custom_scalars(self._layout)

    def add_custom_scalars_multilinechart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        self.add_custom_scalars({category: {title: ["Multiline", list(tags)]}})

    def add_custom_scalars_marginchart(
        self, tags: Sequence[str], category: str = "default", title: str = "untitled"
    ) -> None:
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", list(tags)]}})

    # -- life cycle --------------------------------------------------------------------------------

    def flush(self) -> None:
        for run in self._runs.values():
            run.flush()

    def close(self) -> None:
        self._finish("finished")
        self._runs.clear()
        self._closed = True

    def _finish(self, status: Any) -> None:
        failures = []
        for run in self._runs.values():
            try:
                run.finish(status)
            except Exception as exc:
                failures.append(exc)
        if failures:
            raise failures[0]

    def __enter__(self) -> SummaryWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._finish("killed" if issubclass(exc_type, KeyboardInterrupt) else "failed")

    # -- on the roadmap: each warns once, naming itself, and returns ------------------------------

    def add_image(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_image")

    def add_images(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_images")

    def add_image_with_boxes(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_image_with_boxes")

    def add_figure(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_figure")

    def add_video(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_video")

    def add_audio(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_audio")

    def add_graph(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_graph")

    def add_onnx_graph(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_onnx_graph")

    def add_embedding(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_embedding")

    def add_mesh(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_mesh")

    def add_tensor(self, *args: Any, **kwargs: Any) -> None:
        self._not_yet("add_tensor")

    def _not_yet(self, name: str) -> None:
        if name not in self._warned:
            self._warned.add(name)
            warnings.warn(
                f"tracker SummaryWriter.{name} is not supported yet: the call is ignored, training goes on",
                UserWarning,
                stacklevel=3,
            )


def _plain(value: Any) -> Any:
    """A hyperparameter as a Python value: tensors and numpy scalars become numbers."""
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "item"):
        item = value.item() if not hasattr(value, "detach") else value.detach().cpu().item()
        return bool(item) if isinstance(value, np.bool_) else item
    return value
