"""How long resource pages take, one at a time: the cost of running page queries in workers.

Starts ``ptcekb serve`` (from ``--root``, a checkout of the project, with its own ``.venv``) on
``--store`` and a free loopback port, fetches every page once to warm the caches (statistics, name
indexes, the compliance summary is not waited for), then fetches each page ``--runs`` times in turn
and prints the median and the fastest time per page. Run it on two checkouts with the same store to
compare them (docs/benchmarks.md):

    .venv/bin/python bench/pages.py --store /tmp/kb/store --root ../main
    .venv/bin/python bench/pages.py --store /tmp/kb/store --root .
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

PAGES = ("/", "/id/ptce/3-eva", "/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq", "/id/region/32",
         "/id/departement/62", "/id/commune/62041", "/concept/formes-juridiques", "/id/ptce/", "/id/commune/?q=arras")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--root", default=str(Path(__file__).resolve().parent.parent))
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="paths to fetch (default: %(default)s)")
    args = parser.parse_args()
    pages = tuple(args.pages)
    root = Path(args.root).resolve()
    port = free_port()
    log = tempfile.TemporaryFile()
    python = root / ".venv" / "bin" / "python"
    server = subprocess.Popen([str(python if python.exists() else sys.executable), "-m", "ptcekb.cli", "serve",
                               "--store", args.store, "--port", str(port)], cwd=root, stdout=log, stderr=log,
                              env={**os.environ, "CI": "1"})
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=120) as http:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            incomplete = set()
            for path in pages:
                if 'id="sections-missing"' in http.get(path).text:
                    incomplete.add(path)
            times: dict[str, list[float]] = {p: [] for p in pages}
            for _ in range(args.runs):
                for path in pages:
                    started = time.perf_counter()
                    reply = http.get(path)
                    times[path].append(time.perf_counter() - started)
                    assert reply.status_code == 200, (path, reply.status_code)
                    if 'id="sections-missing"' in reply.text:
                        incomplete.add(path)
        print(f"{root.name}: median / fastest of {args.runs} runs, in ms")
        for path, values in times.items():
            note = "  (a section ran out of time at least once)" if path in incomplete else ""
            print(f"  {path:55} {statistics.median(values) * 1000:8.1f} {min(values) * 1000:8.1f}{note}")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
