"""Server bootstrap: the one function that builds the gRPC server, and the graceful run loop.

gRPC runs on asyncio, so an open ingest stream from an idle training job costs no thread; database
work runs on a thread pool as large as the connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from tracker_client._proto import tracker_pb2 as pb
from tracker_server.domain import limits
from tracker_server.domain.project_index import IndexCache
from tracker_server.domain.users import active_token_count, local_principal
from tracker_server.http.app import make_app
from tracker_server.http.serve import HttpServer
from tracker_server.services.admin import AdminService
from tracker_server.services.auth import Authenticator, AuthInterceptor, AuthMode, Gate
from tracker_server.services.base import Blocking, register
from tracker_server.services.compare import CompareService
from tracker_server.services.errors import ErrorInterceptor
from tracker_server.services.ingest import Draining, IngestService
from tracker_server.services.reads import ReadService
from tracker_server.services.runs import RunService
from tracker_server.services.watchdog import DatabaseWatchdog
from tracker_server.settings import ServerSettings
from tracker_server.store.engine import DEFAULT_CONNECT_TIMEOUT, Database, redact
from tracker_server.store.migrate import check_current, upgrade

log = logging.getLogger("tracker.server")

SERVICES = ("RunService", "IngestService", "ReadService", "CompareService", "AdminService")
SERVICE_NAMES = tuple(pb.DESCRIPTOR.services_by_name[s].full_name for s in SERVICES)
DEFAULT_CHECK_INTERVAL: float = ServerSettings.model_fields["db_check_interval"].default


def open_database(
    url: str,
    *,
    pool_size: int = 8,
    connect_timeout: int = DEFAULT_CONNECT_TIMEOUT,
    announce: Callable[[str], None] = log.info,
) -> Database:
    """Open the database and make sure its schema is current.

    SQLite (the embedded, single-user default) is upgraded in place. PostgreSQL is shared by a
    team and upgraded deliberately: an out-of-date schema stops the server with the command to run
    (``SchemaOutOfDateError``).
    """
    db = Database(url, pool_size=pool_size, connect_timeout=connect_timeout)
    try:
        if db.dialect == "sqlite":
            before, after = upgrade(db)
            if before != after:
                announce(f"Database schema upgraded from {before or 'empty'} to {after}")
        else:
            check_current(db)
    except BaseException:
        db.dispose()
        raise
    return db


@dataclass
class RunningServer:
    server: grpc.aio.Server
    port: int
    draining: Draining
    health: health.aio.HealthServicer
    blocking: Blocking
    db: Database
    watchdog: DatabaseWatchdog
    http: HttpServer | None = None

    @property
    def http_port(self) -> int | None:
        return None if self.http is None else self.http.port

    async def stop(self, grace: float) -> None:
        """Refuse new calls, let in-flight batches commit and ack (up to ``grace`` seconds), then
        wait for every database call already started, so nothing is cut half-way."""
        await self.watchdog.stop()
        if self.http is not None:
            await self.http.stop()
        self.draining.start()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await asyncio.get_running_loop().run_in_executor(None, self.blocking.shutdown)


async def start_server(
    db: Database,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    check_interval: float = DEFAULT_CHECK_INTERVAL,
    tls: tuple[bytes, bytes] | None = None,
    auth: AuthMode = "none",
    http_port: int | None = None,
    http_tls: tuple[Path, Path] | None = None,
) -> RunningServer:
    """Build and start the gRPC server: our services, health kept in step with the database by a
    watchdog checking it every ``check_interval`` seconds, reflection, the error interceptor and
    authentication (``auth`` "token": every call needs an API token; "none": every call is the
    local user's). With ``tls`` (private key, certificate chain, PEM) it serves only over TLS.
    With ``http_port`` it also serves the JSON API and web UI over HTTP (HTTPS with ``http_tls``,
    the certificate and key files) on the same host and event loop."""
    health_servicer = health.aio.HealthServicer()
    watchdog = DatabaseWatchdog(
        db, health_servicer, SERVICE_NAMES, interval=check_interval, timeout=db.connect_timeout
    )
    blocking = Blocking(workers=db.pool_size)
    local = await blocking(local_principal, db) if auth == "none" else None
    tokens = await blocking(active_token_count, db)
    if auth == "token" and tokens == 0:
        log.warning(
            "Authentication is on and no API token is active yet: create a user and a token with "
            "`tracker admin user create NAME --admin` and `tracker admin token create NAME`"
        )
    if auth == "none" and tokens > 0:
        log.warning(
            "Authentication is off although %d API tokens are active: every call acts as the local "
            "admin. If anyone reaches this server through a proxy, restart it with --auth token",
            tokens,
        )
    gate = Gate(db, blocking)
    authenticator = Authenticator(db, blocking, auth, local)
    server = grpc.aio.server(
        # The error interceptor is the outer one, so authentication failures get their status too.
        interceptors=[
            ErrorInterceptor(on_outage=watchdog.report_outage),
            AuthInterceptor(authenticator),
        ],
        options=[
            ("grpc.max_receive_message_length", limits.MAX_MESSAGE_BYTES),
            ("grpc.max_send_message_length", limits.MAX_MESSAGE_BYTES),
            ("grpc.so_reuseport", 0),
        ],
    )
    draining = Draining()
    register(server, "RunService", RunService(db, blocking), gate)
    register(
        server,
        "IngestService",
        IngestService(db, blocking, draining),
        gate,
        {"Write": (pb.WriteBatchBytes, pb.WriteAck), "WriteOne": (pb.WriteBatchBytes, pb.WriteAck)},
    )
    register(
        server,
        "ReadService",
        ReadService(db, blocking),
        gate,
        {
            "ReadScalars": (pb.ReadScalarsRequest, pb.ScalarPageBytes),
            "ReadScalarsMany": (pb.ReadScalarsManyRequest, pb.SeriesPageBytes),
        },
    )
    cache = IndexCache()
    register(server, "CompareService", CompareService(db, blocking, cache), gate)
    register(server, "AdminService", AdminService(db, blocking), gate)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, reflection.SERVICE_NAME, health.SERVICE_NAME), server
    )
    address = f"{host}:{port}"
    bound = (
        server.add_secure_port(address, grpc.ssl_server_credentials([tls]))
        if tls is not None
        else server.add_insecure_port(address)
    )
    if bound == 0:
        raise OSError(f"cannot listen on {host}:{port} (is another server using the port?)")
    http = None
    if http_port is not None:
        http = HttpServer(make_app(db, blocking, cache, authenticator, gate), host, http_port, http_tls)
    await server.start()
    if http is not None:
        await http.start()
    await watchdog.start()
    log.info(
        "Serving gRPC on %s:%d, database %s, authentication %s",
        host,
        bound,
        redact(db.url),
        "by API token" if auth == "token" else "off (every call is the local user's)",
    )
    return RunningServer(server, bound, draining, health_servicer, blocking, db, watchdog, http)


async def serve(
    db: Database,
    *,
    host: str,
    port: int,
    grace: float,
    ready: Callable[[RunningServer], None] | None = None,
    check_interval: float = DEFAULT_CHECK_INTERVAL,
    tls: tuple[bytes, bytes] | None = None,
    auth: AuthMode = "none",
    http_port: int | None = None,
    http_tls: tuple[Path, Path] | None = None,
) -> None:
    """Run until SIGTERM or SIGINT, then stop gracefully."""
    running = await start_server(
        db,
        host=host,
        port=port,
        check_interval=check_interval,
        tls=tls,
        auth=auth,
        http_port=http_port,
        http_tls=http_tls,
    )
    if ready is not None:
        ready(running)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    log.info("Shutting down: finishing in-flight batches (up to %gs)", grace)
    await running.stop(grace)
    log.info("Stopped")


class ServerThread:
    """A server on a background thread with its own event loop: for the demo, tests and benchmarks."""

    def __init__(
        self,
        db: Database,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        check_interval: float = DEFAULT_CHECK_INTERVAL,
        auth: AuthMode = "none",
        http_port: int | None = None,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._running: RunningServer | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._main,
            args=(db, host, port, check_interval, auth, http_port),
            name="tracker-server",
            daemon=True,
        )
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        assert self._running is not None
        self.port: int = self._running.port
        self.address: str = f"{host}:{self.port}"
        self.http_port: int | None = self._running.http_port
        self.url: str | None = None if self.http_port is None else f"http://{host}:{self.http_port}"

    def _main(
        self, db: Database, host: str, port: int, check_interval: float, auth: AuthMode, http_port: int | None
    ) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._running = self._loop.run_until_complete(
                start_server(
                    db, host=host, port=port, check_interval=check_interval, auth=auth, http_port=http_port
                )
            )
        except BaseException as exc:
            self._error = exc
            return
        finally:
            self._started.set()
        self._loop.run_forever()

    def stop(self, grace: float = 5.0) -> None:
        if self._running is None or not self._thread.is_alive():
            return
        future = asyncio.run_coroutine_threadsafe(self._running.stop(grace), self._loop)
        future.result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        with contextlib.suppress(RuntimeError):
            self._loop.close()

    def __enter__(self) -> ServerThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
