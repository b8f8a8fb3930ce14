"""The data after a build: COG 2026 counts, sources on every PTCE, real facts end to end,
and the COG snapshot reproducible from Etalab's files."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from conftest import ROOT, UPSTREAM, ptcekb
from ptcekb.config import Settings
from ptcekb.ingest import BuildContext
from ptcekb.ingest.cog import commune_index
from ptcekb.ingest.ptce import SOURCE as ptce_source, commune_aliases

BASE = "https://w3id.org/ptce/"
PREFIXES = """PREFIX igeo: <http://rdf.insee.fr/def/geo#> PREFIX ptce: <https://w3id.org/ptce/def#>
PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#> PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX prov: <http://www.w3.org/ns/prov#> """


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
    assert count(store, "?x rdf:subject ?s FILTER NOT EXISTS { ?x prov:wasDerivedFrom ?src }") == 0


# The one pattern of docs/data-model.md §7: the sources of the triple (?s ?p ?o).
SOURCES_OF_A_TRIPLE = """
  { ?node rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }
  UNION { BIND(?s AS ?node) FILTER NOT EXISTS { ?other rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o } }
  ?node prov:wasDerivedFrom ?source ."""
CURATED = f"FILTER(?g IN (<{BASE}graph/ptce>, <{BASE}graph/calls>))"


def test_every_curated_triple_has_its_sources_by_one_pattern(store):
    """Every triple of graph/ptce and graph/calls finds its sources by the documented pattern, except
    the summaries (dcterms:source on a PTCE: every source of its file) and the sources' own titles."""
    total = count(store, f"GRAPH ?g {{ ?s ?p ?o }} {CURATED} BIND(CONCAT(STR(?s), STR(?p), STR(?o)) AS ?x)")
    unsourced = store.query(PREFIXES + f"""SELECT ?s ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {CURATED}
        FILTER(?p != dcterms:source) FILTER NOT EXISTS {{ ?any prov:wasDerivedFrom ?s }}
        FILTER NOT EXISTS {{ GRAPH ?g {{ {SOURCES_OF_A_TRIPLE} }} }} }} LIMIT 5""", use_default_graph_as_union=True)
    assert total > 10_000 and not list(unsourced)


def test_no_provenance_node_describes_a_triple_that_is_not_asserted(store):
    """A statement node describes exactly one triple, asserted in its graph; a value that is not
    asserted (a dated value other than the preferred one, bounds) is never on a statement node."""
    assert count(store, f"""GRAPH ?g {{ ?x rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o }} {CURATED}
        FILTER NOT EXISTS {{ GRAPH ?g {{ ?s ?p ?o }} }}""") == 0
    assert count(store, "?x rdf:subject ?s FILTER NOT EXISTS { ?x rdf:predicate ?p ; rdf:object ?o }") == 0
    assert count(store, "?x rdf:object ?a , ?b FILTER(?a != ?b)") == 0
    assert count(store, "?x rdf:predicate ?a , ?b FILTER(?a != ?b)") == 0
    assert count(store, "?x a ptce:ValeurDatee FILTER NOT EXISTS { ?x ptce:preferred true } ?x rdf:subject ?s") == 0
    assert count(store, "?x ptce:preferred true ; rdf:value ?v FILTER NOT EXISTS { ?x rdf:object ?v }") == 0


def _dated(store, subject: str, predicate: str) -> dict:
    rows = store.query(PREFIXES + f"""SELECT ?v ?date ?preferred WHERE {{ ?x ptce:valueOf <{subject}> ;
        ptce:property {predicate} ; rdf:value ?v . OPTIONAL {{ ?x dcterms:date ?date }}
        OPTIONAL {{ ?x ptce:preferred ?preferred }} }}""", use_default_graph_as_union=True)
    return {row["v"].value: (row["date"].value if row["date"] else None, row["preferred"] is not None) for row in rows}


def _direct(store, subject: str, predicate: str) -> set:
    rows = store.query(PREFIXES + f"SELECT ?v WHERE {{ <{subject}> {predicate} ?v }}", use_default_graph_as_union=True)
    return {row["v"].value for row in rows}


def test_member_counts_are_a_series_of_dated_values_with_one_preferred(store):
    """Culture et Coopération: 11 (Dec 2013), 15 (2010), 16 (undated) are a series, not a conflict;
    the direct triple holds the most recent dated one, every value stays with its date and sources."""
    ptce = f"{BASE}id/ptce/culture-et-cooperation"
    assert _dated(store, ptce, "ptce:memberCount") == {"11": ("2013-12", True), "15": ("2010", False), "16": (None, False)}
    assert _direct(store, ptce, "ptce:memberCount") == {"11"}
    assert count(store, f"<{ptce}> ptce:conflictNote ?x") == 0
    # every PTCE: one dated value per statement, at most one direct value per property
    for data in (yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "data" / "ptce").glob("*.yaml"))):
        node = f"{BASE}id/ptce/{data['slug']}"
        for key, predicate in (("members_count", "ptce:memberCount"), ("fte", "ptce:fte")):
            statements = data.get(key) or []
            assert count(store, f"?x ptce:valueOf <{node}> ; ptce:property {predicate}") == len(statements), (node, key)
            assert len(_direct(store, node, predicate)) == (1 if any("value" in s for s in statements) else 0), (node, key)
    # two undated values that differ are a disagreement, said so
    assert count(store, f"<{BASE}id/ptce/ptce-du-haut-doubs> ptce:conflictNote ?x FILTER(CONTAINS(?x, 'members_count'))") == 2  # fr, en


def test_the_ptce_dates_apart_from_its_carriers(store):
    """"2005" (the structures cooperate) is the PTCE's creation; "2010-10" is the carrier association's."""
    ptce, carrier = f"{BASE}id/ptce/culture-et-cooperation", f"{BASE}id/organisation/culture-et-cooperation"
    assert _direct(store, ptce, "ptce:creationDate") == {"2005"}
    assert _direct(store, carrier, "ptce:creationDate") == {"2010-10"}
    assert _dated(store, carrier, "ptce:creationDate") == {"2010-10": (None, True)}
    # Pôle Sud Archer: the association (1987) and the SAS (2007) are its two carriers' dates
    assert _direct(store, f"{BASE}id/ptce/pole-sud-archer", "ptce:creationDate") == {"2007-04"}
    assert _direct(store, f"{BASE}id/organisation/archer", "ptce:creationDate") == {"1987"}
    assert _direct(store, f"{BASE}id/organisation/groupe-archer", "ptce:creationDate") == {"2007"}
    assert count(store, "?x a ptce:PTCE ; ptce:conflictNote ?n FILTER(CONTAINS(?n, 'created'))") == 0


def test_a_date_given_at_two_precisions_is_no_conflict(store):
    call = f"{BASE}id/appel/aap-2013"
    assert _dated(store, call, "ptce:launchDate") == {"2013-07": (None, True), "2013": (None, False)}
    assert _direct(store, call, "ptce:launchDate") == {"2013-07"}
    assert count(store, f"<{call}> ptce:conflictNote ?x FILTER(CONTAINS(?x, 'launched'))") == 0
    assert count(store, f"<{call}> ptce:conflictNote ?x FILTER(CONTAINS(?x, '180 ; 182 ; 183'))") == 2


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


def test_the_curated_data_builds_without_warnings(tmp_path):
    """Every commune of the curated data resolves (merged and renamed communes included): the build
    has nothing to report."""
    result = ptcekb("build", "--store", str(tmp_path / "s"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("ptcekb: warning:")]
    assert not warnings, warnings


def test_unresolvable_communes_are_reported_not_guessed(tmp_path):
    """A commune the COG does not know is reported and left out, never guessed (in-process, on a copy
    of the sources with one made-up PTCE file)."""
    root = tmp_path / "sources"
    (root / "data" / "ptce").mkdir(parents=True)
    (root / "data" / "reference").mkdir()
    shutil.copy(ROOT / "data" / "calls.yaml", root / "data" / "calls.yaml")
    shutil.copy(ROOT / "data" / "reference" / "cog-2026.json.gz", root / "data" / "reference" / "cog-2026.json.gz")
    (root / "data" / "ptce" / "test-pole.yaml").write_text(
        'slug: test-pole\nsources:\n  s: {url: "https://example.org/", title: "t"}\n'
        'name:\n  - {value: "Pôle de test", sources: [s]}\n'
        'commune:\n  - {name: "Nulle-Part-sur-Rien", departement: "60", sources: [s]}\n'
        '  - {name: "La Chapelle-aux-Pots", departement: "60", sources: [s]}\n', encoding="utf-8")
    ctx = BuildContext(Settings(sources_root=root))
    triples = list(ptce_source.triples(ctx))
    assert [w for w in ctx.warnings if "Nulle-Part-sur-Rien" in w and "not found" in w], ctx.warnings
    # without data/commune-aliases.yaml, the spelling the COG does not know is reported too
    assert [w for w in ctx.warnings if "La Chapelle-aux-Pots" in w and "not found" in w], ctx.warnings
    assert not [t for t in triples if t.predicate.value.endswith("#commune")]


def test_a_spelling_the_cog_does_not_know_resolves_through_a_sourced_alias(store):
    """La Chapelle-aux-Pots (its sources' spelling) is Lachapelle-aux-Pots (60333) in the COG 2026;
    the statement keeps the sources' name in its note."""
    assert store.query(PREFIXES + f"""ASK {{ <{BASE}id/ptce/ptce-pays-de-bray> ptce:commune ?c . ?c igeo:nom "Lachapelle-aux-Pots"@fr .
        ?s rdf:subject <{BASE}id/ptce/ptce-pays-de-bray> ; rdf:predicate ptce:commune ; skos:note ?n
        FILTER(CONTAINS(?n, "La Chapelle-aux-Pots") && CONTAINS(?n, "60333")) }}""", use_default_graph_as_union=True)


# The curated YAML files themselves (no store: cheap)

def _curated_files() -> list[Path]:
    return sorted((ROOT / "data" / "ptce").glob("*.yaml")) + [ROOT / "data" / "calls.yaml", ROOT / "data" / "commune-aliases.yaml"]


def _statements(data: dict):
    """(field, statement) for every statement of a PTCE file, of each call of calls.yaml, and of the aliases."""
    units = data["calls"] if "calls" in data and isinstance(data["calls"][0], dict) and "slug" in data["calls"][0] else [data]
    for unit in units:
        for field, value in unit.items():
            if field in ("slug", "sources", "label"):
                continue
            assert isinstance(value, list), (field, value)
            for statement in value:
                yield field, statement


@pytest.mark.parametrize("path", _curated_files(), ids=lambda p: p.name)
def test_every_statement_cites_the_sources_of_its_file(path):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    sources = data.get("sources") or {}
    assert sources and all(isinstance(s, dict) and s.get("url") for s in sources.values()), "every source needs a url"
    used = set()
    for field, statement in _statements(data):
        keys = statement.get("sources")
        assert keys, f"{path.name}: a {field} statement has no source: {statement}"
        assert set(keys) <= set(sources), f"{path.name}: {field} cites {set(keys) - set(sources)}, not in the sources map"
        if "confidence" in statement:
            assert statement["confidence"] in ("high", "medium", "low"), statement
        used.update(keys)
    assert used == set(sources), f"{path.name}: sources never cited: {set(sources) - used}"


def _announced(call: dict) -> int | None:
    counts = [s["value"] for s in call.get("laureats_count") or []]
    return max(counts) if counts else None


def test_no_call_lists_more_laureates_than_it_announced():
    calls = yaml.safe_load((ROOT / "data" / "calls.yaml").read_text(encoding="utf-8"))["calls"]
    known: dict[str, set[str]] = {call["slug"]: set() for call in calls}
    for path in sorted((ROOT / "data" / "ptce").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for statement in data.get("calls") or []:
            assert statement["call"] in known, f"{path.name}: unknown call {statement['call']}"
            known[statement["call"]].add(data["slug"])
    for call in calls:
        announced = _announced(call)
        assert announced is not None, f"{call['slug']} has no announced laureats_count"
        assert len(known[call["slug"]]) <= announced, \
            f"{call['slug']}: {len(known[call['slug']])} lauréats listed for {announced} announced: {sorted(known[call['slug']])}"


def test_every_commune_of_the_curated_data_resolves():
    communes = commune_index(ROOT, commune_aliases(ROOT))
    unresolved = []
    for path in sorted((ROOT / "data" / "ptce").glob("*.yaml")):
        for statement in yaml.safe_load(path.read_text(encoding="utf-8")).get("commune") or []:
            match = communes.resolve(statement["name"], statement.get("departement"))
            if not match.code:
                unresolved.append((path.name, statement["name"], statement.get("departement"), match.candidates))
    assert not unresolved, unresolved


def test_every_code_list_value_in_the_data_is_a_declared_concept(store):
    undeclared = list(store.query(PREFIXES + f"""SELECT DISTINCT ?value WHERE {{
        GRAPH ?g {{ ?s ?p ?value }} FILTER(?g != <{BASE}graph/vocabularies>)
        FILTER(isIRI(?value) && STRSTARTS(STR(?value), "{BASE}concept/"))
        FILTER NOT EXISTS {{ GRAPH <{BASE}graph/vocabularies> {{ ?value a ?type }} }} }}""", use_default_graph_as_union=True))
    assert not undeclared, [row["value"].value for row in undeclared]
