"""Loading large files of N-Triples into a store with bounded memory, while they are produced.

Used by the build for sources that come as a file of triples (the SIRENE graph carried over from
an earlier ingest) and by the SIRENE graph replacement (``ptcekb.publish``), which loads the
N-Triples the ingest writes while it reads the stock files.
"""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pyoxigraph as ox

from .errors import UserError

LOAD_BLOCK = 40 << 20                # bytes of N-Triples per bulk_load call (bounds the loader's memory)
LOAD_THREADS = 2


class GraphLoader:
    """Bulk-loads N-Triples into a store while they are being produced.

    ``write`` takes whole lines for ``graph``; they are cut into blocks of LOAD_BLOCK bytes, each
    loaded by one ``bulk_load`` call on one of LOAD_THREADS threads. pyoxigraph releases the GIL
    while loading, so the stock files are read on one core while the other loads. Blocks bound the
    loader's memory (one ``bulk_load`` of a large file takes ~1.7 GB whatever the number of cores);
    the one-slot queue makes the producer wait when the loaders fall behind. ``load`` queues a
    block of whole lines (blank node labels do not carry over from one block to the next).

    Used as a context manager: on a clean exit every block is loaded (a loading error is raised
    then); after an exception the blocks not yet started are dropped.
    """

    def __init__(self, store: ox.Store, graph: ox.NamedNode):
        self.store, self.graph = store, graph
        self._blocks: queue.Queue = queue.Queue(maxsize=1)
        self._errors: list[BaseException] = []
        self._pending: list[str] = []
        self._size = 0
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(LOAD_THREADS)]
        for worker in self._workers:
            worker.start()

    def _work(self) -> None:
        while True:
            item = self._blocks.get()
            if item is None:
                return
            if self._errors:
                continue
            try:
                self.store.bulk_load(item, format=ox.RdfFormat.N_TRIPLES, to_graph=self.graph)
            except BaseException as exc:  # reported by the producer
                self._errors.append(exc)

    def _raise_error(self) -> None:
        if self._errors:
            raise UserError(f"cannot load the N-Triples into {self.graph.value}: {self._errors[0]}")

    def load(self, data: bytes) -> None:
        self._raise_error()
        self._blocks.put(data)

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= LOAD_BLOCK:
            self._send()

    def _send(self) -> None:
        if self._pending:
            block, self._pending, self._size = "".join(self._pending).encode("utf-8"), [], 0
            self.load(block)

    def __enter__(self) -> "GraphLoader":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self._send()
            else:
                self._errors.append(value)  # the workers skip what is left
        finally:
            for _ in self._workers:
                self._blocks.put(None)
            for worker in self._workers:
                worker.join()
        if kind is None:
            self._raise_error()


def load_ntriples(store: ox.Store, path: Path, graph: ox.NamedNode) -> None:
    """Bulk-load an N-Triples file into ``graph`` with bounded memory (a rebuild carrying the SIRENE graph)."""
    with open(path, "rb") as stream, GraphLoader(store, graph) as loader:
        rest = b""
        for block in iter(lambda: stream.read(LOAD_BLOCK), b""):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                loader.load(block[:cut])
        if rest.strip():
            loader.load(rest)


class Tee:
    """Text written to several sinks (the N-Triples file kept for rebuilds, and the loader)."""

    def __init__(self, *sinks):
        self.sinks = sinks

    def write(self, text: str) -> None:
        for sink in self.sinks:
            sink.write(text)

