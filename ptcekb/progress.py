"""Progress on a terminal, silence elsewhere (CI, pipes, logs)."""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")


def interactive() -> bool:
    return sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def steps() -> Iterator["Steps"]:
    if not interactive():
        yield Steps(None)
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.completed:,.0f}"), TimeElapsedColumn())
    with Progress(*columns, transient=False) as progress:
        yield Steps(progress)


class Steps:
    def __init__(self, progress):
        self._progress = progress

    def track(self, items: Iterable[T], description: str) -> Iterator[T]:
        """Iterate over ``items``, counting them on the terminal."""
        if self._progress is None:
            yield from items
            return
        task = self._progress.add_task(description, total=None)
        for item in items:
            self._progress.advance(task)
            yield item
        self._progress.update(task, total=self._progress.tasks[task].completed)


class Meter:
    """Counts of a long run shown on a terminal, one line rewritten at most every ``interval``
    seconds; nothing at all when stderr is not a terminal (or ``CI`` is set).

    ``update(rows=..., kept=..., rejected=...)`` is cheap enough to call after every block of rows:
    it only reads the clock unless the line is due. ``close`` ends the line; what the command
    prints afterwards (its summary) is unchanged.
    """

    def __init__(self, what: str, stream=None, interval: float = 1.0, enabled: bool | None = None):
        self.what, self.interval = what, interval
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = interactive() if enabled is None else enabled
        self._clock = time.monotonic
        self._started = self._last = self._clock()
        self._shown = False
        self._width = 0

    def update(self, rows: int, kept: int, rejected: int, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self._clock()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        rate = rows / max(now - self._started, 1e-9)
        line = f"{self.what}: {rows:,} rows read, {kept:,} kept, {rejected:,} rejected, {rate:,.0f} rows/s"
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)
        self._shown = True

    def close(self) -> None:
        if self._shown:
            self.stream.write("\n")
            self.stream.flush()
            self._shown = False
