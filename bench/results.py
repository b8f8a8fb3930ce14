"""Large results (issue 23, item 2): a 10,000-row SELECT in every results format and a 10,000-triple
CONSTRUCT, ptcekb against Oxigraph's server, same data, same run, as ratios.

The same data as bench/sparql.py (``ptcekb dump`` of the built store, loaded into Oxigraph's own
store with ``oxigraph load``; reused from ``--work``). Both servers run at once, idle between their
requests; every round asks every case of both, alternating (Oxigraph first in even rounds, ptcekb
first in odd ones), so a change in the machine's load weighs on all alike. ptcekb: ``ptcekb serve``
with default settings (row cap 10,000). Oxigraph 0.5: ``oxigraph serve-read-only --union-default-graph``.
Median of ``--rounds`` sequential keep-alive requests (``http.client``), whole body read; the ratio
of the best times is given too (the least disturbed request of each).

Cases: ``SELECT ?s ?p ?o { ?s ?p ?o } LIMIT 10000`` in JSON, XML, CSV, TSV; the same SELECT without
LIMIT, cut at the row cap by ptcekb (with its truncation markers) against Oxigraph's ``LIMIT 10000``;
``CONSTRUCT WHERE { ?s ?p ?o } LIMIT 10000`` as Turtle (ptcekb abbreviates with its prefixes) and
N-Triples. Answers are compared as sorted rows or triples, blank nodes unnamed (each store names its
own, so their order differs too). ``--baseline DIR`` serves another ptcekb source tree as well (for
instance ``git archive main | tar -x -C DIR``), to measure a change in the same run.

    .venv/bin/pip install -e '.[bench]' -c constraints.txt
    .venv/bin/ptcekb build && .venv/bin/python bench/results.py --store var/store
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sparql import BIN, ROOT, Target, path_for, prepare  # noqa: E402 - bench/ is not a package

ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
GRAPH = "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 10000"
RESULTS = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml", "csv": "text/csv",
           "tsv": "text/tab-separated-values"}
CASES = [  # name, Accept, ptcekb's query, Oxigraph's query
    *((f"SELECT 10,000 rows, {name}", accept, ALL + " LIMIT 10000", ALL + " LIMIT 10000")
      for name, accept in RESULTS.items()),
    *((f"SELECT cut at the row cap, {name}", accept, ALL, ALL + " LIMIT 10000") for name, accept in RESULTS.items()),
    ("CONSTRUCT 10,000 triples, Turtle", "text/turtle", GRAPH, GRAPH),
    ("CONSTRUCT 10,000 triples, N-Triples", "application/n-triples", GRAPH, GRAPH),
]


def answer_rows(body: bytes, accept: str) -> list[str]:
    """The rows (or triples) of an answer, sorted, blank nodes unnamed (each store names its own)."""
    import pyoxigraph as ox

    if accept == "text/csv":  # write-only for pyoxigraph: lines, blank node labels dropped
        return sorted(re.sub(rb"_:[0-9A-Za-z]+", b"_:", body).decode().split("\r\n"))
    if accept in RESULTS.values():
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.from_media_type(accept))
        names = [v.value for v in solutions.variables]
        answer = [[row[n] for n in names] for row in solutions]
    else:
        answer = [[q.subject, q.predicate, q.object] for q in ox.parse(body, format=ox.RdfFormat.from_media_type(accept))]
    return sorted(" ".join("_:" if isinstance(t, ox.BlankNode) else str(t) for t in row) for row in answer)


def fetch(connection: http.client.HTTPConnection, path: str, accept: str) -> tuple[float, bytes, dict]:
    started = time.perf_counter()
    connection.request("GET", path, headers={"Accept": accept})
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    assert response.status == 200, (response.status, body[:300])
    return elapsed, body, dict(response.getheaders())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--work", default="var/bench-sparql", help="dump and Oxigraph copy (reused)")
    parser.add_argument("--rounds", type=int, default=15, help="requests per case and server")
    parser.add_argument("--port", type=int, default=18720)
    parser.add_argument("--baseline", help="another ptcekb source tree (e.g. `git archive main`), served as well")
    args = parser.parse_args()
    store, work = Path(os.path.abspath(ROOT / args.store)), Path(os.path.abspath(ROOT / args.work))
    _, _, oxstore = prepare(store, work)
    oxigraph = Target("oxigraph", [str(BIN / "oxigraph"), "serve-read-only", "--location", str(oxstore),
                                   "--bind", f"127.0.0.1:{args.port}", "--union-default-graph"], args.port)
    ptcekb = Target("ptcekb", [sys.executable, "-m", "ptcekb.cli", "serve", "--store", str(store),
                               "--port", str(args.port + 1)], args.port + 1)
    targets = [oxigraph, ptcekb]
    if args.baseline:
        baseline = Target("baseline", ptcekb.command[:-1] + [str(args.port + 2)], args.port + 2)
        baseline.env = {**os.environ, "PYTHONPATH": os.path.abspath(args.baseline)}
        baseline.cwd = Path(os.path.abspath(args.baseline))  # `python -m` puts the directory first on the path
        targets.append(baseline)
    rows = []
    try:
        for target in targets:
            target.start()
        print(f"servers ready; idle after {ptcekb.settle(timeout=30):.0f} s; load average {os.getloadavg()[0]:.1f}",
              file=sys.stderr)
        connections = {t.name: http.client.HTTPConnection("127.0.0.1", t.port, timeout=300) for t in targets}
        paths = {name: {t.name: path_for(theirs if t is oxigraph else ours) for t in targets}
                 for name, _, ours, theirs in CASES}
        times: dict[str, dict[str, list[float]]] = {name: {t.name: [] for t in targets} for name, *_ in CASES}
        for name, accept, _, _ in CASES:  # warm-up, and the answers compared
            bodies, headers = {}, {}
            for server, path in paths[name].items():
                _, bodies[server], headers[server] = fetch(connections[server], path, accept)
            truncated = {k.lower(): v for k, v in headers["ptcekb"].items()}.get("x-ptcekb-truncated")
            same = "same" if answer_rows(bodies["ptcekb"], accept) == answer_rows(bodies["oxigraph"], accept) else "differ"
            rows.append((name, len(bodies["oxigraph"]), len(bodies["ptcekb"]), same, truncated))
        for round_ in range(args.rounds):  # every case in every round: a burst of load spreads over all
            for name, accept, _, _ in CASES:
                order = list(paths[name]) if round_ % 2 == 0 else list(reversed(paths[name]))
                for server in order:
                    times[name][server].append(fetch(connections[server], paths[name][server], accept)[0])
            print(f"  round {round_ + 1}/{args.rounds}, load average {os.getloadavg()[0]:.1f}", file=sys.stderr)
        load = os.getloadavg()
    finally:
        for target in reversed(targets):
            target.stop()
    print(f"\nmedian of {args.rounds} requests each (every case in every round, servers alternating); load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}\n")
    extra = " | baseline | × Oxigraph" if args.baseline else ""
    print(f"| case | Oxigraph server | ptcekb | × Oxigraph (best of {args.rounds}){extra} | bytes (Oxigraph / ptcekb) "
          "| rows | X-PTCEKB-Truncated |")
    print("|---|---:|---:|---:|" + ("---:|---:|" if args.baseline else "") + "---|---|---|")
    for name, theirs_size, ours_size, same, truncated in rows:
        ms = {server: statistics.median(t) * 1000 for server, t in times[name].items()}
        best = {server: min(t) for server, t in times[name].items()}
        base = f" | {ms['baseline']:.1f} ms | {ms['baseline'] / ms['oxigraph']:.2f}" if args.baseline else ""
        print(f"| {name} | {ms['oxigraph']:.1f} ms | {ms['ptcekb']:.1f} ms | {ms['ptcekb'] / ms['oxigraph']:.2f} "
              f"({best['ptcekb'] / best['oxigraph']:.2f}){base} | {theirs_size:,} / {ours_size:,} | {same} | {truncated or '—'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
