"""Outbound ``SERVICE``, executed by ptcekb itself rather than by pyoxigraph.

pyoxigraph would call any endpoint, follow its redirects and wait as long as it answers. So
before a query reaches a worker, each outermost ``SERVICE <e> { P }`` is sent here to ``e`` as
``SELECT * WHERE { P }`` (with the query's prefixes), and replaced in the query by the answer as a
``VALUES`` block: the engine then joins it locally, which is the SERVICE semantics (the remote
pattern is evaluated on its own, then joined). On the way:

* the endpoint, and every redirect target, must start with a prefix of
  ``PTCEKB_SERVICE_ALLOWLIST`` (checked per hop; at most ``MAX_REDIRECTS``);
* each call has its own time limit (``PTCEKB_SERVICE_TIMEOUT``, 10 s), all calls of a query run
  concurrently, and an answer is capped (``MAX_SERVICE_ROWS`` rows, ``MAX_SERVICE_BYTES``);
* a failure is a 502/504 naming the endpoint, or under ``SERVICE SILENT`` an empty solution
  (the join identity, as the spec says).

Blank nodes of a remote answer become fresh IRIs under ``urn:ptcekb:service-bnode:`` (VALUES
cannot hold blank nodes).
"""

from __future__ import annotations

import asyncio
import uuid
from urllib.parse import urljoin

import httpx
import pyoxigraph as ox

from ..errors import UserError
from ..messages import one_line
from ..namespaces import PREFIXES
from ..sparql_text import ServiceBlock, declared_prefixes, service_blocks

MAX_REDIRECTS = 3
MAX_SERVICE_ROWS = 10_000
MAX_SERVICE_BYTES = 16 << 20
ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.9"
_FORMATS = {"application/sparql-results+json": ox.QueryResultsFormat.JSON, "application/json": ox.QueryResultsFormat.JSON,
            "application/sparql-results+xml": ox.QueryResultsFormat.XML, "application/xml": ox.QueryResultsFormat.XML}


class ServiceFailure(UserError):
    """A remote endpoint failed; ``http_status`` is 502 (bad answer) or 504 (too slow)."""


def allowed(endpoint: str | None, allowlist: tuple[str, ...]) -> bool:
    return endpoint is not None and any(endpoint.startswith(prefix) for prefix in allowlist)


async def materialise(text: str, allowlist: tuple[str, ...], timeout: float) -> str:
    """``text`` with each outermost SERVICE block replaced by the remote answer as VALUES."""
    blocks, declared = await asyncio.to_thread(lambda: (service_blocks(text), declared_prefixes(text)))  # linear, off the loop
    if not blocks:
        return text
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in {**PREFIXES, **declared}.items())
    async with httpx.AsyncClient(follow_redirects=False, timeout=timeout) as client:
        answers = await asyncio.gather(*(_answer(client, block, prologue, allowlist, timeout) for block in blocks))
    out, position = [], 0
    for block, answer in zip(blocks, answers):
        out += [text[position:block.start], answer]
        position = block.end
    return "".join(out) + text[position:]


async def _answer(client: httpx.AsyncClient, block: ServiceBlock, prologue: str, allowlist: tuple[str, ...],
                  timeout: float) -> str:
    try:
        if not allowed(block.endpoint, allowlist):
            shown = f"<{block.endpoint}>" if block.endpoint else "a variable"
            raise ServiceFailure(f"SERVICE {shown} refused: not in PTCEKB_SERVICE_ALLOWLIST / point d'accès non autorisé",
                                 http_status=400)
        solutions = await asyncio.wait_for(_call(client, block.endpoint, prologue + "SELECT * WHERE " + block.pattern,
                                                 allowlist), timeout)
        return values_block(solutions, block.endpoint)
    except asyncio.TimeoutError:
        failure = ServiceFailure(f"SERVICE <{block.endpoint}> did not answer within {timeout:g} s "
                                 f"(PTCEKB_SERVICE_TIMEOUT) / délai dépassé", http_status=504)
    except ServiceFailure as exc:
        failure = exc
    except (SyntaxError, ValueError, OSError, UnicodeError) as exc:  # the answer is parsed while it is read
        failure = ServiceFailure(f"SERVICE <{block.endpoint}> sent results that cannot be read: {one_line(str(exc))} "
                                 "/ réponse illisible", http_status=502)
    if block.silent and failure.http_status != 400:
        return "{}"  # SILENT: one empty solution, the identity of the join
    raise failure


async def _call(client: httpx.AsyncClient, endpoint: str, query: str, allowlist: tuple[str, ...]) -> ox.QuerySolutions:
    url = endpoint
    for _ in range(MAX_REDIRECTS + 1):
        try:
            async with client.stream("POST", url, data={"query": query}, headers={"Accept": ACCEPT}) as response:
                if response.is_redirect:
                    target = urljoin(url, response.headers.get("location", ""))
                    if not allowed(target, allowlist):
                        raise ServiceFailure(f"SERVICE <{endpoint}> redirected to <{target}>, which "
                                             f"PTCEKB_SERVICE_ALLOWLIST does not list: refused / redirection refusée",
                                             http_status=502)
                    url = target
                    continue
                if response.status_code != 200:
                    raise ServiceFailure(f"SERVICE <{url}> answered HTTP {response.status_code} / erreur du point d'accès",
                                         http_status=502)
                media = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if media not in _FORMATS:
                    raise ServiceFailure(f"SERVICE <{url}> answered {media or 'no content type'}, not SPARQL results",
                                         http_status=502)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_SERVICE_BYTES:
                        raise ServiceFailure(f"SERVICE <{url}>: answer larger than {MAX_SERVICE_BYTES >> 20} MiB / "
                                             "réponse trop volumineuse", http_status=502)
        except httpx.HTTPError as exc:
            raise ServiceFailure(f"SERVICE <{url}> unreachable: {type(exc).__name__} / injoignable", http_status=502) from None
        try:
            parsed = ox.parse_query_results(bytes(body), format=_FORMATS[media])
        except (SyntaxError, ValueError) as exc:
            raise ServiceFailure(f"SERVICE <{url}> sent unreadable results: {exc}", http_status=502) from None
        if not isinstance(parsed, ox.QuerySolutions):
            raise ServiceFailure(f"SERVICE <{url}> answered a boolean to a SELECT", http_status=502)
        return parsed
    raise ServiceFailure(f"SERVICE <{endpoint}>: more than {MAX_REDIRECTS} redirects", http_status=502)


def values_block(solutions: ox.QuerySolutions, endpoint: str) -> str:
    """The solutions as ``{ VALUES (?a ?b) { (...) ... } }``, SPARQL syntax for each term."""
    variables = [v.value for v in solutions.variables]
    rows, skolem = [], {}
    for solution in solutions:
        if len(rows) == MAX_SERVICE_ROWS:
            raise ServiceFailure(f"SERVICE <{endpoint}> returned more than {MAX_SERVICE_ROWS} rows: add a LIMIT or "
                                 "narrow the pattern / trop de résultats", http_status=502)
        rows.append("(" + " ".join(_term(term, skolem) for term in solution) + ")")
    if not variables:
        return "{}" if rows else "{ FILTER(false) }"
    return "{ VALUES (" + " ".join("?" + v for v in variables) + ") { " + " ".join(rows) + " } }"


def _term(term, skolem: dict) -> str:
    if term is None:
        return "UNDEF"
    if isinstance(term, ox.BlankNode):
        if term not in skolem:
            skolem[term] = f"<urn:ptcekb:service-bnode:{uuid.uuid4().hex}>"
        return skolem[term]
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return str(term)
    raise ServiceFailure("SERVICE answer holds an RDF-star triple term, which VALUES cannot carry", http_status=502)
