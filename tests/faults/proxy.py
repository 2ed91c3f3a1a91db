"""A small TCP proxy for fault tests: forwards bytes between a client and a server and, on command,
misbehaves the way networks do.

It runs an asyncio loop on a thread of its own; the test thread drives it through thread-safe
methods. Two directions: UP (client -> server) and DOWN (server -> client). Faults:

- ``reset()``: every open connection is closed abruptly on both sides (SO_LINGER 0, so the peers
  get a TCP RST, not a FIN); new connections are accepted as usual afterwards.
- ``pause(*directions)`` / ``resume(*directions)``: stop forwarding (the chunk in hand is held
  and nothing more is read, so TCP pushes back on the sender), then go on.
- ``slice_on(...)`` / ``slice_off()``: forward in pieces of 1-7 bytes with small random delays.
- ``after(nbytes, action, direction)``: run one of those the moment ``nbytes`` more bytes have
  been forwarded in ``direction``, so a fault lands in the middle of a message rather than
  between two. The returned threading.Event is set once it has fired.

Everything it did is counted (``stats()``), so a test can prove its fault really happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any, Literal

Direction = Literal["up", "down"]
UP: Direction = "up"
DOWN: Direction = "down"
BOTH: tuple[Direction, Direction] = (UP, DOWN)
READ_SIZE = 64 * 1024
CALL_TIMEOUT = 10.0


@dataclasses.dataclass
class ProxyStats:
    accepted: int = 0  # client connections accepted
    resets: int = 0  # connections closed with RST (each counts once, both sides)
    forwarded: dict[str, int] = dataclasses.field(default_factory=lambda: {UP: 0, DOWN: 0})  # bytes
    held: dict[str, int] = dataclasses.field(default_factory=lambda: {UP: 0, DOWN: 0})  # chunks paused
    sliced: dict[str, int] = dataclasses.field(default_factory=lambda: {UP: 0, DOWN: 0})  # sliced writes
    largest_slice: int = 0


@dataclasses.dataclass
class _Trigger:
    remaining: int
    action: Callable[[], Any]
    fired: threading.Event


class _Connection:
    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.writers = (client, server)
        self.tasks: list[asyncio.Task[None]] = []
        self.closed = False


class Proxy:
    """Listens on 127.0.0.1 (``address``) and forwards every connection to ``target``."""

    def __init__(self, target: str, *, seed: int = 0) -> None:
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._rng = random.Random(seed)
        self._stats = ProxyStats()
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._triggers: dict[str, list[_Trigger]] = {UP: [], DOWN: []}
        self._slicing: tuple[int, int, float] | None = None  # smallest, largest piece; longest delay
        self._loop = asyncio.new_event_loop()
        self._flowing: dict[str, asyncio.Event] = {}
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._server = self._run_coroutine(self._start())
        port = self._server.sockets[0].getsockname()[1]
        self.address = f"127.0.0.1:{port}"

    # -- the test thread's side ---------------------------------------------------------------------

    def stats(self) -> ProxyStats:
        """A snapshot of the counters."""
        return self._call(
            lambda: dataclasses.replace(
                self._stats,
                forwarded=dict(self._stats.forwarded),
                held=dict(self._stats.held),
                sliced=dict(self._stats.sliced),
            )
        )

    def open_connections(self) -> int:
        return self._call(lambda: len(self._connections))

    def reset(self) -> int:
        """Close every open connection with RST on both sides now; return how many there were."""
        return self._call(self._reset)

    def pause(self, *directions: Direction) -> None:
        self._call(self._pause, directions or BOTH)

    def resume(self, *directions: Direction) -> None:
        self._call(self._resume, directions or BOTH)

    def slice_on(self, smallest: int = 1, largest: int = 7, max_delay: float = 0.001) -> None:
        self._call(self._slice_on, smallest, largest, max_delay)

    def slice_off(self) -> None:
        self._call(self._slice_off)

    def after(self, nbytes: int, action: Callable[[], Any], direction: Direction = UP) -> threading.Event:
        """Arm ``action`` (``reset_now``, ``pause_now(...)``, ``slice_now(...)`` or any callable,
        run on the proxy's loop) to run once ``nbytes`` (>= 1) more bytes went ``direction``: the
        write that reaches the count is cut there, so the fault lands inside a message."""
        assert nbytes >= 1
        trigger = _Trigger(nbytes, action, threading.Event())
        self._call(self._triggers[direction].append, trigger)
        return trigger.fired

    # Actions for ``after``: they run on the proxy's loop.
    def reset_now(self) -> int:
        return self._reset()

    def pause_now(self, *directions: Direction) -> Callable[[], None]:
        return lambda: self._pause(directions or BOTH)

    def slice_now(self, smallest: int = 1, largest: int = 7, max_delay: float = 0.001) -> Callable[[], None]:
        return lambda: self._slice_on(smallest, largest, max_delay)

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        self._run_coroutine(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(CALL_TIMEOUT)
        self._loop.close()

    def __enter__(self) -> Proxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run_coroutine(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(CALL_TIMEOUT)

    def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        async def call() -> Any:
            return fn(*args)

        return self._run_coroutine(call())

    # -- the loop's side ------------------------------------------------------------------------------

    async def _start(self) -> asyncio.Server:
        self._flowing = {UP: asyncio.Event(), DOWN: asyncio.Event()}
        for event in self._flowing.values():
            event.set()
        return await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for direction in BOTH:
            self._flowing[direction].set()
        for connection in list(self._connections):
            self._abort(connection)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), CALL_TIMEOUT / 2)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self._stats.accepted += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        connection = _Connection(client_writer, server_writer)
        self._connections.add(connection)
        connection.tasks = [
            asyncio.create_task(self._pipe(connection, client_reader, server_writer, UP)),
            asyncio.create_task(self._pipe(connection, server_reader, client_writer, DOWN)),
        ]
        for task in connection.tasks:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        connection: _Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        direction: Direction,
    ) -> None:
        stats = self._stats
        try:
            while not connection.closed:
                data = await reader.read(READ_SIZE)
                if not data:
                    break
                while data:
                    if not self._flowing[direction].is_set():
                        stats.held[direction] += 1
                        await self._flowing[direction].wait()
                    if connection.closed:
                        return
                    size = len(data)
                    triggers = self._triggers[direction]
                    if triggers:
                        size = min(size, *(t.remaining for t in triggers))
                    if self._slicing is not None:
                        smallest, largest, _ = self._slicing
                        size = min(size, self._rng.randint(smallest, largest))
                        stats.sliced[direction] += 1
                        stats.largest_slice = max(stats.largest_slice, size)
                    writer.write(data[:size])
                    data = data[size:]
                    stats.forwarded[direction] += size
                    await writer.drain()
                    self._fire(direction, size)
                    if self._slicing is not None:
                        await asyncio.sleep(self._rng.uniform(0, self._slicing[2]))
        except (ConnectionError, OSError):
            pass
        finally:
            if not connection.closed:  # one side ended or failed: close both, gracefully
                connection.closed = True
                self._connections.discard(connection)
                for other in connection.writers:
                    other.close()

    def _fire(self, direction: Direction, size: int) -> None:
        due = []
        for trigger in self._triggers[direction]:
            trigger.remaining -= size
            if trigger.remaining <= 0:
                due.append(trigger)
        for trigger in due:
            self._triggers[direction].remove(trigger)
            trigger.action()
            trigger.fired.set()

    def _reset(self) -> int:
        connections = list(self._connections)
        for connection in connections:
            self._abort(connection)
        self._stats.resets += len(connections)
        return len(connections)

    def _abort(self, connection: _Connection) -> None:
        connection.closed = True
        self._connections.discard(connection)
        for writer in connection.writers:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        for task in connection.tasks:
            task.cancel()

    def _pause(self, directions: tuple[Direction, ...]) -> None:
        for direction in directions:
            self._flowing[direction].clear()

    def _resume(self, directions: tuple[Direction, ...]) -> None:
        for direction in directions:
            self._flowing[direction].set()

    def _slice_on(self, smallest: int, largest: int, max_delay: float) -> None:
        self._slicing = (smallest, largest, max_delay)

    def _slice_off(self) -> None:
        self._slicing = None
