"""Progress on a terminal, silence elsewhere (CI, pipes, logs)."""

from __future__ import annotations

import os
import sys
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
