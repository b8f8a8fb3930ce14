"""``/sitemap.xml``: a sitemap index, one sitemap per kind of resource page (50,000 URLs at most each)."""

from __future__ import annotations

import asyncio
from xml.sax.saxutils import escape

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..labels import local_path
from .i18n import KINDS
from .resources import kind_index

router = APIRouter()

PER_SITEMAP = 50_000  # the sitemaps.org limit
XML = "application/xml; charset=utf-8"


def kind_paths(kb, kind: str) -> list[str]:
    return [local_path(entry.iri, kb.settings.ns.base) for entry in kind_index(kb, kind)]


@router.get("/sitemap.xml", summary="Sitemap index of the resource pages")
async def sitemap_index(request: Request) -> Response:
    kb = request.app.state.kb
    root = str(request.base_url).rstrip("/")
    entries = [f"<sitemap><loc>{escape(root)}/sitemaps/static.xml</loc></sitemap>"]
    for kind in KINDS:
        if kind == "territoire":
            continue
        count = len(await asyncio.to_thread(kind_paths, kb, kind))
        for number in range(1, (count + PER_SITEMAP - 1) // PER_SITEMAP + 1):
            entries.append(f"<sitemap><loc>{escape(root)}/sitemaps/{kind}-{number}.xml</loc></sitemap>")
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(entries) + "\n</sitemapindex>\n")
    return Response(body, media_type=XML)


@router.get("/sitemaps/{name}.xml", summary="One sitemap: the pages of one kind, or the static pages")
async def sitemap(request: Request, name: str) -> Response:
    kb = request.app.state.kb
    root = str(request.base_url).rstrip("/")
    if name == "static":
        paths = ["/", "/id/", "/sparql", "/validate", "/def", "/shapes", "/dumps/"] + [f"/id/{k}/" for k in KINDS]
    else:
        kind, _, number = name.rpartition("-")
        if kind not in KINDS or not number.isdigit() or int(number) < 1:
            return Response(f"404: no sitemap {name}.xml / plan inconnu\n", status_code=404, media_type="text/plain; charset=utf-8")
        start = (int(number) - 1) * PER_SITEMAP
        paths = (await asyncio.to_thread(kind_paths, kb, kind))[start:start + PER_SITEMAP]
        if not paths:
            return Response(f"404: no sitemap {name}.xml / plan inconnu\n", status_code=404, media_type="text/plain; charset=utf-8")
    urls = "\n".join(f"<url><loc>{escape(root + path)}</loc></url>" for path in paths)
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + urls + "\n</urlset>\n")
    return Response(body, media_type=XML)
