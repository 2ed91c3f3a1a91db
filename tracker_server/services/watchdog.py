"""The database watchdog: grpc.health.v1 says NOT_SERVING while the database is unreachable.

Every ``interval`` seconds it runs ``SELECT 1`` on a connection of its own, on a thread of its own
(a database that hangs holds that thread, never the event loop or the pool's), and waits at most
``timeout`` seconds for it. The server's status ("") and every service's follow the result. A call
that fails because the database is unreachable reports it at once (``report_outage``), so health
turns NOT_SERVING without waiting for the next check; the next successful check turns it back to
SERVING. Nothing restarts: the pool replaces dead connections as the database returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence

from grpc_health.v1 import health, health_pb2

from tracker_server.store.engine import Database

log = logging.getLogger("tracker.server")

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class DatabaseWatchdog:
    def __init__(
        self,
        db: Database,
        health_servicer: health.aio.HealthServicer,
        services: Sequence[str],
        *,
        interval: float,
        timeout: float,
    ) -> None:
        self._db = db
        self._health = health_servicer
        self._services = ("", *services)
        self.interval = interval
        self.timeout = timeout
        self.serving: bool | None = None  # None until the first check
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._pending: asyncio.Future[None] | None = None  # the check still running, if any

    async def start(self) -> None:
        """Check once (so health is right from the first call), then keep checking."""
        await self.check()
        self._task = asyncio.create_task(self._loop(), name="tracker-db-watchdog")

    async def stop(self) -> None:
        """Stop checking; a check stuck on a hung database is left to its (daemon) thread."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def report_outage(self, exc: BaseException) -> None:
        """A call found the database unreachable: NOT_SERVING now, and check again right away."""
        if self.serving is not False:
            await self._set(False, f"{type(exc).__name__} during a call")
            self._wake.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.interval)
            self._wake.clear()
            await self.check()

    async def check(self) -> bool:
        """Run one check now and update health; True when the database answered."""
        if self._pending is not None and not self._pending.done():
            # The previous check is still waiting on the database: it is not answering.
            await self._set(False, f"no answer within {self.timeout:g}s")
            return False
        self._pending = self._in_thread()
        try:
            await asyncio.wait_for(asyncio.shield(self._pending), self.timeout)
        except TimeoutError:
            await self._set(False, f"no answer within {self.timeout:g}s")
            return False
        except Exception as exc:
            await self._set(False, _describe(exc))
            return False
        await self._set(True, "")
        return True

    def _in_thread(self) -> asyncio.Future[None]:
        """``db.ping()`` on a new daemon thread; the future completes on this loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        future.add_done_callback(_consume)

        def settle(error: BaseException | None) -> None:
            if future.done():
                return
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

        def ping() -> None:
            error: BaseException | None = None
            try:
                self._db.ping()
            except Exception as exc:
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop closed while the check hung
                loop.call_soon_threadsafe(settle, error)

        threading.Thread(target=ping, name="tracker-db-check", daemon=True).start()
        return future

    async def _set(self, reachable: bool, reason: str) -> None:
        if reachable == self.serving:
            return
        previous, self.serving = self.serving, reachable
        status = SERVING if reachable else NOT_SERVING
        for name in self._services:
            await self._health.set(name, status)
        if reachable and previous is False:
            log.warning("The database is reachable again: serving")
        elif not reachable:
            log.warning(
                "The database is unreachable (%s): health NOT_SERVING, calls answer UNAVAILABLE", reason
            )


def _consume(future: asyncio.Future[None]) -> None:
    """Mark a check's exception as retrieved (a check abandoned after its timeout still fails)."""
    if not future.cancelled():
        future.exception()


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first_line = str(orig).strip().splitlines()[0] if str(orig).strip() else ""
    return f"{type(orig).__name__}: {first_line}" if first_line else type(orig).__name__
