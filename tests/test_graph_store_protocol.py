"""The 13 W3C SPARQL 1.1 Graph Store Protocol tests, replayed against ``/store`` over real HTTP.

The manifests are in tests/fixtures/conformance/graph-store-protocol/ (docs/conformance.md). As
manifest.ttl's comment asks, every request path's ``/gsp`` becomes the endpoint's path (``/store``),
a ``Location`` announced by ``mf:expectedLocation`` is substituted into later requests of the same
test, and an expected RDF body is compared with the answer by graph isomorphism (rdflib).
The tests are written for a server at ``http://www.example`` whose Graph Store is ``/gsp``: their
graph IRIs ``http://www.example/gsp/…`` are the URLs of graphs under that endpoint (direct
identification), so they are mapped to this server's ``…/store/…`` in request URLs, raw or
percent-encoded. Each test starts from an empty store (``DROP ALL`` through ``/update``), on a
server of its own module over a tiny store, with the updates token.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

from ptcekb.store import StoreLocation

from conftest import ROOT, Server

GSP = Path(__file__).resolve().parent / "fixtures" / "conformance" / "graph-store-protocol"
TOKEN = "gsp-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
STATUS_NAMES = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}
TEST_HOST = "http://www.example/gsp"


# --------------------------------------------------------------------------------------------
# The manifests


def _one(graph: rdflib.Graph, subject, predicate):
    values = list(graph.objects(subject, predicate))
    assert len(values) <= 1, (subject, predicate, values)
    return values[0] if values else None


def _items(graph: rdflib.Graph, head) -> list:
    return list(Collection(graph, head)) if head is not None else []


def _headers(graph: rdflib.Graph, node) -> dict[str, str]:
    return {str(_one(graph, h, HT.fieldName)).lower(): str(_one(graph, h, HT.fieldValue))
            for h in _items(graph, _one(graph, node, HT.headers))}


def _body(graph: rdflib.Graph, node) -> bytes | None:
    body = _one(graph, node, HT.body)
    if body is None:
        return None
    return str(_one(graph, body, CNT.chars)).encode(str(_one(graph, body, CNT.characterEncoding)).lower())


def _statuses(graph: rdflib.Graph, response) -> set[str]:
    """Expected statuses as strings: "201", or a class such as "2xx"."""
    out = set()
    for status in graph.objects(response, MF.expectedStatus):
        name = str(status).removeprefix(HTS)
        out.add(name.removeprefix("StatusCode") if name.startswith("StatusCode") else str(STATUS_NAMES[name]))
    return out


def _tests() -> list[dict]:
    tests = []
    for name in ("manifest-indirect.ttl", "manifest-direct.ttl"):
        graph = rdflib.Graph().parse(GSP / name, format="turtle", publicID=(GSP / name).as_uri())
        (manifest,) = graph.subjects(MF.entries, None)
        for entry in _items(graph, _one(graph, manifest, MF.entries)):
            action = _one(graph, entry, MF.action)
            requests = []
            for node in _items(graph, _one(graph, action, HT.requests)):
                response = _one(graph, node, HT.resp)
                requests.append({
                    "method": str(_one(graph, node, HT.methodName)), "path": str(_one(graph, node, HT.absolutePath)),
                    "headers": _headers(graph, node), "body": _body(graph, node),
                    "statuses": _statuses(graph, response),
                    "location": _one(graph, response, MF.expectedLocation),
                    "response_headers": _headers(graph, response), "response_body": _body(graph, response),
                })
            tests.append({"id": str(entry).rsplit("#", 1)[-1], "manifest": name,
                          "requires": {str(r).rsplit("#", 1)[-1] for r in graph.objects(entry, MF.requires)},
                          "requests": requests})
    return tests


GSP_TESTS = _tests()


def test_the_manifests_hold_the_13_tests_and_each_is_documented():
    assert len(GSP_TESTS) == 13 and len({t["id"] for t in GSP_TESTS}) == 13
    assert sum(len(t["requests"]) for t in GSP_TESTS) > 30  # every request of the multi-request tests
    documented = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    for test in GSP_TESTS:
        assert re.search(rf"`{test['id']}` \| {test['manifest'].split('-')[1][:-4]} \| pass", documented), test["id"]


# --------------------------------------------------------------------------------------------
# A server on a tiny store of its own


@pytest.fixture(scope="module")
def gsp(tmp_path_factory):
    path = tmp_path_factory.mktemp("gsp") / "store"
    with StoreLocation(path).building() as directory:
        store = ox.Store(str(directory))
        store.add(ox.Quad(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"),
                          ox.Literal("seed"), ox.NamedNode("http://example.org/seed")))
        store.flush()
        del store
    server = Server(path, env={"PTCEKB_UPDATE_TOKEN": TOKEN, "PTCEKB_QUERY_TIMEOUT": "10"})
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.server_url = server.url
        yield client
    server.stop()


def _reset(client: httpx.Client) -> None:
    response = client.post("/update", data={"update": "DROP ALL"}, headers=AUTH)
    assert response.status_code == 200, response.text
    assert client.get("/sparql", params={"query": "ASK { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"}).json()["boolean"] is False


def _url(client: httpx.Client, path: str, templates: dict[str, str]) -> str:
    """The manifest's request path on this server: /gsp is /store, and the test host's graph IRIs
    (http://www.example/gsp/…, raw or percent-encoded in ?graph=) are this server's /store/… URLs."""
    assert path.startswith("/gsp"), path
    path = "/store" + path[len("/gsp"):]
    endpoint = client.server_url + "/store"
    path = path.replace(quote(TEST_HOST, safe=""), quote(endpoint, safe="")).replace(TEST_HOST, endpoint)
    for name, value in templates.items():
        path = path.replace(name, value)
    return client.server_url + path


def _media(value: str) -> tuple[str, dict[str, str]]:
    media, *params = [p.strip() for p in value.split(";")]
    return media.lower(), {k.strip().lower(): v.strip().strip('"').lower() for k, _, v in (p.partition("=") for p in params)}


@pytest.mark.parametrize("test", GSP_TESTS, ids=[t["id"] for t in GSP_TESTS])
def test_w3c_graph_store_protocol(gsp, test):
    _reset(gsp)
    templates: dict[str, str] = {}
    for number, step in enumerate(test["requests"], 1):
        url = _url(gsp, step["path"], templates)
        body = step["body"]
        for name, value in templates.items():
            body = body.replace(name.encode(), value.encode()) if body is not None else None
        response = gsp.request(step["method"], httpx.URL(url), content=body, headers={**step["headers"], **AUTH})
        where = f"request {number}: {step['method']} {url} -> {response.status_code} {response.text[:300]}"
        status = str(response.status_code)
        assert status in step["statuses"] or f"{status[0]}xx" in step["statuses"], where
        if step["location"] is not None:
            assert response.headers.get("location"), where
            templates[str(step["location"])] = response.headers["location"]
        expected_type = step["response_headers"].get("content-type")
        if expected_type:
            media, params = _media(response.headers.get("content-type", ""))
            expected_media, expected_params = _media(expected_type)
            assert media == expected_media and params.get("charset", "utf-8") == expected_params.get("charset", "utf-8"), where
        if step["response_body"] is not None:
            rdf_format = {"text/turtle": "turtle", "application/n-triples": "nt"}[expected_media]
            got = rdflib.Graph().parse(data=response.content, format=rdf_format, publicID=url)
            expected = rdflib.Graph().parse(data=step["response_body"], format=rdf_format, publicID=url)
            assert isomorphic(got, expected), f"{where}\nexpected:\n{expected.serialize(format='nt')}\ngot:\n{got.serialize(format='nt')}"


# --------------------------------------------------------------------------------------------
# What the W3C tests leave out


def test_direct_and_indirect_identification_name_the_same_graph(gsp):
    _reset(gsp)
    iri = gsp.server_url + "/store/people/%C3%A9lise.ttl"
    put = gsp.put("/store/people/%C3%A9lise.ttl", content='<http://example.org/e> <http://example.org/name> "Élise" .',
                  headers={**AUTH, "Content-Type": "text/turtle"})
    assert put.status_code == 201, put.text
    got = gsp.get("/store", params={"graph": iri}, headers={**AUTH, "Accept": "application/n-triples"})
    assert got.status_code == 200 and "Élise" in got.text
    assert gsp.get("/sparql", params={"query": f"ASK {{ GRAPH <{iri}> {{ ?s ?p ?o }} }}"}).json()["boolean"] is True
    assert gsp.get("/store/people/%C3%A9lise.ttl").status_code == 401  # the token, as for /store
    mixed = gsp.get("/store/people/x.ttl", params={"graph": iri}, headers=AUTH)
    assert mixed.status_code == 400 and "graph" in mixed.text and "Traceback" not in mixed.text
    assert gsp.request("PATCH", "/store/people/x.ttl", headers=AUTH).status_code == 405


def test_post_creates_a_graph_only_on_the_store_itself(gsp):
    _reset(gsp)
    created = gsp.post("/store", content='<http://example.org/a> <http://example.org/b> "new" .',
                       headers={**AUTH, "Content-Type": "application/n-triples"})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    assert location.startswith(gsp.server_url + "/store/") and "Location" in created.headers["access-control-expose-headers"]
    assert "new" in gsp.get(location, headers={**AUTH, "Accept": "application/n-triples"}).text  # direct
    for method in ("GET", "PUT", "DELETE"):
        response = gsp.request(method, "/store", content=b"<a:b> <a:c> <a:d> .", headers={**AUTH, "Content-Type": "text/turtle"})
        assert response.status_code == 400 and "?graph=" in response.text and "graphe" in response.text, method
    multipart_put = gsp.put("/store", params={"default": ""}, content=b"--x--",
                            headers={**AUTH, "Content-Type": "multipart/form-data; boundary=x"})
    assert multipart_put.status_code == 415


def test_posted_blank_nodes_are_new_nodes_and_bad_parts_change_nothing(gsp):
    _reset(gsp)
    graph = {"graph": "http://example.org/bnodes"}
    for value in ("1", "2"):
        response = gsp.post("/store", params=graph, content=f'_:b <http://example.org/v> "{value}" .'.encode(),
                            headers={**AUTH, "Content-Type": "text/turtle"})
        assert response.status_code in (201, 204), response.text
    rows = gsp.get("/sparql", params={"query": "SELECT (COUNT(DISTINCT ?b) AS ?n) { GRAPH <http://example.org/bnodes> { ?b ?p ?o } }"})
    assert rows.json()["results"]["bindings"][0]["n"]["value"] == "2"  # two uploads, two blank nodes
    bad = (b'--B\r\nContent-Type: text/turtle\r\n\r\n<http://example.org/x> <http://example.org/y> "ok" .\r\n'
           b'--B\r\nContent-Type: text/turtle\r\n\r\nnot turtle {\r\n--B--\r\n')
    response = gsp.post("/store", params=graph, content=bad, headers={**AUTH, "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 400 and "part 2" in response.text and "Traceback" not in response.text
    assert gsp.get("/sparql", params={"query": 'ASK { ?s ?p "ok" }'}).json()["boolean"] is False
    image = (b'--B\r\nContent-Type: image/png\r\n\r\nxx\r\n--B--\r\n')
    response = gsp.post("/store", params=graph, content=image, headers={**AUTH, "Content-Type": "multipart/form-data; boundary=B"})
    assert response.status_code == 415 and "image/png" in response.text
