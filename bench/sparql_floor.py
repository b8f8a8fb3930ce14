"""The latency floors of a Python HTTP service on this machine (anchors for bench/sparql.py).

Two servers answering every request with a constant, empty SPARQL result (no data, no query, no
serialization), on uvicorn as ``ptcekb serve`` runs it (uvloop and httptools when installed):

* ``asgi``: a bare ASGI application, the floor of any Python service;
* ``fastapi``: a FastAPI application with one route and ptcekb's middleware stack (CORS, security
  headers and limits, language cookie), the floor of any endpoint built as ptcekb is.

    .venv/bin/python bench/sparql_floor.py --port 18703 [--fastapi]
"""

from __future__ import annotations

import argparse

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from ptcekb.service.addressing import PublicAddress
from ptcekb.service.documents import LanguageCookie
from ptcekb.service.http_protocol import protocol
from ptcekb.service.security import SecurityMiddleware

EMPTY = {
    b"application/sparql-results+json": b'{"head":{"vars":[]},"results":{"bindings":[]}}',
    b"text/turtle": b"",
}
DEFAULT = b"application/sparql-results+json"


async def bare(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    accept = dict(scope["headers"]).get(b"accept", DEFAULT)
    media = accept if accept in EMPTY else DEFAULT
    body = EMPTY[media]
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def with_fastapi() -> FastAPI:
    app = FastAPI()

    @app.api_route("/sparql", methods=["GET", "HEAD", "POST"])
    async def sparql(request: Request) -> Response:
        accept = request.headers.get("accept", "").encode()
        media = accept if accept in EMPTY else DEFAULT
        return Response(EMPTY[media], media_type=media.decode())

    app.add_middleware(CORSMiddleware, allow_origins=["*"])  # as ptcekb.service.app
    app.add_middleware(SecurityMiddleware, timeout=30.0)  # PTCEKB_BODY_TIMEOUT's default
    app.add_middleware(LanguageCookie)
    app.add_middleware(PublicAddress)
    return app


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fastapi", action="store_true", help="FastAPI with ptcekb's middleware, not bare ASGI")
    args = parser.parse_args()
    # the FastAPI floor also speaks HTTP through ptcekb's protocol (a deadline on request heads)
    options = {"http": protocol(10.0)} if args.fastapi else {}
    uvicorn.run(with_fastapi() if args.fastapi else bare, host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False, **options)


if __name__ == "__main__":
    main()
