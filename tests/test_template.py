"""The publisher template (docs/publisher-template.md): bad rows, the example, the round trip (identifiers: unit/test_identifiers.py).

The template tests run the real CLI (``ptcekb ingest template``) through conftest's ``ptcekb()``.
"""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from ptcekb.ingest.template import COLUMNS, REQUIRED

from conftest import ROOT, ptcekb

EXAMPLE = ROOT / "examples" / "template"
DEMO = "https://example.org/ptce-demo/"
KB = "https://w3id.org/ptce/"  # territories are the knowledge base's COG IRIs
PREFIXES = """
PREFIX ptce: <https://w3id.org/ptce/def#>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX rov: <http://www.w3.org/ns/regorg#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX time: <http://www.w3.org/2006/time#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


# ---------------------------------------------------------------------------------------------
# Helpers for the template tests
# ---------------------------------------------------------------------------------------------

def convert(directory: Path, output: Path, *extra: str):
    return ptcekb("ingest", "template", str(directory), "-o", str(output), "--base-iri", DEMO, *extra)


def load(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    return store


def select(store: ox.Store, query: str) -> list[tuple]:
    rows = []
    for solution in store.query(PREFIXES + query):
        rows.append(tuple(None if term is None else term.value for term in solution))
    return rows


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as stream:
        return list(csv.DictReader(stream))


def rejects(stderr: str) -> dict[tuple[str, int], str]:
    """{(file name, line): reason} from the FILE:LINE: reason lines on stderr."""
    found = {}
    for line in stderr.splitlines():
        match = re.match(r"^(.*?):(\d+): (.*)$", line)
        if match and not line.startswith("ptcekb:"):
            found[(Path(match.group(1)).name, int(match.group(2)))] = match.group(3)
    return found


@pytest.fixture()
def example_copy(tmp_path) -> Path:
    directory = tmp_path / "template"
    shutil.copytree(EXAMPLE, directory)
    return directory


def append(path: Path, *lines: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as stream:
        for line in lines:
            stream.write(line + "\n")


def member_line(**values) -> str:
    """A membres.csv line with the example's columns, from a valid base row."""
    row = {"ptce": "pole-vallee-exemple", "nom": "Nouvelle Association Test", "siren": "666666664",
           "type_acteur": "entreprise-ess-de-statut", "ess": "oui", "role": "membre", "debut": "2023",
           "commune": "26108"}
    row.update(values)
    return ",".join(_quote(row.get(c, "")) for c in COLUMNS["membres.csv"])


def _quote(value: str) -> str:
    return f'"{value}"' if any(ch in value for ch in ',"\n') else value


# ---------------------------------------------------------------------------------------------
# The example
# ---------------------------------------------------------------------------------------------

def test_example_converts_cleanly(tmp_path):
    out = tmp_path / "example.ttl"
    result = convert(EXAMPLE, out)
    assert result.returncode == 0, result.stderr
    assert "0 rejected" in result.stderr
    text = out.read_text(encoding="utf-8")
    assert "@prefix ptce: <https://w3id.org/ptce/def#>" in text and "@prefix org:" in text
    store = load(out)
    subjects = {t.subject.value for t in store if isinstance(t.subject, ox.NamedNode)}
    assert subjects and all(s.startswith(DEMO) for s in subjects)
    assert not list(tmp_path.glob(".example.ttl.*.partial"))


def test_every_ptce_term_written_is_declared_in_the_ontology(tmp_path):
    out = tmp_path / "example.ttl"
    assert convert(EXAMPLE, out).returncode == 0
    declared = {t.subject.value for t in ox.parse(path=str(ROOT / "ontology" / "ptce.ttl"), format=ox.RdfFormat.TURTLE)}
    used = {term.value for t in load(out) for term in (t.predicate, t.object)
            if isinstance(term, ox.NamedNode) and term.value.startswith("https://w3id.org/ptce/def#")}
    assert used and used <= declared, sorted(used - declared)


def test_example_describes_everything_article_9_requires(tmp_path):
    out = tmp_path / "example.ttl"
    assert convert(EXAMPLE, out).returncode == 0
    store = load(out)
    ptce = DEMO + "id/ptce/pole-vallee-exemple"

    def members_of(cls: str) -> set[str]:
        return {r[0] for r in select(store, f"""SELECT ?m WHERE {{ ?ms a org:Membership ; org:organization <{ptce}> ;
            org:member ?m . ?m a ?c . VALUES ?c {{ {cls} }} }}""")}

    ess = members_of("ptce:EntrepriseESS ptce:EntrepriseESSDeStatut ptce:SocieteCommercialeESS")
    assert len(ess) >= 2
    assert len(members_of("ptce:EntrepriseHorsESS")) >= 1
    assert members_of("ptce:CollectiviteTerritoriale ptce:GroupementDeCollectivites ptce:CentreDeRecherche "
                      "ptce:EtablissementEnseignementSuperieurRecherche ptce:OrganismeDeFormation")
    # every ESS member's commune is one of the PTCE's territory units (or inside its EPCI)
    territory = {r[0] for r in select(store, f"SELECT ?t WHERE {{ <{ptce}> ptce:territory ?t }}")}
    cog = __import__("ptcekb.ingest.cog", fromlist=["load_snapshot"])
    snapshot = cog.load_snapshot(ROOT / cog.SNAPSHOT)
    epci_members = {c for e in snapshot["epci"] if KB + "id/epci/" + e["code"] in territory for c in e["membres"]}
    assert epci_members, "the territory includes an EPCI of the COG"
    for member in ess:
        communes = {r[0] for r in select(store, f"SELECT ?c WHERE {{ <{member}> org:hasSite/ptce:commune ?c }}")}
        assert communes, member
        for commune in communes:
            assert commune in territory or commune.rsplit("/", 1)[1] in epci_members, (member, commune)
    assert store.query(PREFIXES + f"ASK {{ <{ptce}> ptce:strategy/ptce:cooperationMode ?m }}")
    assert store.query(PREFIXES + f"""ASK {{ <{ptce}> ptce:project ?p . ?p ptce:innovationType ?i ;
        ptce:localDevelopmentContribution ?d }}""")
    assert store.query(PREFIXES + f"ASK {{ <{ptce}> ptce:localDevelopmentContribution ?d ; dcterms:source ?s ; skos:prefLabel ?n }}")


def test_example_is_marked_fictional():
    doc = (ROOT / "docs" / "publisher-template.md").read_text(encoding="utf-8")
    assert "fictif" in doc.lower() and "fictional" in doc.lower()
    for row in read_csv(EXAMPLE / "membres.csv"):
        assert re.search(r"fictif|fictive|exemple", row["nom"], re.I), row["nom"]
        if row["siren"]:
            assert len(set(row["siren"][:8])) == 1, "made-up SIRENs use a repeated digit"


def test_every_column_is_documented_in_both_languages():
    doc = (ROOT / "docs" / "publisher-template.md").read_text(encoding="utf-8")
    for name, columns in COLUMNS.items():
        section = doc.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for column in columns:
            row = re.search(rf"^\| `{column}` \|(.*)$", section, re.M)
            assert row, (name, column)
            cells = [c.strip() for c in row.group(1).split("|")]
            assert len(cells) >= 4 and all(cells[:4]), (name, column, cells)  # fr, en, format, example


# ---------------------------------------------------------------------------------------------
# The round trip: CSV rows -> RDF -> the same facts
# ---------------------------------------------------------------------------------------------

def test_round_trip(tmp_path):
    out = tmp_path / "example.ttl"
    assert convert(EXAMPLE, out).returncode == 0
    store = load(out)
    concept = "https://w3id.org/ptce/concept/"

    for row in read_csv(EXAMPLE / "ptce.csv"):
        node = DEMO + "id/ptce/" + row["id"]
        assert select(store, f"SELECT ?n WHERE {{ <{node}> skos:prefLabel ?n }}") == [(row["nom"],)]
        modes = {r[0] for r in select(store, f"SELECT ?m WHERE {{ <{node}> ptce:strategy/ptce:cooperationMode ?m }}")}
        assert modes == {concept + "modes-cooperation/" + m for m in row["modes_cooperation"].split(";")}
        levels = {r[0] for r in select(store, f"SELECT ?m WHERE {{ <{node}> ptce:strategy/ptce:cooperationLevel ?m }}")}
        assert levels == {concept + "niveaux-cooperation/" + m for m in row["niveaux_cooperation"].split(";")}
        territory = {r[0] for r in select(store, f"SELECT ?t WHERE {{ <{node}> ptce:territory ?t }}")}
        expected = {KB + "id/commune/" + c for c in row["territoire_communes"].split(";")}
        expected |= {KB + "id/epci/" + c for c in row["territoire_epci"].split(";")}
        expected |= {DEMO + "id/territoire/" + row["id"]}
        assert territory == expected
        (created, carrier, count, fte, cell, strategy, social, local) = select(store, f"""
            SELECT ?created ?carrier ?count ?fte ?cell ?strategy ?social ?local WHERE {{
              <{node}> ptce:creationDate ?created ; rov:hasRegisteredOrganization ?carrier ; ptce:memberCount ?count ;
                ptce:fte ?fte ; ptce:animationCell/ptce:fte ?cell ; ptce:strategy/dcterms:description ?strategy ;
                ptce:socialUtility ?social ; ptce:localDevelopmentContribution ?local }}""")[0]
        assert (created, carrier, int(count), float(fte), float(cell), strategy, social, local) == (
            row["date_creation"], DEMO + "id/organisation/" + row["siren_porteur"], int(row["nombre_membres"]),
            float(row["etp_total"]), float(row["etp_animation"]), row["strategie"], row["utilite_sociale"],
            row["developpement_local"])
        for column, prop, scheme in (("impulsion", "impulse", "impulsions"), ("secteurs", "activitySector", "secteurs-activite"),
                                     ("perimetre", "activityScope", "perimetres-activite"),
                                     ("configuration_gouvernance", "governanceConfiguration", "configurations-gouvernance")):
            values = {r[0] for r in select(store, f"SELECT ?v WHERE {{ <{node}> ptce:{prop} ?v }}")}
            assert values == {f"{concept}{scheme}/{code}" for code in row[column].split(";")}

    members = select(store, """
        SELECT ?ptce ?name ?siren ?commune ?start ?end (GROUP_CONCAT(DISTINCT STR(?role); separator=";") AS ?roles)
               (GROUP_CONCAT(DISTINCT STR(?class); separator=";") AS ?classes) ?category WHERE {
          ?ms a org:Membership ; org:organization ?ptce ; org:member ?org ; org:role ?role .
          ?org skos:prefLabel ?name ; a ?class .
          FILTER(STRSTARTS(STR(?class), "https://w3id.org/ptce/def#"))
          OPTIONAL { ?org ptce:siren ?siren }
          OPTIONAL { ?org ptce:legalCategoryCode ?category }
          OPTIONAL { ?org org:hasSite/ptce:commune ?commune }
          OPTIONAL { ?ms org:memberDuring/time:hasBeginning ?b . ?b time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear ?start }
          OPTIONAL { ?ms org:memberDuring/time:hasEnd ?e . ?e time:inXSDDate|time:inXSDgYearMonth|time:inXSDgYear ?end }
        } GROUP BY ?ptce ?name ?siren ?commune ?start ?end ?category""")
    got = {(r[0].rsplit("/", 1)[1], r[1], r[2] or "", (r[3] or "").rsplit("/", 1)[-1], r[4] or "", r[5] or "",
            frozenset(x.rsplit("/", 1)[1] for x in r[6].split(";")), r[8] or "") for r in members}
    classes = {"entreprise-ess-de-statut": "EntrepriseESSDeStatut", "entreprise-hors-ess": "EntrepriseHorsESS",
               "organisme-formation": "OrganismeDeFormation", "centre-recherche": "CentreDeRecherche"}
    expected = set()
    for row in read_csv(EXAMPLE / "membres.csv"):
        expected.add((row["ptce"], row["nom"], row["siren"], row["commune"], row["debut"], row["fin"],
                      frozenset(row["role"].split(";")), row["categorie_juridique"]))
        got_classes = {r[7] for r in members if r[1] == row["nom"]}
        want = {classes[row["type_acteur"]]} | ({"EntrepriseESS"} if row["ess"] == "oui" and row["type_acteur"] == "organisme-formation" else set())
        assert {c.rsplit("#", 1)[1] for cs in got_classes for c in cs.split(";")} == want, row["nom"]
    assert got == expected
    sirets = {r[0] for r in select(store, "SELECT ?s WHERE { ?e a ptce:Etablissement ; ptce:siret ?s ; org:siteOf ?o . ?o ptce:siren ?n FILTER(STRSTARTS(?s, ?n)) }")}
    assert sirets == {row["siret"] for row in read_csv(EXAMPLE / "membres.csv") if row["siret"]}

    for row in read_csv(EXAMPLE / "projets.csv"):
        node = DEMO + "id/projet/" + row["id"]
        assert select(store, f"SELECT ?p WHERE {{ ?p ptce:project <{node}> }}") == [(DEMO + "id/ptce/" + row["ptce"],)]
        assert select(store, f"SELECT ?n ?d ?l WHERE {{ <{node}> skos:prefLabel ?n ; dcterms:description ?d ; ptce:localDevelopmentContribution ?l }}") == [
            (row["nom"], row["description"], row["developpement_local"])]
        innovations = {r[0] for r in select(store, f"SELECT ?i WHERE {{ <{node}> ptce:innovationType ?i }}")}
        assert innovations == {concept + "types-innovation/" + c for c in row["innovation"].split(";")}
        participants = {r[0] for r in select(store, f"SELECT ?n WHERE {{ <{node}> prov:wasAssociatedWith/skos:prefLabel ?n }}")}
        names = {m["siren"]: m["nom"] for m in read_csv(EXAMPLE / "membres.csv")}
        assert participants == {names.get(p, p) for p in row["participants"].split(";")}

    for row in read_csv(EXAMPLE / "lieux.csv"):
        node = DEMO + "id/lieu/" + row["id"]
        assert select(store, f"""SELECT ?n ?t ?c ?a ?cp ?wkt WHERE {{ <{node}> a ptce:LieuPartage ; skos:prefLabel ?n ;
            ptce:placeType ?t ; ptce:commune ?c ; geo:hasGeometry/geo:asWKT ?wkt ;
            <http://www.w3.org/ns/locn#address> [ <http://www.w3.org/ns/locn#fullAddress> ?a ; <http://www.w3.org/ns/locn#postCode> ?cp ] .
            <{DEMO}id/ptce/{row['ptce']}> org:hasSite <{node}> }}""") == [
            (row["nom"], concept + "types-lieux/" + row["type"], KB + "id/commune/" + row["commune"], row["adresse"],
             row["code_postal"], f"POINT({row['longitude']} {row['latitude']})")]

    resources = select(store, """SELECT ?p ?type ?amount ?share ?year ?funder WHERE {
        ?p ptce:mobilisedResource ?r . ?r ptce:resourceType ?type .
        OPTIONAL { ?r ptce:amount ?amount } OPTIONAL { ?r ptce:share ?share } OPTIONAL { ?r ptce:referenceYear ?year }
        OPTIONAL { ?r ptce:resourceProvider/skos:prefLabel ?funder } }""")
    got = {(r[0].rsplit("/", 1)[1], r[1].rsplit("/", 1)[1], r[2] and float(r[2]), r[3] and float(r[3]), r[4], r[5]) for r in resources}
    expected = set()
    for row in read_csv(EXAMPLE / "ressources.csv"):
        share = row["part"]
        share = float(share[:-1]) / 100 if share.endswith("%") else (float(share) if share else None)
        expected.add((row["ptce"], row["type"], float(row["montant"]) if row["montant"] else None, share,
                      row["annee"] or None, row["financeur"] or None))
    assert got == expected


# ---------------------------------------------------------------------------------------------
# Bad rows: reported with file, line and reason; every valid row kept
# ---------------------------------------------------------------------------------------------

BAD_MEMBERS = {
    # line in membres.csv (the example has a header and 6 rows: lines 1-7) -> (row, expected reason)
    8: (member_line(siren="666666665"), r"siren: .*Luhn"),
    9: (member_line(siren="", siret="66666666400011", nom="Autre Test"), r"siret: .*(Luhn|SIRET)"),
    10: (member_line(type_acteur="cooperative-magique"), r"type_acteur: unknown code 'cooperative-magique'"),
    11: (member_line(commune="99999"), r"commune: unknown commune code 99999"),
    12: (member_line(debut="2023-13"), r"debut: '2023-13' is not a real date"),
    13: (member_line(ptce="ptce-inconnu"), r"ptce: unknown PTCE id 'ptce-inconnu'"),
    14: (member_line(nom=""), r"nom: required value is empty"),
    15: (member_line(role="chef"), r"role: unknown code 'chef'"),
    16: (member_line(debut="hier"), r"debut: 'hier' is not a date"),
    17: (member_line(siren="777777772", siret="11111111800019", nom="Test SIRET"), r"siret: .* does not start with the SIREN"),
    18: (member_line(type_acteur="entreprise-hors-ess", ess="oui", siren="777777772"), r"disjoint"),
    19: (member_line(categorie_juridique="92A0", siren="777777772"), r"categorie_juridique"),
}


def test_bad_rows_are_rejected_and_valid_rows_kept(example_copy, tmp_path):
    append(example_copy / "membres.csv", *(row for row, _ in BAD_MEMBERS.values()))
    append(example_copy / "membres.csv", member_line(nom="Association Test Valide", siren="666666664"))  # line 20: valid
    append(example_copy / "ptce.csv",
           "pole-second-exemple,Second pôle (fictif)" + "," * (len(COLUMNS["ptce.csv"]) - 2),  # line 3: valid
           "Pole Mal Nomme,Mauvais id" + "," * (len(COLUMNS["ptce.csv"]) - 2))                   # line 4: bad slug
    append(example_copy / "projets.csv",
           "pole-vallee-exemple,projet-test,Projet test,,quantique,,2022,,,",                   # line 4
           "pole-vallee-exemple,projet-test-2,Projet test 2,,sociale,,2024,2023,,",              # line 5: end < start
           "pole-second-exemple,projet-valide,Projet valide,,sociale,,,,,")                     # line 6: valid
    append(example_copy / "lieux.csv",
           'pole-vallee-exemple,lieu-casse,"Lieu cassé,tiers-lieu,,,26108,,,',                   # line 3: never closed
           "pole-vallee-exemple,lieu-valide,Lieu valide,lieu-mutualise,,,26108,,,",              # line 4: valid
           'pole-vallee-exemple,lieu-guillemets,"Lieu" mal cité,tiers-lieu,,,26108,,,',          # line 5: bad quote
           "pole-vallee-exemple,lieu-sans-longitude,Lieu,tiers-lieu,,,26108,45.1,,")            # line 6
    out = tmp_path / "out.ttl"
    result = convert(example_copy, out)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    found = rejects(result.stderr)
    for line, (_, pattern) in BAD_MEMBERS.items():
        assert ("membres.csv", line) in found, (line, result.stderr)
        assert re.search(pattern, found[("membres.csv", line)]), (line, found[("membres.csv", line)])
    assert re.search(r"^id: 'Pole Mal Nomme' is not a slug", found[("ptce.csv", 4)])
    assert "quantique" in found[("projets.csv", 4)]
    assert "before debut" in found[("projets.csv", 5)]
    assert "broken CSV quoting" in found[("lieux.csv", 3)]
    assert "broken CSV quoting" in found[("lieux.csv", 5)]
    assert "give both latitude and longitude" in found[("lieux.csv", 6)]
    expected = {("membres.csv", n) for n in BAD_MEMBERS} | {("ptce.csv", 4), ("projets.csv", 4), ("projets.csv", 5),
                                                             ("lieux.csv", 3), ("lieux.csv", 5), ("lieux.csv", 6)}
    assert set(found) == expected
    assert f"{len(expected)} rejected" in result.stderr

    store = load(out)
    names = {r[0] for r in select(store, "SELECT ?n WHERE { ?m a org:Membership ; org:member/skos:prefLabel ?n }")}
    assert names == {row["nom"] for row in read_csv(EXAMPLE / "membres.csv")} | {"Association Test Valide"}
    ptces = {r[0] for r in select(store, "SELECT ?p WHERE { ?p a ptce:PTCE }")}
    assert ptces == {DEMO + "id/ptce/pole-vallee-exemple", DEMO + "id/ptce/pole-second-exemple"}
    projects = {r[0].rsplit("/", 1)[1] for r in select(store, "SELECT ?p WHERE { ?p a ptce:Projet }")}
    assert projects == {"atelier-reemploi-exemple", "legumerie-exemple", "projet-valide"}
    places = {r[0].rsplit("/", 1)[1] for r in select(store, "SELECT ?p WHERE { ?p a ptce:LieuPartage }")}
    assert places == {"halle-exemple", "lieu-valide"}
    assert len(select(store, "SELECT ?r WHERE { ?r a ptce:RessourceMobilisee }")) == 4


def test_the_siren_space_only_with_a_siren(example_copy, tmp_path):
    """Issue 21: an organisation gets an IRI in the SIREN space (id/organisation/{SIREN}) and the type
    rov:RegisteredOrganization only with its SIREN; a member or funder without one is an
    org:FormalOrganization in id/structure/{slug of its name}, and a project names it by that IRI."""
    append(example_copy / "membres.csv", member_line(nom="Collectif Sans Numéro", siren=""))
    append(example_copy / "projets.csv", "pole-vallee-exemple,projet-collectif,Projet du collectif,,sociale,,2024,,Collectif Sans Numéro,")
    out = tmp_path / "out.ttl"
    result = convert(example_copy, out)
    assert result.returncode == 0, result.stderr
    store = load(out)
    structure = DEMO + "id/structure/collectif-sans-numero"
    assert select(store, f"SELECT ?m WHERE {{ ?m org:member <{structure}> }}") == [(DEMO + "id/ptce/pole-vallee-exemple#membre-collectif-sans-numero",)]
    types = {r[0] for r in select(store, f"SELECT ?t WHERE {{ <{structure}> a ?t }}")}
    assert "http://www.w3.org/ns/org#FormalOrganization" in types and "http://www.w3.org/ns/regorg#RegisteredOrganization" not in types
    assert select(store, f"SELECT ?p WHERE {{ <{DEMO}id/projet/projet-collectif> prov:wasAssociatedWith ?p }}") == [(structure,)]
    funder = DEMO + "id/structure/etat-exemple-fictif"  # the example's funder has no SIREN
    assert select(store, f"SELECT ?t WHERE {{ ?r ptce:resourceProvider <{funder}> . <{funder}> a ?t }}") == [("http://www.w3.org/ns/org#FormalOrganization",)]
    # nothing in the SIREN space without a SIREN
    assert not select(store, f"""SELECT ?o WHERE {{ ?o ?p ?v FILTER(STRSTARTS(STR(?o), "{DEMO}id/organisation/"))
        FILTER NOT EXISTS {{ ?o ptce:siren ?siren }} FILTER(!CONTAINS(STR(?o), "#")) }}""")
    (carrier,) = select(store, f"SELECT ?c WHERE {{ <{DEMO}id/ptce/pole-vallee-exemple> ptce:carrier ?c ; rov:hasRegisteredOrganization ?c }}")
    assert carrier[0].startswith(DEMO + "id/organisation/")


def test_unknown_column_is_reported_and_other_files_kept(example_copy, tmp_path):
    path = example_copy / "ressources.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([lines[0] + ",devise"] + [l + ",EUR" for l in lines[1:]]) + "\n", encoding="utf-8")
    out = tmp_path / "out.ttl"
    result = convert(example_copy, out)
    assert result.returncode == 1
    found = rejects(result.stderr)
    assert list(found) == [("ressources.csv", 1)]
    assert "unknown column(s) devise" in found[("ressources.csv", 1)]
    store = load(out)
    assert not select(store, "SELECT ?r WHERE { ?r a ptce:RessourceMobilisee }")
    assert len(select(store, "SELECT ?m WHERE { ?m a org:Membership }")) == 6


def test_missing_required_column_and_wrong_field_count(example_copy, tmp_path):
    (example_copy / "lieux.csv").write_text("ptce,nom\npole-vallee-exemple,Sans id\n", encoding="utf-8")
    append(example_copy / "projets.csv", "pole-vallee-exemple,trop-court,Trop court")
    result = convert(example_copy, tmp_path / "out.ttl")
    found = rejects(result.stderr)
    assert "missing required column(s) id" in found[("lieux.csv", 1)]
    assert "3 fields, but the header has 10 columns" in found[("projets.csv", 4)]
    assert result.returncode == 1


def test_bom_and_optional_columns(tmp_path):
    directory = tmp_path / "mini"
    directory.mkdir()
    (directory / "ptce.csv").write_bytes("\ufeffid,nom\npole-mini,Pôle minimal (fictif)\n".encode("utf-8"))
    (directory / "membres.csv").write_text(
        'ptce,nom,type_acteur\npole-mini,"Association ""Guillemets"", virgule et\nretour à la ligne (fictive)",entreprise-ess\n'
        "pole-mini,Entreprise (fictive),entreprise-hors-ess\n", encoding="utf-8")
    out = tmp_path / "mini.ttl"
    result = convert(directory, out)
    assert result.returncode == 0, result.stderr
    store = load(out)
    assert select(store, "SELECT ?n WHERE { ?p a ptce:PTCE ; skos:prefLabel ?n }") == [("Pôle minimal (fictif)",)]
    names = {r[0] for r in select(store, "SELECT ?n WHERE { ?m org:member/skos:prefLabel ?n }")}
    assert names == {'Association "Guillemets", virgule et\nretour à la ligne (fictive)', "Entreprise (fictive)"}


def test_default_base_iri(tmp_path):
    out = tmp_path / "out.ttl"
    result = ptcekb("ingest", "template", str(EXAMPLE), "-o", str(out), env={"PTCEKB_BASE_IRI": "https://w3id.org/ptce/"})
    assert result.returncode == 0, result.stderr
    store = load(out)
    assert select(store, "SELECT ?p WHERE { ?p a ptce:PTCE }") == [("https://w3id.org/ptce/id/ptce/pole-vallee-exemple",)]


@pytest.mark.parametrize("case", ["no-directory", "no-ptce-csv", "not-utf8"])
def test_unreadable_input_exits_2(tmp_path, case):
    directory = tmp_path / "t"
    if case != "no-directory":
        directory.mkdir()
    if case == "not-utf8":
        (directory / "ptce.csv").write_bytes("id,nom\npole-x,P\xf4le\n".encode("latin-1"))
    out = tmp_path / "out.ttl"
    result = convert(directory, out)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ptcekb: error:") and "Traceback" not in result.stderr
    assert not out.exists()


def test_required_columns_are_columns():
    for name, required in REQUIRED.items():
        assert set(required) <= set(COLUMNS[name])
