"""The service over real HTTP: health, the first SPARQL answers, the home page."""

from __future__ import annotations

from conftest import slow_on_virtuoso


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


def test_about_page_lists_graphs(http):
    response = http.get("/about")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "cog" in response.text and "PTCE" in response.text


# -- the ontology served at /def (issue 3) --------------------------------------------------------

import pyoxigraph as ox  # noqa: E402
import pytest  # noqa: E402

from conftest import ROOT, ptcekb  # noqa: E402


def ontology_terms() -> set[str]:
    store = ox.Store()
    store.load(path=str(ROOT / "ontology" / "ptce.ttl"), format=ox.RdfFormat.TURTLE)
    return {row["t"].value.split("#")[1] for row in store.query(
        "SELECT ?t WHERE { ?t <http://www.w3.org/2000/01/rdf-schema#isDefinedBy> <https://w3id.org/ptce/def> }")}


def test_def_is_html_documentation_with_an_anchor_per_term(http):
    response = http.get("/def", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["content-type"] == "text/html; charset=utf-8"
    for term in ontology_terms():
        assert f'id="{term}"' in response.text, term
    assert "Vary" in response.headers and "Accept" in response.headers["vary"]


@pytest.mark.parametrize("how, media, rdf_format", [
    ({"headers": {"Accept": "text/turtle"}}, "text/turtle", ox.RdfFormat.TURTLE),
    ({"headers": {"Accept": "application/ld+json;q=0.9, text/html;q=0.5"}}, "application/ld+json", ox.RdfFormat.JSON_LD),
    ({"params": {"format": "rdf"}}, "application/rdf+xml", ox.RdfFormat.RDF_XML),
    ({"path": "/def.nt"}, "application/n-triples", ox.RdfFormat.N_TRIPLES),
])
def test_def_as_rdf(http, how, media, rdf_format):
    response = http.get(how.get("path", "/def"), headers=how.get("headers"), params=how.get("params"))
    assert response.status_code == 200 and response.headers["content-type"].startswith(media)
    triples = list(ox.parse(response.content, format=rdf_format))
    subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    assert {f"https://w3id.org/ptce/def#{term}" for term in ontology_terms()} <= subjects


def test_def_unacceptable_type_is_406(http):
    assert http.get("/def", headers={"Accept": "image/png"}).status_code == 406


def test_def_in_english(http):
    response = http.get("/def", headers={"Accept-Language": "en"})
    assert "Ontology of territorial economic cooperation hubs" in response.text


def test_static_documentation(built_store, tmp_path):
    result = ptcekb("docs", "--store", str(built_store), "-o", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert all(f'id="{term}"' in html for term in ontology_terms())
    assert (tmp_path / "site" / "index.en.html").exists()
    assert len(list(ox.parse(path=str(tmp_path / "site" / "ptce.ttl")))) > 500


@slow_on_virtuoso("/sparql's service description carries the dataset's statistics (four GROUP BY over every "
                  "graph, description.py), which Virtuoso computes in more than a minute after the start: 503 "
                  "'being computed' until then, 200 after")
def test_normal_use_leaves_no_warning_in_the_server_log(http, server):
    before = len(server.output())
    for path in ("/docs", "/openapi.json", "/", "/sparql", "/def", "/validate", "/.well-known/void", "/healthz"):
        assert http.get(path).status_code == 200, path
    operations = http.get("/openapi.json").json()["paths"]
    assert set(operations["/sparql"]) == {"get", "post"}  # one operation per method, HEAD left out
    logged = server.output()[before:]
    assert not [line for line in logged.splitlines() if any(w in line.lower() for w in ("warning", "error", "traceback"))], logged
