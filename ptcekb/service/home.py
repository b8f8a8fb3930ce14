"""``/``: what the knowledge base holds, and a map of France coloured by the number of PTCEs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..labels import Labeller
from .description import statistics
from .documents import language
from ..i18n import translator
from .pagequery import Missing, need
from .views.base import SPARQL_PREFIXES

router = APIRouter()

MAP = Path(__file__).parent / "static" / "france-departements.svg"
SHADES = ("#eef3f8", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")  # 0, 1, 2, 3-4, 5-7, 8+
# PTCEs per département: those whose territory (or its areas, or its commune) is the département or lies in it.
PTCES_PER_DEPARTEMENT = """
SELECT ?departement (COUNT(DISTINCT ?ptce) AS ?n) WHERE {
  ?ptce a ptce:PTCE ; (ptce:territory/ptce:comprisesArea?)|ptce:commune|dcterms:spatial ?area .
  { ?area a igeo:Departement BIND(?area AS ?departement) }
  UNION { ?area igeo:subdivisionDe ?departement . ?departement a igeo:Departement }
} GROUP BY ?departement"""
DEPARTEMENTS = "SELECT ?d ?code WHERE { ?d a igeo:Departement ; igeo:codeINSEE ?code }"


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    path: str


@lru_cache(maxsize=1)
def map_shapes() -> tuple[Shape, ...]:
    svg = MAP.read_text(encoding="utf-8")
    return tuple(Shape(*match) for match in re.findall(r'<path\s+id="([0-9AB]+)"\s+aria-label="([^"]*)"\s+d="([^"]+)"', svg))


def shade(count: int) -> str:
    index = 0 if count == 0 else 1 if count == 1 else 2 if count == 2 else 3 if count <= 4 else 4 if count <= 7 else 5
    return SHADES[index]


async def departement_counts(queries, timeout: float) -> dict[str, tuple[str, int]]:
    """INSEE code -> (local path, number of PTCEs) for every département of the COG (by the query
    workers, each query under ``timeout``; raises ``pagequery.Unanswered`` without an answer)."""
    counts = {row["departement"].value: int(row["n"].value)
              for row in need(await queries.select(SPARQL_PREFIXES + PTCES_PER_DEPARTEMENT, timeout=timeout))}
    return {row["code"].value: (row["d"].value, counts.get(row["d"].value, 0))
            for row in need(await queries.select(SPARQL_PREFIXES + DEPARTEMENTS, timeout=timeout))}


@router.get("/", response_class=HTMLResponse, summary="Home page")
async def home(request: Request):
    kb, queries = request.app.state.kb, request.app.state.page_queries
    lang = language(request)
    build = kb.build
    # Both once per build, in the background (pagequery.PerBuild): the page waits for them at most
    # the page time limit, and says what is missing.
    stats = await statistics(request)
    departements = await queries.per_build("the PTCEs per département", build).get(
        lambda: departement_counts(queries, kb.settings.query_timeout), queries.timeout)
    missing = [name for name, value in (("map", departements), ("holds", stats)) if isinstance(value, Missing)]
    if isinstance(departements, Missing):
        departements = {}
    if isinstance(stats, Missing):
        stats = None
    labeller = Labeller(kb.store(), kb.settings.ns.base, lang)
    shapes = [{"code": s.code, "name": s.name, "path": s.path, "href": labeller.link(ox.NamedNode(departements[s.code][0])).href
               if s.code in departements else None, "count": departements.get(s.code, ("", 0))[1],
               "fill": shade(departements.get(s.code, ("", 0))[1])} for s in map_shapes()]
    on_map = {s.code for s in map_shapes()}
    overseas = [{"code": code, "link": labeller.link(ox.NamedNode(iri)), "count": n}
                for code, (iri, n) in sorted(departements.items()) if code not in on_map]
    classes: dict[str, int] = {}
    for graph_stats in (stats.graphs.values() if stats else ()):
        for cls, count in graph_stats.class_partitions.items():
            classes[cls] = classes.get(cls, 0) + count
    top = sorted(classes.items(), key=lambda item: -item[1])[:25]
    graphs = [{"link": labeller.link(ox.NamedNode(g)), "triples": s.triples, "entities": s.entities}
              for g, s in (stats.graphs.items() if stats else ())]
    return request.app.state.templates.TemplateResponse(request, "home.html", {
        "t": translator(lang), "lang": lang, "info": kb.info(), "shapes": shapes, "overseas": overseas,
        "classes": [(labeller.link(ox.NamedNode(c)), n) for c, n in top], "graphs": graphs, "shades": SHADES,
        "ptce_total": classes.get("https://w3id.org/ptce/def#PTCE", 0) if stats else "…", "missing": missing,
    }, headers={"Vary": "Accept-Language, Cookie", **({"Cache-Control": "no-store"} if missing else {})})
