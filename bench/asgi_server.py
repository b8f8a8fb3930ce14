"""The same ptcekb application on uvicorn (as ``ptcekb serve`` runs it) and on Granian, and the light
queries' floor (issue 23 item 1), in the same run.

Both servers serve the same store at once on two ports, next to the FastAPI floor of
bench/sparql_floor.py (FastAPI with ptcekb's middleware answering a constant); every round asks each of
them the same light queries (lookup, DESCRIBE, the 3-way join of bench/sparql.py) and ``/healthz``,
sequentially on one keep-alive connection, alternating the order, so a burst of load from elsewhere
falls on all alike; then, in this process, the same queries run through the query workers
(``Executor.run``, as bench/worker_hop.py: the query in-process plus the worker round trip). The floor of
a query is the FastAPI floor's median plus that; reported: the median per server, ptcekb on uvicorn over
its floor, Granian over uvicorn (below 1: Granian is faster), then requests per second with ``--clients``
threads on each server in turn.

    .venv/bin/pip install granian        # not a dependency of ptcekb: only this benchmark uses it
    .venv/bin/python bench/asgi_server.py --store var/store [--server both|uvicorn|granian] [--rounds 15]

Granian (2.x) runs the application in a worker process it spawns, with its own HTTP/1 parser in Rust;
``application`` below is the factory it imports (``--factory``), reading the store from PTCEKB_STORE.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from sparql import QUERIES  # noqa: E402 - the queries of bench/sparql.py, same parameters

PATHS = {"healthz": ["/healthz"], **{name: ["/sparql?query=" + quote(text) for text in texts]
                                     for name, (weight, _, texts) in QUERIES.items() if weight == "light"}}
ACCEPT = {"healthz": "application/json", **{name: accept for name, (_, accept, _) in QUERIES.items()}}


def application():
    """Granian's factory: the app ``ptcekb serve`` builds, with the settings of the environment."""
    from ptcekb.config import Settings
    from ptcekb.service.app import create_app

    return create_app(Settings.from_env())


def jobs(directory: str) -> dict[str, list]:
    """The light queries as the endpoint sends them to a worker (JSON results, Turtle for DESCRIBE)."""
    from ptcekb.service.executor import Job

    return {name: [Job(directory=directory, query=text, row_cap=10_000,
                       solutions_format="json" if accept != "text/turtle" else None,
                       graph_format="ttl" if accept == "text/turtle" else None) for text in texts]
            for name, (weight, accept, texts) in QUERIES.items() if weight == "light"}


async def through_workers(directory: str, count: int) -> dict[str, list[float]]:
    """Seconds of ``Executor.run`` for each light query: the query, its serialization, the round trip."""
    from ptcekb.config import Settings
    from ptcekb.service.executor import Executor, Limits

    executor = Executor(Limits.from_settings(Settings.from_env()))
    await executor.start(directory)
    out: dict[str, list[float]] = {}
    try:
        for name, todo in jobs(directory).items():
            for job in todo:  # warm-up: a fresh worker reads the store's blocks from disk the first time
                await executor.run(job)
            for i in range(count):
                started = time.perf_counter()
                await executor.run(todo[i % len(todo)])
                out.setdefault(name, []).append(time.perf_counter() - started)
    finally:
        executor.close()
    return out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(server: str, store: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "CI": "1", "PTCEKB_STORE": store}
    if server == "uvicorn":
        command = [sys.executable, "-m", "ptcekb.cli", "serve", "--store", store, "--port", str(port)]
    elif server == "floor":
        command = [sys.executable, str(ROOT / "bench" / "sparql_floor.py"), "--fastapi", "--port", str(port)]
    else:
        granian = shutil.which("granian", path=str(Path(sys.executable).parent))
        if granian is None:
            raise SystemExit("granian is not installed: .venv/bin/pip install granian")
        command = [granian, "--interface", "asgi", "--factory", "--working-dir", str(ROOT / "bench"), "--host",
                   "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--no-ws", "--log-level", "warning",
                   "asgi_server:application"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{'/sparql' if server == 'floor' else '/healthz'}",
                         timeout=2).status_code == 200:
                return process, port
        except httpx.HTTPError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit(f"{server} did not start")


def timed(port: int, paths: list[str], accept: str, count: int) -> list[float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.sock = None
    out = []
    for i in range(count):
        started = time.perf_counter()
        connection.request("GET", paths[i % len(paths)], headers={"Accept": accept})
        response = connection.getresponse()
        response.read()
        out.append(time.perf_counter() - started)
        assert response.status == 200, response.status
    connection.close()
    return out


def throughput(port: int, paths: list[str], accept: str, clients: int, seconds: float) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        i = k
        while time.monotonic() < stop:
            connection.request("GET", paths[i % len(paths)], headers={"Accept": accept})
            connection.getresponse().read()
            done[k] += 1
            i += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--server", choices=("both", "uvicorn", "granian"), default="both")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--requests", type=int, default=20, help="sequential requests per query, server and round")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0, help="throughput duration per query and server")
    args = parser.parse_args()
    names = ["uvicorn", "granian"] if args.server == "both" else [args.server]
    directory = os.path.realpath(ROOT / args.store)
    servers = {name: start(name, args.store) for name in [*names, "floor"]}
    try:
        times: dict[tuple[str, str], list[float]] = {}
        print(f"load average at the start: {os.getloadavg()[0]:.2f}")
        for name, (_, port) in servers.items():  # warm-up: workers, caches
            for query, paths in PATHS.items():
                if not (name == "floor" and query == "healthz"):  # the floor answers /sparql only
                    timed(port, paths, ACCEPT[query], 20)
        for round_ in range(args.rounds):
            order = list(servers) if round_ % 2 == 0 else list(servers)[::-1]
            for query, paths in PATHS.items():
                for name in order:
                    if name == "floor" and query == "healthz":
                        continue
                    times.setdefault((name, query), []).extend(timed(servers[name][1], paths, ACCEPT[query],
                                                                     args.requests))
            for query, seconds in asyncio.run(through_workers(directory, args.requests)).items():
                times.setdefault(("workers", query), []).extend(seconds)
        print(f"load average before the throughput runs: {os.getloadavg()[0]:.2f}")
        print()
        print(f"| query | FastAPI floor | through a worker | floor (sum) | ptcekb ({names[0]}) | × floor |")
        print("|---|---|---|---|---|---|")
        for query in PATHS:
            if query == "healthz":
                continue
            fastapi, worker = (statistics.median(times[(n, query)]) * 1000 for n in ("floor", "workers"))
            ptcekb = statistics.median(times[(names[0], query)]) * 1000
            print(f"| {query} | {fastapi:.3f} ms | {worker:.3f} ms | {fastapi + worker:.3f} ms | {ptcekb:.3f} ms "
                  f"| {ptcekb / (fastapi + worker):.2f} |")
        print()
        print("| query | " + " | ".join(f"{n} median ms | {n} req/s ({args.clients} clients)" for n in names)
              + (" | granian / uvicorn (median) | granian / uvicorn (req/s) |" if len(names) == 2 else " |"))
        print("|---" * (1 + 2 * len(names) + (2 if len(names) == 2 else 0)) + "|")
        for query, paths in PATHS.items():
            medians = {n: statistics.median(times[(n, query)]) * 1000 for n in names}
            rates = {n: throughput(servers[n][1], paths, ACCEPT[query], args.clients, args.seconds) for n in names}
            cells = [f"{medians[n]:.2f} | {rates[n]:,.0f}" for n in names]
            ratio = (f" | {medians['granian'] / medians['uvicorn']:.2f} | {rates['granian'] / rates['uvicorn']:.2f}"
                     if len(names) == 2 else "")
            print(f"| {query} | " + " | ".join(cells) + ratio + " |")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        for process, _ in servers.values():
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
