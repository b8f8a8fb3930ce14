"""How a resource document is served: format choice, language, and the linked-data headers.

Shared by every dereferenceable route (``/id/...``, ``/concept/...``, ``/graph/...``, ``/def``,
``/shapes``, ``/dataset``). The strategy (docs/uris.md): the thing's IRI answers ``200`` with the
negotiated document and ``Content-Location`` naming that document (``/id/ptce/x.ttl``); the
document URLs (suffix or ``?format=``) answer themselves. ``ETag`` is tied to the build and the
variant, so caches revalidate cheaply and a rebuild invalidates them. The language of a page is
``?lang=``, remembered in a cookie (``LanguageCookie``), else Accept-Language.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from ..i18n import LANGUAGES
from ..namespaces import PREFIXES
from .negotiation import DOCUMENT_REPRESENTATIONS, HTML, Representation, by_name, negotiate
CACHE_CONTROL = "public, max-age=300, must-revalidate"
COOKIE = "ptcekb_lang"  # remembers the language chosen with the switch (?lang=), for a year


def split_suffix(key: str) -> tuple[str, str | None]:
    """``x.ttl`` → (``x``, ``ttl``) when the suffix names a document format; else (key, None)."""
    stem, dot, suffix = key.rpartition(".")
    if dot and stem and by_name(suffix) is not None and suffix.lower() == by_name(suffix).suffix:
        return stem, suffix.lower()
    return key, None


def choose(request: Request, suffix: str | None) -> Representation | None:
    """The suffix wins, then ``?format=``, then ``Accept`` (q-values; no Accept → HTML)."""
    requested = suffix or request.query_params.get("format")
    if requested:
        return by_name(requested)
    return negotiate(request.headers.get("accept"), DOCUMENT_REPRESENTATIONS)


def language(request: Request) -> str:
    """``?lang=`` (the page's switch), else the language chosen before (cookie), else the first of
    fr/en in Accept-Language, else French."""
    for asked in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if asked in LANGUAGES:
            return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return "fr"


class LanguageCookie:
    """Pure-ASGI middleware: a request with ``?lang=fr|en`` gets the choice remembered in a cookie,
    so the next pages (``documents.language``) keep that language without the parameter."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"")
        asked = dict(parse_qsl(query.decode("latin-1"))).get("lang") if b"lang=" in query else None
        if asked not in LANGUAGES:
            return await self.app(scope, receive, send)
        cookie = f"{COOKIE}={asked}; Path=/; Max-Age=31536000; SameSite=Lax".encode()

        async def remember(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)
        await self.app(scope, receive, remember)


class Document:
    """One variant of a resource's document and the headers that go with it."""

    def __init__(self, request: Request, path: str, representation: Representation, *, build: str,
                 licences: list[str] = (), lang: str = "fr", suffix: str | None = None, page: int = 1,
                 next_page: str | None = None):
        self.request, self.path, self.representation = request, path, representation
        self.lang, self.page, self.next_page = lang, page, next_page
        self.suffix = suffix
        variant = f"{build}|{path}|{representation.suffix}|{lang if representation is HTML else ''}|{page}"
        self.etag = '"' + hashlib.sha256(variant.encode()).hexdigest()[:32] + '"'
        self.licences = list(licences)

    @property
    def url(self) -> str:
        """The document URL of this variant (the path with its format suffix)."""
        return f"{self.path}.{self.representation.suffix}"

    def headers(self) -> dict[str, str]:
        links = [f'<{self.path}.{r.suffix}>; rel="alternate"; type="{r.media_type}"' for r in DOCUMENT_REPRESENTATIONS]
        links.append(f'<{self.path}.ttl>; rel="describedby"; type="text/turtle"')
        links += [f'<{licence}>; rel="license"' for licence in self.licences]
        if self.next_page:
            links.append(f'<{self.next_page}>; rel="next"')
        headers = {
            "Vary": "Accept, Accept-Language, Cookie",
            "Link": ", ".join(links),
            "ETag": self.etag,
            "Cache-Control": CACHE_CONTROL,
        }
        if self.suffix is None and "format" not in self.request.query_params:
            headers["Content-Location"] = self.url
        if self.representation is HTML:
            headers["Content-Language"] = self.lang
        return headers

    def not_modified(self) -> Response | None:
        """``304`` when the client's ``If-None-Match`` already names this variant."""
        given = self.request.headers.get("if-none-match", "")
        if given.strip() == "*" or self.etag in [tag.strip().removeprefix("W/") for tag in given.split(",")]:
            return Response(status_code=304, headers=self.headers())
        return None

    def html(self, body: str, complete: bool = True) -> Response:
        """``complete=False``: a section is missing (pagequery.py): neither cached nor tagged."""
        headers = self.headers()
        if not complete:
            del headers["ETag"]
            headers["Cache-Control"] = "no-store"
        return HTMLResponse(body, headers=headers)

    def rdf(self, triples: list[ox.Triple]) -> Response:
        body = ox.serialize(triples, format=self.representation.rdf_format, prefixes=PREFIXES)
        return Response(body, media_type=self.representation.content_type, headers=self.headers())
