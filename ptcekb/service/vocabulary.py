"""``/def``: the ontology, as HTML documentation or RDF by content negotiation."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..docs import render_ontology
from ..namespaces import PREFIXES
from .negotiation import DOCUMENT_REPRESENTATIONS, HTML, Representation, by_name, negotiate

router = APIRouter()


def choose(request: Request, suffix: str | None) -> Representation | None:
    requested = suffix or request.query_params.get("format")
    if requested:
        return by_name(requested)
    return negotiate(request.headers.get("accept"), DOCUMENT_REPRESENTATIONS)


def not_acceptable() -> Response:
    formats = ", ".join(r.media_type for r in DOCUMENT_REPRESENTATIONS)
    return Response(f"406: no acceptable representation / aucune représentation acceptable ({formats})\n",
                    status_code=406, media_type="text/plain; charset=utf-8")


@router.get("/def", summary="The PTCE ontology (HTML or RDF)")
@router.get("/def.{suffix}", include_in_schema=False)
def ontology(request: Request, suffix: str | None = None, lang: str | None = None) -> Response:
    representation = choose(request, suffix)
    if representation is None:
        return not_acceptable()
    kb = request.app.state.kb
    store = kb.store()
    headers = {"Vary": "Accept", "Link": ", ".join(
        f'</def.{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in DOCUMENT_REPRESENTATIONS)}
    if representation is HTML:
        lang = lang if lang in ("fr", "en") else _preferred_language(request)
        return HTMLResponse(render_ontology(store, kb.settings, lang), headers={**headers, "Content-Language": lang})
    graph = ox.NamedNode(kb.settings.ns.graph("ontology"))
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    body = ox.serialize(triples, format=representation.rdf_format, prefixes=PREFIXES)
    return Response(body, media_type=representation.content_type, headers=headers)


def _preferred_language(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in ("fr", "en"):
            return tag
    return "fr"
