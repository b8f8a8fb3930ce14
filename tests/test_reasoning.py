"""Issue 21, item 5: OWL 2 RL reasoning over what the knowledge base publishes stays sound.

An OWL RL closure (owlrl) over the ontology, the code lists, the alignments (with the RL-safe patch of
INSEE's geographic axioms, ontology/insee-geo-rl.ttl), the curated data and a sample of the COG (a few
communes with their EPCI, arrondissement, département, région and authorities, from the built store)
makes no two distinct resources one (owl:sameAs) and finds no inconsistency; INSEE's own axioms do, on
one commune and the units it lies in (the smallest sample that shows it, so the control stays fast). Contradictory types are SHACL findings (Qualite-ClassesDisjointes), not OWL errors."""

from __future__ import annotations

import gzip

import owlrl
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import OWL, RDF, URIRef

from conftest import ROOT, UPSTREAM
from ptcekb.namespaces import DEFAULT_BASE_IRI, PTCE
from ptcekb.validate import to_rdflib

DCTERMS_IS_PART_OF = URIRef("http://purl.org/dc/terms/isPartOf")
DCTERMS_HAS_PART = URIRef("http://purl.org/dc/terms/hasPart")
XSD = "http://www.w3.org/2001/XMLSchema#"
ERROR = URIRef("http://www.daml.org/2002/03/agents/agent-ont#error")
IGEO = "http://rdf.insee.fr/def/geo#"
# Audruicq (CC de la Région d'Audruicq), Villeurbanne (Métropole de Lyon), Paris (municipal
# arrondissements), Narbonne, Mamoudzou (Mayotte)
COMMUNES = ("62051", "69266", "75056", "11262", "97611")


def _add(graph: rdflib.Graph, quads) -> None:
    for quad in quads:
        graph.add(tuple(to_rdflib(term) for term in (quad.subject, quad.predicate, quad.object)))


def cog_sample(store: ox.Store, communes=COMMUNES, predicates=None, authorities: bool = True) -> rdflib.Graph:
    """The communes, every unit they are a subdivision of, and (``authorities``) the authorities of them
    all; with ``predicates``, only those of their triples. The resources are found by one query with property
    paths, then read triple by triple: a CONSTRUCT joining ``?s ?p ?o`` to a UNION of BINDs took minutes."""
    values = " ".join(f"<{DEFAULT_BASE_IRI}id/commune/{code}>" for code in communes)
    cog = ox.NamedNode(f"{DEFAULT_BASE_IRI}graph/cog")
    resources = [row["s"] for row in store.query(f"""SELECT DISTINCT ?s WHERE {{ GRAPH {cog} {{
        VALUES ?commune {{ {values} }}
        ?commune <{IGEO}subdivisionDe>? ?unit .
        {f"?s <{PTCE.administers}>? ?unit" if authorities else "BIND(?unit AS ?s)"} }} }}""")]
    graph = rdflib.Graph()
    for resource in resources:
        for predicate in predicates or (None,):
            _add(graph, store.quads_for_pattern(resource, predicate and ox.NamedNode(predicate), None, cog))
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


# The control: one commune (Audruicq) and the units it lies in, their types and direct subdivisions
# only (six subdivisionDirecteDe triples, no authority). INSEE's axioms merge them in seconds; over the
# whole sample, owlrl spends minutes propagating owl:sameAs between the merged units.
CONTROL = ("62051",)
CONTROL_PREDICATES = (str(RDF.type), IGEO + "subdivisionDirecteDe")


def test_insee_axioms_merge_territories_the_patch_does_not(store):
    """The defect the patch is for, shown on the smallest sample that shows it: INSEE's file makes a
    commune's EPCI, arrondissement, département and région one resource; the published axioms do not."""
    upstream = cog_sample(store, CONTROL, CONTROL_PREDICATES, authorities=False)
    assert len(set(upstream.subject_objects(URIRef(IGEO + "subdivisionDirecteDe")))) == 4  # 2 from the commune
    upstream.parse(data=gzip.decompress((UPSTREAM / "vocab" / "insee" / "inseefr-ontologies_insee-geo.ttl.gz")
                                        .read_bytes()), format="turtle")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(upstream)
    merged = distinct_same_as(upstream)
    epci, departement = URIRef(f"{DEFAULT_BASE_IRI}id/epci/200072460"), URIRef(f"{DEFAULT_BASE_IRI}id/departement/62")
    assert (epci, departement) in merged, merged[:5]

    patched = cog_sample(store, CONTROL, CONTROL_PREDICATES, authorities=False)
    patched.parse(ROOT / "ontology" / "insee-geo-rl.ttl")
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(patched)
    assert not distinct_same_as(patched)
    # what the patch keeps: a commune is part of its région, through transitivity; not a direct subdivision
    audruicq, region = URIRef(f"{DEFAULT_BASE_IRI}id/commune/62051"), URIRef(f"{DEFAULT_BASE_IRI}id/region/32")
    assert (audruicq, DCTERMS_IS_PART_OF, region) in patched
    assert (audruicq, URIRef(IGEO + "subdivisionDirecteDe"), region) not in patched


def test_owl_rl_closure_of_everything_published_with_a_cog_sample_is_sound(store):
    """Ontology, code lists, alignments (the INSEE patch among them), curated PTCEs and calls, COG
    sample: no owl:sameAs between distinct resources, no inconsistency. Its duration (about half a
    minute) is reported by `make test`'s slowest-tests list, never asserted: the machine is shared."""
    graph = published(store, "ontology", "vocabularies", "alignments", "ptce", "calls") + cog_sample(store)
    graph.add((EXAMPLE_TERRITORY, PTCE_CLASS("comprisesArea"), URIRef(f"{DEFAULT_BASE_IRI}id/commune/69266")))
    size = len(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    assert len(graph) > size
    assert not distinct_same_as(graph), distinct_same_as(graph)[:5]
    assert not [str(o) for o in graph.objects(None, ERROR)]
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    # the reasoning did its work: a commune lies within its région (subdivisionDe, transitive, ⊑
    # dcterms:isPartOf); what a project territory comprises are its parts (comprisesArea ⊑ dcterms:hasPart)
    villeurbanne = URIRef(f"{DEFAULT_BASE_IRI}id/commune/69266")
    assert (villeurbanne, DCTERMS_IS_PART_OF, URIRef(f"{DEFAULT_BASE_IRI}id/region/84")) in graph
    # (the curated sources place territories within départements or régions and name no unit one wholly
    # comprises: a fictional territory of the example namespace, added before the closure, does)
    assert (EXAMPLE_TERRITORY, DCTERMS_HAS_PART, villeurbanne) in graph
    assert all((s, DCTERMS_HAS_PART, o) in graph for s, o in graph.subject_objects(PTCE_CLASS("comprisesArea")))
    within = list(graph.subject_objects(PTCE_CLASS("withinArea")))
    assert within, "the curated data place project territories within their départements or régions"
    assert all((s, DCTERMS_IS_PART_OF, o) in graph for s, o in within)
    # and no class a reasoner adds contradicts the Métropole de Lyon's authority being a collectivité
    metropole = URIRef(f"{DEFAULT_BASE_IRI}id/organisation/200046977")
    assert (metropole, RDF.type, PTCE_CLASS("CollectiviteTerritoriale")) in graph
    assert (metropole, RDF.type, PTCE_CLASS("GroupementDeCollectivites")) not in graph


EXAMPLE_TERRITORY = URIRef("https://example.org/ptce-demo/id/ptce/pole-fictif#territoire")  # fictional


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
    assert not list(graph.subject_objects(OWL.disjointWith)), "the ontology declares ptce:incompatibleClass instead"
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(graph)
    assert not list(graph.objects(None, ERROR))
    assert not list(graph.subjects(RDF.type, OWL.Nothing))
    # owlrl's own datatype axioms (xsd:boolean owl:disjointWith xsd:decimal...) aside, no class is disjoint
    assert not [pair for pair in graph.subject_objects(OWL.disjointWith) if not str(pair[0]).startswith(XSD)]


def test_the_cardinalities_the_patch_drops_hold_in_the_cog(store):
    """Upstream's qualified cardinalities, checked on the data instead of asserted to a reasoner: each
    arrondissement lies directly in one département, each département in one région."""
    for cls, parent in (("Arrondissement", "Departement"), ("Departement", "Region")):
        rows = list(store.query(f"""SELECT ?x (COUNT(DISTINCT ?p) AS ?n) WHERE {{ GRAPH ?g {{
            ?x a <{IGEO}{cls}> . OPTIONAL {{ ?x <{IGEO}subdivisionDirecteDe> ?p . ?p a <{IGEO}{parent}> }} }} }}
            GROUP BY ?x HAVING (COUNT(DISTINCT ?p) != 1)"""))
        assert not rows, (cls, [r["x"].value for r in rows[:5]])
