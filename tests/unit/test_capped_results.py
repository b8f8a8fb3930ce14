"""Answers written by pyoxigraph and cut at the row cap in the bytes (serializers.capped, run by
executor.run_job): the same rows as the engine's own answer to the same query, the first ``cap`` of
them, truncated exactly when there were more, whatever the terms hold and wherever pyoxigraph's
writes split the bytes."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptcekb.service import serializers
from ptcekb.service.executor import Job, run_job

EX = "http://example.org/"
FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
           "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}
# What could be taken for a row boundary in one format or another
TRICKY = ['a "quoted", comma', '{}', ',{}', ',{"x":1}', '[{"', '"}', '\\', '\\"', 'x\r\ny', 'cr\r', 'lf\n', 'tab\t',
          '</result><result>', '<result>', '""', ',', 'café ☕', '']
text = st.one_of(st.sampled_from(TRICKY), st.text(alphabet='ab"{},[]\\\r\n\t<>/:é', max_size=12))


@st.composite
def stores(draw) -> ox.Store:
    store = ox.Store()
    graph = ox.NamedNode(EX + "g")
    size = draw(st.integers(0, 12))
    for index in range(size):
        subject = ox.NamedNode(f"{EX}s{index}") if draw(st.booleans()) else ox.BlankNode(f"b{index}")
        value = draw(text) * draw(st.sampled_from([1, 1, 3, 700]))  # long values: rows across 8 KiB writes
        kind = draw(st.sampled_from(["plain", "lang", "typed"]))
        literal = (ox.Literal(value, language="fr") if kind == "lang" else
                   ox.Literal(value, datatype=ox.NamedNode(EX + "dt")) if kind == "typed" else ox.Literal(value))
        store.add(ox.Quad(subject, ox.NamedNode(EX + "p"), literal, graph))
        if draw(st.booleans()):
            store.add(ox.Quad(subject, ox.NamedNode(EX + "q"), ox.NamedNode(f"{EX}o{index % 3}"), graph))
    return store


QUERIES = [
    f"SELECT ?s ?o ?m WHERE {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}q> ?m }} }}",
    f"SELECT ?m WHERE {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}q> ?m }} }}",  # rows without bindings
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY DESC(STR(?o)) OFFSET 1",
    "SELECT ?o (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?o LIMIT 5",
    "SELECT DISTINCT ?p WHERE { ?s ?p ?o }",
    "SELECT ?o ?s WHERE { ?s ?p ?o } ORDER BY ?o",  # CSV records that begin with a quoted value
    "SELECT * WHERE { }",
    "SELECT ?x WHERE { VALUES ?x { 1 2 3 } }",
    f"SELECT ?t WHERE {{ ?s <{EX}p> ?o BIND(<<( ?s <{EX}p> ?o )>> AS ?t) }}",  # triple terms
    "SELECT ?s WHERE { ?s ?p ?o FILTER(false) }",  # no rows
    # the query runs as written: its own LIMIT, OFFSET, subqueries and VALUES are the engine's business
    "SELECT ?s WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } }",
    "select ?o where { ?s ?p ?o } order by ?o limit 0",
    'SELECT ?s ?o WHERE { ?s ?p ?o } OFFSET 1 VALUES ?o { "LIMIT 1" "" }',
    f"SELECT ?s WHERE {{ ?s <{EX}p> ?o FILTER(?s != <{EX}LIMIT>) }} # LIMIT 1",
]


def _rows(solutions) -> list[tuple]:
    names = [v.value for v in solutions.variables]
    # blank node labels are the serializer's own: compare them as blank nodes
    return [tuple("_:" if isinstance(t, ox.BlankNode) else t for t in (row[n] for n in names)) for row in solutions]


def _job(query: str, name: str, cap: int, graph: str | None = None) -> Job:
    return Job(directory="", query=query, solutions_format=name, graph_format=graph, row_cap=cap)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=stores(), query=st.sampled_from(QUERIES), name=st.sampled_from(["json", "xml", "tsv"]),
       slack=st.integers(-3, 2))
def test_the_first_rows_of_the_engine_and_truncated_exactly_when_more(store, query, name, slack):
    expected = _rows(store.query(query, use_default_graph_as_union=True))
    cap = max(0, len(expected) + slack)
    reply = run_job(store, _job(query, name, cap))
    assert reply.status == 200 and reply.truncated == (len(expected) > cap)
    parsed = ox.parse_query_results(reply.body, format=FORMATS[name])
    assert _rows(parsed) == expected[:cap]
    if name == "json":
        document = json.loads(reply.body)
        assert document.get("truncated", False) == reply.truncated and ("link" in document["head"]) == reply.truncated
    if name == "xml":
        assert (b"<!-- results truncated" in reply.body) == reply.truncated


def _csv_records(body: bytes) -> list[str]:
    """CSV records as text (CSV has no term types to parse back: compare the bytes of each record)."""
    records, quotes, start = [], 0, 0
    for index in range(len(body) - 1):
        quotes += body[index] == ord('"')
        if body[index:index + 2] == b"\r\n" and quotes % 2 == 0:
            records.append(body[start:index])
            start = index + 2
    return records


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=stores(), query=st.sampled_from(QUERIES), slack=st.integers(-3, 2))
def test_csv_records_are_the_engines_first_ones(store, query, slack):
    whole = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.CSV)
    records = _csv_records(whole)
    cap = max(0, len(records) - 1 + slack)
    reply = run_job(store, _job(query, "csv", cap))
    assert reply.truncated == (len(records) - 1 > cap)
    assert _csv_records(reply.body) == records[:cap + 1]  # the header and the first rows, as the engine wrote them


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(store=stores(), extension=st.sampled_from(["nt", "nq", "ttl"]), slack=st.integers(-3, 2))
def test_graphs_hold_the_first_triples(store, extension, slack):
    query = "CONSTRUCT { ?s ?p ?o . ?o ?p ?s } WHERE { ?s ?p ?o FILTER(isIRI(?o)) } "
    expected = [str(t) for t in store.query(query, use_default_graph_as_union=True)]
    cap = max(0, len(expected) + slack)
    reply = run_job(store, _job(query, None, cap, graph=extension))
    assert reply.kind == "graph" and reply.truncated == (len(expected) > cap)
    got = [str(q.triple) for q in ox.parse(reply.body, format=ox.RdfFormat.from_extension(extension))]
    assert sorted(got) == sorted(expected[:cap])


class _Chunked:
    """A result whose serializer writes the engine's bytes ``size`` bytes at a time."""

    def __init__(self, body: bytes, size: int):
        self.body, self.size = body, size

    def serialize(self, output, format):  # noqa: A002 - pyoxigraph's name
        for start in range(0, len(self.body), self.size):
            output.write(self.body[start:start + self.size])


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_wherever_the_writes_split_the_bytes(name):
    store = ox.Store()
    for index, value in enumerate(TRICKY * 2):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal(value)))
    query = f"SELECT ?s ?o ?m WHERE {{ ?s ?p ?o OPTIONAL {{ ?s <{EX}none> ?m }} }} ORDER BY ?s"
    body = store.query(query).serialize(format=FORMATS[name])
    for cap in (0, 1, 7, len(TRICKY) * 2 - 1, len(TRICKY) * 2):
        whole = serializers.capped(_Chunked(body, len(body)), name, cap)
        for size in (1, 2, 3, 5, 64):
            assert serializers.capped(_Chunked(body, size), name, cap) == whole, (cap, size)


def test_exactly_cap_rows_is_not_truncated_one_more_is():
    store = ox.Store()
    for index in range(10):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal(str(index))))
    for name in FORMATS:
        at_cap = run_job(store, _job("SELECT * WHERE { ?s ?p ?o }", name, 10))
        past_cap = run_job(store, _job("SELECT * WHERE { ?s ?p ?o }", name, 9))
        assert not at_cap.truncated and past_cap.truncated, name
    assert not run_job(store, _job("CONSTRUCT WHERE { ?s ?p ?o }", None, 10, "ttl")).truncated
    assert run_job(store, _job("CONSTRUCT WHERE { ?s ?p ?o }", None, 9, "ttl")).truncated


def test_truncation_markers():
    """A cut answer says so in the format: JSON a link in its head and a note (before the bindings, where
    streaming readers still take them), XML a comment and a link; the HTML page is sent the JSON."""
    store = ox.Store()
    for index in range(5):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal(str(index))))
    query = "SELECT ?s WHERE { ?s ?p ?o }"
    engine = json.loads(run_job(store, _job(query, "json", 3)).body)
    assert engine["head"] == {"vars": ["s"], "link": [serializers.TRUNCATION_LINK]} and engine["truncated"] is True
    assert "first 3 rows" in engine["note"] and len(engine["results"]["bindings"]) == 3
    assert run_job(store, _job(query, "html", 3)).body == run_job(store, _job(query, "json", 3)).body
    parsed = ox.parse_query_results(run_job(store, _job(query, "json", 3)).body, format=ox.QueryResultsFormat.JSON)
    assert len(list(parsed)) == 3
    xml = run_job(store, _job(query, "xml", 3)).body.decode()
    assert xml.startswith('<?xml version="1.0"?>\n<!-- results truncated to the first 3 rows (row cap of this endpoint) -->\n')
    assert f'<link href="{serializers.TRUNCATION_LINK}"/></head>' in xml


def test_csv_records_that_begin_with_a_quoted_value():
    store = ox.Store()
    for index, value in enumerate(["a\r\nb", 'q"q', ",", "plain", "x\r\n"]):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal(value)))
    query = "SELECT ?o WHERE { ?s ?p ?o } ORDER BY ?o"
    body = store.query(query).serialize(format=ox.QueryResultsFormat.CSV)
    records = _csv_records(body)
    for cap in range(6):
        for size in (1, 3, len(body)):
            cut, truncated = serializers.capped(_Chunked(body, size), "csv", cap)
            assert (_csv_records(cut), truncated) == (records[:cap + 1], cap < 5), (cap, size)


@pytest.mark.parametrize("name", ["json", "xml", "csv", "tsv"])
def test_an_answer_past_the_byte_cap_keeps_the_rows_that_fit_whole(name):
    """Past ``byte_cap`` bytes pyoxigraph is stopped: the rows that end within the cap are kept (all of
    them whole: the answer reads back), marked as cut by bytes; not one row fitting is an error."""
    store = ox.Store()
    for index in range(200):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal("v" * 1000 + "{}\r\n")))
    query = f"SELECT ?s ?o WHERE {{ ?s <{EX}p> ?o }}"
    body, cut = serializers.solutions(name, store.query(query), 10_000, 20_000)
    assert cut == serializers.Cut.BYTES and cut  # true, as a cut at the row cap
    assert len(body) <= 20_000 + 1024  # the markers are added beyond the cap
    if name == "csv":  # lossy, not read back by pyoxigraph: its records, quoted CRLFs inside
        import csv as csv_module
        import io
        rows = list(csv_module.DictReader(io.StringIO(body.decode(), newline="")))
    else:
        rows = [{"o": r["o"].value} for r in ox.parse_query_results(body, format=FORMATS[name])]
    assert 5 <= len(rows) < 200 and all(r["o"] == "v" * 1000 + "{}\r\n" for r in rows)
    whole, cut = serializers.solutions(name, store.query(query), 10_000, 1 << 30)
    assert cut == serializers.Cut.NONE and whole.count(b"v" * 1000) == 200
    with pytest.raises(serializers.AnswerTooLarge):
        serializers.solutions(name, store.query(query), 10_000, 500)


def test_a_graph_past_the_byte_cap_keeps_the_triples_that_fit():
    store = ox.Store()
    for index in range(100):
        store.add(ox.Quad(ox.NamedNode(f"{EX}s{index}"), ox.NamedNode(EX + "p"), ox.Literal("v" * 1000)))
    for extension in ("ttl", "nt", "jsonld"):
        body, cut = serializers.graph_result(extension, store.query("CONSTRUCT WHERE { ?s ?p ?o }"), 10_000, {}, 20_000)
        assert cut == serializers.Cut.BYTES and len(body) <= 20_000 + 1024, extension
        assert 5 <= len(list(ox.parse(body, format=ox.RdfFormat.from_extension(extension)))) < 100
