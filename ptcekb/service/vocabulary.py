"""``/def``: the ontology, as HTML documentation or RDF by content negotiation.

Its terms are hash IRIs (``/def#PTCE``): they dereference through this document, whose HTML has
one anchor per term.
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from ..docs import render_ontology
from ..namespaces import CC_BY
from .documents import Document, choose, language
from .http import document_not_acceptable
from .negotiation import HTML
from .routing import Router

router = Router()


@router.api_route("/def", methods=["GET", "HEAD"], summary="The PTCE ontology (HTML or RDF)")
@router.api_route("/def.{suffix}", methods=["GET", "HEAD"], include_in_schema=False)
def ontology(request: Request, suffix: str | None = None) -> Response:
    representation = choose(request, suffix)
    if representation is None:
        return document_not_acceptable()
    kb = request.app.state.kb
    store = kb.store()
    lang = language(request)
    document = Document(request, "/def", representation, build=kb.build, suffix=suffix, lang=lang,
                        licences=[CC_BY])
    cached = document.not_modified()
    if cached is not None:
        return cached
    if representation is HTML:
        return document.html(render_ontology(store, kb.settings, lang))
    graph = ox.NamedNode(kb.settings.ns.graph("ontology"))
    return document.rdf([q.triple for q in store.quads_for_pattern(None, None, None, graph)])
