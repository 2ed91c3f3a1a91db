"""The committed generated code is exactly what `make proto` produces from proto/tracker/v1/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _generator():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("generate", ROOT / "proto" / "generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_code_is_fresh(tmp_path: Path) -> None:
    fresh = _generator().generate(tmp_path)
    committed = ROOT / "tracker_client" / "_proto"
    fresh_files = sorted(p.name for p in fresh.iterdir() if p.is_file())
    committed_files = sorted(p.name for p in committed.iterdir() if p.is_file())
    assert fresh_files == committed_files
    stale = [name for name in fresh_files if (fresh / name).read_bytes() != (committed / name).read_bytes()]
    assert not stale, f"{stale} differ from proto/tracker/v1/tracker.proto: run `make proto` and commit"
