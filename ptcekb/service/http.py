"""The service's HTTP plumbing, shared by every route: CORS headers, error answers in one style, reading
request bodies under a size limit, and the SPARQL Protocol's request forms (GET, POST form, POST direct).

Every error the service answers itself is ``text/plain; charset=utf-8``, one line ending with a
newline, with the CORS headers (a browser client on another origin can read why it failed), in
French and English: ``error_response``, or ``ProtocolError`` raised where the answer is decided.
The size limits are in limits.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.responses import Response

from .negotiation import DOCUMENT_REPRESENTATIONS

TRUNCATED_HEADER = "X-PTCEKB-Truncated"
PLAIN_TEXT = "text/plain; charset=utf-8"

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": f"{TRUNCATED_HEADER}, Content-Type, Content-Length, Link, Vary",
}


class ProtocolError(Exception):
    """An error answered as ``status`` with a readable one-line message (and CORS headers)."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The one style of error answer: plain text, one line, CORS headers (plus ``headers``)."""
    return Response(message.rstrip("\n") + "\n", status_code=status, media_type=PLAIN_TEXT,
                    headers={**CORS_HEADERS, **(headers or {})})


def preflight(request: Request, methods: tuple[str, ...]) -> Response:
    """``OPTIONS``: a CORS preflight answer (any origin), or the plain list of allowed methods."""
    headers = {**CORS_HEADERS, "Allow": ", ".join(methods)}
    if request.headers.get("access-control-request-method"):
        headers["Access-Control-Allow-Methods"] = ", ".join(methods)
        headers["Access-Control-Allow-Headers"] = request.headers.get(
            "access-control-request-headers", "Accept, Content-Type, Authorization")
        headers["Access-Control-Max-Age"] = "86400"
    return Response(status_code=204, headers=headers)


def method_not_allowed(methods: tuple[str, ...]) -> Response:
    return error_response(405, f"405: method not allowed here; allowed: {', '.join(methods)} "
                               f"/ méthode non autorisée", {"Allow": ", ".join(methods)})


def document_not_acceptable() -> Response:
    """406 for a resource document (documents.py): no representation of ``Accept`` is offered."""
    formats = ", ".join(r.media_type for r in DOCUMENT_REPRESENTATIONS)
    return error_response(406, f"406: no acceptable representation / aucune représentation acceptable; offered: {formats}",
                          {"Vary": "Accept"})


# --------------------------------------------------------------------------------------------
# Reading a request


@dataclass
class Operation:
    text: str | None  # the query or update; None when the request carries none
    params: list[tuple[str, str]]  # URL and form parameters (in order, repeatable)

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.params if k == name]

    def one(self, name: str) -> str | None:
        values = self.all(name)
        if len(values) > 1:
            raise ProtocolError(400, f"more than one '{name}' parameter / plusieurs paramètres '{name}'")
        return values[0] if values else None


def content_type(request: Request) -> tuple[str, dict[str, str]]:
    header = request.headers.get("content-type", "")
    media, *parameters = [p.strip() for p in header.split(";")]
    params = {}
    for p in parameters:
        name, _, value = p.partition("=")
        params[name.strip().lower()] = value.strip().strip('"')
    return media.lower(), params


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 beyond ``limit`` bytes (announced or actually sent)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProtocolError(413, f"request body larger than {limit} bytes / corps de requête trop grand")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProtocolError(413, f"request body larger than {limit} bytes / corps de requête trop grand")
        chunks.append(chunk)
    return b"".join(chunks)


class BodyTooLarge(Exception):
    """Raised from a ``limited`` request's receive once its body passes the limit."""


def limited(request: Request, limit: int) -> Request:
    """``request`` whose body stops at ``limit`` bytes, counted as they arrive: its receive raises
    ``BodyTooLarge`` past the limit, so a parser reading it (Starlette's multipart form, which would
    otherwise spool a chunked body whole before any size is checked) stops there."""
    received = 0

    async def receive():
        nonlocal received
        message = await request.receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge(limit)
        return message

    return Request(request.scope, receive)


def _utf8(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(400, f"{what} is not valid UTF-8 / n'est pas en UTF-8") from None


async def read_operation(request: Request, name: str, direct_type: str, limit: int) -> Operation:
    """The ``query`` (or ``update``) of a GET or POST, with the parameters of the URL and the form."""
    params = request.query_params.multi_items()  # parsed once per request, by Starlette
    if request.method in ("GET", "HEAD"):
        if name == "update":
            raise ProtocolError(400, "updates are sent with POST / les mises à jour se font par POST")
        operation = Operation(None, params)
        operation.text = operation.one(name)
        if operation.text is not None and len(operation.text.encode()) > limit:
            raise ProtocolError(413, f"{name} larger than {limit} bytes")
        return operation
    media, options = content_type(request)
    charset = options.get("charset", "utf-8").lower()
    if media not in ("application/x-www-form-urlencoded", direct_type):
        raise ProtocolError(415, f"a POST to this endpoint must be application/x-www-form-urlencoded or {direct_type}"
                                 f", not {media or 'without Content-Type'} / type de contenu non pris en charge")
    if charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"charset {charset} not supported: send UTF-8 / encodage non pris en charge")
    body = await read_body(request, limit)
    if media == direct_type:
        operation = Operation(_utf8(body, name), params)
        if operation.all(name):
            raise ProtocolError(400, f"'{name}' given both in the body and in the URL")
        return operation
    try:
        form = parse_qsl(_utf8(body, "form body"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:  # percent-escapes that decode to invalid UTF-8
        raise ProtocolError(400, "the form body is not valid UTF-8 once decoded / le formulaire n'est pas en UTF-8") from None
    operation = Operation(None, params + form)
    operation.text = operation.one(name)
    return operation


def require_text(operation: Operation, name: str) -> str:
    if operation.text is None or not operation.text.strip():
        raise ProtocolError(400, f"missing or empty '{name}' parameter / paramètre '{name}' manquant ou vide")
    return operation.text
