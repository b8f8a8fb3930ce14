"""What the query worker round trip costs (an anchor for bench/sparql.py).

ptcekb runs every query in a worker process, so that a query past the time limit can be stopped
by killing its worker (issue 6, item 5). This measures, on the same lookup as bench/sparql.py, the
median of ``run_job`` called in-process (query and serialization alone) and of the same job sent
through ``Executor.run`` (pickled to a worker and back): the difference is the price of being
able to stop a query.

    .venv/bin/python bench/worker_hop.py --store var/store
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import pyoxigraph as ox

from ptcekb.config import Settings
from ptcekb.service.executor import Executor, Job, Limits, run_job
from sparql import COMMUNES, QUERIES


def jobs(directory: str) -> list[Job]:
    return [Job(directory=directory, query=query, solutions_format="json", graph_format=None, row_cap=10_000)
            for query in QUERIES["lookup"][2]]


def in_process(directory: str, count: int) -> float:
    store, todo, times = ox.Store.read_only(directory), jobs(directory), []
    for i in range(count):
        started = time.perf_counter()
        run_job(store, todo[i % len(todo)])
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def through_worker(directory: str, count: int) -> float:
    executor = Executor(Limits.from_settings(Settings.from_env()))
    await executor.start(directory)
    todo, times = jobs(directory), []
    try:
        for i in range(count):
            started = time.perf_counter()
            await executor.run(todo[i % len(todo)])
            times.append(time.perf_counter() - started)
    finally:
        executor.close()
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", default="var/store")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    directory = os.path.realpath(args.store)
    alone = in_process(directory, args.requests)
    hop = asyncio.run(through_worker(directory, args.requests))
    print(f"lookup of {len(COMMUNES)} communes, median of {args.requests}: in-process {alone * 1000:.3f} ms, "
          f"through a worker {hop * 1000:.3f} ms, round trip {(hop - alone) * 1000:.3f} ms")


if __name__ == "__main__":
    main()
