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
    "sources-des-affirmations.rq": {"confidence"},
    "sources-d-un-fait.rq": {"confiance", "note"},
}
# Questions no curated source answers yet (SIRENE establishments, the characterisation grid's
# strategy and resources): asked on the template's fictional example (fixture ``example``) instead.
ANSWERED_BY_OTHER_SOURCES = {"ess-du-territoire-non-membres.rq", "mix-de-financement.rq", "ptce-cooperation-rd.rq"}


def declared_optional(path: Path) -> set[str]:
    text = re.sub(r"\n# (?!FR: |EN: |Optional columns: )", " ", path.read_text(encoding="utf-8"))  # join continued lines
    found = re.search(r"^# Optional columns: ((?:\?\w+ ?)+)", text, re.MULTILINE)
    return set(found.group(1).replace("?", "").split()) if found else set()


@pytest.mark.parametrize("path", sorted(QUERIES.glob("*.rq")), ids=lambda p: p.name)
def test_every_column_of_every_answer_is_filled(path: Path, store, example):
    assert declared_optional(path) == OPTIONAL_COLUMNS.get(path.name, set()), "the query's comment and this test disagree"
    curated_rows, example_rows = run(store, path.name), run(example, path.name)
    rows = example_rows if path.name in ANSWERED_BY_OTHER_SOURCES else curated_rows
    assert rows, "no answer"
    columns = list(rows[0])
    for column in columns:
        filled = [row for row in curated_rows + example_rows if row[column] not in (None, "")]
        if column in OPTIONAL_COLUMNS.get(path.name, set()):
            assert filled, f"?{column} is empty on every row"
        else:
            assert len(filled) == len(curated_rows) + len(example_rows), f"?{column} is empty on some rows"


def test_carriers_by_actor_type_with_their_names(store):
    """Every curated carrier: its type follows from the legal form its sources state (association and
    cooperatives: ESS by statute) or says it is not documented; its name, or a label saying it is not given."""
    ess_by_statute = {"association", "cooperative", "scic", "scop"}
    expected = set()
    for ptce in curated():
        for carrier in ptce.get("carrier", []):
            form = carrier.get("legal_form")
            kind = ("entreprise de l'ESS par son statut" if form in ess_by_statute
                    else "collectivité territoriale ou groupement" if form == "collectivite"
                    else "type non documenté par les sources")
            name = carrier.get("name") or f"structure porteuse de {ptce['name'][0]['value']} (nom non donné par les sources)"
            expected.add((BASE + "id/ptce/" + ptce["slug"], kind, name))
    answer = run(store, "membres-par-type-et-role.rq")
    assert {(row["ptce"], row["type"], row["nom"]) for row in answer} == expected
    assert {row["role"] for row in answer} == {"structure porteuse"}
    assert len(answer) == sum(len(p.get("carrier", [])) for p in curated())


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
    index = commune_index(ROOT)
    expected = set()
    for ptce in curated():
        communes = {index.resolve(s["name"], s.get("departement")).code for s in ptce.get("commune", [])}
        departements = {d for s in ptce.get("territory", []) for d in s.get("departements") or []}
        regions = {r for s in ptce.get("territory", []) for r in s.get("regions") or []}
        if "26281" in communes or "26" in departements or "84" in regions:
            expected.add(ptce["name"][0]["value"])
    answer = {row["nom"] for row in run(store, "ptce-contenant-commune.rq")}
    assert answer == expected and expected


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
