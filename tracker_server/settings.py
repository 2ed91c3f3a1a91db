"""Server settings: one typed object. Precedence: command-line flags, then TRACKER_* variables, then defaults.

Each field's description is its ``--help`` text; ``flag`` names its command-line option.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from tracker_client.config import data_dir
from tracker_server.store.engine import DEFAULT_CONNECT_TIMEOUT


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or name) is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'tracker.db'}"


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TRACKER_", extra="ignore")

    database_url: str | None = Field(
        None,
        description="Database URL: postgresql+psycopg://USER:PASSWORD@HOST:5432/DB for a team server, or "
        "sqlite:///PATH. Default: a SQLite file in your data directory (the path is printed at start).",
        json_schema_extra={
            "flag": "--db",
            "metavar": "URL",
            "env": "TRACKER_DATABASE_URL",
            "default": "a SQLite file in your data directory",
        },
    )
    host: str = Field(
        "127.0.0.1",
        description="Address to listen on. 127.0.0.1 serves this machine only; 0.0.0.0 every interface.",
        json_schema_extra={"flag": "--host", "metavar": "HOST", "env": "TRACKER_HOST"},
    )
    port: int = Field(
        6065,
        ge=0,
        le=65535,
        description="gRPC port; 0 picks a free one.",
        json_schema_extra={"flag": "--port", "metavar": "PORT", "env": "TRACKER_PORT"},
    )
    http_port: int | None = Field(
        None,
        ge=-1,
        le=65535,
        description="Port of the web UI and its JSON API (same host as gRPC); 0 picks a free one, -1 turns "
        "them off.",
        json_schema_extra={
            "flag": "--http-port",
            "metavar": "PORT",
            "env": "TRACKER_HTTP_PORT",
            "default": "6066, or a free one when --port is 0",
        },
    )
    db_pool_size: int = Field(
        8,
        ge=1,
        le=1000,
        description="Database connections kept open; also the number of threads doing database work.",
        json_schema_extra={"flag": "--db-pool-size", "metavar": "N", "env": "TRACKER_DB_POOL_SIZE"},
    )
    db_connect_timeout: int = Field(
        DEFAULT_CONNECT_TIMEOUT,
        ge=2,
        le=600,
        description="Seconds to wait for a new database connection (and for a health check) before the "
        "call fails with UNAVAILABLE, so an unreachable database fails calls fast instead of hanging them.",
        json_schema_extra={
            "flag": "--db-connect-timeout",
            "metavar": "SECONDS",
            "env": "TRACKER_DB_CONNECT_TIMEOUT",
        },
    )
    db_check_interval: float = Field(
        1.0,
        gt=0,
        le=3600,
        description="Seconds between database health checks (SELECT 1). While the database is unreachable, "
        "grpc.health.v1 reports NOT_SERVING and calls answer UNAVAILABLE; it reports SERVING again as soon "
        "as the database answers, without a restart.",
        json_schema_extra={
            "flag": "--db-check-interval",
            "metavar": "SECONDS",
            "env": "TRACKER_DB_CHECK_INTERVAL",
        },
    )
    shutdown_grace: float = Field(
        30.0,
        ge=0,
        description="Seconds that in-flight calls get to finish after SIGTERM or Ctrl-C.",
        json_schema_extra={"flag": "--shutdown-grace", "metavar": "SECONDS", "env": "TRACKER_SHUTDOWN_GRACE"},
    )
    tls_cert: Path | None = Field(
        None,
        description="PEM certificate (chain) to serve gRPC over TLS; needs --tls-key. Clients then connect "
        "with the CA that signed it (TRACKER_TLS_CA) or the system's CAs (server address https://HOST:PORT).",
        json_schema_extra={"flag": "--tls-cert", "metavar": "PATH", "env": "TRACKER_TLS_CERT"},
    )
    tls_key: Path | None = Field(
        None,
        description="PEM private key of --tls-cert.",
        json_schema_extra={"flag": "--tls-key", "metavar": "PATH", "env": "TRACKER_TLS_KEY"},
    )
    auth: Literal["token", "none"] | None = Field(
        None,
        description="How callers authenticate. token: every call needs an API token (TRACKER_TOKEN on the "
        "client; `tracker admin token create` makes one). none: every call acts as the local user, for one "
        "person on one machine, and is refused on any address but loopback.",
        json_schema_extra={
            "flag": "--auth",
            "metavar": "token|none",
            "env": "TRACKER_AUTH",
            "default": "token, or none when --host is a loopback address",
        },
    )
    log_level: str = Field(
        "INFO",
        description="Log level: DEBUG, INFO, WARNING or ERROR.",
        json_schema_extra={"flag": "--log-level", "metavar": "LEVEL", "env": "TRACKER_LOG_LEVEL"},
    )

    @model_validator(mode="after")
    def _tls_pair(self) -> ServerSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("--tls-cert and --tls-key go together: give both, or neither for plaintext")
        return self

    @model_validator(mode="after")
    def _no_open_server(self) -> ServerSettings:
        if self.auth == "none" and not is_loopback(self.host):
            raise ValueError(
                f"--auth none is refused on {self.host}: anyone who reaches that address could read and "
                "write every project. Serve with tokens instead (the default there): create an admin "
                "with `tracker admin user create NAME --admin`, a token with `tracker admin token create "
                "NAME`, and give it to clients as TRACKER_TOKEN; or listen on 127.0.0.1 only"
            )
        return self

    @property
    def resolved_auth(self) -> Literal["token", "none"]:
        """--auth as given, else token, except on a loopback address (a single user's machine)."""
        if self.auth is not None:
            return self.auth
        return "none" if is_loopback(self.host) else "token"

    @property
    def resolved_http_port(self) -> int | None:
        """The HTTP port to bind (0: any free one), or None when HTTP is off."""
        if self.http_port is None:
            return 0 if self.port == 0 else 6066
        return None if self.http_port < 0 else self.http_port

    def tls_files(self) -> tuple[Path, Path] | None:
        """(certificate, key) paths, or None without TLS."""
        return None if self.tls_cert is None or self.tls_key is None else (self.tls_cert, self.tls_key)

    def tls_credentials(self) -> tuple[bytes, bytes] | None:
        """(private key, certificate chain) read from the files, or None without TLS."""
        if self.tls_cert is None or self.tls_key is None:
            return None
        return self.tls_key.read_bytes(), self.tls_cert.read_bytes()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url()

    @property
    def uses_default_database(self) -> bool:
        return self.database_url is None

    @property
    def default_database_path(self) -> Path:
        return data_dir() / "tracker.db"
