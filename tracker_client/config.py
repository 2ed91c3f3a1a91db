"""Where the client's settings come from: explicit arguments first, then TRACKER_* variables."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Literal, cast

DEFAULT_SERVER = "127.0.0.1:6065"
DEFAULT_MAX_MEMORY = 256 * 1024 * 1024

Mode = Literal["online", "offline"]


def resolve_server(server: str | None) -> str:
    """The server address: the argument, else TRACKER_SERVER, else 127.0.0.1:6065."""
    address = server or os.environ.get("TRACKER_SERVER") or DEFAULT_SERVER
    for scheme in ("grpc://", "http://"):
        if address.startswith(scheme):
            address = address[len(scheme) :]
    return address.rstrip("/")


def resolve_project(project: str | None) -> str:
    """The project name: the argument, else TRACKER_PROJECT; one of them is required."""
    name = project or os.environ.get("TRACKER_PROJECT")
    if not name:
        raise ValueError(
            "No project given: pass project=... or set the TRACKER_PROJECT environment variable."
        )
    return name


def resolve_mode(mode: str | None) -> Mode:
    """ "online" or "offline": the argument, else TRACKER_MODE, else "online"."""
    chosen = (mode or os.environ.get("TRACKER_MODE") or "online").lower()
    if chosen not in ("online", "offline"):
        raise ValueError(f'mode must be "online" or "offline", got {chosen!r}')
    return cast(Mode, chosen)


def resolve_max_memory(max_memory: int | None) -> int:
    """Bytes of undelivered data a run keeps in memory: the argument, else TRACKER_MAX_MEMORY_MB
    (MiB), else 256 MiB. Beyond it, data waits in the run's spool file on disk."""
    if max_memory is not None:
        chosen = int(max_memory)
    elif value := os.environ.get("TRACKER_MAX_MEMORY_MB"):
        chosen = int(float(value) * 1024 * 1024)
    else:
        chosen = DEFAULT_MAX_MEMORY
    if chosen < 0:
        raise ValueError(f"max_memory must be >= 0 bytes, got {chosen}")
    return chosen


def resolve_token(token: str | None) -> str | None:
    """The API token: the argument, else TRACKER_TOKEN, else none."""
    return token or os.environ.get("TRACKER_TOKEN") or None


def data_dir() -> Path:
    """The user's data directory for Tracker: TRACKER_DATA_DIR, else the platform's convention."""
    override = os.environ.get("TRACKER_DATA_DIR")
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or home / ".local" / "share")
    return base / "tracker"
