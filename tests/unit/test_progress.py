"""The progress meter of long runs (``ptcekb ingest sirene``): at most a line a second on a
terminal, nothing elsewhere."""

from __future__ import annotations

import io

from ptcekb.progress import Meter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def meter(enabled: bool = True) -> tuple[Meter, io.StringIO, Clock]:
    stream, clock = io.StringIO(), Clock()
    m = Meter("legal units", stream=stream, enabled=enabled)
    m._clock = clock
    m._started = m._last = clock.now
    return m, stream, clock


def test_at_most_one_line_a_second_rewritten_in_place():
    m, stream, clock = meter()
    clock.now += 0.5
    m.update(50_000, 2_000, 3)
    assert stream.getvalue() == "", "not before a second has passed"
    clock.now += 0.5
    m.update(100_000, 4_000, 5)
    assert stream.getvalue() == "\rlegal units: 100,000 rows read, 4,000 kept, 5 rejected, 100,000 rows/s"
    clock.now += 0.2
    m.update(120_000, 4_800, 5)
    assert stream.getvalue().count("\r") == 1
    clock.now += 1.0
    m.update(250_000, 10_000, 7)
    last = stream.getvalue().rsplit("\r", 1)[1]
    assert last.startswith("legal units: 250,000 rows read, 10,000 kept, 7 rejected, 113,636 rows/s")
    m.close()
    assert stream.getvalue().endswith("\n") and stream.getvalue().count("\n") == 1


def test_forced_update_and_a_shorter_line_blanks_the_rest():
    m, stream, clock = meter()
    m.update(1_000_000, 1_000, 0, force=True)
    first = stream.getvalue()
    m.update(9, 0, 0, force=True)
    second = stream.getvalue()[len(first):]
    assert len(second) == len(first), "the longer line before is fully overwritten"


def test_silent_when_not_a_terminal():
    m, stream, clock = meter(enabled=False)
    clock.now += 5
    m.update(10, 1, 0, force=True)
    m.close()
    assert stream.getvalue() == ""


def test_default_follows_the_terminal(monkeypatch):
    monkeypatch.setenv("CI", "1")
    assert Meter("x").enabled is False
