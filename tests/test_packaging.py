"""A plain (non-editable) install carries the migrations, the generated stubs and the CLI, and
`tracker db upgrade` works from it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tracker_server.store.migrate import head_revision

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("tracker-*.whl")
    return built


def test_wheel_contains_migrations_stubs_and_no_tests(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in (
        "tracker_server/migrations/env.py",
        "tracker_server/migrations/script.py.mako",
        "tracker_server/migrations/versions/2026_11_28_0001_initial_schema.py",
        "tracker_client/_proto/tracker_pb2.py",
        "tracker_client/_proto/tracker_pb2.pyi",
        "tracker_client/_proto/tracker_pb2_grpc.py",
        "tracker_server/tensorboard/_proto/tensorboard_events_pb2.py",
        "tracker_server/tensorboard/_proto/tensorboard_events_pb2.pyi",
        "tracker_server/tensorboard/importer.py",
        "tracker_client/py.typed",
        "tracker_server/py.typed",
        "tracker_server/http/app.py",
        "tracker_server/web/index.html",
        "tracker_server/web/static/app.js",
        "tracker_server/web/static/views/scalars.js",
        "tracker_server/web/static/views/hparams.js",
        "tracker_server/web/static/vendor/echarts/echarts.min.js",
        "tracker_server/web/static/vendor/echarts/LICENSE",
    ):
        assert required in names, required
    assert not any(name.startswith(("tests/", "benchmarks/", "migrations/")) for name in names)


def test_db_upgrade_runs_from_an_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target), str(wheel)],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = (
        "import tracker_server, sys; "
        f"assert tracker_server.__file__.startswith({str(target)!r}), tracker_server.__file__; "
        "from tracker_server.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    database = tmp_path / "fresh.db"
    result = subprocess.run(  # noqa: PLW1510 - the return code is asserted
        [sys.executable, "-c", code, "db", "upgrade", "--db", f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"from schema revision (empty) to {head_revision()}" in result.stdout
