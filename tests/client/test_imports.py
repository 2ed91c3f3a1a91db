"""The client is light: importing it never pulls in the server or its dependencies."""

from __future__ import annotations

import json
import subprocess
import sys

SERVER_SIDE = (
    "sqlalchemy",
    "alembic",
    "psycopg",
    "psycopg2",
    "pydantic",
    "pydantic_settings",
    "tracker_server",
)

CHECK = """
import json, sys
import tracker_client
import tracker_client.histogram, tracker_client.batches, tracker_client.api, tracker_client.run
roots = sorted({name.split(".")[0] for name in sys.modules})
print(json.dumps(roots))
"""


def test_importing_the_client_imports_no_server_dependency() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    roots = set(json.loads(result.stdout))
    assert {"tracker_client", "grpc", "numpy", "google"} <= roots  # the check sees what was imported
    assert sorted(roots & set(SERVER_SIDE)) == []
