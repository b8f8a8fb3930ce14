"""Issue 21, item 5: OWL 2 RL reasoning over what the knowledge base publishes stays sound.

An OWL RL closure (owlrl) over the ontology, the code lists, the alignments (with the RL-safe patch of
INSEE's geographic axioms, ontology/insee-geo-rl.ttl), the curated data and a sample of the COG (a few
communes with their EPCI, arrondissement, département, région and authorities, from the built store)
makes no two distinct resources one (owl:sameAs) and finds no inconsistency; INSEE's own axioms do, on
the same sample. Contradictory types are SHACL findings (Qualite-ClassesDisjointes), not OWL errors."""

from __future__ import annotations

import gzip
import time

import owlrl
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, URIRef

from conftest import ROOT, UPSTREAM
from ptcekb.namespaces import DEFAULT_BASE_IRI, PTCE
from ptcekb.validate import to_rdflib

ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")
IGEO = "http://rdf.insee.fr/def/geo#"
# Audruicq (CC de la Région d'Audruicq), Villeurbanne (Métropole de Lyon), Paris (municipal
# arrondissements), Narbonne, Mamoudzou (Mayotte)
COMMUNES = ("62051", "69266", "75056", "11262", "97611")


def _add(graph: rdflib.Graph, quads) -> None:
    for quad in quads:
        graph.add(tuple(to_rdflib(term) for term in (quad.subject, quad.predicate, quad.object)))


def cog_sample(store: ox.Store) -> rdflib.Graph:
    """The communes, every unit they are a subdivision of, and the authorities of them all."""
    values = " ".join(f"<{DEFAULT_BASE_IRI}id/commune/{code}>" for code in COMMUNES)
    graph = rdflib.Graph()
    _add(graph, store.query(f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
        GRAPH <{DEFAULT_BASE_IRI}graph/cog> {{
          VALUES ?commune {{ {values} }}
          {{ BIND(?commune AS ?unit) }} UNION {{ ?commune <{IGEO}subdivisionDe> ?unit }}
          {{ BIND(?unit AS ?s) }} UNION {{ ?s <{PTCE.administers}> ?unit }}
          ?s ?p ?o }} }}"""))
    return graph


def published(store: ox.Store, *names: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    for name in names:
        _add(graph, store.quads_for_pattern(None, None, None, ox.NamedNode(f"{DEFAULT_BASE_IRI}graph/{name}")))
    return graph


def distinct_same_as(graph: rdflib.Graph) -> list:
    return sorted((s, o) for s, o in graph.subject_objects(OWL.sameAs) if s != o)


@pytest.fixture(scope="module")
def store(built_store) -> ox.Store:
    return ox.Store.read_only(str(built_store.resolve()))


def test_the_sample_is_what_it_claims(store):
    sample = cog_sample(store)
    classes = {str(o) for o in sample.objects(None, RDF.type)}
    for cls in ("Commune", "Intercommunalite", "Arrondissement", "Departement", "Region"):
        assert IGEO + cls in classes, cls
    assert len(set(sample.subjects(URIRef(IGEO + "subdivisionDirecteDe"), None))) >= len(COMMUNES)


def test_insee_axioms_merge_territories_the_patch_does_not(store):
    """The defect the patch is for, shown on the sample: INSEE's file makes a commune's EPCI,
    arrondissement, département and région one resource; the published axioms do not."""
    upstream = cog_sample(store)
    upstream.parse(data=gzip.decompress((UPSTREAM / "vocab" / "insee" / "inseefr-ontologies_insee-geo.ttl.gz")
                                        .read_bytes()), format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(upstream)
    merged = distinct_same_as(upstream)
    assert any("/id/epci/" in str(s) and "/id/departement/" in str(o) for s, o in merged), merged[:5]

    patched = cog_sample(store)
    patched.parse(ROOT / "ontology" / "insee-geo-rl.ttl")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(patched)
    assert not distinct_same_as(patched)
    # what the patch keeps: a commune is part of its région, through transitivity
    villeurbanne = URIRef(f"{DEFAULT_BASE_IRI}id/commune/69266")
    assert (villeurbanne, URIRef("http://purl.org/dc/terms/isPartOf"), URIRef(f"{DEFAULT_BASE_IRI}id/region/84")) in patched
    assert (villeurbanne, URIRef(IGEO + "subdivisionDirecteDe"), URIRef(f"{DEFAULT_BASE_IRI}id/region/84")) not in patched


def test_owl_rl_closure_of_everything_published_with_a_cog_sample_is_sound(store):
    """Ontology, code lists, alignments (the INSEE patch among them), curated PTCEs and calls, COG
    sample: no owl:sameAs between distinct resources, no inconsistency, in under a minute."""
    graph = published(store, "ontology", "vocabularies", "alignments", "ptce", "calls") + cog_sample(store)
    size = len(graph)
    start = time.monotonic()
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    elapsed = time.monotonic() - start
    assert len(graph) > size
    assert not distinct_same_as(graph), distinct_same_as(graph)[:5]
    assert not [str(o) for o in graph.objects(None, ERROR)]
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    assert elapsed < 60, f"the closure took {elapsed:.0f} s"
    # the reasoning did its work: a project territory's parts, a commune's région
    metropole = URIRef(f"{DEFAULT_BASE_IRI}id/organisation/200046977")
    assert (metropole, RDF.type, PTCE_CLASS("CollectiviteTerritoriale")) in graph


def PTCE_CLASS(name: str) -> URIRef:
    return URIRef(str(PTCE) + name)


def test_contradictory_types_are_a_shacl_finding_not_an_owl_inconsistency():
    """The validation fixture whose Ressourcerie is typed both ESS and outside the ESS: OWL RL over it
    and the ontology is consistent; SHACL (Qualite-ClassesDisjointes) reports it (tests/test_validation.py)."""
    graph = rdflib.Graph()
    graph.parse(ROOT / "ontology" / "ptce.ttl")
    graph.parse(ROOT / "tests" / "fixtures" / "validation" / "casse-Qualite-ClassesDisjointes.ttl")
    both = [s for s in graph.subjects(RDF.type, PTCE_CLASS("EntrepriseESSDeStatut"))
            if (s, RDF.type, PTCE_CLASS("EntrepriseHorsESS")) in graph]
    assert both, "the fixture types one node with both classes"
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    assert not list(graph.objects(None, ERROR))
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    assert not list(graph.subject_objects(OWL.disjointWith))


def test_the_cardinalities_the_patch_drops_hold_in_the_cog(store):
    """Upstream's qualified cardinalities, checked on the data instead of asserted to a reasoner: each
    arrondissement lies directly in one département, each département in one région."""
    for cls, parent in (("Arrondissement", "Departement"), ("Departement", "Region")):
        rows = list(store.query(f"""SELECT ?x (COUNT(DISTINCT ?p) AS ?n) WHERE {{ GRAPH ?g {{
            ?x a <{IGEO}{cls}> . OPTIONAL {{ ?x <{IGEO}subdivisionDirecteDe> ?p . ?p a <{IGEO}{parent}> }} }} }}
            GROUP BY ?x HAVING (COUNT(DISTINCT ?p) != 1)"""))
        assert not rows, (cls, [r["x"].value for r in rows[:5]])
