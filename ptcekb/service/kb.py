"""The store as the service sees it: the published local build (reopened when a new one is
published), or a remote SPARQL engine (remote.py). Either way, a build id names what is served:
caches, ETags and statistics are keyed by it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


from ..config import Settings
from ..namespaces import DCTERMS, PROV, VOID
from ..remote import RemoteStore, remote_store
from ..store import StoreLocation, open_read_only

REMOTE_CHECK_SECONDS = 2.0  # how often the build id of a remote store is read again


class BuildCache:
    """Values computed once per build: ``get`` computes a missing one under a lock (one computation
    at a time, each at most once per build); all of them are dropped when the build changes."""

    def __init__(self):
        self._lock = threading.Lock()
        self._build: str | None = None
        self._values: dict[Hashable, Any] = {}

    def get(self, build: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if build != self._build:
                self._build, self._values = build, {}
            if key not in self._values:
                self._values[key] = compute()
            return self._values[key]


@dataclass(frozen=True)
class BuildInfo:
    build: str  # the build's id: the directory name (local) or the build's end time (remote)
    directory: Path | None  # the local build directory; None for a remote store
    built_at: str | None
    triples: int
    graphs: dict[str, int]


class KnowledgeBase:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = StoreLocation(settings.store)
        self.remote = remote_store(settings) if settings.store_url else None
        self._lock = threading.Lock()
        self._link: str | None = None  # the target of the publication link being served
        self._store = None
        self._info: BuildInfo | None = None
        self._checked = 0.0
        self.cache = BuildCache()  # what the service derives from the build being served
        self.store()

    def store(self):
        """The store being served: a pyoxigraph ``Store`` or a ``RemoteStore``."""
        if self.remote is not None:
            return self._remote_store()
        link = self.location.published()  # a readlink per call notices a rebuild
        if link != self._link:
            with self._lock:
                if link != self._link:
                    current = self.location.current()
                    store = open_read_only(self.settings.store)
                    self._info = _read_info(store, current.name, current, self.settings)
                    self._store, self._link = store, link
        return self._store

    def _remote_store(self) -> RemoteStore:
        now = time.monotonic()
        if now - self._checked > REMOTE_CHECK_SECONDS:
            with self._lock:
                if now - self._checked > REMOTE_CHECK_SECONDS:
                    ended = _build_end(self.remote, self.settings)
                    if self._info is None or self._info.built_at != ended:
                        self._info = _read_info(self.remote, ended or "unbuilt", None, self.settings)
                    self._checked = now
        return self.remote

    def info(self) -> BuildInfo:
        self.store()
        return self._info

    @property
    def build(self) -> str:
        return self.info().build

    def cached(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """``compute()`` once for the build being served (``key`` names it among the build's values)."""
        return self.cache.get(self.build, key, compute)


def _build_end(store, settings: Settings) -> str | None:
    meta = settings.ns.meta_graph
    ended = list(store.query(f"SELECT ?t WHERE {{ GRAPH <{meta}> {{ <{meta}#build> <{PROV.endedAtTime}> ?t }} }}"))
    return ended[0]["t"].value if ended else None


def _read_info(store, build: str, directory: Path | None, settings: Settings) -> BuildInfo:
    ns = settings.ns
    query = f"""SELECT ?name ?n WHERE {{ GRAPH <{ns.meta_graph}> {{
        <{ns.dataset}> <{VOID.subset}> ?g . ?g <{DCTERMS.identifier}> ?name ; <{VOID.triples}> ?n }} }}"""
    graphs = {row["name"].value: int(row["n"].value) for row in store.query(query)}
    return BuildInfo(build, directory, _build_end(store, settings), sum(graphs.values()), dict(sorted(graphs.items())))
