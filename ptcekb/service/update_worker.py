"""Writes (``/update`` and the Graph Store Protocol's PUT, POST and DELETE) in a worker process.

A write parses a request body (an update, or an RDF upload of up to 128 MiB) and runs the engine on it:
in the server process, a parser that crashes or overflows its stack would take the whole service
down, and the engine would fetch a ``LOAD`` URL itself. So each write runs in its own short-lived
process, confined like the query workers (worker_guard.py: no network, memory capped by
``PTCEKB_WORKER_MEMORY``, dies with the server): the body travels there as bytes, is parsed there, and
the change is applied there to a copy of the published build, which is published only when all went
well (copy-on-write, update.py). A crash costs that request a 5xx, never the server.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import UserError
from ..namespaces import PREFIXES
from ..messages import one_line
from ..store import StoreLocation, clone_build
from ..syntax_limits import SyntaxRefused, check_rdf
from . import worker_guard
from .worker_guard import Confinement

log = logging.getLogger("ptcekb.service.update")

NETWORK_REFUSED = "os error 1)"  # EPERM from the worker's network filter, as the engine reports it


@dataclass
class Write:
    """One write (plain data: pickled to the worker)."""

    store: str  # the store directory (settings.store)
    kind: str  # update, put, post or delete
    text: str | None = None  # the SPARQL update
    base_iri: str | None = None
    graph: str | None = None  # the Graph Store target; None: the default graph
    body: bytes | None = None  # the RDF upload
    media_type: str | None = None  # the upload's Content-Type (with its boundary for multipart/form-data)


@dataclass
class Outcome:
    status: int  # 200 when applied, else the HTTP status of the error
    message: str = ""
    existed: bool = False  # Graph Store: the target graph existed before


class _Refused(Exception):
    def __init__(self, outcome: Outcome):
        super().__init__(outcome.message)
        self.outcome = outcome


# --------------------------------------------------------------------------------------------
# The worker side


def _worker_main(conn, confinement: Confinement) -> None:
    worker_guard.enter(confinement)
    try:
        write: Write = conn.recv()
    except (EOFError, OSError):
        return
    try:
        outcome = apply(write)
    except MemoryError:
        outcome = memory_outcome(confinement.memory)
    except Exception as exc:  # noqa: BLE001 - the worker must answer, whatever happened
        outcome = Outcome(500, f"500: the write failed, nothing was changed / échec, rien n'a été modifié: "
                               f"{type(exc).__name__}: {one_line(str(exc))}")
    try:
        conn.send(outcome)
    except (BrokenPipeError, OSError):
        pass


def apply(write: Write) -> Outcome:
    """Parse, apply to a copy of the published build, publish the copy (in the worker)."""
    graph = ox.NamedNode(write.graph) if write.graph is not None else ox.DefaultGraph()
    location = StoreLocation(Path(write.store))
    try:
        quads = _parse(write, graph) if write.kind in ("put", "post") else None
        with location.building() as directory:
            clone_build(location.current(), directory)
            store = ox.Store(str(directory))
            try:
                outcome = _change(store, write, graph, quads)
                store.flush()
            except SyntaxError as exc:
                outcome = Outcome(400, f"SPARQL syntax error: {one_line(str(exc))}")
            except (OSError, ValueError, RuntimeError) as exc:
                outcome = _engine_error(exc)
            del store  # closed before the directory is published (or discarded)
            if outcome.status != 200:
                raise _Refused(outcome)  # building() discards the copy
    except _Refused as exc:
        return exc.outcome
    except UserError as exc:  # another build or write holds the builds lock
        return Outcome(409, f"409: {exc}")
    return outcome


def _engine_error(exc: Exception) -> Outcome:
    if NETWORK_REFUSED in str(exc):
        return Outcome(403, "403: the update asked the engine to open a network connection (LOAD or SERVICE), which "
                            "this endpoint refuses: PUT or POST the data to /store?graph=... / connexion réseau refusée "
                            "(LOAD ou SERVICE), rien n'a été modifié")
    return Outcome(400, f"update failed, nothing was changed / échec, rien n'a été modifié: {one_line(str(exc))}")


def _parse(write: Write, graph) -> list[ox.Quad]:
    """The upload's triples in ``graph``; a ``multipart/form-data`` POST is the merge of its parts.

    Each document's blank nodes are its own (standardised apart): the parser keeps a label such as
    ``_:b`` as it is, which would otherwise join a node of another part or of the graph a POST adds to."""
    quads: list[ox.Quad] = []
    for media_type, body, name in _documents(write):
        rdf_format = ox.RdfFormat.from_media_type(media_type or "")
        if rdf_format is None or rdf_format.supports_datasets and rdf_format != ox.RdfFormat.JSON_LD:
            raise _Refused(Outcome(415, f"415: cannot read {name} as an RDF graph ({media_type or 'no Content-Type'}) / "
                                        "format non pris en charge"))
        try:  # no XML entities, bounded nesting: before the parser sees the bytes (syntax_limits)
            check_rdf(body, rdf_format)
        except SyntaxRefused as exc:
            raise _Refused(Outcome(exc.http_status, f"{name}:{exc.where()} {exc}")) from None
        try:
            triples = list(ox.parse(body, format=rdf_format, base_iri=write.graph))
        except (SyntaxError, ValueError) as exc:
            raise _Refused(Outcome(400, f"cannot parse the {rdf_format.name} {name} / illisible: {one_line(str(exc))}")) from None
        if any(not isinstance(q.graph_name, ox.DefaultGraph) for q in triples):
            raise _Refused(Outcome(400, "the body must be a graph (no named graphs inside) / pas de graphes nommés"))
        fresh: dict[str, ox.BlankNode] = {}
        quads.extend(ox.Quad(_apart(q.subject, fresh), q.predicate, _apart(q.object, fresh), graph) for q in triples)
    return quads


def _apart(term, fresh: dict):
    if isinstance(term, ox.BlankNode):
        if term.value not in fresh:
            fresh[term.value] = ox.BlankNode()
        return fresh[term.value]
    if isinstance(term, ox.Triple):  # a triple term (RDF 1.2)
        return ox.Triple(_apart(term.subject, fresh), term.predicate, _apart(term.object, fresh))
    return term


def _documents(write: Write) -> list[tuple[str, bytes, str]]:
    """(media type, bytes, name) of each RDF document of the upload."""
    media = (write.media_type or "").split(";")[0].strip().lower()
    if media != "multipart/form-data":
        return [(media, write.body or b"", "body")]
    import email.parser
    import email.policy

    header = f"Content-Type: {write.media_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("utf-8", "replace")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + (write.body or b""))
    if not message.is_multipart():
        raise _Refused(Outcome(400, "cannot read the multipart/form-data body / corps multipart illisible"))
    documents = []
    for index, part in enumerate(message.iter_parts(), 1):
        name = f"part {index} ({part.get_filename() or part.get_param('name', header='content-disposition') or 'unnamed'})"
        media_type = part.get_content_type() if part.get("content-type") else None
        if media_type is None and part.get_filename():  # no type: from the file name's extension
            extension = part.get_filename().rsplit(".", 1)[-1]
            guessed = ox.RdfFormat.from_extension(extension)
            media_type = guessed.media_type if guessed is not None else None
        documents.append((media_type, part.get_payload(decode=True) or b"", name))
    if not documents:
        raise _Refused(Outcome(400, "multipart/form-data without any part / multipart sans partie"))
    return documents


def _exists(store: ox.Store, graph) -> bool:
    return isinstance(graph, ox.DefaultGraph) or store.contains_named_graph(graph)


def _change(store: ox.Store, write: Write, graph, quads) -> Outcome:
    if write.kind == "update":
        store.update(write.text, prefixes=PREFIXES, base_iri=write.base_iri)
        return Outcome(200)
    existed = _exists(store, graph)
    if write.kind == "delete":
        if not existed:
            return Outcome(404, f"404: no graph {graph} / graphe inconnu")
        if isinstance(graph, ox.DefaultGraph):
            store.clear_graph(graph)
        else:
            store.remove_graph(graph)
        return Outcome(200, existed=True)
    if write.kind == "put" and existed:
        store.clear_graph(graph)
    if isinstance(graph, ox.NamedNode):
        store.add_graph(graph)
    store.extend(quads)
    return Outcome(200, existed=existed)


def memory_outcome(limit: int | None) -> Outcome:
    shown = worker_guard.human(limit) if limit else "the memory available"
    return Outcome(507, f"507: the write used more than {shown} of memory (PTCEKB_WORKER_MEMORY) and was stopped; "
                        f"nothing was changed / l'écriture a dépassé {shown} de mémoire, rien n'a été modifié")


# --------------------------------------------------------------------------------------------
# The server side

_lock: asyncio.Lock | None = None  # one write at a time in this server (others wait, not 409)


async def run(write: Write) -> Outcome:
    """Run ``write`` in a fresh confined worker process and wait for its outcome."""
    global _lock
    if _lock is None:
        _lock = asyncio.Lock()
    async with _lock:
        return await asyncio.to_thread(_run, write)


def _run(write: Write) -> Outcome:
    from .executor import _context  # the query workers' forkserver: a worker starts in milliseconds

    ctx = _context()
    confinement = Confinement.for_workers(worker_guard.probe() is None,
                                          forkserver_child=ctx.get_start_method() == "forkserver")
    conn, child = ctx.Pipe(duplex=True)
    process = ctx.Process(target=_worker_main, args=(child, confinement), daemon=True, name="ptcekb-update")
    process.start()
    child.close()
    try:
        conn.send(write)
        return conn.recv()
    except (EOFError, OSError):
        process.join(timeout=5)
        code = process.exitcode
        if confinement.memory is not None and code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
            log.warning("an update worker stopped (signal %d), most likely past its memory cap", -code)
            return memory_outcome(confinement.memory)
        log.warning("an update worker stopped (exit code %s)", code)
        return Outcome(500, f"500: the write stopped its worker (exit code {code}); nothing was changed / "
                            "l'écriture a arrêté son processus, rien n'a été modifié")
    finally:
        conn.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
        process.close()
