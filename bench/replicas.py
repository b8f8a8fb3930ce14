"""Read replicas on one remote store (issue 23 item 6): 1 vs 2 ``ptcekb serve`` on the same engine.

When one machine is outgrown, the service can run as several ``ptcekb serve`` processes (on one
machine or several) reading the same remote engine (docs/deployment.md). This measures what a
second front end brings, for the ``lookup`` and ``join`` queries of bench/sparql.py: median latency
with one client, then throughput with 8 concurrent keep-alive clients spread evenly over the front
ends (as a load balancer would), and the engine's own endpoint as the ceiling, in the same run.

The store must already hold a build: ``ptcekb build --store URL`` (with PTCEKB_STORE_UPDATE,
PTCEKB_STORE_GSP and credentials as the engine needs, docs/deployment.md).

    .venv/bin/python bench/replicas.py --store http://127.0.0.1:8890/sparql
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import threading
import time
import signal
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from sparql import QUERIES, SELECT, Target, latency, path_for, request  # noqa: E402


def throughput(targets: list[tuple[int, str]], paths_of: dict[int, list[str]], seconds: float,
               clients: int = 8) -> float:
    """Requests per second of ``clients`` keep-alive clients, client k on target k % len(targets)."""
    done, stop = [0] * clients, time.monotonic() + seconds

    def client(k: int) -> None:
        port, _ = targets[k % len(targets)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        paths, i = paths_of[port], k
        while time.monotonic() < stop:
            status, _ = request(port, paths[i % len(paths)], SELECT, connection)
            assert status == 200, status
            done[k] += 1
            i += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="the remote store's query endpoint (holding a build)")
    parser.add_argument("--port", type=int, default=18760)
    parser.add_argument("--seconds", type=float, default=10, help="throughput run per query and setting")
    parser.add_argument("--requests", type=int, default=40, help="sequential requests per query (latency)")
    parser.add_argument("--queries", default="lookup,join", help="of bench/sparql.py's light queries")
    parser.add_argument("--settle", type=float, default=120,
                        help="seconds at most to wait after each start for the machine to be idle (the service's "
                             "statistics and catalogue are computed at the start: over a minute on Virtuoso)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # a terminated run still stops its servers
    engine = urllib.parse.urlsplit(args.store)
    engine_port, engine_path = engine.port, engine.path

    fronts = [Target(f"ptcekb serve #{n + 1}", [sys.executable, "-m", "ptcekb.cli", "serve", "--store", args.store,
                                                "--port", str(args.port + n)], args.port + n) for n in range(2)]
    rows = []
    try:
        for front in fronts:
            front.start()
            front.settle(timeout=args.settle)  # start-up work (statistics, catalogue) done, or the machine is never idle
        for name in args.queries.split(","):
            _, accept, queries = QUERIES[name]
            served = {f.port: [path_for(q) for q in queries] for f in fronts}
            served[engine_port] = [path_for(q, engine_path) for q in queries]
            for label, ports in (("engine's own endpoint", [engine_port]), ("1 × ptcekb serve", [fronts[0].port]),
                                 ("2 × ptcekb serve", [f.port for f in fronts])):
                median, n, size = latency(ports[0], accept, served[ports[0]], args.requests, budget=20)
                rps = throughput([(p, "") for p in ports], served, args.seconds)
                rows.append((name, label, median * 1000, rps, size))
                print(f"{name}: {label}: median {median * 1000:.2f} ms (size {size}), {rps:.1f} req/s", file=sys.stderr)
    finally:
        for front in fronts:
            front.stop()
    print(f"\nstore {args.store}; 8 keep-alive clients spread evenly over the front ends; {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| query | served by | median latency, 1 client | req/s, 8 clients |")
    print("|---|---|---|---|")
    for name, label, median, rps, _ in rows:
        print(f"| {name} | {label} | {median:.2f} ms | {rps:,.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
