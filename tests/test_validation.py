"""Validation against article 9: each shape breaks on its own fixture, the conforming PTCE passes,
unreadable input exits 2, and the HTTP service gives the same findings."""

from __future__ import annotations

import csv
import json

import pyoxigraph as ox
import pytest

from conftest import ROOT, ptcekb

FIXTURES = ROOT / "tests" / "fixtures" / "validation"
SH = "http://www.w3.org/ns/shacl#"
VIOLATION, WARNING = SH + "Violation", SH + "Warning"
EXPECTED = list(csv.DictReader((FIXTURES / "EXPECTED.tsv").open(encoding="utf-8"), delimiter="\t")) \
    if (FIXTURES / "EXPECTED.tsv").exists() else []


def findings(turtle: str) -> set[tuple[str, str]]:
    """(source shape, severity) of every result of a SHACL validation report."""
    store = ox.Store()
    store.load(turtle.encode(), format=ox.RdfFormat.TURTLE)
    rows = store.query(f"""SELECT ?shape ?severity WHERE {{ ?report <{SH}result> ?r .
        ?r <{SH}sourceShape> ?shape ; <{SH}resultSeverity> ?severity }}""")
    return {(row["shape"].value if isinstance(row["shape"], ox.NamedNode) else "_:", row["severity"].value) for row in rows}


def validate(built_store, *paths, fmt="turtle", lang="fr"):
    return ptcekb("validate", "--store", str(built_store), "--format", fmt, "--lang", lang, *map(str, paths))


def test_the_conforming_ptce_passes(built_store):
    result = validate(built_store, FIXTURES / "conforme.ttl")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not {f for f in findings(result.stdout) if f[1] in (VIOLATION, WARNING)}


def test_every_shape_has_a_fixture():
    """Every shape that reports (it has a severity) is broken on its own by one fixture; shapes
    without severity are building blocks referenced by the others."""
    store = ox.Store()
    for path in (ROOT / "shapes").glob("*.ttl"):
        store.load(path=str(path), format=ox.RdfFormat.TURTLE)
    reporting = {row["s"].value for row in store.query(f"SELECT ?s WHERE {{ ?s <{SH}severity> ?v FILTER(isIRI(?s)) }}")}
    assert len(reporting) >= 40
    assert reporting == {row["shape"] for row in EXPECTED}


@pytest.mark.parametrize("case", EXPECTED, ids=lambda c: c["file"])
def test_each_broken_fixture_reports_exactly_its_shape(built_store, case):
    result = validate(built_store, FIXTURES / case["file"])
    reported = findings(result.stdout)
    assert (case["shape"], case["severity"]) in reported, reported
    others = {f for f in reported if f[0] != case["shape"] and f[1] in (VIOLATION, WARNING)}
    assert {shape for shape, _ in others} == set(case["also"].split()), others
    assert result.returncode == (1 if case["severity"] == VIOLATION else 0)


def test_human_report_speaks_the_publishers_language(built_store):
    case = next(c for c in EXPECTED if c["severity"] == VIOLATION)
    for lang, word in (("fr", "Pour corriger"), ("en", "To fix")):
        result = validate(built_store, FIXTURES / case["file"], fmt="human", lang=lang)
        assert result.returncode == 1
        assert "Violation" in result.stdout and word in result.stdout
        assert "sh:" not in result.stdout.split("\n")[0]


def test_json_ld_and_html_reports(built_store):
    result = validate(built_store, FIXTURES / "conforme.ttl", fmt="json-ld")
    assert result.returncode == 0
    assert json.loads(result.stdout)
    result = validate(built_store, FIXTURES / "conforme.ttl", fmt="html")
    assert result.stdout.lstrip().startswith("<!doctype html>")


@pytest.mark.parametrize("name, fragment", [
    ("vide.ttl", "empty"), ("syntaxe.ttl", "syntaxe.ttl:"), ("format.xyz", "unknown RDF file extension"),
])
def test_unreadable_input_exits_2(built_store, name, fragment):
    result = validate(built_store, FIXTURES / name, fmt="human")
    assert result.returncode == 2 and fragment in result.stderr and "Traceback" not in result.stderr


def test_syntax_error_names_line_and_column(built_store):
    result = validate(built_store, FIXTURES / "syntaxe.ttl", fmt="human")
    line = result.stderr.split("syntaxe.ttl:")[1].split(":")
    assert line[0].isdigit() and line[1].isdigit()


def test_data_without_ptce(built_store):
    result = validate(built_store, FIXTURES / "sans-ptce.ttl", fmt="human")
    assert result.returncode == 1 and "Aucun PTCE" in result.stdout


def test_publisher_template_directory_validates(built_store):
    result = validate(built_store, ROOT / "examples" / "template", fmt="human")
    assert result.returncode == 0, result.stdout + result.stderr


# -- over HTTP -----------------------------------------------------------------------------------

def test_upload_form(http):
    response = http.get("/validate")
    assert response.status_code == 200 and "<form" in response.text and 'type="file"' in response.text


def test_post_turtle_returns_the_same_findings(http, built_store):
    case = next(c for c in EXPECTED if c["severity"] == VIOLATION)
    body = (FIXTURES / case["file"]).read_bytes()
    response = http.post("/validate", content=body, headers={"Content-Type": "text/turtle", "Accept": "text/turtle"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/turtle")
    assert findings(response.text) == findings(validate(built_store, FIXTURES / case["file"]).stdout)


def test_multipart_upload_gives_html(http):
    files = {"file": ("conforme.ttl", (FIXTURES / "conforme.ttl").read_bytes(), "text/turtle")}
    response = http.post("/validate", files=files, headers={"Accept": "text/html"})
    assert response.status_code == 200 and "conforme" in response.text.lower()


def test_json_ld_report(http):
    response = http.post("/validate", content=(FIXTURES / "conforme.ttl").read_bytes(),
                         headers={"Content-Type": "text/turtle", "Accept": "application/ld+json"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/ld+json")


def test_upload_errors(http):
    assert http.post("/validate", content=b"x" * (10 * 1024 * 1024 + 1), headers={"Content-Type": "text/turtle"}).status_code == 413
    assert http.post("/validate", content=b"<a> <b> <c> .", headers={"Content-Type": "image/png"}).status_code == 415
    response = http.post("/validate", content=(FIXTURES / "syntaxe.ttl").read_bytes(), headers={"Content-Type": "text/turtle"})
    assert response.status_code == 400 and "Traceback" not in response.text


def test_compliance_of_a_ptce_of_the_knowledge_base(http):
    iri = "https://w3id.org/ptce/id/ptce/culture-et-cooperation"
    response = http.get("/validate", params={"ptce": iri}, headers={"Accept": "text/html"})
    assert response.status_code == 200 and "Culture et Coopération" in response.text
    assert http.get("/validate", params={"ptce": iri + "-unknown"}).status_code == 404


# -- rules of issue 20: ill-typed literals, tagged messages of SPARQL constraints ------------------

def test_an_impossible_date_is_a_finding_not_a_traceback(built_store):
    result = validate(built_store, FIXTURES / "casse-Qualite-ValeursBienTypees.ttl", fmt="human", lang="en")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Failed to convert" not in result.stderr, result.stderr
    assert "2016-02-30" in result.stdout and "Values valid for their datatype" in result.stdout
    # the finding belongs to the PTCE whose membership period holds the date (a blank node)
    assert "does not conform to article 9" in result.stdout and "outside any PTCE" not in result.stdout


def test_messages_of_sparql_constraints_carry_french_and_english(built_store):
    """pySHACL writes them untagged; the report gives the constraint's messages in both languages."""
    for name in ("casse-Art9-2-MembresESSSurLeTerritoire.ttl", "casse-Qualite-ClassesDisjointes.ttl",
                 "casse-Art9-1-CategorieDesEntreprisesESSDeStatut.ttl"):
        store = ox.Store()
        store.load(validate(built_store, FIXTURES / name).stdout.encode(), format=ox.RdfFormat.TURTLE)
        rows = list(store.query(f"SELECT ?r ?m WHERE {{ ?r <{SH}sourceConstraint> ?c ; <{SH}resultMessage> ?m }}"))
        assert rows, name
        by_result = {}
        for row in rows:
            by_result.setdefault(row["r"], set()).add(row["m"].language)
        assert all(languages == {"fr", "en"} for languages in by_result.values()), (name, by_result)
