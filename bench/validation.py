"""Benchmark: `ptcekb validate` against plain pySHACL on the same data, shapes and COG.

Anchor (same run, same machine): the `pyshacl` command line given the publisher's data, the shapes,
the ontology, the code lists and the whole COG (as a publisher without ptcekb would have to do).
Two workloads: one publisher file (one fictional PTCE, 30 members, territory checks through the COG),
and the whole knowledge base (every curated PTCE). Checks that both find the same results: the
same (focus node, source shape, severity, value, path) for every top-level result.
Then where the time of one publisher file goes, step by step, in a fresh interpreter, and the first
run after a build (which writes the validation cache next to the build).

    .venv/bin/python bench/validation.py [--store var/store] [--repeat 5] [--no-anchor]

Writes Markdown tables on stdout (paste them into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ptcekb.identifiers import luhn_check_digit  # noqa: E402
from ptcekb.ingest.template import read_template  # noqa: E402
from ptcekb.namespaces import PREFIXES, Namespaces  # noqa: E402

SH = "http://www.w3.org/ns/shacl#"
BIN = Path(sys.executable).parent


def publisher_file(directory: Path, members: int = 30) -> Path:
    """The fictional example of the template, grown to ``members`` members, as Turtle."""
    template = directory / "template"
    shutil.copytree(ROOT / "examples" / "template", template)
    with open(template / "membres.csv", encoding="utf-8-sig") as stream:
        rows = list(csv.DictReader(stream))
    fields = list(rows[0])
    communes = ["26108", "26011", "26289"]
    for index in range(len(rows), members):
        prefix = f"9{index:07d}"
        siren = prefix + luhn_check_digit(prefix)
        rows.append({**rows[index % 3], "nom": f"Entreprise Exemple {index} (fictive)", "siren": siren,
                     "siret": "", "role": "membre", "commune": communes[index % 3], "site_web": ""})
    with open(template / "membres.csv", "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fields)
        writer.writeheader()
        writer.writerows(rows)
    triples, rejects = read_template(template, Namespaces())
    assert not rejects, rejects
    output = directory / "publisher.ttl"
    ox.serialize(triples, str(output), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    return output


def graph_file(store: ox.Store, names: list[str], output: Path) -> Path:
    graphs = [ox.NamedNode(f"https://w3id.org/ptce/graph/{n}") for n in names]
    triples = (q.triple for g in graphs for q in store.quads_for_pattern(None, None, None, g))
    ox.serialize(triples, str(output), format=ox.RdfFormat.N_TRIPLES)
    return output


def timed(command: list[str], repeat: int) -> tuple[float, bytes, float]:
    """Median wall-clock seconds, the last output, and the median CPU seconds (user + system)."""
    times, cpu, output = [], [], b""
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        output = done.stdout
    return statistics.median(times), output, statistics.median(cpu)


def findings(turtle: bytes) -> set[tuple[str, ...]]:
    store = ox.Store()
    store.load(turtle, format=ox.RdfFormat.TURTLE)
    rows = store.query(f"""SELECT ?focus ?shape ?severity ?value ?path WHERE {{ ?report <{SH}result> ?r .
        ?r <{SH}focusNode> ?focus ; <{SH}sourceShape> ?shape ; <{SH}resultSeverity> ?severity .
        OPTIONAL {{ ?r <{SH}value> ?value }} OPTIONAL {{ ?r <{SH}resultPath> ?path }} }}""")
    return {tuple(_term(r[v]) for v in ("focus", "shape", "severity", "value", "path")) for r in rows}


def _term(term) -> str:
    """Blank nodes differ from one report to the other: compared as "_:"."""
    return "" if term is None else "_:" if isinstance(term, ox.BlankNode) else str(term)


PHASES = r"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
import ptcekb.cli  # what `ptcekb validate` imports...
from ptcekb.validate import context_for, load_input, render, validate  # ...and its handler
from ptcekb.config import Settings
from ptcekb.store import StoreLocation, open_read_only
imported = time.perf_counter()
settings = Settings.from_env(store=Path(sys.argv[1]))
context = context_for(open_read_only(settings.store), settings, StoreLocation(settings.store).current())
opened = time.perf_counter()
data = load_input([Path(sys.argv[2])], settings)
loaded = time.perf_counter()
timings = {}
report = validate(data, context, timings)
validated = time.perf_counter()
render(report, "human", "fr")
done = time.perf_counter()
print(json.dumps({"imports": imported - start, "store, shapes and model (cache)": opened - imported,
                  "reading the file": loaded - opened, **timings, "rendering": done - validated,
                  "in process": done - start}))
"""


def phases(store: str, data: Path, repeat: int) -> dict[str, float]:
    """Median seconds of each step of one validation, each run in a fresh interpreter."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", PHASES, store, str(data)], capture_output=True, check=True)
        wall = time.perf_counter() - start
        run = json.loads(done.stdout)
        run["interpreter start-up and exit"] = wall - run.pop("in process")
        run["total"] = wall
        runs.append(run)
    return {step: statistics.median(r[step] for r in runs) for step in runs[0]}


def cache_of(store: str) -> Path:
    build = Path(store).resolve()
    return build.with_name(build.name + ".validation.pickle")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-anchor", action="store_true", help="time ptcekb only (no pyshacl run, no findings check)")
    args = parser.parse_args()
    store = ox.Store.read_only(str(Path(args.store).resolve()))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shapes = graph_file(store, ["shapes"], tmp / "shapes.nt")
        model_and_cog = graph_file(store, ["ontology", "vocabularies", "cog"], tmp / "model-cog.nt")
        workloads = {
            "one publisher file (1 PTCE, 30 members)": publisher_file(tmp),
            "whole knowledge base (every curated PTCE)": graph_file(store, ["ptce", "calls"], tmp / "kb.nt"),
        }
        print(f"Load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
        print(f"| workload | ptcekb validate, median of {args.repeat} (CPU) | pyshacl CLI, data + shapes + whole COG (CPU) "
              "| ratio | same findings |")
        print("|---|---|---|---|---|")
        publisher = workloads["one publisher file (1 PTCE, 30 members)"]
        for label, data in workloads.items():
            timed([str(BIN / "ptcekb"), "validate", "--store", args.store, str(data)], 1)  # warm-up, writes the cache
            ours, our_report, our_cpu = timed([str(BIN / "ptcekb"), "validate", "--store", args.store, "--format", "turtle",
                                         str(data)], args.repeat)
            if args.no_anchor:
                print(f"| {label} | {ours:.2f} s ({our_cpu:.2f} s) | not run | | |")
                continue
            combined = tmp / "combined.nt"
            combined.write_bytes(model_and_cog.read_bytes() + _as_ntriples(data))
            anchor, anchor_report, anchor_cpu = timed([str(BIN / "pyshacl"), "-s", str(shapes), "-f", "turtle", str(combined)],
                                             max(1, args.repeat // 5))
            same = findings(our_report) == findings(anchor_report)
            for side, extra in (("only ptcekb", findings(our_report) - findings(anchor_report)),
                                ("only pyshacl", findings(anchor_report) - findings(our_report))):
                for finding in sorted(extra)[:10]:
                    print(f"{label}: {side}: {finding}", file=sys.stderr)
            print(f"| {label} | {ours:.2f} s ({our_cpu:.2f} s) | {anchor:.1f} s ({anchor_cpu:.1f} s) | {anchor / ours:.0f}× "
                  f"| {'yes' if same else 'NO'} ({len(findings(our_report))} results) |")

        print(f"\nOne publisher file, step by step (median of {args.repeat} fresh interpreters, seconds):\n")
        print("| step | time |")
        print("|---|---|")
        for step, seconds in phases(args.store, publisher, args.repeat).items():
            print(f"| {step} | {seconds:.3f} |")

        cache = cache_of(args.store)
        cache.unlink(missing_ok=True)
        first, _, first_cpu = timed([str(BIN / "ptcekb"), "validate", "--store", args.store, str(publisher)], 1)
        print(f"\nFirst run after a build (no validation cache yet, writes it): {first:.2f} s ({first_cpu:.2f} s CPU).")
        print(f"\nLoad average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def _as_ntriples(path: Path) -> bytes:
    return ox.serialize(ox.parse(path=str(path)), format=ox.RdfFormat.N_TRIPLES)


if __name__ == "__main__":
    main()
