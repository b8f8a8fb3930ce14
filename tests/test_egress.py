"""No process that evaluates SPARQL opens a network connection by itself (issue 18, items 1 and 4).

Real parts only: `ptcekb serve` over HTTP, real pyoxigraph in its workers, and a real listening
socket on loopback that records every connection made to it and answers each as a SPARQL endpoint
would (one row holding LEAKED), so that any connection the engine made would also show in the answer.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import threading
from urllib.parse import quote

import httpx
import pytest

from conftest import REMOTE, Server
from ptcekb.config import DEFAULT_WORKER_MEMORY, Settings, parse_size
from ptcekb.errors import UserError
from ptcekb.service import worker_guard

pytestmark = pytest.mark.skipif(REMOTE, reason="a remote engine evaluates the queries: its network is its own")

TOKEN = "egress-token"
LEAK = "LEAKED"
RESULTS = ('{"head":{"vars":["leak","s","p","o"]},"results":{"bindings":[{"leak":{"type":"literal","value":"%s"}}]}}'
           % LEAK).encode()


class Listener:
    """A loopback TCP server that records every connection (and its first bytes)."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.connections: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(2)
                try:
                    first = connection.recv(4096)
                except OSError:
                    first = b""
                self.connections.append(first)
                try:
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                                       b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(RESULTS) + RESULTS)
                except OSError:
                    pass

    def close(self) -> None:
        self.socket.close()


@pytest.fixture(scope="module")
def listener():
    recorder = Listener()
    yield recorder
    recorder.close()


@pytest.fixture(scope="module")
def guarded(built_store, listener):
    # The allow-list names another path of the same host: only the server's own client may go there.
    server = Server(built_store, env={"PTCEKB_UPDATE_TOKEN": TOKEN,
                                      "PTCEKB_SERVICE_ALLOWLIST": "http://127.0.0.1:1/allowed/"})
    yield server
    server.stop()


def query_spellings(base: str) -> list[tuple[str, str]]:
    """(name, query) pairs that ask for SERVICE towards ``base``. Queries named ``quiet-…`` are those
    where the engine itself swallows the refused connection: an unreachable SILENT service is an empty
    match (the SPARQL semantics), and Oxigraph drops the error of a SERVICE inside FILTER EXISTS; when
    the server's own check does not see such a SERVICE, they may answer 200 (without any remote row)."""
    x = base + "x"
    escaped = x.replace("127", "12\\u0037")  # a codepoint escape inside the IRI
    pattern = "{ ?leak ?p ?o }"
    return [
        ("comment-cr", f"SELECT ?leak WHERE {{ #\rSERVICE <{x}> {pattern} }}"),
        ("comment-cr-text", f"SELECT ?leak WHERE {{ # a comment\rSERVICE <{x}> {pattern} }}"),
        ("comment-between", f"SELECT ?leak WHERE {{ SERVICE #\r<{x}> {pattern} }}"),
        ("prefixed-glued", f"PREFIX : <{base}> SELECT * WHERE {{ SERVICE:x {pattern} }}"),
        ("prefixed-glued-named", f"PREFIX s: <{base}> SELECT * WHERE {{ SERVICE s:x {pattern} }}"),
        ("prefixed-empty-local", f"PREFIX s: <{x}> SELECT * WHERE {{ SERVICE s: {pattern} }}"),
        ("escape-S", f"SELECT * WHERE {{ \\u0053ERVICE <{x}> {pattern} }}"),
        ("escape-C", f"SELECT * WHERE {{ SERVI\\u0043E <{x}> {pattern} }}"),
        ("escape-long", f"SELECT * WHERE {{ \\U00000053ERVICE <{x}> {pattern} }}"),
        ("escape-in-iri", f"SELECT * WHERE {{ SERVICE <{escaped}> {pattern} }}"),
        ("mixed-case", f"SELECT * WHERE {{ sErViCe <{x}> {pattern} }}"),
        ("lower-case", f"select * where {{ service <{x}> {pattern} }}"),
        ("tab", f"SELECT * WHERE {{ SERVICE\t<{x}>\t{pattern} }}"),
        ("optional", f"SELECT * WHERE {{ OPTIONAL {{ SERVICE <{x}> {pattern} }} }}"),
        ("minus", f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{x}> {pattern} }} }} LIMIT 1"),
        ("exists", f"SELECT * WHERE {{ BIND(1 AS ?one) FILTER EXISTS {{ SERVICE <{x}> {pattern} }} }}"),
        ("not-exists", f"SELECT * WHERE {{ BIND(1 AS ?one) FILTER NOT EXISTS {{ SERVICE <{x}> {pattern} }} }}"),
        ("subquery", f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{x}> {pattern} }} }} }}"),
        ("nested", f"SELECT * WHERE {{ SERVICE <{x}> {{ SERVICE <{base}y> {pattern} }} }}"),
        ("nested-hidden", f"SELECT * WHERE {{ #\rSERVICE <{x}> {{ SERVICE <{base}y> {pattern} }} }}"),
        ("union", f"SELECT * WHERE {{ {{ BIND(1 AS ?one) }} UNION {{ SERVICE <{x}> {pattern} }} }}"),
        ("graph", f"SELECT * WHERE {{ GRAPH ?g {{ SERVICE <{x}> {pattern} }} }}"),
        ("group", f"SELECT * WHERE {{ {{ {{ SERVICE <{x}> {pattern} }} }} }}"),
        ("base-relative", f"BASE <{base}> SELECT * WHERE {{ SERVICE <x> {pattern} }}"),
        ("variable-values", f"SELECT * WHERE {{ VALUES ?svc {{ <{x}> }} SERVICE ?svc {pattern} }}"),
        ("variable-bind", f"SELECT * WHERE {{ BIND(<{x}> AS ?svc) SERVICE ?svc {pattern} }}"),
        ("construct", f"CONSTRUCT {{ ?leak ?p ?o }} WHERE {{ #\rSERVICE <{x}> {pattern} }}"),
        ("ask", f"ASK {{ #\rSERVICE <{x}> {pattern} }}"),
        ("describe", f"DESCRIBE ?leak WHERE {{ #\rSERVICE <{x}> {pattern} }}"),
        ("quiet-exists-hidden", f"SELECT * WHERE {{ BIND(1 AS ?one) FILTER EXISTS {{ #\rSERVICE <{x}> {pattern} }} }}"),
        ("trailing-values", f"SELECT * WHERE {{ SERVICE ?svc {pattern} }} VALUES ?svc {{ <{x}> }}"),
        ("localhost-name", f"SELECT * WHERE {{ #\rSERVICE <{x.replace('127.0.0.1', 'localhost')}> {pattern} }}"),
        ("escape-lower", f"SELECT * WHERE {{ \\u0073ervice <{x}> {pattern} }}"),
        ("comment-cr-lf", f"SELECT * WHERE {{ #\r\nSERVICE <{x}> {pattern} }}"),
        ("quiet-silent", f"SELECT * WHERE {{ SERVICE SILENT <{x}> {pattern} }}"),
        ("quiet-silent-hidden", f"SELECT ?leak WHERE {{ #\rSERVICE SILENT <{x}> {pattern} }}"),
        ("quiet-silent-glued", f"PREFIX : <{base}> SELECT * WHERE {{ SERVICE SILENT:x {pattern} }}"),
        ("quiet-silent-variable", f"SELECT * WHERE {{ VALUES ?svc {{ <{x}> }} #\rSERVICE SILENT ?svc {pattern} }}"),
    ]


def update_spellings(base: str) -> list[tuple[str, str]]:
    x = base + "x"
    return [
        ("load", f"LOAD <{x}>"),
        ("load-silent", f"LOAD SILENT <{x}>"),
        ("load-into", f"LOAD <{x}> INTO GRAPH <http://example.org/g>"),
        ("load-silent-into", f"LOAD SILENT <{x}> INTO GRAPH <http://example.org/g>"),
        ("load-comment-cr", f"#\rLOAD <{x}>"),
        ("load-comment-cr-into", f"#\rLOAD <{x}> INTO GRAPH <http://example.org/g>"),
        ("load-mixed-case", f"lOaD <{x}>"),
        ("load-glued", f"PREFIX : <{base}> LOAD:x"),
        ("load-escape", f"\\u004cOAD <{x}>"),
        ("load-after-update", f"INSERT DATA {{ <http://example.org/a> <http://example.org/b> 1 }} ;\n#\rLOAD <{x}>"),
        ("load-base-relative", f"BASE <{base}> LOAD <x>"),
        ("insert-service", f"INSERT {{ GRAPH <http://example.org/g> {{ ?leak ?p ?o }} }} WHERE {{ #\rSERVICE <{x}> "
                           "{ ?leak ?p ?o } }"),
        ("delete-service-glued", f"PREFIX : <{base}> DELETE {{ ?leak ?p ?o }} WHERE {{ SERVICE:x {{ ?leak ?p ?o }} }}"),
        ("quiet-silent-load-hidden", f"#\rLOAD SILENT <{x}>"),
    ]


def assert_refused(response: httpx.Response, name: str) -> None:
    assert LEAK not in response.text, name
    assert "Traceback" not in response.text, name
    if name.startswith("quiet"):  # the engine swallows the refused connection (query_spellings)
        assert response.status_code in (200, 204) or 400 <= response.status_code < 600, name
    else:
        assert 400 <= response.status_code < 600, (name, response.status_code, response.text)
        assert response.text.strip(), name


TRANSPORTS = ("get", "post-form", "post-direct")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_query_spelling_makes_the_engine_connect(guarded, listener, transport):
    spellings = query_spellings(listener.url)
    assert len(spellings) >= 30
    with httpx.Client(base_url=guarded.url, timeout=60) as http:
        for name, query in spellings:
            if transport == "get":
                response = http.get("/sparql?query=" + quote(query, safe=""), headers={"Accept": "application/json"})
            elif transport == "post-form":
                response = http.post("/sparql", data={"query": query}, headers={"Accept": "application/json"})
            else:
                response = http.post("/sparql", content=query.encode(),
                                     headers={"Content-Type": "application/sparql-query", "Accept": "application/json"})
            assert_refused(response, name)
            assert listener.connections == [], (name, listener.connections)
    assert "Traceback" not in guarded.output()


def test_no_update_spelling_makes_the_engine_connect(guarded, listener):
    with httpx.Client(base_url=guarded.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        for name, update in update_spellings(listener.url):
            for form in (True, False):
                if form:
                    response = http.post("/update", data={"update": update})
                else:
                    response = http.post("/update", content=update.encode(),
                                         headers={"Content-Type": "application/sparql-update"})
                assert_refused(response, name)
                assert listener.connections == [], (name, listener.connections)
    assert "Traceback" not in guarded.output()


def test_hidden_service_gets_a_clear_refusal(guarded, listener):
    """A SERVICE hidden by a comment ended by \r: refused with a message, by the server's reading of the
    text (which reads comments as the engine does) or else by the worker, whose socket is refused (403)."""
    query = f"SELECT ?leak WHERE {{ #\rSERVICE <{listener.url}x> {{ ?leak ?p ?o }} }}"
    response = httpx.post(guarded.url + "/sparql", data={"query": query}, timeout=60)
    assert response.status_code in (400, 403), response.text
    assert "SERVICE" in response.text or ("network" in response.text and "réseau" in response.text), response.text
    update = httpx.post(guarded.url + "/update", content=f"#\rLOAD <{listener.url}x>".encode(), timeout=60,
                        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/sparql-update"})
    assert update.status_code in (400, 403) and "LOAD" in update.text, update.text
    assert listener.connections == []
    # and the workers serve on
    ok = httpx.post(guarded.url + "/sparql", data={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    assert ok.status_code == 200 and "true" in ok.text


def test_graph_store_writes_still_work_in_the_update_worker(guarded):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    target = "/store?graph=" + quote("http://example.org/egress-gsp", safe="")
    with httpx.Client(base_url=guarded.url, timeout=60, headers=headers) as http:
        created = http.put(target, content=b'<http://example.org/a> <http://example.org/b> "c" .',
                           headers={"Content-Type": "text/turtle"})
        assert created.status_code == 201
        broken = http.put(target, content=b'<http://example.org/a> <http://example.org/b> "c .',
                          headers={"Content-Type": "text/turtle"})
        assert broken.status_code == 400 and "Turtle" in broken.text
        assert http.get(target, headers={"Accept": "application/n-triples"}).text.count("http://example.org/b") == 1
        assert http.delete(target).status_code == 204
        assert http.delete(target).status_code == 404


def workers_of(pid: int) -> list[int]:
    """Every descendant of ``pid`` (walking /proc/*/stat)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as file:
                    parents[int(entry)] = int(file.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def test_query_workers_run_under_the_filter_and_the_cap(guarded):
    httpx.post(guarded.url + "/sparql", data={"query": "ASK { ?s ?p ?o }"}, timeout=60)
    statuses = {}
    for pid in workers_of(guarded.process.pid):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                command = file.read()
            with open(f"/proc/{pid}/status") as file:
                status = dict(line.split(":", 1) for line in file if ":" in line)
            with open(f"/proc/{pid}/limits") as file:
                limits = file.read()
        except OSError:
            continue
        statuses[pid] = (command, status["Seccomp"].strip(), limits)
    confined = [s for s in statuses.values() if s[1] == "2"]
    assert len(confined) >= 2, statuses  # the two query workers of the default pool
    for _, _, limits in confined:
        line = next(line for line in limits.splitlines() if line.startswith("Max address space"))
        assert str(DEFAULT_WORKER_MEMORY) in line


# --------------------------------------------------------------------------------------------
# The guard itself, in a real worker process


def _try_sockets(conn, server_pid: int) -> None:
    worker_guard.enter(worker_guard.Confinement(server_pid, None, True))
    results = {}
    for name, family in (("inet", socket.AF_INET), ("inet6", socket.AF_INET6)):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
            results[name] = "opened"
        except OSError as exc:
            results[name] = exc.errno
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close()
        results["udp"] = "opened"
    except OSError as exc:
        results["udp"] = exc.errno
    left, right = socket.socketpair()
    left.sendall(b"ok")
    results["unix"] = right.recv(2).decode()
    conn.send(results)


@pytest.mark.parametrize("method", ["forkserver", "spawn"])
def test_a_worker_process_cannot_open_an_inet_socket(method):
    assert worker_guard.probe() is None, "this machine must support the filter for this test"
    ctx = multiprocessing.get_context(method)
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_try_sockets, args=(child, os.getpid()))
    process.start()
    try:
        assert parent.poll(60)
        results = parent.recv()
    finally:
        process.join(10)
    import errno

    assert results == {"inet": errno.EPERM, "inet6": errno.EPERM, "udp": errno.EPERM, "unix": "ok"}
    # and this (unconfined) process still can
    socket.socket(socket.AF_INET).close()


def test_memory_sizes():
    assert parse_size("2G") == 2 << 30
    assert parse_size("512m") == 512 << 20
    assert parse_size("1.5GiB") == 3 << 29
    assert parse_size("1048576") == 1 << 20
    with pytest.raises(ValueError, match="PTCEKB_WORKER_MEMORY"):
        parse_size("lots")
    with pytest.raises(UserError, match="PTCEKB_WORKER_MEMORY must be at least"):
        Settings.from_env({"PTCEKB_WORKER_MEMORY": "1M"})


# --------------------------------------------------------------------------------------------
# Fail closed: where the filter cannot be installed, SERVICE and LOAD are refused


@pytest.fixture(scope="module")
def unguarded(built_store):
    server = Server(built_store, env={"PTCEKB_UPDATE_TOKEN": TOKEN, "PTCEKB_NETWORK_GUARD": "off",
                                      "PTCEKB_SERVICE_ALLOWLIST": "http://127.0.0.1:1/allowed/"})
    yield server
    server.stop()


def test_without_the_filter_service_and_load_are_refused(unguarded, listener):
    with httpx.Client(base_url=unguarded.url, timeout=60) as http:
        for name, query in query_spellings(listener.url):
            response = http.post("/sparql", data={"query": query})
            assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
            assert LEAK not in response.text
        for name, update in update_spellings(listener.url):
            response = http.post("/update", data={"update": update}, headers={"Authorization": f"Bearer {TOKEN}"})
            assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
        hidden = http.post("/sparql", data={"query": f"SELECT * {{ #\rSERVICE <{listener.url}x> {{ ?s ?p ?o }} }}"})
        assert hidden.status_code == 403 and "SERVICE et LOAD" in hidden.text
        assert http.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).status_code == 200
        description = http.get("/sparql", headers={"Accept": "text/turtle"}).text
        assert "SERVICE and LOAD are refused" in description and "PTCEKB_NETWORK_GUARD=off" in description
    assert listener.connections == []
    log = unguarded.output()
    assert log.count("cannot be kept off the network") == 1


def test_with_the_filter_the_description_says_so(guarded):
    description = httpx.get(guarded.url + "/sparql", headers={"Accept": "text/turtle"}, timeout=60).text
    assert "cannot open network connections" in description


def _engine_runs_service(conn, server_pid: int, url: str) -> None:
    """In a confined process, the engine itself is asked for a SERVICE: no check of the text at all."""
    import pyoxigraph as ox

    from ptcekb.service.executor import Job, run_job

    worker_guard.enter(worker_guard.Confinement(server_pid, None, True))
    reply = run_job(ox.Store(), Job(directory="", query=f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
                                    solutions_format="json", graph_format=None, row_cap=10))
    conn.send((reply.status, reply.message))


def test_the_engine_in_a_confined_worker_cannot_connect_whatever_the_server_read(listener):
    """The guarantee does not rest on the server's reading of the text: the engine is asked directly."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    process = ctx.Process(target=_engine_runs_service, args=(child, os.getpid(), listener.url + "direct"))
    process.start()
    try:
        assert parent.poll(60)
        status, message = parent.recv()
    finally:
        process.join(10)
    assert status == 403 and "réseau" in message, (status, message)
    assert listener.connections == []
