"""Fuzzing the SPARQL protocol parameters and the upload route over real HTTP (hypothesis, bounded time).

Whatever hypothesis sends to ``/sparql`` (GET and POST, query soup of SPARQL tokens and junk, format,
dataset parameters, Accept) or to ``/validate`` (bodies and content types), the answer is never a
5xx other than the documented 503/504, never a traceback, and the server stays up. The whole file is
bounded: ``max_examples`` per test, no per-example deadline, and a time budget (``FUZZ_BUDGET``
seconds, 60 by default) after which the remaining examples are skipped.
"""

from __future__ import annotations

import os
import time

import httpx
import pytest
from hypothesis import HealthCheck, assume, given, seed, settings, strategies as st

from conftest import SEED

BUDGET = float(os.environ.get("FUZZ_BUDGET", "60"))
_started: list[float] = []
ALLOWED_5XX = {503, 504}
FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

TOKENS = ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "WHERE", "{", "}", "(", ")", "?s", "?p", "?o", "*", ".", ";",
          "FILTER", "OPTIONAL", "UNION", "GRAPH", "SERVICE", "SILENT", "FROM", "NAMED", "LIMIT", "OFFSET", "1",
          "\"x\"", "'''y'''", "<http://example.org/a>", "ptce:PTCE", "igeo:Commune", "a", "COUNT(*)", "AS",
          "GROUP BY", "ORDER BY", "PREFIX", "x:", "<>", "#", "\n", "BIND", "VALUES", "LOAD", "INSERT", "DELETE",
          "REGEX(?o, \"(a+)+$\")", "STR(?s)", "@fr", "^^xsd:integer", "_:b", "[]", "()", "$v", "\\u0041", "%"]
query_soup = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=8)), max_size=40).map(" ".join)
formats = st.one_of(st.none(), st.sampled_from(["json", "xml", "csv", "tsv", "html", "ttl", "nt", "jsonld", "trig",
                                                "nq", "srj", "text/turtle", "application/x-nope"]), st.text(max_size=10))
accepts = st.one_of(st.none(), st.sampled_from(["*/*", "text/html", "application/sparql-results+json;q=0.5",
                                                "text/turtle;q=0", "a/b;q=x,*/*;q=0.1"]),
                    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=40))
iris = st.one_of(st.just("https://w3id.org/ptce/graph/ptce"), st.text(max_size=20))


def _within_budget() -> None:
    if not _started:
        _started.append(time.monotonic())
    if time.monotonic() - _started[0] > BUDGET:
        pytest.skip(f"fuzzing time budget of {BUDGET:g} s spent")


def _check(response: httpx.Response) -> None:
    assert response.status_code < 500 or response.status_code in ALLOWED_5XX, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text


def _clean_header(value: str | None) -> dict:
    return {} if value is None or value != value.strip() or not value.isprintable() else {"accept": value}


@pytest.fixture(scope="module")
def fuzz_client(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@FUZZ
@seed(SEED)
@given(query=query_soup, fmt=formats, accept=accepts, default=st.lists(iris, max_size=2),
       named=st.lists(iris, max_size=2), post=st.sampled_from(["get", "form", "direct"]))
def test_fuzz_sparql_parameters(fuzz_client, server, query, fmt, accept, default, named, post):
    _within_budget()
    params = [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]
    if fmt is not None:
        params.append(("format", fmt))
    headers = _clean_header(accept)
    if post == "get":
        assume(len(query.encode()) < 4000)
        response = fuzz_client.get("/sparql", params=[("query", query), *params], headers=headers)
    elif post == "form":
        response = fuzz_client.post("/sparql", data={"query": query, **dict(params)}, headers=headers)
    else:
        response = fuzz_client.post("/sparql", params=params, content=query.encode(),
                                    headers={**headers, "content-type": "application/sparql-query"})
    _check(response)


@FUZZ
@seed(SEED)
@given(body=st.one_of(st.binary(max_size=2000), query_soup.map(str.encode),
                      st.lists(st.sampled_from([b"<http://a>", b"<http://b>", b"\"lit\"", b"_:b", b".", b";", b",",
                                                b"[", b"]", b"(", b")", b"@prefix", b"ptce:", b"{", b"}", b"\n",
                                                b"a", b"\"\"\"", b"@base", b"^^", b"@en"]), max_size=60).map(b" ".join)),
       content_type=st.sampled_from(["text/turtle", "application/n-triples", "application/ld+json",
                                     "application/rdf+xml", "application/trig", "application/n-quads", "text/csv",
                                     "multipart/form-data", "application/octet-stream", ""]),
       accept=st.sampled_from(["text/html", "text/turtle", "application/ld+json", "*/*", "image/png"]),
       multipart=st.booleans(), filename=st.sampled_from(["x.ttl", "x.nt", "x.rdf", "x.jsonld", "x", "../../x.ttl", ""]))
def test_fuzz_upload_route(fuzz_client, body, content_type, accept, multipart, filename):
    _within_budget()
    if multipart:
        response = fuzz_client.post("/validate", files={"file": (filename, body)}, headers={"accept": accept})
    else:
        headers = {"accept": accept, **({"content-type": content_type} if content_type else {})}
        response = fuzz_client.post("/validate", content=body, headers=headers)
    _check(response)


def test_server_is_up_after_fuzzing(server):
    assert httpx.get(server.url + "/healthz", timeout=30).status_code == 200
