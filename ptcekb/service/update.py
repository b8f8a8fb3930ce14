"""``/update`` (SPARQL 1.1 Update) and ``/store`` (Graph Store Protocol), behind a bearer token.

Off unless ``PTCEKB_UPDATE_TOKEN`` is set (403 otherwise). The served builds are read-only and
immutable, so a write is *copy-on-write*: under a lock, the published build is cloned into a new
build directory (SST files hard-linked, the rest copied: cheap), the change is applied there with
a read-write pyoxigraph store, and the new build is published by the same atomic link switch as
``ptcekb build``. A write that fails leaves no trace (the new build is discarded), readers never
see a half-applied change, and the query workers and the statistics notice the new build by its
directory. The next ``ptcekb build`` rebuilds from the sources and replaces these changes.
"""

from __future__ import annotations

import asyncio
import hmac
import threading
from typing import Callable

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import UserError
from ..namespaces import PREFIXES
from ..query import one_line
from ..store import StoreLocation, clone_build
from ..syntax_limits import SyntaxRefused, check_rdf
from .federation import materialise
from .negotiation import RDF_REPRESENTATIONS, by_name, negotiate
from .sparql import (CORS_HEADERS, ProtocolError, check_federation, checked_analysis, content_type, error_response,
                     method_not_allowed, preflight, read_body, read_operation, require_text)

router = APIRouter()

MAX_UPDATE_BYTES = 16 << 20  # 16 MiB
MAX_STORE_BYTES = 128 << 20  # 128 MiB per Graph Store Protocol upload
UPDATE_METHODS = ("POST", "OPTIONS")
STORE_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS")

_write_lock = threading.Lock()


def authorize(request: Request) -> None:
    """403 when updates are off; 401 without a bearer token; 403 with a wrong one (constant time)."""
    token = request.app.state.settings.update_token
    if not token:
        raise ProtocolError(403, "403: updates are disabled on this endpoint (PTCEKB_UPDATE_TOKEN is not set) "
                                 "/ mises à jour désactivées")
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise ProtocolError(401, "401: this operation needs 'Authorization: Bearer <token>' / jeton requis",
                            {"WWW-Authenticate": 'Bearer realm="ptcekb"'})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise ProtocolError(403, "403: wrong token / jeton refusé")


def write(settings, apply: Callable[[ox.Store], object]):
    """Apply ``apply`` to a copy of the published build and publish the copy (one writer at a time)."""
    location = StoreLocation(settings.store)
    with _write_lock:
        try:
            with location.building() as directory:
                clone_build(location.current(), directory)
                store = ox.Store(str(directory))
                failure = None
                try:
                    result = apply(store)
                    store.flush()
                except SyntaxError as exc:
                    failure = ProtocolError(400, f"SPARQL syntax error: {one_line(str(exc))}")
                except (OSError, ValueError, RuntimeError) as exc:
                    failure = ProtocolError(400, f"update failed, nothing was changed / échec, rien n'a été modifié: "
                                                 f"{one_line(str(exc))}")
                del store  # closed before the directory is published (or discarded)
                if failure is not None:
                    raise failure
        except UserError as exc:  # another build or write holds the builds lock
            raise ProtocolError(409, f"409: {exc}") from None
    return result


async def run_write(request: Request, apply: Callable[[ox.Store], object]):
    return await asyncio.to_thread(write, request.app.state.settings, apply)


# --------------------------------------------------------------------------------------------
# /update


@router.post("/update", summary="SPARQL 1.1 Update (bearer token; off unless PTCEKB_UPDATE_TOKEN is set)")
async def update(request: Request) -> Response:
    try:
        authorize(request)
        operation = await read_operation(request, "update", "application/sparql-update", MAX_UPDATE_BYTES)
        text = require_text(operation, "update")
        if operation.all("using-graph-uri") or operation.all("using-named-graph-uri"):
            raise ProtocolError(400, "using-graph-uri and using-named-graph-uri are not supported: write USING or "
                                     "WITH in the update / paramètres non pris en charge")
        analysis = await checked_analysis(text)
        if analysis.loads:
            raise ProtocolError(400, "LOAD is not accepted (the engine would fetch the URL itself): PUT or POST the "
                                     "data to /store?graph=... / LOAD refusé, utiliser /store")
        settings = request.app.state.settings
        check_federation(analysis, settings.service_allowlist)
        if analysis.services:
            text = await materialise(text, settings.service_allowlist, settings.service_timeout)
        base = str(request.base_url) + "update"
        remote = request.app.state.kb.remote
        if remote is not None:  # the engine applies the update (one transaction in Oxigraph)
            prologue = f"BASE <{base}>\n" + "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
            try:
                await asyncio.to_thread(remote.update, prologue + text)
            except SyntaxError as exc:
                raise ProtocolError(400, f"update refused by the engine, nothing was changed: {one_line(str(exc))}") from None
        else:
            await run_write(request, lambda store: store.update(text, prefixes=PREFIXES, base_iri=base))
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except UserError as exc:  # a SERVICE call failed (federation.py)
        return error_response(exc.http_status, str(exc))
    return Response(f"update applied; build {request.app.state.kb.build} published\n", media_type="text/plain; charset=utf-8",
                    headers=CORS_HEADERS)


@router.options("/update", include_in_schema=False)
async def update_options(request: Request) -> Response:
    return preflight(request, UPDATE_METHODS)


@router.api_route("/update", methods=["GET", "HEAD", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def update_other(request: Request) -> Response:
    return method_not_allowed(UPDATE_METHODS)


# --------------------------------------------------------------------------------------------
# /store: the Graph Store Protocol (?graph=IRI or ?default)


def _target(request: Request) -> ox.NamedNode | ox.DefaultGraph:
    params = request.query_params
    graphs = params.getlist("graph")
    if "default" in params and not graphs:
        return ox.DefaultGraph()
    if len(graphs) == 1 and "default" not in params:
        try:
            return ox.NamedNode(graphs[0])
        except ValueError:
            raise ProtocolError(400, f"graph {graphs[0]!r} is not an IRI") from None
    raise ProtocolError(400, "name one graph: ?graph=IRI or ?default / préciser ?graph=IRI ou ?default")


def _exists(store: ox.Store, graph) -> bool:
    if isinstance(graph, ox.DefaultGraph):
        return True
    return store.contains_named_graph(graph)


async def _parse_body(request: Request, graph) -> list[ox.Quad]:
    media, _ = content_type(request)
    try:
        rdf_format = ox.RdfFormat.from_media_type(media) if media else None
    except ValueError:
        rdf_format = None
    if rdf_format is None or rdf_format.supports_datasets and rdf_format != ox.RdfFormat.JSON_LD:
        types = ", ".join(r.media_type for r in RDF_REPRESENTATIONS)
        raise ProtocolError(415, f"send an RDF graph as one of {types}, not {media or 'no Content-Type'}")
    body = await read_body(request, MAX_STORE_BYTES)
    base = graph.value if isinstance(graph, ox.NamedNode) else None
    try:  # no XML entities, bounded nesting: before the parser sees the bytes (off the event loop: up to 128 MiB)
        await asyncio.to_thread(check_rdf, body, rdf_format)
    except SyntaxRefused as exc:
        raise ProtocolError(exc.http_status, f"body:{exc.where()} {exc}") from None
    try:
        triples = list(ox.parse(body, format=rdf_format, base_iri=base))
    except (SyntaxError, ValueError) as exc:
        raise ProtocolError(400, f"cannot parse the {rdf_format.name} body: {one_line(str(exc))}") from None
    if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in triples):
        raise ProtocolError(400, "the body must be a graph (no named graphs inside)")
    return [ox.Quad(q.subject, q.predicate, q.object, graph) for q in triples]


@router.api_route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
                  summary="Graph Store Protocol (bearer token; off unless PTCEKB_UPDATE_TOKEN is set)")
async def graph_store(request: Request) -> Response:
    try:
        authorize(request)
        graph = _target(request)
        if request.app.state.kb.remote is not None:
            raise ProtocolError(501, "501: with a remote store, use the engine's own Graph Store endpoint "
                                     f"({request.app.state.kb.remote.store_url}) / utiliser le point d'accès du moteur")
        return await _graph_store(request, graph)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)


@router.options("/store", include_in_schema=False)
async def store_options(request: Request) -> Response:
    return preflight(request, STORE_METHODS)


@router.api_route("/store", methods=["PATCH"], include_in_schema=False)
async def store_other(request: Request) -> Response:
    return method_not_allowed(STORE_METHODS)


async def _graph_store(request: Request, graph) -> Response:
    method = request.method
    if method in ("GET", "HEAD"):
        representation = negotiate(request.headers.get("accept"), RDF_REPRESENTATIONS)
        if request.query_params.get("format"):
            representation = by_name(request.query_params["format"], RDF_REPRESENTATIONS)
        if representation is None:
            raise ProtocolError(406, "406: graphs are offered as " + ", ".join(r.media_type for r in RDF_REPRESENTATIONS))
        store = request.app.state.kb.store()
        if not _exists(store, graph):
            raise ProtocolError(404, f"404: no graph {graph} / graphe inconnu")
        triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
        body = await asyncio.to_thread(ox.serialize, triples, format=representation.rdf_format, prefixes=PREFIXES)
        return Response(body, media_type=representation.content_type, headers={**CORS_HEADERS, "Vary": "Accept"})

    if method == "DELETE":
        def apply(store: ox.Store) -> bool:
            if not _exists(store, graph):
                return False
            if isinstance(graph, ox.DefaultGraph):
                store.clear_graph(graph)
            else:
                store.remove_graph(graph)
            return True
        if not await run_write(request, apply):
            raise ProtocolError(404, f"404: no graph {graph} / graphe inconnu")
        return Response(status_code=204, headers=CORS_HEADERS)

    quads = await _parse_body(request, graph)

    def apply(store: ox.Store) -> bool:
        existed = _exists(store, graph)
        if method == "PUT" and existed:
            store.clear_graph(graph)
        if isinstance(graph, ox.NamedNode):
            store.add_graph(graph)
        store.extend(quads)
        return existed
    existed = await run_write(request, apply)
    return Response(status_code=204 if existed else 201, headers=CORS_HEADERS)
