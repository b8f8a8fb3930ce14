"""A real `oxigraph serve` as the remote store (issue 9 item 4): publishing, atomic switch, failures.

The whole service suite also runs against a remote store (``PTCEKB_TEST_STORE=remote``, in
.ci/run); these tests cover what only a remote store has: staging graphs, the switch in one
update, what is left after a failed publish, and the CLI's errors when the engine is down.
"""

from __future__ import annotations

import threading
import time

import httpx
import pyoxigraph as ox
import pytest

from conftest import Oxigraph, Server, ptcekb
from ptcekb.build import build
from ptcekb.config import Settings
from ptcekb.ingest import calls, rdf_files
from ptcekb.remote import STAGING, RemoteStore, RemoteUnavailable


@pytest.fixture()
def engine(tmp_path):
    server = Oxigraph(tmp_path / "engine")
    yield server
    server.stop()


def _settings(engine) -> Settings:
    return Settings.from_env(environ={}, store=engine.url)


def _graph_sizes(store: RemoteStore) -> dict[str, int]:
    rows = store.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {row["g"].value: int(row["n"].value) for row in rows}


def test_build_publishes_every_graph_with_the_local_counts_and_no_staging_left(engine):
    settings = _settings(engine)
    report = build(settings, rdf_files.SOURCES)
    sizes = _graph_sizes(RemoteStore(engine.url))
    assert not [g for g in sizes if STAGING in g]
    for source in rdf_files.SOURCES:
        graph = settings.ns.graph(source.name)
        record = next(r for r in report.graphs if r.graph == graph)
        assert sizes[graph] == record.triples > 0
    assert settings.ns.meta_graph in sizes


def test_readers_see_the_old_or_the_new_build_never_a_mix(engine):
    settings = _settings(engine)
    build(settings, rdf_files.SOURCES)
    remote = RemoteStore(engine.url)
    old_total = sum(_graph_sizes(remote).values())
    seen: list[int] = []
    stop = threading.Event()

    def read():
        reader = RemoteStore(engine.url)
        while not stop.is_set():
            seen.append(sum(n for g, n in _graph_sizes(reader).items() if STAGING not in g))

    thread = threading.Thread(target=read)
    thread.start()
    try:
        build(settings, [*rdf_files.SOURCES[:1], calls.SOURCE])  # other graphs: some dropped, one added
    finally:
        stop.set()
        thread.join()
    new_total = sum(_graph_sizes(remote).values())
    assert new_total != old_total
    assert seen and set(seen) <= {old_total, new_total}, sorted(set(seen))
    served = set(_graph_sizes(remote))
    assert settings.ns.graph("calls") in served and settings.ns.graph("ontology") not in served


def test_a_failed_publish_leaves_the_served_graphs_and_no_staging(engine):
    settings = _settings(engine)
    build(settings, rdf_files.SOURCES)
    remote = RemoteStore(engine.url)
    before = _graph_sizes(remote)

    def broken():
        yield ox.Triple(ox.NamedNode("http://example.org/s"), ox.NamedNode("http://example.org/p"), ox.Literal("x"))
        raise OSError("the disk went away")

    good = {g: (q.triple for q in remote.quads_for_pattern(None, None, None, ox.NamedNode(g))) for g in before}
    with pytest.raises(OSError):
        remote.publish({**good, "http://example.org/broken": broken()}, build="failed")
    assert _graph_sizes(remote) == before


def test_cli_query_reads_the_engine_and_reports_an_unreachable_one(engine, tmp_path):
    build(_settings(engine), rdf_files.SOURCES)
    answer = ptcekb("query", "SELECT (COUNT(*) AS ?n) WHERE { ?c a <http://www.w3.org/2002/07/owl#Class> }",
                    "--store", engine.url, "--format", "csv")
    assert answer.returncode == 0, answer.stderr
    assert int(answer.stdout.splitlines()[1]) > 10
    engine.stop()
    down = ptcekb("query", "ASK { ?s ?p ?o }", "--store", engine.url)
    assert down.returncode != 0
    assert "unreachable" in down.stderr and "Traceback" not in down.stderr
    for command in (("serve", "--port", "1"), ("dump", "-o", str(tmp_path / "kb.nq"))):
        refused = ptcekb(*command, "--store", engine.url, timeout=60)
        assert refused.returncode == 1 and refused.stderr.startswith("ptcekb: error:") and "unreachable" in refused.stderr
    with pytest.raises(RemoteUnavailable):
        RemoteStore(engine.url, timeout=2).named_graphs()
    engine.process.wait()
    engine.stop = lambda: None  # already stopped


def test_the_service_answers_502_when_the_engine_stops(engine):
    build(_settings(engine), rdf_files.SOURCES)
    server = Server(engine.url, env={"PTCEKB_QUERY_TIMEOUT": "5"})
    try:
        assert httpx.get(server.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True
        engine.stop()
        engine.stop = lambda: None  # already stopped
        for path, params in (("/sparql", {"query": "ASK { ?s ?p ?o }"}), ("/def.ttl", {})):
            started = time.monotonic()
            response = httpx.get(server.url + path, params=params, timeout=30)
            assert response.status_code == 502, (path, response.status_code, response.text)
            assert "Traceback" not in response.text and time.monotonic() - started < 10
        assert httpx.get(server.url + "/healthz").status_code in (200, 502, 503)  # answered, not hung
    finally:
        server.stop()
