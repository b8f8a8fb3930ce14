"""A remote SPARQL 1.1 engine as the store: the part of pyoxigraph's ``Store`` API ptcekb uses.

``--store http(s)://host/…/query`` (or ``PTCEKB_STORE``) names the engine's query endpoint; its
update and Graph Store Protocol endpoints are its siblings ``update`` and ``store`` (Oxigraph
server's layout), or ``PTCEKB_STORE_UPDATE`` / ``PTCEKB_STORE_GSP``. The service, the CLI and the
validation then call ``query``, ``quads_for_pattern``, ``named_graphs`` and ``dump`` on a
``RemoteStore`` exactly as on a local store, and get the same pyoxigraph objects back.

Builds are staged: each graph is pushed (Graph Store Protocol ``PUT``) under a staging name
``{graph}/.staging/{build}``, then one SPARQL Update moves them all over the served names. An
engine that runs an update request as one transaction (Oxigraph, Fuseki with TDB2, GraphDB)
switches atomically; readers never see a half-built knowledge base. Staging graphs are hidden
from ``named_graphs`` and from the union default graph.

The knowledge base is the graphs under its base IRI (``graphs_under``): an engine may hold others
(Virtuoso's own system graphs, another dataset of a shared engine), which ptcekb neither serves nor
drops. Updates and Graph Store requests may need credentials (``PTCEKB_STORE_USER``,
``PTCEKB_STORE_PASSWORD``): they are answered with the scheme the engine asks for, Basic or Digest
(Virtuoso's ``/sparql-auth`` and ``/sparql-graph-crud-auth`` ask for Digest).
"""

from __future__ import annotations

import re
import threading
import time
from typing import IO, Iterable, Iterator
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox

from .errors import UserError
from .sparql_text import analyse

STAGING = "/.staging/"
SELECT_TYPES = "application/sparql-results+json"
GRAPH_TYPES = "application/n-triples"
UPLOAD_CHUNK = 50_000  # triples per Graph Store request of a publish (put_graph)
GRAPHS_TTL = 2.0  # seconds the list of served graphs is reused (one round trip per query otherwise)


class RemoteTimeout(UserError):
    """The engine did not answer within the time limit (the service answers 504)."""

    def __init__(self, message: str):
        super().__init__(message, http_status=504)


class RemoteUnavailable(UserError):
    """The engine cannot be reached or failed (the service answers 502)."""

    def __init__(self, message: str):
        super().__init__(message, http_status=502)


class RemoteStore:
    def __init__(self, query_url: str, timeout: float = 30.0, update_url: str | None = None,
                 store_url: str | None = None, graphs_under: str | None = None,
                 credentials: tuple[str, str] | None = None):
        self.query_url = query_url
        self.update_url = update_url or _sibling(query_url, "update")
        self.store_url = store_url or _sibling(query_url, "store")
        self.timeout = timeout
        self.graphs_under = graphs_under or ""  # "": every graph of the engine is the knowledge base's
        import httpx  # imported here: the CLI's local commands do not pay for it

        self._httpx = httpx
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                    auth=_credentials(httpx, *credentials) if credentials else None)
        self._graphs: tuple[float, list[ox.NamedNode]] = (0.0, [])
        self._graphs_lock = threading.Lock()
        self._refreshing = False  # a thread is reading the list of graphs again

    def __repr__(self) -> str:
        return f"RemoteStore({self.query_url!r})"

    # -- reading ------------------------------------------------------------------------------

    def named_graphs(self, fresh: bool = False) -> list[ox.NamedNode]:
        """The served named graphs (staging graphs left out), read again at most every GRAPHS_TTL s.

        One thread reads them again while the others go on with the list they have: on Virtuoso the
        listing takes ~1 s (it scans the quads), and every query waiting for it behind a lock made
        8 concurrent clients slower than one."""
        with self._graphs_lock:
            read_at, graphs = self._graphs
            expired = fresh or time.monotonic() - read_at > GRAPHS_TTL
            if not expired or (self._refreshing and read_at and not fresh):
                return list(graphs)
            self._refreshing = True
        try:
            # { ?s ?p ?o } rather than {}: Virtuoso answers one empty solution to GRAPH ?g { }
            solutions = self._select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", {})
            graphs = [s["g"] for s in solutions if isinstance(s["g"], ox.NamedNode) and self._served(s["g"].value)]
            with self._graphs_lock:
                self._graphs = (time.monotonic(), graphs)
        finally:
            self._refreshing = False
        return list(graphs)

    def query(self, query: str, *, use_default_graph_as_union: bool = False, default_graph=None, named_graphs=None,
              prefixes: dict[str, str] | None = None, base_iri: str | None = None):
        """Like ``pyoxigraph.Store.query``: QuerySolutions, QueryBoolean or an iterator of Triples."""
        prologue = (f"BASE <{base_iri}>\n" if base_iri else "") + "".join(
            f"PREFIX {p}: <{ns}>\n" for p, ns in (prefixes or {}).items())
        params: list[tuple[str, str]] = []
        if default_graph is not None or named_graphs is not None:
            params += [("default-graph-uri", g.value) for g in _as_list(default_graph) if isinstance(g, ox.NamedNode)]
            params += [("named-graph-uri", g.value) for g in named_graphs or []]
        elif use_default_graph_as_union:  # the protocol's way: the served named graphs as default and named graphs
            served = [g.value for g in self.named_graphs()]
            params += [("default-graph-uri", g) for g in served] + [("named-graph-uri", g) for g in served]
        form = analyse(prologue + query).form
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                body = self._post(self.query_url, prologue + query, params, GRAPH_TYPES)
                return iter(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
            return ox.parse_query_results(_blank_nodes(self._post(self.query_url, prologue + query, params, SELECT_TYPES)),
                                          format=ox.QueryResultsFormat.JSON)
        except SyntaxError as exc:
            raise SyntaxError(_in_the_query(str(exc), prologue.count("\n"))) from None

    def quads_for_pattern(self, subject=None, predicate=None, obj=None, graph_name=None) -> Iterator[ox.Quad]:
        """Like ``pyoxigraph.Store.quads_for_pattern``, except for blank nodes: in a SPARQL query a
        blank node is a variable, so a pattern naming one cannot be sent; it matches nothing here
        (resource pages then show a blank node without its inner triples: docs/deployment.md)."""
        terms = {"s": subject, "p": predicate, "o": obj}
        if any(isinstance(term, ox.BlankNode) for term in terms.values()):
            return
        pattern = " ".join(str(term) if term is not None else "?" + name for name, term in terms.items())
        if subject is None and obj is None and not isinstance(graph_name, ox.DefaultGraph):
            yield from self._scan(predicate, graph_name)
            return
        if graph_name is None:
            where = (f"GRAPH ?g {{ {pattern} }} FILTER(!CONTAINS(STR(?g), \"{STAGING}\")"
                     f" && STRSTARTS(STR(?g), {_string(self.graphs_under)}))")
        elif isinstance(graph_name, ox.DefaultGraph):
            where = pattern
        else:
            where = f"GRAPH {graph_name} {{ {pattern} }}"
        for s in self._select(f"SELECT * WHERE {{ {where} }}", {}):
            values = {name: term if term is not None else s[name] for name, term in terms.items()}
            graph = graph_name if graph_name is not None else s["g"]
            yield ox.Quad(values["s"], values["p"], values["o"], graph)

    def _scan(self, predicate, graph_name) -> Iterator[ox.Quad]:
        """The quads of a pattern without subject or object (a whole graph, every label…): one
        CONSTRUCT in N-Triples per graph rather than a SELECT of every quad in JSON, which Virtuoso
        writes 4 times slower (97 MB of the COG: 62 s against ~240 s here) and Python parses row by row."""
        for graph in [graph_name] if graph_name is not None else self.named_graphs():
            where = f"?s {predicate if predicate is not None else '?p'} ?o"
            construct = f"CONSTRUCT {{ {where} }} WHERE {{ GRAPH {graph} {{ {where} }} }}"
            for t in self.query(construct):
                yield ox.Quad(t.subject, t.predicate, t.object, graph)

    def graph_triples(self, graph: ox.NamedNode) -> Iterator[ox.Triple]:
        """Every triple of one graph, in one answer (CONSTRUCT in N-Triples: blank nodes keep one
        label each within it, and no per-row JSON to parse)."""
        return self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {graph} {{ ?s ?p ?o }} }}")

    def dump(self, output: IO[bytes], format: ox.RdfFormat) -> None:  # noqa: A002 - pyoxigraph's name
        """Every served named graph, as pyoxigraph's ``Store.dump`` writes it."""
        ox.serialize(self.quads_for_pattern(), output, format=format)

    def _served(self, graph: str) -> bool:
        return graph.startswith(self.graphs_under) and STAGING not in graph

    # -- writing ------------------------------------------------------------------------------

    def update(self, update: str) -> None:
        self._post(self.update_url, update, [], "*/*", field="update")

    def put_graph(self, graph: str, triples: Iterable[ox.Triple]) -> None:
        """Graph Store Protocol: the first ``UPLOAD_CHUNK`` triples replace the graph (``PUT``), the
        next ones are added to it (``POST``), chunk after chunk. One request for a large graph is
        what Virtuoso cannot take: its ``PUT`` of the COG (780,000 triples, 97 MB) fails with
        "SR172: Transaction deadlocked" after writing part of it; chunks of 50,000 never did."""
        method, chunk = "PUT", []
        for triple in triples:
            chunk.append(triple)
            if len(chunk) == UPLOAD_CHUNK:
                self._upload(method, graph, chunk)
                method, chunk = "POST", []
        if chunk or method == "PUT":
            self._upload(method, graph, chunk)

    def _upload(self, method: str, graph: str, triples: list[ox.Triple]) -> None:
        body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        self._send(method, self.store_url, params=[("graph", graph)], content=body,
                   headers={"Content-Type": GRAPH_TYPES})

    def publish(self, graphs: dict[str, Iterable[ox.Triple]], build: str, whole: bool = True) -> None:
        """Stage every graph, then switch them all in one update (atomic where the engine is).

        As with a local build, the new build is the whole knowledge base: served graphs it does not
        have (an earlier build's, or written through /update) are dropped in the same update; unless
        ``whole`` is false (the other graphs are then left as they are: ``ingest sirene``)."""
        staged: dict[str, str] = {}
        try:
            for graph, triples in graphs.items():
                staged[graph] = f"{graph}{STAGING}{build}"
                self.put_graph(staged[graph], triples)
            gone = [g.value for g in self.named_graphs(fresh=True) if g.value not in staged] if whole else []
            self.update(" ;\n".join([f"DROP SILENT GRAPH <{g}>" for g in gone]
                                     + [f"MOVE SILENT GRAPH <{tmp}> TO GRAPH <{g}>" for g, tmp in staged.items()]))
        except BaseException:
            if staged:
                try:
                    self.update(" ;\n".join(f"DROP SILENT GRAPH <{tmp}>" for tmp in staged.values()))
                except (RemoteTimeout, RemoteUnavailable, SyntaxError):
                    pass  # the staging graphs stay hidden; the next publish replaces them
            raise
        finally:
            self._graphs = (0.0, [])

    # -- HTTP ---------------------------------------------------------------------------------

    def _select(self, query: str, params) -> ox.QuerySolutions:
        return ox.parse_query_results(_blank_nodes(self._post(self.query_url, query, list(params), SELECT_TYPES)),
                                      format=ox.QueryResultsFormat.JSON)

    def _post(self, url: str, text: str, params: list, accept: str, field: str = "query") -> bytes:
        return self._send("POST", url, data={field: text}, params=params, headers={"Accept": accept})

    def _send(self, method: str, url: str, **kwargs) -> bytes:
        httpx = self._httpx
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TimeoutException:
            raise RemoteTimeout(f"{url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise RemoteUnavailable(f"remote store {url} unreachable: {type(exc).__name__}: {exc}") from None
        if "X-SPARQL-MaxRows" in response.headers:  # Virtuoso cut the answer at its ResultSetMaxRows
            raise RemoteUnavailable(f"remote store {url} cut its answer at {response.headers['X-SPARQL-MaxRows']} rows "
                                    "(Virtuoso's [SPARQL] ResultSetMaxRows: raise it, docs/deployment.md)")
        if response.status_code == 500 and response.text.startswith("Virtuoso S1T00"):  # its own time limit
            raise RemoteTimeout(f"{url}: {response.text.strip().splitlines()[0][:300]}")
        if response.status_code == 400:
            raise SyntaxError(f"the remote store refused the request: {response.text.strip()[:500]}")
        if response.status_code >= 300:
            raise RemoteUnavailable(f"remote store {url} answered HTTP {response.status_code}: "
                                    f"{response.text.strip()[:300]}")
        return response.content


def _credentials(httpx, user: str, password: str):
    """An ``httpx.Auth`` answering the engine's challenge with Basic or Digest, whichever it asks for."""

    class Credentials(httpx.Auth):
        def __init__(self):
            self._schemes = {"basic": httpx.BasicAuth(user, password), "digest": httpx.DigestAuth(user, password)}
            self._scheme: str | None = None  # the one the engine asked for last

        def auth_flow(self, request):
            if self._scheme is not None:
                yield from self._schemes[self._scheme].auth_flow(request)
                return
            response = yield request
            scheme = response.headers.get("WWW-Authenticate", "").split(" ", 1)[0].lower()
            if response.status_code == 401 and scheme in self._schemes:
                self._scheme = scheme
                yield from self._schemes[scheme].auth_flow(request)

    return Credentials()


_VIRTUOSO_BLANK = re.compile(rb'"type"\s*:\s*"bnode"\s*,\s*"value"\s*:\s*"nodeID://')


def _blank_nodes(body: bytes) -> bytes:
    """SPARQL JSON results with blank node labels pyoxigraph accepts. Virtuoso writes a blank node
    ``{"type": "bnode", "value": "nodeID://b10246"}`` in JSON results (and ``_:b10246`` in N-Triples);
    ``nodeID://b10246`` is not a blank node label, so it becomes ``b10246``, as in its N-Triples."""
    return _VIRTUOSO_BLANK.sub(b'"type": "bnode", "value": "', body)


def _string(text: str) -> str:
    """A SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _sibling(url: str, name: str) -> str:
    """``http://h/query`` → ``http://h/update``: the endpoint next to the query endpoint."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    parent = path.rsplit("/", 1)[0] if path.rsplit("/", 1)[-1] in ("query", "sparql") else path
    return urlunsplit((parts.scheme, parts.netloc, f"{parent}/{name}", "", ""))


_REFUSED = re.compile(r"the remote store refused the request: error at (\d+):(\d+): ")


def _in_the_query(message: str, prologue_lines: int) -> str:
    """An engine's syntax error about the query sent (prologue included), as the engine would say it
    of the client's query, so that it reads as on a local store (messages.syntax_error_message)."""
    found = _REFUSED.match(message)
    if not found or int(found.group(1)) <= prologue_lines:
        return message
    return f"error at {int(found.group(1)) - prologue_lines}:{found.group(2)}: " + message[found.end():]


def remote_store(settings, timeout: float | None = None) -> RemoteStore:
    """The remote engine ``settings`` name (``PTCEKB_STORE``, ``PTCEKB_STORE_UPDATE``, ``PTCEKB_STORE_GSP``)."""
    credentials = (settings.store_user, settings.store_password or "") if settings.store_user else None
    return RemoteStore(settings.store_url, settings.query_timeout if timeout is None else timeout,
                       settings.store_update_url, settings.store_gsp_url, graphs_under=settings.base_iri,
                       credentials=credentials)


def open_store(settings):
    """The store ``settings`` name, for reading: the published local build, or the remote engine."""
    if settings.store_url:
        return remote_store(settings)
    from .store import open_read_only

    return open_read_only(settings.store)
