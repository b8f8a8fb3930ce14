"""What the service reads of a query's text (ptcekb/sparql_text.py) before the engine parses it."""

from __future__ import annotations

from ptcekb.namespaces import PREFIXES
import pyoxigraph as ox
import pytest

from ptcekb.sparql_text import analyse, bind_iris, declared_prefixes, service_blocks


def test_query_form_and_dataset_clause():
    assert analyse("PREFIX x: <http://x/> SELECT * WHERE { ?s ?p ?o }").form == "SELECT"
    assert analyse("# SELECT\nask { }").form == "ASK"
    assert analyse("CONSTRUCT WHERE { ?s ?p ?o }").form == "CONSTRUCT"
    assert analyse("SELECT * FROM <http://g> { ?s ?p ?o }").has_dataset_clause
    assert not analyse('SELECT * { ?s ?p "FROM" }').has_dataset_clause


def test_only_the_default_prefixes_a_query_uses_and_does_not_declare():
    analysis = analyse("PREFIX org: <http://example.org/mine#> SELECT * { ?x a ptce:PTCE ; org:memberOf ?y }")
    assert analysis.default_prefixes() == {"ptce": PREFIXES["ptce"]}
    assert analyse("SELECT * { ?x a <http://x/ptce:PTCE> }").default_prefixes() == {}
    assert analyse('SELECT * { ?x ?p "skos:Concept" } # rdfs:label').default_prefixes() == {}
    assert analyse("SELECT * { ?x a nope:Thing }").default_prefixes() == {}  # not ours: the engine reports it


def test_nesting_counts_braces_parentheses_and_brackets():
    assert analyse("ASK { { { ?s ?p [ ?q ( 1 2 ) ] } } }").nesting == 5
    assert analyse('ASK { ?s ?p "{{{{{{" }').nesting == 1


def test_service_targets_are_read_with_the_declared_prefixes():
    analysis = analyse("PREFIX wd: <https://query.wikidata.org/> SELECT * { SERVICE SILENT wd:sparql { ?s ?p ?o } "
                       "SERVICE <http://b/sparql> { } SERVICE ?endpoint { } }")
    assert analysis.services == ["https://query.wikidata.org/sparql", "http://b/sparql", None]
    assert analyse("LOAD <http://a/file.ttl> INTO GRAPH <http://g>").loads == ["http://a/file.ttl"]
    assert analyse('SELECT * { ?s ?p "SERVICE <http://a> {}" }').services == []


def test_service_blocks_are_the_outermost_ones_with_their_pattern():
    text = "SELECT * { ?s ?p ?o SERVICE <http://a/q> { ?s ?q ?r SERVICE <http://b/q> { ?r ?x ?y } } }"
    (block,) = service_blocks(text)
    assert block.endpoint == "http://a/q" and not block.silent
    assert text[block.start:block.end].startswith("SERVICE <http://a/q>")
    assert block.pattern == "{ ?s ?q ?r SERVICE <http://b/q> { ?r ?x ?y } }"


def test_declared_prefixes():
    assert declared_prefixes("PREFIX a: <http://a/> prefix : <http://b/> SELECT * {}") == {"a": "http://a/", "": "http://b/"}


def test_bound_iris_replace_variables_only_and_the_engine_reads_the_same_query():
    text = 'SELECT ?p WHERE { $this ?p "$this" . ?s <http://x/$this> ?thisToo # $this\n FILTER(?o != ?this) }'
    bound = bind_iris(text, {"this": "http://example.org/a"})
    assert bound == ('SELECT ?p WHERE { <http://example.org/a> ?p "$this" . ?s <http://x/$this> ?thisToo # $this\n'
                     ' FILTER(?o != <http://example.org/a>) }')
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("http://example.org/a"), ox.NamedNode("http://x/$this"), ox.Literal("$this")))
    assert [s["p"].value for s in store.query(bind_iris('SELECT ?p { $this ?p "$this" }', {"this": "http://example.org/a"}))] \
        == ["http://x/$this"]


@pytest.mark.parametrize("iri", ["http://a> } DROP ALL #", "http://a b", "no-scheme", "http://a/\"x"])
def test_a_value_that_is_not_an_iri_is_never_written_into_a_query(iri):
    with pytest.raises(ValueError):
        bind_iris("SELECT * { $this ?p ?o }", {"this": iri})
