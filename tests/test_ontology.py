"""The ontology: it parses, every ptce: term used anywhere is declared and documented in fr and en,
and OWL RL reasoning over the ontology and the built data finds no inconsistency."""

from __future__ import annotations

import gzip
import re

import owlrl
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, SKOS, URIRef

from conftest import ROOT, UPSTREAM
from ptcekb.namespaces import DEFAULT_BASE_IRI, ONTOLOGY_IRI, ORG, PTCE
from ptcekb.validate import to_rdflib

TERM = re.compile(r"https://w3id\.org/ptce/def#([A-Za-z][A-Za-z0-9_]*)")
PREFIXED = re.compile(r"(?<![\w/#])ptce:([A-Za-z][A-Za-z0-9_]*)")
PY_ATTRIBUTE = re.compile(r"\bPTCE\.([A-Za-z][A-Za-z0-9_]*)")
ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(ROOT / "ontology" / "ptce.ttl")
    return graph


def declared_terms(ontology: rdflib.Graph) -> set[str]:
    return {str(s)[len(str(PTCE)):] for s in ontology.subjects(RDFS.isDefinedBy, URIRef(ONTOLOGY_IRI))
            if str(s).startswith(str(PTCE))}


def test_ontology_header(ontology):
    node = URIRef(ONTOLOGY_IRI)
    assert (node, RDF.type, OWL.Ontology) in ontology
    for predicate in (OWL.versionIRI, OWL.versionInfo, URIRef("http://purl.org/dc/terms/license"),
                      URIRef("http://purl.org/dc/terms/creator"), URIRef("http://purl.org/dc/terms/source")):
        assert ontology.value(node, predicate) is not None, predicate


def test_every_term_is_labelled_and_defined_in_french_and_english(ontology):
    terms = declared_terms(ontology)
    assert {"PTCE", "EntrepriseESS", "Selection", "territory", "cooperationMode"} <= terms
    for name in sorted(terms):
        term = PTCE[name]
        for predicate in (RDFS.label, SKOS.definition):
            languages = {o.language for o in ontology.objects(term, predicate)}
            assert {"fr", "en"} <= languages, f"ptce:{name} lacks {predicate} in fr or en"


def used_terms() -> dict[str, set[str]]:
    """ptce: terms used in the repository's RDF, queries, templates and code."""
    used: dict[str, set[str]] = {}
    patterns = ["ontology/**/*.ttl", "shapes/*.ttl", "queries/**/*.rq", "ptcekb/**/*.py", "ptcekb/**/*.html",
                "tests/fixtures/**/*.ttl", "examples/**/*.csv", "docs/*.md"]
    for pattern in patterns:
        for path in ROOT.glob(pattern):
            content = path.read_text(encoding="utf-8")
            names = set(TERM.findall(content)) | set(PREFIXED.findall(content))
            if path.suffix == ".py":
                names |= set(PY_ATTRIBUTE.findall(content))
            for name in names:
                used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    return used


def test_every_used_term_is_declared(ontology):
    undeclared = {name: sorted(where) for name, where in used_terms().items() if name not in declared_terms(ontology)}
    assert not undeclared, f"undeclared ptce: terms: {undeclared}"


def test_every_term_in_the_built_data_is_declared(built_store, ontology):
    store = ox.Store.read_only(str(built_store.resolve()))
    rows = store.query(f"""SELECT DISTINCT ?t WHERE {{ GRAPH ?g {{ {{ ?s ?t ?o }} UNION {{ ?s a ?t }} }}
                            FILTER(STRSTARTS(STR(?t), "{PTCE}")) }}""")
    used = {row["t"].value[len(str(PTCE)):] for row in rows}
    assert used, "the built data uses ptce: terms"
    assert used <= declared_terms(ontology), used - declared_terms(ontology)


def _graph(store: ox.Store, name: str):
    return store.quads_for_pattern(None, None, None, ox.NamedNode(DEFAULT_BASE_IRI + "graph/" + name))


def test_owl_rl_closure_of_ontology_and_data_is_consistent(built_store):
    """owlrl over the model, the reused vocabularies and all curated data. The COG (780k triples,
    igeo: classes only) is left to the SPARQL disjointness check below: owlrl is pure Python and
    would take hours over it on this machine."""
    store = ox.Store.read_only(str(built_store.resolve()))
    graph = rdflib.Graph()
    for name in ("ontology", "vocabularies", "alignments", "ptce", "calls"):
        for quad in _graph(store, name):
            graph.add(tuple(to_rdflib(term) for term in (quad.subject, quad.predicate, quad.object)))
    # The vocabularies whose axioms bear on our classes (disjointness, domains, ranges). PROV-O and
    # FOAF are left out: their axioms touch none of our disjoint classes and make owlrl (pure
    # Python) take many minutes on this machine.
    for vocabulary in ("w3c/w3c-ns_org.ttl", "w3c/w3c-ns_regorg.ttl",
                       "eu-semic/cpov_2.1.2_voc.ttl", "insee/inseefr-ontologies_insee-geo.ttl"):
        graph.parse(data=gzip.decompress((UPSTREAM / "vocab" / f"{vocabulary}.gz").read_bytes()), format="turtle")
    size = len(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    assert len(graph) > size, "reasoning inferred something"
    errors = [str(o) for o in graph.objects(None, ERROR)]
    assert not errors, errors[:5]
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    # the closure makes sense: a PTCE is an org:Organization through org:OrganizationalCollaboration
    assert (URIRef(DEFAULT_BASE_IRI + "id/ptce/culture-et-cooperation"), RDF.type, ORG.Organization) in graph


def test_no_disjointness_is_broken_anywhere_in_the_store(built_store):
    """Over the whole store (COG included), through the subclass hierarchy."""
    store = ox.Store.read_only(str(built_store.resolve()))
    pairs = list(store.query("SELECT ?a ?b WHERE { ?a <http://www.w3.org/2002/07/owl#disjointWith> ?b }",
                             use_default_graph_as_union=True))
    assert pairs, "the ontology declares disjoint classes"
    for pair in pairs:
        clash = store.query(f"""ASK {{ ?x a/<{RDFS.subClassOf}>* <{pair['a'].value}> ;
                                        a/<{RDFS.subClassOf}>* <{pair['b'].value}> }}""", use_default_graph_as_union=True)
        assert not bool(clash), (pair["a"], pair["b"])


def test_term_labels_snapshot_is_what_the_vocabularies_publish(built_store, tmp_path):
    """ontology/term-labels.ttl regenerated from the vocabulary files (data/upstream/vocab) is the committed one."""
    from ptcekb.ingest import term_labels

    target = tmp_path / "term-labels.ttl"
    term_labels.main(["--store", str(built_store), "-o", str(target)])
    assert target.read_text(encoding="utf-8") == term_labels.SNAPSHOT.read_text(encoding="utf-8")
    assert '<http://rdf.insee.fr/def/geo#subdivisionDe> <http://www.w3.org/2000/01/rdf-schema#label> "subdivision de"@fr .' \
        in target.read_text(encoding="utf-8")


def test_every_term_a_page_shows_has_a_label_in_french_and_in_english(built_store):
    """Issue 20: French pages in French, English pages in English. The reused terms a page can show
    (used in the store, pointed to by the schema, or in VoID and the service description) all have a
    label in both languages: published by their vocabulary, or given by ontology/term-labels-local.ttl."""
    from ptcekb.ingest import term_labels

    store = ox.Store.read_only(str(built_store.resolve()))
    missing = term_labels.missing_labels(store, term_labels.used_terms(store))
    assert not missing, f"add labels to {term_labels.LOCAL.name}: {missing}"


def test_local_labels_only_add_languages_the_vocabularies_do_not_publish():
    """term-labels-local.ttl never overrides a published label: each of its (term, language) pairs is
    absent from the snapshot of what the vocabularies publish; and every line has a language tag."""
    from ptcekb.ingest import term_labels

    published = {(q.subject.value, q.object.language) for q in ox.parse(path=str(term_labels.SNAPSHOT))}
    local = list(ox.parse(path=str(term_labels.LOCAL)))
    assert local
    for quad in local:
        assert quad.predicate.value == str(RDFS.label) and quad.object.language in ("fr", "en"), quad
        assert (quad.subject.value, quad.object.language) not in published, quad
