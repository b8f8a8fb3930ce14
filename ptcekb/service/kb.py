"""The store as the service sees it: opened read-only, reopened when a new build is published."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..config import Settings
from ..namespaces import DCTERMS, PROV, VOID
from ..store import StoreLocation, open_read_only


@dataclass(frozen=True)
class BuildInfo:
    directory: Path
    built_at: str | None
    triples: int
    graphs: dict[str, int]


class KnowledgeBase:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = StoreLocation(settings.store)
        self._lock = threading.Lock()
        self._directory: Path | None = None
        self._store: ox.Store | None = None
        self._info: BuildInfo | None = None
        self.store()

    def store(self) -> ox.Store:
        """The store of the published build (a cheap ``readlink`` per call notices a rebuild)."""
        current = self.location.current()
        if current != self._directory:
            with self._lock:
                if current != self._directory:
                    store = open_read_only(self.settings.store)
                    self._info = _read_info(store, current, self.settings)
                    self._store, self._directory = store, current
        return self._store

    def info(self) -> BuildInfo:
        self.store()
        return self._info


def _read_info(store: ox.Store, directory: Path, settings: Settings) -> BuildInfo:
    ns = settings.ns
    query = f"""SELECT ?name ?n WHERE {{ GRAPH <{ns.meta_graph}> {{
        <{ns.dataset}> <{VOID.subset}> ?g . ?g <{DCTERMS.identifier}> ?name ; <{VOID.triples}> ?n }} }}"""
    graphs = {row["name"].value: int(row["n"].value) for row in store.query(query)}
    ended = list(store.query(
        f"SELECT ?t WHERE {{ GRAPH <{ns.meta_graph}> {{ <{ns.meta_graph}#build> <{PROV.endedAtTime}> ?t }} }}"
    ))
    return BuildInfo(directory, ended[0]["t"].value if ended else None, sum(graphs.values()), dict(sorted(graphs.items())))
