"""kb.BuildCache: each value computed once per build, all dropped when the build changes."""

from __future__ import annotations

import threading

from ptcekb.service.kb import BuildCache


def test_computed_once_per_build_and_dropped_with_it():
    cache, calls = BuildCache(), []

    def compute(value):
        def run():
            calls.append(value)
            return value
        return run

    assert cache.get("b1", "x", compute(1)) == 1
    assert cache.get("b1", "x", compute(2)) == 1  # kept for the build
    assert cache.get("b1", "y", compute(3)) == 3  # another key of the same build
    assert cache.get("b2", "x", compute(4)) == 4  # a new build: computed again
    assert cache.get("b2", "y", compute(5)) == 5  # and the old build's values are gone
    assert calls == [1, 3, 4, 5]


def test_concurrent_requests_compute_once():
    cache, calls, start = BuildCache(), [], threading.Barrier(8)

    def ask():
        start.wait()
        cache.get("b", "k", lambda: calls.append(1) or len(calls))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
