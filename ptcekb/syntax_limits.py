"""Bounds on what any parser is handed: one linear scanner per syntax, run before the parser sees the bytes.

Oxigraph's parsers (Rust, in this process or a worker) and the evaluator recurse, and some of them
expand what they read; past some depth or size they do not fail, they crash or exhaust memory.
Measured on pyoxigraph 0.5.13 (8 MiB stack, tests/test_parsers.py; docs/operations.md):

* **RDF/XML entities**: a 985-byte "billion laughs" document (entities of entities) grows to
  gigabytes when parsed. Any ``<!DOCTYPE`` that declares an entity, or names an external DTD, is
  refused by an expat pre-scan whose declaration handlers raise at the first declaration, before
  any reference can be expanded. Only UTF-8 documents are read (expat and Oxigraph must see the
  same characters; UTF-16 and other encodings are refused, 415).
* **Nesting**: a SPARQL query crashes the process at about 1,000 nested function calls, 2,000
  nested groups, 20,000 unary ``!``; a JSON-LD document at about 60,000 nested objects; Oxigraph's
  RDF/XML parser is slow beyond a few thousand nested elements. Refused beyond ``MAX_NESTING``
  levels (``MAX_XML_DEPTH`` elements for RDF/XML, whose striped syntax takes two per level).
* **Chains** (SPARQL): left-deep chains of operators or joined patterns (``1+1+...``,
  ``{} UNION {} ...``, 8,000 triple patterns) crash the evaluator at 6,000-10,000 links; refused
  beyond ``MAX_CHAIN``. Data blocks (``INSERT DATA``, templates, ``VALUES``, ``IN`` lists) are lists,
  not chains, and are not counted.

Every path that parses calls ``check_rdf`` or ``check_sparql``: ``/validate``, ``/store``,
``/sparql``, ``/update``, ``ptcekb validate`` and the ingestion of RDF files.
"""

from __future__ import annotations

import codecs
import re
import xml.parsers.expat

import pyoxigraph as ox

from .errors import UserError

MAX_NESTING = 256  # brackets, quoted triples, unary operators; JSON objects and arrays
MAX_XML_DEPTH = 2 * MAX_NESTING  # RDF/XML elements (a node and its property element per level)
MAX_CHAIN = 4096  # SPARQL: links of left-deep chains, summed over the open groups


class SyntaxRefused(UserError):
    """Input refused before parsing: a 4xx for the service, exit code 2 for the CLI, with the position."""

    def __init__(self, message: str, http_status: int = 400, line: int | None = None, column: int | None = None):
        super().__init__(message, exit_code=2, http_status=http_status)
        self.line, self.column = line, column

    def __reduce__(self):  # raised in worker processes: status and position survive pickling
        return SyntaxRefused, (str(self), self.http_status, self.line, self.column)

    def where(self) -> str:
        return f"{self.line}:{self.column}:" if self.line else ""


def _too_deep(what: str, limit: int, line: int | None = None, column: int | None = None) -> SyntaxRefused:
    return SyntaxRefused(f"{what} nested deeper than {limit} levels: refused before parsing (it would crash or "
                         f"stall the parser) / {what} imbriqué sur plus de {limit} niveaux : refusé", 400, line, column)


# --------------------------------------------------------------------------------------------
# SPARQL


def check_sparql(analysis) -> None:
    """Refuse a query or update whose nesting or chains would overflow the engine's stack, or that the
    analysis cannot read as the engine would."""
    if analysis.ambiguous:
        raise SyntaxRefused(f"{analysis.ambiguous[:80]} after a value reads as an IRI or as '<' followed by a string: "
                            "write the apostrophe as %27 in an IRI, or a space after '<' for less-than / IRI ambiguë : "
                            "écrire l'apostrophe %27, ou une espace après '<'")
    if analysis.nesting > MAX_NESTING:
        raise SyntaxRefused(f"nested {analysis.nesting} levels deep (groups, brackets, function calls, unary "
                            f"operators, paths); at most {MAX_NESTING} are accepted / imbrication trop profonde "
                            f"({analysis.nesting} niveaux, {MAX_NESTING} au plus)")
    if analysis.chain > MAX_CHAIN:
        raise SyntaxRefused(f"a chain of {analysis.chain} operators or joined patterns; at most {MAX_CHAIN} are "
                            f"accepted: split the query, or use VALUES / chaîne de {analysis.chain} opérateurs ou "
                            f"motifs, {MAX_CHAIN} au plus")


# --------------------------------------------------------------------------------------------
# RDF documents


def check_rdf(data: bytes, rdf_format: ox.RdfFormat) -> None:
    """Refuse ``data`` if its format's parser should not see it (entities, nesting); linear in the size."""
    if rdf_format == ox.RdfFormat.RDF_XML:
        check_xml(data)
    elif rdf_format == ox.RdfFormat.JSON_LD:
        check_json(data)
    else:  # Turtle, TriG, N-Triples, N-Quads, N3: brackets, collections, quoted triples, graphs
        check_turtle(data)


def check_file(path, rdf_format: ox.RdfFormat) -> bytes:
    """The bytes of ``path``, checked (the caller parses these bytes, not the file again)."""
    data = path.read_bytes()
    check_rdf(data, rdf_format)
    return data


class _Refuse(Exception):
    pass


def check_xml(data: bytes) -> None:
    """No DOCTYPE with entity declarations or an external DTD, UTF-8 only, elements at most ``MAX_XML_DEPTH`` deep.

    expat reads the prolog before the document element and calls the declaration handlers as each
    declaration ends: the first ``<!ENTITY`` stops it, before any reference is expanded. Linear
    (expat is a streaming parser; its own amplification limits stay on).
    """
    _require_utf8_xml(data)
    parser = xml.parsers.expat.ParserCreate(encoding="UTF-8")
    parser.SetParamEntityParsing(xml.parsers.expat.XML_PARAM_ENTITY_PARSING_NEVER)
    depth = 0
    refusal: list[SyntaxRefused] = []

    def refuse(message: str, status: int = 400):
        refusal.append(SyntaxRefused(message, status, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1))
        raise _Refuse

    def entity(name, is_parameter, value, base, system_id, public_id, notation):
        refuse(f"XML entity declaration <!ENTITY {name}> refused: entities are not accepted in uploads (they can "
               "expand to gigabytes or read files) / déclaration d'entité XML refusée")

    def doctype(name, system_id, public_id, has_internal_subset):
        if system_id or public_id:
            refuse("XML DOCTYPE naming an external DTD refused / DOCTYPE avec DTD externe refusé")

    def external(context, base, system_id, public_id):
        refuse("XML external entity refused / entité XML externe refusée")

    def start(name, attributes):
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            refusal.append(_too_deep("RDF/XML", MAX_XML_DEPTH, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1))
            raise _Refuse

    def end(name):
        nonlocal depth
        depth -= 1

    parser.EntityDeclHandler = entity
    parser.UnparsedEntityDeclHandler = lambda name, base, system_id, public_id, notation: entity(
        name, False, None, base, system_id, public_id, notation)
    parser.StartDoctypeDeclHandler = doctype
    parser.ExternalEntityRefHandler = external
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except _Refuse:
        raise refusal[0] from None
    except xml.parsers.expat.ExpatError as exc:
        raise SyntaxRefused(f"not well-formed XML: {xml.parsers.expat.ErrorString(exc.code)} / XML mal formé",
                            400, exc.lineno, exc.offset + 1) from None


_XML_DECLARATION = re.compile(rb"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def _require_utf8_xml(data: bytes) -> None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or (
            len(data) > 1 and (data[0] == 0 or data[1] == 0)):
        raise SyntaxRefused("RDF/XML must be encoded in UTF-8 (UTF-16 and UTF-32 are refused) / le RDF/XML doit être "
                            "encodé en UTF-8", 415)
    declared = _XML_DECLARATION.match(data.removeprefix(codecs.BOM_UTF8))
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise SyntaxRefused(f"RDF/XML declares the encoding {declared.group(1).decode()}: only UTF-8 is accepted / "
                            "seul l'encodage UTF-8 est accepté", 415)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SyntaxRefused("RDF/XML is not valid UTF-8 / le RDF/XML n'est pas en UTF-8 valide", 415, line,
                            exc.start - data.rfind(b"\n", 0, exc.start)) from None


# Turtle family: strings (long ones first), IRIs and comments are skipped whole; the rest is runs of
# characters that cannot open or close anything. Possessive quantifiers: linear. An unterminated
# string ends the scan: the parser reports the syntax error with its position.
_TURTLE = re.compile(rb'''
    (?P<skip>"""(?:(?:""?)?(?:[^"\\]|\\.))*+"""|\'\'\'(?:(?:\'\'?)?(?:[^'\\]|\\.))*+\'\'\'
            |"(?:[^"\\\r\n]|\\.)*+"|'(?:[^'\\\r\n]|\\.)*+'
            |<[^<>"{}|^`\\\x00-\x20]*+>|\#[^\r\n]*+|\\[\s\S]|[^"'<>\#\[\]{}()\n\\]++|\n)
  | (?P<open><<|[\[({])
  | (?P<close>>>|[\])}])
  | (?P<bad>["'])
  | (?P<other>[\s\S])
''', re.VERBOSE)


def check_turtle(data: bytes) -> None:
    """Turtle, TriG, N-Triples, N-Quads: ``[``, ``(``, ``<<``, ``{`` nested at most ``MAX_NESTING`` deep."""
    depth = 0
    line, line_start = 1, 0
    for match in _TURTLE.finditer(data):
        kind = match.lastgroup
        if kind == "skip":
            if match.group() == b"\n":
                line, line_start = line + 1, match.end()
            elif b"\n" in match.group():  # a long string
                line += match.group().count(b"\n")
                line_start = match.start() + match.group().rfind(b"\n") + 1
        elif kind == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep("Turtle/TriG ([ ], ( ), << >>, { })", MAX_NESTING, line, match.start() - line_start + 1)
        elif kind == "close":
            depth = max(depth - 1, 0)
        elif kind == "bad":
            return


_JSON = re.compile(rb'"(?:[^"\\]|\\.)*+"|[^"{}\[\]\n]++|(?P<open>[{\[])|(?P<close>[}\]])|(?P<nl>\n)|(?P<bad>")',
                   re.DOTALL)


def check_json(data: bytes) -> None:
    """JSON-LD: objects and arrays nested at most ``MAX_NESTING`` deep."""
    depth = 0
    line, line_start = 1, 0
    for match in _JSON.finditer(data):
        group = match.lastgroup
        if group == "open":
            depth += 1
            if depth > MAX_NESTING:
                raise _too_deep("JSON-LD", MAX_NESTING, line, match.start() - line_start + 1)
        elif group == "close":
            depth = max(depth - 1, 0)
        elif group == "nl":
            line, line_start = line + 1, match.end()
        elif group == "bad":
            return
