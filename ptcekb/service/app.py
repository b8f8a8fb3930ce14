"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.templating import Jinja2Templates

from .. import __version__
from ..config import Settings
from ..errors import UserError
from ..remote import RemoteTimeout, RemoteUnavailable
from ..templating import environment
from . import about, api_docs, coverage, description, dumps, health, home, resources, sitemap, sparql, update, validation, vocabulary
from .addressing import PublicAddress
from .http import error_response
from ..i18n import translator
from .documents import LanguageCookie, language
from .kb import KnowledgeBase
from .pagequery import PageQueries
from .security import SecurityMiddleware

log = logging.getLogger("ptcekb.service")


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="ptcekb",
        version=__version__,
        description="Base de connaissances des PTCE / PTCE knowledge base",
        docs_url=None,  # /docs is api_docs.py: no CDN script
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.kb = KnowledgeBase(settings)
    app.state.page_queries = PageQueries(app, settings.page_query_timeout)  # the service's own queries
    app.state.templates = Jinja2Templates(env=environment(), context_processors=[_page_language])
    # /sparql first: routes are matched in order, and it takes most of the requests
    for module in (sparql, home, about, coverage, api_docs, health, description, dumps, update, validation, vocabulary, resources, sitemap):
        app.include_router(module.router)
    # Linked data is read from any origin (browsers' federated clients, notebooks); no credentials.
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST", "HEAD", "OPTIONS"],
                       allow_headers=["Accept", "Content-Type", "Authorization"], expose_headers=["Link", "X-PTCEKB-Truncated"])
    app.add_middleware(SecurityMiddleware, timeout=settings.body_timeout)  # security headers and request limits (security.py)
    app.add_middleware(LanguageCookie)  # ?lang= is remembered (documents.py)
    app.add_middleware(PublicAddress, public_url=settings.public_url)  # outermost: no URL from Host (addressing.py)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError):
        return error_response(exc.http_status, str(exc))

    @app.exception_handler(RemoteTimeout)
    async def remote_timeout(request: Request, exc: RemoteTimeout):
        return error_response(504, f"504: the remote store is too slow / le moteur distant est trop lent: {exc}")

    @app.exception_handler(RemoteUnavailable)
    async def remote_unavailable(request: Request, exc: RemoteUnavailable):
        return error_response(502, f"502: {exc} / le moteur distant ne répond pas")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return error_response(500, "internal error / erreur interne")

    return app


def _page_language(request: Request) -> dict:
    """Every template page is worded in the request's language (documents.language)."""
    lang = language(request)
    return {"lang": lang, "t": translator(lang)}
