"""Labels of terms (ptcekb/labels.py): the batched lookup of a results table and the page-language rules."""

import pyoxigraph as ox

from ptcekb import labels

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"


def _store() -> ox.Store:
    store = ox.Store()
    g = ox.NamedNode("https://example.org/g")
    for s, p, value, lang in (
            ("a", PREF, "Région", "fr"), ("a", PREF, "Region", "en"), ("a", RDFS_LABEL, "region (rdfs)", "en"),
            ("b", RDFS_LABEL, "only English", "en"), ("c", RDFS_LABEL, "untagged", None)):
        literal = ox.Literal(value, language=lang) if lang else ox.Literal(value)
        store.add(ox.Quad(ox.NamedNode("https://example.org/" + s), ox.NamedNode(p), literal, g))
    return store


def test_one_query_gives_the_label_a_page_would_show():
    store = _store()
    iris = ["https://example.org/" + s for s in "abcd"]
    rows = list(store.query(labels.labels_query(iris), use_default_graph_as_union=True))
    for lang, expected in (("fr", {"a": "Région", "b": "only English", "c": "untagged"}),
                           ("en", {"a": "Region", "b": "only English", "c": "untagged"})):
        found = labels.best(rows, lang)
        assert found == {"https://example.org/" + k: v for k, v in expected.items()}
        labeller = labels.Labeller(store, "https://example.org/base/", lang)  # the same choice as a page's
        assert all(labeller.label(iri) == found.get(iri) for iri in iris)


def test_literals_of_the_page_language_win_and_others_get_a_badge():
    fr, en, es = (ox.Literal("PTCE de l'Aude", language="fr"), ox.Literal("Aude hub", language="en"),
                  ox.Literal("Polo del Aude", language="es"))
    number = ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert labels.in_language([fr, en, es, number], "fr") == [fr, number]
    assert labels.in_language([en, es], "fr") == [en, es]  # nothing in French: all of them, with badges
    link = labels.Labeller(ox.Store(), "https://example.org/", "fr").link(en)
    assert (link.text, link.lang) == ("Aude hub", "en")
    assert labels.Labeller(ox.Store(), "https://example.org/", "fr").link(fr).lang is None
