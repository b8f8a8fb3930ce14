"""``/sitemap.xml``: a sitemap index, one sitemap per kind of resource page (50,000 URLs at most each)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..labels import local_path
from .http import error_response
from ..i18n import KINDS
from .pagequery import Missing
from .resources import kind_entries

router = APIRouter()

PER_SITEMAP = 50_000  # the sitemaps.org limit
XML = "application/xml; charset=utf-8"


class NotReady(Exception):
    pass


async def kind_paths(app, kind: str) -> list[str]:
    entries = await kind_entries(app, kind)
    if isinstance(entries, Missing):
        raise NotReady(entries.reason)
    base = app.state.kb.settings.ns.base
    return [local_path(entry.iri, base) for entry in entries]


def _not_ready() -> Response:
    return error_response(503, "503: the lists of resources are being prepared; retry in a minute / les listes sont en "
                               "cours de préparation ; réessayer dans une minute", {"Retry-After": "60"})


@router.get("/sitemap.xml", summary="Sitemap index of the resource pages")
async def sitemap_index(request: Request) -> Response:
    root = str(request.base_url).rstrip("/")
    entries = [f"<sitemap><loc>{escape(root)}/sitemaps/static.xml</loc></sitemap>"]
    for kind in KINDS:
        if kind == "territoire":
            continue
        try:
            count = len(await kind_paths(request.app, kind))
        except NotReady:
            return _not_ready()
        for number in range(1, (count + PER_SITEMAP - 1) // PER_SITEMAP + 1):
            entries.append(f"<sitemap><loc>{escape(root)}/sitemaps/{kind}-{number}.xml</loc></sitemap>")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(entries) + "\n</sitemapindex>\n")
    return Response(body, media_type=XML)


@router.get("/sitemaps/{name}.xml", summary="One sitemap: the pages of one kind, or the static pages")
async def sitemap(request: Request, name: str) -> Response:
    root = str(request.base_url).rstrip("/")
    if name == "static":
        paths = ["/", "/about", "/id/", "/sparql", "/validate", "/def", "/shapes", "/dumps/"] + [f"/id/{k}/" for k in KINDS]
    else:
        kind, _, number = name.rpartition("-")
        if kind not in KINDS or not number.isdigit() or int(number) < 1:
            return error_response(404, f"404: no sitemap {name}.xml / plan inconnu")
        start = (int(number) - 1) * PER_SITEMAP
        try:
            paths = (await kind_paths(request.app, kind))[start:start + PER_SITEMAP]
        except NotReady:
            return _not_ready()
        if not paths:
            return error_response(404, f"404: no sitemap {name}.xml / plan inconnu")
    urls = "\n".join(f"<url><loc>{escape(root + path)}</loc></url>" for path in paths)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + urls + "\n</urlset>\n")
    return Response(body, media_type=XML)
