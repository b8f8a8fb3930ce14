"""Dereferenceable IRIs: ``/id/...``, ``/concept/...``, ``/graph/...``, ``/dataset``, ``/shapes``.

Each route maps the request path to the canonical IRI (instance IRIs under the configured base,
vocabulary IRIs under https://w3id.org/ptce/), describes it (ptcekb.describe) and answers with
the negotiated document: an HTML page rendered by the view registered for the resource's type,
or RDF. Lists of resources by kind (``/id/{kind}/``) page through the store with a name search.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from ..describe import INCOMING_PAGE, describe, document_triples
from ..labels import Labeller, local_path, pick
from ..namespaces import DCTERMS, SHAPES_IRI, VOCAB_BASE
from . import artefacts
from .artefacts import Entry, build_indexes, fold
from .documents import Document, choose, language, split_suffix
from .http import document_not_acceptable, error_response
from ..i18n import KINDS, translator
from .negotiation import HTML
from .pagequery import Missing
from .validation import PENDING, all_documentation, compliance_for, documentation_summary
from .views import Page, select
from .views.base import SPARQL_PREFIXES
from .routing import Router



@asynccontextmanager
async def _warm_up(app):
    """Read (or, for a build published without them, build) the name indexes of the lists in the
    background when the service starts."""
    try:
        await kind_entries(app, "ptce", wait=0)
    except Exception:  # noqa: BLE001 - no store yet: the first list request builds them
        logging.getLogger("ptcekb.service").warning("the name indexes were not built at start-up", exc_info=True)
    yield


router = Router(lifespan=_warm_up)

LIST_PAGE = 50
_GET = ["GET", "HEAD"]


def _page_number(request: Request, name: str = "page") -> int:
    value = request.query_params.get(name, "1")
    return int(value) if value.isdigit() and 0 < int(value) < 1_000_000 else 1


async def serve(request: Request, iri: str, path: str, suffix: str | None) -> Response:
    """The document of ``iri`` at ``path`` (without suffix), in the representation asked for."""
    representation = choose(request, suffix)
    if representation is None:
        return document_not_acceptable()
    try:  # issue 10: a path that makes no IRI (a space, a NUL, U+FFFD...) names nothing: 404, not a 500
        ox.NamedNode(iri)
    except ValueError:
        return _not_found(request, iri, representation, language(request))
    # The page is made in a thread; its SPARQL queries go to the query workers, under one time
    # limit for the page (pagequery.py); what had no answer in time is said on the page.
    budget = request.app.state.page_queries.budget(asyncio.get_running_loop())
    return await asyncio.to_thread(_serve, request, iri, path, suffix, representation, budget)


def _serve(request: Request, iri: str, path: str, suffix: str | None, representation, budget) -> Response:
    kb = request.app.state.kb
    store, info = kb.store(), kb.info()
    page_number = _page_number(request, "incoming")
    description = describe(store, iri, page_number)
    lang = language(request)
    if description.empty:
        return _not_found(request, iri, representation, lang)
    next_page = f"{path}?{urlencode({'incoming': page_number + 1})}" if description.has_more_incoming else None
    document = Document(request, path, representation, build=info.build, lang=lang, suffix=suffix,
                        licences=licences(kb, info.build, tuple(sorted(description.graphs))),
                        page=page_number, next_page=next_page)
    cached = document.not_modified()
    if cached is not None:
        return cached
    if representation is not HTML:
        document_iri = _document_iri(iri, representation.suffix)
        own = document_triples(document_iri, iri, kb.settings.ns.dataset, document.licences,
                               _document_iri(iri, representation.suffix) + f"?incoming={page_number + 1}" if next_page else None)
        return document.rdf(description.triples + own)
    labeller = Labeller(store, kb.settings.ns.base, lang)
    page = Page(iri, description, store, labeller, lang, kb.settings.ns.base,
                compliance=lambda ptce: compliance_for(kb, ptce), queries=budget)
    chosen = select(page.types)
    context = {
        "page": page, "t": translator(lang), "lang": lang, "document": document, "next_page": next_page,
        "incoming_page_size": INCOMING_PAGE, **chosen.context(page), "missing": page.missing,
    }
    body = request.app.state.templates.get_template(chosen.template).render(context)
    return document.html(body, complete=not page.missing)


def _document_iri(iri: str, suffix: str) -> str:
    return iri.split("#", 1)[0] + "." + suffix


def _not_found(request: Request, iri: str, representation, lang: str) -> Response:
    if representation is HTML:
        body = request.app.state.templates.get_template("not_found.html").render(
            {"iri": iri, "t": translator(lang), "lang": lang})
        return HTMLResponse(body, status_code=404, headers={"Vary": "Accept, Accept-Language, Cookie"})
    return error_response(404, f"404: unknown resource / ressource inconnue: {iri}", {"Vary": "Accept"})


def licences(kb, build: str, graphs: tuple[str, ...]) -> list[str]:
    """The licences (from graph/meta) of the named graphs a description comes from, cached per build."""
    def read() -> list[str]:
        meta, licence = ox.NamedNode(kb.settings.ns.meta_graph), ox.NamedNode(str(DCTERMS.license))
        found = [q.object.value for graph in graphs
                 for q in kb.store().quads_for_pattern(ox.NamedNode(graph), licence, None, meta)]
        return list(dict.fromkeys(found))
    return kb.cache.get(build, ("licences", graphs), read)


# --------------------------------------------------------------------------------------------
# Routes


@router.api_route("/id/{kind}/{key}", methods=_GET, summary="A thing of the knowledge base (HTML or RDF)")
async def thing(request: Request, kind: str, key: str) -> Response:
    key, suffix = split_suffix(key)
    return await serve(request, request.app.state.settings.ns.id(kind, key), f"/id/{kind}/{key}", suffix)


@router.api_route("/concept/{scheme}", methods=_GET, summary="A code list (SKOS concept scheme)")
async def concept_scheme(request: Request, scheme: str) -> Response:
    scheme, suffix = split_suffix(scheme)
    return await serve(request, f"{VOCAB_BASE}concept/{scheme}", f"/concept/{scheme}", suffix)


@router.api_route("/concept/{scheme}/{code}", methods=_GET, summary="A concept of a code list")
async def concept(request: Request, scheme: str, code: str) -> Response:
    code, suffix = split_suffix(code)
    return await serve(request, f"{VOCAB_BASE}concept/{scheme}/{code}", f"/concept/{scheme}/{code}", suffix)


@router.api_route("/graph/{name}", methods=_GET, summary="A named graph: its description and provenance")
async def graph(request: Request, name: str) -> Response:
    name, suffix = split_suffix(name)
    return await serve(request, request.app.state.settings.ns.graph(name), f"/graph/{name}", suffix)


@router.api_route("/dataset", methods=_GET, include_in_schema=False)
@router.api_route("/dataset.{suffix}", methods=_GET, include_in_schema=False)
async def dataset(request: Request, suffix: str | None = None) -> Response:
    return await serve(request, request.app.state.settings.ns.dataset, "/dataset", suffix)


@router.api_route("/shapes", methods=_GET, summary="The SHACL shapes of article 9 (HTML or RDF)")
@router.api_route("/shapes.{suffix}", methods=_GET, include_in_schema=False)
async def shapes(request: Request, suffix: str | None = None) -> Response:
    representation = choose(request, suffix)
    if representation is None:
        return document_not_acceptable()
    kb = request.app.state.kb
    lang = language(request)
    document = Document(request, "/shapes", representation, build=kb.build, suffix=suffix, lang=lang)
    cached = document.not_modified()
    if cached is not None:
        return cached
    if representation is HTML:
        shapes = await list_shapes(request.app.state.page_queries, lang)
        missing = ["shapes"] if isinstance(shapes, Missing) else []
        body = request.app.state.templates.get_template("shapes.html").render(
            {"t": translator(lang), "lang": lang, "shapes": [] if missing else shapes, "missing": missing})
        return document.html(body, complete=not missing)
    graph = ox.NamedNode(kb.settings.ns.graph("shapes"))
    return document.rdf([q.triple for q in kb.store().quads_for_pattern(None, None, None, graph)])


SHAPES_QUERY = """
SELECT ?shape ?severity (SAMPLE(?n) AS ?name) (SAMPLE(?m) AS ?message) (SAMPLE(?c) AS ?comment) WHERE {
  ?shape sh:severity ?severity .
  OPTIONAL { ?shape sh:name ?n FILTER(LANG(?n) = %(lang)s) }
  OPTIONAL { ?shape sh:message ?m FILTER(LANG(?m) = %(lang)s) }
  OPTIONAL { ?shape rdfs:comment ?c FILTER(LANG(?c) = %(lang)s) }
} GROUP BY ?shape ?severity ORDER BY ?severity ?shape"""


async def list_shapes(queries, lang: str) -> list[dict] | Missing:
    """Every shape with a severity: its anchor, severity, name, message and the text it encodes."""
    rows = await queries.select(SPARQL_PREFIXES + SHAPES_QUERY % {"lang": ox.Literal(lang)})
    if isinstance(rows, Missing):
        return rows
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    shapes = [{"anchor": r["shape"].value.partition("#")[2], "severity": r["severity"].value.rpartition("#")[2],
               **{k: r[k].value if r[k] else "" for k in ("name", "message", "comment")}} for r in rows
              if isinstance(r["shape"], ox.NamedNode) and r["shape"].value.startswith(SHAPES_IRI + "#")]
    return sorted(shapes, key=lambda s: (order.get(s["severity"], 3), s["anchor"]))


# --------------------------------------------------------------------------------------------
# Lists by kind, with paging and a search by name


@router.get("/id/", summary="The kinds of things, with links to their lists", response_class=HTMLResponse)
def kinds(request: Request) -> Response:
    lang = language(request)
    return request.app.state.templates.TemplateResponse(request, "kinds.html", {
        "t": translator(lang), "lang": lang, "kinds": [(k, v[1 if lang == "en" else 0]) for k, v in KINDS.items()]})


@router.get("/id/{kind}/", summary="The things of one kind: paged list, ?q= searches names", response_class=HTMLResponse)
async def listing(request: Request, kind: str, q: str = "", page: int = 1) -> Response:
    if kind not in KINDS:
        return error_response(404, f"404: unknown kind / type inconnu: {kind}; known: {', '.join(KINDS)}")
    kb = request.app.state.kb
    lang = language(request)
    page = max(1, min(page, 100_000))
    q = q.strip()[:200]
    entries = await kind_entries(request.app, kind)
    missing = ["list_of"] if isinstance(entries, Missing) else []
    rows, total = await asyncio.to_thread(list_things, [] if missing else entries, q, page)
    query = {"q": q} if q else {}
    marks, documentation = {}, None
    if kind == "ptce":  # article 9 of each PTCE, as its page shows it, and across the base (ptcekb/documentation.py)
        known = all_documentation(kb)
        if isinstance(known, dict) and known is not PENDING:
            marks = {local_path(e.iri, kb.settings.ns.base): [(el.key, el.status, pick(el.label, lang)) for el in known[e.iri].elements]
                     for e in rows if e.iri in known}
        documentation = {"summary": documentation_summary(kb, lang)}
    return request.app.state.templates.TemplateResponse(request, "list.html", {
        "missing": missing, "marks": marks, "documentation": documentation,
        "t": translator(lang), "lang": lang, "kind": kind, "title": KINDS[kind][1 if lang == "en" else 0],
        "items": [(local_path(e.iri, kb.settings.ns.base), e.name) for e in rows],
        "q": q, "page": page, "total": total, "page_size": LIST_PAGE,
        "previous": f"?{urlencode({**query, 'page': page - 1})}" if page > 1 else None,
        "next": f"?{urlencode({**query, 'page': page + 1})}" if page * LIST_PAGE < total else None,
    }, headers={"Vary": "Accept-Language, Cookie", **({"Cache-Control": "no-store"} if missing else {})})


async def kind_entries(app, kind: str, wait: float | None = None) -> list[Entry] | Missing:
    """Every resource of ``kind`` with its name, sorted by name (artefacts.build_indexes): made when
    the build was published, or else built once per build for all kinds, in a thread, in the
    background, stopped at the endpoint's query time limit (``PTCEKB_QUERY_TIMEOUT``); a request
    waits for them at most the page time limit."""
    kb = app.state.kb

    def scan() -> dict[str, list[Entry]]:
        return build_indexes(kb.store(), kb.settings.ns.base, time.monotonic() + kb.settings.query_timeout)

    indexes = await artefacts.per_build(app, "the name indexes", artefacts.INDEXES, lambda: asyncio.to_thread(scan),
                                        wait=wait)
    return indexes if isinstance(indexes, Missing) else indexes.get(kind, [])


def list_things(entries: list[Entry], q: str, page: int) -> tuple[list[Entry], int]:
    """One page of ``entries`` whose name contains ``q`` (case and accents ignored); and how many match."""
    if q:
        needle = fold(q)
        entries = [e for e in entries if needle in e.key]
    start = (page - 1) * LIST_PAGE
    return entries[start:start + LIST_PAGE], len(entries)
