"""Fault test (a): the server is killed with SIGKILL at random moments of a logging session and
restarted on the same address, three times; afterwards the database holds every point exactly once.

The server is a `tracker server` child process on a fixed port; the training loop is this test's
main thread (500,000 points, 5 tags, a flush every 100,000 points); a killer thread picks the
moments from a seeded random generator (TRACKER_FAULT_SEED overrides the seed): once the client
has had a random number of points acknowledged, while more are logged than acknowledged, after
a random delay of up to 30 ms. Each kill is proven: the exit code is -9 (the signal ended it),
the client saw the connection break, points were logged but not acknowledged at that moment (the
kill interrupted delivery), and the restarted server is a different process. A kill that the last
acknowledgement beat (nothing was in flight after all) is not counted, and another follows. Each restart is a
standby `tracker server` process, loaded while the last one served and told to start once the
client saw the kill, so the server is down for a fraction of a second, not for a Python start.
"""

from __future__ import annotations

import dataclasses
import os
import random
import time

import pytest

import tracker_client as tracker
from tests.faults.workload import WAIT, Background, Workload, wait_until
from tests.server.serverproc import ServerProcess, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

SEED = int(os.environ.get("TRACKER_FAULT_SEED", "20250611"))
KILLS = 3
TAGS, STEPS = 5, 100_000  # 500,000 points
ROUND_STEPS = 5_000  # steps logged between two looks at the clock
FLUSH_EVERY = 4  # rounds, so a flush every 100,000 points


@dataclasses.dataclass
class Kill:
    pid: int
    returncode: int
    logged: int  # points logged when the kill was sent
    acked: int  # points the client had acknowledged by the killed server
    new_pid: int


def test_server_killed_three_times_mid_session_stores_every_point_exactly_once(
    database_url: str, backend: str
) -> None:
    rng = random.Random(SEED)
    workload = Workload(tags=TAGS, steps=STEPS, seed=SEED)
    total = workload.total
    # One kill in each third of [10%, 80%] of the session, measured in acknowledged points.
    edges = [int(total * (0.1 + 0.7 * k / KILLS)) for k in range(KILLS + 1)]
    thresholds = [rng.randrange(edges[k], edges[k + 1]) for k in range(KILLS)]
    delays = [rng.uniform(0, 0.03) for _ in range(KILLS)]

    port = free_port()
    args = ["--db", database_url, "--port", str(port), "--host", "127.0.0.1"]
    servers = [ServerProcess(args)]
    spares = [ServerProcess(args, standby=True)]  # the next server, loaded and waiting
    try:
        address = servers[0].address()
        assert address == f"127.0.0.1:{port}"
        run = tracker.init(
            project="faults", name=f"server-kill-{backend}", server=address, flush_interval=0.02, timeout=10
        )
        kills: list[Kill] = []

        stats = run.delivery_stats()  # the client's live counters

        wasted: list[Kill] = []  # kills that found nothing in flight (the last ack won the race)

        def killer() -> None:
            pending = list(zip(thresholds, delays, strict=True))
            while pending:
                threshold, delay = pending.pop(0)
                wait_until(
                    lambda t=threshold: stats.points_acked >= t,
                    WAIT,
                    f"{threshold:,} points to be acknowledged (seed {SEED})",
                )
                time.sleep(delay)  # the random moment ...
                # ... while points wait for their acknowledgement (checked again after the kill)
                wait_until(lambda: workload.logged > stats.points_acked, WAIT, "points to be in flight")
                server = servers[-1]
                reconnects = stats.reconnects
                logged = workload.logged
                returncode = server.sigkill()
                # The client notices; nothing can be acknowledged until the restart.
                wait_until(lambda r=reconnects: stats.reconnects > r, WAIT, "the client to see the kill")
                acked = stats.points_acked
                restarted = spares.pop()
                restarted.start()
                servers.append(restarted)
                assert restarted.address() == address
                kill = Kill(server.pid, returncode, logged, acked, restarted.pid)
                if acked < logged:
                    kills.append(kill)
                else:
                    # Every point had been acknowledged between the last look and the signal, so
                    # this kill proves nothing: kill again a little later (bounded).
                    wasted.append(kill)
                    assert len(wasted) <= KILLS, f"kills kept missing in-flight points: {wasted}"
                    pending.insert(0, (stats.points_acked + rng.randrange(1_000, 10_000), delay))
                if pending:
                    spares.append(ServerProcess(args, standby=True))

        kill_thread = Background(killer, name="killer")
        while not workload.done:
            for _ in range(FLUSH_EVERY):
                workload.log(run, ROUND_STEPS)
            run.flush(timeout=WAIT)
            if kill_thread.done:
                kill_thread.join()  # a failure in the killer ends the test at once
        kill_thread.join()
        run.finish(timeout=WAIT)

        assert len(kills) == KILLS
        for kill in kills:
            assert kill.returncode == -9, kill  # the SIGKILL is what ended the process
            assert kill.new_pid != kill.pid, kill
            assert kill.acked < kill.logged, f"the kill interrupted no delivery: {kill}"
        assert len({s.pid for s in servers}) == KILLS + len(wasted) + 1
        assert stats.reconnects >= KILLS, stats
        workload.assert_finished_exactly_once(run, address)
        assert servers[-1].proc.poll() is None, servers[-1].output  # the last server is still serving
        print(
            f"seed {SEED}: kills {kills}, wasted {wasted}; {stats.duplicates} duplicate acks, "
            f"{stats.reconnects} reconnects"
        )
    finally:
        for server in servers + spares:
            server.kill()
