"""``/about``: the data behind the pages. What the knowledge base holds (entities per class,
triples per graph, the build), and where to get it: dumps, VoID, the ontology, the shapes, SPARQL."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..i18n import translator
from ..labels import Labeller
from .description import statistics
from .documents import language
from .pagequery import Missing

router = APIRouter()


@router.get("/about", response_class=HTMLResponse, summary="About the data: classes, graphs and their size")
async def about(request: Request):
    kb = request.app.state.kb
    lang = language(request)
    # Once per build, in the background (description.statistics): the page waits for them at most
    # the page time limit, and says they are missing meanwhile.
    stats = await statistics(request)
    missing = ["holds"] if isinstance(stats, Missing) else []
    if missing:
        stats = None
    labeller = Labeller(kb.store(), kb.settings.ns.base, lang)
    classes: dict[str, int] = {}
    for graph_stats in (stats.graphs.values() if stats else ()):
        for cls, count in graph_stats.class_partitions.items():
            classes[cls] = classes.get(cls, 0) + count
    top = sorted(classes.items(), key=lambda item: -item[1])[:25]
    graphs = [{"link": labeller.link(ox.NamedNode(g)), "triples": s.triples, "entities": s.entities}
              for g, s in (stats.graphs.items() if stats else ())]
    return request.app.state.templates.TemplateResponse(request, "about.html", {
        "t": translator(lang), "lang": lang, "info": kb.info(), "missing": missing,
        "classes": [(labeller.link(ox.NamedNode(c)), n) for c, n in top], "graphs": graphs,
    }, headers={"Vary": "Accept-Language, Cookie", **({"Cache-Control": "no-store"} if missing else {})})
