"""Validation against article 9: each shape breaks on its own fixture, the conforming PTCE passes,
unreadable input exits 2, and the HTTP service gives the same findings."""

from __future__ import annotations

import csv
import json
import re

import pyoxigraph as ox
import pytest

from conftest import ROOT, ptcekb

FIXTURES = ROOT / "tests" / "fixtures" / "validation"
BASE = "https://w3id.org/ptce/"
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


# -- article 9 of the curated PTCEs: one computation, shown as documentation (issue 20) ------------

ELEMENT_STATUS = re.compile(r'data-element="([^"]+)" data-status="([^"]+)"')


def _documentation_sections(html: str) -> dict[str, str]:
    """The sections of a documentation page (/validate?ptce=, ptcekb validate --ptce --format html), by PTCE."""
    parts = re.split(r'<section class="ptce-documentation" data-ptce="([^"]+)">', html)
    return {parts[i]: parts[i + 1].split("</section>", 1)[0] for i in range(1, len(parts), 2)}


def _statuses(fragment: str) -> tuple:
    counts = re.search(r'data-counts="([^"]+)"', fragment)
    return (counts.group(1) if counts else None, tuple(ELEMENT_STATUS.findall(fragment)))


def _details(fragment: str) -> tuple:
    return (re.search(r'data-severities="([^"]+)"', fragment).group(1), tuple(sorted(re.findall(r'data-shape="([^"]+)"', fragment))))


def test_one_computation_of_article_9_for_every_curated_ptce(http, built_store):
    """The PTCE page, the PTCE list, /validate?ptce= and `ptcekb validate --ptce` give the same
    findings for every curated PTCE (they read one computation, made once per build)."""
    slugs = sorted(p.stem for p in (ROOT / "data" / "ptce").glob("*.yaml"))
    assert len(slugs) >= 100
    iris = {BASE + "id/ptce/" + slug: slug for slug in slugs}
    served = {}
    for iri in iris:  # the first one waits for the computation (it starts it, if no page did)
        response = http.get("/validate", params={"ptce": iri}, headers={"Accept": "text/html"}, timeout=300)
        assert response.status_code == 200, (iri, response.text[:300])
        assert "non conforme" not in response.text.lower()  # no verdict for missing facts
        (section,) = _documentation_sections(response.text).values()
        served[iri] = section
    cli = ptcekb("validate", "--store", str(built_store), "--ptce", "all", "--format", "html")
    assert cli.returncode in (0, 1), cli.stderr
    from_cli = _documentation_sections(cli.stdout)
    assert set(from_cli) == set(iris)
    for iri, section in served.items():
        assert len(ELEMENT_STATUS.findall(section)) == 8, iri  # the 7 elements of the law and the negative definition
        assert _statuses(from_cli[iri]) == _statuses(section), iri
        assert _details(from_cli[iri]) == _details(section), iri
    assert (cli.returncode == 1) == any('data-status="contradicted"' in s for s in served.values())
    for iri, slug in iris.items():
        page = http.get(f"/id/ptce/{slug}").text
        compliance = page.split('<section class="compliance"', 1)[1].split("</section>", 1)[0]
        assert _statuses(compliance) == _statuses(served[iri]), slug
        assert "Non conforme" not in page
    listed, number = {}, 1
    while True:
        text = http.get("/id/ptce/", params={"page": number}).text
        for href, item in re.findall(r'<li><a href="(/id/ptce/[^"]+)">(.*?)</li>', text):
            listed[href.rsplit("/", 1)[-1]] = tuple(ELEMENT_STATUS.findall(item))
        if 'rel="next"' not in text:
            break
        number += 1
    assert listed == {slug: _statuses(served[iri])[1] for iri, slug in iris.items()}
    summary = text.split('<section class="documentation-summary">', 1)[1].split("</section>", 1)[0]
    documented = sum(1 for s in served.values() if 'data-element="Art9-1" data-status="documented"' in s)
    assert re.search(r'<tr data-element="Art9-1"><td>[^<]*</td>\s*<td class="num">' + str(documented) + "</td>", summary)
    home = http.get("/", headers={"Accept": "text/html"}).text  # the home page shows the same summary
    assert home.split('<section class="documentation-summary">', 1)[1].split("</section>", 1)[0] == summary


def test_facts_that_go_against_an_element_read_as_contradicted(built_store):
    """Fictional data: a 'PTCE' also typed as a network, an ESS member located outside its territory
    (contradicted, with that fact and its source), another without a commune (not documented)."""
    from conftest import open_kb
    from ptcekb.config import Settings
    from ptcekb.documentation import document_curated

    settings = Settings.from_env(environ={}, store=str(built_store))
    source, memory = open_kb(built_store), ox.Store()
    for name in ("ontology", "vocabularies", "shapes"):
        memory.extend(source.quads_for_pattern(None, None, None, ox.NamedNode(settings.ns.graph(name))))
    cog = ox.NamedNode(settings.ns.graph("cog"))
    for code in ("26108", "75056"):
        memory.extend(source.quads_for_pattern(ox.NamedNode(settings.ns.id("commune", code)), None, None, cog))
    base, fictional = settings.ns.base, "https://example.org/source-fictive"
    memory.load(f"""
@prefix ptce: <https://w3id.org/ptce/def#> . @prefix org: <http://www.w3.org/ns/org#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
<{base}id/ptce/fictif> a ptce:PTCE, ptce:ReseauOuRegroupement ; skos:prefLabel "Pôle fictif"@fr ;
    ptce:territory <{base}id/commune/26108> ; org:hasMember <{base}id/organisation/a-fictive>, <{base}id/organisation/b-fictive> .
<{base}id/organisation/a-fictive> a ptce:EntrepriseESS ; skos:prefLabel "Association fictive A"@fr ;
    ptce:commune <{base}id/commune/75056> .
<{base}id/organisation/b-fictive> a ptce:EntrepriseESS ; skos:prefLabel "Coopérative fictive B"@fr .
<{base}id/organisation/a-fictive#s> a rdf:Statement ; rdf:subject <{base}id/organisation/a-fictive> ;
    rdf:predicate ptce:commune ; rdf:object <{base}id/commune/75056> ; dcterms:source <{fictional}> .
""".encode(), format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(settings.ns.graph("ptce")))
    doc = document_curated(memory, settings, None)[base + "id/ptce/fictif"]
    elements = {e.key: e for e in doc.elements}
    assert {k: e.status for k, e in elements.items()} == {
        "Art9-1": "documented", "Art9-2": "contradicted", "Art9-3": "undocumented", "Art9-4": "undocumented",
        "Art9-5": "undocumented", "Art9-6": "undocumented", "Art9-7": "undocumented", "Art9-Negatif": "contradicted"}
    (located,) = elements["Art9-2"].facts
    assert (located.subject, located.object, located.sources) == (
        base + "id/organisation/a-fictive", base + "id/commune/75056", [fictional])
    assert [f.object for f in elements["Art9-Negatif"].facts] == ["https://w3id.org/ptce/def#ReseauOuRegroupement"]
    assert {f.subject for f in elements["Art9-1"].facts} == {base + "id/organisation/a-fictive", base + "id/organisation/b-fictive"}
    assert "Les membres de l'ESS sont situés sur le territoire" not in [m.get("fr") for m in elements["Art9-2"].missing]
