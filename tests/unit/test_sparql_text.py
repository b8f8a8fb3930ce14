"""What the service reads of a query's text (ptcekb/sparql_text.py) before the engine parses it."""

from __future__ import annotations

from ptcekb.namespaces import PREFIXES
from ptcekb.sparql_text import analyse, declared_prefixes, service_blocks


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
