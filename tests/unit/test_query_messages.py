"""The command line's queries (ptcekb/query.py): the endpoint's default prefixes and readable errors."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from ptcekb.errors import UserError
from ptcekb.messages import syntax_error_message
from ptcekb.query import execute, readable_term


@pytest.fixture(scope="module")
def store() -> ox.Store:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://w3id.org/ptce/id/ptce/x"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      ox.NamedNode("https://w3id.org/ptce/def#PTCE"), ox.NamedNode("https://w3id.org/ptce/graph/ptce")))
    return store


def test_the_default_prefixes_of_the_endpoint_apply(store):
    (row,) = execute(store, "SELECT (COUNT(?x) AS ?n) WHERE { ?x a ptce:PTCE }")
    assert row["n"].value == "1"
    # a query's own declaration wins
    (row,) = execute(store, "PREFIX ptce: <http://other/> SELECT (COUNT(?x) AS ?n) WHERE { ?x a ptce:PTCE }")
    assert row["n"].value == "0"


def error_for(store, query: str) -> str:
    with pytest.raises(UserError) as caught:
        execute(store, query)
    assert caught.value.exit_code == 2
    return str(caught.value)


def test_an_undeclared_prefix_is_named(store):
    message = error_for(store, "SELECT * WHERE { ?x a nope:Thing }")
    assert "line 1, column" in message and "'nope:'" in message and "PREFIX nope:" in message
    assert "\\u{" not in message and "['" not in message


def test_what_was_expected_is_said_in_words(store):
    message = error_for(store, "SELECT * WHERE {\n  ?s ?p ?o } LIMIT ten")
    assert message.startswith("SPARQL syntax error at line 2, column")
    assert "near «ten»" in message and "a digit" in message and "OFFSET" in message
    assert "\n" not in message and len(message) < 400


def test_an_unknown_engine_message_is_kept_on_one_line():
    assert syntax_error_message("something\nelse", "") == "SPARQL syntax error: something else"


def test_readable_terms_for_tables():
    assert readable_term(ox.NamedNode("https://w3id.org/ptce/def#PTCE")) == "ptce:PTCE"
    assert readable_term(ox.NamedNode("http://example.org/a/b")) == "<http://example.org/a/b>"
    assert readable_term(ox.Literal("Lyon", language="fr")) == "Lyon@fr" and readable_term(None) == ""


def test_a_remote_engines_refusal_reads_as_a_local_one():
    """The remote store sends the query behind a prologue of PREFIX lines: lines are counted in the client's query."""
    from ptcekb.remote import _in_the_query

    engine = "the remote store refused the request: error at 3:20: expected one of Prefix not found, ['%']"
    message = syntax_error_message(_in_the_query(engine, 2), "ASK { ?r a nowhere:Region }")
    assert message.startswith("SPARQL syntax error at line 1, column 20") and "'nowhere:' is not declared" in message
    assert _in_the_query("something else", 2) == "something else"
