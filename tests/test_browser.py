"""End to end in a real headless browser: what a person sees and does on the HTML pages (issue 7).

Playwright (sync API) drives Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``;
Playwright's own browser downloads are never used) against the session's real ``ptcekb serve``.
The journey: the home page, its filters and its map, a département found on the map, a PTCE page in French and in
English, a commune and an organisation reached from it, an example query run in the query UI, the
validation form with an upload. Every page must work offline: a request to another origin, a
console error, an uncaught script error or a failed request fails the test.

Screenshots of every step go to the test's temporary folder; with ``PTCEKB_SCREENSHOTS=DIR``
(``make screenshots``) full-page PNGs of the main pages are also written to DIR for the README.
"""

from __future__ import annotations

import os
import re
from collections import Counter
import shutil
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from conftest import ROOT

CHROMIUM = os.environ.get("PTCEKB_CHROMIUM", "/usr/bin/chromium")
# This machine has no internet: without these Chromium keeps trying Google's hosts and can hang.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 900}
SCREENSHOTS = os.environ.get("PTCEKB_SCREENSHOTS")

# A curated PTCE (data/ptce/) with members that have their own pages and communes on its territory.
PTCE_PATH = "/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq"
PTCE_NAME = "Écopôle alimentaire de la région d'Audruicq"
DEPARTEMENT = ("62", "Pas-de-Calais")
COMMUNE = "Audruicq"
MEMBER = "Les Anges Gardins"
EXAMPLE = "ptce-par-region"
UPLOAD = ROOT / "tests" / "fixtures" / "validation" / "casse-Art9-5-Strategie.ttl"
COMPLIANCE_WAIT = 300  # seconds: the article-9 summary of the whole base is computed once per build


def unavailable(reason: str) -> None:
    """Fail in CI (the setup must have installed the browser); skip, saying why, on a developer's machine."""
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"{reason} (CI must run the browser tests: `make test` installs Chromium and Playwright)",
                    pytrace=False)
    pytest.skip(f"{reason}; `make test` installs it (as root, or with sudo)")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A fresh Chromium profile driven by Playwright, French first like most of the base's readers."""
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        unavailable("the Python package playwright is not installed (the [test] extra)")
    executable = shutil.which(CHROMIUM)
    if executable is None:
        unavailable(f"Chromium not found at {CHROMIUM} (Debian package chromium)")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
            viewport=VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris")
        context.set_default_timeout(30_000)  # a shared 2-core machine: queries and pages can be slow
        expect.set_options(timeout=30_000)
        yield context
        context.close()


class Watch:
    """What went wrong in the browser while a test ran: the pages must work offline, without errors."""

    def __init__(self, context, origin: str):
        self.origin = origin
        self.problems: list[str] = []
        context.route("**/*", self._route)

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or _origin(url) == self.origin:
            route.continue_()
        else:
            self.problems.append(f"request to another origin: {route.request.method} {url}")
            route.abort("blockedbyclient")

    def attach(self, page) -> None:
        page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text} ({m.location})"))
        page.on("pageerror", lambda e: self.problems.append(f"script error: {e}"))
        page.on("requestfailed", lambda r: _origin(r.url) == self.origin and self.problems.append(
            f"request failed: {r.method} {r.url}: {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.request.method} {r.url}"))

    def check(self) -> None:
        assert not self.problems, "the browser saw:\n" + "\n".join(self.problems)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def page(browser, server):
    """A new tab on the test server, with the watch on; its problems are checked after the test."""
    for old in browser.pages:
        old.close()
    watch = Watch(browser, server.url)
    tab = browser.new_page()
    watch.attach(tab)
    yield tab
    tab.close()
    browser.unroute("**/*")
    watch.check()


@pytest.fixture
def shots(tmp_path):
    return Shots(tmp_path)


class Shots:
    """Each step's screenshot in the test's tmp folder; the main pages, full page, in $PTCEKB_SCREENSHOTS."""

    def __init__(self, tmp: Path):
        self.tmp, self.count = tmp, 0
        self.out = Path(SCREENSHOTS) if SCREENSHOTS else None
        if self.out:
            self.out.mkdir(parents=True, exist_ok=True)

    def __call__(self, page, name: str, keep: bool = False, until=None) -> None:
        """``until``: a locator where the kept picture may end (the rest of a long page adds only weight)."""
        self.count += 1
        page.screenshot(path=self.tmp / f"{self.count:02d}-{name}.png")
        if keep and self.out:
            clip = None
            if until is not None:
                bottom = until.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
                clip = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": max(VIEWPORT["height"], int(bottom) + 24)}
            page.screenshot(path=self.out / f"{name}.png", full_page=True, clip=clip, animations="disabled")


def expect():
    from playwright.sync_api import expect as playwright_expect
    return playwright_expect


def heading(page, name: str, level: int = 2):
    return page.get_by_role("heading", name=name, level=level, exact=True)


def test_home_map_to_a_ptce_in_french_and_english_then_its_commune_and_member(page, shots, server, http):
    # The article-9 summary of the base is computed in the background at the first PTCE page: start it now.
    assert http.get(PTCE_PATH, headers={"Accept": "text/html"}).status_code == 200
    check = expect()

    page.goto(server.url + "/")
    check(page).to_have_title("Base de connaissances des PTCE")
    check(page.locator("html")).to_have_attribute("lang", "fr")
    check(page.locator("h1")).to_have_text("Base de connaissances des PTCE")
    check(heading(page, "PTCE par département", level=3)).to_be_visible()
    france = page.get_by_role("img", name="PTCE par département")
    check(france).to_be_visible()
    box = france.bounding_box()
    assert box["width"] > 300 and box["height"] > 300, f"the map is too small to read: {box}"
    departements = france.locator("a.departement")
    assert departements.count() >= 96, "metropolitan départements should all be on the map"
    fills = set(france.locator("path").evaluate_all("paths => paths.map(p => p.getAttribute('fill'))"))
    assert len(fills) >= 3, f"the map should be coloured by the number of PTCEs, not all one shade: {fills}"
    total = int(page.locator("main p strong").first.inner_text())
    assert total >= 50, "the home page counts the PTCEs"
    shots(page, "home", keep=True, until=page.locator("#ptces .map-area"))  # the list below would make it very long

    # The home page's form filters its list of PTCEs (a GET form: the selection is a link, empty fields dropped):
    # by part of a name, accents and case ignored, then by région.
    listed = page.locator("table.ptces tr.ptce td:first-child a")
    page.get_by_role("searchbox", name="Rechercher par nom").fill("audruicq")
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"/\?q=audruicq$"))
    check(listed).to_have_text([PTCE_NAME])
    shots(page, "search")
    page.get_by_role("searchbox", name="Rechercher par nom").fill("")
    page.get_by_label("Région", exact=True).select_option("32")  # Hauts-de-France
    page.get_by_role("button", name="Rechercher").click()
    page.wait_for_url(re.compile(r"/\?region=32$"))
    check(listed.filter(has_text=PTCE_NAME)).to_have_count(1)
    assert 0 < listed.count() < total
    # The language switch keeps the selection.
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url(re.compile(r"/\?region=32&lang=en"))
    check(page.locator("h1")).to_have_text("PTCE knowledge base")
    check(listed.filter(has_text=PTCE_NAME)).to_have_count(1)
    # The choice is remembered: the home page comes back in English, until French is chosen again.
    page.goto(server.url + "/")
    check(page.locator("html")).to_have_attribute("lang", "en")
    check(heading(page, "PTCEs per département", level=3)).to_be_visible()
    page.get_by_role("link", name="Français", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]lang=fr"))
    check(page.locator("html")).to_have_attribute("lang", "fr")

    # A click on the marker of the Pas-de-Calais keeps the PTCEs placed there; the département's name
    # in the list opens its page, which lists its PTCEs.
    code, name = DEPARTEMENT
    france.locator(f'a.marker[data-code="{code}"]').click()
    page.wait_for_url(re.compile(rf"/\?departement={code}(&|#|$)"))
    row = page.locator("table.ptces tr.ptce", has_text=PTCE_NAME)
    check(row).to_have_count(1)
    row.get_by_role("link", name=name, exact=True).click()
    page.wait_for_url(f"**/id/departement/{code}")
    check(page.locator("h1")).to_have_text(name)
    shots(page, "departement")
    page.get_by_role("link", name=PTCE_NAME, exact=True).first.click()
    page.wait_for_url("**" + PTCE_PATH)

    # The PTCE page, in French.
    check(page).to_have_title(f"{PTCE_NAME} — ptcekb")
    check(page.locator("h1")).to_have_text(PTCE_NAME)
    check(page.locator("h1")).to_be_visible()
    wait_for_compliance(page)
    compliance = page.locator("section.compliance")
    check(heading(compliance, "Article 9 : ce que documentent nos sources")).to_be_visible()
    check(compliance.locator("p.article9-counts")).to_contain_text("documenté")
    check(compliance.locator("li[data-element='Art9-1']")).to_be_visible()  # each element of the law, as documentation
    check(compliance.get_by_role("link", name="Rapport complet")).to_be_visible()
    for title in ("Identité", "Territoire", "Membres"):
        check(heading(page, title)).to_be_visible()
    territory = page.locator("section", has=heading(page, "Territoire"))
    check(territory.get_by_role("link", name=DEPARTEMENT[1], exact=True).first).to_be_visible()
    check(territory.get_by_role("link", name=COMMUNE, exact=True).first).to_be_visible()
    identity = page.locator("section", has=heading(page, "Identité"))  # the carriers, not members (issue 21)
    check(identity.get_by_role("link", name=MEMBER, exact=True)).to_be_visible()
    shots(page, "ptce", keep=True)

    # The same page in English, through the language switch.
    page.get_by_role("link", name="English", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]lang=en"))
    check(page.locator("html")).to_have_attribute("lang", "en")
    check(page.locator("h1")).to_have_text(PTCE_NAME)
    for title in ("Article 9: what our sources document", "Identity", "Territory", "Members"):
        check(heading(page, title)).to_be_visible()
    check(page.locator("section.compliance").get_by_role("link", name="Full report")).to_be_visible()
    check(page.get_by_role("link", name="Query (SPARQL)")).to_be_visible()
    check(page.get_by_role("link", name="Français", exact=True)).to_be_visible()
    shots(page, "ptce-en")
    page.get_by_role("link", name="Français", exact=True).click()
    page.wait_for_url(re.compile(r"[?&]lang=fr"))
    check(heading(page, "Territoire")).to_be_visible()

    # A commune of its territory: where it is, and the PTCE back.
    territory.get_by_role("link", name=COMMUNE, exact=True).first.click()
    page.wait_for_url("**/id/commune/*")
    check(page.locator("h1")).to_have_text(COMMUNE)
    check(page.locator(".crumbs").get_by_role("link", name=DEPARTEMENT[1])).to_be_visible()
    check(page.get_by_role("link", name=PTCE_NAME, exact=True).first).to_be_visible()
    shots(page, "commune", keep=True)
    page.go_back()

    # One of its carriers: an organisation page that lists the PTCEs it belongs to.
    identity.get_by_role("link", name=MEMBER, exact=True).click()
    page.wait_for_url("**/id/structure/*")  # a carrier without SIREN (issue 21)
    check(page.locator("h1")).to_have_text(MEMBER)
    memberships = page.locator("section", has=heading(page, "Membre des PTCE"))
    check(memberships.get_by_role("link", name=PTCE_NAME, exact=True)).to_be_visible()
    shots(page, "organisation", keep=True)


def wait_for_compliance(page) -> None:
    """The compliance summary says 'being computed' until the background validation of the base ends."""
    deadline = time.monotonic() + COMPLIANCE_WAIT
    while page.locator("#compliance-pending").count():
        assert time.monotonic() < deadline, f"the compliance summary was still pending after {COMPLIANCE_WAIT} s"
        page.wait_for_timeout(2000)
        page.reload()


def test_query_ui_runs_an_example(page, shots, server):
    check = expect()
    page.goto(server.url + "/")
    page.locator("header").get_by_role("link", name="Interroger (SPARQL)").click()
    page.wait_for_url("**/sparql")
    check(page.locator("h1")).to_contain_text("SPARQL")
    query = page.locator("textarea#query")
    check(query).to_be_visible()
    check(query).to_have_value("")
    page.locator(f'a[href="/sparql?example={EXAMPLE}"]').click()
    page.wait_for_url(f"**/sparql?example={EXAMPLE}")
    example = (ROOT / "queries" / f"{EXAMPLE}.rq").read_text(encoding="utf-8")
    check(query).to_have_value(example)
    check(page.locator("select#format")).to_have_value("html")
    shots(page, "sparql-example")
    page.get_by_role("button", name="Exécuter", exact=True).click()
    check(heading(page, "Résultats")).to_be_visible()
    check(page.locator(".error")).to_have_count(0)
    results = page.locator("main table").first
    check(results.locator("th").first).to_have_text(re.compile(r"^\?"))
    rows = results.locator("tr:has(td)")
    check(rows.first).to_be_visible()
    assert rows.count() >= 1
    check(page.locator("p.note", has_text=re.compile(r"^\s*\d+ lignes?\s*$"))).to_have_text(
        re.compile(rf"^\s*{rows.count()} lignes?\s*$"))
    # IRIs by their label (the name of the région), the IRI beside it; no "@fr" glued to a name.
    first = rows.first.locator("td").first
    check(first.locator("a")).not_to_have_text(re.compile(r"^<?https?://"))
    check(first.locator("code.iri")).to_have_text(re.compile(r"/id/region/"))
    check(results).not_to_contain_text("@fr")
    # The query is still in the form, to be edited and run again.
    check(query).to_have_value(re.compile(r"SELECT", re.IGNORECASE))
    shots(page, "sparql", keep=True, until=results)

    # Each example also has a link that runs it at once.
    item = page.locator("li", has=page.locator('a[href="/sparql?example=membres-par-type-et-role"]'))
    item.get_by_role("link", name="exécuter", exact=True).click()
    check(heading(page, "Résultats")).to_be_visible()
    check(page.locator(".error")).to_have_count(0)
    check(page.locator("main table").first.locator("tr:has(td)").first).to_be_visible()
    check(query).to_have_value((ROOT / "queries" / "membres-par-type-et-role.rq").read_text(encoding="utf-8"))


def test_validation_form_checks_an_upload(page, shots, server):
    check = expect()
    page.goto(server.url + "/validate")
    check(page.locator("h1")).to_contain_text("Valider un PTCE")
    upload = page.locator('input[type="file"][name="file"]')
    check(upload).to_be_visible()
    shots(page, "validate", keep=True)
    upload.set_input_files(str(UPLOAD))
    page.get_by_role("button", name=re.compile("^(Valider|Validate)$")).click()
    check(page.locator("h1")).to_have_text(re.compile("Rapport de validation|Validation report"))
    check(page.locator("p.summary")).to_be_visible()
    check(page.locator("table.findings tr.violation").first).to_be_visible()
    shots(page, "validation-report", keep=True)


def test_validation_form_takes_the_template_csv_files(page, server):
    """A publisher selects the template's CSV files together: the report places findings in them."""
    check = expect()
    page.goto(server.url + "/validate?lang=fr")
    page.locator('input[type="file"][name="file"]').set_input_files(
        [str(path) for path in sorted((ROOT / "examples" / "template").glob("*.csv"))])
    page.get_by_role("button", name=re.compile("^(Valider|Validate)$")).click()
    check(page.locator("h1")).to_have_text("Rapport de validation")
    check(page.locator("td.where").first).to_contain_text(re.compile(r"(ptce|membres)\.csv, ligne \d+"))
    check(page.locator("details.rdf").first).to_be_visible()
    check(page.locator("a.law").first).to_have_attribute("href", re.compile("legifrance"))


# --------------------------------------------------------------------------------------------
# Issue 20: French pages in French, English pages in English.

LANGUAGE_PAGES = (
    "/", PTCE_PATH, "/id/ptce/", "/id/structure/les-anges-gardins",
    "/id/commune/62057", "/id/epci/246200844", "/id/departement/62", "/id/region/32",
    "/concept/roles/partenaire", "/def", "/shapes", "/graph/meta",
    "/.well-known/void", "/sparql/description", "/validate", "/about",
    "/validate?ptce=" + quote("https://w3id.org/ptce" + PTCE_PATH, safe=""),
    "/sparql?format=html&query=" + quote(
        "SELECT ?region ?nom ?type WHERE { ?region a igeo:Region ; igeo:nom ?nom ; a ?type . "
        "FILTER(?region = <https://w3id.org/ptce/id/region/84>) }"),
)
# Graphs whose labels name vocabulary terms (classes, properties, concepts, graphs): instance data
# (PTCE, organisation and place names) keeps its proper names in every language.
VOCABULARY_GRAPHS = ("ontology", "vocabularies", "alignments", "meta")
LABELS_QUERY = """SELECT DISTINCT ?t ?l WHERE {
  GRAPH ?g { ?t ?p ?l } FILTER(?p IN (rdfs:label, skos:prefLabel, dcterms:title) && isLiteral(?l))
  FILTER(?g IN (%s)) }"""
# The visible text of a page, one string per text node, without what is code on purpose (the IRI or
# prefixed name shown beside a label, queries, Turtle) nor the switch to the other language.
PAGE_TEXT = """() => {
  const out = [document.title];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (node.parentElement.closest("script, style, textarea, pre, code, header .lang")) continue;
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    if (text) out.push(text);
  }
  return out;
}"""
_EDGES = " \u00a0:;,.·›/()[]—–-"


def _normal(text: str) -> str:
    return " ".join(text.split()).strip(_EDGES).casefold()


def label_sets(http) -> tuple[dict[str, set[str]], set[str]]:
    """{page language: labels that must not appear on its pages} and the IRIs that have a label.

    A label is foreign to French pages when some term has it in English and no term has it in French
    (nor untagged): "Spatial Coverage" is, "Description" (both) is not; and the other way round."""
    from ptcekb.i18n import KINDS, LANGUAGES, WORDS
    from ptcekb.namespaces import DEFAULT_BASE_IRI

    graphs = ", ".join(f"<{DEFAULT_BASE_IRI}graph/{name}>" for name in VOCABULARY_GRAPHS)
    response = http.get("/sparql", params={"query": LABELS_QUERY % graphs},
                        headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    by_language: dict[str, set[str]] = {"fr": set(), "en": set(), "": set()}
    labelled: set[str] = set()
    for row in response.json()["results"]["bindings"]:
        by_language.setdefault(row["l"].get("xml:lang", "").lower()[:2], set()).add(_normal(row["l"]["value"]))
        labelled.add(row["t"]["value"])
    neutral = by_language[""]
    # A word of the page's language in the one translation table (French "Classes") is that language's.
    words = {lang: {_normal(pair[index]) for table in (WORDS, KINDS) for pair in table.values()}
             for index, lang in enumerate(LANGUAGES)}
    foreign = {"fr": by_language["en"] - by_language["fr"] - neutral - words["fr"],
               "en": by_language["fr"] - by_language["en"] - neutral - words["en"]}
    # published by DCMI and INSEE: the sets are those of the served store
    assert {"spatial coverage", "registered organization"} <= foreign["fr"], "the check knows the English labels"
    assert {"subdivision de", "chef-lieu"} <= foreign["en"], "and the French ones"
    return foreign, labelled


def language_problems(texts: list[str], lang: str, foreign: dict[str, set[str]], labelled: set[str]) -> list[str]:
    from ptcekb.namespaces import PREFIXES

    prefixed = re.compile(r"^(%s):[A-Za-z_][\w.\-]*$" % "|".join(map(re.escape, PREFIXES)))
    problems = []
    for text in texts:
        if _normal(text) in foreign[lang]:
            problems.append(f"label in the other language: {text!r}")
        bare = text.strip(" <>")
        if prefixed.match(bare):
            problems.append(f"prefixed name instead of a label: {text!r}")
        if bare in labelled:
            problems.append(f"IRI instead of its label: {text!r}")
    return problems


def test_label_check_catches_a_foreign_label():
    """The check itself, on made-up page texts: it fails on what issue 20 saw, passes on shared words."""
    foreign = {"fr": {"spatial coverage", "registered organization"}, "en": {"couverture géographique"}}
    labelled = {"http://purl.org/dc/terms/spatial"}
    assert language_problems(["Types :", "Registered Organization", "Spatial Coverage :", "rdf:Statement",
                              "http://purl.org/dc/terms/spatial", "Description"], "fr", foreign, labelled) == [
        "label in the other language: 'Registered Organization'", "label in the other language: 'Spatial Coverage :'",
        "prefixed name instead of a label: 'rdf:Statement'", "IRI instead of its label: 'http://purl.org/dc/terms/spatial'"]
    assert language_problems(["Couverture géographique"], "en", foreign, labelled)
    assert not language_problems(["Couverture géographique", "Description", "https://example.org/x"], "fr", foreign, labelled)


def test_every_label_is_in_the_page_language(page, server, http):
    """Each page of LANGUAGE_PAGES, in French then in English, shows no label of the other language,
    no prefixed name and no IRI of a labelled term (outside code): home, a PTCE and the list, an
    organisation, each territory level, a concept, the ontology, the shapes, a graph, VoID, the service
    description, SPARQL results as HTML and the validation form."""
    # The article-9 summary of the base is computed in the background at the first PTCE page: start it now.
    assert http.get(PTCE_PATH, headers={"Accept": "text/html"}).status_code == 200
    foreign, labelled = label_sets(http)
    found = []
    for lang in ("fr", "en"):
        for path in LANGUAGE_PAGES:
            url = server.url + path + ("&" if "?" in path else "?") + f"lang={lang}"
            response = page.goto(url)
            if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
                found.append(f"{lang} {path}: HTTP {response.status} {response.headers.get('content-type')}, not an HTML page")
                continue
            if page.locator("html").get_attribute("lang") != lang:
                found.append(f"{lang} {path}: <html lang> is not {lang}")
            texts = page.evaluate(PAGE_TEXT)
            found += [f"{lang} {path}: {problem}" for problem in language_problems(texts, lang, foreign, labelled)]
    counted = Counter(found)
    assert not found, f"{len(found)} problems:\n" + "\n".join(f"{n} × {problem}" for problem, n in counted.most_common(150))
