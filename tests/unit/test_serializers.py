"""The SPARQL result serializers of the query workers (ptcekb/service/serializers.py, run by executor.run_job), read back by pyoxigraph."""

from __future__ import annotations

import csv
import io
import json

import pyoxigraph as ox
import pytest

from ptcekb.service.executor import Job, run_job

EX = "http://example.org/"
TRICKY = 'a "quoted", comma\nnew line\ttab <tag> & café'


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    graph = ox.NamedNode(EX + "g")
    for index in range(5):
        subject = ox.NamedNode(f"{EX}s{index}")
        store.add(ox.Quad(subject, ox.NamedNode(EX + "label"), ox.Literal(f"nom {index}", language="fr"), graph))
        store.add(ox.Quad(subject, ox.NamedNode(EX + "count"), ox.Literal(str(index), datatype=ox.NamedNode(
            "http://www.w3.org/2001/XMLSchema#integer")), graph))
    store.add(ox.Quad(ox.NamedNode(EX + "odd"), ox.NamedNode(EX + "note"), ox.Literal(TRICKY), graph))
    store.add(ox.Quad(ox.BlankNode("b1"), ox.NamedNode(EX + "note"), ox.Literal("blank"), graph))
    return store


def job(query: str, solutions: str | None = "json", graph: str | None = "ttl", cap: int = 100) -> Job:
    return Job(directory="", query=query, solutions_format=solutions, graph_format=graph, row_cap=cap)


FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
           "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
ALL = "SELECT ?s ?p ?o ?missing WHERE { ?s ?p ?o } ORDER BY STR(?s) STR(?p)"


@pytest.mark.parametrize("name", ["json", "xml", "tsv"])
def test_select_round_trips_through_a_standard_parser(store, name):
    reply = run_job(store, job(ALL, name))
    assert reply.status == 200 and reply.kind == "solutions" and not reply.truncated
    parsed = ox.parse_query_results(reply.body, format=FORMATS[name])
    expected = store.query(ALL, use_default_graph_as_union=True)
    assert [v.value for v in parsed.variables] == ["s", "p", "o", "missing"]
    as_rows = lambda solutions: [tuple(row[v] for v in ("s", "p", "o", "missing")) for row in solutions]
    got, want = as_rows(parsed), as_rows(expected)
    # blank node labels are the serializer's own: compare them as blank nodes
    strip = lambda rows: [tuple("_:" if isinstance(t, ox.BlankNode) else t for t in row) for row in rows]
    assert strip(got) == strip(want)


def test_csv_gives_plain_values_and_quotes_what_needs_it(store):
    reply = run_job(store, job(f'SELECT ?o WHERE {{ <{EX}odd> ?p ?o }}', "csv"))
    lines = reply.body.decode().split("\r\n")
    assert lines[0] == "o"
    assert lines[1] == '"' + TRICKY.replace('"', '""') + '"'  # quoted: its bare \n is no record separator
    assert list(csv.DictReader(io.StringIO(reply.body.decode(), newline=""))) == [{"o": TRICKY}]  # as RFC 4180 readers see it


def test_row_cap_truncates_and_says_so(store):
    reply = run_job(store, job(ALL, "json", cap=3))
    body = json.loads(reply.body)
    assert reply.truncated and len(body["results"]["bindings"]) == 3
    assert body["truncated"] is True and body["head"]["link"]
    xml = run_job(store, job(ALL, "xml", cap=3)).body.decode()
    assert "truncated" in xml and xml.count("<result>") == 3


def test_ask_and_graphs(store):
    assert json.loads(run_job(store, job(f"ASK {{ <{EX}s1> ?p ?o }}")).body)["boolean"] is True
    reply = run_job(store, job(f"CONSTRUCT {{ ?s <{EX}label> ?o }} WHERE {{ ?s <{EX}label> ?o }}", graph="nt"))
    assert reply.kind == "graph" and len(list(ox.parse(reply.body, format=ox.RdfFormat.N_TRIPLES))) == 5
    capped = run_job(store, job("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", graph="ttl", cap=2))
    assert capped.truncated and capped.body.startswith(b"# truncated to 2 triples")


def test_what_the_client_cannot_take_and_bad_queries(store):
    assert run_job(store, job("ASK {}", solutions=None)).status == 406
    assert run_job(store, job("CONSTRUCT WHERE { ?s ?p ?o }", graph=None)).status == 406
    error = run_job(store, job("SELECT ?x WHERE {"))
    assert error.status == 400 and "line 1, column" in error.message
