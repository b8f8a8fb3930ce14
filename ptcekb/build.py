"""``ptcekb build``: every source into its named graph of a new store, described in ``graph/meta``."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator

import pyoxigraph as ox

from . import __version__, coverage
from .config import Settings
from .ingest import BuildContext, Source, all_sources
from .namespaces import LICENCE_OUVERTE, DCAT, DCTERMS, OWL, PROV, RDF, RDFS, VOID, XSD
from .progress import steps
from .loading import load_ntriples
from .rdf import file_entity, integer, iri, labels, text, triple, typed
from .remote import remote_store
from .store import PARTIAL, StoreLocation

BUILD_PUSH_TIMEOUT = 600.0  # seconds for each Graph Store upload to a remote store



@dataclass(frozen=True)
class GraphRecord:
    source: Source
    graph: str
    files: list[Path]
    triples: int


@dataclass(frozen=True)
class BuildReport:
    store: Path
    graphs: list[GraphRecord]
    warnings: list[str]

    @property
    def triples(self) -> int:
        return sum(g.triples for g in self.graphs)


# What is made of a complete build before it is published: ``(store, build id, seconds by step)``
# (the command line passes the service's artefacts: ptcekb/service/artefacts.py).
BeforePublishing = Callable[[ox.Store, str, dict], None]


def build(settings: Settings, sources: list[Source] | None = None,
          before_publishing: BeforePublishing | None = None) -> BuildReport:
    """Build every source into a new store and publish it atomically (after ``before_publishing``)."""
    if settings.store_url:
        return _build_remote(settings, sources)
    ctx = BuildContext(settings)
    started = _now()
    records: list[GraphRecord] = []
    location = StoreLocation(settings.store)
    with location.building() as directory, steps() as progress:
        store = ox.Store(str(directory))
        for source in sources if sources is not None else all_sources(settings):
            graph = settings.ns.graph(source.name)
            files = source.files(ctx.root)
            if source.ntriples is not None:
                load_ntriples(store, source.ntriples, iri(graph))
            else:
                store.bulk_extend(progress.track(_in_graph(source.triples(ctx), graph), f"{source.name}: triples"))
            records.append(GraphRecord(source, graph, files, _count(store, graph)))
        # the coverage is counted on the graphs just loaded, before graph/meta is written (coverage.py)
        figures = list(coverage.triples(store, settings))
        store.bulk_extend(_in_graph(_meta_triples(settings, records, started, _now()), settings.ns.meta_graph))
        store.bulk_extend(_in_graph(figures, settings.ns.meta_graph))
        store.flush()
        store.optimize()
        if before_publishing is not None:
            before_publishing(store, directory.name.removesuffix(PARTIAL), {})
        del store
    return BuildReport(settings.store, records, ctx.warnings)


def _in_graph(triples: Iterable[ox.Triple], graph: str) -> Iterator[ox.Quad]:
    name = iri(graph)
    return (ox.Quad(t.subject, t.predicate, t.object, name) for t in triples)


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _count(store: ox.Store, graph: str) -> int:
    (row,) = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return int(row["n"].value)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _meta_triples(settings: Settings, records: list[GraphRecord], started: datetime, ended: datetime) -> Iterator[ox.Triple]:
    """DCAT/VoID/PROV description of the dataset and of each graph."""
    ns = settings.ns
    dataset, activity = iri(ns.dataset), iri(ns.meta_graph + "#build")
    yield from activity_triples(activity, "ptcekb build", started, ended)

    for cls in (VOID.Dataset, DCAT.Dataset, PROV.Entity):
        yield triple(dataset, RDF.type, iri(cls))
    yield from labels(dataset, DCTERMS.title, {"fr": "Base de connaissances des PTCE", "en": "PTCE knowledge base"})
    yield triple(dataset, DCTERMS.license, iri(LICENCE_OUVERTE))
    yield triple(dataset, PROV.wasGeneratedBy, activity)
    yield triple(dataset, VOID.triples, integer(sum(r.triples for r in records)))
    yield triple(dataset, VOID.uriSpace, text(ns.base + "id/"))

    meta = iri(ns.meta_graph)  # this graph itself: /graph/meta dereferences like the others
    for cls in (VOID.Dataset, PROV.Entity):
        yield triple(meta, RDF.type, iri(cls))
    yield from labels(meta, DCTERMS.title, {"fr": "Métadonnées de la base", "en": "Knowledge base metadata"})
    yield from labels(meta, DCTERMS.description, {
        "fr": "Description DCAT, VoID et PROV de la base et de chacun de ses graphes, écrite par chaque construction.",
        "en": "DCAT, VoID and PROV description of the knowledge base and of each of its graphs, written by each build."})
    yield triple(meta, DCTERMS.identifier, text("meta"))
    yield triple(meta, PROV.wasGeneratedBy, activity)

    for record in records:
        yield triple(dataset, VOID.subset, iri(record.graph))
        yield from describe_graph(settings, record, activity, ended)


def activity_triples(activity: ox.NamedNode, label: str, started: datetime, ended: datetime) -> Iterator[ox.Triple]:
    """The PROV activity that wrote graph/meta (a build, an ingest), run by ptcekb."""
    agent = ox.BlankNode()
    yield triple(activity, RDF.type, iri(PROV.Activity))
    yield triple(activity, RDFS.label, text(label))
    yield triple(activity, PROV.startedAtTime, typed(started.isoformat(), XSD.dateTime))
    yield triple(activity, PROV.endedAtTime, typed(ended.isoformat(), XSD.dateTime))
    yield triple(activity, PROV.wasAssociatedWith, agent)
    yield triple(agent, RDF.type, iri(PROV.SoftwareAgent))
    yield triple(agent, RDFS.label, text("ptcekb"))
    yield triple(agent, OWL.versionInfo, text(__version__))


def describe_graph(settings: Settings, record: GraphRecord, activity: ox.NamedNode, ended: datetime) -> Iterator[ox.Triple]:
    """The DCAT/VoID/PROV description of one graph in graph/meta (of a build, or of a graph replaced by ``ptcekb.publish``)."""
    graph, source = iri(record.graph), record.source
    for cls in (VOID.Dataset, DCAT.Dataset, PROV.Entity):
        yield triple(graph, RDF.type, iri(cls))
    yield from labels(graph, DCTERMS.title, source.title)
    yield from labels(graph, DCTERMS.description, source.description)
    yield triple(graph, DCTERMS.identifier, text(source.name))
    yield triple(graph, DCTERMS.license, iri(source.license))
    yield triple(graph, VOID.triples, integer(record.triples))
    yield triple(graph, PROV.wasGeneratedBy, activity)
    yield triple(graph, PROV.generatedAtTime, typed(ended.isoformat(), XSD.dateTime))
    for url in source.urls:
        yield triple(graph, DCTERMS.source, iri(url))
    for path in record.files:
        yield from file_entity(graph, _relative(path, settings.sources_root), path.stat().st_size, sha256(path))
    if source.describe is not None:
        yield from source.describe(graph)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.name


def _build_remote(settings: Settings, sources: list[Source] | None) -> BuildReport:
    """Build into a scratch local store, then publish its graphs to the remote engine (remote.py)."""
    with tempfile.TemporaryDirectory(prefix="ptcekb-build-") as scratch:
        local_settings = settings.model_copy(update={"store": Path(scratch) / "store", "store_url": None})
        report = build(local_settings, sources)
        push_to_remote(settings, local_settings.store)
    return replace(report, store=settings.store_url)


def push_to_remote(settings: Settings, location: Path, only: set[str] | None = None) -> None:
    """Publish every graph of the local store ``location`` (or the graphs ``only`` names, the others
    left as served) to the remote store of ``settings`` (staged, then switched in one update:
    remote.RemoteStore.publish)."""
    local = ox.Store.read_only(str(StoreLocation(location).current()))
    graphs = {graph.value: (q.triple for q in local.quads_for_pattern(None, None, None, graph))
              for graph in local.named_graphs()
              if isinstance(graph, ox.NamedNode) and (only is None or graph.value in only)}
    remote_store(settings, timeout=BUILD_PUSH_TIMEOUT).publish(graphs, build=_now().strftime("%Y%m%dT%H%M%S"),
                                                               whole=only is None)
    del local


def pull_from_remote(settings: Settings, location: Path) -> None:
    """A local store at ``location`` publishing a copy of every graph the remote store of ``settings``
    serves (one CONSTRUCT per graph, in N-Triples: its blank nodes stay one node each)."""
    remote = remote_store(settings, timeout=BUILD_PUSH_TIMEOUT)
    with StoreLocation(location).building() as directory:
        store = ox.Store(str(directory))
        for graph in remote.named_graphs(fresh=True):
            store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, graph) for t in remote.graph_triples(graph))
        store.flush()
        del store

