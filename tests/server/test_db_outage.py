"""The database goes away and comes back while the server runs.

A real server on a throwaway PostgreSQL cluster (tests/pgcluster.py) that the tests stop, crash
and restart: calls answer UNAVAILABLE (never INTERNAL or UNKNOWN) and store nothing, grpc.health.v1
reports NOT_SERVING, and when the database returns the same server serves again by itself, holding
exactly the batches it acknowledged. Every wait is a bounded poll.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator

import grpc
import psycopg
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.pgcluster import PgCluster, started_cluster, wait_until
from tracker_client._proto import tracker_pb2 as pb
from tracker_client._proto import tracker_pb2_grpc as pb_grpc
from tracker_server.app import SERVICE_NAMES, ServerThread
from tracker_server.services.errors import status_for
from tracker_server.services.watchdog import DatabaseWatchdog
from tracker_server.store.engine import Database, is_outage
from tracker_server.store.migrate import upgrade
from tracker_server.store.reads import _fetch_binary, chunk_points

TIMEOUT = 10.0
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
DB_UNAVAILABLE = "the database is unavailable; retry later"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PgCluster]:
    """One throwaway cluster for the module (initdb once); each test has a database of its own."""
    with started_cluster() as started:
        template = Database(started.create_database("template"), pool_size=1)
        upgrade(template)
        template.dispose()
        yield started


@pytest.fixture
def pg_cluster(cluster: PgCluster) -> PgCluster:
    """The module's cluster, running (a test that failed half-way may have left it stopped)."""
    if not cluster.accepting():
        cluster.start()
    return cluster


_databases = itertools.count()


@pytest.fixture
def db(pg_cluster: PgCluster) -> Iterator[Database]:
    url = pg_cluster.create_database(f"tracker_{next(_databases)}", template="template")
    database = Database(url, pool_size=4, connect_timeout=2)
    yield database
    database.dispose()


class Client:
    """Raw stubs on one channel, plus the health checks and reads the tests assert on."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)
        self.runs = pb_grpc.RunServiceStub(self.channel)
        self.ingest = pb_grpc.IngestServiceStub(self.channel)
        self.reads = pb_grpc.ReadServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)

    def statuses(self) -> set[int]:
        """The distinct health statuses of the server ("") and of every service."""
        return {
            self.health.Check(health_pb2.HealthCheckRequest(service=name), timeout=TIMEOUT).status
            for name in ("", *SERVICE_NAMES)
        }

    def new_run(self) -> str:
        return str(self.runs.CreateRun(pb.CreateRunRequest(project="p", name="r"), timeout=TIMEOUT).run.id)

    def points(self, run_id: str, tag: str = "x") -> list[tuple[int, float]]:
        pages = self.reads.ReadScalars(pb.ReadScalarsRequest(run_id=run_id, tag=tag), timeout=TIMEOUT)
        return [(s, v) for p in pages for s, v in zip(p.steps, p.values, strict=True)]

    def cursor(self, run_id: str, writer: str = "w") -> int:
        request = pb.GetCursorRequest(run_id=run_id, writer_id=writer)
        return int(self.ingest.GetCursor(request, timeout=TIMEOUT).last_seq)

    def close(self) -> None:
        self.channel.close()


def batch(
    run_id: str, seq: int, steps: list[int] | range, writer: str = "w", tag: str = "x"
) -> pb.WriteBatch:
    """Values are step / 2, so every stored point names the batch it came from."""
    return pb.WriteBatch(
        run_id=run_id,
        writer_id=writer,
        seq=seq,
        scalars=[
            pb.ScalarColumn(
                tag=tag, steps=steps, wall_times=[1000.0 + s for s in steps], values=[s / 2 for s in steps]
            )
        ],
    )


def failure(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """The status code and message the call fails with (a server stream is read to its end)."""
    with pytest.raises(grpc.RpcError) as caught:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    return caught.value.code(), caught.value.details() or ""


def test_health_follows_the_database_and_the_server_recovers_without_restart(
    pg_cluster: PgCluster, db: Database
) -> None:
    with ServerThread(db, check_interval=0.1) as server:
        client = Client(server.address)
        assert client.statuses() == {SERVING}
        run = client.new_run()
        assert client.ingest.WriteOne(batch(run, 1, [0, 1]), timeout=TIMEOUT).duplicate is False

        pg_cluster.stop("fast")
        wait_until(lambda: client.statuses() == {NOT_SERVING}, 10, "health to report NOT_SERVING")
        outage: dict[str, Callable[[], object]] = {
            "WriteOne": lambda: client.ingest.WriteOne(batch(run, 2, [2, 3]), timeout=TIMEOUT),
            "Write": lambda: client.ingest.Write(iter([batch(run, 2, [2, 3])]), timeout=TIMEOUT),
            "GetCursor": lambda: client.cursor(run),
            "ListTags": lambda: client.reads.ListTags(pb.ListTagsRequest(run_id=run), timeout=TIMEOUT),
            "ReadScalars": lambda: client.points(run),
            "CreateRun": lambda: client.runs.CreateRun(
                pb.CreateRunRequest(project="p", name="new"), timeout=TIMEOUT
            ),
        }
        started = time.monotonic()
        assert {name: failure(call) for name, call in outage.items()} == dict.fromkeys(
            outage, (UNAVAILABLE, DB_UNAVAILABLE)
        )
        assert time.monotonic() - started < 5, "calls must fail fast while the database is down"
        assert client.statuses() == {NOT_SERVING}

        pg_cluster.start()
        wait_until(lambda: client.statuses() == {SERVING}, 10, "health to report SERVING again")
        # The batch refused during the outage is applied now, once; the writer goes on.
        assert client.ingest.WriteOne(batch(run, 2, [2, 3]), timeout=TIMEOUT).duplicate is False
        acks = list(client.ingest.Write(iter([batch(run, 2, [2, 3]), batch(run, 3, [4])]), timeout=TIMEOUT))
        assert [(a.seq, a.duplicate) for a in acks] == [(2, True), (3, False)]
        assert client.points(run) == [(s, s / 2) for s in range(5)]
        assert client.cursor(run) == 3
        runs = client.runs.ListRuns(pb.ListRunsRequest(project="p"), timeout=TIMEOUT).runs
        assert [r.name for r in runs] == ["r"]  # the CreateRun refused in the outage created nothing
        client.close()


def test_a_call_that_finds_the_database_gone_reports_not_serving_at_once(
    pg_cluster: PgCluster, db: Database
) -> None:
    # The watchdog checks once at start and then not for an hour: only the call can tell health.
    with ServerThread(db, check_interval=3600) as server:
        client = Client(server.address)
        run = client.new_run()
        client.ingest.WriteOne(batch(run, 1, [0]), timeout=TIMEOUT)
        pg_cluster.stop("immediate")
        assert client.statuses() == {SERVING}
        assert failure(lambda: client.ingest.WriteOne(batch(run, 2, [1]), timeout=TIMEOUT)) == (
            UNAVAILABLE,
            DB_UNAVAILABLE,
        )
        assert client.statuses() == {NOT_SERVING}  # before the call was answered

        # Health is advice, not a gate: calls reach the database again as soon as it is back.
        pg_cluster.start()
        assert client.ingest.WriteOne(batch(run, 2, [1]), timeout=TIMEOUT).duplicate is False
        assert client.points(run) == [(0, 0.0), (1, 0.5)]
        client.close()
        started = time.monotonic()
        server.stop(grace=5)
        assert time.monotonic() - started < 5


def test_writers_racing_an_outage_lose_and_duplicate_nothing(pg_cluster: PgCluster, db: Database) -> None:
    """Three writers stream batches while the database is stopped, then crashed. Every call is
    acknowledged or UNAVAILABLE; a writer resends an UNAVAILABLE batch until it is acknowledged
    (a commit whose answer was lost comes back as a duplicate). The database ends up holding
    every batch exactly once, in order."""
    writers, batches, size = ("a", "b", "c"), 30, 2000
    with ServerThread(db, check_interval=0.1) as server:
        client = Client(server.address)
        run = client.new_run()
        acked = dict.fromkeys(writers, 0)
        codes: dict[grpc.StatusCode, int] = {}
        lock = threading.Lock()

        def refused() -> int:
            with lock:
                return codes.get(UNAVAILABLE, 0)

        def write(writer: str) -> None:
            for seq in range(1, batches + 1):
                message = batch(run, seq, range(seq * size, (seq + 1) * size), writer=writer, tag=writer)
                deadline = time.monotonic() + 60
                while True:
                    try:
                        client.ingest.WriteOne(message, timeout=TIMEOUT)
                        break
                    except grpc.RpcError as error:
                        with lock:
                            codes[error.code()] = codes.get(error.code(), 0) + 1
                        if error.code() != UNAVAILABLE or time.monotonic() > deadline:
                            return
                        time.sleep(0.01)
                with lock:
                    acked[writer] = seq

        threads = [threading.Thread(target=write, args=(w,)) for w in writers]
        for t in threads:
            t.start()
        for mode, after in (("fast", 5), ("immediate", 15)):
            wait_until(lambda a=after: min(acked.values()) >= a, 30, f"{after} batches per writer")  # type: ignore[misc]
            before = refused()
            pg_cluster.stop(mode)  # type: ignore[arg-type]
            wait_until(lambda b=before: refused() > b, 10, f"a call refused in the {mode} stop")  # type: ignore[misc]
            wait_until(lambda: client.statuses() == {NOT_SERVING}, 10, "NOT_SERVING")
            pg_cluster.start()
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads)
        assert set(codes) == {UNAVAILABLE}, codes
        assert acked == dict.fromkeys(writers, batches)
        wait_until(lambda: client.statuses() == {SERVING}, 10, "SERVING")
        for writer in writers:
            expected = [(s, s / 2) for s in range(size, (batches + 1) * size)]
            assert client.points(run, writer) == expected, writer
            assert client.cursor(run, writer) == batches
        client.close()


def test_a_connection_lost_under_a_binary_read_is_a_database_outage(
    pg_cluster: PgCluster, db: Database
) -> None:
    """Chunks are read with psycopg's binary cursor, outside SQLAlchemy's error handling: its errors
    must still arrive as SQLAlchemy errors (UNAVAILABLE), never as a raw driver error (INTERNAL)."""
    admin = psycopg.connect(pg_cluster.dsn(), autocommit=True)
    with admin, pytest.raises(OperationalError) as caught, db.read() as conn:
        backend = conn.scalar(text("SELECT pg_backend_pid()"))
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
        chunk_points(conn, [1])
    assert caught.value.connection_invalidated and is_outage(caught.value)
    assert status_for(caught.value, "m") == (UNAVAILABLE, DB_UNAVAILABLE)
    with db.read() as conn:  # the pool replaced the lost connection
        assert chunk_points(conn, [1]) == {}

    # A statement timeout is a failed transaction, not an outage: still UNAVAILABLE, not INTERNAL.
    with pytest.raises(OperationalError) as caught, db.read() as conn:
        conn.exec_driver_sql("SET LOCAL statement_timeout = 50")
        _fetch_binary(conn, select(func.pg_sleep(5)))
    assert not caught.value.connection_invalidated and not is_outage(caught.value)
    assert status_for(caught.value, "m") == (UNAVAILABLE, DB_UNAVAILABLE)


def test_a_database_that_accepts_but_never_answers_fails_calls_after_the_connect_timeout() -> None:
    """A host that takes the TCP connection and then says nothing (a hung or blackholed server)
    fails a call after connect_timeout, not after psycopg's default of 130 s."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)  # connections complete in the backlog and are never answered
        port = silent.getsockname()[1]
        db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/tracker", connect_timeout=2)
        started = time.monotonic()
        with pytest.raises(OperationalError) as caught, db.read():
            pass
        elapsed = time.monotonic() - started
        db.dispose()
    assert 1.5 < elapsed < 6, elapsed
    assert is_outage(caught.value)
    assert status_for(caught.value, "m") == (UNAVAILABLE, DB_UNAVAILABLE)


class _HangingDatabase:
    """Stands in for Database: ``ping`` blocks while ``hang`` is set, fails while ``down`` is."""

    def __init__(self) -> None:
        self.hang = threading.Event()
        self.release = threading.Event()
        self.down = False
        self.pings = 0

    def ping(self) -> None:
        self.pings += 1
        if self.hang.is_set():
            self.release.wait(timeout=30)
        if self.down:
            raise OSError("connection refused")


def test_the_watchdog_reports_a_hung_database_and_never_stacks_checks() -> None:
    async def scenario() -> None:
        fake = _HangingDatabase()
        servicer = health.aio.HealthServicer()
        watchdog = DatabaseWatchdog(fake, servicer, SERVICE_NAMES, interval=0.02, timeout=0.2)  # type: ignore[arg-type]

        async def statuses() -> set[int]:
            return {servicer._server_status[name] for name in ("", *SERVICE_NAMES)}

        async def until(status: int, what: str) -> None:
            deadline = time.monotonic() + 10
            while await statuses() != {status}:
                assert time.monotonic() < deadline, f"timed out waiting for {what}"
                await asyncio.sleep(0.01)

        await watchdog.start()
        assert await statuses() == {SERVING}
        fake.hang.set()
        await until(NOT_SERVING, "a hung check to count as unreachable")
        pings = fake.pings
        await asyncio.sleep(0.3)  # many intervals: no new check while the hung one is pending
        assert fake.pings == pings
        fake.hang.clear()
        fake.release.set()
        await until(SERVING, "the answer to bring SERVING back")
        fake.down = True
        await until(NOT_SERVING, "a failed check")
        fake.down = False
        await until(SERVING, "SERVING again")
        await watchdog.stop()
        pings = fake.pings
        await asyncio.sleep(0.1)
        assert fake.pings == pings  # stopped

        # After graceful shutdown health stays NOT_SERVING whatever the database does.
        await watchdog.start()
        await servicer.enter_graceful_shutdown()
        await watchdog.stop()
        assert await statuses() == {NOT_SERVING}

    asyncio.run(scenario())
