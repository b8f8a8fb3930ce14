"""The SPARQL result serializers of the query workers: a registry from a format name to how its rows
are laid out (``_LAYOUTS``, as Datasette's renderers), used by executor.run_job in the worker.

Results are written by pyoxigraph, at the engine's pace: ``capped`` hands its serializer a file that
keeps the bytes and stops it (an exception from ``write``) once the rows it has written show that
the row cap is passed; the answer is then cut at the first row past the cap, exactly, and says so in
the format itself (a ``link`` to the row cap's documentation, a ``truncated`` member in JSON, a
comment in XML; a Turtle graph cut at the cap gets a comment). The rows are found in the bytes by
what each format cannot hold inside a term (docs/sparql.md, "Truncation"). The HTML query page is
sent the JSON results.
"""

from __future__ import annotations

import bisect
import enum
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import islice
from typing import Any
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

TRUNCATION_LINK = "https://w3id.org/ptce/docs/sparql#row-cap"


class Cut(enum.IntEnum):
    """Whether an answer was cut, and by which cap: false, or equal to True, when cut at the row cap."""

    NONE = 0
    ROWS = 1  # the row cap (PTCEKB_ROW_CAP)
    BYTES = 2  # the byte cap (PTCEKB_ANSWER_BYTES): the rows that fit whole in it are kept


class AnswerTooLarge(Exception):
    """Not one row of the answer fits in the byte cap."""


def _prefixes_for(extension: str, prefixes: dict[str, str]) -> dict[str, str] | None:
    return prefixes or None if extension in ("ttl", "trig", "rdf", "jsonld") else None


_BOOLEAN_FORMATS = {"json": ox.QueryResultsFormat.JSON, "html": ox.QueryResultsFormat.JSON,
                    "xml": ox.QueryResultsFormat.XML, "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


def boolean(name: str, result: ox.QueryBoolean) -> bytes:
    """An ASK answer in the results format ``name`` (the HTML page reads it as JSON)."""
    return result.serialize(format=_BOOLEAN_FORMATS[name])


def graph(name: str, triples: list[ox.Triple], truncated: bool, cap: int, prefixes: dict[str, str]) -> bytes:
    """CONSTRUCT or DESCRIBE triples in the RDF format of extension ``name`` (the HTML page shows Turtle)."""
    extension = "ttl" if name == "html" else name
    body = ox.serialize(triples, format=ox.RdfFormat.from_extension(extension), prefixes=_prefixes_for(extension, prefixes))
    if truncated and extension == "ttl":
        why = "byte cap" if truncated == Cut.BYTES else "row cap"
        body = f"# truncated to {len(triples) if truncated == Cut.BYTES else cap} triples ({why})\n".encode() + body
    return body


# --------------------------------------------------------------------------------------------
# Results written by pyoxigraph, cut at the row cap in the bytes


class _Enough(Exception):
    """Raised from ``_Output.write`` to stop pyoxigraph's serializer: the cap is passed."""


@dataclass(frozen=True)
class _Layout:
    """Where the rows are in the bytes pyoxigraph writes in one format.

    ``mark``: bytes of a fixed length that only a row's boundary holds; counted in each write with
    the last ``len - 1`` bytes before it, they are counted exactly, each once, and the cut is found
    in the one write that holds it. Row ``cap + 1`` begins at mark ``cap + shift`` (``after`` it for
    the line formats); ``lead``: marks before the first row (TSV's header line); ``inexact``: bytes
    that may announce a row the mark misses (JSON's rows without bindings, `{}`). CSV has no such
    mark (a CRLF inside quotes is no boundary): ``seen(chunk, output)`` counts the rows that
    certainly exist in one write (a CRLF split between two writes is missed: it only stops the
    serializer later). ``most(body)``: at least the number of rows of a whole answer (cheap, may
    count more); ``starts(body)``: the offset of every row, exactly; ``end``: what closes the
    document after its last row; ``joint``: the bytes that separate one row from the next."""

    format: Any
    most: Callable[[bytes], int]
    starts: Callable[[bytes], list[int]]
    end: bytes = b""
    joint: int = 0
    mark: re.Pattern | None = None
    width: int = 0  # of a mark
    shift: int = 0
    after: bool = False
    lead: int = 0
    inexact: bytes | None = None
    seen: Callable[[bytes, "_Output"], int] | None = None


def _lines_after_header(body: bytes) -> list[int]:  # TSV: a term never holds a newline (escaped)
    return [m.end() for m in re.finditer(b"\n", body) if m.end() < len(body)]


def _lines(body: bytes) -> list[int]:  # N-Triples: one triple a line, newlines in literals escaped
    return [0, *_lines_after_header(body)] if body else []


def _csv_seen(chunk: bytes, output: "_Output") -> int:
    """CRLFs outside quotes: the pieces between quotes alternate outside/inside, "" escapes too."""
    pieces = chunk.split(b'"')
    count = sum(piece.count(b"\r\n") for piece in pieces[output.quotes % 2::2])
    output.quotes += len(pieces) - 1
    return count


def _csv_starts(body: bytes) -> list[int]:
    ends = [m.end() for m in re.finditer(b"\r\n", body)]  # literal searches: fast, unlike one scan for both
    quotes = [m.start() for m in re.finditer(b'"', body)]
    fields = list(zip(quotes[::2], quotes[1::2]))  # quoted fields ("" escapes read as two of them)
    if any(b"\r\n" in body[start:end] for start, end in fields):
        ends = [end for end in ends if bisect.bisect_left(quotes, end) % 2 == 0]  # an even number of quotes before
    return ends[:-1] if ends and ends[-1] == len(body) else ends


# A row with a binding starts `{"name` after `[` (the first) or `,`. Inside a string a `"` is always
# escaped, so `{"` there can only be a string's closing quote, followed by `,` `:` `}` or `]`. (The
# patterns start with literal bytes, which `re` searches for fast: a leading class is 8 times slower.)
_JSON_FIRST_ROW = re.compile(rb'\[\{"[^,:}\]]')
_JSON_NEXT_ROW = re.compile(rb',\{"[^,:}\]]')
# Rows without bindings (`{}`) can be told from string contents only by skipping the strings.
_JSON_SCAN = re.compile(rb'"(?:[^"\\]++|\\.)*+"|[\[,](\{)')


def _json_starts(body: bytes) -> list[int]:
    if b"{}" not in body:
        first = _JSON_FIRST_ROW.search(body)
        return [first.start() + 1, *(m.start() + 1 for m in _JSON_NEXT_ROW.finditer(body))] if first else []
    return [m.start(1) for m in _JSON_SCAN.finditer(body) if m.start(1) >= 0]


_LAYOUTS = {
    "json": _Layout(ox.QueryResultsFormat.JSON, lambda body: body.count(b",{") + 1, _json_starts, b"]}}", 1,
                    _JSON_NEXT_ROW, 4, inexact=b"{}"),  # marks rows 2...: row cap + 1 at mark cap (its comma)
    "xml": _Layout(ox.QueryResultsFormat.XML, lambda body: body.count(b"<result>"),  # `<` is escaped in text
                   lambda body: [m.start() for m in re.finditer(b"<result>", body)], b"</results></sparql>", 0,
                   re.compile(b"<result>"), 8, shift=1),
    "csv": _Layout(ox.QueryResultsFormat.CSV, lambda body: body.count(b"\r\n") - 1, _csv_starts, seen=_csv_seen),
    "tsv": _Layout(ox.QueryResultsFormat.TSV, lambda body: body.count(b"\n") - 1, _lines_after_header,
                   mark=re.compile(b"\n"), width=1, shift=1, after=True, lead=1),
    "nt": _Layout(ox.RdfFormat.N_TRIPLES, lambda body: body.count(b"\n"), _lines, mark=re.compile(b"\n"), width=1,
                  after=True),
}
class _Output:
    """The file pyoxigraph's serializer writes to: keeps the bytes, stops it past the cap."""

    def __init__(self, layout: _Layout, cap: int, header: int, byte_cap: int | None = None):
        self.layout, self.cap, self.byte_cap = layout, cap, byte_cap
        self.bytes_passed = False  # stopped by the byte cap
        self.chunks: list[bytes] = []
        self.rows = -header  # rows certainly written so far (CSV)
        self.quotes = 0  # CSV: quotes written so far (odd: inside a quoted field)
        self.size = 0  # bytes written so far
        self.tail = b""  # the last bytes written, a mark's width less one
        self.marks = 0  # marks written so far
        self.windows: list[tuple[int, int, int, int]] = []  # per write: start, end (tail included), marks before, after
        self.exact = True  # every row start is at a mark

    def write(self, data) -> int:
        chunk = bytes(data)
        self.chunks.append(chunk)
        layout = self.layout
        if layout.mark is None:
            self.rows += layout.seen(chunk, self)
        else:
            window = self.tail + chunk
            before = self.marks
            self.marks += len(layout.mark.findall(window))
            self.windows.append((self.size - len(self.tail), self.size + len(chunk), before, self.marks))
            if layout.inexact is not None and layout.inexact in self.tail[-1:] + chunk:
                self.exact = False
            self.tail = window[len(window) - layout.width + 1:] if layout.width > 1 else b""
            self.rows = self.marks - layout.lead
        self.size += len(chunk)
        if self.rows > self.cap:
            raise _Enough()
        if self.byte_cap is not None and self.size > self.byte_cap:
            self.bytes_passed = True
            raise _Enough()
        return len(chunk)

    def flush(self) -> None:
        return None

    def mark(self, body: bytes, number: int) -> int:
        """The offset of the mark ``number`` (from 1) at which the row after the cap begins."""
        for start, end, before, after in self.windows:
            if before < number <= after:
                match = list(self.layout.mark.finditer(body, start, end))[number - before - 1]
                return match.end() if self.layout.after else match.start()
        raise ValueError(number)


def _cut(result, name: str, cap: int, byte_cap: int | None = None) -> tuple[bytes, int | None, Cut]:
    """``result`` serialized by pyoxigraph in the format ``name``, the offset to cut it at to keep its
    first ``cap`` rows (None: it has no more), and why it is cut. Past ``byte_cap`` bytes pyoxigraph is
    stopped too, and the answer keeps the rows that end within the cap (``AnswerTooLarge``: none does)."""
    layout = _LAYOUTS[name]
    output = _Output(layout, cap, 1 if name == "csv" else 0, byte_cap)  # CSV's header line is no row
    try:
        result.serialize(output, format=layout.format)
        stopped = False
    except _Enough:
        stopped = True
    body = b"".join(output.chunks)
    if output.bytes_passed:
        return (body, *_byte_cut(body, name, cap, byte_cap))
    body, cut = _row_cut(body, layout, output, stopped, cap)
    return body, cut, Cut.NONE if cut is None else Cut.ROWS


def _json_partial_starts(body: bytes) -> list[int]:
    """The row starts of JSON results stopped midway: the scan stops at a string left open at the end
    (after its opening quote, `,{` may be a string's content)."""
    starts, position = [], 0
    for match in _JSON_SCAN.finditer(body):
        if b'"' in body[position:match.start()]:  # a quote outside any whole string: one left open
            break
        if match.start(1) >= 0:
            starts.append(match.start(1))
        position = match.end()
    return starts


def _byte_cut(body: bytes, name: str, cap: int, byte_cap: int) -> tuple[int, Cut]:
    """Where to cut ``body`` (stopped past ``byte_cap``, at most ``cap`` rows written) to keep the
    rows that end, with what closes the document, within ``byte_cap`` bytes."""
    layout = _LAYOUTS[name]
    # the rows that began: all but the last are whole (JSON's rows without bindings need a scan of the strings)
    starts = _json_partial_starts(body) if name == "json" and b"{}" in body else layout.starts(body)
    room = byte_cap - len(layout.end)
    kept = 0
    while kept + 1 < len(starts) and kept < cap and starts[kept + 1] - layout.joint <= room:
        kept += 1
    if kept == 0:  # an answer cut before its first row would read as an empty one
        raise AnswerTooLarge()
    return starts[kept] - layout.joint, Cut.BYTES


def _row_cut(body: bytes, layout: _Layout, output: _Output, stopped: bool, cap: int) -> tuple[bytes, int | None]:
    if not stopped and layout.most(body) <= cap:
        return body, None
    if stopped and cap and layout.mark is not None and output.exact:  # the cut is in the write that stopped it
        return body, output.mark(body, cap + layout.shift)
    starts = layout.starts(body)
    if len(starts) <= cap:
        return body, None
    return body, starts[cap] - (layout.joint if cap else 0)


def capped(result, name: str, cap: int, byte_cap: int | None = None) -> tuple[bytes, Cut]:
    """``result`` (QuerySolutions, or QueryTriples with ``name`` "nt") serialized by pyoxigraph in the
    format ``name``, cut after its first ``cap`` rows (and within ``byte_cap`` bytes); and whether there
    were more (``Cut``, true when cut)."""
    body, cut, why = _cut(result, name, cap, byte_cap)
    return (body, Cut.NONE) if cut is None else (body[:cut] + _LAYOUTS[name].end, why)


def _note(cap: int, why: Cut = Cut.ROWS, byte_cap: int | None = None, rows: int = 0) -> str:
    if why == Cut.BYTES:
        return (f"results truncated to the first {rows} rows: the answer passed {byte_cap} bytes (byte cap of this "
                "endpoint); use LIMIT and OFFSET to page through them, or select shorter values")
    return (f"results truncated to the first {cap} rows (row cap of this endpoint); "
            "use LIMIT and OFFSET to page through them")


def solutions(name: str, result: ox.QuerySolutions, cap: int, byte_cap: int | None = None) -> tuple[bytes, Cut]:
    """SELECT solutions in the results format ``name`` (json, xml, csv, tsv), written by pyoxigraph,
    at most ``cap`` rows and, with ``byte_cap``, the rows that fit whole in that many bytes (the
    markers are added beyond it); a truncated answer says so in the format (CSV and TSV have
    no room for it: the X-PTCEKB-Truncated header does). The answer is copied once, markers included."""
    body, cut, why = _cut(result, name, cap, byte_cap)
    if cut is None:
        return body, Cut.NONE
    view, end = memoryview(body), _LAYOUTS[name].end
    rows = len(_LAYOUTS[name].starts(body[:cut])) if why == Cut.BYTES else cap
    note = _note(cap, why, byte_cap, rows)
    if name == "json":  # {"head":{"vars":[...]}: variable names hold no `]`
        # before "results": JSON readers that stream (pyoxigraph's) refuse members after the bindings
        head_end = body.index(b"]}") + 1
        parts = [view[:head_end], b',"link":' + json.dumps([TRUNCATION_LINK]).encode() + b'},"truncated":true,"note":'
                 + json.dumps(note).encode(), view[head_end + 1:cut], end]
    elif name == "xml":
        declaration, head_end = body.index(b"?>") + 2, body.index(b"</head>")
        comment = note.split("; use LIMIT")[0]  # what was cut, without the advice
        parts = [view[:declaration], f"\n<!-- {comment} -->\n".encode(), view[declaration:head_end],
                 f"<link href={quoteattr(TRUNCATION_LINK)}/>".encode(), view[head_end:cut], end]
    else:
        parts = [view[:cut], end]
    return b"".join(parts), why


def graph_result(name: str, result, cap: int, prefixes: dict[str, str],
                 byte_cap: int | None = None) -> tuple[bytes, Cut]:
    """CONSTRUCT or DESCRIBE triples (pyoxigraph's QueryTriples, or a remote store's parsed quads), at
    most ``cap``, in the RDF format of extension ``name``. N-Triples and N-Quads (a triple a line) are
    written by pyoxigraph and cut in the bytes; the other formats group triples, so the first ``cap``
    are taken in Python and serialized: measured, writing N-Triples and reading them back for Turtle
    was slower than that (docs/benchmarks.md)."""
    if name in ("nt", "nq") and isinstance(result, ox.QueryTriples):  # N-Quads of triples: the same lines
        return capped(result, "nt", cap, byte_cap)
    if byte_cap is None:
        triples = list(islice(result, cap + 1))
        truncated = Cut.ROWS if len(triples) > cap else Cut.NONE
        return graph(name, triples[:cap], truncated, cap, prefixes), truncated
    # the triples whose N-Triples lines fit in the byte cap (the other formats are about as long or shorter)
    triples, size, truncated = [], 0, Cut.NONE
    for triple in result:
        if len(triples) == cap:
            truncated = Cut.ROWS
            break
        size += len(str(triple)) + 3
        if size > byte_cap:
            truncated = Cut.BYTES
            break
        triples.append(triple)
    if truncated == Cut.BYTES and not triples:
        raise AnswerTooLarge()
    return graph(name, triples, truncated, cap, prefixes), truncated
