"""What ptcekb/remote.py does to an engine's answers before pyoxigraph reads them (Virtuoso's forms)."""

from __future__ import annotations

import pyoxigraph as ox

from ptcekb.remote import RemoteStore, _blank_nodes


def test_virtuoso_blank_nodes_become_labels_and_literals_stay_as_they_are():
    body = (b'{ "head": { "link": [], "vars": ["s", "o"] }, "results": { "bindings": [\n'
            b'{ "s": { "type": "bnode", "value": "nodeID://b10246" }\t, '
            b'"o": { "type": "literal", "value": "\\"type\\": \\"bnode\\", \\"value\\": \\"nodeID://x" }} ] } }')
    (row,) = ox.parse_query_results(_blank_nodes(body), format=ox.QueryResultsFormat.JSON)
    assert row["s"] == ox.BlankNode("b10246")
    assert row["o"] == ox.Literal('"type": "bnode", "value": "nodeID://x')


def test_graphs_outside_the_base_are_not_the_knowledge_base():
    store = RemoteStore("http://127.0.0.1:1/sparql", graphs_under="https://w3id.org/ptce/")
    assert store._served("https://w3id.org/ptce/graph/cog")
    assert not store._served("https://w3id.org/ptce/graph/cog/.staging/20260101T000000")
    assert not store._served("http://www.openlinksw.com/schemas/virtrdf#")
    assert RemoteStore("http://127.0.0.1:1/sparql")._served("http://www.openlinksw.com/schemas/virtrdf#")
