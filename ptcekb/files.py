"""Write-then-rename: a file appears whole at its name or not at all.

Every file the project writes for others to read (dumps, caches, the SIRENE N-Triples, the COG
snapshot, a template's Turtle) is written under a hidden temporary name in the same directory
(same file system, so the rename is atomic on POSIX) and renamed over the target once complete.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def partial_path(path: Path) -> Path:
    """The temporary name of ``path`` while this process writes it."""
    return path.with_name(f".{path.name}.{os.getpid()}.partial")


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """Yield a temporary path to write; rename it over ``path`` on a clean exit, remove it otherwise."""
    path = Path(path)
    partial = partial_path(path)
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
