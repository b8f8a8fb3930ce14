"""`ptcekb ingest sirene`: every INSEE layout, the ESS filter, privacy, rejects, members' linking,
the competency questions on SIRENE data, atomic replacement and carry-over by `ptcekb build`.

Fixtures: tests/fixtures/sirene/ holds the real sample rows (see SOURCE.txt) and, in fictif/, rows
and a publisher dataset that are FICTIONAL (see fictif/README.md): the memberships are made up.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest

import httpx

from conftest import ROOT, Server, ptcekb
from ptcekb.config import Settings
from ptcekb.store import clone_build

FIXTURES = ROOT / "tests" / "fixtures" / "sirene"
FICTIF = FIXTURES / "fictif"
UNITS_33 = FIXTURES / "sirene_sample_unitelegale.csv"
UNITS_35 = FIXTURES / "sirene_sample_unitelegale_2026schema.csv"
ESTABLISHMENTS = FIXTURES / "sirene_sample_etablissement.csv"
UNITS_34 = FICTIF / "StockUniteLegale_fictif.csv"
ESTABLISHMENTS_FICTIF = FICTIF / "StockEtablissement_fictif.csv"
BASE = "https://w3id.org/ptce/"
SIRENE = BASE + "graph/sirene"
PUBLISHER = "http://example.org/ptce-fictif/"
POLE = PUBLISHER + "id/ptce/pole-fictif"
ORG = BASE + "id/organisation/"
SITE = BASE + "id/etablissement/"
PTCE = "https://w3id.org/ptce/def#"


@pytest.fixture(scope="module")
def kb(built_store, tmp_path_factory) -> Path:
    """A store of our own (a clone of the session's build) with the fictional publisher's graph."""
    from ptcekb.service.update_worker import Write, apply

    base = tmp_path_factory.mktemp("sirene")
    build = base / "store.builds" / "20260101T000000.000000-1"
    build.mkdir(parents=True)
    clone_build(built_store.resolve(), build)
    (base / "store").symlink_to(os.path.relpath(build, base))
    outcome = apply(Write(str(Settings.from_env(store=base / "store").store), "post", graph=PUBLISHER + "graph/publisher",
                          body=(FICTIF / "ptce-fictif.ttl").read_bytes(), media_type="text/turtle"))
    assert outcome.status == 200, outcome.message
    return base / "store"


def ingest(store: Path, units: Path, establishments: Path | None = None):
    args = ["ingest", "sirene", "--store", str(store), "--unites-legales", str(units)]
    if establishments:
        args += ["--etablissements", str(establishments)]
    return ptcekb(*args)


def open_store(store: Path) -> ox.Store:
    return ox.Store.read_only(str(store.resolve()))


def sirene_graph(store: Path) -> ox.Store:
    dataset = ox.Store()
    dataset.extend(open_store(store).quads_for_pattern(None, None, None, ox.NamedNode(SIRENE)))
    return dataset


def objects(graph: ox.Store, subject: str, predicate: str) -> set[str]:
    return {q.object.value for q in graph.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None)}


def subjects(graph: ox.Store) -> set[str]:
    return {q.subject.value for q in graph}


def rejects(store: Path) -> list[dict]:
    with open(store.with_name(store.name + ".sirene") / "rejects.csv", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def members(store: Path) -> dict[str, dict]:
    with open(store.with_name(store.name + ".sirene") / "membres.csv", encoding="utf-8") as stream:
        return {row["membre"]: row for row in csv.DictReader(stream) if row["ptce"] == POLE}


def ess_family_codes() -> set[str]:
    """The ESS legal categories, read from the code list with SPARQL (independently of the ingest)."""
    store = ox.Store()
    store.load(path=str(ROOT / "ontology" / "vocabularies" / "categories-juridiques.ttl"), format=ox.RdfFormat.TURTLE)
    rows = store.query("""SELECT ?c WHERE { <https://w3id.org/ptce/concept/categories-juridiques/ess-par-statut>
        <http://www.w3.org/2004/02/skos/core#member>/<http://www.w3.org/2004/02/skos/core#member> ?c }""")
    return {row["c"].value.rsplit("/", 1)[1] for row in rows}


def csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


# -- pure functions ---------------------------------------------------------------------------------

def test_lambert93_to_wgs84_known_points():
    from ptcekb.ingest.sirene import lambert93_to_wgs84

    # the projection's origin (IGN: 3° E, 46.5° N at 700,000 / 6,600,000 m)
    lon, lat = lambert93_to_wgs84(700000, 6600000)
    assert abs(lon - 3.0) < 1e-9 and abs(lat - 46.5) < 1e-9
    # a point in Paris and one in Corsica, reference values from PROJ (pyproj 3.7.2, EPSG:2154 -> EPSG:4326)
    for (x, y), (elon, elat) in (((652469.02, 6862035.26), (2.3521999630139847, 48.8566000050153)),
                                 ((1200000, 6100000), (9.010871731777478, 41.82950613985793))):
        lon, lat = lambert93_to_wgs84(x, y)
        assert abs(lon - elon) < 1e-8 and abs(lat - elat) < 1e-8


def test_the_template_and_sirene_share_the_identity_triples():
    from ptcekb.ingest import registry
    from ptcekb.ingest.template import mapping

    assert mapping._registered is registry.registered and mapping._establishment is registry.establishment


# -- the real samples: 33 columns (zipped) with 53-column establishments -----------------------------

def test_real_33_column_sample_zipped_with_establishments(kb, tmp_path):
    archive = tmp_path / "StockUniteLegale_utf8.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(UNITS_33, "StockUniteLegale_utf8.csv")
    result = ingest(kb, archive, ESTABLISHMENTS)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr

    rows = csv_rows(UNITS_33)
    families = ess_family_codes()
    referenced = {"005520176", "006080170", "005420120", "046620266", "666666664", "565656568", "101010106"}
    expected = {r["siren"] for r in rows if r["economieSocialeSolidaireUniteLegale"] == "O"
                or r["categorieJuridiqueUniteLegale"] in families or r["siren"] in referenced}
    graph = sirene_graph(kb)
    units = {s[len(ORG):] for s in subjects(graph) if s.startswith(ORG) and "#" not in s}
    assert units == expected
    assert {"005520176", "005420120", "006080170"} <= units  # referenced by (fictional) memberships

    # an ESS cooperative by its legal category, described as the ontology says
    coop = ORG + "005650148"
    assert objects(graph, coop, PTCE + "siren") == {"005650148"}
    assert objects(graph, coop, "http://www.w3.org/ns/regorg#legalName") == {"SCIC VALDURANCE HABITAT"}
    assert objects(graph, coop, PTCE + "legalCategory") == {"https://w3id.org/ptce/concept/categories-juridiques/5560"}
    assert objects(graph, coop, PTCE + "essFlag") == {"true"}
    assert objects(graph, coop, PTCE + "nafCode") == {"68.20A"}
    assert objects(graph, coop, PTCE + "activityNomenclature") == {"NAFRev2"}
    assert objects(graph, coop, PTCE + "headcountBand") == {"https://w3id.org/ptce/concept/tranches-effectifs/01"}
    assert objects(graph, coop, PTCE + "headcountYear") == {"2019"}
    assert objects(graph, coop, PTCE + "creationDate") == {"1956-01-01"}
    assert objects(graph, coop, PTCE + "administrativeStatus") == {"https://w3id.org/ptce/concept/etats-administratifs/A"}
    assert objects(graph, coop, "http://www.w3.org/ns/org#hasRegisteredSite") == {SITE + "00565014800033"}
    assert objects(graph, coop, "http://www.w3.org/2000/01/rdf-schema#seeAlso") == {
        "https://annuaire-entreprises.data.gouv.fr/entreprise/005650148"}
    assert PTCE + "EntrepriseESSDeStatut" in objects(graph, coop, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert objects(graph, coop + "#siren", "http://www.w3.org/2004/02/skos/core#notation") == {"005650148"}

    # a referenced company outside the ESS, with its establishments on COG communes
    company = ORG + "005520176"
    assert PTCE + "EntrepriseHorsESS" in objects(graph, company, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    sites = objects(graph, company, "http://www.w3.org/ns/org#hasSite")
    assert sites == {SITE + "00552017600016", SITE + "00552017600032"}
    assert objects(graph, SITE + "00552017600016", PTCE + "commune") == {BASE + "id/commune/80308"}
    assert objects(graph, SITE + "00552017600016", PTCE + "siret") == {"00552017600016"}
    assert not any(s.startswith(SITE + "005410949") for s in subjects(graph)), "establishments of dropped units"

    # linking of the (fictional) members
    linked = members(kb)
    assert linked[ORG + "005520176"]["statut"] == "linked"
    assert linked[PUBLISHER + "id/organisation/membre-siren"]["statut"] == "linked"
    assert linked[PUBLISHER + "id/organisation/membre-siret"]["statut"] == "linked"
    assert linked[ORG + "046620266"]["statut"] == "not-in-register"
    assert linked[PUBLISHER + "id/organisation/membre-absent"]["statut"] == "not-in-register"
    unresolved = linked[PUBLISHER + "id/organisation/membre-sans-numero"]
    assert unresolved["statut"] == "unresolved" and unresolved["candidats"] == "005650148"
    store = open_store(kb)
    assert not store.query(f"ASK {{ <{PUBLISHER}id/organisation/membre-sans-numero> ?p <{ORG}005650148> }}",
                           use_default_graph_as_union=True), "a candidate is never linked automatically"
    assert "linked" in result.stderr and "unresolved" in result.stderr


def test_real_35_column_sample_replaces_the_graph(kb):
    result = ingest(kb, UNITS_35)
    assert result.returncode == 0, result.stderr
    graph = sirene_graph(kb)
    units = {s[len(ORG):] for s in subjects(graph) if s.startswith(ORG) and "#" not in s}
    assert units == {"046620266"}, "only the referenced unit; the previous graph is gone"
    unit = ORG + "046620266"
    assert objects(graph, unit, PTCE + "legalCategoryCode") == {"5710"}
    assert objects(graph, unit, PTCE + "essFlag") == {"false"}
    assert not objects(graph, unit, PTCE + "missionCompanyFlag"), "empty societeMissionUniteLegale"
    assert members(kb)[ORG + "046620266"]["statut"] == "linked"


# -- the same real rows in every layout: the same triples, the other graphs untouched -----------------

EXPECTED = FIXTURES / "expected" / "sirene-real-samples.nt"


def header_of(path: Path) -> list[str]:
    return next(csv.reader(io.StringIO(path.read_text(encoding="utf-8").split("\n", 1)[0])))


def real_rows_in_layout(columns: int, path: Path) -> Path:
    """The 526 real rows of the 33-column sample re-written, by column name, in an INSEE layout
    (33, 34 or 35 columns; the 34 and 35 headers are INSEE's, from the fixtures)."""
    header = {33: header_of(UNITS_33), 34: header_of(UNITS_34), 35: header_of(UNITS_35)}[columns]
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, header, restval="", extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in csv_rows(UNITS_33):
            if "activitePrincipaleNAF25UniteLegale" in header:  # filled as INSEE does; never written
                row["activitePrincipaleNAF25UniteLegale"] = row["activitePrincipaleUniteLegale"][:5] + "Y"
            writer.writerow(row)
    return path


def sorted_ntriples(store: Path, graph: str) -> list[str]:
    text = open_store(store).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph)).decode("utf-8")
    return sorted(text.splitlines())


def other_graphs(store: Path) -> ox.Dataset:
    """Every graph but SIRENE and meta, canonicalized (blank nodes relabelled the same way)."""
    dataset = ox.Dataset(q for q in open_store(store)
                         if q.graph_name not in (ox.NamedNode(SIRENE), ox.NamedNode(BASE + "graph/meta")))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return dataset


@pytest.mark.parametrize("columns", [33, 34, 35])
def test_the_same_real_rows_give_the_same_triples_in_every_layout(kb, tmp_path, columns):
    """The graph of the real rows is the one recorded before the reading was changed (issue 23), in
    every layout; consecutive runs start from the base saved by the previous one (``Base``), and the
    other graphs stay what they were."""
    before = other_graphs(kb)
    result = ingest(kb, real_rows_in_layout(columns, tmp_path / "StockUniteLegale_utf8.csv"), ESTABLISHMENTS)
    assert result.returncode == 0, result.stderr
    assert sorted_ntriples(kb, SIRENE) == EXPECTED.read_text(encoding="utf-8").splitlines()
    assert other_graphs(kb) == before
    derived = kb.with_name(kb.name + ".sirene")
    assert json.loads((derived / "sirene.base.json").read_text())["build"] == os.readlink(kb).rsplit("/", 1)[1]
    report = json.loads((derived / "sirene.json").read_text())
    assert report["inputs"][0]["columns"] == columns
    store = open_store(kb)
    (row,) = store.query(f"SELECT ?n WHERE {{ GRAPH <{BASE}graph/meta> {{ <{SIRENE}> <http://rdfs.org/ns/void#triples> ?n }} }}")
    assert int(row["n"].value) == len(EXPECTED.read_text(encoding="utf-8").splitlines())


def test_the_base_is_used_only_for_the_build_it_went_into(tmp_path):
    from ptcekb.publish import Base

    base = Base(tmp_path, "sirene")
    assert not base.usable_for(tmp_path / "20260101T000000.000000-1")
    store = ox.Store(str(tmp_path / "build"))
    store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("o"),
                      ox.NamedNode("http://example.org/g")))
    base.save(store)
    assert not base.usable_for(tmp_path / "20260101T000000.000000-1"), "not before the build is published"
    base.adopt("20260101T000000.000000-1")
    assert base.usable_for(tmp_path / "20260101T000000.000000-1")
    assert not base.usable_for(tmp_path / "20260101T000000.000000-2"), "another build published since (build, /update)"
    assert len(ox.Store.read_only(str(base.path))) == 1


def ingest_on_a_terminal(store: Path, units: Path, establishments: Path) -> str:
    """Run the ingest with stderr on a pseudo-terminal (not in CI); what it wrote there."""
    import pty

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    process = subprocess.Popen([sys.executable, "-m", "ptcekb.cli", "ingest", "sirene", "--store", str(store),
                                "--unites-legales", str(units), "--etablissements", str(establishments)],
                               cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    output = b""
    while True:
        try:
            block = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not block:
            break
        output += block
    os.close(master)
    assert process.wait(timeout=600) == 0, output.decode("utf-8", "replace")
    return output.decode("utf-8").replace("\r\n", "\n")


def test_progress_on_a_terminal_and_the_same_summary(kb):
    """On a terminal the ingest shows rows read, kept, rejected and the rate of each file; the
    summary after it is the one printed without a terminal, and the counts agree with it."""
    quiet = ingest(kb, UNITS_34, ESTABLISHMENTS_FICTIF)
    assert quiet.returncode == 0, quiet.stderr
    assert "rows read" not in quiet.stderr, "silent when stderr is not a terminal"
    shown = ingest_on_a_terminal(kb, UNITS_34, ESTABLISHMENTS_FICTIF)
    progress = [part.strip() for line in shown.split("\n") for part in line.split("\r") if "rows read" in part]
    units = [p for p in progress if p.startswith("legal units:")]
    sites = [p for p in progress if p.startswith("establishments:")]
    assert units and sites, shown
    summary = [line for line in shown.split("\n") if "\r" not in line and "rows read" not in line and line]

    def same(lines: list[str]) -> list[str]:
        return [re.sub(r" in \d+ s$", "", line) for line in lines]

    assert same(summary) == same(quiet.stderr.splitlines())
    read = re.search(r"read ([\d,]+) legal units and ([\d,]+) establishments", quiet.stderr)
    kept = re.search(r"kept ([\d,]+) legal units .* and ([\d,]+) establishments", quiet.stderr)
    n_units, n_sites = (int(x.replace(",", "")) for x in read.groups())
    k_units, k_sites = (int(x.replace(",", "")) for x in kept.groups())
    rejected = sum(int(n.replace(",", "")) for n in re.findall(r"([\d,]+) [a-zA-Z -]+(?:,|$| ->)",
                                                                 quiet.stderr.split("rejected / rejets: ")[1].split(" -> ")[0]))
    last_units = re.match(r"legal units: ([\d,]+) rows read, ([\d,]+) kept, ([\d,]+) rejected, [\d,]+ rows/s", units[-1])
    last_sites = re.match(r"establishments: ([\d,]+) rows read, ([\d,]+) kept, ([\d,]+) rejected, [\d,]+ rows/s", sites[-1])
    assert last_units and last_sites, (units, sites)
    assert [int(x.replace(",", "")) for x in last_units.groups()][:2] == [n_units, k_units]
    assert [int(x.replace(",", "")) for x in last_sites.groups()] == [n_sites, k_sites, rejected]


# -- the fictional 34-column rows: privacy, rejects, quoting, coordinates ------------------------------

def test_fictional_34_column_rows_privacy_and_rejects(kb):
    result = ingest(kb, UNITS_34, ESTABLISHMENTS_FICTIF)
    assert result.returncode == 0, result.stderr
    graph = sirene_graph(kb)
    text = ox.serialize(graph, format=ox.RdfFormat.N_QUADS).decode()
    units = {s[len(ORG):] for s in subjects(graph) if s.startswith(ORG) and "#" not in s}
    assert units == {"777777772", "666666664", "999999998", "121212120", "343434346", "565656568"}
    # privacy: the unreferenced individual entrepreneur is absent, the referenced one has no name
    assert "888888880" not in text and "AUTRENOM" not in text
    for personal in ("NOMFICTIF", "PRENOMFICTIF", "PSEUDOFICTIF", "USAGEFICTIF", "CHEMIN DU DOMICILE"):
        assert personal not in text
    assert objects(graph, ORG + "666666664", "http://www.w3.org/2004/02/skos/core#prefLabel") == {
        "Entrepreneur individuel (SIREN 666666664)"}
    person_site = SITE + "66666666400014"
    assert objects(graph, person_site, PTCE + "commune") == {BASE + "id/commune/26108"}
    assert not objects(graph, person_site, "http://www.opengis.net/ont/geosparql#hasGeometry")
    assert not objects(graph, person_site, "http://www.w3.org/ns/locn#address")
    # statutDiffusion = P: no protected field
    for protected in ("SCOP PROTEGEE", "USUEL PROTEGE", '"SPF"'):
        assert protected not in text
    assert not objects(graph, SITE + "99999999800019", "http://www.opengis.net/ont/geosparql#hasGeometry")
    assert objects(graph, SITE + "99999999800019", PTCE + "commune") == {BASE + "id/commune/26108"}
    # quoted fields, over one line and over two
    assert objects(graph, ORG + "121212120", "http://www.w3.org/ns/regorg#legalName") == {"COOPERATIVE FICTIVE, UNION DES PRODUCTEURS"}
    assert objects(graph, ORG + "343434346", "http://www.w3.org/ns/regorg#legalName") == {"ATELIER FICTIF\nSUR DEUX LIGNES"}
    # the 2024 flag and the class of an ESS company by the flag only
    scic = ORG + "565656568"
    assert objects(graph, scic, PTCE + "missionCompanyFlag") == {"true"}
    classes = objects(graph, scic, "http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    assert PTCE + "EntrepriseESS" in classes and PTCE + "EntrepriseESSDeStatut" not in classes
    # Lambert-93 -> WGS84 point; a commune déléguée -> its current commune
    (wkt,) = objects(graph, SITE + "77777777200016#geometrie", "http://www.opengis.net/ont/geosparql#asWKT")
    lon, lat = map(float, re.match(r"POINT\(([-\d.]+) ([-\d.]+)\)", wkt).groups())
    assert abs(lon - 5.0227) < 1e-5 and abs(lat - 44.7283) < 1e-5
    assert objects(graph, SITE + "77777777200024", PTCE + "commune") == {BASE + "id/commune/26210"}

    found = {(r["fichier"], r["ligne"]): r for r in rejects(kb)}
    assert set(found) == {(UNITS_34.name, "6"), (UNITS_34.name, "7"), (UNITS_34.name, "11"),
                          (ESTABLISHMENTS_FICTIF.name, "4"), (ESTABLISHMENTS_FICTIF.name, "8")}
    assert "Luhn" in found[(UNITS_34.name, "6")]["motif"]
    assert "5 fields" in found[(UNITS_34.name, "7")]["motif"]
    assert "never closed" in found[(UNITS_34.name, "11")]["motif"]
    assert "26999" in found[(ESTABLISHMENTS_FICTIF.name, "4")]["motif"]
    assert found[(ESTABLISHMENTS_FICTIF.name, "4")]["action"] == "establishment kept without its commune"
    assert "Luhn" in found[(ESTABLISHMENTS_FICTIF.name, "8")]["motif"]
    assert SITE + "77777777200032" in subjects(graph) and SITE + "12121212000013" not in subjects(graph)
    assert "2 broken line, 1 invalid SIREN, 1 invalid SIRET, 1 unknown commune" in result.stderr


# -- the competency questions on SIRENE data --------------------------------------------------------

def run(store: Path, name: str) -> list[dict]:
    result = open_store(store).query((ROOT / "queries" / name).read_text(encoding="utf-8"), use_default_graph_as_union=True)
    return [{v.value: (row[v.value].value if row[v.value] is not None else None) for v in result.variables} for row in result]


@pytest.fixture(scope="module")
def combined(kb, tmp_path_factory) -> Path:
    """Real and fictional rows in one 34-column file (real rows re-laid out by column name)."""
    directory = tmp_path_factory.mktemp("combined")
    header = next(csv.reader(io.StringIO(UNITS_34.read_text(encoding="utf-8"))))
    units = directory / "StockUniteLegale_utf8.csv"
    with open(units, "w", encoding="utf-8", newline="") as stream:
        stream.write(UNITS_34.read_text(encoding="utf-8"))
        writer = csv.DictWriter(stream, header, restval="", lineterminator="\n")
        writer.writerows(csv_rows(UNITS_33))
    establishments = directory / "StockEtablissement_utf8.csv"
    establishments.write_text(ESTABLISHMENTS_FICTIF.read_text(encoding="utf-8")
                              + "".join(ESTABLISHMENTS.read_text(encoding="utf-8").splitlines(keepends=True)[1:]),
                              encoding="utf-8")
    result = ingest(kb, units, establishments)
    assert result.returncode == 0, result.stderr
    return kb


def test_ess_enterprises_of_the_territory_that_are_not_members(combined):
    answer = [row for row in run(combined, "ess-du-territoire-non-membres.rq") if row["ptce"] == POLE]
    # Drôme (26): the fictional association of Crest, the SCOP (partially diffusible, named without
    # its name), the association on two lines; not the member individual entrepreneur, not Abbeville (80)
    assert {row["entreprise"][len(ORG):] for row in answer} == {"777777772", "999999998", "343434346"}
    assert {row["commune"] for row in answer} == {BASE + "id/commune/26108"}, "only active establishments"


def test_share_of_ess_members_with_sirene(combined):
    (row,) = [row for row in run(combined, "part-ess-des-membres.rq") if row["ptce"] == POLE]
    # 8 members; ESS: the one named by its own IRI and SIREN 006080170 (flag O) and the SCIC SAS (flag O)
    assert (int(row["membres"]), int(row["membresESS"])) == (8, 2)
    assert float(row["partESS"]) == 0.25


def test_members_per_legal_category_family(combined):
    answer = {row["famille"]: int(row["membres"]) for row in run(combined, "membres-par-famille-juridique.rq")
              if row["ptce"] == POLE}
    # cooperatives: 006080170 (5560); outside the families: 005520176 (5710), the SIRET member's unit
    # 005420120 (5599), 666666664 (1000), 565656568 (5710); unknown: 046620266 (not in this file), the
    # member known by its name only, the SIREN in no file
    assert answer == {"ess-cooperatives": 1, "hors-familles-ess": 4, "categorie-inconnue": 3}


# -- territory pages on SIRENE data (issue 20, item 7) ----------------------------------------------

def ess_units_by_commune(store: Path) -> dict[str, set[str]]:
    """Active ESS units per commune code, read from graph/sirene by triple lookups (not by the page's
    SPARQL): ESS flag or an ESS class, unit not ceased, establishment not closed."""
    graph = sirene_graph(store)
    rdf_type, status = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", PTCE + "administrativeStatus"
    ess_classes = {PTCE + "EntrepriseESS", PTCE + "EntrepriseESSDeStatut", PTCE + "SocieteCommercialeESS"}
    states = "https://w3id.org/ptce/concept/etats-administratifs/"
    found: dict[str, set[str]] = {}
    for unit in {s for s in subjects(graph) if s.startswith(ORG) and "#" not in s}:
        if not (objects(graph, unit, PTCE + "essFlag") == {"true"} or objects(graph, unit, rdf_type) & ess_classes):
            continue
        if states + "C" in objects(graph, unit, status):
            continue
        for site in objects(graph, unit, "http://www.w3.org/ns/org#hasSite"):
            if states + "F" not in objects(graph, site, status):
                for commune in objects(graph, site, PTCE + "commune"):
                    found.setdefault(commune.rsplit("/", 1)[1], set()).add(unit[len(ORG):])
    return found


def section(page: str, name: str) -> str:
    found = re.search(f'<section id="{name}">(.*?)</section>', page, re.DOTALL)
    return found.group(1) if found else ""


def test_territory_pages_list_ess_establishments_and_ptces_by_relation(combined):
    """A commune, its EPCI, its département and its région list the ESS enterprises established in
    them (the real sample rows with the fictional ones: the real ESS units have no establishment in
    the sample); a PTCE shows on the pages of its own, containing and contained territories."""
    from ptcekb.ingest.cog import load_snapshot

    cog = load_snapshot(ROOT / "data" / "reference" / "cog-2026.json.gz")
    communes = {c["code"]: c for c in cog["communes"] if c["type"] == "commune-actuelle"}
    epci_of = {member: e["code"] for e in cog["epci"] for member in e["membres"]}
    by_commune = ess_units_by_commune(combined)
    assert by_commune.get("26108"), "the fixture has ESS establishments in Crest"
    expected = {"commune/26108": by_commune["26108"]}
    for path, belongs in ((f"epci/{epci_of['26108']}", lambda code: epci_of.get(code) == epci_of["26108"]),
                          ("departement/26", lambda code: communes[code]["departement"] == "26"),
                          ("region/84", lambda code: communes[code]["region"] == "84"),
                          ("region/32", lambda code: communes[code]["region"] == "32")):
        expected[path] = {unit for code, units in by_commune.items() if belongs(code) for unit in units}
    assert expected["region/84"] >= expected["departement/26"] >= expected[f"epci/{epci_of['26108']}"] >= expected["commune/26108"]
    assert expected["region/32"], "Abbeville (80001): an ESS establishment outside the Drôme"

    server = Server(combined)
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            pages = {path: http.get(f"/id/{path}", params={"lang": "fr"}) for path in expected}
            pages["commune/26281"] = http.get("/id/commune/26281")
        assert all(page.status_code == 200 for page in pages.values())
        for path, units in expected.items():
            listed = set(re.findall(r'href="/id/organisation/(\d{9})"', section(pages[path].text, "ess-here")))
            assert listed == units, path
            assert 'id="sections-missing"' not in pages[path].text, path

        # the fictional PTCE's territory is the Drôme: its own page, the pages it contains, the région containing it
        fictional = "pole-fictif"
        relation = {path: [name for name in ("same", "contains", "within") if fictional in section(page.text, f"ptce-{name}")]
                    for path, page in pages.items()}
        assert relation["departement/26"] == ["same"]
        assert relation["commune/26108"] == relation[f"epci/{epci_of['26108']}"] == relation["commune/26281"] == ["contains"]
        assert relation["region/84"] == ["within"]
        assert relation["region/32"] == []
        # Pôle Sud (curated): seated in Romans-sur-Isère (26281), its sources name the région 84
        archer = 'href="/id/ptce/pole-sud-archer"'
        assert archer in section(pages["commune/26281"].text, "ptce-same")
        assert archer in section(pages["departement/26"].text, "ptce-within")
        assert archer in section(pages["region/84"].text, "ptce-same")
        assert archer not in pages["commune/26108"].text, "a named région is a place, not a territory containing Crest"
    finally:
        server.stop()
    assert "Traceback" not in server.output()


# -- atomicity and carry-over -----------------------------------------------------------------------

def count(store: Path) -> int:
    (row,) = open_store(store).query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{SIRENE}> {{ ?s ?p ?o }} }}")
    return int(row["n"].value)


def test_interrupted_run_leaves_the_previous_graph(combined):
    before, target = count(combined), os.readlink(combined)
    derived = combined.with_name(combined.name + ".sirene") / "sirene.nt"
    digest = hashlib.sha256(derived.read_bytes()).hexdigest()
    with open(combined.with_name(combined.name + ".builds") / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # as if another build or ingest were running
        result = ingest(combined, UNITS_35)
    assert result.returncode == 1 and "another build" in result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert os.readlink(combined) == target and count(combined) == before
    assert hashlib.sha256(derived.read_bytes()).hexdigest() == digest
    assert not list(derived.parent.glob("*.partial"))


def test_killed_run_leaves_the_previous_graph(combined, tmp_path):
    """kill -9 while the stock files are read into a new build: the previous build stays served."""
    sys.path.insert(0, str(ROOT / "bench"))
    from sirene_generate import generate  # fictional rows in the real layout

    generate(100_000, tmp_path, as_zip=False)
    before, target = count(combined), os.readlink(combined)
    derived = combined.with_name(combined.name + ".sirene")
    digest = hashlib.sha256((derived / "sirene.nt").read_bytes()).hexdigest()
    builds = combined.with_name(combined.name + ".builds")
    process = subprocess.Popen(
        [sys.executable, "-m", "ptcekb.cli", "ingest", "sirene", "--store", str(combined),
         "--unites-legales", str(tmp_path / "StockUniteLegale_utf8.csv"),
         "--etablissements", str(tmp_path / "StockEtablissement_utf8.csv")],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not (list(builds.glob("*.partial")) and any(p.stat().st_size for p in derived.glob(".sirene.nt.*.partial"))):
        assert process.poll() is None and time.monotonic() < deadline, "the ingest ended before it could be killed"
        time.sleep(0.01)
    process.kill()
    process.wait()
    assert os.readlink(combined) == target and count(combined) == before
    assert hashlib.sha256((derived / "sirene.nt").read_bytes()).hexdigest() == digest


def test_rebuild_keeps_the_sirene_graph(combined):
    before = count(combined)
    result = ptcekb("build", "--store", str(combined))
    assert result.returncode == 0, result.stderr
    assert count(combined) == before > 0
    store = open_store(combined)
    assert store.query(f"""ASK {{ GRAPH <{BASE}graph/meta> {{ <{BASE}dataset> <http://rdfs.org/ns/void#subset> <{SIRENE}> .
        <{SIRENE}> <http://rdfs.org/ns/void#triples> {before} ;
                   <http://www.w3.org/ns/prov#wasDerivedFrom>/<http://purl.org/dc/terms/identifier> "StockUniteLegale_utf8.csv" }} }}""")


# -- bad input: one line, exit 2 --------------------------------------------------------------------

@pytest.mark.parametrize("case", ["missing", "establishments-as-units", "empty", "two-csv-in-zip", "no-store"])
def test_bad_input_is_one_line_with_exit_2(kb, tmp_path, case):
    store, units = kb, UNITS_33
    if case == "missing":
        units = tmp_path / "absent.csv"
    elif case == "establishments-as-units":
        units = ESTABLISHMENTS
    elif case == "empty":
        units = tmp_path / "empty.csv"
        units.write_text("")
    elif case == "two-csv-in-zip":
        units = tmp_path / "two.zip"
        with zipfile.ZipFile(units, "w") as out:
            out.write(UNITS_33, "a.csv")
            out.write(UNITS_35, "b.csv")
    else:
        store = tmp_path / "nothing-built"
    result = ingest(store, units)
    assert result.returncode == (1 if case == "no-store" else 2), result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ptcekb: error: "), result.stderr
    if case == "establishments-as-units":
        assert "categorieJuridiqueUniteLegale" in result.stderr


# -- validation: members given only by SIREN or SIRET are resolved against graph/sirene ---------------

RESOLVED = """@prefix ptce: <https://w3id.org/ptce/def#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://example.org/pub/id/ptce/p> a ptce:PTCE ; skos:prefLabel "Pôle résolu (fictif)"@fr ;
    ptce:territory <https://w3id.org/ptce/id/commune/26108> ;
    org:hasMember <http://example.org/pub/id/organisation/a>, <http://example.org/pub/id/organisation/b>,
                  <http://example.org/pub/id/organisation/c> .
# fictional association of Crest (SIRENE flag O), given by its SIREN and its establishment's SIRET only
<http://example.org/pub/id/organisation/a> ptce:siren "777777772" ; org:hasSite <http://example.org/pub/id/site/a> .
<http://example.org/pub/id/site/a> ptce:siret "77777777200016" .
# real sample rows: COOP BREIZH (flag O), and HERNAS CARTONNAGE (an SAS, 5710) declared ESS by statute
<http://example.org/pub/id/organisation/b> ptce:siren "006080170" .
<http://example.org/pub/id/organisation/c> a ptce:EntrepriseESSDeStatut ; ptce:siren "005520176" .
"""


def test_validation_resolves_members_given_by_siren_or_siret(combined, built_store, tmp_path):
    """With SIRENE (the real sample rows and the fictional ones) the members given only by their
    numbers get SIRENE's facts: two more ESS members, the commune of an establishment, and a legal
    category that contradicts a declared ESS statute. Without SIRENE, none of that is known."""
    data = tmp_path / "resolu.ttl"
    data.write_text(RESOLVED, encoding="utf-8")

    def shapes(store) -> dict[str, set[str]]:
        result = ptcekb("validate", "--store", str(store), "--format", "turtle", str(data))
        assert "Traceback" not in result.stderr, result.stderr
        graph = ox.Store()
        graph.load(result.stdout.encode(), format=ox.RdfFormat.TURTLE)
        found: dict[str, set[str]] = {}
        for row in graph.query("""PREFIX sh: <http://www.w3.org/ns/shacl#>
                SELECT ?shape ?focus ?value WHERE { ?r sh:sourceShape ?shape ; sh:focusNode ?focus OPTIONAL { ?r sh:value ?value } }"""):
            found.setdefault(row["shape"].value.rsplit("#", 1)[-1], set()).add(
                row["value"].value if row["value"] is not None else row["focus"].value)
        return found

    without, with_sirene = shapes(built_store), shapes(combined)
    assert "Art9-1-EntreprisesESS" in without  # only c is ESS (by its declared class)
    assert "Art9-1-EntreprisesESS" not in with_sirene  # a and b are ESS by SIRENE's flag
    assert "Art9-1-CategorieDesEntreprisesESSDeStatut" not in without
    assert with_sirene["Art9-1-CategorieDesEntreprisesESSDeStatut"] >= {BASE + "concept/categories-juridiques/5710"}
    # a is located on the territory by its SIRENE establishment (Crest, 26108); b's commune is unknown
    located = with_sirene.get("Art9-2-MembresESSSurLeTerritoire", set())
    assert "http://example.org/pub/id/organisation/b" in located
    assert "http://example.org/pub/id/organisation/a" not in located
