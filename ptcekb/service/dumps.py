"""``/dumps/``: the whole knowledge base as files (N-Quads gzip, TriG), described as DCAT distributions.

Each dump is written with the build, atomically, next to the store (``DIR.dumps/``: artefacts.py);
a build without them (an older one, one published by ``/update``) has them written on first
request, which the log says once; the dumps of builds no longer served are then removed.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from ..errors import UserError
from ..files import replaced_atomically
from ..namespaces import DCAT, DCTERMS, LICENCE_OUVERTE, PREFIXES, RDF
from . import artefacts
from .artefacts import DUMPS, Dump
from .documents import choose, language
from .http import CORS_HEADERS, document_not_acceptable, error_response
from .negotiation import HTML

router = APIRouter()

IANA = "https://www.iana.org/assignments/media-types/"


_BY_NAME = {d.name: d for d in DUMPS}
_lock = threading.Lock()


def dump_file(kb, dump: Dump) -> tuple[Path, str]:
    """The file of ``dump`` for the served build, written with the build, or else once (atomically)
    on first request; and the build id."""
    settings, build, store = kb.settings, kb.build, kb.store()
    target = artefacts.path(settings, build, dump.name)
    if target.exists():
        return target, build
    with _lock:
        if target.exists():
            return target, build
        artefacts.missing(dump.name, build)
        cache = artefacts.location(settings)
        cache.mkdir(parents=True, exist_ok=True)
        with replaced_atomically(target) as partial:
            dump.write(store, partial)
        for other in cache.glob("*" + dump.name):  # dumps of builds no longer served
            if other != target:
                other.unlink(missing_ok=True)
    return target, build


@router.get("/dumps/{name}", summary="A dump of the whole knowledge base (one file per build)")
async def dump(request: Request, name: str) -> Response:
    chosen = _BY_NAME.get(name)
    if chosen is None:
        return error_response(404, f"404: no dump named {name!r} / pas de fichier de ce nom; see /dumps/")
    kb = request.app.state.kb
    try:
        path, build = await asyncio.to_thread(dump_file, kb, chosen)
    except (UserError, OSError) as exc:
        return error_response(503, f"503: dump unavailable / téléchargement indisponible: {exc}")
    return FileResponse(path, media_type=chosen.media_type, filename=chosen.name,
                        headers={**CORS_HEADERS, "ETag": f'"{build}-{chosen.name}"'})


def distributions(request: Request) -> list[ox.Triple]:
    """The dataset and its dumps as DCAT distributions."""
    settings = request.app.state.settings
    dataset = ox.NamedNode(settings.ns.dataset)
    node = lambda value: ox.NamedNode(str(value))  # noqa: E731
    out = [ox.Triple(dataset, node(RDF.type), node(DCAT.Dataset))]
    for chosen in DUMPS:
        distribution = node(chosen.url(request))
        out += [
            ox.Triple(dataset, node(DCAT.distribution), distribution),
            ox.Triple(distribution, node(RDF.type), node(DCAT.Distribution)),
            ox.Triple(distribution, node(DCAT.downloadURL), distribution),
            ox.Triple(distribution, node(DCAT.mediaType), node(IANA + chosen.rdf_format.media_type)),
            ox.Triple(distribution, node(DCTERMS.license), node(LICENCE_OUVERTE)),
            ox.Triple(distribution, node(DCTERMS.title), ox.Literal(chosen.title[0], language="fr")),
            ox.Triple(distribution, node(DCTERMS.title), ox.Literal(chosen.title[1], language="en")),
        ]
        if chosen.compressed:
            out.append(ox.Triple(distribution, node(DCAT.compressFormat), node(IANA + "application/gzip")))
    return out


@router.get("/dumps/", summary="The available dumps, as DCAT distributions (HTML or RDF)")
async def dumps_index(request: Request) -> Response:
    representation = choose(request, None)
    if representation is None:
        return document_not_acceptable()
    headers = {**CORS_HEADERS, "Vary": "Accept"}
    if representation is HTML:
        lang = language(request)
        return request.app.state.templates.TemplateResponse(
            request, "dumps.html", {"dumps": DUMPS, "lang": lang, "index": 1 if lang == "en" else 0}, headers=headers)
    body = ox.serialize(distributions(request), format=representation.rdf_format, prefixes=PREFIXES)
    return Response(body, media_type=representation.content_type, headers=headers)
