"""Fault test (c): the PostgreSQL cluster under a running `tracker server` is restarted mid-stream
(a fast stop, and a crash: an immediate stop); nothing is lost and the server needs no restart.

The cluster is the test's own (tests/pgcluster.py, never the shared server); the server is one
`tracker server` child process on it; the training loop is this test's main thread, logging
75,000 distinct points (5 tags) at a training pace with the real client. A restarter thread
picks the moment from a seeded random generator (TRACKER_FAULT_SEED overrides the seed): once the
client has had a random number of points acknowledged, after a random delay of up to 30 ms, while
more points are logged than acknowledged. It stops the cluster, then proves the outage, each wait
a bounded poll: grpc.health.v1 turns NOT_SERVING (the server and every service), the client's
stream breaks and its resend is refused too (two reconnects), the training loop keeps logging
(never blocked, never raising), and nothing is acknowledged while the database is down (so points
wait unacknowledged). Then it starts the cluster again: health turns SERVING and acknowledgements
resume, from the same server process. The server runs with --db-check-interval 0.1 and
--db-connect-timeout 2, so health follows the database within a fraction of a second.

Afterwards the database holds every point exactly once, bit for bit, the run is finished, the
server never exited (one process, one start), and it still stops gracefully.
"""

from __future__ import annotations

import dataclasses
import os
import random
import threading
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

import tracker_client as tracker
from tests.faults.workload import WAIT, Background, Workload, wait_until
from tests.pgcluster import PgCluster, StopMode
from tests.server.serverproc import ServerProcess, free_port
from tracker_server.app import SERVICE_NAMES
from tracker_server.store.engine import Database
from tracker_server.store.migrate import upgrade

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SEED = int(os.environ.get("TRACKER_FAULT_SEED", "20250612"))
TAGS, STEPS = 5, 15_000  # 75,000 points
ROUND_STEPS = 500  # 2,500 points per round of "training"
ROUND_PAUSE = 0.04  # the "training" between two rounds: ~1.2 s of logging in all
# Only on a very slow machine: the last HELD_ROUNDS wait for the client to see the outage, the last
# FINAL_ROUNDS for the restart to be over, so the session always spans the whole outage.
HELD_ROUNDS, FINAL_ROUNDS = 10, 2
DURING_OUTAGE = 2 * ROUND_STEPS * TAGS  # points the loop must log while the database is down
CHECK_INTERVAL = 0.1  # the server's database health check (--db-check-interval)
HEALTH_WAIT = 15.0  # for health to follow the database (connect timeout 2 s + check interval)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclasses.dataclass
class Outage:
    mode: str
    threshold: int  # acknowledged points that triggered the stop
    logged_at_stop: int  # points logged when the stop was sent ...
    acked_at_stop: int  # ... and acknowledged by then
    reconnects_at_stop: int
    acked_down: int = 0  # acknowledged once the client saw the outage (frozen from then on)
    reconnects_down: int = 0  # reconnects by the start: the first stream broke, a resend was refused
    logged_down: int = 0  # logged just before the start, after logging went on in the outage
    acked_before_start: int = 0  # acknowledged just before the start
    not_serving_after: float = 0.0  # seconds from the stop until health said NOT_SERVING
    serving_after: float = 0.0  # seconds from the start until health said SERVING
    resumed_after: float = 0.0  # seconds from the start until the next acknowledgement
    down_for: float = 0.0  # seconds the cluster was stopped


class Health:
    """grpc.health.v1 of the server ("") and of every service, on a channel of its own."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.insecure_channel(address)
        self.stub = health_pb2_grpc.HealthStub(self.channel)

    def statuses(self) -> set[int]:
        return {
            self.stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=5).status
            for name in ("", *SERVICE_NAMES)
        }

    def wait_for(self, status: int, what: str) -> float:
        return wait_until(lambda: self.statuses() == {status}, HEALTH_WAIT, what, interval=0.01)

    def close(self) -> None:
        self.channel.close()


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_database_restarted_mid_stream_loses_nothing_and_needs_no_server_restart(
    pg_cluster: PgCluster, mode: StopMode
) -> None:
    rng = random.Random(f"{SEED}-{mode}")
    workload = Workload(tags=TAGS, steps=STEPS, seed=SEED)
    total = workload.total
    threshold = rng.randrange(int(total * 0.1), int(total * 0.35))
    delay = rng.uniform(0, 0.03)

    url = pg_cluster.create_database("tracker")
    schema = Database(url, pool_size=1)
    upgrade(schema)
    schema.dispose()

    port = free_port()
    server = ServerProcess(
        [
            "--db",
            url,
            "--port",
            str(port),
            "--host",
            "127.0.0.1",
            "--db-connect-timeout",
            "2",
            "--db-check-interval",
            str(CHECK_INTERVAL),
        ]
    )
    health: Health | None = None
    try:
        address = server.address()
        assert address == f"127.0.0.1:{port}"
        pid = server.pid
        health = probe = Health(address)
        assert probe.statuses() == {SERVING}
        run = tracker.init(
            project="faults", name=f"db-restart-{mode}", server=address, flush_interval=0.05, timeout=10
        )
        stats = run.delivery_stats()  # the client's live counters
        outages: list[Outage] = []

        def server_alive(when: str) -> None:
            assert server.proc.poll() is None, f"the server exited {when}: {server.output}"

        def restarter() -> None:
            wait_until(
                lambda: stats.points_acked >= threshold,
                WAIT,
                f"{threshold:,} points to be acknowledged (seed {SEED})",
            )
            time.sleep(delay)  # the random moment ...
            # ... while points wait for their acknowledgement
            wait_until(lambda: workload.logged > stats.points_acked, WAIT, "points to be in flight")
            outage = Outage(mode, threshold, workload.logged, stats.points_acked, stats.reconnects)
            outages.append(outage)
            stopped = time.monotonic()
            pg_cluster.stop(mode)
            server_alive(f"when the database stopped ({mode})")
            probe.wait_for(NOT_SERVING, "health to report NOT_SERVING")
            outage.not_serving_after = time.monotonic() - stopped
            # The client's stream broke: from now on nothing can be acknowledged until the start.
            wait_until(
                lambda: stats.reconnects > outage.reconnects_at_stop,
                WAIT,
                "the client to see the outage (a reconnect)",
            )
            outage.acked_down = stats.points_acked
            outage_seen.set()
            # The training loop goes on logging, and the client resends, while the database is down.
            logged = workload.logged
            wait_until(
                lambda: workload.logged >= logged + DURING_OUTAGE,
                WAIT,
                "the training loop to log while the database is down",
            )
            wait_until(
                lambda: stats.reconnects >= outage.reconnects_at_stop + 2,
                WAIT,
                "a resend to meet the outage too",
            )
            assert probe.statuses() == {NOT_SERVING}
            server_alive("while the database was down")
            outage.logged_down, outage.acked_before_start = workload.logged, stats.points_acked
            outage.reconnects_down = stats.reconnects
            started = time.monotonic()
            outage.down_for = started - stopped
            pg_cluster.start()
            outage.serving_after = probe.wait_for(SERVING, "health to report SERVING again")
            wait_until(
                lambda: stats.points_acked > outage.acked_before_start,
                WAIT,
                "acknowledgements to resume after the restart",
            )
            outage.resumed_after = time.monotonic() - started
            server_alive("after the database restarted")

        outage_seen = threading.Event()
        restart_thread = Background(restarter, name="db-restarter")
        held = 0.0
        while not workload.done:
            rounds_left = (STEPS - workload.next_step) // ROUND_STEPS
            if rounds_left <= HELD_ROUNDS and not outage_seen.is_set():
                held += wait_until(
                    lambda: outage_seen.is_set() or restart_thread.done, WAIT, "the client to see the outage"
                )
            if rounds_left <= FINAL_ROUNDS:
                held += wait_until(lambda: restart_thread.done, WAIT, "the restart to be over")
            workload.log(run, ROUND_STEPS)
            time.sleep(ROUND_PAUSE)  # "training"
            if restart_thread.done:
                restart_thread.join()  # a failure in the restarter ends the test at once
        restart_thread.join()
        run.flush(timeout=WAIT)
        run.finish(timeout=WAIT)

        assert len(outages) == 1
        outage = outages[0]
        # The outage hit the stream: points were waiting for their acknowledgement when the
        # database stopped and while it was down, the client's stream broke, and nothing at all
        # was acknowledged while there was no database to commit to.
        assert outage.acked_at_stop < outage.logged_at_stop, outage
        assert outage.acked_before_start < outage.logged_down, outage
        assert outage.acked_before_start == outage.acked_down, (
            f"acknowledged while the database was down: {outage}"
        )
        assert outage.reconnects_down >= outage.reconnects_at_stop + 2, outage
        assert stats.reconnects >= 1, stats
        workload.assert_finished_exactly_once(run, address)

        # One server process all along: never exited, started once, still serving, stops cleanly.
        assert server.pid == pid
        server_alive("by the end of the test")
        assert probe.statuses() == {SERVING}
        starts = [line for line in server.output.splitlines() if "listening on" in line]
        assert len(starts) == 1, server.output
        assert server.terminate(timeout=30) == 0, server.output
        print(
            f"seed {SEED}: {outage}; {stats.reconnects} reconnects, {stats.duplicates} duplicate acks, "
            f"training loop held {held:.2f}s"
        )
    finally:
        if health is not None:
            health.close()
        server.kill()
