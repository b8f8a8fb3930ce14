"""Benchmark: `ptcekb ingest sirene` on synthetic stock files in INSEE's exact layout.

For each size (legal units; establishments come with them, ~1.4 per unit, ~4 % ESS units), in the
same run and on the same files:

* anchor 1, the floor of reading: Python's ``csv`` module alone reading both zipped files
  (``csv.reader`` over the zip members, counting rows);
* ``ptcekb ingest sirene`` itself (a subprocess, as a user runs it), with its stage times;
* anchor 2, the floor of storing: one pyoxigraph ``bulk_load`` of the N-Triples the ingest produced,
  into an empty on-disk store, then ``optimize`` (what loading and compacting alone cost, with
  Oxigraph's default loader; the ingest compacts too, as a store read after blockwise loads is
  3-4x slower on point lookups).

Wall time, CPU time and peak memory (from wait4) of each subprocess; then a linear extrapolation
to the national stock (29 M legal units, 40 M establishments).

    .venv/bin/python bench/sirene.py [--sizes 1000000 4000000] [--work /tmp/ptcekb-bench-sirene]

Writes Markdown on stdout (pasted into docs/benchmarks.md) and JSON into WORK/results.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from sirene_generate import generate  # noqa: E402

PYTHON = sys.executable
NATIONAL_UNITS, NATIONAL_ESTABLISHMENTS = 29_000_000, 40_000_000

CSV_ANCHOR = """
import csv, io, sys, zipfile
rows = 0
for path in sys.argv[1:]:
    with zipfile.ZipFile(path) as archive:
        with archive.open(archive.namelist()[0]) as raw:
            for row in csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
                rows += 1
print(rows)
"""

LOAD_ANCHOR = """
import json, sys, time, pyoxigraph as ox
store = ox.Store(sys.argv[1])
started = time.monotonic()
store.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("https://w3id.org/ptce/graph/sirene"))
store.flush()
loaded = time.monotonic()
store.optimize()
print(json.dumps({"load": round(loaded - started, 2), "optimize": round(time.monotonic() - loaded, 2)}))
"""


def measure(command: list[str], env: dict | None = None) -> dict:
    """Run a command; its wall time, peak memory (MB) and output."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env={**os.environ, "CI": "1", **(env or {})})
        _, status, usage = os.wait4(process.pid, 0)  # the child's own rusage (max RSS)
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {stderr[-2000:]}")
    return {"seconds": round(seconds, 2), "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_mb": round(usage.ru_maxrss / 1024), "stdout": stdout.strip(),
            "stderr": stderr.strip()}


def run(sizes: list[int], work: Path) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    if not store.exists():
        print(f"building a store in {store} ...", file=sys.stderr)
        measure([PYTHON, "-m", "ptcekb.cli", "build", "--store", str(store)])
    results = []
    for units in sizes:
        data = work / f"stock-{units}"
        counts_file = data / "counts.json"
        if not counts_file.exists() or json.loads(counts_file.read_text())["units"] != units:
            print(f"generating {units:,} legal units ...", file=sys.stderr)
            shutil.rmtree(data, ignore_errors=True)
            generate(units, data)
        counts = json.loads(counts_file.read_text())
        files = [data / "StockUniteLegale_utf8.zip", data / "StockEtablissement_utf8.zip"]
        print(f"{units:,}: csv anchor ...", file=sys.stderr)
        csv_anchor = measure([PYTHON, "-c", CSV_ANCHOR, *map(str, files)])
        print(f"{units:,}: ptcekb ingest sirene ...", file=sys.stderr)
        ingest = measure([PYTHON, "-m", "ptcekb.cli", "ingest", "sirene", "--store", str(store),
                          "--unites-legales", str(files[0]), "--etablissements", str(files[1])])
        derived = work / "store.sirene"
        report = json.loads((derived / "sirene.json").read_text(encoding="utf-8"))
        nt = derived / "sirene.nt"
        print(f"{units:,}: bulk_load anchor ...", file=sys.stderr)
        target = work / "load-anchor"
        shutil.rmtree(target, ignore_errors=True)
        load_anchor = measure([PYTHON, "-c", LOAD_ANCHOR, str(target), str(nt)])
        shutil.rmtree(target, ignore_errors=True)
        summary = report["summary"]
        result = {
            "units": units, "establishments": counts["establishments"],
            "zip_bytes": sum(f.stat().st_size for f in files), "nt_bytes": nt.stat().st_size,
            "kept_units": summary["kept_units"], "kept_establishments": summary["kept_establishments"],
            "triples": summary["triples"], "stages": summary["seconds"], "rejects": summary["rejects"],
            "ingest": {k: ingest[k] for k in ("seconds", "cpu", "peak_mb")},
            "csv_anchor": {k: csv_anchor[k] for k in ("seconds", "cpu", "peak_mb")},
            "load_anchor": {**{k: load_anchor[k] for k in ("seconds", "cpu", "peak_mb")},
                            **json.loads(load_anchor["stdout"].splitlines()[-1])},
        }
        results.append(result)
        print(json.dumps(result), file=sys.stderr)
    (work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def markdown(results: list[dict]) -> str:
    lines = [
        "| legal units | establishments | rows/s | ingest: wall (CPU) | of which: start of the build (clone or copy of the other graphs) / reading, loading alongside / load after reading / count + meta / optimize | peak memory | triples | anchor: `csv` module alone | anchor: pyoxigraph `bulk_load` + `optimize`, wall (CPU) |",
        "|---:|---:|---:|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        rows = r["units"] + r["establishments"]
        s, ingest, load = r["stages"], r["ingest"], r["load_anchor"]
        reading = s.get("legal units", 0) + s.get("establishments", 0)
        lines.append(
            f"| {r['units']:,} | {r['establishments']:,} | {rows / ingest['seconds']:,.0f} "
            f"| {ingest['seconds']:.1f} s ({ingest['cpu']:.0f} s) "
            f"| {s.get('store: start', 0):.1f} s / {reading:.1f} s / {s.get('store: load after reading', 0):.1f} s / {s.get('store: count and meta', 0):.1f} s "
            f"/ {s.get('store: optimize', 0):.1f} s "
            f"| {ingest['peak_mb']:,} MB | {r['triples']:,} | {r['csv_anchor']['seconds']:.1f} s ({r['csv_anchor']['peak_mb']} MB) "
            f"| {load['load']:.1f} s + {load['optimize']:.1f} s ({load['cpu']:.0f} s; {load['peak_mb']:,} MB) |")
    last = results[-1]
    factor = NATIONAL_UNITS / last["units"]
    load = last["load_anchor"]
    cpu_floor = (load["cpu"] + last["csv_anchor"]["cpu"]) * factor / 2

    def scaled(r: dict) -> float:
        """Seconds that grow with the input: all but the start (a clone, or a copy of the ~800k
        triples of the other graphs, done once whatever the input)."""
        return r["ingest"]["seconds"] - r["stages"].get("store: start", 0)

    national = scaled(last) * factor + last["stages"].get("store: start", 0)
    lines += [
        "",
        f"Linear extrapolation from the {last['units']:,} run to the national stock ({NATIONAL_UNITS:,} legal units, "
        f"~{NATIONAL_ESTABLISHMENTS:,} establishments; the generated files have {last['establishments'] / last['units']:.2f} "
        f"establishments per unit), {last['triples'] * factor / 1e6:.0f} M triples: ingest about "
        f"{national / 60:.1f} min (the start of the build not scaled); the `csv` anchor alone {last['csv_anchor']['seconds'] * factor / 60:.1f} min; "
        f"pyoxigraph's `bulk_load` of the triples {load['load'] * factor / 60:.1f} min and its `optimize` "
        f"{load['optimize'] * factor / 60:.1f} min. The anchors' CPU time alone (reading with `csv` + loading and compacting), "
        f"spread perfectly over 2 cores, is {cpu_floor / 60:.1f} min.",
    ]
    if len(results) > 1:
        first = results[0]
        ratio = scaled(last) / scaled(first)
        lines.append(f"Growth: {last['units'] / first['units']:.0f}× the input took {ratio:.2f}× the time, start of the build aside "
                     f"(peak memory {first['ingest']['peak_mb']:,} MB → {last['ingest']['peak_mb']:,} MB).")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 4_000_000])
    parser.add_argument("--work", type=Path, default=Path("/tmp/ptcekb-bench-sirene"))
    args = parser.parse_args()
    results = run(args.sizes, args.work)
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
