"""The data after a build: COG 2026 counts, sources on every PTCE, real facts end to end,
and the COG snapshot reproducible from Etalab's files."""

from __future__ import annotations

import gzip
import json

import pyoxigraph as ox
import pytest

from conftest import ROOT, UPSTREAM, ptcekb

BASE = "https://w3id.org/ptce/"
PREFIXES = """PREFIX igeo: <http://rdf.insee.fr/def/geo#> PREFIX ptce: <https://w3id.org/ptce/def#>
PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> """


@pytest.fixture(scope="module")
def store(built_store) -> ox.Store:
    return ox.Store.read_only(str(built_store.resolve()))


def count(store: ox.Store, where: str) -> int:
    (row,) = store.query(PREFIXES + f"SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ {where} }}", use_default_graph_as_union=True)
    return int(row["n"].value)


def upstream(name: str) -> list[dict]:
    with gzip.open(UPSTREAM / "cog-2026" / f"{name}.json.gz", "rt", encoding="utf-8") as stream:
        return json.load(stream)


def test_cog_2026_counts_match_the_upstream_files(store):
    communes = upstream("communes")
    assert count(store, "?x a igeo:Commune") == sum(c["type"] == "commune-actuelle" for c in communes)
    assert count(store, "?x a igeo:CommuneDeleguee") == sum(c["type"] == "commune-deleguee" for c in communes)
    assert count(store, "?x a igeo:ArrondissementMunicipal") == sum(c["type"] == "arrondissement-municipal" for c in communes)
    assert count(store, "?x a igeo:Intercommunalite") == len(upstream("epci")) + len(upstream("ept"))
    assert count(store, "?x a igeo:Arrondissement") == len(upstream("arrondissements"))
    assert count(store, "?x a igeo:Departement") == sum(d["zone"] != "com" for d in upstream("departements")) == 101
    assert count(store, "?x a igeo:Region") == sum(r["zone"] != "com" for r in upstream("regions")) == 18
    assert count(store, "?x ptce:millesime ?v FILTER(STR(?v) != '2026')") == 0


def test_epci_members_and_local_authorities(store):
    epci = upstream("epci")[0]
    members = {f"{BASE}id/commune/{m['code']}" for m in epci["membres"]}
    rows = store.query(PREFIXES + f"SELECT ?c WHERE {{ ?c igeo:subdivisionDirecteDe <{BASE}id/epci/{epci['code']}> }}",
                       use_default_graph_as_union=True)
    assert {row["c"].value for row in rows} == members
    commune = upstream("communes")[0]
    assert store.query(PREFIXES + f"""ASK {{ <{BASE}id/organisation/{commune['siren']}> ptce:administers
        <{BASE}id/commune/{commune['code']}> ; ptce:siren "{commune['siren']}" ; wdt:P1616 "{commune['siren']}" ;
        rdfs:seeAlso <https://annuaire-entreprises.data.gouv.fr/entreprise/{commune['siren']}> .
        <{BASE}id/commune/{commune['code']}> wdt:P374 "{commune['code']}" ; ptce:codePostal "{commune['codesPostaux'][0]}" ;
        ptce:populationMunicipale {commune['population']} }}""", use_default_graph_as_union=True)


def test_every_ptce_has_a_source(store):
    assert count(store, "?x a ptce:PTCE") == len(list((ROOT / "data" / "ptce").glob("*.yaml")))
    assert count(store, "?x a ptce:PTCE FILTER NOT EXISTS { ?x dcterms:source ?s }") == 0
    assert count(store, "?x a rdf:Statement FILTER NOT EXISTS { ?x dcterms:source ?s }") == 0


def test_a_real_ptce_down_to_its_region(store):
    """Culture et Coopération (sources: Labo de l'ESS, juanico.fr): Saint-Étienne, Loire, Auvergne-Rhône-Alpes."""
    rows = list(store.query(PREFIXES + f"""SELECT ?commune ?dep ?reg WHERE {{
        <{BASE}id/ptce/culture-et-cooperation> ptce:commune ?c .
        ?c igeo:nom ?commune ; igeo:subdivisionDe ?d, ?r . ?d a igeo:Departement ; igeo:nom ?dep .
        ?r a igeo:Region ; igeo:nom ?reg }}""", use_default_graph_as_union=True))
    assert [(r["commune"].value, r["dep"].value, r["reg"].value) for r in rows] == [("Saint-Étienne", "Loire", "Auvergne-Rhône-Alpes")]


def test_a_former_commune_resolves_to_the_commune_that_absorbed_it(store):
    assert store.query(PREFIXES + f"""ASK {{ <{BASE}id/ptce/ptce-culture-a-montaigu> ptce:commune ?c . ?c igeo:nom "Montaigu-Vendée"@fr .
        ?s rdf:subject <{BASE}id/ptce/ptce-culture-a-montaigu> ; rdf:predicate ptce:commune ; skos:note ?n FILTER(CONTAINS(?n, "85146")) }}""",
                       use_default_graph_as_union=True)


def test_the_snapshot_is_regenerated_identically(tmp_path):
    output = tmp_path / "cog.json.gz"
    result = ptcekb("ingest", "cog", "-o", str(output))  # from the gzipped upstream copy, by default
    assert result.returncode == 0, result.stderr
    assert output.read_bytes() == (ROOT / "data" / "reference" / "cog-2026.json.gz").read_bytes()


def test_unresolvable_communes_are_reported_not_guessed(tmp_path):
    result = ptcekb("build", "--store", str(tmp_path / "s"))
    assert result.returncode == 0
    warnings = [line for line in result.stderr.splitlines() if line.startswith("ptcekb: warning:")]
    assert any("La Chapelle-aux-Pots" in w and "not found" in w for w in warnings), warnings


def test_every_code_list_value_in_the_data_is_a_declared_concept(store):
    undeclared = list(store.query(PREFIXES + f"""SELECT DISTINCT ?value WHERE {{
        GRAPH ?g {{ ?s ?p ?value }} FILTER(?g != <{BASE}graph/vocabularies>)
        FILTER(isIRI(?value) && STRSTARTS(STR(?value), "{BASE}concept/"))
        FILTER NOT EXISTS {{ GRAPH <{BASE}graph/vocabularies> {{ ?value a ?type }} }} }}""", use_default_graph_as_union=True))
    assert not undeclared, [row["value"].value for row in undeclared]
