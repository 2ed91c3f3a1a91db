"""The load benchmark's machinery (benchmarks/load.py), short: a few client processes logging flat
out into the test's real server, then an exact count. Counts only, never speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.load import LoadConfig, figures, run_load, verify


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_every_point_logged_under_load_is_stored_exactly_once(address: str, tmp_path: Path) -> None:
    # A small in-memory budget makes every client move its backlog to its spool file and back.
    config = LoadConfig(clients=4, duration=3.0, tags=5, drain_timeout=120.0, verify_tags=5, max_memory_mb=4)
    result = run_load(address, config, spool_dir=tmp_path / "spool")
    assert result.all_errors == []
    counted = verify(address, result)
    assert counted.problems == []
    assert counted.total_logged > 0
    assert counted.total_stored == counted.total_logged
    assert counted.missing == counted.duplicated == 0
    assert counted.values_checked == counted.total_logged
    for report in result.reports:
        assert report.run_id is not None
        assert report.points_logged == report.steps * config.tags > 0
    f = figures(result, counted, interval=1.0)  # the benchmark's table is computed from the same data
    assert f["exact"] and f["total_stored"] == f["total_logged"]
