"""Every parser is bounded (issue 18, items 2 and 3): XML entities refused, nesting and chains bounded,
the SPARQL text analysis linear and off the event loop. Real server over HTTP, real CLI, real pyoxigraph.

The token-protected paths (``PUT /store``, ``/update``) are in test_hostile_input.py (its ``guarded`` server).
"""

from __future__ import annotations

import threading
import time

import httpx
import pyoxigraph as ox
import pytest

from conftest import ptcekb
from ptcekb.errors import UserError
from ptcekb.ingest.rdf_files import parse_file
from ptcekb.sparql_text import analyse, service_blocks
from ptcekb.syntax_limits import MAX_CHAIN, MAX_NESTING, SyntaxRefused, check_rdf


def billion_laughs(levels: int = 10) -> bytes:
    """The classic: ten entities of ten references each, 10**levels copies of 'lol' (under 1 KB)."""
    entities = '<!ENTITY a0 "lol">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels))
    return (f'<?xml version="1.0"?>\n<!DOCTYPE rdf:RDF [{entities}]>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'<rdf:Description rdf:about="http://example.org/a"><rdf:value>&a{levels - 1};</rdf:value>'
            '</rdf:Description></rdf:RDF>').encode()


def clear_4xx(response: httpx.Response, *statuses: int) -> str:
    assert response.status_code in statuses, (response.status_code, response.text[:300])
    assert "Traceback" not in response.text and "internal error" not in response.text
    return response.text


def alive(url: str) -> None:
    assert httpx.get(url + "/healthz", timeout=30).status_code == 200


DEEP_TURTLE = (b"<http://example.org/a> <http://example.org/p> " + b"[ <http://example.org/p> " * 100_000
               + b"1" + b" ]" * 100_000 + b" .")
DEEP_JSONLD = (b'{"@id": "http://example.org/a", "http://example.org/p": ' + b'{"http://example.org/p": ' * 60_000
               + b"1" + b"}" * 60_000 + b"}")


# --------------------------------------------------------------------------------------------
# XML entities


def test_billion_laughs_upload_to_validate_is_refused(http, server):
    """Was: the validation worker grew to 8.9 GB in 25 s."""
    bomb = billion_laughs()
    assert len(bomb) < 1000
    started = time.monotonic()
    response = http.post("/validate", content=bomb, headers={"content-type": "application/rdf+xml"})
    text = clear_4xx(response, 400)
    assert "ENTITY" in text and "entité" in text
    assert time.monotonic() - started < 30
    multipart = http.post("/validate", files={"file": ("bomb.rdf", bomb)})
    assert "ENTITY" in clear_4xx(multipart, 400)
    alive(server.url)


def test_non_utf8_xml_is_refused(http):
    """expat and Oxigraph must read the same characters: only UTF-8 is accepted."""
    utf16 = billion_laughs().decode().replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")
    assert "UTF-8" in clear_4xx(http.post("/validate", content=utf16, headers={"content-type": "application/rdf+xml"}), 415)
    latin = b'<?xml version="1.0" encoding="ISO-8859-1"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
    assert "UTF-8" in clear_4xx(http.post("/validate", content=latin, headers={"content-type": "application/rdf+xml"}), 415)


def test_ptcekb_validate_refuses_entities_with_the_position(built_store, tmp_path):
    bomb = tmp_path / "bomb.rdf"
    bomb.write_bytes(billion_laughs())
    started = time.monotonic()
    result = ptcekb("validate", "--store", str(built_store), str(bomb), timeout=120)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{bomb}:2:" in result.stderr and "ENTITY" in result.stderr
    assert time.monotonic() - started < 60


def test_ingestion_refuses_entities_and_keeps_the_plain_doctype(tmp_path):
    bomb = tmp_path / "vocabulary.rdf"
    bomb.write_bytes(billion_laughs())
    with pytest.raises(UserError) as refused:
        list(parse_file(bomb))
    assert refused.value.exit_code == 2 and str(refused.value).startswith(f"{bomb}:2:")
    external = tmp_path / "external.rdf"
    external.write_bytes(b'<?xml version="1.0"?><!DOCTYPE rdf:RDF SYSTEM "file:///etc/passwd"><rdf:RDF '
                         b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>')
    with pytest.raises(UserError, match="external DTD"):
        list(parse_file(external))
    plain = tmp_path / "plain.rdf"  # a DOCTYPE without entities is harmless
    plain.write_bytes(b'<?xml version="1.0"?><!DOCTYPE rdf:RDF><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
                      b'syntax-ns#"><rdf:Description rdf:about="http://example.org/a"><rdf:value>1</rdf:value>'
                      b'</rdf:Description></rdf:RDF>')
    assert len(list(parse_file(plain))) == 1


# --------------------------------------------------------------------------------------------
# Nesting of RDF documents


@pytest.mark.parametrize("body, content_type", [(DEEP_TURTLE, "text/turtle"), (DEEP_JSONLD, "application/ld+json")],
                         ids=["turtle-brackets", "jsonld-objects"])
def test_deep_documents_are_refused_on_validate(server, body, content_type):
    """JSON-LD 60,000 objects deep crashed Oxigraph's parser (a failed allocation, the process aborted)."""
    response = httpx.post(server.url + "/validate", content=body, headers={"content-type": content_type}, timeout=60)
    text = clear_4xx(response, 400)
    assert f"{MAX_NESTING}" in text and "1:" in text  # the line and column where the limit was passed
    alive(server.url)


def test_nesting_at_the_limit_is_accepted_and_what_is_inside_strings_is_not_counted():
    ok = (b"<http://example.org/a> <http://example.org/p> " + b"[ <http://example.org/p> " * (MAX_NESTING - 1)
          + b'"[[[ ((( << {{{ " , """[[[\n]]]""" , \'[[[\' ' + b" ]" * (MAX_NESTING - 1) + b" .")
    check_rdf(ok, ox.RdfFormat.TURTLE)
    assert len(list(ox.parse(ok, format=ox.RdfFormat.TURTLE))) > MAX_NESTING
    check_rdf(b'{"@id": "http://example.org/a", "http://example.org/p": "{{{{[[[[\\"{{{{"}', ox.RdfFormat.JSON_LD)
    escaped = b"@prefix ex: <http://example.org/> . ex:a\\'b ex:p " + b"[ ex:p " * 300 + b"1" + b" ]" * 300 + b" ."
    with pytest.raises(SyntaxRefused):  # an escaped quote in a local name opens no string that would hide the rest
        check_rdf(escaped, ox.RdfFormat.TURTLE)


# --------------------------------------------------------------------------------------------
# SPARQL nesting and chains


DEEP_NOT = "ASK { FILTER(" + "!" * 10_000 + "true) }"


@pytest.mark.parametrize("query", [
    DEEP_NOT,
    "ASK { FILTER(" + "- " * 10_000 + "1) }",
    "ASK { FILTER(" + "STR(" * 2_000 + "1" + ")" * 2_000 + ") }",
    "ASK { ?s " + "(" * 20_000 + "<http://p>" + ")" * 20_000 + " ?o }",
    "ASK { ?s <http://p> " + "[ <http://p> " * 5_000 + "1" + " ]" * 5_000 + " }",
    "ASK { FILTER(" + "1+" * 20_000 + "1) }",
    "ASK { ?s " + "<http://p>/" * 25_000 + "<http://p> ?o }",
    "ASK { " + "{} UNION " * 20_000 + "{} }",
], ids=["not", "minus", "calls", "path-groups", "blank-nodes", "sum", "path-sequence", "unions"])
def test_deep_or_long_queries_are_400(server, query):
    """Each of these crashed the query worker (500); refused before the engine parses them."""
    response = httpx.post(server.url + "/sparql", content=query.encode(), timeout=60,
                          headers={"content-type": "application/sparql-query"})
    text = clear_4xx(response, 400)
    assert "imbrication" in text or "chaîne" in text
    alive(server.url)


def test_queries_under_the_limits_still_run(http):
    near = "ASK { FILTER(" + "!" * (MAX_NESTING - 10) + "true) }"
    assert http.post("/sparql", content=near.encode(), headers={"content-type": "application/sparql-query",
                                                              "accept": "application/sparql-results+json"}).status_code == 200
    lists = ("SELECT * WHERE { VALUES ?x { " + "1 " * 20_000 + "} FILTER(?x IN (" + "1, " * 20_000 + "2)) } LIMIT 1")
    response = http.post("/sparql", content=lists.encode(), headers={"content-type": "application/sparql-query",
                                                                     "accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text[:300]  # lists are not chains


def test_analysis_counts_what_the_engine_recurses_through():
    assert analyse(DEEP_NOT).nesting > MAX_NESTING
    assert analyse("ASK { FILTER(!bound(?a) && !bound(?b) && !bound(?c)) }").nesting <= 3
    assert analyse("ASK { FILTER(" + "1 - " * 5000 + "1) }").chain > MAX_CHAIN
    assert analyse("INSERT DATA { " + "<http://a> <http://b> <http://c> . " * 10_000 + "}").chain == 0
    assert analyse("ASK { ?s <http://p> \"((((((((((\" }").nesting == 1


# --------------------------------------------------------------------------------------------
# The analysis reads the text as the engine does


@pytest.mark.parametrize("query, endpoint", [
    ("SELECT * WHERE { #\rSERVICE <http://127.0.0.1:1/x> { ?s ?p ?o } }", "http://127.0.0.1:1/x"),
    ("PREFIX : <http://127.0.0.1:1/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }", "http://127.0.0.1:1/x"),
    ("PREFIX e: <http://127.0.0.1:1/> SELECT * WHERE { SERVICEe:x { ?s ?p ?o } }", "http://127.0.0.1:1/x"),
    ("PREFIX e: <http://127.0.0.1:1/> SELECT * WHERE { sErViCe SILENTe:x { ?s ?p ?o } }", "http://127.0.0.1:1/x"),
    ("SELECT * WHERE { FILTER(<http://x\\u0041#> = <http://xA#>) SERVICE <http://127.0.0.1:1/x> { } }",
     "http://127.0.0.1:1/x"),
    ("SELECT * WHERE { SERVICE <http://127.0.0.1:1/\\u0078> { } }", "http://127.0.0.1:1/x"),
], ids=["comment-cr", "glued-empty-prefix", "glued-prefix", "glued-silent", "uchar-in-iri", "uchar-target"])
def test_services_the_engine_would_call_are_seen(http, query, endpoint):
    assert analyse(query).services == [endpoint]
    assert [b.endpoint for b in service_blocks(query)] == [endpoint]
    response = http.post("/sparql", content=query.encode(), headers={"content-type": "application/sparql-query"})
    assert "refused" in clear_4xx(response, 400)


def test_loads_the_engine_would_run_are_seen():
    for update in ("#\rLOAD <http://127.0.0.1:1/x>", "PREFIX e: <http://127.0.0.1:1/> LOADe:x",
                   "PREFIX e: <http://127.0.0.1:1/> LOAD SILENTe:x", "INSERT DATA {} ;\nload <http://127.0.0.1:1/x>"):
        assert analyse(update).loads == ["http://127.0.0.1:1/x"], update


# --------------------------------------------------------------------------------------------
# Linear analysis, off the event loop


def test_analysis_of_a_megabyte_is_linear_not_quadratic():
    """'a.' * 20,000 (40 KB) took 11 s in the old backtracking tokenizer; 1 MiB would have taken ~1.5 h."""
    started = time.monotonic()
    analysis = analyse("a." * (1 << 19))
    assert time.monotonic() - started < 30  # ~1 s here; loose: a liveness bound, not a benchmark
    assert analysis.form is None and not analysis.services


def test_healthz_answers_while_a_megabyte_query_is_analysed(server):
    body = "a." * ((1 << 19) - 8)  # just under the 1 MiB body limit
    done: dict = {}

    def post():
        done["response"] = httpx.post(server.url + "/sparql", content=body.encode(), timeout=300,
                                      headers={"content-type": "application/sparql-query"})

    poster = threading.Thread(target=post)
    poster.start()
    latencies = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        while poster.is_alive() or len(latencies) < 5:
            started = time.monotonic()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.monotonic() - started)
            time.sleep(0.05)
    poster.join()
    assert max(latencies) < 2, latencies
    assert done["response"].status_code == 400  # a syntax error, answered


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { FILTER(?a<'x>') SERVICE <http://127.0.0.1:1/x> { } FILTER(?b = '') }",
    "ASK { FILTER(1<<http://x#>) SERVICE <http://127.0.0.1:1/x> { } }",
    "ASK { FILTER(?a<" + "(" * 5000 + "1" + ")" * 5000 + ">?b) }",
], ids=["iri-or-less-than-and-string", "less-than-then-iri", "iri-or-nested-brackets"])
def test_less_than_or_iri_is_never_read_to_hide_or_nest(http, server, query):
    """After a value, `<...>` is less-than for the engine in an expression, an IRI in a pattern: the
    analysis must not read it in a way that hides a SERVICE or a nesting the engine recurses through."""
    response = httpx.post(server.url + "/sparql", content=query.encode(), timeout=60,
                          headers={"content-type": "application/sparql-query"})
    clear_4xx(response, 400)
    alive(server.url)
