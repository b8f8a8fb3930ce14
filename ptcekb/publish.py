"""Publishing a store with one graph replaced (``ptcekb ingest sirene``), beside ``ptcekb.build``.

:func:`replace_graph` makes a new build of the published store: every other graph carried over,
the new graph bulk-loaded while its N-Triples are written (``ptcekb.loading``), ``graph/meta``
rewritten with the description of ``ptcekb.build`` (and what ``before_publishing`` makes of the build, as for ``build``); the atomic link switch of the store
(``ptcekb.store``) makes the replacement atomic (an interrupted run leaves the previous graph
served). :func:`ingest_sirene` runs it on what the SIRENE ingest (``ptcekb.ingest.sirene``) reads.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox

from .build import BeforePublishing, GraphRecord, activity_triples, describe_graph, pull_from_remote, push_to_remote
from .config import Settings
from .errors import UserError
from .files import replaced_atomically
from .ingest import Source
from .ingest.sirene import IngestReport, SireneIngest, derived_dir
from .loading import GraphLoader, Tee
from .namespaces import XSD
from .rdf import iri, triple, typed
from .store import PARTIAL, StoreLocation, clone_build

OPTIMIZE_FROM = 1_000_000            # compact the new build when the replaced graph has this many triples
VOID_SUBSET, VOID_TRIPLES = "http://rdfs.org/ns/void#subset", "http://rdfs.org/ns/void#triples"


def ingest_sirene(settings: Settings, units_path: Path, establishments_path: Path | None,
                  before_publishing: BeforePublishing | None = None) -> IngestReport:
    """Read the SIRENE stock files and publish the store with the new ``graph/sirene``.

    A remote store's graphs are first copied into a scratch local store, where the new build is
    made as for a local store, then graph/sirene and graph/meta are published back (staged and switched
    in one update, the other graphs left as served); the kept N-Triples, rejects and members' linking stay
    in ``{PTCEKB_STORE's directory}.sirene`` (by default ``var/store.sirene``), where ``ptcekb build --store URL`` finds the graph again."""
    if settings.store_url:
        with tempfile.TemporaryDirectory(prefix="ptcekb-ingest-") as scratch:
            local = settings.model_copy(update={"store": Path(scratch) / "store", "store_url": None})
            pull_from_remote(settings, local.store)
            report = _ingest_sirene(local, units_path, establishments_path, derived_dir(settings))
            # only graph/sirene and graph/meta changed: the others stay as served (one update switches both)
            push_to_remote(settings, local.store, only={settings.ns.graph("sirene"), settings.ns.meta_graph})
        return replace(report, store=settings.store_url)
    return _ingest_sirene(settings, units_path, establishments_path, before_publishing=before_publishing)


def _ingest_sirene(settings: Settings, units_path: Path, establishments_path: Path | None,
                   directory: Path | None = None, before_publishing: BeforePublishing | None = None) -> IngestReport:
    current = StoreLocation(settings.store).current()  # a UserError when nothing was built yet
    run = SireneIngest(settings, units_path, establishments_path)
    if directory is not None:
        run.directory = directory
    try:
        published = ox.Store.read_only(str(current))
        run.read_members(published)
    except OSError as exc:
        raise UserError(f"cannot open the knowledge base at {settings.store}: {exc}") from None
    count = replace_graph(settings, published, current, "sirene", run.write, run.directory / "sirene.nt",
                          run.started, run.summary.seconds, before_publishing)
    return run.finish(count)


def replace_graph(settings: Settings, published: ox.Store, current: Path, name: str,
                  write: Callable[[Tee], Source], keep: Path, started: datetime, seconds: dict,
                  before_publishing: BeforePublishing | None = None) -> int:
    """Publish a new build where ``graph/{name}`` holds what ``write(sink)`` writes (N-Triples lines);
    ``write`` returns the graph's source for ``graph/meta``. The N-Triples are kept as ``keep`` (for
    rebuilds). Return the graph's number of triples; ``seconds`` gets the time of each step."""
    graph = iri(settings.ns.graph(name))
    keep.parent.mkdir(parents=True, exist_ok=True)
    for old in keep.parent.glob(f".{keep.name}.*.partial"):
        old.unlink(missing_ok=True)
    base = Base(keep.parent, name)
    with replaced_atomically(keep) as partial, StoreLocation(settings.store).building() as build:
        store, old_meta = _start_build(settings, published, current, build, graph, seconds, base)
        published_as = build.name.removesuffix(PARTIAL)
        with open(partial, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream, \
                GraphLoader(store, graph) as loader:
            source = write(Tee(stream, loader))
            tick = time.monotonic()
        seconds["store: load after reading"] = round(time.monotonic() - tick, 2)
        count = _finish_build(settings, store, source, old_meta, started, seconds)
        if before_publishing is not None:
            before_publishing(store, published_as, seconds)
        del store
    base.adopt(published_as)
    return count


class Base:
    """The other graphs of the build this command published last, kept for its next run.

    ``{dir}/{name}.base`` is a store holding every graph of the build but ``graph/{name}`` and
    ``graph/meta``, saved (``Store.backup``: hard links, cheap) just before the new graph is loaded;
    ``{name}.base.json`` names the build it went into. When that build is still the published one
    (no ``ptcekb build`` or ``/update`` since), the next run starts as a clone of the base: neither
    removing the old graph (~16,000 triples/s) nor copying the others (a dump and a ``bulk_load``
    of the ~800k triples of the curated graphs: ~15 s of CPU) depends on the size of either.
    """

    def __init__(self, directory: Path, name: str):
        self.path = directory / f"{name}.base"
        self.marker = directory / f"{name}.base.json"
        self.next = directory / f".{name}.base.next"

    def usable_for(self, current: Path) -> bool:
        """Whether the base holds the other graphs of the published build ``current``."""
        try:
            return json.loads(self.marker.read_text(encoding="utf-8")).get("build") == current.name and self.path.is_dir()
        except (OSError, ValueError, AttributeError):
            return False

    def save(self, store: ox.Store) -> None:
        """Save the other graphs of the build being made (before its new graph is loaded)."""
        shutil.rmtree(self.next, ignore_errors=True)
        store.flush()
        store.backup(str(self.next))

    def adopt(self, build_name: str) -> None:
        """The build was published: its saved base becomes the base of the next run."""
        if not self.next.is_dir():
            return
        self.marker.unlink(missing_ok=True)  # first: a half-replaced base is never used
        shutil.rmtree(self.path, ignore_errors=True)
        self.next.rename(self.path)
        self.marker.write_text(json.dumps({"build": build_name}), encoding="utf-8")


def _start_build(settings: Settings, published: ox.Store, current: Path, build: Path, graph: ox.NamedNode,
                 seconds: dict, base: Base) -> tuple[ox.Store, list]:
    """Open the new build's store, holding every published graph but ``graph`` and meta, and save
    it as the next run's base; return it with the published meta quads.

    When the base saved by the run that published the current build is there, the build starts
    as a clone of it (:class:`Base`). Otherwise, when the published graph is small, the build starts as a clone of the published one (SST
    files hard-linked, as ``/update`` does) with that graph and meta removed; otherwise it starts
    empty and the other graphs are copied, one ``bulk_load`` each (removing a large graph is
    slower than copying the others: pyoxigraph removes ~16,000 triples/s and loads ~100,000). The
    copy is done before the stock files are read: loading a whole graph (blank nodes must stay in
    one call) alongside the new graph's blocks would raise the peak memory by ~300 MB.
    """
    meta = iri(settings.ns.meta_graph)
    old_meta = list(published.quads_for_pattern(None, None, None, meta))
    tick = time.monotonic()
    if base.usable_for(current):
        clone_build(base.path, build)
        store = ox.Store(str(build))
    elif _clone_is_cheaper(settings, graph, old_meta):
        clone_build(current, build)
        store = ox.Store(str(build))
        for name in (graph, meta):
            if store.contains_named_graph(name):
                store.remove_graph(name)
    else:
        store = ox.Store(str(build))
        for name in published.named_graphs():
            if name not in (graph, meta):
                store.bulk_load(published.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name),
                                format=ox.RdfFormat.N_TRIPLES, to_graph=name)
    base.save(store)
    seconds["store: start"] = round(time.monotonic() - tick, 2)
    return store, old_meta


def _clone_is_cheaper(settings: Settings, graph: ox.NamedNode, meta_quads: list) -> bool:
    sizes = {q.subject.value: int(q.object.value) for q in meta_quads
             if q.predicate.value == VOID_TRIPLES and q.subject.value != settings.ns.dataset}
    return sizes.get(graph.value, 0) <= sum(n for g, n in sizes.items() if g != graph.value) * 0.1


def _finish_build(settings: Settings, store: ox.Store, source: Source, old_meta: list, started: datetime,
                  seconds: dict) -> int:
    """Describe the loaded graph in graph/meta, compact the build; return the graph's size."""
    tick = time.monotonic()
    graph = settings.ns.graph(source.name)
    (row,) = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    count = int(row["n"].value)
    meta = iri(settings.ns.meta_graph)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, meta)
                      for t in _meta_triples(settings, old_meta, source, started, count))
    store.flush()
    seconds["store: count and meta"] = round(time.monotonic() - tick, 2)
    if count >= OPTIMIZE_FROM:  # many blocks loaded: compact them (small graphs are not worth it)
        tick = time.monotonic()
        store.optimize()
        seconds["store: optimize"] = round(time.monotonic() - tick, 2)
    return count


def _meta_triples(settings: Settings, quads: list, source: Source, started: datetime, count: int) -> Iterator[ox.Triple]:
    """graph/meta of the published build without the replaced graph's description, plus the new one."""
    ns = settings.ns
    graph = iri(ns.graph(source.name))
    dataset, activity = iri(ns.dataset), iri(f"{ns.meta_graph}#ingest-{source.name}")
    # drop what describes the previous graph and the previous ingest (with their blank nodes)
    drop_subjects = {graph, activity}
    todo = [graph, activity]
    while todo:
        subject = todo.pop()
        for q in quads:
            if q.subject == subject and isinstance(q.object, ox.BlankNode) and q.object not in drop_subjects:
                drop_subjects.add(q.object)
                todo.append(q.object)
    total = 0
    for q in quads:
        if q.subject in drop_subjects:
            continue
        if q.subject == dataset and q.predicate.value == VOID_SUBSET and q.object == graph:
            continue
        if q.subject == dataset and q.predicate.value == VOID_TRIPLES:
            continue
        if q.predicate.value == VOID_TRIPLES and q.subject != dataset:
            total += int(q.object.value)
        yield q.triple
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    yield from activity_triples(activity, f"ptcekb ingest {source.name}", started, ended)
    yield triple(dataset, iri(VOID_SUBSET), graph)
    yield triple(dataset, iri(VOID_TRIPLES), typed(total + count, XSD.integer))
    yield from describe_graph(settings, GraphRecord(source, graph.value, [], count), activity, ended)
