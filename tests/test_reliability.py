"""Reliability under load and faults (issue 10), over real HTTP and real processes.

- Load: bench/load.py's mix (queries of every kind and format, resource pages in every format,
  validation uploads) from concurrent clients for a bounded time: no 5xx but the documented
  503/504, bounded memory, light requests stay fast while heavy ones run (generous bounds against
  a baseline measured in the same test: a loaded 2-core machine must not make it flaky).
- Faults: builds killed with SIGKILL at random points; Graph Store requests cut midway and a
  server killed during a write; a full disk during a build; SERVICE endpoints that hang or redirect.
"""

from __future__ import annotations

import os
import random
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import REMOTE, ROOT, SEED, Server, copy_store, ptcekb
from ptcekb.store import StoreLocation

sys.path.insert(0, str(ROOT / "bench"))
import load  # noqa: E402  (bench/load.py: the traffic mix)

TOKEN = "reliability-token-0123"
GRAPH = "http://example.org/graph/upload"


def count(store_path: Path, graph: str | None = None) -> int:
    store = ox.Store.read_only(str(Path(store_path).resolve()))
    pattern = f"GRAPH <{graph}> {{ ?s ?p ?o }}" if graph else "GRAPH ?g { ?s ?p ?o }"
    return int(next(iter(store.query(f"SELECT (COUNT(*) AS ?n) {{ {pattern} }}")))["n"].value)


def tiny_store(path: Path, triples: int = 100) -> Path:
    with StoreLocation(path).building() as directory:
        store = ox.Store(str(directory))
        graph = ox.NamedNode("http://example.org/graph/filler")
        store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
                             ox.Literal(str(i)), graph) for i in range(triples))
        store.flush()
        del store
    return path


# --------------------------------------------------------------------------------------------
# Load


def test_mixed_load(server):
    url = server.url
    load.run_load(url, clients=2, heavy=0, duration=4.0, seed=7)  # warm-up: caches, indexes, workers
    base = load.baseline(url, rounds=2)
    results = load.run_load(url, clients=6, heavy=1, duration=20.0, pid=server.process.pid, seed=1)
    print("\n" + load.report(base, results, 6, 1, 20.0))
    assert not results.errors, results.errors[:10]
    assert results.statuses.get(200, 0) > 50, results.statuses
    light = results.latencies["light"]
    assert results.latencies.get("heavy"), "heavy requests ran"
    base_p95, light_p95 = load.percentile(base, 95), load.percentile(light, 95)
    # 20 times the baseline (floored at 100 ms: an idle loopback answers in a few ms) and 2 s at most;
    # measured on 2 cores: baseline p95 24 ms, under load 380 ms (docs/benchmarks.md, Load)
    assert light_p95 < 2.0 and light_p95 < 20 * max(base_p95, 0.1), (base_p95, light_p95)
    # memory: the process after a warm-up vs the end of the run (caches are filled by the warm-up)
    rss = [kib for _, kib in results.rss_kib]
    assert len(rss) > 10
    growth_mib = (rss[-1] - rss[0]) / 1024
    assert growth_mib < 150, f"RSS grew by {growth_mib:.0f} MiB during the run ({rss[0] // 1024} -> {rss[-1] // 1024})"
    assert server.process.poll() is None


# --------------------------------------------------------------------------------------------
# Builds killed at random points, full disk


@pytest.fixture()
def own_store(built_store, tmp_path):
    if REMOTE:
        pytest.skip("needs the session's store as a directory")
    return copy_store(built_store, tmp_path / "store")


def test_builds_killed_at_random_points(own_store):
    before_link, before = os.readlink(own_store), count(own_store)
    builds = own_store.with_name("store.builds")
    rng = random.Random(SEED)
    delays = sorted(rng.uniform(0.3, 12.0) for _ in range(3))
    for delay in delays:
        complete = {p.name for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".partial")}
        process = subprocess.Popen([sys.executable, "-m", "ptcekb.cli", "build", "--store", str(own_store)],
                                   cwd=ROOT, env={**os.environ, "CI": "1"}, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        if process.poll() is not None:  # finished before its kill: then it must have published a complete build
            assert process.returncode == 0
            before_link, before = os.readlink(own_store), count(own_store)
            continue
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert os.readlink(own_store) == before_link, f"killed after {delay:.1f} s"
        assert count(own_store) == before, f"killed after {delay:.1f} s"
        assert {p.name for p in builds.iterdir() if p.is_dir() and not p.name.endswith(".partial")} == complete


def test_full_disk_during_a_build_fails_cleanly(built_store, tmp_path):
    """A 48 MiB tmpfs holds the previous (tiny) store but not a new full build: ENOSPC midway."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", str(mount)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); test_build_past_file_size_limit covers EFBIG")
    try:
        store = tiny_store(mount / "store")
        before_link = os.readlink(store)
        result = ptcekb("build", "--store", str(store), timeout=600)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr, result.stderr[-2000:]
        assert result.stderr.strip(), "the failure is explained"
        assert os.readlink(store) == before_link and count(store) == 100
        leftovers = [p.name for p in (mount / "store.builds").iterdir() if p.name.endswith(".partial")]
        assert not leftovers, f"the failed build left {leftovers} on the full disk"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_build_past_file_size_limit(tmp_path):
    """RLIMIT_FSIZE (EFBIG once a file passes 8 MiB, SIGXFSZ ignored) stands for a disk that fills up."""
    store = tiny_store(tmp_path / "store")
    before_link = os.readlink(store)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 << 20, 8 << 20))

    result = subprocess.run([sys.executable, "-m", "ptcekb.cli", "build", "--store", str(store)], cwd=ROOT,
                            env={**os.environ, "CI": "1"}, capture_output=True, text=True, timeout=600,
                            preexec_fn=limit)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert os.readlink(store) == before_link and count(store) == 100
    assert not [p for p in (tmp_path / "store.builds").iterdir() if p.name.endswith(".partial")]


# --------------------------------------------------------------------------------------------
# Writes interrupted midway


@pytest.fixture()
def writable(tmp_path):
    store = tiny_store(tmp_path / "store")
    server = Server(store, env={"PTCEKB_UPDATE_TOKEN": TOKEN})
    yield server, store
    server.stop()


def _turtle(triples: int) -> bytes:
    return b"".join(b"<http://example.org/u%d> <http://example.org/p> \"%d\" .\n" % (i, i) for i in range(triples))


def test_graph_store_request_cut_midway_changes_nothing(writable):
    server, store = writable
    body = _turtle(200_000)
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(f"PUT /store?graph={GRAPH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
                     f"Content-Type: application/n-triples\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        sock.sendall(body[: len(body) // 2])
    time.sleep(1.0)
    with httpx.Client(base_url=server.url, timeout=60, headers={"authorization": f"Bearer {TOKEN}"}) as client:
        assert client.get("/store", params={"graph": GRAPH}).status_code == 404
        response = client.post("/update", content=b"INSERT DATA { GRAPH <http://example.org/x> { <http://a> <http://b> 1 } }",
                               headers={"content-type": "application/sparql-update"})
        assert response.status_code == 200, response.text
    assert count(store, GRAPH) == 0 and count(store) == 101


def test_server_killed_during_a_write_leaves_no_partial_graph(writable):
    server, store = writable
    body = _turtle(300_000)
    outcome = {}

    def put():
        try:
            outcome["status"] = httpx.put(server.url + "/store", params={"graph": GRAPH}, content=body, timeout=120,
                                          headers={"authorization": f"Bearer {TOKEN}",
                                                   "content-type": "application/n-triples"}).status_code
        except httpx.HTTPError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=put)
    thread.start()
    time.sleep(random.Random(SEED).uniform(0.5, 2.5))  # while it uploads, parses or applies the write
    server.process.send_signal(signal.SIGKILL)
    server.process.wait()
    thread.join(60)
    graph_size = count(store, GRAPH)
    assert graph_size in (0, 300_000), f"a partial graph of {graph_size} triples was published"
    assert count(store) == 100 + graph_size
    restarted = Server(store, env={"PTCEKB_UPDATE_TOKEN": TOKEN})
    try:
        assert httpx.get(restarted.url + "/healthz", timeout=30).status_code == 200
    finally:
        restarted.stop()


# --------------------------------------------------------------------------------------------
# SERVICE endpoints that hang or redirect (federation.py: httpx, allow-list, PTCEKB_SERVICE_TIMEOUT)


class _Endpoint(ThreadingHTTPServer):
    daemon_threads = True


def _start(handler) -> tuple[_Endpoint, str]:
    endpoint = _Endpoint(("127.0.0.1", 0), handler)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    return endpoint, f"http://127.0.0.1:{endpoint.server_address[1]}/sparql"


def test_service_endpoints_that_hang_or_redirect(tmp_path):
    hits = []

    class Hang(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(30)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    class Target(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.end_headers()
            self.wfile.write(b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"leak"}}]}}')

        do_POST = do_GET

        def log_message(self, *args):
            pass

    hang, hang_url = _start(Hang)
    target, target_url = _start(Target)

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", target_url + "?query=SELECT%20*%20%7B%7D")
            self.end_headers()

        do_POST = do_GET

        def log_message(self, *args):
            pass

    redirect, redirect_url = _start(Redirect)
    store = tiny_store(tmp_path / "store")
    server = Server(store, env={"PTCEKB_SERVICE_ALLOWLIST": f"{hang_url},{redirect_url}",
                                "PTCEKB_SERVICE_TIMEOUT": "2", "PTCEKB_QUERY_TIMEOUT": "20"})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            started = time.monotonic()
            response = client.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{hang_url}> {{ ?s ?p ?o }} }}"})
            assert 400 <= response.status_code < 600 and response.status_code != 500, response.text
            assert time.monotonic() - started < 15, "a hanging SERVICE endpoint is given up after its time limit"
            response = client.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{redirect_url}> {{ ?x ?p ?o }} }}"})
            assert response.status_code != 200 or "leak" not in response.text, response.text
            assert not hits, "a redirect took the query outside the allow-list"
            response = client.get("/sparql", params={"query": f"SELECT * {{ SERVICE <{target_url}> {{ ?x ?p ?o }} }}"})
            assert response.status_code == 400 and not hits
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()
        for endpoint in (hang, target, redirect):
            endpoint.shutdown()
