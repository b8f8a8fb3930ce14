"""The home page for people (issue 20, item 4) and the page about the data, over HTTP on the real server.

The PTCEs the home page lists for a filter are compared with a SPARQL query on the same store (through
/sparql), never with counts written here: the data can grow without these tests changing.
"""

from __future__ import annotations

import html
import re
import time

import httpx
import pytest

BASE = "https://w3id.org/ptce/"
PLACES = ("(ptce:territory/(ptce:comprisesArea|ptce:withinArea|ptce:overlapsArea)?)"
          "|org:hasPrimarySite/ptce:commune|ptce:mentionedArea")
# The same question as each filter of the home page, asked in SPARQL: which PTCEs have this value?
SPARQL = {
    "region": f"""SELECT DISTINCT ?p WHERE {{ ?p a ptce:PTCE ; {PLACES} ?a .
        {{ ?a a igeo:Region ; igeo:codeINSEE "{{v}}" }} UNION {{ ?a igeo:subdivisionDe ?r . ?r a igeo:Region ; igeo:codeINSEE "{{v}}" }} }}""",
    "departement": f"""SELECT DISTINCT ?p WHERE {{ ?p a ptce:PTCE ; {PLACES} ?a .
        {{ ?a a igeo:Departement ; igeo:codeINSEE "{{v}}" }} UNION {{ ?a igeo:subdivisionDe ?d . ?d a igeo:Departement ; igeo:codeINSEE "{{v}}" }} }}""",
    "call": f"SELECT DISTINCT ?p WHERE {{ ?p a ptce:PTCE ; ptce:laureateOf <{BASE}id/appel/{{v}}> }}",
    "sector": 'SELECT DISTINCT ?p WHERE { ?p a ptce:PTCE ; dcterms:subject ?s FILTER(isLiteral(?s) && STR(?s) = "{v}") }',
    "year": 'SELECT DISTINCT ?p WHERE { ?p a ptce:PTCE ; ptce:creationDate ?d FILTER(SUBSTR(STR(?d), 1, 4) = "{v}") }',
}
PLACED = f"""SELECT DISTINCT ?p WHERE {{ ?p a ptce:PTCE ; {PLACES} ?a .
    {{ ?a a igeo:Departement }} UNION {{ ?a igeo:subdivisionDe ?d . ?d a igeo:Departement }} }}"""


def settled(http, path: str, **params) -> str:
    """The page once the PTCEs of the build are read (computed in the background at the first request)."""
    deadline = time.monotonic() + 120
    while True:
        http.cookies.clear()  # no language remembered from another request (?lang= sets a cookie)
        response = http.get(path, params=params or None, headers={"Accept": "text/html"})
        assert response.status_code == 200, (path, params, response.status_code)
        if 'id="sections-missing"' not in response.text or time.monotonic() > deadline:
            return response.text
        time.sleep(1)


def listed(page: str) -> set[str]:
    """The PTCEs of the page's list, as local paths."""
    table = page.split('<table class="ptces">', 1)[1].split("</table>", 1)[0] if 'class="ptces"' in page else ""
    return set(re.findall(r'<tr class="ptce">\s*<td><a href="(/id/ptce/[^"]+)"', table))


def options(page: str, name: str) -> list[tuple[str, int]]:
    """The values of one filter of the form with the number of PTCEs it says each has, most first."""
    select = page.split(f'name="{name}"', 1)[1].split("</select>", 1)[0]
    found = [(html.unescape(value), int(count))
             for value, count in re.findall(r'<option value="([^"]+)"[^>]*>[^<]*\((\d+)\)</option>', select)]
    return sorted(found, key=lambda option: -option[1])


def sparql(http, query: str) -> list[dict]:
    reply = http.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]["bindings"]


def ptces_of(http, query: str) -> set[str]:
    return {row["p"]["value"].replace(BASE, "/") for row in sparql(http, query)}


@pytest.fixture(scope="module")
def client(server):
    """This module's own client: the language cookies its requests get stay here."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def home(client) -> str:
    return settled(client, "/")


def test_the_home_page_lists_every_ptce_with_the_map_and_no_inventory(client, home):
    everything = ptces_of(client, "SELECT ?p WHERE { ?p a ptce:PTCE }")
    assert listed(home) == everything
    assert f"{len(everything)} PTCE sur {len(everything)}" in home
    unplaced = len(everything - ptces_of(client, PLACED))
    assert re.search(rf'<p id="unplaced">[^<]*: {unplaced}\.</p>', home), "the page says how many PTCEs are not on the map"
    assert home.count('class="marker"') >= 10  # the PTCEs placed on the map, by département
    for label in ("Rechercher par nom", "Région", "Département", "Secteur", "Année de création"):
        assert re.search(rf'<label for="[\w-]+">{label}', home), label  # every field has its label
    assert "/graph/cog" not in home and 'href="/about"' in home  # the inventory is on its own page


@pytest.mark.parametrize("name", ["region", "departement", "call", "sector", "year"])
def test_each_filter_keeps_the_ptces_sparql_finds(client, home, name):
    value, count = options(home, name)[0]  # the value most PTCEs have: the strongest check
    expected = ptces_of(client, SPARQL[name].replace("{v}", value))
    page = settled(client, "/", **{name: value})
    assert listed(page) == expected and len(expected) == count, (name, value)
    assert f"{len(expected)} PTCE sur " in page


def test_filters_combine_and_search_names_ignoring_case_and_accents(client, home):
    region, _ = options(home, "region")[0]
    call, _ = options(home, "call")[0]
    both = ptces_of(client, SPARQL["region"].replace("{v}", region)) & ptces_of(client, SPARQL["call"].replace("{v}", call))
    assert listed(settled(client, "/", region=region, call=call)) == both
    named = ptces_of(client, 'SELECT DISTINCT ?p WHERE { ?p a ptce:PTCE ; skos:prefLabel|skos:altLabel ?n '
                           'FILTER(CONTAINS(LCASE(STR(?n)), "ecopole")) }')
    accented = ptces_of(client, 'SELECT DISTINCT ?p WHERE { ?p a ptce:PTCE ; skos:prefLabel|skos:altLabel ?n '
                              'FILTER(CONTAINS(LCASE(STR(?n)), "écopôle")) }')
    assert listed(settled(client, "/", q="ÉCOPÔLE")) == named | accented != set()


def test_a_marker_filters_the_list_to_its_departement(client, home):
    marker = re.search(r'<a href="([^"]+)" class="marker" data-code="(\w+)">', home)
    link, code = html.unescape(marker.group(1)), marker.group(2)
    assert link.startswith(f"/?departement={code}")
    assert listed(settled(client, link.split("#")[0])) == ptces_of(client, SPARQL["departement"].replace("{v}", code))


def test_the_form_is_bounded_and_its_urls_clean(client):
    # Empty fields of a submitted form are no filter: the selection's own link, without them.
    reply = client.get("/", params={"q": "", "region": "", "call": "aap-2013", "year": ""})
    assert reply.status_code == 303 and reply.headers["location"] == "/?call=aap-2013"
    long = client.get("/", params={"q": "x" * 5000})
    assert long.status_code == 303 and long.headers["location"] == "/?q=" + "x" * 100
    # A value no PTCE has is ignored, and the page says so.
    page = settled(client, "/", year="1789", lang="en")
    assert "Filter ignored" in page and listed(page) and "Year of creation" in page


def test_the_home_page_in_english(client, home):
    page = settled(client, "/", lang="en")
    assert '<html lang="en">' in page and "Find a PTCE" in page and "Year of creation" in page
    assert listed(page) == listed(home)
    call, _ = options(page, "call")[0]
    english = sparql(client, f'SELECT ?l WHERE {{ <{BASE}id/appel/{call}> rdfs:label ?l FILTER(LANG(?l) = "en") }}')
    assert english[0]["l"]["value"] in html.unescape(page)  # the calls by their English names


@pytest.mark.parametrize("lang, title, holds", [("fr", "À propos des données", "Ce que contient la base"),
                                                ("en", "About the data", "What the knowledge base holds")])
def test_the_page_about_the_data_carries_the_inventory(client, lang, title, holds):
    page = settled(client, "/about", lang=lang)
    assert f"<h1>{title}</h1>" in page and holds in page
    graphs = set(re.findall(r'href="(/graph/[\w-]+)"', page))
    assert {"/graph/meta", "/graph/cog", "/graph/ptce"} <= graphs
    assert 'href="/def#PTCE"' in page  # the classes and their counts
    assert f'href="/about">{title}</a>' in page  # in the navigation of every page
