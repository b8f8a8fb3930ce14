"""``/update`` (SPARQL 1.1 Update) and ``/store`` (Graph Store Protocol), behind a bearer token.

Off unless ``PTCEKB_UPDATE_TOKEN`` is set (403 otherwise). The served builds are read-only and
immutable, so a write is *copy-on-write*: under a lock, in a confined worker process
(update_worker.py: no network, memory capped; the request body is parsed there too, never in the
server), the published build is cloned into a new build directory (SST files hard-linked, the rest copied: cheap), the change is applied there with
a read-write pyoxigraph store, and the new build is published by the same atomic link switch as
``ptcekb build``. A write that fails leaves no trace (the new build is discarded), readers never
see a half-applied change, and the query workers and the statistics notice the new build by its
directory. The next ``ptcekb build`` rebuilds from the sources and replaces these changes.
"""

from __future__ import annotations

import asyncio
import hmac
import uuid

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from ..errors import UserError
from ..namespaces import PREFIXES
from ..messages import one_line
from . import update_worker
from .federation import materialise
from .negotiation import RDF_REPRESENTATIONS, by_name, negotiate
from .update_dataset import DatasetError, apply_dataset
from .update_worker import Outcome, Write
from .http import (CORS_HEADERS, ProtocolError, content_type, error_response, method_not_allowed, preflight, read_body,
                   read_operation, require_text)
from .limits import MAX_STORE_BYTES, MAX_UPDATE_BYTES
from .sparql import ANALYSIS_ON_LOOP, check_egress, check_federation, checked_analysis
from .routing import Router

router = Router()

UPDATE_METHODS = ("POST", "OPTIONS")
STORE_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS")


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


async def run_write(request: Request, write: Write) -> Outcome:
    """Apply ``write`` in a confined worker process (update_worker.py); errors become ProtocolErrors."""
    outcome = await update_worker.run(write)
    if outcome.status != 200:
        raise ProtocolError(outcome.status, outcome.message)
    return outcome


# --------------------------------------------------------------------------------------------
# /update


@router.post("/update", summary="SPARQL 1.1 Update (bearer token; off unless PTCEKB_UPDATE_TOKEN is set)")
async def update(request: Request) -> Response:
    try:
        authorize(request)
        operation = await read_operation(request, "update", "application/sparql-update", MAX_UPDATE_BYTES)
        text = require_text(operation, "update")
        text = await with_protocol_dataset(text, operation.all("using-graph-uri"), operation.all("using-named-graph-uri"))
        analysis = await checked_analysis(text)
        if analysis.loads:
            raise ProtocolError(400, "LOAD is not accepted (the engine would fetch the URL itself): PUT or POST the "
                                     "data to /store?graph=... / LOAD refusé, utiliser /store")
        settings = request.app.state.settings
        check_egress(text, request.app.state.kb.remote is not None)
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
            await run_write(request, Write(str(settings.store), "update", text=text, base_iri=base))
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except UserError as exc:  # a SERVICE call failed (federation.py)
        return error_response(exc.http_status, str(exc))
    return Response(f"update applied; build {request.app.state.kb.build} published\n", media_type="text/plain; charset=utf-8",
                    headers=CORS_HEADERS)


async def with_protocol_dataset(text: str, default_graphs: list[str], named_graphs: list[str]) -> str:
    """The update with ``using-graph-uri``/``using-named-graph-uri`` written in as USING clauses
    (update_dataset.py), before anything else reads it: the checks below and the worker see the text
    that runs. Linear; past ANALYSIS_ON_LOOP characters in a thread, off the event loop."""
    if not default_graphs and not named_graphs:
        return text
    try:
        if len(text) <= ANALYSIS_ON_LOOP:
            return apply_dataset(text, default_graphs, named_graphs, MAX_UPDATE_BYTES)
        return await asyncio.to_thread(apply_dataset, text, default_graphs, named_graphs, MAX_UPDATE_BYTES)
    except DatasetError as exc:
        raise ProtocolError(exc.http_status, str(exc)) from None


@router.options("/update", include_in_schema=False)
async def update_options(request: Request) -> Response:
    return preflight(request, UPDATE_METHODS)


@router.api_route("/update", methods=["GET", "HEAD", "PUT", "DELETE", "PATCH"], include_in_schema=False)
async def update_other(request: Request) -> Response:
    return method_not_allowed(UPDATE_METHODS)


# --------------------------------------------------------------------------------------------
# /store: the Graph Store Protocol (?graph=IRI or ?default)


def _target(request: Request) -> ox.NamedNode | ox.DefaultGraph | None:
    """The graph a request to ``/store`` names (indirect identification); None: the graph store itself
    (only a POST may address it: it creates a new graph)."""
    params = request.query_params
    graphs = params.getlist("graph")
    if "default" in params and not graphs:
        return ox.DefaultGraph()
    if len(graphs) == 1 and "default" not in params:
        return _graph_iri(graphs[0])
    if not graphs and "default" not in params and request.method == "POST":
        return None
    raise ProtocolError(400, "name one graph: ?graph=IRI or ?default, or POST to /store to create a new graph / "
                             "préciser ?graph=IRI ou ?default, ou POST sur /store pour créer un graphe")


def _graph_iri(value: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(value)
    except ValueError:
        raise ProtocolError(400, f"graph {value!r} is not an IRI / n'est pas un IRI") from None


def _direct_target(request: Request) -> ox.NamedNode:
    """Direct identification: ``/store/<path>`` names the graph whose IRI is that URL, under the
    service's public address (``PTCEKB_PUBLIC_URL``, else the address it listens on; never ``Host``).
    The path is taken as sent, percent-escapes kept: an IRI is compared character by character."""
    if "graph" in request.query_params or "default" in request.query_params:
        raise ProtocolError(400, "a graph URL under /store/ names its graph itself: no ?graph= or ?default there / "
                                 "pas de ?graph= ni ?default sur l'URL d'un graphe")
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("utf-8", "replace")[len(request.scope.get("root_path", "")):]
    return _graph_iri(str(request.base_url) + path.lstrip("/"))


def _exists(store: ox.Store, graph) -> bool:
    if isinstance(graph, ox.DefaultGraph):
        return True
    return store.contains_named_graph(graph)


def _body_format(request: Request) -> str:
    """The media type of a Graph Store upload (the body itself is parsed in the worker): an RDF graph
    format, or for a POST ``multipart/form-data`` whose parts are RDF graphs (merged), as the protocol allows."""
    media, params = content_type(request)
    if media == "multipart/form-data" and request.method == "POST":
        if not params.get("boundary"):
            raise ProtocolError(400, "multipart/form-data without a boundary / multipart sans délimiteur")
        return request.headers["content-type"]
    try:
        rdf_format = ox.RdfFormat.from_media_type(media) if media else None
    except ValueError:
        rdf_format = None
    if rdf_format is None or rdf_format.supports_datasets and rdf_format != ox.RdfFormat.JSON_LD:
        types = ", ".join(r.media_type for r in RDF_REPRESENTATIONS)
        raise ProtocolError(415, f"send an RDF graph as one of {types} (or multipart/form-data of them, with POST), "
                                 f"not {media or 'no Content-Type'} / format non pris en charge")
    return media


@router.api_route("/store", methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
                  summary="Graph Store Protocol (bearer token; off unless PTCEKB_UPDATE_TOKEN is set)")
async def graph_store(request: Request) -> Response:
    return await _graph_store_named(request, _target)


@router.api_route("/store/{path:path}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
                  summary="Graph Store Protocol, direct identification: the graph whose IRI is this URL (bearer token)")
async def graph_store_direct(request: Request, path: str) -> Response:
    return await _graph_store_named(request, _direct_target)


async def _graph_store_named(request: Request, target) -> Response:
    """A Graph Store request whose graph ``target(request)`` names (indirectly or directly)."""
    try:
        authorize(request)
        graph = target(request)
        if request.app.state.kb.remote is not None:
            raise ProtocolError(501, "501: with a remote store, use the engine's own Graph Store endpoint "
                                     f"({request.app.state.kb.remote.store_url}) / utiliser le point d'accès du moteur")
        return await _graph_store(request, graph)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)


@router.options("/store", include_in_schema=False)
async def store_options(request: Request) -> Response:
    return preflight(request, STORE_METHODS)


@router.options("/store/{path:path}", include_in_schema=False)
async def store_direct_options(request: Request, path: str) -> Response:
    return preflight(request, STORE_METHODS)


@router.api_route("/store", methods=["PATCH"], include_in_schema=False)
async def store_other(request: Request) -> Response:
    return method_not_allowed(STORE_METHODS)


@router.api_route("/store/{path:path}", methods=["PATCH"], include_in_schema=False)
async def store_direct_other(request: Request, path: str) -> Response:
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

    store_path = str(request.app.state.settings.store)
    if method == "DELETE":
        await run_write(request, Write(store_path, "delete", graph=graph.value if isinstance(graph, ox.NamedNode) else None))
        return Response(status_code=204, headers=CORS_HEADERS)
    media = _body_format(request)
    created = graph is None  # POST to the graph store itself: a new graph, under /store/ (direct identification)
    if created:
        graph = ox.NamedNode(f"{request.base_url}store/{uuid.uuid4().hex}")
    target = graph.value if isinstance(graph, ox.NamedNode) else None
    body = await read_body(request, MAX_STORE_BYTES)
    outcome = await run_write(request, Write(store_path, method.lower(), graph=target, body=body, media_type=media))
    headers = {**CORS_HEADERS, "Location": target} if created else CORS_HEADERS
    if created:
        headers["Access-Control-Expose-Headers"] += ", Location"
    return Response(status_code=204 if outcome.existed else 201, headers=headers)
