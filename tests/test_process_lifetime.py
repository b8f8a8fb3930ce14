"""Workers end with the server, also when it is killed with SIGKILL (issue 18 item 7, issue 17 item 4),
and a query past the memory cap of its worker gets a clear error (issue 18 item 4).

Real parts only: `ptcekb serve` in a subprocess, real queries and a real /validate upload so that every
kind of worker exists (query workers, the validation worker, the forkserver, the resource tracker).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from conftest import REMOTE, ROOT, Server
from test_egress import workers_of

pytestmark = pytest.mark.skipif(REMOTE, reason="the local store's workers are what is checked")

# Busy for tens of seconds on the test store; a product of four patterns would instead reach the
# worker's memory cap (507) within two seconds, before the server is killed.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"


def alive(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def test_no_worker_outlives_a_killed_server(built_store):
    server = Server(built_store, env={"PTCEKB_QUERY_TIMEOUT": "300"})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            assert http.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).status_code == 200
            upload = (ROOT / "tests" / "fixtures" / "validation" / "casse-Art9-Negatif.ttl").read_bytes()
            report = http.post("/validate", files={"file": ("upload.ttl", upload, "text/turtle")},
                               headers={"Accept": "text/turtle"})
            assert report.status_code == 200, report.text
        # A runaway query, running when the server is killed.
        threading.Thread(target=lambda: _quietly(server.url), daemon=True).start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _busy_worker(server.process.pid):
            time.sleep(0.2)
        busy = _busy_worker(server.process.pid)
        assert busy is not None, "the runaway query never started"
        descendants = workers_of(server.process.pid)
        assert len(descendants) >= 5, descendants  # 2 query workers, forkserver, tracker, validation worker
    finally:
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait()
    time.sleep(2)
    survivors = [pid for pid in descendants if alive(pid)]
    assert survivors == [], {pid: open(f"/proc/{pid}/cmdline", "rb").read()[:100] for pid in survivors}


def _quietly(url: str) -> None:
    try:
        httpx.post(url + "/sparql", data={"query": RUNAWAY}, timeout=120)
    except httpx.HTTPError:
        pass


def stat_fields(pid: int) -> list[bytes] | None:
    """The fields of /proc/PID/stat after the command's ")" (the state, field 3, first); None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None


def _busy_worker(server_pid: int) -> int | None:
    """A descendant that has used CPU time past a second (the worker running the runaway query)."""
    for pid in workers_of(server_pid):
        fields = stat_fields(pid)
        if fields is not None and int(fields[11]) > os.sysconf("SC_CLK_TCK"):  # utime, in clock ticks
            return pid
    return None


def test_a_query_past_the_memory_cap_gets_a_clear_error_and_the_next_one_works(built_store):
    query = ['SELECT (STRLEN(?z) AS ?n) WHERE { BIND("0123456789abcdef0123456789abcdef" AS ?v0)']
    for i in range(1, 31):  # 32 bytes doubled 30 times: 32 GiB
        query.append(f"BIND(CONCAT(?v{i - 1}, ?v{i - 1}) AS ?v{i})")
    query.append("BIND(?v30 AS ?z) }")
    server = Server(built_store, env={"PTCEKB_WORKER_MEMORY": "1G", "PTCEKB_QUERY_WORKERS": "1"})
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            response = http.post("/sparql", data={"query": " ".join(query)})
            assert response.status_code == 507, response.text
            assert "1 GiB" in response.text and "PTCEKB_WORKER_MEMORY" in response.text
            assert "Traceback" not in response.text
            after = http.post("/sparql", data={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }"},
                              headers={"Accept": "text/csv"})
            assert after.status_code == 200 and after.text.splitlines()[1].isdigit()
    finally:
        server.stop()
