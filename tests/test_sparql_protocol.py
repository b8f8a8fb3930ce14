"""The SPARQL 1.1 Protocol endpoint over real HTTP (docs/sparql.md), and the W3C conformance tests.

Servers: the session server on the built knowledge base (``http``), one on a tiny store built here
from the W3C protocol test data, with a token, a 2 s time limit and a row cap of 50 (``small``),
and one more on another copy of it for the W3C update tests, which clear the store.
The W3C manifests and data are copied in tests/fixtures/conformance/ (docs/conformance.md).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from ptcekb.store import StoreLocation

from conftest import ROOT, Server, open_kb

CONFORMANCE = Path(__file__).resolve().parent / "fixtures" / "conformance"
W3C = CONFORMANCE / "protocol"
KASEI = "http://kasei.us/2009/09/sparql/data/"
FILLER = "http://example.org/filler"
TOKEN = "test-token-0123456789"
SD = "http://www.w3.org/ns/sparql-service-description#"
VOID = "http://rdfs.org/ns/void#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
IGEO = "http://rdf.insee.fr/def/geo#"
RESULT_TYPES = ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values")
RDF_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml", "application/ld+json")
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def media(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


# --------------------------------------------------------------------------------------------
# A tiny store: data1..3 of the W3C tests in their named graphs, and 100 filler triples


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w3c") / "store"
    with StoreLocation(path).building() as directory:
        store = ox.Store(str(directory))
        for n in (1, 2, 3):
            triples = ox.parse(path=str(W3C / f"data{n}.nt"), format=ox.RdfFormat.N_TRIPLES)
            graph = ox.NamedNode(f"{KASEI}data{n}.rdf")
            store.extend(ox.Quad(q.subject, q.predicate, q.object, graph) for q in triples)
        filler = ox.NamedNode(FILLER)
        store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"), ox.NamedNode("http://example.org/p"),
                             ox.Literal(str(i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                             filler) for i in range(100))
        store.flush()
        del store
    return path


def _serve(store: Path):
    server = Server(store, env={"PTCEKB_UPDATE_TOKEN": TOKEN, "PTCEKB_QUERY_TIMEOUT": "2", "PTCEKB_ROW_CAP": "50"})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.server_url = server.url
        yield client
    server.stop()


@pytest.fixture(scope="module")
def small(small_store):
    yield from _serve(small_store)


@pytest.fixture(scope="module")
def small_writable(small_store, tmp_path_factory):
    """A server on a copy of the tiny store, for the W3C update tests (they CLEAR ALL)."""
    import shutil

    copy = tmp_path_factory.mktemp("w3c-rw") / "kb"
    shutil.copytree(small_store.parent, copy, symlinks=True)  # the store link and its builds
    yield from _serve(copy / small_store.name)


# --------------------------------------------------------------------------------------------
# Query operations


ASK_REGION = "ASK { ?r a igeo:Region ; igeo:codeINSEE \"11\" }"  # igeo: is predeclared


def test_get_post_form_and_post_direct_agree(http):
    get = http.get("/sparql", params={"query": ASK_REGION})
    form = http.post("/sparql", data={"query": ASK_REGION})
    direct = http.post("/sparql", content=ASK_REGION, headers={"Content-Type": "application/sparql-query"})
    for response in (get, form, direct):
        assert response.status_code == 200, response.text
        assert media(response) == "application/sparql-results+json"
        assert response.json()["boolean"] is True


def test_default_prefixes_apply_only_where_the_query_does_not_declare_its_own(http):
    """The engine is handed only the default prefixes a query uses (sparql_text.Analysis.default_prefixes):
    undeclared ones still resolve, a query's own declaration wins, and names in strings or IRIs are not
    taken for prefixes."""
    mixed = ('SELECT ?label WHERE { ?r a igeo:Region ; igeo:codeINSEE "11" . '
             'BIND("rdfs:label <skos:x>" AS ?label) FILTER(?r != <xsd:nothing>) }')
    response = http.get("/sparql", params={"query": mixed}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert [b["label"]["value"] for b in response.json()["results"]["bindings"]] == ["rdfs:label <skos:x>"]
    redeclared = "PREFIX igeo: <http://example.org/not-insee#> " + ASK_REGION
    response = http.get("/sparql", params={"query": redeclared}, headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is False
    unknown = "ASK { ?r a nowhere:Region }"
    response = http.get("/sparql", params={"query": unknown})
    assert response.status_code == 400 and "the prefix 'nowhere:' is not declared" in response.text


@pytest.mark.parametrize("accept, expected", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("*/*", "application/sparql-results+json"),
    ("application/sparql-results+json;q=0, */*;q=0.1", "application/sparql-results+xml"),
    (BROWSER, "text/html"),
])
def test_select_negotiation(http, accept, expected):
    response = http.get("/sparql", params={"query": "SELECT ?nom WHERE { ?r a igeo:Region ; igeo:codeINSEE \"11\" ; igeo:nom ?nom }"},
                        headers={"Accept": accept})
    assert response.status_code == 200 and media(response) == expected
    assert "le-de-France" in response.text  # Île-de-France in every format
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]


@pytest.mark.parametrize("accept, expected", [
    ("text/turtle", "text/turtle"), ("application/n-triples", "application/n-triples"),
    ("application/rdf+xml", "application/rdf+xml"), ("application/ld+json", "application/ld+json"),
    ("application/n-quads", "application/n-quads"), ("application/trig", "application/trig"),
    ("*/*", "text/turtle"),
])
def test_construct_and_describe_negotiation(http, accept, expected):
    for query in ("CONSTRUCT { ?r igeo:nom ?n } WHERE { ?r a igeo:Region ; igeo:codeINSEE \"11\" ; igeo:nom ?n }",
                  "DESCRIBE ?r WHERE { ?r a igeo:Region ; igeo:codeINSEE \"11\" }"):
        response = http.get("/sparql", params={"query": query}, headers={"Accept": accept})
        assert response.status_code == 200 and media(response) == expected
        rdf_format = ox.RdfFormat.from_media_type(expected)
        triples = list(ox.parse(response.content, format=rdf_format))
        assert any(t.object == ox.Literal("Île-de-France", language="fr") for t in triples)


def test_format_parameter_overrides_accept(http):
    query = "SELECT ?r WHERE { ?r a igeo:Region } LIMIT 2"
    for name, expected in (("json", "application/sparql-results+json"), ("xml", "application/sparql-results+xml"),
                           ("csv", "text/csv"), ("tsv", "text/tab-separated-values"), ("html", "text/html"),
                           ("text/csv", "text/csv")):
        response = http.get("/sparql", params={"query": query, "format": name}, headers={"Accept": "application/rdf+xml"})
        assert response.status_code == 200 and media(response) == expected, name
    graph = http.get("/sparql", params={"query": "CONSTRUCT WHERE { ?r a igeo:Region } LIMIT 1", "format": "json"})
    assert media(graph) == "application/ld+json"
    turtle = http.post("/sparql", data={"query": "CONSTRUCT WHERE { ?r a igeo:Region } LIMIT 1", "format": "turtle"})
    assert media(turtle) == "text/turtle"


def test_unsatisfiable_accept_is_406(http):
    response = http.get("/sparql", params={"query": ASK_REGION}, headers={"Accept": "image/png"})
    assert response.status_code == 406 and "application/sparql-results+json" in response.text
    graph = http.get("/sparql", params={"query": "CONSTRUCT WHERE { ?s a igeo:Region } LIMIT 1"},
                     headers={"Accept": "application/sparql-results+json"})
    assert graph.status_code == 406 and "text/turtle" in graph.text
    assert http.get("/sparql", params={"query": ASK_REGION, "format": "turtle"}).status_code == 406
    unknown = http.get("/sparql", params={"query": ASK_REGION, "format": "pdf"})
    assert unknown.status_code == 400 and "unknown format" in unknown.text


@pytest.mark.parametrize("request_kwargs, status, words", [
    ({"method": "GET", "params": {"query": "SELECT ?x WHERE {"}}, 400, "syntax"),
    ({"method": "GET", "params": {"query": "  "}}, 400, "query"),
    ({"method": "POST", "data": {"query": ""}}, 400, "query"),
    ({"method": "POST", "data": {"format": "json"}}, 400, "query"),
    ({"method": "POST", "content": "", "headers": {"Content-Type": "application/sparql-query"}}, 400, "query"),
    ({"method": "GET", "params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400, "more than one"),
    ({"method": "POST", "content": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415, "sparql-query"),
    ({"method": "POST", "content": b"query=ASK%20%7B%7D"}, 415, "Content-Type"),
    ({"method": "POST", "content": "ASK {}".encode("utf-16"),
      "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415, "UTF-8"),
    ({"method": "POST", "content": b"ASK { \xff }", "headers": {"Content-Type": "application/sparql-query"}}, 400, "UTF-8"),
    ({"method": "GET", "params": {"update": "CLEAR ALL"}}, 400, "POST"),
    ({"method": "POST", "data": {"update": "CLEAR ALL"}}, 400, "/update"),
    ({"method": "GET", "params": {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}}, 400, "syntax"),
    ({"method": "GET", "params": {"query": "ASK {}", "default-graph-uri": "not an iri"}}, 400, "IRI"),
])
def test_bad_requests_are_4xx_with_a_readable_message(http, request_kwargs, status, words):
    kwargs = dict(request_kwargs)
    response = http.request(kwargs.pop("method"), "/sparql", **kwargs)
    assert response.status_code == status, response.text
    assert words.lower() in response.text.lower()
    assert "Traceback" not in response.text and media(response) == "text/plain"


def test_other_methods_are_405_with_allow(http):
    for method in ("PUT", "DELETE", "PATCH"):
        response = http.request(method, "/sparql", params={"query": "ASK {}"})
        assert response.status_code == 405
        assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_body_beyond_one_megabyte_is_413(http):
    big = "ASK {} #" + "x" * (1 << 20)
    assert http.post("/sparql", content=big, headers={"Content-Type": "application/sparql-query"}).status_code == 413
    assert http.post("/sparql", data={"query": big}).status_code == 413

    def chunks():  # no Content-Length: the limit holds on what is actually sent
        for _ in range(20):
            yield b"x" * 100_000
    assert http.post("/sparql", content=chunks(), headers={"Content-Type": "application/sparql-query"}).status_code == 413


def test_service_is_refused_without_allowlist(http):
    for query in ("SELECT * WHERE { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }",
                  "select * where { service silent <http://localhost:1/sparql> { ?s ?p ?o } }",
                  "PREFIX wd: <https://query.wikidata.org/> SELECT * { SERVICE wd:sparql { ?s ?p ?o } }",
                  "SELECT * { SERVICE ?endpoint { ?s ?p ?o } }"):
        response = http.get("/sparql", params={"query": query})
        assert response.status_code == 400 and "federat" in response.text, query
    # the word in a string, an IRI or a comment is not the keyword
    fine = ('SELECT ?x WHERE { BIND("SERVICE <http://x/>" AS ?x) FILTER(?x != <http://x/SERVICE>) } # SERVICE <http://y/>\n')
    assert http.get("/sparql", params={"query": fine}).status_code == 200


def test_protocol_dataset_overrides_from_and_union_is_default(small):
    both = "SELECT ?s WHERE { ?s a ?t } ORDER BY ?s"
    union = small.get("/sparql", params={"query": both}).json()["results"]["bindings"]
    assert [b["s"]["value"] for b in union] == [f"{KASEI}data{n}.rdf" for n in (1, 2, 3)]
    with_from = small.get("/sparql", params={"query": f"SELECT ?s FROM <{KASEI}data3.rdf> WHERE {{ ?s a ?t }}"}).json()
    assert [b["s"]["value"] for b in with_from["results"]["bindings"]] == [f"{KASEI}data3.rdf"]
    overridden = small.get("/sparql", params=[("query", f"SELECT ?s FROM <{KASEI}data3.rdf> WHERE {{ ?s a ?t }}"),
                                              ("default-graph-uri", f"{KASEI}data1.rdf")]).json()
    assert [b["s"]["value"] for b in overridden["results"]["bindings"]] == [f"{KASEI}data1.rdf"]
    named_only = small.get("/sparql", params=[("query", "SELECT ?g WHERE { GRAPH ?g { ?s a ?t } }"),
                                              ("named-graph-uri", f"{KASEI}data2.rdf")]).json()
    assert [b["g"]["value"] for b in named_only["results"]["bindings"]] == [f"{KASEI}data2.rdf"]
    assert small.get("/sparql", params=[("query", "ASK { ?s a ?t }"), ("named-graph-uri", f"{KASEI}data2.rdf")]).json()["boolean"] is False


# --------------------------------------------------------------------------------------------
# The W3C SPARQL 1.1 Protocol and Service Description tests (tests/fixtures/conformance/), each
# listed in docs/conformance.md. Query tests run against /sparql on the tiny store; update tests
# send their update requests to /update with the token (this endpoint's update service, see
# docs/sparql.md) and their queries to /sparql, on a writable copy.

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NOT_APPLICABLE: dict[str, str] = {}  # test id: reason (the same reasons would be in docs/conformance.md); none today


def _manifest(path: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    return store


def _one(store: ox.Store, subject, predicate: str):
    objects = [q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)]
    assert len(objects) <= 1, (subject, predicate, objects)
    return objects[0] if objects else None


def _list(store: ox.Store, head) -> list:
    items = []
    while head is not None and head != ox.NamedNode(RDF + "nil"):
        items.append(_one(store, head, RDF + "first"))
        head = _one(store, head, RDF + "rest")
    return items


def _entries(path: Path) -> tuple[ox.Store, list]:
    store = _manifest(path)
    (manifest,) = [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(MF + "entries"), None)]
    return store, _list(store, _one(store, manifest, MF + "entries"))


def _request(store: ox.Store, node) -> dict:
    headers = {}
    for header in _list(store, _one(store, node, HT + "headers")):
        headers[_one(store, header, HT + "fieldName").value.lower()] = _one(store, header, HT + "fieldValue").value
    body = _one(store, node, HT + "body")
    response = _one(store, node, HT + "resp")
    statuses = {q.object.value.rsplit("StatusCode", 1)[-1][0]
                for q in store.quads_for_pattern(response, ox.NamedNode(MF + "expectedStatus"), None)}
    boolean, result_format = _one(store, response, MF + "expectedBoolean"), _one(store, response, MF + "expectedFormat")
    return {
        "method": _one(store, node, HT + "methodName").value, "path": _one(store, node, HT + "absolutePath").value,
        "body": None if body is None else _one(store, body, CNT + "chars").value.encode(
            _one(store, body, CNT + "characterEncoding").value.lower()),
        "content_type": headers.get("content-type"), "statuses": statuses,
        "boolean": None if boolean is None else boolean.value == "true",
        "format": result_format and result_format.value,
    }


def _w3c_tests() -> list[dict]:
    store, entries = _entries(W3C / "manifest.ttl")
    tests = []
    for entry in entries:
        action = _one(store, entry, MF + "action")
        tests.append({"id": entry.value.rsplit("#", 1)[-1],
                      "requests": [_request(store, r) for r in _list(store, _one(store, action, HT + "requests"))]})
    return sorted(tests, key=lambda t: t["id"])


W3C_TESTS = _w3c_tests()


def _is_update(request: dict) -> bool:
    body = request["body"] or b""
    return ("update=" in request["path"] or body.startswith(b"update=")
            or "sparql-update" in (request["content_type"] or ""))


def _run_w3c_request(client: httpx.Client, request: dict) -> None:
    headers = {"Content-Type": request["content_type"]} if request["content_type"] else {}
    if request["body"] is not None and not request["content_type"]:
        headers["Content-Type"] = ""  # the test sends no media type at all
    path = request["path"].replace("/sparql/", "/sparql", 1)
    if _is_update(request):  # updates have their own endpoint here, behind the token
        path = path.replace("/sparql", "/update", 1)
        headers["Authorization"] = f"Bearer {TOKEN}"
    response = client.request(request["method"], path, content=request["body"], headers=headers)
    assert str(response.status_code)[0] in request["statuses"], (response.status_code, response.text)
    if request["format"] == "boolean":
        assert media(response) in ("application/sparql-results+json", "application/sparql-results+xml")
        parsed = ox.parse_query_results(response.content, ox.QueryResultsFormat.from_media_type(media(response)))
        if request["boolean"] is not None:
            assert bool(parsed) is request["boolean"]
    elif request["format"] == "tabular":
        assert media(response) in RESULT_TYPES
    elif request["format"] == "RDF":
        assert media(response) in RDF_TYPES
        list(ox.parse(response.content, format=ox.RdfFormat.from_media_type(media(response))))


@pytest.mark.parametrize("test", W3C_TESTS, ids=[t["id"] for t in W3C_TESTS])
def test_w3c_protocol(request, test):
    if test["id"] in NOT_APPLICABLE:
        pytest.skip(NOT_APPLICABLE[test["id"]])
    writes = any(_is_update(r) for r in test["requests"])
    client = request.getfixturevalue("small_writable" if writes else "small")
    for step in test["requests"]:
        _run_w3c_request(client, step)


def test_w3c_manifests_were_read_and_are_all_documented():
    assert len(W3C_TESTS) == 34 and set(NOT_APPLICABLE) <= {t["id"] for t in W3C_TESTS}
    assert sum(len(t["requests"]) for t in W3C_TESTS) > len(W3C_TESTS)  # the multi-request tests are whole
    documented = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    ids = [t["id"] for t in W3C_TESTS] + [e.value.rsplit("#", 1)[-1] for e in SD_TESTS]
    for name in ("manifest-direct.ttl", "manifest-indirect.ttl"):
        ids += [e.value.rsplit("#", 1)[-1] for e in _entries(CONFORMANCE / "graph-store-protocol" / name)[1]]
    missing = [i for i in ids if f"`{i}`" not in documented]
    assert not missing, f"not listed in docs/conformance.md: {missing}"


SD_TESTS = _entries(CONFORMANCE / "service-description" / "manifest.ttl")[1]
SD_TERMS = {  # the terms of the Service Description vocabulary (https://www.w3.org/TR/sparql11-service-description/)
    "Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
    "GraphCollection", "Dataset", "Graph", "NamedGraph", "endpoint", "feature", "defaultEntailmentRegime",
    "entailmentRegime", "defaultSupportedEntailmentProfile", "supportedEntailmentProfile", "extensionFunction",
    "extensionAggregate", "languageExtension", "supportedLanguage", "propertyFeature", "defaultDataset",
    "availableGraphs", "resultFormat", "inputFormat", "defaultGraph", "namedGraph", "name", "graph",
    "SPARQL10Query", "SPARQL11Query", "SPARQL11Update", "DereferencesURIs", "UnionDefaultGraph",
    "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery",
}


def _description(client: httpx.Client, accept: str | None = "text/turtle") -> ox.Store:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and media(response) in RDF_TYPES, (response.status_code, media(response))
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.from_media_type(media(response)), base_iri=client.server_url + "/sparql")
    return store


def _sd_returns_rdf(client):
    for accept in (None, "*/*", *RDF_TYPES):
        assert len(_description(client, accept)) > 10


def _sd_has_endpoint_triple(client):
    store = _description(client)
    endpoint = ox.NamedNode(client.server_url + "/sparql")
    assert list(store.quads_for_pattern(None, ox.NamedNode(SD + "endpoint"), endpoint))


def _sd_conforms_to_schema(client):
    store = _description(client, "application/n-triples")
    sd = lambda term: ox.NamedNode(SD + term)  # noqa: E731
    used = {t.value[len(SD):] for q in store for t in (q.predicate, q.object)
            if isinstance(t, ox.NamedNode) and t.value.startswith(SD)}
    assert used <= SD_TERMS, used - SD_TERMS
    services = [q.subject for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), sd("Service"))]
    assert services
    for service in services:
        (endpoint,) = [q.object for q in store.quads_for_pattern(service, sd("endpoint"), None)]
        assert isinstance(endpoint, ox.NamedNode)
        languages = {q.object for q in store.quads_for_pattern(service, sd("supportedLanguage"), None)}
        assert languages and languages <= {sd("SPARQL10Query"), sd("SPARQL11Query"), sd("SPARQL11Update")}
        for prop in ("resultFormat", "inputFormat", "feature", "extensionFunction", "languageExtension"):
            assert all(isinstance(q.object, ox.NamedNode) for q in store.quads_for_pattern(service, sd(prop), None))
        for q in store.quads_for_pattern(service, sd("defaultDataset"), None):
            assert list(store.quads_for_pattern(q.object, ox.NamedNode(RDF_TYPE), sd("Dataset")))
            for named in store.quads_for_pattern(q.object, sd("namedGraph"), None):
                (name,) = [n.object for n in store.quads_for_pattern(named.object, sd("name"), None)]
                assert isinstance(name, ox.NamedNode)
    for q in store.quads_for_pattern(None, sd("name"), None):  # every named graph: an IRI, and a graph
        assert isinstance(q.object, ox.NamedNode)


SD_CHECKS = {"returns-rdf": _sd_returns_rdf, "has-endpoint-triple": _sd_has_endpoint_triple,
             "conforms-to-schema": _sd_conforms_to_schema}


@pytest.mark.parametrize("test", [e.value.rsplit("#", 1)[-1] for e in SD_TESTS])
@pytest.mark.parametrize("endpoint", ["small_writable", "http"])
def test_w3c_service_description(request, endpoint, test, server):
    client = request.getfixturevalue(endpoint)
    if endpoint == "http":
        client.server_url = server.url
    SD_CHECKS[test](client)


# --------------------------------------------------------------------------------------------
# Service description, query page, VoID, dump


def test_service_description_for_rdf_clients(http, server):
    response = http.get("/sparql", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and media(response) == "text/turtle"
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TURTLE)

    def objects(predicate, subject=None):
        return {q.object for q in store.quads_for_pattern(subject, ox.NamedNode(predicate), None)}

    endpoint = ox.NamedNode(server.url + "/sparql")
    assert objects(SD + "endpoint") == {endpoint}
    assert ox.NamedNode(SD + "Service") in objects(RDF_TYPE, endpoint)
    assert ox.NamedNode(SD + "SPARQL11Query") in objects(SD + "supportedLanguage", endpoint)
    assert ox.NamedNode(SD + "UnionDefaultGraph") in objects(SD + "feature", endpoint)
    formats = {o.value.rsplit("/", 1)[-1] for o in objects(SD + "resultFormat", endpoint)}
    assert {"SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV", "Turtle"} <= formats
    (dataset,) = objects(SD + "defaultDataset", endpoint)
    assert objects(SD + "defaultGraph", dataset)
    names = {o.value for named in objects(SD + "namedGraph", dataset) for o in objects(SD + "name", named)}
    graphs = http.get("/healthz").json()["graphs"]
    assert {f"https://w3id.org/ptce/graph/{g}" for g in graphs} <= names
    assert ox.NamedNode(server.url + "/.well-known/void") in objects("http://www.w3.org/2000/01/rdf-schema#seeAlso", endpoint)
    prefixes = {o.value for o in objects("http://www.w3.org/ns/shacl#prefix")}
    assert {"ptce", "igeo", "dcterms"} <= prefixes
    for accept in ("application/ld+json", "application/rdf+xml", "application/n-triples", "*/*"):
        other = http.get("/sparql", headers={"Accept": accept})
        assert other.status_code == 200 and media(other) in RDF_TYPES
    assert http.get("/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_query_page_for_browsers(http):
    page = http.get("/sparql", headers={"Accept": BROWSER})
    assert page.status_code == 200 and media(page) == "text/html"
    assert '<form method="post" action="/sparql">' in page.text and "<textarea" in page.text
    assert "ptce-par-region" in page.text and "<script" not in page.text
    example = http.get("/sparql", params={"example": "ptce-par-region"}, headers={"Accept": BROWSER})
    assert "igeo:Region" in example.text
    results = http.post("/sparql", data={"query": "SELECT ?r ?nom WHERE { ?r a igeo:Region ; igeo:codeINSEE \"11\" ; igeo:nom ?nom }",
                                         "format": "html"})
    assert results.status_code == 200 and '<table class="results">' in results.text and "Île-de-France" in results.text
    assert 'href="/id/region/11"' in results.text
    # the région's IRI by its label, the IRI beside it; the name's language as a badge, not "@fr"
    assert '<a href="/id/region/11">Île-de-France</a><code class="iri">&lt;https://w3id.org/ptce/id/region/11&gt;</code>' \
        in results.text
    assert '<span lang="fr">Île-de-France</span> <span class="badge lang">fr</span>' in results.text
    assert "Île-de-France@fr" not in results.text
    error = http.post("/sparql", data={"query": "SELECT ?x WHERE {", "format": "html"})
    assert error.status_code == 400 and "syntax" in error.text and "<form" in error.text


@pytest.mark.parametrize("path", ["/.well-known/void", "/sparql/description"])
def test_void_and_service_description_are_pages_for_browsers_and_rdf_for_rdf_clients(http, path):
    """Issue 20: a browser gets a page with labels in its language; RDF clients, and */*, get RDF."""
    for lang, words in (("fr", ("nombre de triplets", "a pour sous-ensemble") if "void" in path else ("langage pris en charge", "format de résultat")),
                        ("en", ("number of triples", "has subset") if "void" in path else ("supported language", "result format"))):
        page = http.get(path, params={"lang": lang}, headers={"Accept": BROWSER})
        assert page.status_code == 200 and media(page) == "text/html", page.text[:200]
        assert page.headers["content-language"] == lang and f'<html lang="{lang}">' in page.text
        assert all(f">{word}</a>" in page.text for word in words), words
        assert "_:" not in page.text and "@prefix" not in page.text
    for accept in ("text/turtle", "*/*", None):
        response = http.get(path, headers={"Accept": accept} if accept else {})
        assert response.status_code == 200 and media(response) == "text/turtle"
    assert media(http.get(path, params={"format": "jsonld"}, headers={"Accept": BROWSER})) == "application/ld+json"
    assert http.get(path, headers={"Accept": "image/png"}).status_code == 406


def _void(http) -> ox.Store:
    response = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.status_code == 200 and media(response) == "text/turtle"
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TURTLE)
    return store


def _value(store, subject, predicate):
    (quad,) = list(store.quads_for_pattern(subject, ox.NamedNode(predicate), None))
    return quad.object


def test_void_matches_the_data(http, server, built_store):
    void = _void(http)
    dataset = ox.NamedNode("https://w3id.org/ptce/dataset")
    assert _value(void, dataset, VOID + "sparqlEndpoint") == ox.NamedNode(server.url + "/sparql")
    dumps = {q.object.value for q in void.quads_for_pattern(dataset, ox.NamedNode(VOID + "dataDump"), None)}
    assert dumps == {server.url + "/dumps/ptcekb.nq.gz", server.url + "/dumps/ptcekb.trig"}
    assert _value(void, dataset, VOID + "uriSpace").value == "https://w3id.org/ptce/id/"
    assert _value(void, dataset, "http://purl.org/dc/terms/license").value.startswith("https://")
    health = http.get("/healthz").json()
    assert int(_value(void, dataset, VOID + "triples").value) >= health["triples"]
    cog = ox.NamedNode("https://w3id.org/ptce/graph/cog")
    assert int(_value(void, cog, VOID + "triples").value) == health["graphs"]["cog"]
    store = open_kb(built_store)
    (row,) = store.query(f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{cog.value}> {{ ?c a <{IGEO}Commune> }} }}")
    partitions = {_value(void, p.object, VOID + "class").value: int(_value(void, p.object, VOID + "entities").value)
                  for p in void.quads_for_pattern(cog, ox.NamedNode(VOID + "classPartition"), None)}
    assert partitions[IGEO + "Commune"] == int(row["n"].value) > 30_000
    (row,) = store.query(f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ GRAPH <{cog.value}> {{ ?s ?p ?o }} }}")
    assert int(_value(void, cog, VOID + "properties").value) == int(row["n"].value)
    assert int(_value(void, cog, VOID + "classes").value) == len(partitions)


def test_void_counts_on_the_small_store(small):
    void = _void(small)
    filler = ox.NamedNode(FILLER)
    assert int(_value(void, filler, VOID + "triples").value) == 100
    assert int(_value(void, filler, VOID + "properties").value) == 1
    assert int(_value(void, filler, VOID + "entities").value) == 0
    data1 = ox.NamedNode(f"{KASEI}data1.rdf")
    assert int(_value(void, data1, VOID + "entities").value) == 1
    (partition,) = list(void.quads_for_pattern(data1, ox.NamedNode(VOID + "classPartition"), None))
    assert _value(void, partition.object, VOID + "class").value == "http://xmlns.com/foaf/0.1/Document"


def test_dump_is_gzipped_nquads_of_the_build(small):
    import gzip

    response = small.get("/dumps/ptcekb.nq.gz")
    assert response.status_code == 200 and media(response) == "application/gzip"
    quads = list(ox.parse(gzip.decompress(response.content), format=ox.RdfFormat.N_QUADS))
    count = small.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }"}).json()
    assert len(quads) == int(count["results"]["bindings"][0]["n"]["value"])
    assert small.get("/dumps/ptcekb.nq.gz").content == response.content  # cached per build


# --------------------------------------------------------------------------------------------
# CORS


def test_cors_headers_and_preflight(http):
    simple = http.get("/sparql", params={"query": "ASK {}"}, headers={"Origin": "https://yasgui.example"})
    assert simple.headers["access-control-allow-origin"] == "*"
    assert http.get("/sparql", params={"query": "ASK {"}).headers["access-control-allow-origin"] == "*"
    assert http.get("/.well-known/void").headers["access-control-allow-origin"] == "*"
    preflight = http.options("/sparql", headers={"Origin": "https://yasgui.example", "Access-Control-Request-Method": "POST",
                                                 "Access-Control-Request-Headers": "content-type, accept"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    update = http.options("/update", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "authorization, content-type"})
    assert update.status_code in (200, 204) and "authorization" in update.headers["access-control-allow-headers"].lower()


# --------------------------------------------------------------------------------------------
# Time limit and row cap

HEAVY = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FILLER}> {{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }} }}"


def test_query_past_the_time_limit_is_stopped_while_others_are_served(small):
    small.get("/sparql", params={"query": "ASK {}"})  # warm
    outcome = {}

    def heavy():
        started = time.monotonic()
        with httpx.Client(base_url=small.server_url, timeout=30) as other:
            outcome["response"] = other.get("/sparql", params={"query": HEAVY})
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=heavy)
    thread.start()
    time.sleep(0.3)
    latencies = []
    while thread.is_alive():
        started = time.monotonic()
        response = small.get("/sparql", params={"query": f"ASK {{ <{KASEI}data1.rdf> a ?t }}"})
        latencies.append(time.monotonic() - started)
        assert response.status_code == 200 and response.json()["boolean"] is True
        time.sleep(0.05)
    thread.join()
    response = outcome["response"]
    assert response.status_code == 504
    assert "time limit of 2 s" in response.text
    assert 1.9 < outcome["seconds"] < 6
    assert len(latencies) >= 5 and max(latencies) < 0.5, latencies
    # the killed worker is replaced: queries keep working, and so does a second overrun
    assert small.get("/sparql", params={"query": "ASK {}"}).status_code == 200
    assert small.post("/sparql", data={"query": HEAVY}).status_code == 504
    assert small.get("/sparql", params={"query": "ASK {}"}).status_code == 200


def test_row_cap_truncates_visibly(small):
    query = f"SELECT ?s ?o WHERE {{ GRAPH <{FILLER}> {{ ?s ?p ?o }} }}"
    response = small.get("/sparql", params={"query": query})
    body = response.json()
    assert response.headers["x-ptcekb-truncated"] == "true"
    assert len(body["results"]["bindings"]) == 50 and body["truncated"] is True and "50" in body["note"]
    csv = small.get("/sparql", params={"query": query}, headers={"Accept": "text/csv"})
    assert csv.headers["x-ptcekb-truncated"] == "true" and len(csv.text.strip().splitlines()) == 51
    xml = small.get("/sparql", params={"query": query, "format": "xml"})
    assert len(list(ox.parse_query_results(xml.content, ox.QueryResultsFormat.XML))) == 50
    graph = small.get("/sparql", params={"query": f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{FILLER}> {{ ?s ?p ?o }} }}"},
                      headers={"Accept": "application/n-triples"})
    assert graph.headers["x-ptcekb-truncated"] == "true" and len(graph.text.strip().splitlines()) == 50
    small_result = small.get("/sparql", params={"query": query + " LIMIT 10"})
    assert "x-ptcekb-truncated" not in small_result.headers and "truncated" not in small_result.json()
    assert "Access-Control-Expose-Headers" in small_result.headers and "X-PTCEKB-Truncated" in small_result.headers["access-control-expose-headers"]


# --------------------------------------------------------------------------------------------
# Updates


def test_updates_are_off_without_a_token(http):
    update = http.post("/update", data={"update": "CLEAR ALL"})
    assert update.status_code == 403 and "disabled" in update.text
    store = http.put("/store", params={"graph": "http://example.org/g"}, content="<a:b> <a:c> <a:d> .",
                     headers={"Content-Type": "text/turtle", "Authorization": "Bearer anything"})
    assert store.status_code == 403
    assert http.get("/store", params={"default": ""}).status_code == 403
    assert http.get("/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def _ask(client, pattern: str) -> bool:
    return client.get("/sparql", params={"query": f"ASK {{ {pattern} }}"}).json()["boolean"]


def test_update_needs_the_token(small):
    insert = "INSERT DATA { GRAPH <http://example.org/u> { <http://example.org/a> <http://example.org/p> \"1\" } }"
    missing = small.post("/update", data={"update": insert})
    assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer")
    wrong = small.post("/update", data={"update": insert}, headers={"Authorization": "Bearer wrong"})
    assert wrong.status_code == 403
    assert not _ask(small, "<http://example.org/a> ?p ?o")
    ok = small.post("/update", content=insert, headers={"Authorization": f"Bearer {TOKEN}",
                                                         "Content-Type": "application/sparql-update"})
    assert ok.status_code == 200, ok.text
    assert _ask(small, "GRAPH <http://example.org/u> { <http://example.org/a> ?p \"1\" }")
    form = small.post("/update", data={"update": "DELETE DATA { GRAPH <http://example.org/u> { <http://example.org/a> <http://example.org/p> \"1\" } }"},
                      headers={"Authorization": f"Bearer {TOKEN}"})
    assert form.status_code == 200 and not _ask(small, "<http://example.org/a> ?p ?o")
    assert small.get("/update", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 405
    bad = small.post("/update", data={"update": "CLEAR XYZ"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bad.status_code == 400 and "syntax" in bad.text.lower()
    service = small.post("/update", headers={"Authorization": f"Bearer {TOKEN}"},
                         data={"update": "INSERT { ?s ?p ?o } WHERE { SERVICE <http://localhost:1/> { ?s ?p ?o } }"})
    assert service.status_code == 400 and "federat" in service.text


def test_a_failing_update_changes_nothing(small):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before = small.get("/healthz").json()["store"]
    # valid syntax; the second operation fails (the graph exists) after the first has inserted
    update = (f"INSERT DATA {{ GRAPH <http://example.org/atomic> {{ <http://example.org/x> <http://example.org/p> 1 }} }} ;"
              f" CREATE GRAPH <{FILLER}>")
    response = small.post("/update", data={"update": update}, headers=auth)
    assert response.status_code == 400 and "nothing was changed" in response.text
    assert not _ask(small, "<http://example.org/x> ?p ?o")
    assert small.get("/healthz").json()["store"] == before


def test_graph_store_protocol(small):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    graph = {"graph": "http://example.org/gsp"}
    assert small.get("/store", params=graph).status_code == 401
    assert small.get("/store", params=graph, headers=auth).status_code == 404
    put = small.put("/store", params=graph, content='<http://example.org/s> <http://example.org/p> "v1" .',
                    headers={**auth, "Content-Type": "text/turtle"})
    assert put.status_code == 201
    replace = small.put("/store", params=graph, content='<http://example.org/s> <http://example.org/p> "v2" .',
                        headers={**auth, "Content-Type": "application/n-triples"})
    assert replace.status_code == 204
    post = small.post("/store", params=graph, content='<http://example.org/s> <http://example.org/p> "v3" .',
                      headers={**auth, "Content-Type": "text/turtle"})
    assert post.status_code == 204
    got = small.get("/store", params=graph, headers={**auth, "Accept": "application/n-triples"})
    assert got.status_code == 200 and media(got) == "application/n-triples"
    assert sorted(t.object.value for t in ox.parse(got.content, format=ox.RdfFormat.N_TRIPLES)) == ["v2", "v3"]
    assert _ask(small, 'GRAPH <http://example.org/gsp> { ?s ?p "v3" }')
    bad = small.put("/store", params=graph, content="not turtle {", headers={**auth, "Content-Type": "text/turtle"})
    assert bad.status_code == 400 and _ask(small, 'GRAPH <http://example.org/gsp> { ?s ?p "v2" }')
    assert small.put("/store", params=graph, content="x", headers={**auth, "Content-Type": "image/png"}).status_code == 415
    assert small.get("/store", headers=auth).status_code == 400
    assert small.delete("/store", params=graph, headers=auth).status_code == 204
    assert small.delete("/store", params=graph, headers=auth).status_code == 404
    assert not _ask(small, "GRAPH <http://example.org/gsp> { ?s ?p ?o }")
    assert small.request("PATCH", "/store", params=graph, headers=auth).status_code == 405


# --------------------------------------------------------------------------------------------
# using-graph-uri / using-named-graph-uri: the protocol dataset written into the update
# (ptcekb/service/update_dataset.py), checked on the text and run by the real engine

from ptcekb.service.update_dataset import DatasetError, apply_dataset  # noqa: E402

G1, G2, G3 = (f"http://example.org/g{n}" for n in (1, 2, 3))
OUT = "http://example.org/out"


def _engine_store() -> ox.Store:
    store = ox.Store()
    store.update(f"INSERT DATA {{ GRAPH <{G1}> {{ <http://example.org/a> <http://example.org/p> 1 }} "
                 f"GRAPH <{G2}> {{ <http://example.org/b> <http://example.org/p> 2 }} "
                 f"GRAPH <{G3}> {{ <http://example.org/c> <http://example.org/p> 3 }} }}")
    return store


def _out(store: ox.Store, graph: str = OUT) -> set:
    return {(q.subject.value, q.object.value) for q in store.quads_for_pattern(None, None, None, ox.NamedNode(graph))}


def test_using_graph_uri_goes_before_the_top_level_where_only():
    update = (f'INSERT {{ GRAPH <{OUT}> {{ ?s <http://example.org/q> "WHERE {{" }} }} # WHERE USING\n'
              f'WHERE {{ ?s ?p ?o FILTER(?o != "x WHERE y") FILTER(?s != <http://example.org/WHERE>) }}')
    rewritten = apply_dataset(update, [G1], [])
    assert rewritten.count("USING") == 1 + update.count("USING")
    assert f"USING <{G1}> WHERE {{ ?s ?p ?o" in rewritten
    store = _engine_store()
    store.update(rewritten)
    assert _out(store) == {("http://example.org/a", "WHERE {")}


def test_several_operations_each_get_the_dataset_and_data_operations_are_untouched():
    data = f"INSERT DATA {{ GRAPH <{G3}> {{ <http://example.org/d> <http://example.org/p> \"WHERE\" }} }}"
    update = (f"PREFIX ex: <http://example.org/>\n{data} ;\n"
              f"INSERT {{ GRAPH <{OUT}> {{ ?s ex:first ?o }} }} WHERE {{ ?s ?p ?o }} ;\n"
              f"INSERT {{ GRAPH <{OUT}2> {{ ?s ex:second ?g }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }} ;\n"
              f"CLEAR GRAPH <{G3}>")
    rewritten = apply_dataset(update, [G1], [G2])
    assert data in rewritten and f"CLEAR GRAPH <{G3}>" in rewritten
    assert rewritten.count(f"USING <{G1}> USING NAMED <{G2}> WHERE") == 2
    store = _engine_store()
    store.update(rewritten)
    assert _out(store) == {("http://example.org/a", "1")}  # the default graph is g1 only
    assert _out(store, OUT + "2") == {("http://example.org/b", G2)}  # GRAPH ?g sees g2 only
    assert not _out(store, G3)


def test_a_where_inside_a_group_is_not_the_operations():
    update = (f"INSERT {{ GRAPH <{OUT}> {{ ?s <http://example.org/n> ?n }} }} "
              f"WHERE {{ {{ SELECT ?s (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o }} GROUP BY ?s }} }}")
    rewritten = apply_dataset(update, [G2], [])
    assert rewritten.count("USING") == 1 and rewritten.index("USING") < rewritten.index("WHERE")
    store = _engine_store()
    store.update(rewritten)
    assert _out(store) == {("http://example.org/b", "1")}


@pytest.mark.parametrize("delete_where", ["DELETE WHERE", "delete # WHERE\n where", "DELETEWHERE"])
def test_delete_where_shorthand_becomes_its_long_form(delete_where):
    update = f"{delete_where} {{ ?s <http://example.org/p> ?o }}"
    rewritten = apply_dataset(update, [G1], [])
    assert f"USING <{G1}> WHERE {{ ?s <http://example.org/p> ?o }}" in rewritten
    store = _engine_store()
    store.update("INSERT DATA { <http://example.org/a> <http://example.org/p> 1 . "
                 "<http://example.org/b> <http://example.org/p> 2 }")  # into the real default graph
    store.update(rewritten)  # deletes from the default graph what matches in g1: only the a triple
    remaining = {(q.subject.value, q.graph_name) for q in store.quads_for_pattern(None, None, None)}
    assert ("http://example.org/a", ox.DefaultGraph()) not in remaining
    assert ("http://example.org/b", ox.DefaultGraph()) in remaining
    assert ("http://example.org/a", ox.NamedNode(G1)) in remaining


def test_without_the_parameters_the_text_is_untouched():
    update = "DELETE WHERE { ?s ?p ?o } ; WITH <http://example.org/g> INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }"
    assert apply_dataset(update, [], []) is update


@pytest.mark.parametrize("update", [
    "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "INSERT { ?s ?p ?o } USING <http://example.org/g> WHERE { ?s ?p ?o }",
    "insert { ?s ?p ?o } using named <http://example.org/g> where { graph ?g { ?s ?p ?o } }",
    "INSERT { ?s ?p ?o } USINGNAMED<http://example.org/g> WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> WITHex:g DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "PREFIX ex: <http://example.org/> INSERT { ?s ?p ?o } USINGex:g WHERE { ?s ?p ?o }",
    "INSERT DATA { <http://example.org/a> <http://example.org/b> 1 } ; WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
])
def test_parameters_and_using_or_with_in_the_text_conflict(update):
    ox.Store().update(update)  # a valid update: the engine reads the clause where this pass sees it
    with pytest.raises(DatasetError, match="cannot be combined"):
        apply_dataset(update, [], [G1])


def test_using_or_with_as_text_names_or_prefixes_is_no_conflict():
    update = ('PREFIX with: <http://example.org/with#> PREFIX using: <http://example.org/using#> '
              'INSERT { GRAPH using:g { ?s with:p "USING WITH" } } WHERE { ?s ?p ?o } ; CLEAR SILENT GRAPH with:g')
    rewritten = apply_dataset(update, [G1], [])
    assert rewritten.count(f"USING <{G1}>") == 1
    store = _engine_store()
    store.update(rewritten)
    assert _out(store, "http://example.org/using#g") == {("http://example.org/a", "USING WITH")}


@pytest.mark.parametrize("iri", ["http://example.org/g> } ; DROP ALL ; #", "not an iri", "http://x/a b", "<http://x/>"])
def test_graph_parameters_cannot_inject_text(iri):
    with pytest.raises(DatasetError, match="IRI"):
        apply_dataset("INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }", [iri], [])


def test_the_clauses_repeated_in_every_operation_are_bounded():
    """Many operations times many graphs: the rewritten text is refused (413) past the limit, not built."""
    update = " ; ".join(["INSERT { ?s ?p ?o } WHERE { ?s ?p ?o }"] * 1000 + ["DELETE WHERE { ?s ?p ?o }"] * 1000)
    graphs = [f"http://example.org/graph/{n}" for n in range(100)]
    with pytest.raises(DatasetError, match="413") as raised:
        apply_dataset(update, graphs, graphs, limit=1 << 20)
    assert raised.value.http_status == 413
    assert len(apply_dataset(update, graphs[:1], [], limit=1 << 20)) < 1 << 20


def test_using_parameters_over_http(small_writable):
    """Form and URL parameters, a conflict, an injection attempt: 400s with a message; nothing changed."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    setup = (f"DROP SILENT GRAPH <{OUT}> ; INSERT DATA {{ GRAPH <{G1}> {{ <http://example.org/a> a <http://example.org/T> }} "
             f"GRAPH <{G2}> {{ <http://example.org/b> a <http://example.org/T> }} }}")
    assert small_writable.post("/update", data={"update": setup}, headers=auth).status_code == 200
    update = f"INSERT {{ GRAPH <{OUT}> {{ ?s <http://example.org/from> ?o }} }} WHERE {{ ?s a ?o }}"
    response = small_writable.post("/update", data={"update": update, "using-graph-uri": G2}, headers=auth)
    assert response.status_code == 200, response.text
    assert _ask(small_writable, f"GRAPH <{OUT}> {{ <http://example.org/b> ?p ?o }}")
    assert not _ask(small_writable, f"GRAPH <{OUT}> {{ <http://example.org/a> ?p ?o }}")
    conflict = small_writable.post("/update", params={"using-graph-uri": G1}, headers=auth,
                                   data={"update": f"WITH <{OUT}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"})
    assert conflict.status_code == 400 and "USING" in conflict.text and "combinés" in conflict.text
    injected = small_writable.post("/update", params={"using-graph-uri": f"{G1}> {{}} ; DROP ALL ; #"},
                                   data={"update": update}, headers=auth)
    assert injected.status_code == 400 and "IRI" in injected.text and "Traceback" not in injected.text
    assert _ask(small_writable, f"GRAPH <{G1}> {{ ?s ?p ?o }}")
