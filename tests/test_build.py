"""`ptcekb build`: named graphs, the meta graph, determinism and the atomic switch."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from conftest import ROOT, ptcekb
from ptcekb.ingest import all_sources
from ptcekb.namespaces import DEFAULT_BASE_IRI

META = DEFAULT_BASE_IRI + "graph/meta"
TIME_PREDICATES = {
    "http://www.w3.org/ns/prov#startedAtTime",
    "http://www.w3.org/ns/prov#endedAtTime",
    "http://www.w3.org/ns/prov#generatedAtTime",
}


def open_store(path: Path) -> ox.Store:
    return ox.Store.read_only(str(path.resolve()))


def select(store: ox.Store, query: str) -> list[dict]:
    return [{v.value: row[v.value] for v in result.variables} for result in [store.query(query)] for row in result]


def test_one_named_graph_per_source_plus_meta(built_store):
    store = open_store(built_store)
    graphs = {g.value for g in store.named_graphs()}
    expected = {DEFAULT_BASE_IRI + "graph/" + s.name for s in all_sources()} | {META}
    assert graphs == expected
    assert not list(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), "nothing in the default graph"


def test_meta_graph_describes_each_graph(built_store):
    store = open_store(built_store)
    rows = select(store, f"""
        PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX spdx: <http://spdx.org/rdf/terms#>
        SELECT ?g ?n ?license ?file ?sum ?when WHERE {{ GRAPH <{META}> {{
          <{DEFAULT_BASE_IRI}dataset> void:subset ?g .
          ?g void:triples ?n ; dcterms:license ?license ; prov:generatedAtTime ?when ;
             prov:wasDerivedFrom [ dcterms:identifier ?file ; spdx:checksum/spdx:checksumValue ?sum ] }} }}""")
    described = {r["g"].value for r in rows}
    assert described == {DEFAULT_BASE_IRI + "graph/" + s.name for s in all_sources()}
    for row in rows:
        (count,) = store.query(f"SELECT (COUNT(*) AS ?c) WHERE {{ GRAPH <{row['g'].value}> {{ ?s ?p ?o }} }}")
        assert int(row["n"].value) == int(count["c"].value) > 0
        source_file = ROOT / row["file"].value
        assert hashlib.sha256(source_file.read_bytes()).hexdigest() == row["sum"].value
        assert row["license"].value.startswith("https://")
    assert store.query(f"""ASK {{ GRAPH <{META}> {{ ?a a <http://www.w3.org/ns/prov#Activity> ;
        <http://www.w3.org/ns/prov#wasAssociatedWith> [ <http://www.w3.org/2002/07/owl#versionInfo> ?v ] }} }}""")


def canonical_without_build_times(path: Path) -> list[str]:
    store = open_store(path)
    dataset = ox.Dataset(q for q in store if q.predicate.value not in TIME_PREDICATES)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return sorted(str(q) for q in dataset)


def test_rebuild_gives_the_same_triples(built_store, tmp_path):
    result = ptcekb("build", "--store", str(tmp_path / "again"))
    assert result.returncode == 0, result.stderr
    assert canonical_without_build_times(tmp_path / "again") == canonical_without_build_times(built_store)


def test_killed_build_leaves_the_previous_store_served(built_store, http):
    before_target = os.readlink(built_store)
    before_health = http.get("/healthz").json()
    builds = built_store.with_name(built_store.name + ".builds")
    process = subprocess.Popen([sys.executable, "-m", "ptcekb.cli", "build", "--store", str(built_store)],
                               cwd=ROOT, env={**os.environ, "CI": "1"}, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(p.name.endswith(".partial") and any(p.iterdir()) for p in builds.iterdir()):
        assert process.poll() is None, "the build ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(1.0)  # well into writing the new store
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert os.readlink(built_store) == before_target
    assert http.get("/healthz").json() == before_health
    store = open_store(built_store)
    assert int(next(iter(store.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")))["n"].value) == \
        before_health["triples"] + _meta_size(store)
    assert any(p.name.endswith(".partial") for p in builds.iterdir()), "the killed build left its partial directory"


def _meta_size(store: ox.Store) -> int:
    return len(list(store.quads_for_pattern(None, None, None, ox.NamedNode(META))))


def test_failed_build_reports_position_and_keeps_previous_store(built_store, tmp_path, http):
    sources = tmp_path / "sources"
    for part in ("ontology", "data", "shapes"):
        if (ROOT / part).exists():
            shutil.copytree(ROOT / part, sources / part)
    broken = sources / "ontology" / "ptce.ttl"
    broken.write_text(broken.read_text(encoding="utf-8") + "\n<http://a> <http://b> \"unterminated .\n", encoding="utf-8")
    lines = broken.read_text(encoding="utf-8").count("\n")
    before_target = os.readlink(built_store)
    result = ptcekb("build", "--store", str(built_store), env={"PTCEKB_SOURCES": str(sources)})
    assert result.returncode == 2
    assert f"ptce.ttl:{lines}:" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert os.readlink(built_store) == before_target
    assert http.get("/healthz").status_code == 200
    builds = built_store.with_name(built_store.name + ".builds")
    assert os.readlink(built_store).split("/")[-1] in {p.name for p in builds.iterdir()}


def test_a_successful_rebuild_is_picked_up_by_the_running_server(built_store, http):
    before = http.get("/healthz").json()
    result = ptcekb("build", "--store", str(built_store))
    assert result.returncode == 0, result.stderr
    after = http.get("/healthz").json()
    assert after["store"] != before["store"]
    assert after["triples"] == before["triples"]
    builds = built_store.with_name(built_store.name + ".builds")
    assert not any(p.name.endswith(".partial") for p in builds.iterdir()), "stale partial builds are removed"


@pytest.mark.parametrize("base", ["not-an-iri", "http://example.org/no-slash"])
def test_bad_base_iri_is_a_user_error(base, tmp_path):
    result = ptcekb("build", "--store", str(tmp_path / "s"), "--base-iri", base)
    assert result.returncode == 1
    assert "base IRI" in result.stderr and "Traceback" not in result.stderr
