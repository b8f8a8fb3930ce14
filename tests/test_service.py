"""The service over real HTTP: health, the first SPARQL answers, the home page."""

from __future__ import annotations


def test_healthz_reports_the_build(http):
    body = http.get("/healthz").json()
    assert body["status"] == "ok"
    assert body["built_at"].startswith("20")
    assert body["graphs"]["cog"] > 500_000
    assert body["triples"] == sum(body["graphs"].values())


def test_sparql_select_json(http):
    response = http.get("/sparql", params={"query": "PREFIX igeo: <http://rdf.insee.fr/def/geo#> "
                                           "SELECT ?nom WHERE { ?d a igeo:Departement ; igeo:codeINSEE \"2A\" ; igeo:nom ?nom }"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/sparql-results+json")
    bindings = response.json()["results"]["bindings"]
    assert [b["nom"]["value"] for b in bindings] == ["Corse-du-Sud"]


def test_sparql_ask_json(http):
    response = http.get("/sparql", params={"query": "ASK { ?s a <http://rdf.insee.fr/def/geo#Nothing> }"})
    assert response.status_code == 200 and response.json() == {"head": {}, "boolean": False}


def test_sparql_syntax_error_is_400_with_message(http):
    response = http.get("/sparql", params={"query": "SELECT ?x WHERE {"})
    assert response.status_code == 400
    assert "syntax" in response.text.lower() and "Traceback" not in response.text


def test_sparql_missing_query_is_400(http):
    response = http.get("/sparql", params={"query": "  "})
    assert response.status_code == 400 and "query" in response.text


def test_home_page_lists_graphs(http):
    response = http.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "cog" in response.text and "PTCE" in response.text
