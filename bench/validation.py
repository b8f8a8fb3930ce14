"""Benchmark: `ptcekb validate` against plain pySHACL on the same data, shapes and COG.

Anchor (same run, same machine): the `pyshacl` command line given the publisher's data, the shapes,
the ontology, the code lists and the whole COG (as a publisher without ptcekb would have to do).
Two workloads: one publisher file (one fictional PTCE, 30 members, territory checks through the COG),
and the whole knowledge base (every curated PTCE). Checks that both find the same results.

    .venv/bin/python bench/validation.py [--store var/store] [--repeat 5]

Writes a Markdown table on stdout (paste it into docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import csv
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


def timed(command: list[str], repeat: int) -> tuple[float, bytes, int]:
    times, output, code = [], b"", 0
    for _ in range(repeat):
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        times.append(time.perf_counter() - start)
        output, code = done.stdout, done.returncode
    return statistics.median(times), output, code


def findings(turtle: bytes) -> set[tuple[str, str, str]]:
    store = ox.Store()
    store.load(turtle, format=ox.RdfFormat.TURTLE)
    rows = store.query(f"""SELECT ?focus ?shape ?severity WHERE {{ ?report <{SH}result> ?r .
        ?r <{SH}focusNode> ?focus ; <{SH}sourceShape> ?shape ; <{SH}resultSeverity> ?severity }}""")
    return {(str(r["focus"]), str(r["shape"]) if isinstance(r["shape"], ox.NamedNode) else "_:", str(r["severity"])) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--repeat", type=int, default=5)
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
        print("| workload | ptcekb validate (median) | pyshacl CLI, data + shapes + whole COG | ratio | same findings |")
        print("|---|---|---|---|---|")
        for label, data in workloads.items():
            ours, our_report, _ = timed([str(BIN / "ptcekb"), "validate", "--store", args.store, "--format", "turtle",
                                         str(data)], args.repeat)
            combined = tmp / "combined.nt"
            combined.write_bytes(model_and_cog.read_bytes() + _as_ntriples(data))
            anchor, anchor_report, _ = timed([str(BIN / "pyshacl"), "-s", str(shapes), "-f", "turtle", str(combined)],
                                             max(1, args.repeat // 5))
            same = findings(our_report) == findings(anchor_report)
            print(f"| {label} | {ours:.2f} s | {anchor:.1f} s | {anchor / ours:.0f}× | {'yes' if same else 'NO'} "
                  f"({len(findings(our_report))} results) |")


def _as_ntriples(path: Path) -> bytes:
    return ox.serialize(ox.parse(path=str(path)), format=ox.RdfFormat.N_TRIPLES)


if __name__ == "__main__":
    main()
