"""Fair lanes (issue 23 item 3, ptcekb/service/executor.py): a query that ran long goes to the heavy
lane, whose workers are bounded and run at a lower priority, so it never takes the light lane's
workers: while the heavy lane is saturated by long queries, a light query is still answered.

Real parts only: `ptcekb serve` in a subprocess, real queries over HTTP. No timing is asserted: the
light query is answered while the long queries' workers are still running (their processes are read in
/proc), and with the same limits and one lane it would have waited for the time limit (503).
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from conftest import REMOTE, Server
from test_egress import workers_of
from test_process_lifetime import RUNAWAY, stat_fields

pytestmark = pytest.mark.skipif(REMOTE, reason="the lanes are the local store's query workers")

NICE_FIELD = 16  # in stat_fields: the state is field 3 of /proc/PID/stat, the niceness field 19


def niced_workers(server_pid: int) -> list[int]:
    """The server's descendants running at a positive niceness: heavy-lane and demoted query workers,
    and the validation worker once started."""
    return [pid for pid in workers_of(server_pid)
            if (fields := stat_fields(pid)) is not None and fields[0] != b"Z" and int(fields[NICE_FIELD]) > 0]


def wait_for(condition, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_light_query_is_answered_while_the_heavy_lane_is_saturated(built_store):
    # Two light workers at most, one heavy worker; a query is heavy after 0.2 s.
    server = Server(built_store, env={"PTCEKB_QUERY_WORKERS": "1", "PTCEKB_QUERY_WORKERS_MAX": "2",
                                      "PTCEKB_HEAVY_WORKERS": "1", "PTCEKB_HEAVY_AFTER": "0.2",
                                      "PTCEKB_QUERY_TIMEOUT": "10"})
    statuses: list[int] = []

    def runaway() -> None:
        try:
            statuses.append(httpx.post(server.url + "/sparql", data={"query": RUNAWAY}, timeout=60).status_code)
        except httpx.HTTPError as exc:
            statuses.append(-1)
            raise AssertionError(exc) from None

    threads = [threading.Thread(target=runaway, daemon=True) for _ in range(3)]
    try:
        assert niced_workers(server.process.pid) == []
        # The first run starts in the light lane; running long, its worker is niced and the query remembered.
        threads[0].start()
        wait_for(lambda: len(niced_workers(server.process.pid)) == 1, "the long query's worker was never lowered")
        # The next runs go to the heavy lane: its one worker runs one, the other waits for it.
        threads[1].start()
        wait_for(lambda: len(niced_workers(server.process.pid)) == 2, "no heavy-lane worker started")
        threads[2].start()
        lookup = httpx.get(server.url + "/sparql", timeout=60, headers={"Accept": "text/csv"},
                           params={"query": "SELECT ?n WHERE { <https://w3id.org/ptce/id/commune/75056> igeo:nom ?n }"})
        assert lookup.status_code == 200, lookup.text
        assert lookup.text.splitlines()[1:] == ["Paris"]
        # Answered while both long queries still run (one in the light lane's lowered worker, one heavy).
        assert len(niced_workers(server.process.pid)) == 2
        for thread in threads:
            thread.join(timeout=120)
        # Every long query got an answer: the time limit (504), or every heavy worker busy until it (503).
        assert sorted(statuses) and set(statuses) <= {503, 504} and 504 in statuses, statuses
    finally:
        server.stop()
