"""``/sparql``: the SPARQL 1.1 Protocol for queries (docs/sparql.md).

GET, POST form-encoded and POST ``application/sparql-query``; ``default-graph-uri`` and
``named-graph-uri`` define the dataset (over ``FROM``/``FROM NAMED``); without them and without
``FROM`` the default graph is the union of the named graphs. Queries run in worker processes with a
time limit (executor.py). ``GET /sparql`` without a query answers the service description to RDF
clients and the query page to browsers.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from .. import labels
from ..config import SOURCES_ROOT
from ..errors import UserError
from ..namespaces import PREFIXES, VOCAB_BASE
from ..sparql_text import Analysis, analyse
from ..syntax_limits import SyntaxRefused, check_sparql
from . import description, worker_guard
from .executor import Busy, Executor, Job, Limits, QueryTimeout, RemoteExecutor
from .serializers import Cut
from .federation import materialise
from .http import (CORS_HEADERS, TRUNCATED_HEADER, Operation, ProtocolError, error_response, method_not_allowed, preflight,
                   read_operation, require_text)
from .limits import MAX_QUERY_BYTES
from .documents import language
from .pagequery import Missing
from .negotiation import (GRAPH_ALIASES, GRAPH_REPRESENTATIONS, HTML, RDF_REPRESENTATIONS, RESULTS_ALIASES,
                          RESULTS_REPRESENTATIONS, Representation, by_name, negotiate)
from .routing import Router

log = logging.getLogger("ptcekb.service")

QUERY_METHODS = ("GET", "HEAD", "POST", "OPTIONS")
DESCRIPTION_REPRESENTATIONS = (*RDF_REPRESENTATIONS, HTML)

def check_egress(text: str, remote: bool = False) -> None:
    """Fail closed where the workers cannot be kept off the network (worker_guard.py): any text that
    might hold SERVICE or LOAD, in any spelling, is refused, since the engine would connect itself."""
    if remote:
        return  # a remote engine evaluates the query: its own network is its operator's business
    reason = worker_guard.probe()
    if reason is not None and worker_guard.may_reach_out(text):
        raise ProtocolError(403, "403: SERVICE and LOAD are off on this server: its query workers cannot be kept off "
                                 f"the network here ({reason}); the text looks like it holds one of them (a word "
                                 "'service' or 'load', in any case) / SERVICE et LOAD désactivés sur ce serveur "
                                 "(pas de confinement réseau des processus de requête)")


def check_federation(analysis: Analysis, allowlist: tuple[str, ...]) -> None:
    """Refuse ``SERVICE`` (and ``LOAD``) towards endpoints that ``PTCEKB_SERVICE_ALLOWLIST`` does not list."""
    for keyword, targets in (("SERVICE", analysis.services), ("LOAD", analysis.loads)):
        for target in targets:
            if target is None or not any(target.startswith(prefix) for prefix in allowlist):
                shown = "a variable or unresolved name" if target is None else f"<{target}>"
                raise ProtocolError(400, f"{keyword} {shown} refused: federated queries are off on this endpoint "
                                         "unless PTCEKB_SERVICE_ALLOWLIST lists the endpoint / requêtes fédérées "
                                         "désactivées (PTCEKB_SERVICE_ALLOWLIST)")


ANALYSIS_ON_LOOP = 16 << 10  # texts longer than this are analysed in a thread: ~1 µs a byte, 1 s for 1 MiB


def _checked(text: str) -> Analysis:
    analysis = analyse(text)
    try:
        check_sparql(analysis)
    except SyntaxRefused as exc:
        raise ProtocolError(exc.http_status, str(exc)) from None
    return analysis


async def checked_analysis(text: str) -> Analysis:
    """The analysis of a query or update, refusing what would crash the engine's parser or evaluator.

    Linear, but about a second for a 1 MiB body: past ``ANALYSIS_ON_LOOP`` characters it runs in a
    thread, so the event loop (every other request, /healthz) never waits for it."""
    if len(text) <= ANALYSIS_ON_LOOP:
        return _checked(text)
    return await asyncio.to_thread(_checked, text)


# --------------------------------------------------------------------------------------------
# Content negotiation


def choose_formats(request: Request, operation: Operation, form: str | None) -> tuple[Representation | None, Representation | None]:
    """(representation for SELECT/ASK, representation for CONSTRUCT/DESCRIBE); None when not acceptable.

    ``format`` (a short name or a media type) overrides ``Accept``.
    """
    requested = operation.one("format")
    if requested:
        solutions = by_name(requested, RESULTS_REPRESENTATIONS, RESULTS_ALIASES)
        graph = by_name(requested, GRAPH_REPRESENTATIONS, GRAPH_ALIASES)
        if solutions is None and graph is None:
            names = sorted({r.suffix for r in (*RESULTS_REPRESENTATIONS, *GRAPH_REPRESENTATIONS)} | {"json", "xml", "turtle"})
            raise ProtocolError(400, f"unknown format {requested!r}; use one of {', '.join(names)} or a media type")
        return solutions, graph
    accept = request.headers.get("accept")
    return negotiate(accept, RESULTS_REPRESENTATIONS), negotiate(accept, GRAPH_REPRESENTATIONS)


def results_not_acceptable(kind: str) -> ProtocolError:
    offers = RESULTS_REPRESENTATIONS if kind in ("SELECT", "ASK") else GRAPH_REPRESENTATIONS
    types = ", ".join(dict.fromkeys(r.media_type for r in offers))
    return ProtocolError(406, f"406: no acceptable format for {kind} results; this endpoint offers {types} "
                              "(or use ?format=) / aucun format acceptable", {"Vary": "Accept"})


# --------------------------------------------------------------------------------------------
# The executor's life: started with the application, stopped with it


@asynccontextmanager
async def lifespan(app):
    settings, kb = app.state.settings, app.state.kb
    limits = Limits.from_settings(settings)
    missing = await asyncio.to_thread(worker_guard.probe)
    if missing is not None:
        log.warning("the worker processes cannot be kept off the network here (%s): SERVICE and LOAD are refused "
                    "(docs/operations.md)", missing)
    executor = RemoteExecutor(limits, kb.remote) if kb.remote is not None else Executor(limits, network_guard=missing is None)
    app.state.executor = executor
    try:
        directory = str(kb.info().directory) if kb.remote is None else None
    except UserError:
        directory = None
    await executor.start(directory)
    try:
        yield
    finally:
        executor.close()


router = Router(lifespan=lifespan)


def _dataset(operation: Operation, analysis: Analysis) -> dict:
    default, named = operation.all("default-graph-uri"), operation.all("named-graph-uri")
    for iri in (*default, *named):
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*$", iri):
            raise ProtocolError(400, f"graph IRI {iri!r} is not an absolute IRI / IRI de graphe invalide")
    if default or named:
        return {"default_graph": default, "named_graphs": named, "use_default_graph_as_union": False}
    # FROM / FROM NAMED in the query define its dataset; otherwise the union of the named graphs.
    return {"use_default_graph_as_union": not analysis.has_dataset_clause}


@router.api_route("/sparql", methods=["GET", "HEAD", "POST"], summary="SPARQL 1.1 Protocol: query",
                  description="GET ?query=, POST form (query=) or POST application/sparql-query; see docs/sparql.md")
async def sparql(request: Request) -> Response:
    try:
        return await _sparql(request)
    except ProtocolError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except UserError as exc:
        return error_response(exc.http_status, str(exc))


@router.options("/sparql", include_in_schema=False)
async def sparql_options(request: Request) -> Response:
    return preflight(request, QUERY_METHODS)


@router.api_route("/sparql", methods=["PUT", "DELETE", "PATCH"], include_in_schema=False)
async def sparql_other(request: Request) -> Response:
    return method_not_allowed(QUERY_METHODS)


async def _sparql(request: Request) -> Response:
    operation = await read_operation(request, "query", "application/sparql-query", MAX_QUERY_BYTES)
    if operation.all("update"):
        raise ProtocolError(400, "updates are not accepted at /sparql: POST them to /update / "
                                 "mises à jour refusées ici, utiliser /update")
    if operation.text is None and request.method in ("GET", "HEAD"):
        return await describe_or_page(request, operation)
    text = require_text(operation, "query")
    analysis = await checked_analysis(text)
    solutions_rep, graph_rep = choose_formats(request, operation, analysis.form)
    if analysis.form in ("SELECT", "ASK") and solutions_rep is None:
        raise results_not_acceptable(analysis.form)
    if analysis.form in ("CONSTRUCT", "DESCRIBE") and graph_rep is None:
        raise results_not_acceptable(analysis.form)
    wants_html = HTML in (solutions_rep, graph_rep) and (
        (analysis.form in ("SELECT", "ASK") and solutions_rep is HTML)
        or (analysis.form in ("CONSTRUCT", "DESCRIBE") and graph_rep is HTML))
    settings = request.app.state.settings
    try:
        check_egress(text, request.app.state.kb.remote is not None)
        check_federation(analysis, settings.service_allowlist)
        dataset = _dataset(operation, analysis)
        if analysis.services:
            text = await materialise(text, settings.service_allowlist, settings.service_timeout)
    except ProtocolError as exc:
        if wants_html:
            return page(request, text, error=exc.message, status=exc.status)
        raise
    except UserError as exc:  # a SERVICE call failed (federation.py)
        if wants_html:
            return page(request, text, error=str(exc), status=exc.http_status)
        raise ProtocolError(exc.http_status, str(exc)) from None
    kb = request.app.state.kb
    executor: Executor = request.app.state.executor
    job = Job(
        directory=str(kb.info().directory or ""), query=text,
        solutions_format=None if solutions_rep is None else ("html" if solutions_rep is HTML else _results_name(solutions_rep)),
        graph_format=None if graph_rep is None else ("html" if graph_rep is HTML else graph_rep.rdf_format.file_extension),
        row_cap=executor.limits.row_cap, prefixes=analysis.default_prefixes(), output_prefixes=PREFIXES, base_iri=description.endpoint_url(request),
        byte_cap=executor.limits.answer_bytes, **dataset,
    )
    started = time.monotonic()
    try:
        reply = await executor.run(job)
    except QueryTimeout:
        message = (f"504: the query exceeded the time limit of {executor.limits.timeout:g} s and was stopped "
                   f"/ la requête a dépassé la limite de {executor.limits.timeout:g} s et a été arrêtée")
        if wants_html:
            return page(request, text, error=message, status=504)
        raise ProtocolError(504, message) from None
    except Busy:
        raise ProtocolError(503, "503: every query worker is busy; retry later / serveur occupé",
                            {"Retry-After": "5"}) from None
    elapsed = time.monotonic() - started
    if reply.status == 406:
        raise results_not_acceptable(reply.message)
    if reply.status != 200:
        if wants_html or (reply.kind == "" and (solutions_rep is HTML and graph_rep is HTML)):
            return page(request, text, error=reply.message, status=reply.status)
        raise ProtocolError(reply.status, reply.message)
    representation = solutions_rep if reply.kind in ("solutions", "boolean") else graph_rep
    headers = {**CORS_HEADERS, "Vary": "Accept"}
    if reply.truncated:
        headers[TRUNCATED_HEADER] = "true"
    if representation is HTML:
        # the answer (up to PTCEKB_ANSWER_BYTES of JSON) is read and the page built in threads: the event
        # loop (every other request, /healthz) never waits for them
        document = None if reply.kind == "graph" else await asyncio.to_thread(json.loads, reply.body)
        found = await result_labels(request, document) if reply.kind == "solutions" else ({}, 0)
        return await asyncio.to_thread(page, request, text, reply=reply, document=document, elapsed=elapsed,
                                       row_cap=job.row_cap, headers=headers, found=found)
    return Response(reply.body, media_type=_content_type(representation), headers=headers)


def _results_name(representation: Representation) -> str:
    return {"srj": "json", "json": "json", "srx": "xml", "xml": "xml", "csv": "csv", "tsv": "tsv"}[representation.suffix]


def _content_type(representation: Representation) -> str:
    if representation.media_type.startswith("text/") or representation.media_type in (
            "application/sparql-results+json", "application/json", "application/n-triples", "application/n-quads",
            "application/ld+json", "application/trig"):
        return representation.content_type
    return representation.media_type


# --------------------------------------------------------------------------------------------
# Without a query: the service description (RDF) or the query page (HTML)


async def describe_or_page(request: Request, operation: Operation) -> Response:
    requested = operation.one("format")
    representation = by_name(requested) if requested else negotiate(request.headers.get("accept"), DESCRIPTION_REPRESENTATIONS)
    if representation is None:
        types = ", ".join(r.media_type for r in DESCRIPTION_REPRESENTATIONS)
        raise ProtocolError(406, f"406: the service description is offered as {types} / aucun format acceptable",
                            {"Vary": "Accept"})
    if representation is HTML:
        example = operation.one("example")
        examples = load_examples()
        chosen = next((e for e in examples if e.name == example), None)
        return page(request, chosen.text if chosen else "", headers={**CORS_HEADERS, "Vary": "Accept"})
    body = await description.service_description(request, representation.rdf_format)
    return Response(body, media_type=representation.content_type,
                    headers={**CORS_HEADERS, "Vary": "Accept", "Link": f'<{description.void_url(request)}>; rel="describedby"'})


@dataclass(frozen=True)
class Example:
    name: str
    title_fr: str
    title_en: str
    text: str

    @property
    def href(self) -> str:
        return "/sparql?format=html&query=" + quote(self.text, safe="")

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_fr


def load_examples() -> list[Example]:
    """The competency questions of ``queries/*.rq`` with their FR/EN comment header."""
    examples = []
    for path in sorted((SOURCES_ROOT / "queries").glob("*.rq")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        titles = {"fr": "", "en": ""}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            label, _, rest = line.lstrip("# ").partition(":")
            if label.strip().lower() in titles:
                titles[label.strip().lower()] = rest.strip()
        examples.append(Example(path.stem, titles["fr"] or path.stem, titles["en"], text))
    return examples


async def result_labels(request: Request, document: dict) -> tuple[dict[str, str], int]:
    """The labels of the IRIs of a SELECT answer shown as HTML, in the page's language, by one query
    (``labels.labels_query``) for at most ``labels.LOOKUP_CAP`` of them, under the page time limit;
    and the cap when the answer had more IRIs than it (0 otherwise). No answer in time: no labels."""
    if "boolean" in document:
        return {}, 0
    iris = list(dict.fromkeys(b["value"] for row in document["results"]["bindings"] for b in row.values()
                              if b["type"] == "uri"))
    if not iris:
        return {}, 0
    capped = labels.LOOKUP_CAP if len(iris) > labels.LOOKUP_CAP else 0
    rows = await request.app.state.page_queries.select(labels.labels_query(iris[:labels.LOOKUP_CAP]))
    if isinstance(rows, Missing):
        return {}, capped
    return labels.best(rows, language(request)), capped


# What the HTML page of results shows of an answer (the whole of it is in the other formats): a term
# past CELL_CHARS characters is shortened in the table (its link and tooltip too: a link only up to
# LINK_CHARS), and rows are shown until their terms reach PAGE_CHARS in all.
CELL_CHARS = 200
LINK_CHARS = 2048
PAGE_CHARS = 4 << 20


def page(request: Request, query: str, *, reply=None, document: dict | None = None, error: str | None = None,
         status: int = 200, elapsed: float | None = None, row_cap: int | None = None, headers: dict | None = None,
         found: tuple[dict[str, str], int] = ({}, 0)) -> HTMLResponse:
    """The query page: the form, the examples and, after a query, its results as a table: an IRI
    with its label (``result_labels``), a literal with its language as a badge. After a query it may
    take a while (an answer of up to PTCEKB_ANSWER_BYTES): it is called in a thread."""
    context = {"query": query, "examples": load_examples(), "error": error, "elapsed": elapsed,
               "row_cap": row_cap, "result": None, "timeout": request.app.state.settings.query_timeout}
    if reply is not None:
        if reply.kind == "graph":
            text = reply.body.decode("utf-8", "replace")
            context["result"] = {"kind": "graph", "text": text[:PAGE_CHARS], "cut": len(text) > PAGE_CHARS,
                                 "truncated": reply.truncated, "by_bytes": reply.truncated == Cut.BYTES}
        else:
            document = json.loads(reply.body) if document is None else document
            if "boolean" in document:
                context["result"] = {"kind": "boolean", "value": document["boolean"]}
            else:
                variables = document["head"]["vars"]
                names, capped = found
                bindings = document["results"]["bindings"]
                rows, size = [], 0
                for binding in bindings:
                    if size > PAGE_CHARS:
                        break
                    row = [_cell(binding.get(v), request, names) for v in variables]
                    size += sum(len(c["text"]) + len(c.get("title") or "") + len(c.get("href") or "") for c in row)
                    rows.append(row)
                context["result"] = {"kind": "solutions", "vars": variables, "rows": rows, "truncated": reply.truncated,
                                     "by_bytes": reply.truncated == Cut.BYTES, "total": len(bindings),
                                     "labels_capped": capped}
    response = request.app.state.templates.TemplateResponse(request, "sparql.html", context, status_code=status)
    response.headers.update(headers or {**CORS_HEADERS, "Vary": "Accept"})
    return response


def _short(text: str, limit: int = CELL_CHARS) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)})"


def _cell(term: dict | None, request: Request, names: dict[str, str]) -> dict:
    if term is None:
        return {"text": ""}
    value = term["value"]
    if term["type"] == "uri":
        label = names.get(value)
        return {"text": _short(_compact(value)), "label": _short(label) if label else None,
                "href": _local(value, request) if len(value) <= LINK_CHARS else None, "title": _short(value)}
    if term["type"] == "bnode":
        return {"text": _short("_:" + value)}
    if term["type"] == "literal":
        return {"text": _short(value), "lang": _short(term.get("xml:lang") or "", 40) or None,
                "title": _short(term.get("datatype", ""))}
    return {"text": _short(json.dumps(value))}


def _compact(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and "/" not in iri[len(namespace):]:
            return f"{prefix}:{iri[len(namespace):]}"
    return f"<{iri}>"


def _local(iri: str, request: Request) -> str | None:
    """Links to the things this service answers for point to local paths (DESIGN.md); other http(s)
    IRIs are links as they are, and IRIs of any other scheme (``javascript:``, ``data:``...) none."""
    for base in dict.fromkeys((request.app.state.settings.base_iri, VOCAB_BASE)):
        if iri.startswith(base):
            return "/" + iri[len(base):]
    return iri if labels.is_web_link(iri) else None
