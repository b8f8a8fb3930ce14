"""Security headers and request sanity limits for every answer (docs/operations.md).

A pure-ASGI middleware (no ``BaseHTTPMiddleware``: it neither buffers bodies nor breaks streaming
responses) that:

- adds security headers to every response, without overriding a header a route set itself:
  ``Content-Security-Policy`` (our pages are server-rendered HTML with inline ``<style>`` and
  ``style=`` attributes, forms posting to this origin, no script, no frame, no external resource;
  ``/docs`` too: it is served from local templates, api_docs.py),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``, ``X-Frame-Options: DENY`` (with CSP's
  ``frame-ancestors 'none'``), ``Permissions-Policy``, ``Cross-Origin-Opener-Policy``;
- refuses request bodies with a ``Content-Encoding`` (415): no route decodes compressed bodies, so
  a gzip bomb is never expanded, and the client gets a clear message rather than a parse error;
- caps every request body at ``MAX_BODY_BYTES`` (413), announced (``Content-Length``) or actually
  sent (chunked), before any route reads it; the routes keep their own, smaller limits;
- answers 408 when a client stops sending a body it announced for ``PTCEKB_BODY_TIMEOUT`` seconds
  (default 30, between two chunks: a slow but steady upload is fine), so a stalled upload does not
  hold a request open for ever;
- answers 431 to requests with more than ``MAX_HEADERS`` header fields or ``MAX_HEADER_BYTES``
  bytes of them (uvicorn with httptools accepts any number and size: a proxy in front should cut
  them earlier, this is the last line).

HSTS is not sent: the service speaks plain HTTP behind a TLS-terminating proxy, which should add it.
"""

from __future__ import annotations

import asyncio
from typing import Awaitable, Callable

from .limits import MAX_BODY_BYTES, MAX_HEADER_BYTES, MAX_HEADERS

Scope = dict
Message = dict
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


CSP = "; ".join((
    "default-src 'none'",
    "style-src 'self' 'unsafe-inline'",  # <style> blocks and style= attributes (map legend); no script anywhere
    "img-src 'self' data:",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def _plain(status: int, message: str) -> tuple[Message, Message]:
    body = (message.rstrip("\n") + "\n").encode()
    start = {"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()),
        (b"access-control-allow-origin", b"*"), (b"connection", b"close")]}
    return start, {"type": "http.response.body", "body": body}


class BodyTooLarge(Exception):
    pass


class BodyTimeout(Exception):
    pass


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, timeout: float, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.max_body = max_body
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = CSP.encode()
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in ((b"content-security-policy", csp), *HEADERS)
                            if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        raw_headers = scope.get("headers", [])
        headers = dict((k.lower(), v) for k, v in raw_headers)
        refusal = self._refusal(headers, raw_headers)
        if refusal is not None:  # answered without reading the body; the connection is closed after it
            for message in _plain(*refusal):
                await send_with_headers(message)
            return

        received = 0
        body_done = False

        async def limited_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # after the body, receive() waits for the disconnection: no time limit
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.timeout)
            except asyncio.TimeoutError:
                raise BodyTimeout() from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge()
                body_done = not message.get("more_body", False)
            else:
                body_done = True
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if started:
                raise
            for message in _plain(413, f"413: request body larger than {self.max_body} bytes / corps de requête trop grand"):
                await send_with_headers(message)
        except BodyTimeout:
            if started:
                raise
            for message in _plain(408, f"408: no part of the request body came for {self.timeout:g} s / corps de "
                                       "requête interrompu"):
                await send_with_headers(message)

    def _refusal(self, headers: dict[bytes, bytes], raw_headers) -> tuple[int, str] | None:
        if len(raw_headers) > MAX_HEADERS or sum(len(k) + len(v) for k, v in raw_headers) > MAX_HEADER_BYTES:
            return 431, (f"431: at most {MAX_HEADERS} header fields and {MAX_HEADER_BYTES >> 10} KiB of them "
                         "/ en-têtes trop nombreux ou trop grands")
        encoding = headers.get(b"content-encoding", b"").strip().lower()
        if encoding and encoding != b"identity":
            return 415, ("415: compressed request bodies (Content-Encoding: "
                         f"{encoding.decode('latin-1')[:40]}) are not accepted: send the body uncompressed "
                         "/ corps compressés refusés, envoyer le corps non compressé")
        declared = headers.get(b"content-length", b"").strip()
        if declared:
            if not declared.isdigit():
                return 400, "400: invalid Content-Length / Content-Length invalide"
            if int(declared) > self.max_body:
                return 413, f"413: request body larger than {self.max_body} bytes / corps de requête trop grand"
        return None
