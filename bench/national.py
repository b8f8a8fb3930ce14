"""Every page kind and every competency question at national scale, with the growth curve (issue 23, item 5).

    .venv/bin/python bench/national.py --work /tmp/nat --sizes 0 500000 1000000 2000000 4000000 [--runs 5]

For each size: legal units with their establishments generated from the real samples
(bench/sirene_generate.py ``--from-samples``: INSEE's 35-column layout, the samples' legal
categories, 4 % kept), ingested with ``ptcekb ingest sirene`` into a clone of one build of the
sources (size 0: that build, without SIRENE); then ``ptcekb serve`` on it, through HTTP: the first
request of the costly once-per-build pages just after the start (made at publication, never by a
request), then each page of every kind and every ``queries/*.rq`` (POST /sparql) ``--runs`` times
in turn, median per page. The table gives each median, its ratio to the same page at size 0 (or,
for what only SIRENE holds, at the smallest size) and the check "< 2 s and ≤ 3×". Data, stores
and ``results.json`` go to ``--work`` (never data/).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pages import free_port  # noqa: E402
from sirene_generate import generate_from_samples  # noqa: E402
from ptcekb.describe import INCOMING_PAGE  # noqa: E402
from ptcekb.store import clone_build  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable
BASE = "https://w3id.org/ptce/"
SIRENE = BASE + "graph/sirene"
CONCEPTS = ("concept/types-identifiants/siren", "concept/categories-juridiques/9220")
# Pages of every kind that the sources hold whatever the size (kind, path).
PAGES = [
    ("commune", "/id/commune/26108"), ("commune", "/id/commune/75056"), ("EPCI", "/id/epci/200040509"),
    ("département", "/id/departement/26"), ("région", "/id/region/84"), ("région", "/id/region/11"),
    ("organisation", "/id/organisation/groupe-archer"), ("PTCE", "/id/ptce/3-eva"),
    ("list", "/"), ("list", "/id/ptce/"), ("list", "/id/organisation/"), ("list", "/id/organisation/?q=solidaire"),
    ("list", "/id/commune/?q=arras"), ("list", "/id/etablissement/"), ("list", "/about"),
    ("statistics", "/.well-known/void"),
]
FIRST = ("/", "/about", "/.well-known/void", "/id/organisation/", "/dumps/ptcekb.nq.gz")


def run(command: list[str]) -> float:
    started = time.monotonic()
    subprocess.run(command, check=True, cwd=ROOT, env={**os.environ, "CI": "1"}, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def store_for(work: Path, units: int) -> tuple[Path, dict]:
    """The store of ``units`` generated legal units (made once; ``work/store`` for 0), and the ingest's figures."""
    base = work / "store"
    if not base.exists():
        print(f"building {base} ...", file=sys.stderr)
        run([PYTHON, "-m", "ptcekb.cli", "build", "--store", str(base)])
    if units == 0:
        return base, {}
    target = work / f"size-{units}" / "store"
    report = target.with_name("store.sirene") / "sirene.json"
    if target.exists() and report.exists():
        return target, json.loads((target.parent / "ingest.json").read_text())
    data = work / f"stock-{units}"
    if not (data / "counts.json").exists():
        print(f"generating {units:,} legal units ...", file=sys.stderr)
        generate_from_samples(units, data)
    shutil.rmtree(target.parent, ignore_errors=True)
    current = base.resolve()
    builds = target.with_name("store.builds")
    (builds / current.name).mkdir(parents=True)
    clone_build(current, builds / current.name)
    target.symlink_to(Path(builds.name) / current.name)
    print(f"ingesting {units:,} legal units ...", file=sys.stderr)
    seconds = run([PYTHON, "-m", "ptcekb.cli", "ingest", "sirene", "--store", str(target),
                   "--unites-legales", str(data / "StockUniteLegale_utf8.zip"),
                   "--etablissements", str(data / "StockEtablissement_utf8.zip")])
    summary = json.loads(report.read_text(encoding="utf-8"))["summary"]
    figures = {"seconds": round(seconds, 1), "triples": summary["triples"], "kept_units": summary["kept_units"],
               "kept_establishments": summary["kept_establishments"],
               "artefacts": round(sum(v for k, v in summary["seconds"].items() if k.startswith("artefacts")), 1)}
    (target.parent / "ingest.json").write_text(json.dumps(figures), encoding="utf-8")
    return target, figures


def sirene_pages(store: Path) -> list[tuple[str, str]]:
    """A generated organisation and one of its establishments (the same at every size: same seed),
    and the concepts with the most incoming links, first and deepest page."""
    kb = ox.Store.read_only(str(store.resolve()))
    out = []
    found = list(kb.query(f"""SELECT ?o ?e WHERE {{ GRAPH <{SIRENE}> {{ ?o <http://www.w3.org/ns/org#hasSite> ?e
        FILTER(STRSTARTS(STR(?o), "{BASE}id/organisation/9")) }} }} ORDER BY ?o LIMIT 1"""))
    if found:
        out += [("organisation (SIRENE)", found[0]["o"].value.removeprefix(BASE[:-1])),
                ("establishment", found[0]["e"].value.removeprefix(BASE[:-1]))]
    for concept in CONCEPTS:
        (row,) = kb.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s ?p <{BASE}{concept}> }}", use_default_graph_as_union=True)
        deepest = max(1, -(-int(row["n"].value) // INCOMING_PAGE))
        out += [("concept", f"/{concept}"), ("concept, deepest incoming", f"/{concept}?incoming={deepest}")]
    return out


def serve(store: Path, root: Path):
    port = free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([PYTHON, "-m", "ptcekb.cli", "serve", "--store", str(store), "--port", str(port)],
                               cwd=root, stdout=log, stderr=log, env={**os.environ, "CI": "1"})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/healthz", timeout=5).status_code == 200:
                return process, url, log
        except httpx.HTTPError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the server did not start")


def measure(store: Path, runs: int, root: Path) -> dict:
    pages = PAGES + sirene_pages(store)
    queries = sorted((ROOT / "queries").glob("*.rq"))
    process, url, log = serve(store, root)
    try:
        with httpx.Client(base_url=url, timeout=120) as http:
            first = {}
            for path in FIRST:  # to the first byte: what a request waits for before anything comes
                started = time.perf_counter()
                with http.stream("GET", path, headers={"Accept": "text/turtle"} if "void" in path else {}) as reply:
                    first[path] = {"ms": round((time.perf_counter() - started) * 1000, 1), "status": reply.status_code}
            times: dict[str, list[float]] = {}
            notes: dict[str, str] = {}

            def fetch(key: str, send) -> None:
                started = time.perf_counter()
                reply = send()
                times.setdefault(key, []).append(time.perf_counter() - started)
                if reply.status_code != 200:
                    notes[key] = f"HTTP {reply.status_code}"
                elif 'id="sections-missing"' in reply.text:
                    notes[key] = "a section out of time"

            for _ in range(runs + 1):  # the first round warms the caches; it is dropped
                for _kind, path in pages:
                    fetch(path, lambda path=path: http.get(path, headers={"Accept": "text/turtle"} if "void" in path else {}))
                for query in queries:
                    fetch(f"queries/{query.name}", lambda query=query: http.post(
                        "/sparql", content=query.read_bytes(), headers={"Content-Type": "application/sparql-query",
                                                                        "Accept": "application/sparql-results+json"}))
            kinds = {path: kind for kind, path in pages} | {f"queries/{q.name}": "competency question" for q in queries}
            return {"first": first, "load": os.getloadavg()[0], "pages": {
                key: {"kind": kinds[key], "median_ms": round(statistics.median(values[1:]) * 1000, 1),
                      "fastest_ms": round(min(values[1:]) * 1000, 1), "note": notes.get(key, "")}
                for key, values in times.items()}}
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def markdown(results: list[dict]) -> str:
    """The growth curve: median per page and size, the ratio of the largest size to the same page
    at size 0 (a concept's deepest incoming page: to its first page at size 0; what only SIRENE
    holds: to the smallest size that has it) and the check; then the first requests and the ingests."""
    sizes = [r["units"] for r in results]
    pages = [{re.sub(r"incoming=\d+", "incoming=last", k): v for k, v in r["pages"].items()} for r in results]
    head = " | ".join(f"{s / 1e6:g} M" for s in sizes)
    lines = [f"| kind | page | {head} | ratio | < 2 s and ≤ 3× |", "|---|---|" + "---:|" * len(sizes) + "---:|---|",
             "| | load (1 min) | " + " | ".join(f"{r['load']:.1f}" for r in results) + " | | |"]
    for key in dict.fromkeys(k for found in pages for k in found):
        found = [p.get(key) for p in pages]
        known = [f for f in found if f]
        reference = (pages[0].get(key) or pages[0].get(key.split("?incoming")[0]) or known[0])["median_ms"]
        last = known[-1]
        ratio = last["median_ms"] / reference
        ok = last["median_ms"] < 2000 and ratio <= 3 and not last["note"]
        cells = ["—" if f is None else f"{f['median_ms']:,.0f}" + (" †" if f["note"] else "") for f in found]
        lines.append(f"| {known[0]['kind']} | `{key}` | " + " | ".join(cells) + f" | {ratio:.2f} | {'yes' if ok else '**no**'} |")
    lines += ["", "| first request after the start (ms to the first byte) | " + head + " |", "|---|" + "---:|" * len(sizes)]
    for path in FIRST:
        lines.append(f"| `{path}` | " + " | ".join(f"{r['first'][path]['ms']:,.0f}" for r in results) + " |")
    lines += ["", "| ingest | " + head + " |", "|---|" + "---:|" * len(sizes)]
    for name, key in (("`graph/sirene` triples", "triples"), ("kept legal units", "kept_units"),
                      ("kept establishments", "kept_establishments"), ("wall time, s", "seconds"),
                      ("of which artefacts (dumps, statistics, indexes), s", "artefacts")):
        lines.append(f"| {name} | " + " | ".join(f"{r['ingest'][key]:,}" if r["ingest"] else "—" for r in results) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ptcekb-national"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 500_000, 1_000_000, 2_000_000, 4_000_000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose `ptcekb serve` is measured")
    parser.add_argument("--report", type=Path, nargs="*", help="only print the table of these results.json files, merged")
    args = parser.parse_args()
    if args.report:
        merged = {r["units"]: r for path in args.report for r in json.loads(path.read_text())}
        print(markdown([merged[units] for units in sorted(merged)]))
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    saved = args.work / "results.json"
    results = json.loads(saved.read_text()) if saved.exists() else []
    for units in args.sizes:
        store, ingest = store_for(args.work, units)
        print(f"measuring {units:,} legal units (load {os.getloadavg()[0]:.1f}) ...", file=sys.stderr)
        result = {"units": units, "ingest": ingest, **measure(store, args.runs, args.root.resolve())}
        results = sorted([r for r in results if r["units"] != units] + [result], key=lambda r: r["units"])
        saved.write_text(json.dumps(results, indent=1), encoding="utf-8")
        print(json.dumps({k: result[k] for k in ("units", "ingest", "first", "load")}), file=sys.stderr)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
