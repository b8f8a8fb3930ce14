"""What the service shows of a whole build, made when the build is published (issue 23, item 5).

``ptcekb build`` and ``ptcekb ingest sirene`` call :func:`write` on the new build's store just
before it is published (``StoreLocation.building``): the dumps, the VoID statistics, the name
indexes of the lists and the answers behind the home page's PTCEs are written beside the store, in
``DIR.dumps/``, each file named by the build id and written atomically. The first request after a
start or an ingest reads them (off the event loop, once per build) instead of computing them.

A build without them (made by an older version, or published by ``/update``, or a remote store)
has them computed by the service on first use, as before; the log says so once per artefact and
build (:func:`per_build`).
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
import time
import unicodedata
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

import pyoxigraph as ox

from ..files import replaced_atomically
from ..i18n import KINDS
from ..labels import LABEL_PREDICATES
from ..namespaces import IGEO, PTCE, RDF
from .finder import QUERIES  # the home page reads their answers (finder.catalogue_of)
from .pagequery import Missing, Unanswered
from .views.base import SPARQL_PREFIXES

log = logging.getLogger("ptcekb.service.artefacts")


# --------------------------------------------------------------------------------------------
# Dumps


@dataclass(frozen=True)
class Dump:
    name: str
    rdf_format: ox.RdfFormat
    compressed: bool
    title: tuple[str, str]  # fr, en

    @property
    def media_type(self) -> str:
        return "application/gzip" if self.compressed else self.rdf_format.media_type

    def url(self, request) -> str:
        return str(request.base_url) + "dumps/" + self.name

    def write(self, store, target: Path) -> None:
        """Write every named graph of ``store`` (local or remote) to ``target``."""
        with open(target, "wb") as raw:
            if self.compressed:
                with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, compresslevel=5) as stream:
                    store.dump(stream, format=self.rdf_format)
            else:
                store.dump(raw, format=self.rdf_format)


DUMPS = (
    Dump("ptcekb.nq.gz", ox.RdfFormat.N_QUADS, True, ("Tous les graphes, N-Quads compressé (gzip)",
                                                     "Every named graph, gzipped N-Quads")),
    Dump("ptcekb.trig", ox.RdfFormat.TRIG, False, ("Tous les graphes, TriG", "Every named graph, TriG")),
)


# --------------------------------------------------------------------------------------------
# Statistics (VoID, the service description, /about)


@dataclass(frozen=True)
class GraphStats:
    triples: int
    entities: int  # distinct subjects that have an rdf:type
    classes: int
    properties: int
    class_partitions: dict[str, int]  # class IRI -> entities of that class


@dataclass(frozen=True)
class Statistics:
    directory: str
    graphs: dict[str, GraphStats]  # named graph IRI -> its statistics
    triples: int  # quads: the sum over the named graphs
    entities: int
    classes: int
    properties: int


STATISTICS_QUERIES = (
    "SELECT ?g ?p (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ?p",
    "SELECT ?g ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g ?c",
    "SELECT ?g (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g",
    "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }",
)


def statistics_of(directory: str, answers: list[list[dict]]) -> Statistics:
    """The statistics from the rows (``{variable: term}``) of the four ``STATISTICS_QUERIES``."""
    by_property, by_class, by_graph, (total,) = answers
    per_property: dict[str, dict[str, int]] = {}
    for row in by_property:
        per_property.setdefault(row["g"].value, {})[row["p"].value] = int(row["n"].value)
    partitions: dict[str, dict[str, int]] = {}
    for row in by_class:
        partitions.setdefault(row["g"].value, {})[row["c"].value] = int(row["n"].value)
    entities = {row["g"].value: int(row["n"].value) for row in by_graph}
    graphs = {
        graph: GraphStats(sum(props.values()), entities.get(graph, 0), len(partitions.get(graph, {})), len(props),
                          dict(sorted(partitions.get(graph, {}).items())))
        for graph, props in sorted(per_property.items())
    }
    return Statistics(
        directory, graphs, sum(g.triples for g in graphs.values()), int(total["n"].value),
        len({c for p in partitions.values() for c in p}), len({p for props in per_property.values() for p in props}),
    )


def _statistics_from_json(data: dict) -> Statistics:
    return Statistics(**{**data, "graphs": {g: GraphStats(**s) for g, s in data["graphs"].items()}})


# --------------------------------------------------------------------------------------------
# Name indexes of the lists (/id/{kind}/, the sitemap)


# The class that every resource of a kind has (a fast way to list them); None: list by IRI prefix.
KIND_CLASSES = {
    "ptce": str(PTCE.PTCE), "commune": str(IGEO.Commune), "epci": str(IGEO.Intercommunalite),
    "departement": str(IGEO.Departement), "region": str(IGEO.Region), "com": str(IGEO.CollectiviteDOutreMer),
    "appel": str(PTCE.AppelAProjets), "etablissement": str(PTCE.Etablissement), "organisation": None,
    "structure": None,
}
_TYPE = ox.NamedNode(str(RDF.type))


@dataclass(frozen=True)
class Entry:
    key: str  # the name folded for sorting and search (lower case, no accents)
    name: str
    iri: str


def fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def build_indexes(store: ox.Store, base: str, deadline: float) -> dict[str, list[Entry]]:
    """Every resource of each kind with its name, sorted by name: one scan of the name predicates
    and one of ``rdf:type`` per kind class, joined in Python (a SPARQL join per kind over the
    35,000 communes costs several times more). Raises ``Unanswered`` past ``deadline``."""
    def in_time(quads):
        for number, quad in enumerate(quads):
            if number % 4096 == 0 and time.monotonic() > deadline:
                raise Unanswered(Missing("timeout"))
            yield quad

    names: dict[str, tuple[str, str | None]] = {}
    for predicate in reversed(LABEL_PREDICATES):  # the first predicate of the list wins: written last
        found: dict[str, tuple[str, str | None]] = {}
        for quad in in_time(store.quads_for_pattern(None, ox.NamedNode(predicate), None, None)):
            subject, literal = quad.subject, quad.object
            if isinstance(subject, ox.NamedNode) and isinstance(literal, ox.Literal):
                known = found.get(subject.value)
                if known is None or (literal.language in ("fr", None) and known[1] not in ("fr", None)):
                    found[subject.value] = (literal.value, literal.language)
        names.update(found)
    indexes = {}
    for kind in KINDS:
        prefix = f"{base}id/{kind}/"
        cls = KIND_CLASSES.get(kind)
        if cls:
            iris = {q.subject.value for q in in_time(store.quads_for_pattern(None, _TYPE, ox.NamedNode(cls), None))
                    if isinstance(q.subject, ox.NamedNode)}
        else:
            iris = set(names)
        iris = {iri for iri in iris if iri.startswith(prefix) and "#" not in iri}
        entries = [Entry(fold(names[iri][0]), names[iri][0], iri) if iri in names
                   else Entry(iri, iri.rsplit("/", 1)[-1], iri) for iri in iris]
        indexes[kind] = sorted(entries, key=lambda e: (e.key, e.iri))
    return indexes


def _indexes_from_json(data: dict) -> dict[str, list[Entry]]:
    return {kind: [Entry(*fields) for fields in entries] for kind, entries in data.items()}


# --------------------------------------------------------------------------------------------
# Writing them when a build is published, reading them in the service


def location(settings) -> Path:
    """The directory of the artefacts of every build of the store (where the dumps always were)."""
    return settings.store.with_name(settings.store.name + ".dumps")


def path(settings, build: str, name: str) -> Path:
    return location(settings) / (_safe(build) + "." + name)


def write(settings, store: ox.Store, build: str, seconds: dict | None = None) -> None:
    """Write the artefacts of ``build`` (its store, complete, not yet published); remove those of
    the builds no longer kept (``StoreLocation`` keeps the published build and the one before).
    ``seconds`` gets the time of each."""
    directory = location(settings)
    directory.mkdir(parents=True, exist_ok=True)

    def rows(query: str) -> list[dict]:
        solutions = store.query(query, use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [dict(zip(names, solution)) for solution in solutions]

    def timed(name: str, make: Callable[[Path], None]) -> None:
        tick = time.monotonic()
        with replaced_atomically(path(settings, build, name)) as partial:
            make(partial)
        if seconds is not None:
            seconds[f"artefacts: {name}"] = round(time.monotonic() - tick, 2)

    def as_json(compute: Callable[[], Any]) -> Callable[[Path], None]:
        return lambda target: target.write_text(json.dumps(compute(), ensure_ascii=False, separators=(",", ":")),
                                                encoding="utf-8")

    for dump in DUMPS:
        timed(dump.name, lambda target, dump=dump: dump.write(store, target))
    timed(STATISTICS, as_json(lambda: asdict(statistics_of(build, [rows(q) for q in STATISTICS_QUERIES]))))
    timed(INDEXES, as_json(lambda: {kind: [[e.key, e.name, e.iri] for e in entries] for kind, entries in
                                    build_indexes(store, settings.ns.base, float("inf")).items()}))
    timed(CATALOGUE, as_json(lambda: {
        name: store.query(SPARQL_PREFIXES + text, use_default_graph_as_union=True).serialize(
            format=ox.QueryResultsFormat.JSON).decode("utf-8") for name, text in QUERIES.items()}))
    builds = settings.store.with_name(settings.store.name + ".builds")
    keep = {_safe(b.name) + "." for b in builds.glob("*") if b.is_dir()} | {_safe(build) + "."}
    for old in directory.iterdir():
        if old.is_file() and not any(old.name.startswith(prefix) for prefix in keep):
            old.unlink(missing_ok=True)


def _safe(build: str) -> str:
    return re.sub(r"[^\w.-]", "_", build)


STATISTICS, INDEXES, CATALOGUE = "statistics.json", "indexes.json", "catalogue.json"


def _catalogue_rows_from_json(data: dict) -> dict[str, list[dict]]:
    out = {}
    for name, text in data.items():
        solutions = ox.parse_query_results(text.encode("utf-8"), format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        out[name] = [dict(zip(names, solution)) for solution in solutions]
    return out


DECODERS = {STATISTICS: _statistics_from_json, INDEXES: _indexes_from_json, CATALOGUE: _catalogue_rows_from_json}


def read(kb, name: str) -> Any | None:
    """The artefact ``name`` of the build being served, decoded; None when that build has none."""
    info = kb.info()
    if info.directory is None:
        return None
    try:
        text = path(kb.settings, info.build, name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return DECODERS[name](json.loads(text))


def missing(name: str, build: str) -> None:
    """Say (once per artefact and build: the callers compute it once per build) that it is computed now."""
    log.warning("build %s has no %s made when it was published (an older build, one published by /update, or a "
                "remote store): computing it now", build, name)


async def per_build(app, what: str, name: str, compute: Callable[[], Awaitable], convert=lambda value: value,
                    wait: float | None = None):
    """The value called ``what`` of the build being served, once per build: ``convert`` of the
    artefact ``name`` when the build has it (read in a thread), else ``compute()``; a request waits
    for it at most ``wait`` (default: the page time limit; ``pagequery.PerBuild``)."""
    kb, queries = app.state.kb, app.state.page_queries
    build = kb.build

    async def load():
        found = await asyncio.to_thread(read, kb, name)
        if found is not None:
            return convert(found)
        missing(name, build)
        return await compute()

    return await queries.per_build(what, build).get(load, queries.timeout if wait is None else wait)
