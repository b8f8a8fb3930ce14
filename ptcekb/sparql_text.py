"""A small SPARQL tokenizer: what the protocol and the federation need to know of a query's text.

Not a parser: strings, IRIs and comments are whole tokens, so ``"SERVICE"`` in a literal or
``<http://x/SERVICE>`` are never taken for keywords.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .namespaces import PREFIXES

_TOKEN = re.compile(r'''
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<var>[?$][\w\u00b7-\uffff]+)
  | (?P<name>(?:[A-Za-z_\u00c0-\uffff][\w\-.\u00b7-\uffff]*)?:[\w\-.:%\\\u00b7-\uffff]*|[A-Za-z_\u00c0-\uffff][\w\-\u00b7-\uffff]*)
  | (?P<other>.)
''', re.VERBOSE | re.DOTALL)

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
KEYWORDS = frozenset((*QUERY_FORMS, "PREFIX", "FROM", "SERVICE", "LOAD"))  # the ones analyse looks at
MAX_NESTING = 256  # groups, expressions and lists deeper than this are refused: the engines' recursive
# parsers overflow their stack a few thousand levels down (a crash, not an error), and no real query nests so
OPENING, CLOSING = "{([", "})]"


@dataclass
class Analysis:
    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE or ASK (None when not found)
    has_dataset_clause: bool = False  # FROM or FROM NAMED
    services: list[str | None] = field(default_factory=list)  # SERVICE targets (None: a variable)
    loads: list[str | None] = field(default_factory=list)  # LOAD sources (updates)
    nesting: int = 0  # the deepest nesting of braces, parentheses and brackets
    undeclared_prefixes: set[str] = field(default_factory=set)  # used in prefixed names, not declared

    def default_prefixes(self) -> dict[str, str]:
        """The endpoint's default prefixes this text needs: handing the engine only those spares it
        parsing all of them on every query (half the cost of a point lookup)."""
        return {p: PREFIXES[p] for p in sorted(self.undeclared_prefixes) if p in PREFIXES}


def analyse(text: str) -> Analysis:
    """What the protocol needs to know of a query or update, without a full parser.

    Strings, IRIs and comments are skipped as whole tokens, so ``"SERVICE"`` in a literal or
    ``<http://x/SERVICE>`` are not keywords. Prefixed names are expanded with the ``PREFIX``
    declarations met before them and the endpoint's default prefixes.
    """
    out = Analysis()
    prefixes = dict(PREFIXES)
    tokens = [(m.lastgroup, m.group()) for m in _TOKEN.finditer(text) if m.lastgroup not in ("ws", "comment")]
    depth = 0
    used, declared = set(), set()
    for index, (kind, value) in enumerate(tokens):
        if kind == "other":
            depth += (value in OPENING) - (value in CLOSING)
            out.nesting = max(out.nesting, depth)
        if kind != "name":
            continue
        if ":" in value:
            used.add(value.partition(":")[0])
            continue
        keyword = value.upper()
        if keyword not in KEYWORDS:
            continue
        following = tokens[index + 1:index + 4]
        if keyword == "PREFIX" and len(following) >= 2 and following[0][0] == "name" and following[1][0] == "iri":
            prefixes[following[0][1].rstrip(":")] = following[1][1][1:-1]
            declared.add(following[0][1].rstrip(":"))
        elif keyword in QUERY_FORMS and out.form is None:
            out.form = keyword
        elif keyword == "FROM":
            out.has_dataset_clause = True
        elif keyword in ("SERVICE", "LOAD"):
            rest = following[1:] if following and following[0][1].upper() == "SILENT" else following
            target = _target(rest[0] if rest else None, prefixes)
            (out.services if keyword == "SERVICE" else out.loads).append(target)
    out.undeclared_prefixes = used - declared
    return out


def _target(token: tuple[str, str] | None, prefixes: dict[str, str]) -> str | None:
    if token is None:
        return None
    kind, value = token
    if kind == "iri":
        return value[1:-1]
    if kind == "name" and ":" in value:
        prefix, _, local = value.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else None
    return None


@dataclass(frozen=True)
class ServiceBlock:
    """One outermost ``SERVICE [SILENT] <endpoint> { ... }`` of a query, by character offsets."""

    start: int
    end: int
    endpoint: str | None  # None: a variable or an unresolvable name
    silent: bool
    pattern: str  # the group graph pattern, braces included


def service_blocks(text: str) -> list[ServiceBlock]:
    """The outermost SERVICE blocks (a SERVICE nested in one is the remote endpoint's business)."""
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup not in ("ws", "comment")]
    prefixes = dict(PREFIXES)
    blocks: list[ServiceBlock] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        word = token.group().upper() if token.lastgroup == "name" else ""
        if word == "PREFIX" and index + 2 < len(tokens) and tokens[index + 2].lastgroup == "iri":
            prefixes[tokens[index + 1].group().rstrip(":")] = tokens[index + 2].group()[1:-1]
        if word != "SERVICE":
            index += 1
            continue
        cursor = index + 1
        silent = cursor < len(tokens) and tokens[cursor].group().upper() == "SILENT"
        cursor += silent
        target = tokens[cursor] if cursor < len(tokens) else None
        endpoint = _target((target.lastgroup, target.group()), prefixes) if target is not None else None
        cursor += 1
        if cursor >= len(tokens) or tokens[cursor].group() != "{":
            index = cursor  # not a well-formed block: the engine's parser reports it
            continue
        depth, opening = 0, tokens[cursor]
        while cursor < len(tokens):
            value = tokens[cursor].group() if tokens[cursor].lastgroup == "other" else ""
            depth += (value == "{") - (value == "}")
            if depth == 0:
                break
            cursor += 1
        if depth:
            break  # unbalanced braces: the engine's parser reports the syntax error
        closing = tokens[cursor]
        blocks.append(ServiceBlock(token.start(), closing.end(), endpoint, silent, text[opening.start():closing.end()]))
        index = cursor + 1
    return blocks


def declared_prefixes(text: str) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query (the prologue a SERVICE sub-query needs)."""
    tokens = [m for m in _TOKEN.finditer(text) if m.lastgroup not in ("ws", "comment")]
    return {tokens[i + 1].group().rstrip(":"): tokens[i + 2].group()[1:-1] for i in range(len(tokens) - 2)
            if tokens[i].lastgroup == "name" and tokens[i].group().upper() == "PREFIX" and tokens[i + 2].lastgroup == "iri"}
