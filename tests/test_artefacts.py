"""What the service shows of a whole build (dumps, VoID statistics, the lists' name indexes, the home
page's PTCEs) is made when ``ptcekb build`` or ``ptcekb ingest sirene`` publishes the build
(ptcekb/service/artefacts.py): the server reads it and computes nothing; a build published
without them has them computed on first use, which the log says once (issue 23, item 5)."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from conftest import REMOTE, ROOT, Server, copy_store, ptcekb

pytestmark = pytest.mark.skipif(REMOTE, reason="artefacts are written beside a local store")

NAMES = {"ptcekb.nq.gz", "ptcekb.trig", "statistics.json", "indexes.json", "catalogue.json"}
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
SIRENE = ROOT / "tests" / "fixtures" / "sirene"


def artefacts_of(store: Path) -> set[str]:
    """The artefacts written for the build ``store`` publishes (``DIR.dumps/BUILD.NAME``)."""
    build = Path(store).resolve().name
    directory = Path(store).with_name(Path(store).name + ".dumps")
    return {p.name.removeprefix(build + ".") for p in directory.glob(build + ".*")}


def computed(output: str, store: Path, name: str) -> int:
    """How many times the server's log says it computed ``name`` for the build ``store`` publishes."""
    return output.count(f"build {Path(store).resolve().name} has no {name}")


def graph_sizes(store: Path) -> dict[str, int]:
    kb = ox.Store.read_only(str(Path(store).resolve()))
    return {row["g"].value: int(row["n"].value) for row in kb.query(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}


def served_sizes(http: httpx.Client, graphs) -> dict[str, int]:
    """void:triples of each named graph, as /.well-known/void serves them (waiting while it answers 503)."""
    deadline = time.monotonic() + 180
    while (reply := http.get("/.well-known/void", headers={"Accept": "application/n-triples"})).status_code == 503:
        assert time.monotonic() < deadline, "the statistics never came"
        time.sleep(0.5)
    assert reply.status_code == 200, reply.text
    return {q.subject.value: int(q.object.value) for q in ox.parse(reply.content, format=ox.RdfFormat.N_TRIPLES)
            if q.predicate.value == VOID_TRIPLES and q.subject.value in graphs}


def assert_served_as_held(http: httpx.Client, store: Path, tmp_path: Path) -> None:
    sizes = graph_sizes(store)
    assert served_sizes(http, sizes) == sizes
    reply = http.get("/dumps/ptcekb.nq.gz")
    assert reply.status_code == 200
    held = tmp_path / "held.nq"
    result = ptcekb("dump", "-o", str(held), "--store", str(store))
    assert result.returncode == 0, result.stderr
    assert gzip.decompress(reply.content) == held.read_bytes()
    for path in ("/", "/id/ptce/", "/id/commune/?q=arras", "/about"):
        assert http.get(path).status_code == 200, path


def test_a_build_publishes_its_artefacts_and_the_server_computes_none(server, built_store, http, tmp_path):
    """``serve --build`` built the session's store before starting: its artefacts are there, and
    what the server serves from them is what the store holds."""
    assert artefacts_of(built_store) == NAMES
    assert_served_as_held(http, built_store, tmp_path)
    output = server.output()
    assert not any(computed(output, built_store, name) for name in NAMES), output[-3000:]


def test_a_build_without_them_has_them_computed_once(built_store, tmp_path):
    store = copy_store(built_store, tmp_path / "store")  # the build alone, without its artefacts
    assert artefacts_of(store) == set()
    server = Server(store)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            assert_served_as_held(http, store, tmp_path)
            assert_served_as_held(http, store, tmp_path)
        output = server.output()
    finally:
        server.stop()
    for name in ("ptcekb.nq.gz", "statistics.json", "indexes.json", "catalogue.json"):
        assert computed(output, store, name) == 1, (name, output[-3000:])
    assert "ptcekb.nq.gz" in artefacts_of(store)


def test_an_ingest_renews_them(built_store, tmp_path):
    store = copy_store(built_store, tmp_path / "store")
    before = store.resolve().name
    result = ptcekb("ingest", "sirene", "--store", str(store),
                    "--unites-legales", str(SIRENE / "sirene_sample_unitelegale.csv"),
                    "--etablissements", str(SIRENE / "sirene_sample_etablissement.csv"))
    assert result.returncode == 0, result.stderr
    assert store.resolve().name != before
    assert artefacts_of(store) == NAMES
    assert graph_sizes(store).get("https://w3id.org/ptce/graph/sirene", 0) > 0
    server = Server(store)
    try:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            assert_served_as_held(http, store, tmp_path)
        output = server.output()
    finally:
        server.stop()
    assert not any(computed(output, store, name) for name in NAMES), output[-3000:]
