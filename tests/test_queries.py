"""The competency questions in queries/: each states its question in French and English, and gives
the answer the curated sources imply (computed here independently from the YAML files)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from conftest import ROOT
from ptcekb.ingest.cog import commune_index, load_snapshot

QUERIES = ROOT / "queries"
BASE = "https://w3id.org/ptce/"


def curated() -> list[dict]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "data" / "ptce").glob("*.yaml"))]


def run(store: ox.Store, name: str) -> list[dict]:
    result = store.query((QUERIES / name).read_text(encoding="utf-8"), use_default_graph_as_union=True)
    return [{v.value: (row[v.value].value if row[v.value] is not None else None) for v in result.variables} for row in result]


@pytest.fixture(scope="module")
def store(built_store) -> ox.Store:
    return ox.Store.read_only(str(built_store.resolve()))


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)  # federated/: test_federation.py
def test_each_query_states_its_question_in_both_languages_and_parses(path: Path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# FR: ") and lines[0].endswith("?"), lines[0]
    assert lines[1].startswith("# EN: ") and lines[1].endswith("?"), lines[1]
    ox.Store().query(path.read_text(encoding="utf-8"))  # raises SyntaxError if invalid


# -- complete answers: every column filled, except those a question leaves empty by design --------

# Columns a question may leave empty by design: each query says so in its comment, in a line
# "# Optional columns: ?a ?b (why)"; every other column must be filled on every row.
OPTIONAL_COLUMNS = {
    "appels-a-projets.rq": {"lancement", "budget"},
    "etp-par-ptce.rq": {"etpTotal", "etpAnimation"},
    "mix-de-financement.rq": {"annee", "total", "partTotale"},
    "effectifs-dans-le-temps.rq": {"date"},
    "sources-des-affirmations.rq": {"confidence"},
    "sources-d-un-fait.rq": {"confiance", "note"},
}
# Questions no curated source answers yet (SIRENE establishments, members, the characterisation
# grid's strategy and resources): their header says which source fills them ("# Filled by: ..."),
# and they are asked on the template's fictional example (fixture ``example``) instead.
ANSWERED_BY_OTHER_SOURCES = {p.name for p in QUERIES.glob("*.rq") if "\n# Filled by: " in p.read_text(encoding="utf-8")}


def declared_optional(path: Path) -> set[str]:
    text = re.sub(r"\n# (?!FR: |EN: |Optional columns: )", " ", path.read_text(encoding="utf-8"))  # join continued lines
    found = re.search(r"^# Optional columns: ((?:\?\w+ ?)+)", text, re.MULTILINE)
    return set(found.group(1).replace("?", "").split()) if found else set()


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_every_column_of_every_answer_is_filled(path: Path, store, example):
    assert declared_optional(path) == OPTIONAL_COLUMNS.get(path.name, set()), "the query's comment and this test disagree"
    curated_rows, example_rows = run(store, path.name), run(example, path.name)
    rows = example_rows if path.name in ANSWERED_BY_OTHER_SOURCES else curated_rows
    assert rows, "no answer" + ("" if path.name in ANSWERED_BY_OTHER_SOURCES else " on the curated data, and no '# Filled by:' line")
    columns = list(rows[0])
    for column in columns:
        filled = [row for row in curated_rows + example_rows if row[column] not in (None, "")]
        if column in OPTIONAL_COLUMNS.get(path.name, set()):
            assert filled, f"?{column} is empty on every row"
        else:
            assert len(filled) == len(curated_rows) + len(example_rows), f"?{column} is empty on some rows"


def _label(store: ox.Store, concept: str) -> str:
    (row,) = store.query(f'SELECT ?l WHERE {{ <{concept}> <http://www.w3.org/2004/02/skos/core#prefLabel> ?l '
                         f'FILTER(LANG(?l) = "fr") }}', use_default_graph_as_union=True)
    return row["l"].value


def test_carriers_and_members_by_actor_type_with_their_names(store):
    """Every curated carrier and member, from what its sources state: a carrier's type follows from its
    legal form (association and cooperatives: ESS by statute) or its stated category, or says it is not
    documented; a member's from its category or type; a local authority is the COG's intercommunality.
    Its name, or a label saying it is not given; its role from the roles code list."""
    from ptcekb.ingest.ptce import MEMBER_ROLES

    types = BASE + "concept/types-acteurs/"
    by_category = {"ess-statute": "entreprise-ess-de-statut", "ess-qualification": "societe-commerciale-ess",
                   "outside-ess": "entreprise-hors-ess"}
    undocumented = "type non documenté par les sources"
    carrier_role = _label(store, BASE + "concept/roles/structure-porteuse")
    expected, authorities = set(), 0
    for ptce in curated():
        node, ptce_name = BASE + "id/ptce/" + ptce["slug"], ptce["name"][0]["value"]
        for carrier in ptce.get("carrier", []) + [m for m in ptce.get("members", []) if m["role"] == "carrier"]:
            form = carrier.get("legal_form")
            kind = (_label(store, types + "entreprise-ess-de-statut")
                    if form in {"association", "cooperative", "scic", "scop"} or carrier.get("category") == "ess-statute"
                    # a territorial authority is the COG's: its class says it is a grouping (an EPCI)
                    else _label(store, types + "groupement-collectivites") if form == "collectivite"
                    else undocumented)
            name = carrier.get("name") or f"structure porteuse de {ptce_name} (nom non donné par les sources)"
            authorities += form == "collectivite"
            expected.add((node, kind, carrier_role, None if form == "collectivite" else name))
        for member in (m for m in ptce.get("members", []) if m["role"] != "carrier"):
            code = member.get("type") or by_category.get(member.get("category"))
            cog = member["role"] == "local-authority" and not code
            kind = _label(store, types + (code or "groupement-collectivites")) if code or cog else undocumented
            authorities += cog
            expected.add((node, kind, _label(store, BASE + "concept/roles/" + MEMBER_ROLES[member["role"]]),
                          None if cog else member["name"]))
    answer = run(store, "membres-par-type-et-role.rq")
    # the COG's authorities carry the COG's name (CA du Pays de Grasse), not the sources' spelling
    assert sum(1 for row in answer if row["membre"].startswith(BASE + "id/organisation/")) == authorities
    assert {(row["ptce"], row["type"], row["role"], None if row["membre"].startswith(BASE + "id/organisation/") else row["nom"])
            for row in answer} == expected
    assert any(m for p in curated() for m in p.get("members", [])), "the curated data name members"


def test_at_least_ten_competency_questions():
    assert len(list(QUERIES.glob("*.rq"))) >= 10


def test_ptces_per_region(store):
    snapshot = load_snapshot(ROOT / "data" / "reference" / "cog-2026.json.gz")
    region_of_departement = {d["code"]: d["region"] for d in snapshot["departements"]}
    index = commune_index(ROOT)
    expected: Counter = Counter()
    for ptce in curated():
        regions = {s["code"] for s in ptce.get("region", [])}
        regions |= {region_of_departement[s["code"]] for s in ptce.get("departement", [])}
        for s in ptce.get("commune", []):
            match = index.resolve(s["name"], s.get("departement"))
            if match.code:
                regions.add(index.communes[match.code]["region"])
        expected.update(regions)
    answer = {row["code"]: int(row["ptces"]) for row in run(store, "ptce-par-region.rq")}
    assert answer == dict(expected)


def test_laureats_of_the_2013_call(store):
    expected = {p["name"][0]["value"] for p in curated() if any(c["call"] == "aap-2013" for c in p.get("calls", []))}
    answer = run(store, "laureats-appel.rq")
    assert {row["nom"] for row in answer} == expected
    assert all(row["date"] == "2014-01-10" for row in answer)
    assert {row["confiance"] for row in answer} <= {"high", "medium", "low"}


def test_ptces_whose_territory_contains_a_commune(store):
    """Romans-sur-Isère: no curated territory comprises it (they lie within départements), the seat of
    Pôle Sud (Archer) is there."""
    index = commune_index(ROOT)
    expected = {(BASE + "id/ptce/" + p["slug"], "implantation") for p in curated()
                if "26281" in {index.resolve(s["name"], s.get("departement")).code for s in p.get("commune", [])}}
    answer = {(row["ptce"], row["relation"]) for row in run(store, "ptce-contenant-commune.rq")}
    assert answer == expected and expected


def containing(store, code: str) -> dict[str, set]:
    text = (QUERIES / "ptce-contenant-commune.rq").read_text(encoding="utf-8").replace('"26281"', f'"{code}"')
    found: dict[str, set] = {}
    for row in store.query(text, use_default_graph_as_union=True):
        found.setdefault(row["ptce"].value.rsplit("/", 1)[-1], set()).add(row["relation"].value)
    return found


def test_a_territory_within_a_departement_does_not_contain_its_communes(store):
    """3-EVA's territory (Haute Vallée de l'Aude) lies within the Aude: Narbonne (11262) is not in it;
    the Audruicq territory lies within the Pas-de-Calais, which it does not comprise (Arras, 62041)."""
    assert "3-eva" not in containing(store, "11262")
    assert "ecopole-alimentaire-de-la-region-d-audruicq" not in containing(store, "62041")
    territory = BASE + "id/ptce/ecopole-alimentaire-de-la-region-d-audruicq#territoire"
    pas_de_calais = BASE + "id/departement/62"
    assert store.query(f"ASK {{ <{territory}> <{BASE}def#withinArea> <{pas_de_calais}> }}", use_default_graph_as_union=True)
    assert not store.query(f"ASK {{ <{territory}> <{BASE}def#comprisesArea> ?unit }}", use_default_graph_as_union=True)
    # both ways: what a territory comprises is in it; a territory within a unit is in that unit's région
    assert containing(store, "26281") == {"pole-sud-archer": {"implantation"}}


def test_territory_relations_follow_the_sources(store):
    """Every unit a curated territory names is placed by the relation its statement gives; no bare
    dcterms:spatial, no ptce:comprisesArea to a unit that contains the territory."""
    expected = set()
    relations = {"within": "withinArea", "overlaps": "overlapsArea", "comprises": "comprisesArea"}
    for p in curated():
        for s in p.get("territory", []):
            for kind, key in (("departement", "departements"), ("region", "regions")):
                for code in s.get(key) or []:
                    expected.add((BASE + "id/ptce/" + p["slug"] + "#territoire", BASE + "def#" + relations[s["relation"]],
                                  BASE + f"id/{kind}/{code}"))
    answer = {(r["t"].value, r["p"].value, r["u"].value) for r in store.query(
        f"""SELECT ?t ?p ?u WHERE {{ GRAPH <{BASE}graph/ptce> {{ ?t ?p ?u
            FILTER(?p IN (<{BASE}def#withinArea>, <{BASE}def#overlapsArea>, <{BASE}def#comprisesArea>)) }} }}""")}
    assert answer == expected and expected
    assert not store.query(f"ASK {{ GRAPH <{BASE}graph/ptce> {{ ?s <http://purl.org/dc/terms/spatial> ?o }} }}")
    ardaines = BASE + "id/ptce/ardaines#territoire"
    assert (ardaines, BASE + "def#withinArea", BASE + "id/departement/08") in answer


def test_areas_the_sources_only_name_are_no_territory(store):
    """A PTCE whose sources name only a région or a département: ptce:mentionedArea, no ptce:territory."""
    only_named = [p for p in curated() if not p.get("territory") and (p.get("region") or p.get("departement"))]
    assert only_named
    for p in only_named:
        node = BASE + "id/ptce/" + p["slug"]
        assert not store.query(f"ASK {{ <{node}> <{BASE}def#territory> ?t }}", use_default_graph_as_union=True)
        named = {r["a"].value for r in store.query(f"SELECT ?a WHERE {{ <{node}> <{BASE}def#mentionedArea> ?a }}",
                                                   use_default_graph_as_union=True)}
        assert named == {BASE + f"id/{k}/{s['code']}" for k in ("region", "departement") for s in p.get(k, [])}


def test_carriers_registered_only_with_a_siren_and_the_cog_authority_reused(store):
    rows = list(store.query(f"""SELECT ?c ?registered ?formal ?siren WHERE {{ ?p <{BASE}def#carrier> ?c
        BIND(EXISTS {{ ?c a <http://www.w3.org/ns/regorg#RegisteredOrganization> }} AS ?registered)
        BIND(EXISTS {{ ?c a <http://www.w3.org/ns/org#FormalOrganization> }} AS ?formal)
        OPTIONAL {{ ?c <{BASE}def#siren> ?siren }} }}""", use_default_graph_as_union=True))
    assert rows
    for row in rows:
        carrier = row["c"].value
        if carrier.startswith(BASE + "id/organisation/"):
            assert row["siren"] is not None and carrier.endswith("/" + row["siren"].value), carrier
        else:
            assert row["registered"].value == "false" and row["formal"].value == "true", carrier
            assert carrier.startswith(BASE + "id/structure/") or "#porteur" in carrier, carrier
    audruicq = BASE + "id/ptce/ecopole-alimentaire-de-la-region-d-audruicq"
    epci = BASE + "id/organisation/246200844"  # the COG's authority of the CC de la Région d'Audruicq
    assert store.query(f"ASK {{ <{audruicq}> <{BASE}def#carrier> <{epci}> . <{epci}> <{BASE}def#administers> <{BASE}id/epci/246200844> }}",
                       use_default_graph_as_union=True)
    assert not store.query("ASK { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> \"CC de la Région d'Audruicq\"@fr }",
                           use_default_graph_as_union=True)


def test_carriers_are_not_members(store):
    """The carrier is not one of the ESS enterprises its PTCE groups (art. 9, I, 1)."""
    assert not store.query(f"""ASK {{ GRAPH <{BASE}graph/ptce> {{ ?p <{BASE}def#carrier> ?c .
        {{ ?m <http://www.w3.org/ns/org#member> ?c }} UNION {{ ?p <http://www.w3.org/ns/org#hasMember> ?c }} }} }}""")


# The rule "enterprise of the ESS" (docs/data-model.md): its four branches, in every question that decides it.
ESS_RULE = ("ptce:EntrepriseESS", "ptce:essFlag true", "ess-par-statut", "FILTER(?forme IN (fj:association, fj:cooperative))")


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_one_rule_for_enterprise_of_the_ess(path: Path):
    text = path.read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    if "EntrepriseESS" in body or "essFlag" in body:
        assert all(part in body for part in ESS_RULE), [part for part in ESS_RULE if part not in body]
    shape = (ROOT / "shapes" / "article9.ttl").read_text(encoding="utf-8")
    assert all(marker in shape for marker in ("sh:hasValue ptce:EntrepriseESS", "ptce:essFlag", "cj:ess-par-statut", "fj:association fj:cooperative"))


def test_laureats_known_against_announced(store):
    calls = yaml.safe_load((ROOT / "data" / "calls.yaml").read_text(encoding="utf-8"))["calls"]
    known = Counter(c["call"] for p in curated() for c in p.get("calls", []))
    announced = {c["slug"]: max(s["value"] for s in c.get("laureats_count", [])) for c in calls if c.get("laureats_count")}
    answer = {row["appel"].rsplit("/", 1)[-1]: row for row in run(store, "laureats-connus-et-annonces.rq")}
    assert set(answer) == set(announced)
    for slug, row in answer.items():
        assert int(row["annonces"]) == announced[slug] and int(row["connus"]) == known[slug]
        assert int(row["manquants"]) == announced[slug] - known[slug]


def test_laureats_of_2014_still_active(store):
    expected = {BASE + "id/ptce/" + p["slug"] for p in curated()
                if any(c["call"] == "aap-2013" for c in p.get("calls", [])) and not p.get("ended")}
    assert {row["ptce"] for row in run(store, "laureats-2014-encore-actifs.rq")} == expected and expected


def test_carriers_legal_forms(store):
    carriers = [c for p in curated() for c in p.get("carrier", [])]
    answer = run(store, "formes-juridiques-des-porteurs.rq")
    assert sum(int(row["porteurs"]) for row in answer) == len({c.get("name") or id(c) for c in carriers})


def test_statements_carry_their_sources(store):
    data = yaml.safe_load((ROOT / "data" / "ptce" / "culture-et-cooperation.yaml").read_text(encoding="utf-8"))
    answer = run(store, "sources-des-affirmations.rq")
    urls = {s["url"] if s["url"].startswith("http") else BASE + "id/document/" + Path(s["url"]).stem
            for s in data["sources"].values()}
    cited = {row["source"] for row in answer}
    assert cited and cited <= urls
    names = {row["value"] for row in answer if row["predicate"].endswith("prefLabel")}
    assert names == {data["name"][0]["value"]}


def test_the_sources_of_one_fact(store):
    """The lauréat of 2013: the sources of the PTCE file's calls statement (on the selection)."""
    data = yaml.safe_load((ROOT / "data" / "ptce" / "culture-et-cooperation.yaml").read_text(encoding="utf-8"))
    (statement,) = [c for c in data["calls"] if c["call"] == "aap-2013"]
    expected = {data["sources"][k]["url"] for k in statement["sources"]}
    assert {row["source"] for row in run(store, "sources-d-un-fait.rq")} == expected


def test_disagreements_stay_visible(store):
    notes = {row["note"] for row in run(store, "divergences-entre-sources.rq")}
    assert any("180 ; 182 ; 183" in note for note in notes), notes


def test_calls_with_known_laureats(store):
    calls = yaml.safe_load((ROOT / "data" / "calls.yaml").read_text(encoding="utf-8"))["calls"]
    known = Counter(c["call"] for p in curated() for c in p.get("calls", []))
    answer = run(store, "appels-a-projets.rq")
    assert len(answer) == len(calls)  # one row per call: one preferred value of each property
    assert {row["appel"].rsplit("/", 1)[-1] for row in answer} == {c["slug"] for c in calls}
    for row in answer:
        assert int(row["laureatsConnus"]) == known[row["appel"].rsplit("/", 1)[-1]]


# -- questions the real data cannot answer yet: the fictional template example + a complement ----

EXAMPLE_BASE = "https://example.org/ptce-demo/"


def csv_rows(name: str) -> list[dict]:
    import csv

    with open(ROOT / "examples" / "template" / name, encoding="utf-8-sig") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture(scope="module")
def example(built_store) -> ox.Store:
    """The example's RDF with the model and the COG territories of the built store."""
    from ptcekb.ingest.template import read_template
    from ptcekb.namespaces import Namespaces

    triples, rejects = read_template(ROOT / "examples" / "template", Namespaces(EXAMPLE_BASE), ROOT, Namespaces(BASE))
    assert not rejects
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(EXAMPLE_BASE + "graph/example")) for t in triples)
    store.load(path=str(ROOT / "tests" / "fixtures" / "queries" / "complement.ttl"), format=ox.RdfFormat.TURTLE,
               to_graph=ox.NamedNode(EXAMPLE_BASE + "graph/complement"))
    source = ox.Store.read_only(str(built_store.resolve()))
    for graph in ("ontology", "vocabularies", "cog"):
        store.extend(source.quads_for_pattern(None, None, None, ox.NamedNode(BASE + "graph/" + graph)))
    return store


def test_members_by_actor_type_and_role(example):
    answer = run(example, "membres-par-type-et-role.rq")
    roles = {(row["nom"], row["role"]) for row in answer}
    labels = {row["s"].value.rsplit("/", 1)[-1]: row["l"].value for row in example.query(
        "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#inScheme> <https://w3id.org/ptce/concept/roles> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l FILTER(LANG(?l) = 'fr') }", use_default_graph_as_union=True)}
    expected = {(row["nom"], labels[role]) for row in csv_rows("membres.csv") for role in row["role"].split(";") if role}
    assert roles == expected
    assert all(row["type"] for row in answer), "every member has an actor type"


def test_share_of_ess_members(example):
    rows = csv_rows("membres.csv")
    answer = {row["ptce"]: row for row in run(example, "part-ess-des-membres.rq")}
    example_ptce = answer[EXAMPLE_BASE + "id/ptce/pole-vallee-exemple"]
    assert int(example_ptce["membres"]) == len({r["nom"] for r in rows})
    assert int(example_ptce["membresESS"]) == len({r["nom"] for r in rows if r["ess"] == "oui"})


def test_ptces_practising_rd_level_cooperation(example):
    expected = {EXAMPLE_BASE + "id/ptce/" + row["id"] for row in csv_rows("ptce.csv")
                if "recherche-developpement-prospective" in row["niveaux_cooperation"]}
    expected.add(EXAMPLE_BASE + "id/ptce/pole-recherche-exemple")
    assert {row["ptce"] for row in run(example, "ptce-cooperation-rd.rq")} == expected


def test_ess_enterprises_of_the_territory_that_are_not_members(example):
    answer = run(example, "ess-du-territoire-non-membres.rq")
    assert [(row["ptce"].rsplit("/", 1)[-1], row["nom"]) for row in answer] == \
        [("pole-vallee-exemple", "Coopérative Voisine (fictive)")]


def test_ptces_sharing_a_member(store, example):
    """On the curated data, the organisations two PTCEs name (as carrier or member: by SIREN, by the COG
    authority's name, or by name: one id/structure/ IRI), computed from the files; none today. On the
    example and its complement, the two fictional PTCEs share the SCOP (same IRI) and the SCIC (same
    SIREN, another IRI)."""
    from ptcekb.namespaces import slugify

    named: dict[str, set] = {}
    for ptce in curated():
        for organisation in (ptce.get("carrier") or []) + (ptce.get("members") or []):
            if organisation.get("siren") or organisation.get("name"):
                named.setdefault(str(organisation.get("siren") or slugify(organisation["name"])), set()).add(ptce["slug"])
    assert len(named) > 30 and not [k for k, ptces in named.items() if len(ptces) > 1]
    assert run(store, "ptce-partageant-un-membre.rq") == []
    shared = {(r["ptce1"].rsplit("/", 1)[-1], r["ptce2"].rsplit("/", 1)[-1], r["organisation"].rsplit("/", 1)[-1])
              for r in run(example, "ptce-partageant-un-membre.rq")}
    assert shared == {("pole-recherche-exemple", "pole-vallee-exemple", "222222226"),
                      ("pole-recherche-exemple", "pole-vallee-exemple", "scic-exemple")}


def test_fte_per_ptce(example):
    row = csv_rows("ptce.csv")[0]
    answer = {r["ptce"].rsplit("/", 1)[-1]: r for r in run(example, "etp-par-ptce.rq")}
    assert float(answer[row["id"]]["etpTotal"]) == float(row["etp_total"])
    assert float(answer[row["id"]]["etpAnimation"]) == float(row["etp_animation"])
    assert float(answer["pole-recherche-exemple"]["etpTotal"]) == 80.0


def test_funding_mix(example):
    rows = csv_rows("ressources.csv")
    answer = run(example, "mix-de-financement.rq")
    assert len(answer) == len({r["type"] for r in rows})
    total = sum(float(r["total"]) for r in answer if r["total"] is not None)
    assert total == sum(float(r["montant"]) for r in rows if r["montant"])
