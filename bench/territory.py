"""The queries of a territory page, timed straight on a store (no service): the ESS sample, the
query behind its "all of them" link, and the PTCEs by relation (ptcekb/service/views/territory.py).

    .venv/bin/python bench/territory.py --store /tmp/kb/store [--runs 5] [PATH ...]

PATHs are local paths of territories (default: a commune, its EPCI, its département and région,
and Île-de-France). Use a store with a large SIRENE graph (bench/sirene_generate.py, then
``ptcekb ingest sirene``) to see whether the cost follows the territory or the register
(docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ptcekb.service.views import territory  # noqa: E402
from ptcekb.service.views.base import SPARQL_PREFIXES  # noqa: E402
from ptcekb.sparql_text import bind_iris  # noqa: E402

PATHS = ("id/commune/26108", "id/epci/200040509", "id/departement/26", "id/region/84", "id/region/11")
BASE = "https://w3id.org/ptce/"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("paths", nargs="*", default=list(PATHS))
    args = parser.parse_args()
    store = ox.Store.read_only(str(Path(args.store).resolve()))
    marks = {"closed": territory.CLOSED, "ceased": territory.CEASED}
    queries = {
        "ESS sample": territory.ESS_IN_TERRITORY % {**marks, "limit": f" LIMIT {territory.ESS_SAMPLE}"},
        "ESS, all (link)": territory.ESS_IN_TERRITORY_ALL % marks,
        "PTCEs by relation": territory.PTCES_OF_TERRITORY,
    }
    print(f"median / fastest of {args.runs} runs, in ms (rows)")
    for path in args.paths:
        for name, query in queries.items():
            text = SPARQL_PREFIXES + bind_iris(query, {"this": BASE + path})
            times, rows = [], 0
            for _ in range(args.runs):
                started = time.perf_counter()
                rows = sum(1 for _ in store.query(text, use_default_graph_as_union=True))
                times.append(time.perf_counter() - started)
            print(f"  {path:22} {name:18} {statistics.median(times) * 1000:8.1f} {min(times) * 1000:8.1f}  ({rows})")


if __name__ == "__main__":
    main()
