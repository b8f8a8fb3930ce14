"""Coverage you can see (issue 22, item 5): /coverage, /coverage.json and VoID over HTTP on the real
server, every figure compared with a SPARQL count on the same store (through /sparql) or with the one
computation of article 9 (ptcekb/documentation.py), never with numbers written here."""

from __future__ import annotations

import html
import re

import httpx
import pytest
import rdflib

from conftest import ROOT, open_kb
from ptcekb.config import Settings
from ptcekb.documentation import documented, summary
from ptcekb.store import StoreLocation

BASE = "https://w3id.org/ptce/"
PTCE = rdflib.Namespace(BASE + "def#")
ROW = re.compile(r'<tr data-iri="([^"]+)">(.*?)</tr>', re.S)
FIGURE = re.compile(r'data-figure="(\w+)">([^<]*)<')
# Another way to the facts of each PTCE than the build's (coverage.py): every node of graph/ptce that
# carries sources, grouped by the document it belongs to (its IRI before '#').
FACTS = f"""SELECT ?doc (COUNT(DISTINCT ?node) AS ?facts) (COUNT(DISTINCT ?source) AS ?sources) WHERE {{
  GRAPH <{BASE}graph/ptce> {{ ?node <http://www.w3.org/ns/prov#wasDerivedFrom> ?source }}
  BIND(IF(CONTAINS(STR(?node), "#"), STRBEFORE(STR(?node), "#"), STR(?node)) AS ?doc) }} GROUP BY ?doc"""
PTCES = f"SELECT ?p WHERE {{ GRAPH <{BASE}graph/ptce> {{ ?p a <{BASE}def#PTCE> }} }}"


@pytest.fixture(scope="module")
def client(server):
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def sparql(client, query: str) -> list[dict]:
    reply = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert reply.status_code == 200, reply.text
    return reply.json()["results"]["bindings"]


def page(client, lang: str) -> str:
    client.cookies.clear()
    reply = client.get("/coverage", params={"lang": lang}, headers={"Accept": "text/html"})
    assert reply.status_code == 200, reply.text
    return reply.text


def figures(text: str) -> dict[str, dict[str, str]]:
    """The figures of the page by the IRI of what they count."""
    return {iri: dict(FIGURE.findall(row)) for iri, row in ROW.findall(text)}


@pytest.mark.parametrize("lang, title, calls", [("fr", "Couverture de la base", "Lauréats par appel"),
                                                ("en", "Coverage of the knowledge base", "Lauréats per call")])
def test_the_page_shows_what_sparql_counts_on_the_same_store(client, store_dir, lang, title, calls):
    text = page(client, lang)
    assert f'<html lang="{lang}">' in text and f"<h1>{title}</h1>" in text and calls in text
    shown = figures(text)
    # per call: the competency question of the calls (queries/appels-a-projets.rq) on the same store
    rows = sparql(client, (ROOT / "queries" / "appels-a-projets.rq").read_text(encoding="utf-8"))
    assert rows
    for row in rows:
        call = shown[row["appel"]["value"]]
        assert int(call["known"]) == int(row["laureatsConnus"]["value"]), row
        assert int(call["announced"]) == int(row["laureatsAnnonces"]["value"]), row
        assert int(call["known"]) <= int(call["announced"]), f"more lauréats listed than announced: {row}"
    # per PTCE: every PTCE of the curated graph, with its facts and distinct sources
    ptces = {row["p"]["value"] for row in sparql(client, PTCES)}
    counted = {row["doc"]["value"]: row for row in sparql(client, FACTS)}
    assert ptces and ptces <= set(shown)
    for ptce in ptces:
        assert int(shown[ptce]["facts"]) == int(counted[ptce]["facts"]["value"]), ptce
        assert int(shown[ptce]["sources"]) == int(counted[ptce]["sources"]["value"]), ptce
        assert int(shown[ptce]["facts"]) > 0, f"{ptce}: no sourced fact"
    # per element of article 9: the one computation of ptcekb/documentation.py
    assert f"{len(ptces)}" in re.search(r'<section id="article9">.*?</p>', text, re.S).group(0)
    for element in _article9(store_dir):
        assert int(shown[element["group"]]["documented"]) == element["documented"], element["key"]
        assert int(shown[element["group"]]["contradicted"]) == element["contradicted"], element["key"]


def _article9(store_dir) -> list[dict]:
    """What ptcekb/documentation.py computes for the served build (as /validate?ptce= reads it)."""
    settings = Settings.from_env(environ={}, store=str(store_dir))
    key = settings.store_url or StoreLocation(settings.store).current()
    return summary(documented(open_kb(store_dir), settings, key), "fr")["elements"]


def test_the_json_twin_and_void_carry_the_same_figures(client):
    reply = client.get("/coverage.json")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("application/json")
    data = reply.json()
    shown = figures(page(client, "en"))
    assert data["built_at"] and data["calls"] and data["ptces"] and data["article9"]
    for call in data["calls"]:
        assert shown[call["iri"]] == {"known": str(call["known"]), "announced": str(call["announced"])}
        assert call["label"]["fr"] and call["label"]["en"] and call["announced_sources"]
        assert all(s["iri"] and s["title"] for s in call["announced_sources"])
    for ptce in data["ptces"]:
        assert shown[ptce["iri"]] == {"facts": str(ptce["facts"]), "sources": str(ptce["sources"])}
    for element in data["article9"]:
        assert shown[element["iri"]] == {"documented": str(element["documented"]),
                                         "contradicted": str(element["contradicted"])}
    void = rdflib.Graph().parse(data=client.get("/.well-known/void", headers={"Accept": "text/turtle"}).text,
                                format="turtle")
    counted = {str(s): int(o) for node in void.subjects(rdflib.RDF.type, PTCE.Couverture)
               for s in void.objects(node, rdflib.DCTERMS.subject) for o in void.objects(node, PTCE.factCount)}
    assert counted == {p["iri"]: p["facts"] for p in data["ptces"]}
    known = {str(s): int(o) for node in void.subjects(rdflib.RDF.type, PTCE.Couverture)
             for s in void.objects(node, rdflib.DCTERMS.subject) for o in void.objects(node, PTCE.knownLaureateCount)}
    assert known == {c["iri"]: c["known"] for c in data["calls"]}


def test_the_page_is_linked_from_about_and_the_home_footer(client):
    for path, lang, label in (("/about", "fr", "Couverture de la base"), ("/", "en", "Coverage of the knowledge base")):
        client.cookies.clear()
        text = html.unescape(client.get(path, params={"lang": lang}, headers={"Accept": "text/html"}).text)
        assert f'<a href="/coverage">{label}</a>' in text, path
