"""The embedded pyoxigraph store and its atomic switch.

``--store DIR`` is a symbolic link to one complete build in ``DIR.builds/``. A build writes a new
directory there (suffix ``.partial`` while it runs), then replaces the link in one ``rename``; a
build that fails or is killed never touches the link, so the previous store stays served.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from .errors import UserError

PARTIAL = ".partial"
KEEP_BUILDS = 2  # the published build and the one before (a server may still hold it open)


class StoreLocation:
    """Where the builds of one store live, and which one is published."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.builds = self.path.with_name(self.path.name + ".builds")

    def exists(self) -> bool:
        return self.path.is_symlink() and self.path.exists()

    def current(self) -> Path:
        """The directory of the published build."""
        if not self.exists():
            raise self._absent()
        return self.path.resolve()

    def published(self) -> str:
        """The target of the publication link: one readlink(2), cheap enough for every request to
        notice a rebuild (``current`` resolves the whole path)."""
        try:
            return os.readlink(self.path)
        except OSError:
            raise self._absent() from None

    def _absent(self) -> UserError:
        return UserError(f"no knowledge base at {self.path}: run `ptcekb build` first")

    @contextmanager
    def building(self) -> Iterator[Path]:
        """Yield a fresh directory for a build; publish it only if the block succeeds."""
        if self.path.exists() and not self.path.is_symlink():
            raise UserError(f"{self.path} exists and is not a store built by ptcekb; move it away")
        self.builds.mkdir(parents=True, exist_ok=True)
        with open(self.builds / ".lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserError(f"another build of {self.path} is running") from None
            self._remove_partials()
            now = time.time()
            name = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}-{os.getpid()}"
            partial = self.builds / (name + PARTIAL)
            partial.mkdir()
            try:
                yield partial
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            final = self.builds / name
            partial.rename(final)
            self._publish(final)
            self._prune(keep=final)

    def _publish(self, build: Path) -> None:
        link = self.path.with_name(f".{self.path.name}.{os.getpid()}.link")
        link.unlink(missing_ok=True)
        link.symlink_to(os.path.relpath(build, self.path.parent))
        os.replace(link, self.path)  # atomic on POSIX
        _fsync_dir(self.path.parent)

    def _remove_partials(self) -> None:
        for partial in self.builds.glob("*" + PARTIAL):
            shutil.rmtree(partial, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        builds = sorted(p for p in self.builds.iterdir() if p.is_dir() and not p.name.endswith(PARTIAL))
        for old in [b for b in builds if b != keep][: max(0, len(builds) - KEEP_BUILDS)]:
            shutil.rmtree(old, ignore_errors=True)


def clone_build(source: Path, target: Path) -> None:
    """Copy a published build (a RocksDB directory) into ``target``: immutable ``.sst`` files are
    hard-linked, the others copied. Cheap whatever the size of the store."""
    for entry in Path(source).iterdir():
        destination = Path(target) / entry.name
        if entry.is_dir():
            shutil.copytree(entry, destination)
        elif entry.suffix == ".sst":
            try:
                os.link(entry, destination)
            except OSError:
                shutil.copy2(entry, destination)
        elif entry.name != "LOCK":
            shutil.copy2(entry, destination)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def open_read_only(path: Path) -> ox.Store:
    """Open the published build of ``path`` read-only, with a user-facing error if impossible."""
    directory = StoreLocation(path).current()
    try:
        return ox.Store.read_only(str(directory))
    except OSError as exc:
        raise UserError(f"cannot open the knowledge base at {path}: {exc}") from None
