"""``/validate``: publishers check their data against article 9; any PTCE of the KB is checked too."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from contextlib import asynccontextmanager
from concurrent.futures import Future, ProcessPoolExecutor

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..errors import UserError
from ..labels import pick
from ..remote import open_store
from ..store import StoreLocation
from ..validate import context_for, graph_of, render_html, render_rdf, validate
from .negotiation import Representation, negotiate
from .validation_worker import ValidationPool

log = logging.getLogger("ptcekb.service")
POOL = ValidationPool()


@asynccontextmanager
async def lifespan(app):
    yield
    POOL.close()  # the worker process ends with the service


router = APIRouter(lifespan=lifespan)

UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes; 413 beyond
REPORTS = (
    Representation("text/html", "html", None),
    Representation("text/turtle", "ttl", ox.RdfFormat.TURTLE),
    Representation("application/ld+json", "jsonld", ox.RdfFormat.JSON_LD),
)
INPUT_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE, "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/trig": ox.RdfFormat.TRIG, "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}


class PayloadTooLarge(UserError):
    pass


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang in ("fr", "en"):
        return lang
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "fr"


def _respond(request: Request, report) -> Response:
    representation = negotiate(request.headers.get("accept"), REPORTS)
    if representation is None:
        return Response("406: text/html, text/turtle or application/ld+json\n", status_code=406)
    headers = {"Vary": "Accept, Accept-Language"}
    if representation.rdf_format is None:
        return HTMLResponse(render_html(report, _lang(request)), headers=headers)
    fmt = "turtle" if representation.suffix == "ttl" else "json-ld"
    return Response(render_rdf(report, fmt), media_type=representation.content_type, headers=headers)


def _context(request: Request):
    kb = request.app.state.kb
    return context_for(kb.store(), kb.settings, kb.info().directory or kb.build)


@router.get("/validate", summary="Upload form, or the compliance report of a PTCE of the KB (?ptce=IRI)")
def validate_form(request: Request, ptce: str | None = None) -> Response:
    if ptce is None:
        return request.app.state.templates.TemplateResponse(
            request, "validate_form.html", {"lang": _lang(request), "limit_mb": UPLOAD_LIMIT // (1024 * 1024)})
    kb = request.app.state.kb
    triples = ptce_description(kb.store(), kb.settings.ns.graph("ptce"), ptce)
    if not triples:
        raise UserError(f"unknown PTCE / PTCE inconnu : {ptce}", http_status=404)
    return _respond(request, validate(graph_of(triples), _context(request)))


# -- compliance summaries of the knowledge base's PTCEs, for their pages ---------------------------
#
# One pySHACL run over the whole curated graph (about 25 s) rather than one per page view: it runs
# once per build in a separate process (so it never holds this process's GIL), started by the first
# page that asks; until it is done the pages say the summary is being computed.

_summaries: dict[str, dict | Future] = {}  # build directory name -> {PTCE IRI: summary} or the running job
_summaries_lock = threading.Lock()


def summarise_knowledge_base(settings) -> dict[str, dict]:
    """In a worker process: validate every PTCE of the store; per PTCE, counts and violated elements."""
    store = open_store(settings)
    directory = settings.store_url or StoreLocation(settings.store).current()
    graph = ox.NamedNode(settings.ns.graph("ptce"))
    report = validate(graph_of(q.triple for q in store.quads_for_pattern(None, None, None, graph)),
                      context_for(store, settings, directory))
    out = {}
    for ptce in report.ptces:
        findings = report.findings.get(ptce, [])
        out[ptce] = {
            **{severity: sum(1 for f in findings if f.severity == severity) for severity in ("violation", "warning", "info")},
            "elements": {lang: list(dict.fromkeys(pick(f.group, lang) or pick(f.name, lang) or f.shape
                                                  for f in findings if f.severity == "violation")) for lang in ("fr", "en")},
        }
    return out


def compliance_for(kb, ptce: str) -> dict | None:
    """The PTCE's compliance summary, ``{"pending": True}`` while it is computed, None if not a PTCE."""
    build = kb.build
    with _summaries_lock:
        state = _summaries.get(build)
        if state is None:
            _summaries.clear()
            executor = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
            state = _summaries[build] = executor.submit(summarise_knowledge_base, kb.settings)
            executor.shutdown(wait=False)
        if isinstance(state, Future):
            if not state.done():
                return {"pending": True}
            try:
                state = _summaries[build] = state.result()
            except Exception:  # noqa: BLE001 - a failed run is reported on the page, retried next build
                log.exception("validation of the knowledge base failed")
                state = _summaries[build] = {}
    return state.get(ptce)


def ptce_description(store: ox.Store, graph: str, ptce: str) -> list[ox.Triple]:
    """The PTCE's own triples and those of the nodes of its description (``{ptce}#...``)."""
    try:  # issue 10: ?ptce= is user input, never pasted raw into the query (it was a SPARQL injection, 500)
        iri = ox.NamedNode(ptce)
    except ValueError:
        return []
    rows = store.query(
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
        f"FILTER(?s = {iri} || STRSTARTS(STR(?s), {ox.Literal(ptce + '#')})) }} }}")
    return list(rows)


@router.post("/validate", summary="Validate uploaded RDF (body or multipart 'file') against article 9")
async def validate_upload(request: Request) -> Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > UPLOAD_LIMIT:
        return _too_large()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "multipart/form-data":
            async with request.form(max_files=1, max_fields=10, max_part_size=UPLOAD_LIMIT) as form:
                upload = form.get("file")
                if upload is None or isinstance(upload, str):
                    raise UserError("no 'file' field in the form / champ 'file' absent")
                body = await upload.read(UPLOAD_LIMIT + 1)
                name = upload.filename or "upload"
            rdf_format = ox.RdfFormat.from_extension(name.rsplit(".", 1)[-1].lower()) if "." in name else None
        else:
            body = await _read_limited(request)
            name, rdf_format = "body", INPUT_TYPES.get(content_type)
    except PayloadTooLarge:
        return _too_large()
    if len(body) > UPLOAD_LIMIT:
        return _too_large()
    if rdf_format is None:
        return Response(f"415: send Turtle, TriG, JSON-LD, RDF/XML or N-Triples ({', '.join(INPUT_TYPES)})\n",
                        status_code=415, media_type="text/plain; charset=utf-8")
    if not body.strip():
        raise UserError("empty document / document vide")
    # issue 10: parsing and pySHACL run in a worker process under a time limit (validation_worker.py)
    kb = request.app.state.kb
    info = kb.info()
    report = await POOL.validate(kb.settings, info.build, info.directory, body, rdf_format.file_extension, name,
                                 kb.settings.validation_timeout)
    return _respond(request, report)


async def _read_limited(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > UPLOAD_LIMIT:
            raise PayloadTooLarge("too large")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Response:
    return Response(f"413: the upload limit is {UPLOAD_LIMIT // (1024 * 1024)} MB / la limite est de "
                    f"{UPLOAD_LIMIT // (1024 * 1024)} Mo\n", status_code=413, media_type="text/plain; charset=utf-8")
