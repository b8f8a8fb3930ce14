"""The SPARQL text analysis is linear up to the body limit (issue 18, item 3).

``sparql_text.analyse`` runs on every query and update before the engine sees it (the protocol's
SERVICE/LOAD/FROM checks, the default prefixes a query uses, the nesting and chain bounds of
syntax_limits). The tokenizer it replaced backtracked: ``'a.' * 20000`` (40 KB) took 11 s on the
event loop, and 1 MiB would have taken about 1.5 h. This times it on texts of 1 KiB to 1 MiB (the
body limit of /sparql) of four shapes, the old worst case among them, and reports µs per KiB: a
linear analysis keeps that figure flat as the size grows.

    .venv/bin/python bench/sparql_analysis.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ptcekb.sparql_text import analyse  # noqa: E402

SIZES_KIB = (1, 4, 16, 64, 256, 1024)
UNIT = {  # a repeated unit per shape; repeated to fill the size
    "'a.' (old worst case)": "a.",
    "triple patterns": "?s <http://example.org/p> ex:o . ",
    "strings and comments": '"SERVICE <x> { }" , \'\'\'x\'\'\' # SERVICE\r',
    "nested FILTER, SERVICE": "{ FILTER(!(?x + -1 > 2) && STR(?y) = 'a') SERVICE <http://e/> { ?a ?b ?c } } ",
}


def text_of(unit: str, size: int) -> str:
    return "PREFIX ex: <http://example.org/>\nSELECT * WHERE {\n" + unit * (size // len(unit)) + "\n}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (the median is reported)")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}; median of {args.repeat} runs; µs per KiB of text (flat = linear)\n")
    print("| text | " + " | ".join(f"{s} KiB" for s in SIZES_KIB) + " | 1 MiB total |")
    print("|---|" + "---:|" * (len(SIZES_KIB) + 1))
    for name, unit in UNIT.items():
        cells, total = [], 0.0
        for size in SIZES_KIB:
            text = text_of(unit, size << 10)
            runs = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                analyse(text)
                runs.append(time.perf_counter() - started)
            median = statistics.median(runs)
            cells.append(f"{median * 1e6 / size:,.0f}")
            total = median
        print(f"| {name} | " + " | ".join(cells) + f" | {total:.2f} s |")


if __name__ == "__main__":
    main()
