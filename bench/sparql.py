"""SPARQL endpoint benchmark (issue 6, item 9): ptcekb vs Oxigraph's server vs rdflib-endpoint.

The same data (``ptcekb dump`` of the built store, COG included) served by:

* ptcekb: ``ptcekb serve --store STORE`` (default settings: 2 query workers, row cap, time limit);
* Oxigraph: ``oxigraph serve-read-only --union-default-graph`` on its own copy, loaded with
  ``oxigraph load`` from the dump;
* rdflib-endpoint: ``rdflib-endpoint serve kb.nq`` (in-memory rdflib ``Dataset``, union default
  graph); its load time is reported;
* and two floors, ``bench/sparql_floor.py``, answering a constant empty result (no data, no
  query): a bare ASGI app on uvicorn (any Python service), and FastAPI with ptcekb's middleware
  (any endpoint built as ptcekb is).

The servers run one at a time (2 cores: a server never competes with another). For every query
of the mix: median latency with one keep-alive client (``http.client``, sequential), then
throughput with 8 concurrent connections (``wrk -t2 -c8`` when on PATH, else 8 threads with
``http.client``). Parameters cycle (commune codes, département codes) so no answer is a repeat
of the previous one. Reported as ratios to Oxigraph's server in the same run.

    .venv/bin/pip install -e '.[bench]' -c constraints.txt   # rdflib-endpoint; wrk from apt
    .venv/bin/python bench/sparql.py --store var/store
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PREFIX = "PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
ID = "https://w3id.org/ptce/id/"
COMMUNES = ["01001", "13055", "29019", "33063", "35238", "44109", "59350", "67482", "69123", "75056",
            "2A004", "31555", "06088", "34172", "97411", "63113", "87085", "21231", "25056", "80021"]
DEPARTEMENTS = ["01", "13", "29", "33", "35", "44", "59", "67", "69", "2A", "31", "06", "34", "63", "87",
                "21", "25", "80", "974", "75"]
SELECT = "application/sparql-results+json"

QUERIES = {  # name: (weight class, Accept, [query texts])
    "lookup": ("light", SELECT, [
        PREFIX + f'SELECT ?c ?nom WHERE {{ ?c a igeo:Commune ; igeo:codeINSEE "{code}" ; igeo:nom ?nom }}'
        for code in COMMUNES]),
    "join": ("light", SELECT, [
        PREFIX + "SELECT ?commune ?departement ?region WHERE { "
        "?c a igeo:Commune ; igeo:nom ?commune ; igeo:subdivisionDe ?d . "
        f'?d a igeo:Departement ; igeo:codeINSEE "{code}" ; igeo:nom ?departement ; igeo:subdivisionDirecteDe ?r . '
        "?r a igeo:Region ; igeo:nom ?region }"
        for code in DEPARTEMENTS]),
    "describe": ("light", "text/turtle", [f"DESCRIBE <{ID}commune/{code}>" for code in COMMUNES]),
    "aggregation": ("heavy", SELECT, [
        PREFIX + "SELECT ?region ?nom (COUNT(?c) AS ?communes) WHERE { "
        "?c a igeo:Commune ; igeo:subdivisionDe ?region . ?region a igeo:Region ; igeo:nom ?nom } "
        "GROUP BY ?region ?nom ORDER BY ?nom"]),
}


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as stat:
        fields = [int(v) for v in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def path_for(query: str, endpoint: str = "/sparql") -> str:
    return endpoint + "?" + urllib.parse.urlencode({"query": query})


class Target:
    def __init__(self, name: str, command: list[str], port: int, path: str = "/sparql"):
        self.name, self.command, self.port, self.path = name, command, port, path
        self.process = None
        self.load_seconds = None
        self.env: dict[str, str] | None = None  # the environment and directory of the server, when not ours
        self.cwd: Path = ROOT

    def start(self, timeout: float = 900) -> None:
        started = time.monotonic()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited: {self.log.read().decode()[-2000:]}")
            try:
                status, _ = request(self.port, path_for("ASK {}", self.path), SELECT)
                if status == 200:
                    self.load_seconds = time.monotonic() - started
                    return
            except OSError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout} s")

    def settle(self, idle: float = 0.9, timeout: float = 180) -> float:
        """Wait until the machine is idle (a server's start-up work, such as ptcekb's background
        validation of the whole base, must not be measured as query latency); seconds waited."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = _cpu_times()
            time.sleep(1.0)
            after = _cpu_times()
            busy, total = after[0] - before[0], after[1] - before[1]
            if total and 1 - busy / total >= idle:
                break
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def request(port: int, path: str, accept: str, connection: http.client.HTTPConnection | None = None):
    own = connection is None
    connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        connection.request("GET", path, headers={"Accept": accept})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        if own:
            connection.close()


def size_of(body: bytes, accept: str) -> int:
    if accept == SELECT:
        return len(json.loads(body)["results"]["bindings"])
    import pyoxigraph

    try:
        return len(list(pyoxigraph.parse(body, format=pyoxigraph.RdfFormat.TURTLE)))  # triples
    except SyntaxError:  # rdflib-endpoint's Turtle for DESCRIBE is not always valid (a space in an IRI)
        return -1


def latency(port: int, accept: str, paths: list[str], count: int, budget: float) -> tuple[float, int, int]:
    """Median seconds over up to ``count`` sequential requests (or ``budget`` seconds), and sizes."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    for path in paths[:3]:  # warm-up
        status, body = request(port, path, accept, connection)
        assert status == 200, (status, body[:500])
    times, first_size = [], None
    started = time.monotonic()
    for i in range(count):
        t = time.perf_counter()
        status, body = request(port, paths[i % len(paths)], accept, connection)
        times.append(time.perf_counter() - t)
        assert status == 200, (status, body[:500])
        if i == 0:
            first_size = size_of(body, accept)
        if time.monotonic() - started > budget and len(times) >= 3:
            break
    connection.close()
    return statistics.median(times), len(times), first_size


def throughput_wrk(port: int, accept: str, paths: list[str], seconds: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
                     "i = 0\nrequest = function()\n  i = i % #paths + 1\n"
                     f'  return wrk.format("GET", paths[i], {{["Accept"] = "{accept}"}})\nend\n')
    try:
        out = subprocess.run(["wrk", "-t2", "-c8", f"-d{seconds}s", "--timeout", "120s", "-s", script.name,
                              f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers under load:\n{out}")
    return float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))


def throughput_threads(port: int, accept: str, paths: list[str], seconds: int) -> float:
    done, stop = [0] * 8, time.monotonic() + seconds

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        i = k
        while time.monotonic() < stop:
            status, _ = request(port, paths[i % len(paths)], accept, connection)
            assert status == 200
            done[k] += 1
            i += 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.monotonic() - started)


def prepare(store: Path, work: Path) -> tuple[Path, Path, Path]:
    work.mkdir(parents=True, exist_ok=True)
    dump, nq, oxstore = work / "kb.nq.gz", work / "kb.nq", work / "oxigraph"
    if not dump.exists():
        t = time.monotonic()
        subprocess.run([str(BIN / "ptcekb"), "dump", "--store", str(store), "-o", str(dump)], check=True, cwd=ROOT)
        print(f"dump: {time.monotonic() - t:.1f} s", file=sys.stderr)
    if not nq.exists():
        import gzip
        with gzip.open(dump, "rb") as source, open(nq, "wb") as target:
            shutil.copyfileobj(source, target)
    if not oxstore.exists():
        t = time.monotonic()
        subprocess.run([str(BIN / "oxigraph"), "load", "--location", str(oxstore), "--file", str(dump)],
                       check=True, capture_output=True)
        print(f"oxigraph load: {time.monotonic() - t:.1f} s", file=sys.stderr)
    return dump, nq, oxstore


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--work", default="var/bench-sparql", help="dump and Oxigraph copy (reused)")
    parser.add_argument("--requests", type=int, default=40, help="sequential requests per query (latency)")
    parser.add_argument("--seconds", type=int, default=4, help="wrk duration per query (throughput)")
    parser.add_argument("--skip-rdflib", action="store_true")
    parser.add_argument("--port", type=int, default=18700)
    args = parser.parse_args()
    store, work = Path(os.path.abspath(ROOT / args.store)), Path(os.path.abspath(ROOT / args.work))  # var/store: a link
    _, nq, oxstore = prepare(store, work)
    triples = sum(1 for _ in open(nq, "rb"))
    print(f"{triples:,} quads", file=sys.stderr)
    use_wrk = shutil.which("wrk") is not None
    throughput = throughput_wrk if use_wrk else throughput_threads

    targets = [
        Target("oxigraph", [str(BIN / "oxigraph"), "serve-read-only", "--location", str(oxstore),
                            "--bind", f"127.0.0.1:{args.port}", "--union-default-graph"], args.port),
        Target("ptcekb", [sys.executable, "-m", "ptcekb.cli", "serve", "--store", str(store),
                          "--port", str(args.port + 1)], args.port + 1),
    ]
    floor = [sys.executable, str(ROOT / "bench" / "sparql_floor.py")]
    targets.append(Target("floor: uvicorn", [*floor, "--port", str(args.port + 3)], args.port + 3))
    targets.append(Target("floor: FastAPI", [*floor, "--fastapi", "--port", str(args.port + 4)], args.port + 4))
    if not args.skip_rdflib:
        targets.append(Target("rdflib-endpoint", [str(BIN / "rdflib-endpoint"), "serve", "--host", "127.0.0.1",
                                                  "--port", str(args.port + 2), str(nq)], args.port + 2, path="/"))
    results: dict[str, dict] = {}
    for target in targets:
        target.start()
        print(f"{target.name}: ready in {target.load_seconds:.1f} s, idle after {target.settle():.0f} s more",
              file=sys.stderr)
        try:
            results[target.name] = {"load": target.load_seconds}
            for name, (_, accept, queries) in QUERIES.items():
                paths = [path_for(q, target.path) for q in queries]
                median, n, size = latency(target.port, accept, paths, args.requests, budget=20)
                seconds = min(30, max(args.seconds, int(median * 16) + 1))
                rps = throughput(target.port, accept, paths, seconds)
                results[target.name][name] = {"median_ms": median * 1000, "n": n, "size": size, "rps": rps}
                print(f"  {name}: median {median * 1000:.2f} ms (n={n}, size {size}), {rps:.1f} req/s", file=sys.stderr)
        finally:
            target.stop()

    base = results["oxigraph"]
    print(f"\n{triples:,} quads; throughput client: {'wrk -t2 -c8' if use_wrk else '8 threads'}\n")
    print("| query | class | server | median latency, 1 client | × Oxigraph | req/s, 8 clients | × Oxigraph | result size |")
    print("|---|---|---|---|---|---|---|---|")
    for name, (weight, _, _) in QUERIES.items():
        for server, r in results.items():
            m = r[name]
            print(f"| {name} | {weight} | {server} | {m['median_ms']:.2f} ms | {m['median_ms'] / base[name]['median_ms']:.2f} "
                  f"| {m['rps']:,.1f} | {m['rps'] / base[name]['rps']:.3f} | {m['size']} |")
    print()
    for server, r in results.items():
        print(f"{server}: ready (load included) in {r['load']:.1f} s")
    (work / "results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
