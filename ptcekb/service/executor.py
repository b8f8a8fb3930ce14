"""Running SPARQL queries with a time limit, in worker processes that can be killed.

pyoxigraph's ``Store.query`` cannot be interrupted and a Python thread cannot be killed, so every
query of ``/sparql`` runs in a worker *process* that opens the published build read-only. The
server keeps a small pool (``PTCEKB_QUERY_WORKERS``, default 2, always running) and starts extra
workers on demand when all are busy (up to ``PTCEKB_QUERY_WORKERS_MAX``, default 6; an extra
worker idle for a minute is stopped). A worker whose query passes the time limit
(``PTCEKB_QUERY_TIMEOUT``) is killed and replaced; the other workers go on serving.

The worker also serializes the result (capped at ``PTCEKB_ROW_CAP`` rows or triples: pyoxigraph
writes it and is stopped past the cap, serializers.capped) and sends back bytes, so the server
process only copies bytes to the client.

Workers are forked from a ``forkserver`` that has imported only this module and pyoxigraph (not
config.py and its pydantic: the limits come in as values, ``Limits``): a worker starts in a few
milliseconds, without the threads of the server process. Each worker first
confines itself (worker_guard.py): it dies with the server, cannot open a network socket (so the
engine cannot call a SERVICE endpoint itself, whatever the query's spelling) and has its memory capped
(``PTCEKB_WORKER_MEMORY``); a query past the cap gets a 507 and its worker is replaced.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from ..messages import one_line, syntax_error_message
from ..remote import RemoteStore, RemoteTimeout, RemoteUnavailable
from . import serializers, worker_guard
from .worker_guard import Confinement

if TYPE_CHECKING:
    from ..config import Settings

log = logging.getLogger("ptcekb.service.executor")

IDLE_EXTRA_WORKER_SECONDS = 60.0
NETWORK_REFUSED = "os error 1)"  # EPERM from the worker's network filter, as the engine reports it


@dataclass(frozen=True)
class Limits:
    """The limits of query execution, from the settings (documented in docs/sparql.md)."""

    timeout: float
    row_cap: int
    answer_bytes: int  # bytes of an answer: past them it is cut like at the row cap (serializers.Cut.BYTES)
    workers: int
    max_workers: int
    memory: int  # bytes of address space per worker

    @classmethod
    def from_settings(cls, settings: Settings) -> "Limits":
        return cls(timeout=settings.query_timeout, row_cap=settings.row_cap, answer_bytes=settings.answer_bytes,
                   workers=settings.query_workers,
                   max_workers=settings.query_workers_max, memory=settings.worker_memory)


@dataclass
class Job:
    """One query for a worker (plain data: it is pickled through a pipe)."""

    directory: str
    query: str
    solutions_format: str | None  # json, xml, csv, tsv, html; None: not acceptable
    graph_format: str | None  # an RDF file extension (ttl, nt, jsonld...), html; None: not acceptable
    row_cap: int
    use_default_graph_as_union: bool = True
    default_graph: list[str] | None = None
    named_graphs: list[str] | None = None
    prefixes: dict[str, str] = field(default_factory=dict)  # the default prefixes the query uses
    output_prefixes: dict[str, str] = field(default_factory=dict)  # to abbreviate Turtle, RDF/XML, JSON-LD
    base_iri: str | None = None  # to resolve relative IRIs of the query (the endpoint's URL)
    byte_cap: int | None = None  # bytes of the answer (PTCEKB_ANSWER_BYTES); None: the row cap only


@dataclass
class Reply:
    status: int  # 200, or the HTTP status of the error
    kind: str = ""  # solutions, boolean or graph
    body: bytes = b""
    truncated: serializers.Cut = serializers.Cut.NONE  # true when cut, by the row cap or the byte cap
    message: str = ""


class QueryTimeout(Exception):
    pass


class Busy(Exception):
    pass


# --------------------------------------------------------------------------------------------
# The worker side


def _worker_main(conn, directory: str | None, confinement: Confinement) -> None:
    worker_guard.enter(confinement)
    store: ox.Store | None = None
    opened: str | None = None
    if directory:
        try:
            store, opened = ox.Store.read_only(directory), directory
        except OSError:
            pass
    while True:
        try:
            job: Job = conn.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return
        try:
            if job.directory != opened:
                store, opened = None, None
                store, opened = ox.Store.read_only(job.directory), job.directory
            reply = run_job(store, job)
        except MemoryError:
            reply = memory_reply(confinement.memory)
        except Exception as exc:  # noqa: BLE001 - the worker must answer, whatever happened
            reply = Reply(500, message=f"query failed: {type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return


def memory_reply(limit: int | None) -> Reply:
    shown = worker_guard.human(limit) if limit else "the memory available"
    return Reply(507, message=f"507: the query used more than {shown} of memory (PTCEKB_WORKER_MEMORY, per query "
                              f"worker) and was stopped / la requête a dépassé {shown} de mémoire et a été arrêtée")


def run_job(store: ox.Store, job: Job) -> Reply:
    """Run the query of ``job`` on ``store`` and serialize its result (in the worker process)."""
    options: dict[str, Any] = {"prefixes": job.prefixes or None, "base_iri": job.base_iri}
    if job.default_graph is not None or job.named_graphs is not None:
        options["default_graph"] = [ox.NamedNode(g) for g in job.default_graph or []]
        options["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs or []]
    else:
        options["use_default_graph_as_union"] = job.use_default_graph_as_union
    try:
        result = store.query(job.query, **options)
        if isinstance(result, ox.QueryBoolean):
            if job.solutions_format is None:
                return Reply(406, message="an ASK result")
            return Reply(200, "boolean", serializers.boolean(job.solutions_format, result))
        if isinstance(result, ox.QuerySolutions):
            if job.solutions_format is None:
                return Reply(406, message="a SELECT result")
            # written by pyoxigraph, cut at the cap in the bytes; the HTML page reads the JSON results
            name = "json" if job.solutions_format == "html" else job.solutions_format
            body, truncated = serializers.solutions(name, result, job.row_cap, job.byte_cap)
            return Reply(200, "solutions", body, truncated)
        if job.graph_format is None:
            return Reply(406, message="an RDF graph (CONSTRUCT or DESCRIBE)")
        body, truncated = serializers.graph_result(job.graph_format, result, job.row_cap, job.output_prefixes,
                                                   job.byte_cap)
        return Reply(200, "graph", body, truncated)
    except serializers.AnswerTooLarge:
        return Reply(507, message=f"507: the first row of the answer alone is larger than {job.byte_cap} bytes (the "
                                  f"byte cap of an answer, PTCEKB_ANSWER_BYTES): select shorter values (SUBSTR) / la "
                                  f"première ligne de la réponse dépasse à elle seule {job.byte_cap} octets")
    except SyntaxError as exc:
        return Reply(400, message=syntax_error_message(str(exc), job.query))
    except (OSError, ValueError, RuntimeError) as exc:
        if NETWORK_REFUSED in str(exc):
            return Reply(403, message="403: the query asked the engine to open a network connection (a SERVICE the "
                                      "endpoint did not recognise as such), which the query workers cannot do: "
                                      "federated queries go to the endpoints of PTCEKB_SERVICE_ALLOWLIST only, "
                                      "written SERVICE <endpoint> { ... } / connexion réseau refusée")
        return Reply(400, message=f"query failed: {one_line(str(exc))}")


# --------------------------------------------------------------------------------------------
# The server side


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


class Worker:
    def __init__(self, ctx, directory: str | None, confinement: Confinement):
        self.conn, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, directory, confinement), daemon=True,
                                   name="ptcekb-query")
        self.process.start()
        child.close()
        self.idle_since = time.monotonic()

    async def call(self, job: Job) -> Reply:
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        fd = self.conn.fileno()

        def readable() -> None:
            loop.remove_reader(fd)
            if future.done():
                return
            try:
                future.set_result(self.conn.recv())
            except (EOFError, OSError) as exc:
                future.set_exception(exc)

        os.set_blocking(fd, True)  # uvloop's add_reader left it non-blocking: a long message would EAGAIN midway
        self.conn.send(job)
        loop.add_reader(fd, readable)
        os.set_blocking(fd, True)  # recv reads whole messages; readable only means that one has begun
        try:
            return await future
        finally:
            loop.remove_reader(fd)

    def kill(self) -> None:
        try:
            self.process.kill()
        except (OSError, AttributeError, ValueError):
            pass
        self.conn.close()

    def reap(self) -> None:
        self.process.join(timeout=5)
        try:
            self.process.close()
        except ValueError:
            pass


def _exit_code(process) -> int | None:
    """The exit code of a worker whose pipe closed (it is ending: wait a little for the code)."""
    try:
        process.join(timeout=2)
        return process.exitcode
    except (ValueError, AssertionError):  # already closed by reap()
        return None


class RemoteExecutor:
    """The queries of a remote store (``--store http…``): the engine runs them, under the HTTP
    client's time limit (the query timeout), in a thread; the results are re-serialized with the
    row cap exactly as the workers do."""

    def __init__(self, limits: Limits, store: RemoteStore):
        self.limits, self.store = limits, store

    async def start(self, directory: str | None) -> None:
        return None

    async def run(self, job: Job) -> Reply:
        try:
            return await asyncio.to_thread(run_job, self.store, job)
        except RemoteTimeout:
            raise QueryTimeout() from None
        except RemoteUnavailable as exc:
            return Reply(502, message=f"502: {exc} / le moteur distant ne répond pas")

    def close(self) -> None:
        return None


class Executor:
    """A pool of query worker processes bound to the running event loop."""

    def __init__(self, limits: Limits, network_guard: bool = True):
        self.limits = limits
        self._ctx = _context()
        self.confinement = Confinement(os.getpid(), limits.memory, network_guard,
                                       forkserver_child=self._ctx.get_start_method() == "forkserver")
        self._idle: list[Worker] = []
        self._busy: set[Worker] = set()
        self._starting = 0
        self._waiters: deque[asyncio.Future] = deque()
        self._closed = False

    @property
    def size(self) -> int:
        return len(self._idle) + len(self._busy) + self._starting

    async def start(self, directory: str | None) -> None:
        while self.size < self.limits.workers:
            self._idle.append(await self._spawn(directory))

    async def _spawn(self, directory: str | None) -> Worker:
        self._starting += 1
        starting = asyncio.ensure_future(asyncio.to_thread(Worker, self._ctx, directory, self.confinement))
        try:
            return await asyncio.shield(starting)
        except asyncio.CancelledError:
            # The caller gave up (a page's time limit, a client gone): the worker still starts, and
            # joins the pool rather than run untracked until the server exits.
            starting.add_done_callback(self._adopt)
            raise
        finally:
            self._starting -= 1

    def _adopt(self, starting: asyncio.Future) -> None:
        if starting.cancelled() or starting.exception() is not None:
            return
        worker = starting.result()
        if self._closed:
            worker.kill()
            return
        self._busy.add(worker)
        self._release(worker)

    async def run(self, job: Job) -> Reply:
        deadline = time.monotonic() + self.limits.timeout
        worker = await self._acquire(job.directory, deadline)
        try:
            reply = await asyncio.wait_for(worker.call(job), max(0.001, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            self._discard(worker)
            raise QueryTimeout() from None
        except (EOFError, OSError):
            try:
                return await self._death_reply(worker)
            finally:
                self._discard(worker)
        except BaseException:  # cancelled: the worker is still computing, so it cannot be reused
            self._discard(worker)
            raise
        self._release(worker)
        return reply

    async def _death_reply(self, worker: Worker) -> Reply:
        """Why a worker stopped during a query. An allocation past RLIMIT_AS aborts the engine (Rust's
        allocator: SIGABRT; the kernel's OOM killer: SIGKILL), so with a memory cap these read as the cap."""
        code = await asyncio.to_thread(_exit_code, worker.process)
        if self.confinement.memory is not None and code in (-signal.SIGABRT, -signal.SIGKILL, -signal.SIGSEGV):
            log.warning("a query worker stopped (signal %d), most likely past its memory cap of %s "
                        "(PTCEKB_WORKER_MEMORY); it is replaced", -code, worker_guard.human(self.confinement.memory))
            return memory_reply(self.confinement.memory)
        if code == worker_guard.CONFINEMENT_FAILED:
            return Reply(500, message="500: the query worker could not confine itself (see the server log) / le "
                                      "processus de requête n'a pas pu se confiner")
        log.warning("a query worker stopped during a query (exit code %s); it is replaced", code)
        return Reply(500, message=f"500: the query worker stopped (exit code {code}) and was replaced / le processus "
                                  "de requête s'est arrêté")

    async def _acquire(self, directory: str, deadline: float) -> Worker:
        self._retire_idle_extras()
        if self._idle:
            worker = self._idle.pop()
        elif self.size < self.limits.max_workers:
            worker = await self._spawn(directory)
        else:
            future = asyncio.get_running_loop().create_future()
            self._waiters.append(future)
            try:
                worker = await asyncio.wait_for(future, max(0.001, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                raise Busy() from None
            finally:
                if future in self._waiters:
                    self._waiters.remove(future)
        self._busy.add(worker)
        return worker

    def _release(self, worker: Worker) -> None:
        self._busy.discard(worker)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(worker)
                return
        worker.idle_since = time.monotonic()
        self._idle.append(worker)

    def _discard(self, worker: Worker) -> None:
        self._busy.discard(worker)
        worker.kill()
        asyncio.get_running_loop().run_in_executor(None, worker.reap)
        if not self._closed and (self.size < self.limits.workers or self._waiters):
            asyncio.ensure_future(self._replace())

    async def _replace(self) -> None:
        try:
            worker = await self._spawn(None)
        except Exception:  # noqa: BLE001
            log.exception("cannot start a query worker")
            return
        if self._closed:
            worker.kill()
            return
        self._busy.add(worker)
        self._release(worker)

    def _retire_idle_extras(self) -> None:
        now = time.monotonic()
        while len(self._idle) > 0 and self.size > self.limits.workers:
            oldest = min(self._idle, key=lambda w: w.idle_since)
            if now - oldest.idle_since < IDLE_EXTRA_WORKER_SECONDS:
                return
            self._idle.remove(oldest)
            oldest.kill()
            asyncio.get_running_loop().run_in_executor(None, oldest.reap)

    def close(self) -> None:
        self._closed = True
        for worker in [*self._idle, *self._busy]:
            worker.kill()
            worker.reap()
        self._idle.clear()
        self._busy.clear()
