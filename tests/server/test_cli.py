"""The `tracker` command line: help, settings precedence, schema guard, upgrade, graceful stop."""

from __future__ import annotations

import argparse
import json
import urllib.request
from pathlib import Path

import pytest

import tracker_client as tracker
from tests.server.serverproc import server_process
from tests.server.serverproc import tracker as run_cli
from tracker_server.cli import SERVER_FIELDS, _load_settings, build_parser
from tracker_server.settings import ServerSettings


def test_help_explains_every_server_setting_and_its_variable() -> None:
    result = run_cli("server", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for name in SERVER_FIELDS:
        extra = ServerSettings.model_fields[name].json_schema_extra
        assert isinstance(extra, dict)
        assert extra["flag"] in text and extra["env"] in text, name
    assert "default 6065" in text and "default 127.0.0.1" in text
    top = run_cli("--help")
    assert top.returncode == 0
    for command in ("server", "db", "demo", "runs"):
        assert command in top.stdout


def test_flags_override_environment_which_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    parser = build_parser()
    monkeypatch.setenv("TRACKER_PORT", "7000")
    monkeypatch.setenv("TRACKER_HOST", "0.0.0.0")
    args = parser.parse_args(["server", "--port", "7001"])
    settings = _load_settings(args, SERVER_FIELDS)
    assert (settings.port, settings.host, settings.db_pool_size) == (7001, "0.0.0.0", 8)
    monkeypatch.delenv("TRACKER_PORT")
    settings = _load_settings(parser.parse_args(["server"]), SERVER_FIELDS)
    assert settings.port == 6065


def test_an_invalid_setting_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRACKER_PORT", "not-a-port")
    with pytest.raises(SystemExit, match="invalid setting: port"):
        _load_settings(argparse.Namespace(**dict.fromkeys(SERVER_FIELDS)), SERVER_FIELDS)


@pytest.mark.parametrize("backend", ["postgresql"])
def test_server_refuses_an_out_of_date_postgresql_schema_and_names_the_command(
    empty_database_url: str,
) -> None:
    with server_process(["--db", empty_database_url, "--port", "0"]) as server:
        assert server.proc.wait(timeout=60) == 2
        assert "tracker db upgrade" in server.output
        assert "has no Tracker schema yet" in server.output


def test_db_upgrade_then_server_starts_and_stops_gracefully(empty_database_url: str) -> None:
    first = run_cli("db", "upgrade", "--db", empty_database_url)
    assert first.returncode == 0, first.stderr
    assert "from schema revision (empty) to" in first.stdout
    again = run_cli("db", "upgrade", "--db", empty_database_url)
    assert again.returncode == 0 and "is up to date" in again.stdout
    with server_process(["--db", empty_database_url, "--port", "0"]) as server:
        address = server.address()
        web = server.wait_for(r"Web UI: (http://127\.0\.0\.1:\d+)/").group(1)
        with tracker.init(project="cli", name="r", server=address) as run:
            run.log({"x": 1.0})
        with urllib.request.urlopen(f"{web}/api/projects", timeout=10) as response:
            assert [p["name"] for p in json.load(response)] == ["cli"]  # the same server, over HTTP
        assert server.terminate() == 0
        assert "Stopped" in server.output


def test_default_database_is_sqlite_in_the_data_directory_and_upgrades_itself(tmp_path: Path) -> None:
    env = {"TRACKER_DATA_DIR": str(tmp_path / "data")}
    with server_process(["--port", "0"], env=env) as server:
        path = server.wait_for(r"Storing data in (\S+)").group(1)
        assert path == str(tmp_path / "data" / "tracker.db")
        address = server.address()
        with tracker.init(project="local", name="r", server=address) as run:
            run.log({"x": 2.0})
        with tracker.Api(server=address) as api:
            assert api.scalars(run.id, "x").values.tolist() == [2.0]
        assert server.terminate() == 0
    assert Path(path).is_file()


def test_database_passwords_never_appear_in_errors() -> None:
    url = "postgresql+psycopg://tracker:s3cret-pw@127.0.0.1:1/tracker"
    result = run_cli("db", "upgrade", "--db", url)
    assert result.returncode == 2
    assert "s3cret-pw" not in result.stdout + result.stderr
    assert "tracker:***@127.0.0.1:1/tracker" in result.stderr
    with server_process(["--db", url, "--port", "0"]) as server:
        assert server.proc.wait(timeout=60) == 2
        assert "s3cret-pw" not in server.output and "cannot connect to the database" in server.output


def test_runs_command_lists_a_project_with_hparams_and_final_metrics(address: str) -> None:
    with tracker.init(project="listing", name="first", hparams={"lr": 0.5}, server=address) as run:
        run.log({"val/acc": 0.25})
        run.log({"val/acc": 0.75})
    result = run_cli("runs", "--project", "listing", "--server", address, "--format", "csv")
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()
    assert header == "id,name,status,created (UTC),created by,lr,val/acc"
    assert row.startswith(f"{run.id},first,finished,") and row.endswith(",local,0.5,0.75")
    table = run_cli("runs", "--project", "listing", "--server", address)
    assert "first" in table.stdout and "0.75" in table.stdout
    missing = run_cli("runs", "--project", "nope", "--server", address)
    assert missing.returncode == 1 and "project 'nope' does not exist" in missing.stderr
