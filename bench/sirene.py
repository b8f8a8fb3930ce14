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

Wall time, CPU time and peak memory (from wait4) of each subprocess; the ratio of the ingest's CPU
time to the floor's (``csv`` + ``bulk_load`` + ``optimize``: CPU time, as the machine is shared with
other jobs and wall time says more about them than about us); then a linear extrapolation to the
national stock (29 M legal units, 40 M establishments).

The files are copied from the real samples (``generate_from_samples``) in each layout and share of
kept units asked (default: the current 35-column layout, 4 % kept, as nationally); ``--synthetic``
runs the random rows of ``generate`` instead.

    .venv/bin/python bench/sirene.py [--sizes 1000000 4000000] [--layouts 33 34 35] [--kept-shares 0.04 0.35]
                                     [--synthetic] [--work /tmp/ptcekb-bench-sirene]

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

from sirene_generate import generate, generate_from_samples  # noqa: E402

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


def run(sizes: list[int], work: Path, layouts: list[int] | None = None, shares: list[float] | None = None,
        synthetic: bool = False) -> list[dict]:
    """Each size x layout x share of kept units (rows copied from the real samples), or each size of
    the random rows of ``generate`` (``synthetic``)."""
    work.mkdir(parents=True, exist_ok=True)
    store = work / "store"
    if not store.exists():
        print(f"building a store in {store} ...", file=sys.stderr)
        measure([PYTHON, "-m", "ptcekb.cli", "build", "--store", str(store)])
    configs = [(None, None, units) for units in sizes] if synthetic else \
        [(layout, share, units) for layout in layouts for share in shares for units in sizes]
    results = []
    for layout, share, units in configs:
        label = f"{units:,}" if synthetic else f"{units:,} ({layout} columns, {share:.0%} kept)"
        data = work / (f"stock-{units}" if synthetic else f"stock-{layout}-{share}-{units}")
        counts_file = data / "counts.json"
        expected = {"units": units} if synthetic else {"units": units, "layout": layout, "kept_share": share}
        if not counts_file.exists() or any(json.loads(counts_file.read_text()).get(k) != v for k, v in expected.items()):
            print(f"generating {label} ...", file=sys.stderr)
            shutil.rmtree(data, ignore_errors=True)
            if synthetic:
                generate(units, data)
            else:
                generate_from_samples(units, data, layout, share)
        counts = json.loads(counts_file.read_text())
        files = [data / "StockUniteLegale_utf8.zip", data / "StockEtablissement_utf8.zip"]
        print(f"{label}: csv anchor ...", file=sys.stderr)
        csv_anchor = measure([PYTHON, "-c", CSV_ANCHOR, *map(str, files)])
        print(f"{label}: ptcekb ingest sirene ...", file=sys.stderr)
        ingest = measure([PYTHON, "-m", "ptcekb.cli", "ingest", "sirene", "--store", str(store),
                          "--unites-legales", str(files[0]), "--etablissements", str(files[1])])
        derived = work / "store.sirene"
        report = json.loads((derived / "sirene.json").read_text(encoding="utf-8"))
        nt = derived / "sirene.nt"
        print(f"{label}: bulk_load anchor ...", file=sys.stderr)
        target = work / "load-anchor"
        shutil.rmtree(target, ignore_errors=True)
        load_anchor = measure([PYTHON, "-c", LOAD_ANCHOR, str(target), str(nt)])
        shutil.rmtree(target, ignore_errors=True)
        summary = report["summary"]
        floor = csv_anchor["cpu"] + load_anchor["cpu"]
        result = {
            "units": units, "layout": layout or 35, "kept_share": share, "source": counts.get("source", "random rows"),
            "establishments": counts["establishments"],
            "zip_bytes": sum(f.stat().st_size for f in files), "nt_bytes": nt.stat().st_size,
            "kept_units": summary["kept_units"], "kept_establishments": summary["kept_establishments"],
            "triples": summary["triples"], "stages": summary["seconds"], "rejects": summary["rejects"],
            "columns": summary["layouts"],
            "ingest": {k: ingest[k] for k in ("seconds", "cpu", "peak_mb")},
            "csv_anchor": {k: csv_anchor[k] for k in ("seconds", "cpu", "peak_mb")},
            "load_anchor": {**{k: load_anchor[k] for k in ("seconds", "cpu", "peak_mb")},
                            **json.loads(load_anchor["stdout"].splitlines()[-1])},
            "floor_cpu": round(floor, 2), "ratio": round(ingest["cpu"] / floor, 3),
        }
        results.append(result)
        print(json.dumps(result), file=sys.stderr)
    (work / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return results


def ratios(results: list[dict]) -> str:
    """Each run's CPU time against its floor (``csv`` reading + ``bulk_load`` + ``optimize`` of the
    same triples, same run), and the marginal ratio between the sizes of one layout and share."""
    lines = [
        "| layout | kept units | legal units | establishments | triples | ingest CPU (wall) | floor CPU: `csv` + `bulk_load` + `optimize` | ratio to floor | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        share = f"{r['kept_units'] / r['units']:.1%}"
        lines.append(
            f"| {r['layout']} | {share} | {r['units']:,} | {r['establishments']:,} | {r['triples']:,} "
            f"| {r['ingest']['cpu']:.1f} s ({r['ingest']['seconds']:.1f} s) "
            f"| {r['csv_anchor']['cpu']:.1f} + {r['load_anchor']['cpu']:.1f} = {r['floor_cpu']:.1f} s "
            f"| **{r['ratio']:.2f}×** | {r['ingest']['peak_mb']:,} MB |")
    groups: dict = {}
    for r in results:
        groups.setdefault((r["layout"], r["kept_share"]), []).append(r)
    growth = []
    for (layout, share), runs in groups.items():
        if len(runs) > 1:
            small, large = min(runs, key=lambda r: r["units"]), max(runs, key=lambda r: r["units"])
            marginal = (large["ingest"]["cpu"] - small["ingest"]["cpu"]) / (large["floor_cpu"] - small["floor_cpu"])
            growth.append(f"{layout} columns, {large['kept_units'] / large['units']:.0%} kept: {large['units'] / small['units']:.0f}× "
                          f"the input took {large['ingest']['cpu'] / small['ingest']['cpu']:.2f}× the CPU "
                          f"(floor {large['floor_cpu'] / small['floor_cpu']:.2f}×); marginal ratio to the floor "
                          f"{marginal:.2f}× ({small['units']:,} → {large['units']:,})")
    if growth:
        lines += ["", "Growth: " + "; ".join(growth) + "."]
    return "\n".join(lines)


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
    parser.add_argument("--layouts", type=int, nargs="+", default=[35], choices=[33, 34, 35],
                        help="legal-unit layouts (columns) of the files copied from the real samples")
    parser.add_argument("--kept-shares", type=float, nargs="+", default=[0.04],
                        help="shares of legal units the ingest keeps (0.04 nationally; 0.3-0.4 in an ESS extract)")
    parser.add_argument("--synthetic", action="store_true",
                        help="random rows (bench/sirene_generate.py's generate) instead of rows copied from the real samples")
    args = parser.parse_args()
    results = run(args.sizes, args.work, args.layouts, args.kept_shares, args.synthetic)
    print(ratios(results))
    print()
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
