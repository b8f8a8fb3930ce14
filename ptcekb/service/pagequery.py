"""The SPARQL queries the service runs for itself, under a time limit and off the event loop.

Resource pages, lists, the home page, the statistics of VoID and of the service description: every
SPARQL query they run goes through this module. pyoxigraph's ``Store.query`` cannot be interrupted,
so a query is a job for the query workers of ``/sparql`` (executor.py): it runs in a worker
process, which is killed and replaced when the time limit passes. The worker answers SPARQL JSON
results (or N-Triples for CONSTRUCT), parsed back here by pyoxigraph's own parser into the same
terms ``Store.query`` gives. A remote store (``--store http…``) is queried by the executor over
HTTP, under the HTTP client's time limit; the wait here is bounded all the same.

The interface:

* ``await queries.select(text, timeout=…)`` → a list of rows (``{variable: term or None}``) or a
  ``Missing`` that says why there is no answer (``timeout``, ``busy``, ``error``);
  ``ask`` → bool or ``Missing``; ``construct`` → triples or ``Missing``;
* ``queries.budget(loop)``: for the synchronous code of a page, run in a thread. All the queries of
  one page share one time limit (``PTCEKB_PAGE_QUERY_TIMEOUT``, default 5 s); a query without
  answer raises ``Unanswered``, and ``budget.section(name, compute, fallback)`` turns that into a
  missing section: the page is answered with what it has and says what is missing;
* ``PerBuild``: what is computed once per build (statistics, name indexes, counts of the map), in
  the background under the endpoint's query time limit (``PTCEKB_QUERY_TIMEOUT``); a request waits
  for it at most the page time limit, then answers without it.

The queries' text is the service's own: a syntax error or a failed query is logged and the section
is missing, never a 500.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import pyoxigraph as ox

from ..namespaces import PREFIXES
from .executor import Busy, Job, QueryTimeout

log = logging.getLogger("ptcekb.service.pagequery")

PAGE_ROW_CAP = 1_000_000  # the time limit bounds the work; more rows than this is a bug, reported as missing
RETRY_SECONDS = 60.0  # a per-build computation that failed is tried again after this long


@dataclass(frozen=True)
class Missing:
    """No answer: ``reason`` is ``timeout`` (time limit), ``busy`` (no free worker in time),
    ``pending`` (computed in the background, not done yet) or ``error`` (logged)."""

    reason: str
    detail: str = ""


class Unanswered(Exception):
    """A query of a page got no answer (raised by ``Budget`` and ``need``)."""

    def __init__(self, missing: Missing):
        super().__init__(f"{missing.reason}: {missing.detail}" if missing.detail else missing.reason)
        self.missing = missing


def need(result):
    """``result`` unless it is ``Missing``, which is raised as ``Unanswered``."""
    if isinstance(result, Missing):
        raise Unanswered(result)
    return result


class PageQueries:
    """The service's own queries, sent to the query workers of ``app.state.executor``."""

    def __init__(self, app, timeout: float):
        self.app, self.timeout = app, timeout

    def per_build(self, name: str, build: str) -> "PerBuild":
        """The ``PerBuild`` computation called ``name`` for ``build`` (held by the knowledge base's
        cache of that build: kb.BuildCache, dropped with the build)."""
        return self.app.state.kb.cache.get(build, ("page queries", name), lambda: PerBuild(name))

    async def select(self, query: str, *, timeout: float | None = None) -> list[dict[str, Any]] | Missing:
        body = await self._answer(query, timeout, "solutions", "a SELECT")
        if isinstance(body, Missing):
            return body
        solutions = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
        names = [v.value for v in solutions.variables]
        return [dict(zip(names, solution)) for solution in solutions]

    async def ask(self, query: str, *, timeout: float | None = None) -> bool | Missing:
        body = await self._answer(query, timeout, "boolean", "an ASK")
        return body if isinstance(body, Missing) else bool(ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON))

    async def construct(self, query: str, *, timeout: float | None = None) -> list[ox.Triple] | Missing:
        body = await self._answer(query, timeout, "graph", "a CONSTRUCT")
        if isinstance(body, Missing):
            return body
        return [quad.triple for quad in ox.parse(body, format=ox.RdfFormat.N_TRIPLES)]

    async def _answer(self, query: str, timeout: float | None, kind: str, form: str) -> bytes | Missing:
        """The serialized answer of ``query`` when it is of the ``kind`` its ``form`` gives."""
        answer = await self._run(query, timeout)
        if isinstance(answer, Missing):
            return answer
        answered, body = answer
        return body if answered == kind else self._error(query, f"{form} query answered {answered}")

    def budget(self, loop: asyncio.AbstractEventLoop, timeout: float | None = None) -> "Budget":
        return Budget(self, loop, self.timeout if timeout is None else timeout)

    async def _run(self, query: str, timeout: float | None) -> tuple[str, bytes] | Missing:
        limit = self.timeout if timeout is None else timeout
        if limit <= 0:
            return Missing("timeout")
        executor, kb = self.app.state.executor, self.app.state.kb
        job = Job(directory=str(kb.info().directory or ""), query=query, solutions_format="json", graph_format="nt",
                  row_cap=PAGE_ROW_CAP, prefixes=PREFIXES)
        try:
            # Cancelled at the limit, the executor kills the worker (its query cannot be stopped otherwise).
            reply = await asyncio.wait_for(executor.run(job), limit)
        except (asyncio.TimeoutError, QueryTimeout):
            return Missing("timeout")
        except Busy:
            return Missing("busy")
        if reply.status != 200:
            return self._error(query, reply.message)
        if reply.truncated:
            return self._error(query, f"more than {PAGE_ROW_CAP} results")
        return reply.kind, reply.body

    @staticmethod
    def _error(query: str, message: str) -> Missing:
        log.error("a query of the service failed: %s\n%s", message, query)
        return Missing("error", message)


class Budget:
    """The queries of one page, from synchronous code running in a thread (never on the event loop):
    they share one time limit, counted from the budget's creation."""

    def __init__(self, queries: PageQueries, loop: asyncio.AbstractEventLoop, timeout: float):
        self.queries, self.loop = queries, loop
        self.deadline = time.monotonic() + timeout
        self.missing: list[str] = []  # the names of the sections without answer, in page order

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def _call(self, method: Callable[..., Awaitable], query: str):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("page queries are for threads: on the event loop, await PageQueries instead")
        remaining = self.remaining()
        if remaining <= 0:
            raise Unanswered(Missing("timeout"))
        return need(asyncio.run_coroutine_threadsafe(method(query, timeout=remaining), self.loop).result())

    def select(self, query: str) -> list[dict[str, Any]]:
        return self._call(self.queries.select, query)

    def ask(self, query: str) -> bool:
        return self._call(self.queries.ask, query)

    def construct(self, query: str) -> list[ox.Triple]:
        return self._call(self.queries.construct, query)

    def section(self, name: str, compute: Callable[[], Any], fallback: Any = None) -> Any:
        """``compute()``, or ``fallback`` with ``name`` noted as missing when one of its queries had no answer."""
        try:
            return compute()
        except Unanswered:
            if name not in self.missing:
                self.missing.append(name)
            return fallback


@dataclass
class _State:
    task: asyncio.Future
    started: float = field(default_factory=time.monotonic)


class PerBuild:
    """A value computed once for one build, in the background (a task of the event loop); requests
    wait for it at most ``wait`` seconds and get ``Missing("pending")`` meanwhile. A computation
    that failed (``Unanswered`` or an error) is tried again ``RETRY_SECONDS`` later."""

    def __init__(self, name: str):
        self.name = name
        self._state: _State | None = None

    async def get(self, compute: Callable[[], Awaitable], wait: float):
        state = self._state
        if state is None or (
                state.task.done() and _failed(state.task) and time.monotonic() - state.started > RETRY_SECONDS):
            state = self._state = _State(asyncio.ensure_future(compute()))
        task = state.task
        if not task.done():
            try:
                await asyncio.wait_for(asyncio.shield(task), max(wait, 0.0))
            except asyncio.TimeoutError:
                return Missing("pending")
            except Exception:  # noqa: BLE001 - read from the task below
                pass
        if task.cancelled():
            return Missing("error", "cancelled")
        error = task.exception()
        if isinstance(error, Unanswered):
            return error.missing
        if error is not None:
            log.error("%s could not be computed: %s: %s", self.name, type(error).__name__, error)
            return Missing("error", str(error))
        return task.result()


def _failed(task: asyncio.Future) -> bool:
    return task.cancelled() or task.exception() is not None
