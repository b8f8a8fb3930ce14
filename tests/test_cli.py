"""The `ptcekb` command line: query, dump and user errors (one clear line, no traceback)."""

from __future__ import annotations

import csv
import gzip
import io
import json
import socket

import pyoxigraph as ox
import pytest

from conftest import ptcekb

COUNT_REGIONS = "PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT (COUNT(?r) AS ?n) WHERE { ?r a igeo:Region }"
REGIONS = ("PREFIX igeo: <http://rdf.insee.fr/def/geo#> SELECT ?code ?nom WHERE "
           "{ ?r a igeo:Region ; igeo:codeINSEE ?code ; igeo:nom ?nom } ORDER BY ?code")


def assert_user_error(result, code: int, *fragments: str):
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ptcekb: error:"), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_query_table(built_store):
    result = ptcekb("query", "--store", str(built_store), REGIONS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["code", "nom"]
    assert any(line.split()[:2] == ["84", "Auvergne-Rhône-Alpes@fr"] for line in lines)
    assert lines[-1] == "(18 rows)"  # 13 metropolitan + 5 overseas régions


@pytest.mark.parametrize("fmt", ["json", "csv", "tsv"])
def test_query_result_formats(built_store, fmt):
    result = ptcekb("query", "--store", str(built_store), "--format", fmt, COUNT_REGIONS)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        assert json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"] == "18"
    else:
        rows = list(csv.reader(io.StringIO(result.stdout), delimiter="," if fmt == "csv" else "\t"))
        assert rows[0][0].lstrip("?") == "n" and rows[1][0].split("^^")[0].strip('"') == "18"


def test_query_from_file_and_construct_as_turtle(built_store, tmp_path):
    query = tmp_path / "q.rq"
    query.write_text("PREFIX igeo: <http://rdf.insee.fr/def/geo#>\n"
                     "CONSTRUCT { ?r igeo:nom ?n } WHERE { ?r a igeo:Region ; igeo:nom ?n }", encoding="utf-8")
    result = ptcekb("query", "--store", str(built_store), "--format", "turtle", f"@{query}")
    assert result.returncode == 0, result.stderr
    triples = list(ox.parse(result.stdout.encode(), format=ox.RdfFormat.TURTLE))
    assert len(triples) == 18


def test_ask_prints_a_boolean(built_store):
    result = ptcekb("query", "--store", str(built_store), "ASK { ?s ?p ?o }")
    assert result.stdout == "true\n"


def test_bad_sparql_is_one_line(built_store):
    assert_user_error(ptcekb("query", "--store", str(built_store), "SELEC ?x WHERE {}"), 2, "SPARQL syntax error", "line 1, column 10")


def test_missing_query_file(built_store, tmp_path):
    assert_user_error(ptcekb("query", "--store", str(built_store), f"@{tmp_path}/none.rq"), 2, "none.rq")


def test_missing_store(tmp_path):
    assert_user_error(ptcekb("query", "--store", str(tmp_path / "nothing"), "ASK {}"), 1, "ptcekb build")


@pytest.mark.parametrize("suffix", [".nq", ".trig", ".nq.gz"])
def test_dump_writes_the_whole_dataset(built_store, tmp_path, suffix):
    output = tmp_path / f"dump{suffix}"
    result = ptcekb("dump", "--store", str(built_store), "-o", str(output))
    assert result.returncode == 0, result.stderr
    data = gzip.decompress(output.read_bytes()) if suffix.endswith(".gz") else output.read_bytes()
    rdf_format = ox.RdfFormat.TRIG if suffix == ".trig" else ox.RdfFormat.N_QUADS
    quads = list(ox.parse(data, format=rdf_format))
    store = ox.Store.read_only(str(built_store.resolve()))
    assert len(quads) == len(store)
    assert {q.graph_name for q in quads} == set(store.named_graphs())
    assert not list(tmp_path.glob("*.partial"))


def test_dump_rejects_unknown_extension(built_store, tmp_path):
    assert_user_error(ptcekb("dump", "--store", str(built_store), "-o", str(tmp_path / "x.json")), 1, ".nq")


def test_serve_on_a_busy_port_is_one_line(built_store):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = ptcekb("serve", "--store", str(built_store), "--port", str(port), timeout=60)
    assert_user_error(result, 1, f"127.0.0.1:{port}")


def test_base_iri_is_configurable(tmp_path):
    store = tmp_path / "other"
    assert ptcekb("build", "--store", str(store), "--base-iri", "http://kb.example.org/").returncode == 0
    result = ptcekb("query", "--store", str(store), "--format", "json",
                    "SELECT ?g WHERE { GRAPH ?g {} } ORDER BY ?g")
    graphs = [b["g"]["value"] for b in json.loads(result.stdout)["results"]["bindings"]]
    assert graphs and all(g.startswith("http://kb.example.org/graph/") for g in graphs)
    result = ptcekb("query", "--store", str(store), "--format", "json",
                    "ASK { <http://kb.example.org/id/commune/01001> ?p ?o }")
    assert json.loads(result.stdout)["boolean"] is True


def test_serve_does_not_build_a_mistyped_store(built_store, tmp_path):
    typo = tmp_path / "var" / "stor"
    result = ptcekb("serve", "--store", str(typo), "--port", "0", timeout=60)
    assert_user_error(result, 1, str(typo), "ptcekb build --store", "--build")
    assert not typo.exists() and not typo.parent.exists(), "nothing is written at a path that holds no store"


def test_query_knows_the_endpoints_default_prefixes(built_store):
    result = ptcekb("query", "--store", str(built_store), "--format", "csv",
                    "SELECT (COUNT(?x) AS ?n) WHERE { ?x a ptce:PTCE }")
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.splitlines()[1]) > 100


def test_query_syntax_error_reads_in_words(built_store):
    result = ptcekb("query", "--store", str(built_store), "SELECT ?x WHERE { ?x a ptce:PTCE } LIMIT many")
    assert_user_error(result, 2, "line 1, column", "near «many»", "a digit")
    assert "\\u{" not in result.stderr
