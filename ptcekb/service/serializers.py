"""The SPARQL result serializers of the query workers: a registry from a format name to the function
that writes a result in it (as Datasette's renderers), used by executor.run_job in the worker.

SELECT solutions are written here, so that an answer truncated at the row cap says so in the format
itself (a ``link`` to the row cap's documentation, a ``truncated`` member in JSON, a comment in
XML); ASK answers and graphs are written by pyoxigraph (a Turtle graph cut at the cap gets a comment).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RESULTS_XML_NS = "http://www.w3.org/2005/sparql-results#"
TRUNCATION_LINK = "https://w3id.org/ptce/docs/sparql#row-cap"


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
        body = f"# truncated to {cap} triples (row cap)\n".encode() + body
    return body


def _json_term(term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
                                        "object": _json_term(term.object)}}


def _json_fragment(term) -> str:
    return json.dumps(_json_term(term), ensure_ascii=False, separators=(",", ":"))


def _encoded_rows(variables: list[str], rows, encode, prefix) -> list[list[str]]:
    """Per row, ``prefix(name) + encode(term)`` for each bound variable.

    Rows are iterated (``row[name]`` costs ~2 µs a call in pyoxigraph, iteration a tenth of it)
    and each distinct term is encoded once: results repeat terms a lot.
    """
    encoded: dict = {}
    prefixes = [prefix(name) for name in variables]
    out = []
    for row in rows:
        parts = []
        for key, term in zip(prefixes, row):
            if term is not None:
                fragment = encoded.get(term)
                if fragment is None:
                    fragment = encoded[term] = encode(term)
                parts.append(key + fragment)
        out.append(parts)
    return out


def _solutions_json(variables: list[str], rows, truncated: bool, cap: int) -> bytes:
    bindings = _encoded_rows(variables, rows, _json_fragment, lambda name: json.dumps(name, ensure_ascii=False) + ":")
    head: dict[str, Any] = {"vars": variables}
    tail = ""
    if truncated:
        head["link"] = [TRUNCATION_LINK]
        note = (f"results truncated to the first {cap} rows (row cap of this endpoint); "
                "use LIMIT and OFFSET to page through them")
        tail = ',"truncated":true,"note":' + json.dumps(note)
    return ('{"head":' + json.dumps(head, ensure_ascii=False, separators=(",", ":")) + ',"results":{"bindings":['
            + ",".join("{" + ",".join(parts) + "}" for parts in bindings) + "]}" + tail + "}").encode()


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
        return f"<literal>{escape(term.value)}</literal>"
    return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>{_xml_term(term.predicate)}</predicate>"
            f"<object>{_xml_term(term.object)}</object></triple>")


def _solutions_xml(variables: list[str], rows, truncated: bool, cap: int) -> bytes:
    out = ['<?xml version="1.0"?>\n']
    if truncated:
        out.append(f"<!-- results truncated to the first {cap} rows (row cap of this endpoint) -->\n")
    out.append(f'<sparql xmlns="{RESULTS_XML_NS}"><head>')
    out += [f"<variable name={quoteattr(v)}/>" for v in variables]
    if truncated:
        out.append(f"<link href={quoteattr(TRUNCATION_LINK)}/>")
    out.append("</head><results>")
    for parts in _encoded_rows(variables, rows, lambda term: _xml_term(term) + "</binding>",
                               lambda name: f"<binding name={quoteattr(name)}>"):
        out.append("<result>" + "".join(parts) + "</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _csv_value(term) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        value = "_:" + term.value
    elif isinstance(term, (ox.NamedNode, ox.Literal)):
        value = term.value
    else:
        value = str(term)
    if any(c in value for c in ',"\r\n'):
        value = '"' + value.replace('"', '""') + '"'
    return value


def _solutions_csv(variables: list[str], rows, truncated: bool, cap: int) -> bytes:
    lines = [",".join(_csv_value(ox.Literal(v)) for v in variables)]
    lines += [",".join(_csv_value(term) for term in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode()


def _solutions_tsv(variables: list[str], rows, truncated: bool, cap: int) -> bytes:
    lines = ["\t".join("?" + v for v in variables)]
    lines += ["\t".join("" if term is None else str(term) for term in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


# format name -> serializer of SELECT solutions: (variables, rows, truncated, row cap) -> bytes.
# The HTML query page is sent the JSON results, which its script renders.
SOLUTIONS: dict[str, Callable[[list[str], list, bool, int], bytes]] = {
    "json": _solutions_json, "html": _solutions_json, "xml": _solutions_xml, "csv": _solutions_csv, "tsv": _solutions_tsv,
}
