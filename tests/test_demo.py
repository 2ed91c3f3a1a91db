"""`tracker demo` trains and logs a real sweep and prints its runs, best first."""

from __future__ import annotations

import json
import math
import os
import queue
import re
import signal
import subprocess
import threading
import urllib.request
from pathlib import Path

import tracker_client as tracker
from tests.server.serverproc import CLI
from tests.server.serverproc import tracker as run_cli


def _table_rows(output: str) -> list[list[str]]:
    lines = output.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("run ") and "val/accuracy" in line)
    rows = []
    for line in lines[header + 2 :]:
        if not line.strip():
            break
        rows.append(line.split())
    return rows


def test_demo_with_the_embedded_server_prints_twelve_runs_best_first(tmp_path: Path) -> None:
    result = run_cli("demo", "--no-serve", env={"TRACKER_DATA_DIR": str(tmp_path)}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"Storing data in {tmp_path / 'tracker.db'}" in result.stdout
    rows = _table_rows(result.stdout)
    assert len(rows) == 12
    accuracies = [float(row[4]) for row in rows]
    finite = [a for a in accuracies if not math.isnan(a)]
    assert finite == sorted(finite, reverse=True) and finite[0] > 0.5
    assert all(row[-1] == "finished" for row in rows)
    assert re.search(r"tracker runs --project demo", result.stdout)


def test_demo_logs_to_a_given_server(address: str) -> None:
    result = run_cli("demo", "--server", address, timeout=120)
    assert result.returncode == 0, result.stderr
    with tracker.Api(server=address) as api:
        runs = api.runs("demo")
        assert len(runs) == 12
        assert {type(v) for r in runs for v in r.hparams.values()} >= {int, float, str, bool}
        run = runs[0]
        tags = {t.tag: t for t in api.tags(run.id)}
        assert {"train/loss", "train/accuracy", "val/loss", "val/accuracy"} <= set(tags)
        assert {"weights/fc1", "weights/fc2", "gradients/fc1", "gradients/fc2"} <= set(tags)
        steps = api.scalars(run.id, "train/loss").steps
        assert steps.tolist() == list(range(steps.size)) and steps.size > 500
        assert len(api.histograms(run.id, "weights/fc1")) == 20


def test_demo_ends_by_serving_its_web_ui_until_interrupted(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*CLI, "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "TRACKER_DATA_DIR": str(tmp_path)},
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        while not (
            match := re.search(r"Open the web UI: (http://\S+?)/#/p/demo/hparams", lines.get(timeout=120))
        ):
            pass
        with urllib.request.urlopen(f"{match.group(1)}/api/projects/demo/runs", timeout=10) as response:
            assert len(json.load(response)["runs"]) == 12
        with urllib.request.urlopen(f"{match.group(1)}/", timeout=10) as response:
            assert b"/static/app.js" in response.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
