"""The SPARQL service description and the VoID description (``/.well-known/void``).

Statistics (triples, entities, classes, properties, class partitions per named graph) are made when
a build is published (artefacts.py), or else computed once per build; either way held in the
knowledge base's cache of the build being served (kb.BuildCache), which is dropped with every
rebuild and every update (update.py publishes a new build).
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import UserError
from ..namespaces import LICENCE_OUVERTE
from ..namespaces import DCTERMS, FOAF, PREFIXES, RDF, RDFS, SD, SH, VOID, XSD
from . import artefacts
from .artefacts import DUMPS, STATISTICS_QUERIES, Statistics, statistics_of
from . import worker_guard
from .http import error_response
from .negotiation import by_name, negotiate
from .pagequery import Missing, need
from .rendering import TripleDocument, offers, render

router = APIRouter()

FORMATS = "http://www.w3.org/ns/formats/"
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads")
SIMPLE_ENTAILMENT = "http://www.w3.org/ns/entailment/Simple"
SD_PREFIXES = {**PREFIXES, "formats": FORMATS}


def endpoint_url(request: Request) -> str:
    return str(request.base_url) + "sparql"


def void_url(request: Request) -> str:
    return str(request.base_url) + ".well-known/void"


# --------------------------------------------------------------------------------------------
# Statistics, once per build


async def compute_statistics(queries, directory: str, timeout: float) -> Statistics:
    """The statistics by the query workers, each of the four aggregates under ``timeout`` (raises
    ``pagequery.Unanswered`` when one has no answer in time): for a build published without them."""
    return statistics_of(directory, [need(await queries.select(query, timeout=timeout)) for query in STATISTICS_QUERIES])


async def statistics(request: Request) -> Statistics | Missing:
    """The statistics of the served build: made when it was published (artefacts.py), else computed
    once per build in the background under the endpoint's query time limit per query; a request
    waits for them at most the page time limit."""
    kb, queries = request.app.state.kb, request.app.state.page_queries
    build = kb.build
    return await artefacts.per_build(request.app, "the statistics", artefacts.STATISTICS,
                                     lambda: compute_statistics(queries, build, kb.settings.query_timeout))


def not_ready(missing: Missing) -> UserError:
    """503 for the RDF documents made from the statistics while they are not available."""
    return UserError("503: the statistics of the knowledge base are being computed or could not be computed in time; "
                     "retry in a minute / les statistiques de la base sont en cours de calcul ou n'ont pas pu être "
                     f"calculées à temps ; réessayer dans une minute ({missing.reason})", http_status=503)


# --------------------------------------------------------------------------------------------
# Building the descriptions


def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(str(value))


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_iri(XSD.integer))


def _add(out: list, subject, predicate, obj) -> None:
    out.append(ox.Triple(subject, _iri(predicate), obj))


async def service_description(request: Request, rdf_format: ox.RdfFormat) -> bytes:
    return ox.serialize(await service_description_triples(request), format=rdf_format, prefixes=SD_PREFIXES)


async def service_description_triples(request: Request) -> list[ox.Triple]:
    settings = request.app.state.settings
    stats = await statistics(request)
    if isinstance(stats, Missing):
        raise not_ready(stats)
    out: list[ox.Triple] = []
    service, dataset, void = _iri(endpoint_url(request)), _iri(settings.ns.dataset), _iri(void_url(request))
    _add(out, service, RDF.type, _iri(SD.Service))
    _add(out, service, SD.endpoint, service)
    _add(out, service, SD.supportedLanguage, _iri(SD.SPARQL11Query))
    for name in RESULT_FORMATS:
        _add(out, service, SD.resultFormat, _iri(FORMATS + name))
    _add(out, service, SD.feature, _iri(SD.UnionDefaultGraph))
    unconfined = worker_guard.probe() if request.app.state.kb.remote is None else None
    if settings.service_allowlist and unconfined is None:
        _add(out, service, SD.feature, _iri(SD.BasicFederatedQuery))
    _add(out, service, SD.defaultEntailmentRegime, _iri(SIMPLE_ENTAILMENT))
    _add(out, service, DCTERMS.title, ox.Literal("Base de connaissances des PTCE : point d'accès SPARQL", language="fr"))
    _add(out, service, DCTERMS.title, ox.Literal("PTCE knowledge base: SPARQL endpoint", language="en"))
    _add(out, service, RDFS.comment, ox.Literal(
        "Without default-graph-uri, named-graph-uri or FROM, the default graph is the union of all the named "
        "graphs; GRAPH reaches each source. Predeclared prefixes are listed with sh:declare. Limits: "
        f"{settings.query_timeout:g} s per query, {request.app.state.executor.limits.row_cap} rows, "
        f"{worker_guard.human(settings.worker_memory)} of memory per query worker (PTCEKB_WORKER_MEMORY). "
        + ("SERVICE and LOAD are refused: the query workers cannot be kept off the network on this server "
           f"({unconfined})." if unconfined else
           "The query workers cannot open network connections; SERVICE goes only to the endpoints the server "
           "allows (PTCEKB_SERVICE_ALLOWLIST), called by the server itself."), language="en"))
    _add(out, service, RDFS.comment, ox.Literal(
        "Sans default-graph-uri, named-graph-uri ni FROM, le graphe par défaut est l'union de tous les graphes "
        "nommés ; GRAPH atteint chaque source. Les préfixes prédéclarés sont listés par sh:declare. Limites : "
        f"{settings.query_timeout:g} s par requête, {request.app.state.executor.limits.row_cap} lignes, "
        f"{worker_guard.human(settings.worker_memory)} de mémoire par processus de requête (PTCEKB_WORKER_MEMORY). "
        + (f"SERVICE et LOAD sont refusés : les processus de requête de ce serveur ne peuvent pas être privés de "
           f"réseau ({unconfined})." if unconfined else
           "Les processus de requête ne peuvent pas ouvrir de connexion réseau ; SERVICE ne va qu'aux points "
           "d'accès que le serveur autorise (PTCEKB_SERVICE_ALLOWLIST), appelés par le serveur lui-même."),
        language="fr"))
    _add(out, service, RDFS.seeAlso, void)
    for prefix, namespace in PREFIXES.items():
        declaration = ox.BlankNode()
        _add(out, service, SH.declare, declaration)
        _add(out, declaration, SH.prefix, ox.Literal(prefix))
        _add(out, declaration, SH.namespace, ox.Literal(namespace, datatype=_iri(XSD.anyURI)))
    _add(out, service, SD.defaultDataset, dataset)
    _add(out, dataset, RDF.type, _iri(SD.Dataset))
    _add(out, dataset, RDFS.seeAlso, void)
    default_graph = ox.BlankNode()
    _add(out, dataset, SD.defaultGraph, default_graph)
    _add(out, default_graph, RDF.type, _iri(SD.Graph))
    _add(out, default_graph, RDFS.comment, ox.Literal("the union of the named graphs", language="en"))
    _add(out, default_graph, RDFS.comment, ox.Literal("l'union des graphes nommés", language="fr"))
    _add(out, default_graph, VOID.triples, _int(stats.triples))
    for graph, graph_stats in stats.graphs.items():
        named, description = ox.BlankNode(), ox.BlankNode()
        _add(out, dataset, SD.namedGraph, named)
        _add(out, named, RDF.type, _iri(SD.NamedGraph))
        _add(out, named, SD.name, _iri(graph))
        _add(out, named, SD.graph, description)
        _add(out, description, RDF.type, _iri(SD.Graph))
        _add(out, description, VOID.triples, _int(graph_stats.triples))
    if settings.update_token:
        update = _iri(str(request.base_url) + "update")
        _add(out, update, RDF.type, _iri(SD.Service))
        _add(out, update, SD.endpoint, update)
        _add(out, update, SD.supportedLanguage, _iri(SD.SPARQL11Update))
        _add(out, update, SD.defaultDataset, dataset)
    return out


def void_description(request: Request, stats: Statistics) -> list[ox.Triple]:
    settings, kb = request.app.state.settings, request.app.state.kb
    dataset, document = _iri(settings.ns.dataset), _iri(void_url(request))
    meta = _iri(settings.ns.meta_graph)
    # What the build wrote in graph/meta (titles, licences, sources, provenance), without its
    # build-time triple counts: the counts below are those of the data served.
    out = [q.triple for q in kb.store().quads_for_pattern(None, None, None, meta) if q.predicate.value != str(VOID.triples)]
    has = {(t.subject, t.predicate.value) for t in out}
    _add(out, document, RDF.type, _iri(VOID.DatasetDescription))
    _add(out, document, FOAF.primaryTopic, dataset)
    _add(out, dataset, RDF.type, _iri(VOID.Dataset))
    if (dataset, str(DCTERMS.license)) not in has:
        _add(out, dataset, DCTERMS.license, _iri(LICENCE_OUVERTE))
    if (dataset, str(VOID.uriSpace)) not in has:
        _add(out, dataset, VOID.uriSpace, ox.Literal(settings.ns.base + "id/"))
    _add(out, dataset, VOID.sparqlEndpoint, _iri(endpoint_url(request)))
    for dump in DUMPS:
        _add(out, dataset, VOID.dataDump, _iri(dump.url(request)))
    _add(out, dataset, VOID.feature, _iri(FORMATS + "N-Quads"))
    _add(out, dataset, VOID.feature, _iri(FORMATS + "TriG"))
    _add(out, dataset, VOID.triples, _int(stats.triples))
    _add(out, dataset, VOID.entities, _int(stats.entities))
    _add(out, dataset, VOID.classes, _int(stats.classes))
    _add(out, dataset, VOID.properties, _int(stats.properties))
    for graph, graph_stats in stats.graphs.items():
        subset = _iri(graph)
        _add(out, dataset, VOID.subset, subset)
        _add(out, subset, RDF.type, _iri(VOID.Dataset))
        _add(out, subset, VOID.sparqlEndpoint, _iri(endpoint_url(request)))
        _add(out, subset, VOID.triples, _int(graph_stats.triples))
        _add(out, subset, VOID.entities, _int(graph_stats.entities))
        _add(out, subset, VOID.classes, _int(graph_stats.classes))
        _add(out, subset, VOID.properties, _int(graph_stats.properties))
        for cls, count in graph_stats.class_partitions.items():
            partition = ox.BlankNode()
            _add(out, subset, VOID.classPartition, partition)
            _add(out, partition, VOID["class"], _iri(cls))
            _add(out, partition, VOID.entities, _int(count))
    return list(dict.fromkeys(out))


# --------------------------------------------------------------------------------------------
# Routes


@router.get("/.well-known/void", summary="VoID description of the dataset (RDF; HTML for browsers)")
async def well_known_void(request: Request, format: str | None = None) -> Response:
    if (by_name(format, offers()) if format else negotiate(request.headers.get("accept"), offers())) is None:
        types = ", ".join(r.media_type for r in offers())
        return error_response(406, f"406: VoID is offered as {types} / aucun format acceptable", {"Vary": "Accept"})
    stats = await statistics(request)
    if isinstance(stats, Missing):
        error = not_ready(stats)
        return error_response(503, str(error), {"Vary": "Accept", "Retry-After": "60"})
    return render(TripleDocument(request, void_description(request, stats), str(request.app.state.settings.ns.dataset),
                                 "void", PREFIXES), format)


@router.get("/sparql/description", summary="SPARQL service description (RDF; HTML for browsers)",
            description="The same description as GET /sparql answers RDF clients, here also as a page for browsers.")
async def sparql_description(request: Request, format: str | None = None) -> Response:
    if (by_name(format, offers()) if format else negotiate(request.headers.get("accept"), offers())) is None:
        types = ", ".join(r.media_type for r in offers())
        return error_response(406, f"406: the service description is offered as {types} / aucun format acceptable",
                              {"Vary": "Accept"})
    try:
        triples = await service_description_triples(request)
    except UserError as error:
        return error_response(error.http_status, str(error), {"Vary": "Accept", "Retry-After": "60"})
    return render(TripleDocument(request, triples, endpoint_url(request), "service_description", SD_PREFIXES,
                                 {"Link": f'<{void_url(request)}>; rel="describedby"'}), format)
