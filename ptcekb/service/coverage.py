"""``/coverage`` and ``/coverage.json``: what the knowledge base covers, as the build counted it
(ptcekb/coverage.py): per call, lauréats known / announced; per PTCE, sourced facts and sources; per
element of article 9, the PTCEs our sources document it for. The same figures are in graph/meta, and
so in the VoID description."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse

from .. import coverage
from ..i18n import translator
from ..labels import local_path, pick
from .documents import language
from .http import CORS_HEADERS

router = APIRouter()


def figures(request: Request) -> dict:
    """The figures of the build being served, read once from its graph/meta."""
    kb = request.app.state.kb
    return kb.cached("coverage", lambda: coverage.read(kb.store(), kb.settings))


@router.get("/coverage", response_class=HTMLResponse, summary="Coverage: lauréats per call, facts per PTCE, article 9")
async def coverage_page(request: Request):
    kb, lang = request.app.state.kb, language(request)
    found = figures(request)
    base = kb.settings.ns.base

    def shown(figure: dict) -> dict:
        return {**figure, "text": pick(figure["label"], lang) or figure["iri"], "href": local_path(figure["iri"], base),
                "announced_sources": [{**s, "href": local_path(s["iri"], base) or s["iri"]}
                                      for s in figure.get("announced_sources", [])]}

    return request.app.state.templates.TemplateResponse(request, "coverage.html", {
        "t": translator(lang), "lang": lang, "info": kb.info(),
        "calls": [shown(f) for f in found["calls"]], "ptces": [shown(f) for f in found["ptces"]],
        "article9": [shown(f) for f in found["article9"]],
    }, headers={"Vary": "Accept-Language, Cookie", "Link": '</coverage.json>; rel="alternate"; type="application/json"'})


@router.get("/coverage.json", summary="Coverage as JSON (the figures of /coverage, labels in French and English)")
async def coverage_json(request: Request) -> JSONResponse:
    info = request.app.state.kb.info()
    return JSONResponse({"built_at": info.built_at, **figures(request)}, headers=CORS_HEADERS)
