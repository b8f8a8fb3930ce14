"""Validation against article 9: each shape breaks on its own fixture, the conforming PTCE passes,
unreadable input exits 2, and the HTTP service gives the same findings."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile

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
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> . @prefix prov: <http://www.w3.org/ns/prov#> .
<{base}id/ptce/fictif> a ptce:PTCE, ptce:ReseauOuRegroupement ; skos:prefLabel "Pôle fictif"@fr ;
    ptce:territory <{base}id/commune/26108> ; org:hasMember <{base}id/organisation/a-fictive>, <{base}id/organisation/b-fictive> .
<{base}id/organisation/a-fictive> a ptce:EntrepriseESS ; skos:prefLabel "Association fictive A"@fr ;
    ptce:commune <{base}id/commune/75056> .
<{base}id/organisation/b-fictive> a ptce:EntrepriseESS ; skos:prefLabel "Coopérative fictive B"@fr .
<{base}id/organisation/a-fictive#s> rdf:subject <{base}id/organisation/a-fictive> ;
    rdf:predicate ptce:commune ; rdf:object <{base}id/commune/75056> ; prov:wasDerivedFrom <{fictional}> .
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


# -- publishers who work in a spreadsheet: the template's CSV files, or a zip, in /validate -------

TEMPLATE = ROOT / "examples" / "template"
LAW = "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000029313296"


def template_files(**changes) -> list[tuple[str, tuple[str, bytes, str]]]:
    """The example template's files as a multipart upload; ``changes``: file -> function(rows) -> rows."""
    files = []
    for path in sorted(TEMPLATE.glob("*.csv")):
        content = path.read_bytes()
        change = changes.get(path.stem)
        if change:
            rows = change(list(csv.reader(content.decode("utf-8").splitlines())))
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            content = out.getvalue().encode("utf-8")
        files.append(("file", (path.name, content, "text/csv")))
    return files


def zipped(files) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for _, (name, content, _) in files:
            archive.writestr("gabarit/" + name, content)
    return buffer.getvalue()


def broken_members(rows):
    """The SCOP (line 3) gets an SAS's legal category while declared ESS by statute; the
    laboratory (line 7) an unknown role code, so the template refuses its row."""
    header = rows[0]
    rows[2][header.index("categorie_juridique")] = "5710"
    rows[6][header.index("role")] = "chercheur"
    return rows


def test_template_files_are_reported_by_file_line_and_column(http):
    response = http.post("/validate", files=template_files(membres=broken_members), headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html"), response.text[:300]
    page = response.text
    # the finding is on the SCOP's row and column, with the fix in the publisher's words
    row = page.split("Art9-1-CategorieDesEntreprisesESSDeStatut")[0].rsplit('<tr class="violation">', 1)[1]
    assert "membres.csv, ligne 3, colonne <code>categorie_juridique</code>" in row
    assert "changez type_acteur en societe-commerciale-ess" in row
    fix = row.split("<details")[0].rsplit("<td>", 1)[1]
    assert "ptce:" not in fix and "org:" not in fix and "rdf:" not in fix, fix  # RDF terms only in the details
    assert '<details class="rdf">' in page and "https://w3id.org/ptce/def#legalCategory" in page
    # the refused row, and the law's text linked from every finding
    assert "membres.csv</td><td>7</td><td>role</td>" in page and "chercheur" in page
    assert page.count(f'<a class="law" href="{LAW}"') == page.count("<tr class=") - page.count("membres.csv</td><td>")


def refused_rows(files):
    """The example template with rows and a header the template refuses, one reason of each kind:
    membres.csv gets an impossible date (line 4), a SIREN with a wrong check digit (5), an empty
    name (6), an unknown role (7), a row of 12 fields (8) and an unclosed quote (9); lieux.csv an
    unknown column (its header, line 1)."""
    out = []
    for field, (name, content, kind) in files:
        if name in ("membres.csv", "lieux.csv"):
            rows = list(csv.reader(content.decode("utf-8").splitlines()))
            header = rows[0]
            if name == "membres.csv":
                rows[3][header.index("debut")] = "2023-13"
                rows[4][header.index("siren")] = "123456789"
                rows[5][header.index("nom")] = ""
                rows[6][header.index("role")] = "chercheur"
                rows.append(rows[1][:12])
            else:
                header[header.index("source")] = "sources"
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(rows)
            content = (text.getvalue() + ('pole-vallee-exemple,"Mal fermé\n' if name == "membres.csv" else "")).encode()
        out.append((field, (name, content, kind)))
    return out


# The reasons of refused_rows, as the command line prints them (English) and in French.
REFUSALS = {
    "en": ["'2023-13' is not a real date", "SIREN fails the Luhn check", "required value is empty",
           "unknown code 'chercheur' (code list roles:", "12 fields, but the header has 13 columns",
           "broken CSV quoting: a quoted field opened on this line is never closed",
           "header: unknown column(s) sources (known columns:", "the 1 data row(s) of this file were not read"],
    "fr": ["'2023-13' n'est pas une date réelle", "la clé de contrôle du SIREN est fausse", "valeur obligatoire absente",
           "code inconnu 'chercheur' (liste roles :", "12 champs, mais l'en-tête a 13 colonnes",
           "guillemets CSV mal fermés : un champ entre guillemets ouvert sur cette ligne n'est jamais fermé",
           "en-tête : colonne(s) inconnue(s) sources (colonnes connues :",
           "1 ligne(s) de données de ce fichier non lue(s)"],
}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_refused_rows_are_explained_in_the_pages_language(http, lang):
    """Issue 20 item 5: the reasons the template refuses a row or a header are in the page's language,
    none in the other (the command line keeps printing them in English: test_template.py)."""
    response = http.post(f"/validate?lang={lang}", files=refused_rows(template_files()), headers={"Accept": "text/html"})
    assert response.status_code == 200, response.text[:300]
    section = response.text.split('<section class="rejects">')[1].split("</section>")[0]
    shown = html.unescape(section)
    other = "en" if lang == "fr" else "fr"
    for reason in REFUSALS[lang]:
        assert reason in shown, (reason, shown)
    for reason in REFUSALS[other]:
        assert reason not in shown, (reason, shown)
    cells = [html.unescape(c) for c in re.findall(r"<tr class=\"violation\">(.*?)</tr>", section, re.S)]
    assert len(cells) == 8, cells  # membres.csv lines 4 to 9, lieux.csv's header (two reasons)
    if lang == "fr":  # no English word left in a French reason
        english = re.compile(r"\b(the|is|not|must|unknown|fields|columns?|header|required|empty|quoting)\b")
        assert not [c for c in cells if english.search(c.rsplit("<td>", 1)[1])], cells


def test_a_zip_of_the_template_converts_as_the_command_does(http, built_store):
    """The example template zipped (in a folder, as a spreadsheet user zips it) gives the same
    findings over HTTP as `ptcekb validate DIR` on the command line."""
    body = zipped(template_files())
    response = http.post("/validate", files={"file": ("gabarit.zip", body, "application/zip")},
                         headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    assert findings(response.text) == findings(validate(built_store, TEMPLATE).stdout)
    assert findings(response.text)  # the example has its warnings (no local authority, a partner outside)


@pytest.mark.parametrize("case, status, fragment", [
    ("traversal", 400, "outside the archive"), ("nested", 400, "zip inside the zip"),
    ("bomb", 413, "once uncompressed"), ("members", 413, "entries"), ("not-a-zip", 400, "not a readable zip"),
    ("no-template-file", 400, "no file of the template"), ("mixed", 415, "not both"),
])
def test_hostile_or_wrong_template_uploads_are_refused_clearly(http, case, status, fragment):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if case == "traversal":
            archive.writestr("../../ptce.csv", (TEMPLATE / "ptce.csv").read_bytes())
        elif case == "nested":
            archive.writestr("ptce.zip", zipped(template_files()))
        elif case == "bomb":  # 11 MB of one letter: a few kB compressed
            archive.writestr("ptce.csv", b"id,nom\n" + b"a" * (11 * 1024 * 1024))
        elif case == "members":
            for i in range(65):
                archive.writestr(f"notes-{i}.txt", b"x")
        elif case == "no-template-file":
            archive.writestr("lisez-moi.txt", b"x")
    files = [("file", ("gabarit.zip", buffer.getvalue() if case != "not-a-zip" else b"PK\x03\x04 broken", "application/zip"))]
    if case == "mixed":
        files = template_files() + [("file", ("conforme.ttl", (FIXTURES / "conforme.ttl").read_bytes(), "text/turtle"))]
    response = http.post("/validate", files=files)
    assert response.status_code == status and fragment in response.text, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("text/plain")  # not a browser: one line of text
    browser = http.post("/validate", files=files, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.status_code == status and browser.headers["content-type"].startswith("text/html")
    assert fragment in browser.text and 'href="/validate"' in browser.text
    assert http.get("/healthz").status_code == 200


def test_errors_are_pages_for_a_browser(http):
    """A Turtle syntax error and an unknown file type: a page for a browser (with the line and
    column), text for other clients; the CSV template is no longer refused with 415."""
    syntax = (FIXTURES / "syntaxe.ttl").read_bytes()
    page = http.post("/validate", files={"file": ("syntaxe.ttl", syntax, "text/turtle")}, headers={"Accept": "text/html"})
    assert page.status_code == 400 and page.headers["content-type"].startswith("text/html")
    assert re.search(r"syntaxe\.ttl:\d+:\d+", page.text) and "<form" not in page.text and "Traceback" not in page.text
    text = http.post("/validate", content=syntax, headers={"Content-Type": "text/turtle"})
    assert text.status_code == 400 and text.headers["content-type"].startswith("text/plain")
    odd = http.post("/validate", files={"file": ("photo.png", b"\x89PNG", "image/png")}, headers={"Accept": "text/html"})
    assert odd.status_code == 415 and odd.headers["content-type"].startswith("text/html") and "ptce.csv" in odd.text
    single = http.post("/validate", files={"file": ("ptce.csv", (TEMPLATE / "ptce.csv").read_bytes(), "text/csv")},
                       headers={"Accept": "text/html"})
    assert single.status_code == 200 and "Rapport de validation" in single.text
    assert http.get("/validate", params={"ptce": "https://w3id.org/ptce/id/ptce/nowhere"},
                    headers={"Accept": "text/html"}).headers["content-type"].startswith("text/html")
    form = http.get("/validate", headers={"Accept": "text/html"}).text
    assert "multiple" in form and ".csv" in form and LAW in form
