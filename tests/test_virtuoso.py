"""What only the Virtuoso run checks (PTCEKB_TEST_STORE=virtuoso; issue 23 item 6, docs/deployment.md).

The session's knowledge base is in a real Virtuoso (tests/conftest.py: Virtuoso). Besides the
service tests run against it, this checks what is Virtuoso's own: the engine's system graphs are
neither served nor dropped by a publish, and the SIRENE ingestion publishes graph/sirene back into
the engine. Run last in the session: the ingestion adds graph/sirene to the session's store.
"""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest

from conftest import REMOTE, ROOT, VIRTUOSO, open_kb, ptcekb

pytestmark = pytest.mark.skipif(not VIRTUOSO, reason="Virtuoso's own behaviour: PTCEKB_TEST_STORE=virtuoso only")

BASE = "https://w3id.org/ptce/"
VIRTRDF = "http://www.openlinksw.com/schemas/virtrdf#"  # Virtuoso's own graph: its RDF views, its formats
SIRENE = ROOT / "tests" / "fixtures" / "sirene"  # the real sample rows: 285 triples of ESS units on the curated base


def _engine_graphs(store_dir: str) -> dict[str, int]:
    """Every graph of the engine, as Virtuoso itself answers (no dataset: its union of all graphs)."""
    answer = httpx.post(store_dir, data={"query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
                        headers={"Accept": "text/csv"}, timeout=120)
    assert answer.status_code == 200, answer.text
    return {line.split(",")[0].strip('"'): int(line.split(",")[1]) for line in answer.text.splitlines()[1:]}


def test_system_graphs_are_neither_served_nor_dropped(built_store, http):
    assert REMOTE
    engine = _engine_graphs(built_store)
    assert engine.get(VIRTRDF, 0) > 0, "the publish must not drop Virtuoso's own graphs"
    served = {g.value for g in open_kb(built_store).named_graphs()}
    assert served and all(g.startswith(BASE + "graph/") for g in served), served
    assert served == {g for g in engine if g.startswith(BASE)}
    health = http.get("/healthz").json()
    assert set(health["graphs"]) == {g[len(BASE + "graph/"):] for g in served} - {"meta"}  # /healthz: the sources' graphs


def test_sirene_ingestion_publishes_into_virtuoso(built_store, http):
    before = _engine_graphs(built_store)
    result = ptcekb("ingest", "sirene", "--store", built_store, "--unites-legales", str(SIRENE / "sirene_sample_unitelegale.csv"),
                    "--etablissements", str(SIRENE / "sirene_sample_etablissement.csv"), timeout=900)
    assert result.returncode == 0, result.stderr
    assert "published in " + built_store in result.stderr
    after = _engine_graphs(built_store)
    assert after.get(BASE + "graph/sirene") == 286  # the sample's graph (with the link of 5532, a legal category since issue 21)
    for graph, count in before.items():  # the other graphs carried over as they were (meta rewritten)
        if graph != BASE + "graph/meta" and graph != BASE + "graph/sirene":
            assert after.get(graph) == count, graph
    assert not [g for g in after if "/.staging/" in g]
    unit = ox.NamedNode(BASE + "id/organisation/005520119")  # an ESS unit of the sample
    kb = open_kb(built_store)
    assert list(kb.quads_for_pattern(unit, None, None, ox.NamedNode(BASE + "graph/sirene")))
    page = http.get("/id/organisation/005520119", headers={"Accept": "text/html"})
    assert page.status_code == 200, page.text[:500]
