"""The Python work of one SPARQL lookup in the server process, counted (issue 19, item 5; issue 23, item 1).

Wall-clock medians move with the machine's load; the number of Python function calls the server
process makes per request does not. This runs ``ptcekb serve`` in this process under cProfile, sends
lookups (the ``lookup`` query of bench/sparql.py) from a thread, and reports the calls per request
(counted between two snapshots, after a warm-up, so start-up is left out) and where the time of a
request goes (own time per request, by function). Query workers are other processes: their work is
not counted here (bench/worker_hop.py measures it).

To compare two checkouts, run it from each with that checkout first on the path:

    PYTHONPATH=/path/to/other/checkout .venv/bin/python bench/request_path.py --store var/store
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import os
import pstats
import signal
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sparql import QUERIES, SELECT  # noqa: E402 - the same lookups as the endpoint benchmark


def lookups(port: int, count: int) -> float:
    """Send ``count`` lookups on one keep-alive connection; their median latency in ms."""
    texts = QUERIES["lookup"][2]
    connection = http.client.HTTPConnection("127.0.0.1", port)
    latencies = []
    for index in range(count):
        started = time.perf_counter()
        connection.request("GET", "/sparql?query=" + urllib.parse.quote(texts[index % len(texts)]), headers={"Accept": SELECT})
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"lookup answered {response.status}")
        latencies.append(time.perf_counter() - started)
    return sorted(latencies)[count // 2] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--requests", type=int, default=2000, help="requests counted (after 200 to warm up)")
    args = parser.parse_args()
    from ptcekb import cli

    profile = cProfile.Profile()
    marks: dict[str, object] = {}

    def client() -> None:
        for _ in range(600):  # the server starts (and builds nothing: --store must exist)
            try:
                lookups(args.port, 1)
                break
            except OSError:
                time.sleep(0.1)
        lookups(args.port, 200)  # warm: per-build caches, workers
        marks["second"] = pstats.Stats(_Snapshot(profile))
        marks["median"] = lookups(args.port, args.requests)
        marks["third"] = pstats.Stats(_Snapshot(profile))
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=client, daemon=True).start()
    profile.enable()
    try:
        cli.main(["serve", "--store", args.store, "--port", str(args.port), "--log-level", "warning"])
    except (SystemExit, KeyboardInterrupt):
        pass
    profile.disable()
    second, third = marks["second"], marks["third"]
    calls = (third.total_calls - second.total_calls) / args.requests
    print(f"{cli.__file__}: {calls:.1f} Python function calls per request in the server process; "
          f"median {marks['median']:.3f} ms (profiled: slower than unprofiled)")
    own = {}
    for key, (_, _, tottime, _, _) in third.stats.items():
        before = second.stats.get(key, (0, 0, 0.0, 0, 0))[2]
        own[key] = (tottime - before) / args.requests * 1e6
    for (filename, line, name), micros in sorted(own.items(), key=lambda item: -item[1])[:20]:
        print(f"{micros:8.1f} µs  {name}  {os.path.relpath(filename) if filename.startswith('/') else filename}:{line}")


class _Snapshot:
    """The statistics of a running profile so far, in the form ``pstats.Stats`` reads."""

    def __init__(self, profile: cProfile.Profile):
        profile.snapshot_stats()  # create_stats() would stop the profile
        self.stats = dict(profile.stats)  # type: ignore[attr-defined]

    def create_stats(self) -> None:
        pass


if __name__ == "__main__":
    main()
