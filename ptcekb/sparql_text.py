"""A small SPARQL tokenizer: what the protocol and the federation need to know of a query's text.

Not a parser: strings, IRIs and comments are whole tokens, so ``"SERVICE"`` in a literal or
``<http://x/SERVICE>`` are never taken for keywords. It reads the text as Oxigraph's parser does
(measured on pyoxigraph 0.5.13, tests/test_parsers.py):

* comments run from ``#`` to the end of the line, ended by ``\\n`` *or* ``\\r`` (the grammar's rule);
* codepoint escapes (``\\uXXXX``, ``\\UXXXXXXXX``) are read inside strings and IRIs only, as the
  engine does: elsewhere a backslash is a syntax error there, so decoding them first (spec §19.2)
  would make this reader see string delimiters the engine does not;
* keywords are matched without a word boundary: ``SERVICE:x`` and ``SERVICEex:x`` are the keyword
  followed by a prefixed name (``SILENT`` likewise).

One pass, linear in the text: every token is matched once by a regular expression whose
alternatives cannot backtrack past the token (possessive quantifiers), and the analysis keeps no
list of tokens. The same pass measures the nesting the engine's recursive-descent parser and its
evaluator would recurse through (``syntax_limits.check_sparql`` refuses what would overflow their stack).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from .namespaces import PREFIXES

_PN_CHARS_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
                  "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_PN_CHARS = _PN_CHARS_BASE + "_0-9\\-\u00b7\u0300-\u036f\u203f-\u2040"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_LOCAL = rf"(?:[{_PN_CHARS}.:]|%[0-9A-Fa-f]{{2}}|\\[_~.\-!$&'()*+,;=/?#@%])*+"

# Alternatives in the order Oxigraph's PEG grammar tries them where they overlap (a long string
# before a short one, an IRI before ``<``/``<<``). Each is possessive: a failing attempt costs at
# most the length of what it scanned, and the regions scanned by failing attempts do not overlap
# (see the comments), so the whole pass is linear.
_TOKEN = re.compile(rf'''
    (?P<ws>[ \t\r\n]++)
  | (?P<comment>\#[^\r\n]*+)
  | (?P<string>"""(?:(?:""?)?(?:[^"\\]|\\.))*+"""
              |\'\'\'(?:(?:\'\'?)?(?:[^'\\]|\\.))*+\'\'\'
              |"(?:[^"\\\r\n]|\\.)*+"
              |'(?:[^'\\\r\n]|\\.)*+')
  | (?P<badstring>["'])
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)
  | (?P<lt><)(?=<(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*+>)
  | (?P<var>[?$][{_PN_CHARS}]++)
  | (?P<pname>(?:[{_PN_CHARS_BASE}][{_PN_CHARS}.]*+|_)?:{_LOCAL})
  | (?P<word>[{_PN_CHARS_BASE}][{_PN_CHARS}.]*+)
  | (?P<number>[0-9]++(?:\.[0-9]++)?(?:[eE][+-]?[0-9]++)?|\.[0-9]++(?:[eE][+-]?[0-9]++)?)
  | (?P<lang>@[A-Za-z]++(?:-[A-Za-z0-9]++)*+)
  | (?P<op>\|\||&&|!=|<=|>=|\^\^|<<|>>)
  | (?P<other>[\s\S])
''', re.VERBOSE)
# ``pname``: the prefix part may hold dots (``a.b:c``); when no colon follows the run of name
# characters, the attempt fails after scanning that run once and ``word`` takes the same run, which
# ``_words`` then splits at its dots: ``a.a.a...`` is one token, never rescanned from each ``a``
# (the old tokenizer's quadratic case). A ``badstring`` quote is always a syntax error for the
# engine (a quote can only open a string), so the pass stops there: nothing after it is run.

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
KEYWORDS = frozenset((*QUERY_FORMS, "PREFIX", "BASE", "FROM", "SERVICE", "LOAD"))  # the ones analyse looks at
OPENING, CLOSING = "{([", "})]"
_CHAIN_OPS = frozenset(("||", "&&", "=", "!=", "<", ">", "<=", ">=", "*", "/", "|"))
_CHAIN_WORDS = frozenset(("UNION", "OPTIONAL", "MINUS", "BIND"))
_TEMPLATE_AFTER = frozenset(("DATA", "INSERT", "DELETE", "CONSTRUCT"))  # braces of quads, not a join
_OPERAND_END = frozenset(("var", "iri", "pname", "word", "number", "string", "lang"))
_UCHAR_RE = re.compile(_UCHAR)


@dataclass
class Analysis:
    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE or ASK (None when not found)
    has_dataset_clause: bool = False  # FROM or FROM NAMED
    services: list[str | None] = field(default_factory=list)  # SERVICE targets (None: a variable)
    loads: list[str | None] = field(default_factory=list)  # LOAD sources (updates)
    nesting: int = 0  # deepest nesting: brackets, quoted triples and runs of unary operators
    chain: int = 0  # longest left-deep chain: binary operators and joined patterns, summed over the open groups
    undeclared_prefixes: set[str] = field(default_factory=set)  # used in prefixed names, not declared
    declared: dict[str, str] = field(default_factory=dict)  # PREFIX declarations, in order
    blocks: list["ServiceBlock"] = field(default_factory=list)  # outermost SERVICE blocks
    syntax_error: bool = False  # a quote that opens no string: the engine refuses the text
    ambiguous: str | None = None  # an IRI the engine may read as `<` and tokens (with a quote): refused

    def default_prefixes(self) -> dict[str, str]:
        """The endpoint's default prefixes this text needs: handing the engine only those spares it
        parsing all of them on every query (half the cost of a point lookup)."""
        return {p: PREFIXES[p] for p in sorted(self.undeclared_prefixes) if p in PREFIXES}


@dataclass(frozen=True)
class ServiceBlock:
    """One outermost ``SERVICE [SILENT] <endpoint> { ... }`` of a query, by character offsets."""

    start: int
    end: int
    endpoint: str | None  # None: a variable or an unresolvable name
    silent: bool
    pattern: str  # the group graph pattern, braces included


def _decode_iri(value: str) -> str:
    return _UCHAR_RE.sub(lambda m: _chr(int(m.group()[2:], 16), m.group()), value) if "\\" in value else value


def _chr(code: int, fallback: str) -> str:
    try:
        return chr(code)
    except ValueError:  # beyond U+10FFFF: the engine refuses it
        return fallback


def _tokens(text: str):
    """(kind, value, start, end) of each significant token; words with dots come out split."""
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("ws", "comment"):
            continue
        if kind == "word" and "." in match.group():
            position = match.start()
            for index, part in enumerate(match.group().split(".")):
                if index:
                    yield "other", ".", position, position + 1
                    position += 1
                if part:
                    yield "word", part, position, position + len(part)
                    position += len(part)
            continue
        if kind == "pname":
            value = match.group()
            trimmed = value.rstrip(".")  # a local name cannot end with a dot: the dots are separators
            if len(trimmed) < len(value) and not trimmed.endswith("\\"):
                start = match.start()
                yield kind, trimmed, start, start + len(trimmed)
                for offset in range(start + len(trimmed), match.end()):
                    yield "other", ".", offset, offset + 1
                continue
        yield kind, match.group(), match.start(), match.end()
        if kind == "badstring":
            return


def _glued(value: str, keyword: str) -> str | None:
    """What follows ``keyword`` glued to it (``SERVICEex:x`` -> ``ex:x``), as the engine reads it."""
    return value[len(keyword):] if len(value) > len(keyword) and value[:len(keyword)].upper() == keyword else None


def analyse(text: str) -> Analysis:
    """What the protocol needs to know of a query or update, without a full parser.

    Prefixed names are expanded with the ``PREFIX`` declarations met before them and the
    endpoint's default prefixes.
    """
    out = Analysis()
    prefixes = dict(PREFIXES)
    used: set[str] = set()
    # the open groups: (closing bracket, unary operators before it, chain count, template?)
    stack: list[list] = []
    depth = chain = unary = 0
    previous: tuple[str, str] | None = None  # the previous significant token (kind, upper-cased value)
    expect: str | None = None  # "prefix-name", "prefix-iri", "base-iri", "service", "load" target expected
    pending_prefix: str | None = None
    service: dict | None = None  # the SERVICE being read: keyword start, silent, endpoint
    block: dict | None = None  # the outermost SERVICE block being read
    after_declaration = False

    def target(kind: str, value: str) -> str | None:
        if kind == "iri":
            return _decode_iri(value[1:-1])
        if kind == "pname":
            prefix, _, local = value.partition(":")
            return prefixes[prefix] + local if prefix in prefixes else None
        return None

    def start_keyword(keyword: str, start: int) -> None:
        nonlocal expect, service
        if keyword == "SERVICE":
            service = {"start": start, "silent": False, "endpoint": None, "named": False}
            expect = "service"
        else:
            expect = "load"

    for kind, value, start, end in _tokens(text):
        if kind == "badstring":
            out.syntax_error = True
            break
        upper = value.upper() if kind == "word" else value
        if kind == "lt":
            kind = "other"
        if kind == "iri" and previous is not None and (previous[0] in _OPERAND_END or previous[1] in (")", "]")):
            # `?a<...>`: after an operand, the engine reads `<` as less-than in an expression and as an
            # IRI in a pattern. Read as an IRI here; what the other reading would make of its
            # characters is accounted for: a quote would open a string this pass does not see
            # (refused), brackets and unary operators would nest (counted).
            inner = value[1:-1]
            if "'" in inner:
                out.ambiguous = value
            out.nesting = max(out.nesting, depth + unary + sum(inner.count(c) for c in "([!^+-"))
        if service is not None and service["named"] and not (kind == "other" and value == "{"):
            service = None  # SERVICE <e> not followed by its group: no block (the engine reports the error)
        at_operation_start = previous is None or previous[1] == ";" or after_declaration
        after_declaration = False

        # -- SERVICE / LOAD targets (the keyword may be glued to its SILENT or its target) ------
        if expect in ("service", "load") and kind in ("word", "pname"):
            rest = _glued(value, "SILENT")
            if upper == "SILENT" or rest is not None:
                if service is not None and expect == "service":
                    service["silent"] = True
                if rest is None:
                    previous = (kind, upper)
                    continue
                kind, value = ("pname" if ":" in rest else "word"), rest
        if expect in ("service", "load"):
            resolved = target(kind, value)
            if expect == "service":
                out.services.append(resolved)
                service["endpoint"] = resolved
                service["named"] = True
            else:
                out.loads.append(resolved)
            expect = None
            if kind in ("iri", "pname", "var"):
                previous = (kind, value)
                continue
        elif kind in ("word", "pname"):
            glued = _glued(value, "SERVICE") if kind == "pname" else None
            loaded = _glued(value, "LOAD") if kind in ("word", "pname") else None
            if upper in ("SERVICE", "LOAD"):
                start_keyword(upper, start)
                previous = (kind, upper)
                continue
            if glued is not None and ":" in glued.removeprefix("SILENT").removeprefix("silent") \
                    and _next_is_brace(text, end):
                service = {"start": start, "silent": False, "endpoint": None, "named": True}
                rest = _glued(glued, "SILENT")
                service["silent"] = rest is not None
                service["endpoint"] = target("pname", rest if rest is not None else glued)
                out.services.append(service["endpoint"])
                previous = ("pname", value)
                continue
            if loaded is not None and at_operation_start and ":" in loaded:
                rest = _glued(loaded, "SILENT")
                out.loads.append(target("pname", rest if rest is not None else loaded))
                previous = ("pname", value)
                continue

        # -- declarations, form, dataset ---------------------------------------------------------
        if kind == "word" and upper in KEYWORDS:
            if upper == "PREFIX":
                expect = "prefix-name"
            elif upper == "BASE":
                expect = "base-iri"
            elif upper in QUERY_FORMS and out.form is None:
                out.form = upper
            elif upper == "FROM":
                out.has_dataset_clause = True
        elif expect == "prefix-name":
            expect, pending_prefix = ("prefix-iri", value[:-1]) if kind == "pname" and value.endswith(":") \
                and value.count(":") == 1 else (None, None)
        elif expect == "prefix-iri":
            if kind == "iri":
                prefixes[pending_prefix] = out.declared[pending_prefix] = _decode_iri(value[1:-1])
                after_declaration = True
            expect = None
        elif expect == "base-iri":
            after_declaration = kind == "iri"
            expect = None
        elif kind == "pname":
            prefix = value.partition(":")[0]
            if prefix != "_":  # blank node labels are not prefixed names
                used.add(prefix)
        elif kind == "word" and _glued(value, "FROM") is not None:
            out.has_dataset_clause = True  # FROMex:g, FROMNAMEDex:g (no word boundary)

        # -- nesting and chains --------------------------------------------------------------------
        template = bool(stack) and stack[-1][3]
        if kind == "other" and value in OPENING or value == "<<":
            is_template = value == "{" and (template or (previous is not None and previous[1] in _TEMPLATE_AFTER))
            stack.append([CLOSING[OPENING.index(value)] if value != "<<" else ">>", unary, 0, is_template])
            depth += 1 + unary
            unary = 0
            out.nesting = max(out.nesting, depth)
            if value == "{" and service is not None and service["named"] and block is None:
                block = {**service, "open": start, "level": len(stack)}
            service = None
        elif (kind == "other" and value in CLOSING or value == ">>") and stack and stack[-1][0] == value:
            closing, before, count, _ = stack.pop()
            depth -= 1 + before
            chain -= count
            if block is not None and block["level"] == len(stack) + 1 and value == "}":
                out.blocks.append(ServiceBlock(block["start"], end, block["endpoint"], block["silent"],
                                               text[block["open"]:end]))
                block = None
        else:
            if kind == "other" and value in "!^" or (kind == "other" and value in "+-" and (
                    previous is None or previous[0] not in _OPERAND_END and previous[1] not in (")", "]", ">>", "}"))):
                unary += 1
                out.nesting = max(out.nesting, depth + unary)
            else:
                counted = (kind == "op" and value in _CHAIN_OPS) or (kind == "other" and (
                    value in _CHAIN_OPS or value in "+-" or (value in ".;" and not template)
                    or (value == "," and not template and not (stack and stack[-1][0] == ")"))))
                if kind == "word" and upper in _CHAIN_WORDS:
                    counted = True
                if counted and stack:  # the top level holds no pattern: `;` there separates update operations
                    chain += 1
                    stack[-1][2] += 1
                    out.chain = max(out.chain, chain)
                unary = 0
        previous = (kind, upper if kind == "word" else value)
    out.undeclared_prefixes = used - set(out.declared)
    return out


def _next_is_brace(text: str, position: int) -> bool:
    """Whether the next significant character after ``position`` is ``{`` (comments skipped)."""
    match = _AFTER.match(text, position)
    return match is not None and match.group(1) == "{"


_AFTER = re.compile(r"(?:[ \t\r\n]++|\#[^\r\n]*+)*+(.)", re.DOTALL)


def service_blocks(text: str) -> list[ServiceBlock]:
    """The outermost SERVICE blocks (a SERVICE nested in one is the remote endpoint's business)."""
    return analyse(text).blocks


def declared_prefixes(text: str) -> dict[str, str]:
    """The ``PREFIX`` declarations of a query (the prologue a SERVICE sub-query needs)."""
    return analyse(text).declared


def bind_iris(text: str, iris: dict[str, str]) -> str:
    """``text`` with each variable ``$name`` / ``?name`` of ``iris`` replaced by that IRI, written as
    an IRI reference. The service's own page queries take their resource this way: the queries go to
    query workers or to a remote engine as text, so the engine's pre-binding (pyoxigraph's
    ``substitutions=``) cannot travel with them. Only variable tokens are replaced (never inside a
    string, an IRI or a comment), and each IRI is checked by pyoxigraph first (``ValueError`` if it
    is not one), so a resource's IRI can never change the query's structure."""
    written = {name: str(ox.NamedNode(iri)) for name, iri in iris.items()}
    pieces, position = [], 0
    for kind, value, start, end in _tokens(text):
        if kind == "var" and value[1:] in written:
            pieces += [text[position:start], written[value[1:]]]
            position = end
    return "".join(pieces) + text[position:]
