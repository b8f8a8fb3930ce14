"""Content negotiation (ptcekb/service/negotiation.py): Accept with q-values, ?format= and suffixes."""

from __future__ import annotations

import pytest

from ptcekb.service.negotiation import (DOCUMENT_REPRESENTATIONS, GRAPH_ALIASES, GRAPH_REPRESENTATIONS, HTML,
                                        RESULTS_ALIASES, RESULTS_REPRESENTATIONS, by_name, negotiate, parse_accept)

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def media(representation) -> str | None:
    return None if representation is None else representation.media_type


def test_parse_accept_orders_by_q_then_specificity_then_position():
    assert parse_accept("text/*;q=0.5, text/turtle, */*;q=0.1, application/ld+json") == [
        ("text/turtle", 1.0), ("application/ld+json", 1.0), ("text/*", 0.5), ("*/*", 0.1)]
    assert parse_accept(None) == parse_accept("  ") == [("*/*", 1.0)]


def test_parse_accept_skips_malformed_ranges_and_clamps_q():
    assert parse_accept("garbage, text/turtle;q=7, a/b/c, text/csv;q=x") == [("text/turtle", 1.0), ("text/csv", 0.0)]


@pytest.mark.parametrize("accept, expected", [
    (None, "text/html"),  # the server's order: HTML first for documents
    ("*/*", "text/html"),
    ("text/turtle", "text/turtle"),
    ("application/ld+json;q=0.9, text/turtle;q=0.8", "application/ld+json"),
    ("text/*, text/html;q=0", "text/turtle"),  # q=0 on the specific type excludes it
    ("application/rdf+xml;q=0.5, text/turtle;q=0.5", "text/turtle"),  # a tie goes to the server's order
    (BROWSER, "text/html"),
    ("image/png", None),
])
def test_documents(accept, expected):
    assert media(negotiate(accept, DOCUMENT_REPRESENTATIONS)) == expected


@pytest.mark.parametrize("accept, expected", [
    ("*/*", "application/sparql-results+json"),  # machines get SPARQL JSON
    (BROWSER, "text/html"),  # a browser gets the page
    ("application/json", "application/json"),
    ("text/csv;q=0.9, text/tab-separated-values", "text/tab-separated-values"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/turtle", None),
])
def test_query_results(accept, expected):
    assert media(negotiate(accept, RESULTS_REPRESENTATIONS)) == expected


def test_graphs_accept_dataset_formats_and_legacy_ntriples():
    assert media(negotiate("application/n-quads", GRAPH_REPRESENTATIONS)) == "application/n-quads"
    assert media(negotiate("text/plain", GRAPH_REPRESENTATIONS)) == "text/plain"
    assert media(negotiate("*/*", GRAPH_REPRESENTATIONS)) == "text/turtle"


@pytest.mark.parametrize("name, offers, aliases, expected", [
    ("ttl", DOCUMENT_REPRESENTATIONS, None, "text/turtle"),
    ("Turtle", DOCUMENT_REPRESENTATIONS, None, "text/turtle"),
    ("json-ld", DOCUMENT_REPRESENTATIONS, None, "application/ld+json"),
    ("text/turtle", DOCUMENT_REPRESENTATIONS, None, "text/turtle"),
    ("html", DOCUMENT_REPRESENTATIONS, None, "text/html"),
    ("json", RESULTS_REPRESENTATIONS, RESULTS_ALIASES, "application/sparql-results+json"),
    ("nquads", GRAPH_REPRESENTATIONS, GRAPH_ALIASES, "application/n-quads"),
    ("pdf", DOCUMENT_REPRESENTATIONS, None, None),
])
def test_by_name(name, offers, aliases, expected):
    found = by_name(name, offers) if aliases is None else by_name(name, offers, aliases)
    assert media(found) == expected


def test_html_is_one_representation_everywhere():
    assert HTML in DOCUMENT_REPRESENTATIONS and HTML in RESULTS_REPRESENTATIONS and HTML in GRAPH_REPRESENTATIONS
