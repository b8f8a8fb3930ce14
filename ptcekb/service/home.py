"""``/``: the PTCEs first. A search by name and filters (région, département, call, sector, year of
creation) in a GET form, so that every selection is a link and works without script; the PTCEs
selected, listed and placed on a map of France by département. The PTCEs and their facets are read
once per build (finder.py); a request filters them in Python, without a query. What the knowledge
base holds (classes, graphs) is on ``/about`` (about.py)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..i18n import translator
from .documents import language
from . import artefacts
from .finder import FILTERS, MAX_SEARCH, Catalogue, catalogue_of, read_catalogue, selection
from .pagequery import Missing
from .validation import documentation_summary

router = APIRouter()

MAP = Path(__file__).parent / "static" / "france-departements.svg"
SHADES = ("#eef3f8", "#c6dbef", "#9ecae1", "#6baed6", "#3182bd", "#08519c")  # 0, 1, 2, 3-4, 5-7, 8+
PARAMETERS = ("q", *FILTERS)


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    path: str
    centre: tuple[float, float]  # where the département's marker goes: the centroid of its largest part


@lru_cache(maxsize=1)
def map_shapes() -> tuple[Shape, ...]:
    svg = MAP.read_text(encoding="utf-8")
    return tuple(Shape(code, name, d, centroid(d))
                 for code, name, d in re.findall(r'<path\s+id="([0-9AB]+)"\s+aria-label="([^"]*)"\s+d="([^"]+)"', svg))


def centroid(d: str) -> tuple[float, float]:
    """The centroid of the largest polygon of an SVG path made of ``m``/``M`` moves, implicit lines
    and ``z`` (the département map's paths: relative moves, one polygon per part of the territory)."""
    polygons: list[list[tuple[float, float]]] = []
    x = y = 0.0
    start = (0.0, 0.0)
    for command, body in re.findall(r"([MmZz])([^MmZz]*)", d):
        if command in "Zz":
            x, y = start
            continue
        numbers = [float(n) for n in re.findall(r"-?\d*\.?\d+(?:e-?\d+)?", body)]
        points = []
        for index in range(0, len(numbers) - 1, 2):
            dx, dy = numbers[index], numbers[index + 1]
            x, y = (x + dx, y + dy) if command == "m" else (dx, dy) if index == 0 else (x + dx, y + dy)
            points.append((x, y))
        if points:
            start = points[0]
            polygons.append(points)

    def area_and_centre(points):
        area = cx = cy = 0.0
        for (x0, y0), (x1, y1) in zip(points, points[1:] + points[:1]):
            cross = x0 * y1 - x1 * y0
            area, cx, cy = area + cross, cx + (x0 + x1) * cross, cy + (y0 + y1) * cross
        if abs(area) < 1e-9:
            return 0.0, (sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points))
        return abs(area) / 2, (cx / (3 * area), cy / (3 * area))

    return max((area_and_centre(p) for p in polygons), key=lambda found: found[0])[1]


def shade(count: int) -> str:
    index = 0 if count == 0 else 1 if count == 1 else 2 if count == 2 else 3 if count <= 4 else 4 if count <= 7 else 5
    return SHADES[index]


def _query(params: dict[str, str], **changes: str) -> str:
    """``?…`` for the home page with ``params`` changed: a link to another selection."""
    merged = {**params, **changes}
    pairs = [(name, merged[name]) for name in (*PARAMETERS, "lang") if merged.get(name)]  # one order: one URL
    return "/?" + urlencode(pairs) if pairs else "/"


@router.get("/", response_class=HTMLResponse, summary="Home page: the PTCEs, searchable and filterable, on a map")
async def home(request: Request):
    kb, queries = request.app.state.kb, request.app.state.page_queries
    given = {name: request.query_params.get(name) for name in (*PARAMETERS, "lang") if name in request.query_params}
    if any(not (value or "").strip() or len(value) > MAX_SEARCH for value in given.values()):
        # An empty field of the form is no filter, a search is bounded: the selection's own link, without them.
        return RedirectResponse(_query({k: v.strip()[:MAX_SEARCH] for k, v in given.items()}), status_code=303)
    lang = language(request)
    # Made when the build was published (artefacts.py), or else once per build in the background
    # (pagequery.PerBuild, held by kb.BuildCache): the page waits for it at most the page time
    # limit, and says what is missing.
    base = kb.settings.ns.base
    catalogue = await artefacts.per_build(request.app, "the PTCEs of the home page", artefacts.CATALOGUE,
                                          lambda: read_catalogue(queries, base, kb.settings.query_timeout),
                                          lambda rows: catalogue_of(rows, base))
    context = {"t": translator(lang), "lang": lang, "shades": SHADES, "missing": [],
               "documentation_summary": documentation_summary(request.app.state.kb, lang)}
    if isinstance(catalogue, Missing):
        context["missing"] = ["ptce_list"]
    else:
        context.update(_selected(catalogue, request, lang, given))
    return request.app.state.templates.TemplateResponse(
        request, "home.html", context,
        headers={"Vary": "Accept-Language, Cookie", **({"Cache-Control": "no-store"} if context["missing"] else {})})


def _selected(catalogue: Catalogue, request: Request, lang: str, given: dict[str, str]) -> dict:
    chosen = selection(catalogue, request.query_params)
    params = {"q": chosen.text, **chosen.chosen, **({"lang": given["lang"]} if "lang" in given else {})}
    shown = [p for p in catalogue.ptces if chosen.matches(p)]
    per_departement = Counter(code for p in shown for code in p.departements)
    shapes = map_shapes()
    on_map = {s.code for s in shapes}

    def departement(code: str) -> dict:
        place = catalogue.departements.get(code)
        return {"code": code, "name": place.name if place else code, "href": place.path if place else None,
                "count": per_departement.get(code, 0), "filter": _query(params, departement=code) + "#ptces"}

    rows = [{
        "ptce": p,
        "departements": [departement(code) for code in p.departements],
        "regions": [catalogue.regions[code] for code in p.regions if code in catalogue.regions],
        "calls": [catalogue.calls[slug] for slug in p.calls if slug in catalogue.calls],
    } for p in shown]
    return {
        "catalogue": catalogue, "chosen": chosen, "rows": rows, "total": len(catalogue.ptces),
        "options": {name: [(o.value, f"{o.label(lang)} ({o.count})") for o in catalogue.options[name]] for name in FILTERS},
        "shapes": [{"code": s.code, "name": s.name, "path": s.path, "x": round(s.centre[0], 1), "y": round(s.centre[1], 1),
                    "radius": round(4 + 2.5 * per_departement.get(s.code, 0) ** 0.5, 1), **departement(s.code),
                    "fill": shade(per_departement.get(s.code, 0))} for s in shapes],
        "overseas": [departement(code) for code in sorted(catalogue.departements) if code not in on_map],
        "unplaced": sum(1 for p in shown if not p.departements),
        "hidden_lang": given.get("lang"),
    }
