"""``/validate``: publishers check their data against article 9; any PTCE of the KB is checked too."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import threading
import time
from contextlib import asynccontextmanager

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException

from ..documentation import PTCEDocumentation, documented, render_documentation_html, summary
from ..errors import UserError
from ..labels import href as labels_href
from ..remote import open_store
from ..store import StoreLocation
from ..validate import LAW_URL, render_html, render_rdf
from .http import BodyTooLarge, ProtocolError, error_response, limited, read_body
from .limits import MULTIPART_FRAMING, UPLOAD_FIELD_BYTES, UPLOAD_LIMIT, UPLOAD_MAX_FIELDS, UPLOAD_MAX_FILES
from .negotiation import Representation, negotiate
from . import worker_guard
from .pagequery import Missing
from .validation_worker import ValidationPool
from .worker_guard import Confinement

log = logging.getLogger("ptcekb.service")
POOL = ValidationPool()


@asynccontextmanager
async def lifespan(app):
    yield
    POOL.close()  # the worker process ends with the service


router = APIRouter(lifespan=lifespan)

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


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang in ("fr", "en"):
        return lang
    accept = request.headers.get("accept-language", "").lower()
    return "en" if accept.startswith("en") else "fr"


async def _respond(request: Request, report) -> Response:
    """The report as HTML, Turtle or JSON-LD, rendered in a thread: a report of thousands of findings
    takes seconds to render, and the event loop (every other request, /healthz) must not wait."""
    representation = negotiate(request.headers.get("accept"), REPORTS)
    if representation is None:
        return error_response(406, "406: text/html, text/turtle or application/ld+json", {"Vary": "Accept"})
    headers = {"Vary": "Accept, Accept-Language"}
    if representation.rdf_format is None:
        return HTMLResponse(await asyncio.to_thread(render_html, report, _lang(request)), headers=headers)
    fmt = "turtle" if representation.suffix == "ttl" else "json-ld"
    return Response(await asyncio.to_thread(render_rdf, report, fmt), media_type=representation.content_type,
                    headers=headers)


@router.get("/validate", summary="Upload form, or the article-9 documentation of a PTCE of the KB (?ptce=IRI or slug)")
async def validate_form(request: Request, ptce: str | None = None) -> Response:
    try:
        return await _validate_form(request, ptce)
    except UserError as exc:
        return _error(request, exc.http_status, str(exc))


async def _validate_form(request: Request, ptce: str | None) -> Response:
    if ptce is None:
        return request.app.state.templates.TemplateResponse(
            request, "validate_form.html", {"lang": _lang(request), "limit_mb": UPLOAD_LIMIT // (1024 * 1024), "law": LAW_URL,
                      "max_files": UPLOAD_MAX_FILES})
    kb = request.app.state.kb
    if ":" not in ptce:  # a slug, as `ptcekb validate --ptce` takes it
        ptce = kb.settings.ns.id("ptce", ptce)
    # The one computation of the curated PTCEs' article 9 (ptcekb/documentation.py), the same the
    # PTCE pages and list show: waited for here, at most PTCEKB_VALIDATION_TIMEOUT.
    deadline = time.monotonic() + kb.settings.validation_timeout
    while (documentation := compliance_for(kb, ptce)) == PENDING and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    if documentation == PENDING or isinstance(documentation, Missing):
        raise UserError("503: the article 9 documentation of the knowledge base is not computed yet; retry later / "
                        "la documentation de l'article 9 n'est pas encore calculée ; réessayer plus tard", http_status=503)
    if documentation is None:
        raise UserError(f"unknown PTCE / PTCE inconnu : {ptce}", http_status=404)
    representation = negotiate(request.headers.get("accept"), REPORTS)
    if representation is not None and representation.rdf_format is None:
        base = kb.settings.ns.base
        return HTMLResponse(await asyncio.to_thread(render_documentation_html, [documentation], _lang(request),
                                                    href=lambda iri: labels_href(iri, base), request=request),
                            headers={"Vary": "Accept, Accept-Language"})
    return await _respond(request, documentation.report())


# -- the article 9 documentation of the knowledge base's PTCEs -------------------------------------
#
# One pySHACL run over the whole curated graph (ptcekb/documentation.py) rather than one per page
# view: it runs once per build in a separate process (so it never holds this process's GIL), started
# by the first page that asks, and is kept next to the build (the command line reads the same); until
# it is done the pages say it is being computed. The process is killed past SUMMARY_TIMEOUT_FACTOR
# times PTCEKB_VALIDATION_TIMEOUT (the whole base, not one upload: 240 s by default); the pages then
# say it could not be computed in time.

SUMMARY_TIMEOUT_FACTOR = 4
PENDING = {"pending": True}


def document_knowledge_base(settings) -> dict[str, PTCEDocumentation]:
    """In a worker process: the article 9 documentation of every curated PTCE of the store."""
    store = open_store(settings)
    return documented(store, settings, settings.store_url or StoreLocation(settings.store).current())


def _summarise_into(settings, conn, confinement: Confinement) -> None:
    """The summary process (confined like every worker: worker_guard.py): the documentation, or the
    error, sent back through ``conn``."""
    worker_guard.enter(confinement)
    try:
        conn.send(("ok", document_knowledge_base(settings)))
    except BaseException as exc:  # noqa: BLE001 - said to the server, which logs it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _SummaryRun:
    """One summary process and the thread that waits for it, at most ``limit`` seconds."""

    def __init__(self, settings, limit: float):
        ctx = multiprocessing.get_context("spawn")
        receiver, sender = ctx.Pipe(duplex=False)
        self.result: dict | Missing | None = None  # None while it runs
        confinement = Confinement.for_workers(network_guard=not settings.store_url and worker_guard.probe() is None,
                                              settings=settings)
        self.process = ctx.Process(target=_summarise_into, args=(settings, sender, confinement), daemon=True,
                                   name="ptcekb-compliance")
        self.process.start()
        sender.close()
        threading.Thread(target=self._wait, args=(receiver, limit), daemon=True, name="ptcekb-compliance").start()

    def _wait(self, receiver, limit: float) -> None:
        result: dict | Missing = Missing("error")
        try:
            if receiver.poll(limit):
                status, value = receiver.recv()
                if status == "ok":
                    result = value
                else:
                    log.error("validation of the knowledge base failed: %s", value)
            else:
                log.error("validation of the knowledge base stopped after %g s", limit)
                result = Missing("timeout")
        except (EOFError, OSError):
            log.error("the validation process of the knowledge base died")
        finally:
            receiver.close()
            self.process.kill()
            self.process.join(5)
            self.result = result


def _run(kb) -> "_SummaryRun":
    return kb.cached("compliance", lambda: _SummaryRun(kb.settings, SUMMARY_TIMEOUT_FACTOR * kb.settings.validation_timeout))


def compliance_for(kb, ptce: str) -> PTCEDocumentation | dict | Missing | None:
    """The PTCE's article 9 documentation, ``PENDING`` while it is computed, ``Missing`` when it could
    not be computed (in time), None if not a curated PTCE. A failed run is tried again next build."""
    run = _run(kb)
    if run.result is None:
        return PENDING
    return run.result if isinstance(run.result, Missing) else run.result.get(ptce)


def all_documentation(kb) -> dict[str, PTCEDocumentation] | dict | Missing:
    """Every curated PTCE's documentation (by IRI), ``PENDING`` or ``Missing`` as ``compliance_for``."""
    run = _run(kb)
    return PENDING if run.result is None else run.result


def documentation_summary(kb, lang: str) -> dict | None:
    """How well the base documents each element of article 9 across its PTCEs, for the partial
    ``_documentation.html`` (include it with ``summary`` set to this); None while it is computed or
    when it could not be. Kept in the build's cache (kb.BuildCache)."""
    documentation = all_documentation(kb)
    if documentation == PENDING or isinstance(documentation, Missing):
        return None
    return kb.cached(("documentation summary", lang), lambda: summary(documentation, lang))


TEMPLATE_EXTENSIONS = (".csv", ".zip")


@router.post("/validate", summary="Validate uploaded RDF (body or multipart 'file') or the CSV template's files (or a zip) against article 9")
async def validate_upload(request: Request) -> Response:
    try:
        return await _validate_upload(request)
    except UserError as exc:  # a browser gets a page, other clients one line of text
        return _error(request, exc.http_status, str(exc))


async def _validate_upload(request: Request) -> Response:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > UPLOAD_LIMIT:
        return _too_large(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    uploads: list[tuple[str, bytes]] = []
    try:
        if content_type == "multipart/form-data":
            # the body is counted as it arrives (limited): a chunked body has no Content-Length to refuse
            # early, and Starlette would read it whole before the size of its files could be checked.
            # Fields that are not files are kept in memory: the form has none (a few bytes are allowed).
            form_request = limited(request, UPLOAD_LIMIT + MULTIPART_FRAMING)
            async with form_request.form(max_files=UPLOAD_MAX_FILES, max_fields=UPLOAD_MAX_FIELDS,
                                         max_part_size=UPLOAD_FIELD_BYTES) as form:
                total = 0
                for upload in form.getlist("file"):
                    if isinstance(upload, str):
                        continue
                    content = await upload.read(UPLOAD_LIMIT + 1 - total)
                    total += len(content)
                    if total > UPLOAD_LIMIT:
                        return _too_large(request)
                    if upload.filename or content:
                        uploads.append((upload.filename or "upload", content))
            if not uploads:
                raise UserError("no 'file' field in the form / champ 'file' absent : choisissez un ou plusieurs fichiers")
            body, name = uploads[0][1], uploads[0][0]
            rdf_format = ox.RdfFormat.from_extension(name.rsplit(".", 1)[-1].lower()) if "." in name else None
        else:
            body = await read_body(request, UPLOAD_LIMIT)
            name, rdf_format = "body", INPUT_TYPES.get(content_type)
    except (ProtocolError, BodyTooLarge):  # read_body's one refusal, or the form's body: past UPLOAD_LIMIT
        return _too_large(request)
    except HTTPException as exc:  # Starlette's refusal of the form: too many files or fields, a field too long...
        raise UserError(f"{exc.detail} / {_form_refusal_fr(str(exc.detail))}", http_status=400) from None
    if len(body) > UPLOAD_LIMIT:
        return _too_large(request)
    kb = request.app.state.kb
    info = kb.info()
    template = [n for n, _ in uploads if n.lower().endswith(TEMPLATE_EXTENSIONS)]
    if template:  # the publisher template's CSV files, or a zip of them (validation_worker.py)
        if len(template) != len(uploads):
            others = ", ".join(n for n, _ in uploads if n not in template)
            return _error(request, 415, f"415: send either the template's CSV files (or a zip) or one RDF file, not both "
                                        f"({others}) / envoyez soit les fichiers CSV du gabarit (ou un zip), soit un "
                                        f"fichier RDF")
        report = await POOL.validate_template(kb.settings, info.build, info.directory, uploads,
                                              kb.settings.validation_timeout)
        return await _respond(request, report)
    if len(uploads) > 1:
        return _error(request, 415, "415: one RDF file at a time (several files are for the CSV template) / un seul "
                                    "fichier RDF à la fois (plusieurs fichiers : les CSV du gabarit)")
    if rdf_format is None:
        return _error(request, 415, "415: send the CSV files of the publisher template (ptce.csv, membres.csv…, or a "
                                    "zip of them), or Turtle, TriG, JSON-LD, RDF/XML or N-Triples "
                                    f"({', '.join(INPUT_TYPES)}) / envoyez les fichiers CSV du gabarit (ou un zip), "
                                    "ou un fichier RDF")
    if not body.strip():
        raise UserError("empty document / document vide")
    # issue 10: parsing and pySHACL run in a worker process under a time limit (validation_worker.py)
    report = await POOL.validate(kb.settings, info.build, info.directory, body, rdf_format.file_extension, name,
                                 kb.settings.validation_timeout)
    return await _respond(request, report)


def _form_refusal_fr(detail: str) -> str:
    """Starlette's refusal of a form (in English), said in French."""
    if detail.startswith("Too many files"):
        return f"trop de fichiers : {UPLOAD_MAX_FILES} au plus"
    if detail.startswith("Too many fields"):
        return f"trop de champs dans le formulaire : {UPLOAD_MAX_FIELDS} au plus"
    if detail.startswith(("Field exceeded", "Part exceeded")):
        return f"un champ du formulaire (autre qu'un fichier) dépasse {UPLOAD_FIELD_BYTES // 1024} Ko"
    return "formulaire multipart illisible"


def _wants_html(request: Request) -> bool:
    """A browser: it asks for HTML by name (curl's and libraries' ``*/*`` get text)."""
    accept = request.headers.get("accept", "")
    representation = negotiate(accept, REPORTS)
    return "text/html" in accept.lower() and representation is not None and representation.rdf_format is None


def _error(request: Request, status: int, message: str) -> Response:
    """An error of /validate: a page in the form's style for a browser, one line of text otherwise."""
    if not _wants_html(request):
        return error_response(status, message, {"Vary": "Accept"})
    return request.app.state.templates.TemplateResponse(
        request, "validation_error.html", {"lang": _lang(request), "status": status, "message": message,
                                           "law": LAW_URL},
        status_code=status, headers={"Vary": "Accept, Accept-Language"})


def _too_large(request: Request) -> Response:
    return _error(request, 413, f"413: the upload limit is {UPLOAD_LIMIT // (1024 * 1024)} MB / la limite est de "
                                f"{UPLOAD_LIMIT // (1024 * 1024)} Mo")
