"""Mixed traffic from many concurrent clients against a running ``ptcekb serve``: latency percentiles.

Queries of every kind (SELECT/ASK/CONSTRUCT/DESCRIBE in every result format), resource pages in every
format, the service description, VoID, lists, and validation uploads, from ``--clients`` threads for
``--duration`` seconds, plus ``--heavy`` clients that run only heavy requests (an aggregation over all
the communes, a validation upload). Light requests are also timed alone first (the baseline), so the
report says how much the heavy traffic slows them. Any 5xx other than the documented 503/504 is an
error. The server's RSS (``/proc/PID/status``) is sampled when its PID is known.

    .venv/bin/python bench/load.py                       # builds/serves var/store itself on a free port
    .venv/bin/python bench/load.py --url http://127.0.0.1:8000 --clients 32 --duration 60
    .venv/bin/python bench/load.py --write               # also writes the "Load" section of docs/benchmarks.md

tests/test_reliability.py runs the same mix at a small scale (``run_load``).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
UPLOAD = ROOT / "tests" / "fixtures" / "validation" / "casse-Art9-5-Strategie.ttl"
ALLOWED_5XX = {503, 504}  # documented: every worker busy / query time limit (docs/operations.md)

PTCE = "/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq"
SELECT_LOOKUP = "SELECT ?n WHERE { <https://w3id.org/ptce/id/commune/75056> igeo:nom ?n }"
ASK = "ASK { ?s a ptce:PTCE }"
CONSTRUCT = "CONSTRUCT { ?p a ptce:PTCE ; rdfs:label ?l } WHERE { ?p a ptce:PTCE OPTIONAL { ?p rdfs:label ?l } } LIMIT 50"
DESCRIBE = "DESCRIBE <https://w3id.org/ptce/id/departement/62>"
AGGREGATION = ("SELECT ?d (COUNT(?c) AS ?n) WHERE { ?c a igeo:Commune ; igeo:subdivisionDe ?d } "
               "GROUP BY ?d ORDER BY DESC(?n)")

RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values", "text/html")
GRAPH_TYPES = ("text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples",
               "application/n-quads", "text/html")


def light_requests() -> list[tuple[str, dict]]:
    """(name, httpx request arguments) of the light requests: each should take milliseconds."""
    out = [("healthz", {"method": "GET", "url": "/healthz"})]
    for suffix in ("", ".html", ".ttl", ".jsonld", ".rdf", ".nt"):
        out.append((f"ptce{suffix or ' (negotiated)'}", {"method": "GET", "url": PTCE + suffix}))
    for path in ("/id/departement/62", "/id/region/32.ttl", "/def.ttl", "/dataset.jsonld", "/id/ptce/?q=eco",
                 "/validate", "/dumps/"):
        out.append((path, {"method": "GET", "url": path}))
    for accept in RESULT_TYPES:
        out.append((f"select {accept}", {"method": "GET", "url": "/sparql", "params": {"query": SELECT_LOOKUP},
                                         "headers": {"accept": accept}}))
    out.append(("ask", {"method": "POST", "url": "/sparql", "content": ASK.encode(),
                        "headers": {"content-type": "application/sparql-query"}}))
    for accept in GRAPH_TYPES:
        out.append((f"construct {accept}", {"method": "POST", "url": "/sparql", "data": {"query": CONSTRUCT},
                                            "headers": {"accept": accept}}))
    out.append(("describe", {"method": "GET", "url": "/sparql", "params": {"query": DESCRIBE, "format": "ttl"}}))
    out.append(("service description", {"method": "GET", "url": "/sparql", "headers": {"accept": "text/turtle"}}))
    out.append(("void", {"method": "GET", "url": "/.well-known/void"}))
    return out


def heavy_requests() -> list[tuple[str, dict]]:
    upload = UPLOAD.read_bytes()
    return [
        ("aggregation", {"method": "GET", "url": "/sparql", "params": {"query": AGGREGATION},
                         "headers": {"accept": "application/sparql-results+json"}}),
        ("validate upload", {"method": "POST", "url": "/validate", "content": upload,
                             "headers": {"content-type": "text/turtle", "accept": "text/turtle"}}),
        ("validate multipart", {"method": "POST", "url": "/validate", "files": {"file": (UPLOAD.name, upload)},
                                "headers": {"accept": "text/html"}}),
    ]


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # "light" / "heavy" -> seconds
    by_name: dict[str, list[float]] = field(default_factory=dict)  # request name -> seconds
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # unexpected statuses and exceptions
    rss_kib: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, name: str, status: int | None, seconds: float, detail: str = "") -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.by_name.setdefault(f"{kind}: {name}", []).append(seconds)
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if status is None or (status >= 500 and status not in ALLOWED_5XX):
                self.errors.append(f"{name}: {status} {detail}"[:300])

    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def rss_kib(pid: int) -> int:
    """Resident memory of the process and its children (the query workers), KiB."""
    total = 0
    for p in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
        total += int(match.group(1)) if match else 0
    return total


def process_rss_kib(pid: int) -> int:
    match = re.search(r"^VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.M)
    return int(match.group(1)) if match else 0


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _one(client: httpx.Client, kind: str, name: str, request: dict, results: Results) -> None:
    started = time.monotonic()
    try:
        response = client.request(**request)
        results.record(kind, name, response.status_code, time.monotonic() - started,
                       response.text[:200] if response.status_code >= 500 else "")
    except httpx.HTTPError as exc:
        results.record(kind, name, None, time.monotonic() - started, f"{type(exc).__name__}: {exc}")


def run_load(url: str, *, clients: int = 8, heavy: int = 2, duration: float = 20.0, pid: int | None = None,
             seed: int = 0, timeout: float = 120.0) -> Results:
    """``clients`` threads of mixed traffic (mostly light, some heavy) and ``heavy`` threads of heavy only."""
    results = Results()
    light, heavies = light_requests(), heavy_requests()
    stop = time.monotonic() + duration

    def mixed(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        with httpx.Client(base_url=url, timeout=timeout) as client:
            while time.monotonic() < stop:
                if rng.random() < 0.05:
                    name, request = rng.choice(heavies)
                    _one(client, "heavy", name, request, results)
                else:
                    name, request = rng.choice(light)
                    _one(client, "light", name, request, results)

    def heavy_only(index: int) -> None:
        rng = random.Random(seed * 1000 + 500 + index)
        with httpx.Client(base_url=url, timeout=timeout) as client:
            while time.monotonic() < stop:
                name, request = rng.choice(heavies)
                _one(client, "heavy", name, request, results)

    threads = [threading.Thread(target=mixed, args=(i,), daemon=True) for i in range(clients)]
    threads += [threading.Thread(target=heavy_only, args=(i,), daemon=True) for i in range(heavy)]
    for thread in threads:
        thread.start()
    while any(t.is_alive() for t in threads):
        if pid is not None:
            try:
                results.rss_kib.append((time.monotonic(), process_rss_kib(pid)))
            except OSError:
                pass
        time.sleep(0.5)
    return results


def baseline(url: str, rounds: int = 3) -> list[float]:
    """Latencies of every light request, one client, nothing else running."""
    out = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for _ in range(rounds):
            for name, request in light_requests():
                started = time.monotonic()
                client.request(**request)
                out.append(time.monotonic() - started)
    return out


def summary(label: str, values: list[float]) -> str:
    if not values:
        return f"| {label} | 0 | | | | |"
    ms = lambda v: f"{v * 1000:.1f}"  # noqa: E731
    return (f"| {label} | {len(values)} | {ms(percentile(values, 50))} | {ms(percentile(values, 95))} | "
            f"{ms(percentile(values, 99))} | {ms(max(values))} |")


def report(base: list[float], results: Results, clients: int, heavy: int, duration: float) -> str:
    rss = [kib for _, kib in results.rss_kib]
    lines = [
        f"{clients} mixed clients + {heavy} heavy-only clients for {duration:g} s on loopback; "
        f"{results.count()} requests ({results.count() / duration:.0f}/s); statuses "
        + ", ".join(f"{k}: {v}" for k, v in sorted(results.statuses.items())) + f"; unexpected: {len(results.errors)}.",
        "",
        "| requests | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
        summary("light, alone (baseline)", base),
        summary("light, under load", results.latencies.get("light", [])),
        summary("heavy, under load", results.latencies.get("heavy", [])),
    ]
    slowest = sorted((name for name in results.by_name if name.startswith("light")),
                     key=lambda name: -percentile(results.by_name[name], 95))[:5]
    lines += ["", "Slowest light requests under load (p95): " + ", ".join(
        f"{name[len('light: '):]} {percentile(results.by_name[name], 95) * 1000:.0f} ms" for name in slowest) + "."]
    if rss:
        lines += ["", f"Server process RSS: {rss[0] / 1024:.0f} MiB at the start, {max(rss) / 1024:.0f} MiB at most, "
                      f"{rss[-1] / 1024:.0f} MiB at the end."]
    return "\n".join(lines)


def write_section(text: str, command: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    content = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    section = (f"## Load\n\nMixed traffic (bench/load.py: queries of every kind and format, resource pages in every "
               f"format, validation uploads; heavy = an aggregation over all the communes and validation uploads). "
               f"Reproduce with `{command}`. Measured {time.strftime('%Y-%m-%d')} on this machine "
               f"({os.cpu_count()} cores).\n\n{text}\n")
    content = re.sub(r"## Load\n.*?(?=\n## |\Z)", lambda m: section.rstrip("\n"), content, flags=re.S) \
        if "## Load\n" in content else content.rstrip("\n") + "\n\n" + section
    path.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")


def _start_server(store: str, port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "ptcekb.cli", "serve", "--store", store, "--port", str(port)],
                               cwd=ROOT, env={**os.environ, "CI": "1"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.5)
    process.kill()
    raise SystemExit("the server did not start")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (default: start one on --store)")
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--heavy", type=int, default=2)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--write", action="store_true", help="write the Load section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    process = None
    if args.url:
        url, pid = args.url.rstrip("/"), None
    else:
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        process = _start_server(args.store, port)
        url, pid = f"http://127.0.0.1:{port}", process.pid
    try:
        run_load(url, clients=2, heavy=0, duration=5.0, pid=None, seed=99)  # warm-up: caches, indexes, workers
        base = baseline(url)
        results = run_load(url, clients=args.clients, heavy=args.heavy, duration=args.duration, pid=pid)
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
    text = report(base, results, args.clients, args.heavy, args.duration)
    print(text)
    for error in results.errors[:20]:
        print("unexpected:", error, file=sys.stderr)
    if args.write:
        command = ".venv/bin/python bench/load.py --write" + "".join(
            f" --{k} {v}" for k, v in (("clients", args.clients), ("heavy", args.heavy), ("duration", f"{args.duration:g}")))
        write_section(text, command)
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
