"""Federation both ways (issue 9): our SERVICE calls, and other engines federating over us.

Real parts only: the `oxigraph` server from PyPI holds the local stand-ins of Wikidata and INSEE
(tests/fixtures/federation/, made from the knowledge base's own COG facts); Comunica comes from
the npm registry (tests/node/, installed here by `npm ci`); hanging and redirecting endpoints are
real HTTP servers on loopback.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import ROOT, Oxigraph, Server
from ptcekb.sparql_text import service_blocks

FEDERATION = ROOT / "tests" / "fixtures" / "federation"
FEDERATED_QUERIES = ROOT / "queries" / "federated"
NODE = ROOT / "tests" / "node"
WIKIDATA = "https://query.wikidata.org/sparql"
INSEE = "https://rdf.insee.fr/sparql"
STANDIN = "https://example.org/standin/"


class Hanging:
    """Accepts connections and never answers: a remote endpoint that stopped responding."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}/sparql"
        self.held: list = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            self.held.append(connection)


class Redirector:
    """Answers every request with a 302 to ``target``."""

    def __init__(self, target: str):
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST  # noqa: N815

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Garbled:
    """Answers 200 with a SPARQL JSON content type and a body that breaks off after the first row."""

    BODY = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"uri","value":"http://a.example/"}},{"x":{"ty'

    def __init__(self):
        body = self.BODY

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def remotes(tmp_path_factory):
    base = tmp_path_factory.mktemp("remotes")
    wikidata = Oxigraph(base / "wikidata", FEDERATION / "wikidata-standin.ttl")
    insee = Oxigraph(base / "insee", FEDERATION / "insee-standin.ttl")
    forbidden = Oxigraph(base / "forbidden", FEDERATION / "insee-standin.ttl")  # up, but not allowed
    hanging = Hanging()
    yield {"wikidata": wikidata, "insee": insee, "forbidden": forbidden, "hanging": hanging, "garbled": Garbled(),
           "to_forbidden": Redirector(forbidden.url), "to_wikidata": Redirector(wikidata.url)}
    for server in (wikidata, insee, forbidden):
        server.stop()


@pytest.fixture(scope="module")
def federating(built_store, remotes):
    """ptcekb serving the built knowledge base, allowed to call the local endpoints (not `forbidden`)."""
    allowed = [remotes[name].url for name in ("wikidata", "insee", "hanging", "garbled", "to_forbidden", "to_wikidata")]
    server = Server(built_store, env={"PTCEKB_SERVICE_ALLOWLIST": ",".join(allowed), "PTCEKB_SERVICE_TIMEOUT": "2"})
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.server_url = server.url
        yield client
    server.stop()


def select(client, query: str) -> httpx.Response:
    return client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})


def rows(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def without_service(query: str) -> str:
    """The query with its SERVICE blocks removed: the local side of the join."""
    out, position = [], 0
    for block in service_blocks(query):
        out += [query[position:block.start], "{}"]
        position = block.end
    return "".join(out) + query[position:]


def federated(name: str, remotes) -> str:
    text = (FEDERATED_QUERIES / name).read_text(encoding="utf-8")
    return text.replace(WIKIDATA, remotes["wikidata"].url).replace(INSEE, remotes["insee"].url)


# --------------------------------------------------------------------------------------------
# Outbound: the federated examples against the stand-ins


def test_federated_examples_parse(remotes):
    for path in sorted(FEDERATED_QUERIES.glob("*.rq")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith("# FR: ") and WIKIDATA in text or INSEE in text
        ox.Store().query(without_service(text))  # the local side parses
        for block in service_blocks(text):  # and each remote side, as the remote will receive it
            ox.Store().query("PREFIX wdt: <http://www.wikidata.org/prop/direct/> "
                             "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT * WHERE " + block.pattern)


def test_wikidata_communes_join(federating, remotes):
    query = federated("wikidata-communes-des-ptce.rq", remotes)
    answer = {(r["ptce"], r["code"], r["item"]) for r in rows(select(federating, query))}
    local = {(r["ptce"], r["code"]) for r in rows(select(federating, without_service(query)))}
    assert len(local) > 40
    assert answer == {(ptce, code, f"{STANDIN}wikidata/commune-{code}") for ptce, code in local}


def test_wikidata_intercommunalities_by_siren(federating, remotes):
    query = federated("wikidata-intercommunalites-par-siren.rq", remotes)
    answer = {(r["siren"], r["item"]) for r in rows(select(federating, query))}
    local = {r["siren"] for r in rows(select(federating, without_service(query)))}
    assert local and answer == {(siren, f"{STANDIN}wikidata/epci-{siren}") for siren in local}


def test_insee_communes_join(federating, remotes):
    query = federated("insee-communes-des-ptce.rq", remotes)
    answer = rows(select(federating, query))
    assert answer and all(r["communeInsee"] == f"{STANDIN}insee/commune-{r['code']}" for r in answer)
    assert {r["nomInsee"] for r in answer} >= {"Bourg-en-Bresse"}


# --------------------------------------------------------------------------------------------
# Outbound: what is refused, and failures


def test_endpoint_not_in_the_allowlist_is_refused_by_name(federating, remotes):
    url = remotes["forbidden"].url
    reply = select(federating, f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}")
    assert reply.status_code == 400 and url in reply.text
    reply = select(federating, "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }")
    assert reply.status_code == 400 and "variable" in reply.text


def test_redirect_to_an_endpoint_not_allowed_is_refused(federating, remotes):
    reply = select(federating, f"SELECT * WHERE {{ SERVICE <{remotes['to_forbidden'].url}> {{ ?s ?p ?o }} }}")
    assert reply.status_code == 502 and remotes["forbidden"].url in reply.text and "redirect" in reply.text


def test_redirect_to_an_allowed_endpoint_is_followed(federating, remotes):
    query = (f"PREFIX wdt: <http://www.wikidata.org/prop/direct/> SELECT ?item WHERE "
             f"{{ SERVICE <{remotes['to_wikidata'].url}> {{ ?item wdt:P374 \"01053\" }} }}")
    assert rows(select(federating, query)) == [{"item": f"{STANDIN}wikidata/commune-01053"}]


def test_endpoint_that_does_not_answer_times_out_and_silent_goes_on(federating, remotes):
    hanging = remotes["hanging"].url
    started = time.monotonic()
    reply = select(federating, f"SELECT * WHERE {{ SERVICE <{hanging}> {{ ?s ?p ?o }} }}")
    assert reply.status_code == 504 and hanging in reply.text and "PTCEKB_SERVICE_TIMEOUT" in reply.text
    assert time.monotonic() - started < 30
    assert federating.get("/healthz").status_code == 200
    silent = select(federating, "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT ?nom WHERE { "
                                "?c igeo:codeINSEE \"01053\" ; igeo:nom ?nom . "
                                f"OPTIONAL {{ SERVICE SILENT <{hanging}> {{ ?c ?p ?o }} }} }}")
    assert rows(silent) == [{"nom": "Bourg-en-Bresse"}]


def test_a_garbled_answer_is_502_with_a_message(federating, remotes):
    url = remotes["garbled"].url
    response = select(federating, f"SELECT * WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}")
    assert response.status_code == 502, response.text
    assert url in response.text and "Traceback" not in response.text
    silent = select(federating, f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?x ?p ?o }} }}")
    assert silent.status_code == 200, silent.text


def test_remote_answer_values_are_escaped_and_typed(federating, remotes):
    query = (f"SELECT ?label (LANG(?label) AS ?lang) WHERE {{ SERVICE <{remotes['wikidata'].url}> {{ "
             f"<{STANDIN}wikidata/commune-01427> <http://www.w3.org/2000/01/rdf-schema#label> ?label }} }}")
    assert rows(select(federating, query)) == [{"label": "Trévoux", "lang": "fr"}]


# --------------------------------------------------------------------------------------------
# Inbound: other engines federate over our endpoint

JOIN_OVER_US = """PREFIX igeo: <http://rdf.insee.fr/def/geo#>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?item ?nom WHERE {{
  ?item wdt:P374 ?code .
  SERVICE <{endpoint}> {{ ?commune igeo:codeINSEE ?code ; igeo:nom ?nom ; igeo:subdivisionDe <https://w3id.org/ptce/id/departement/01> }}
}} ORDER BY ?nom"""


def _expected_ain(client) -> set[tuple[str, str]]:
    """Stand-in items of the PTCEs' communes of the Ain (01), named as our endpoint names them."""
    codes = [line.split('"')[1] for line in (FEDERATION / "wikidata-standin.ttl").read_text().splitlines()
             if "wdt:P374" in line and '"01' in line]
    names = rows(select(client, "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT ?code ?nom WHERE { "
                                f"VALUES ?code {{ {' '.join(chr(34) + c + chr(34) for c in codes)} }} "
                                "?c a igeo:Commune ; igeo:codeINSEE ?code ; igeo:nom ?nom }"))
    return {(f"{STANDIN}wikidata/commune-{r['code']}", r["nom"]) for r in names}


def test_pyoxigraph_federates_over_our_endpoint(federating):
    store = ox.Store()
    store.load(path=str(FEDERATION / "wikidata-standin.ttl"), format=ox.RdfFormat.TURTLE)
    answer = {(s["item"].value, s["nom"].value)
              for s in store.query(JOIN_OVER_US.format(endpoint=federating.server_url + "/sparql"))}
    assert answer and answer == _expected_ain(federating)


def test_oxigraph_server_federates_over_our_endpoint(federating, remotes):
    query = JOIN_OVER_US.format(endpoint=federating.server_url + "/sparql")
    reply = httpx.post(remotes["wikidata"].url, data={"query": query},
                       headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert {(r["item"], r["nom"]) for r in rows(reply)} == _expected_ain(federating)


@pytest.fixture(scope="module")
def comunica() -> Path:
    binary = NODE / "node_modules" / ".bin" / "comunica-sparql"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail("npm is needed to install Comunica (tests/node); install Node.js 20")
        done = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=NODE, capture_output=True, text=True,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    return binary


def test_comunica_federates_our_endpoint_with_another(comunica, federating, remotes):
    """Comunica joins two SPARQL sources itself (no SERVICE): ours and the Wikidata stand-in."""
    query = ("PREFIX igeo: <http://rdf.insee.fr/def/geo#> PREFIX wdt: <http://www.wikidata.org/prop/direct/> "
             "SELECT ?item ?nom WHERE { ?item wdt:P374 ?code . ?commune igeo:codeINSEE ?code ; igeo:nom ?nom ; "
             "igeo:subdivisionDe <https://w3id.org/ptce/id/departement/01> "
             f'FILTER(STRSTARTS(STR(?item), "{STANDIN}")) }}')  # we publish wdt:P374 on our communes too
    done = subprocess.run([str(comunica), f"sparql@{federating.server_url}/sparql", f"sparql@{remotes['wikidata'].url}",
                           "-q", query, "-t", "application/sparql-results+json"],
                          capture_output=True, text=True, timeout=300, env={**os.environ, "NODE_NO_WARNINGS": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    answer = {(b["item"]["value"], b["nom"]["value"]) for b in json.loads(done.stdout)["results"]["bindings"]}
    assert answer and answer == _expected_ain(federating)
