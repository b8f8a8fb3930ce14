"""Running SPARQL on the store and writing results for the command line."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox

from .errors import UserError
from .namespaces import PREFIXES
from .remote import RemoteTimeout, RemoteUnavailable
from .sparql_text import analyse

RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


def read_query_argument(argument: str) -> str:
    """``QUERY`` itself, or ``@FILE.rq`` for the content of a file."""
    if not argument.startswith("@"):
        return argument
    path = Path(argument[1:])
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read query file {path}: {exc.strerror or exc}", exit_code=2) from None
    except UnicodeDecodeError:
        raise UserError(f"query file {path} is not UTF-8", exit_code=2) from None


def execute(store: ox.Store, query: str, **options):
    """Run ``query`` over the union of the named graphs unless the options say otherwise, with the
    endpoint's default prefixes (the same table as ``/sparql``: a query runs the same in both)."""
    options.setdefault("use_default_graph_as_union", True)
    options.setdefault("prefixes", analyse(query).default_prefixes() or None)
    try:
        return store.query(query, **options)
    except SyntaxError as exc:
        raise UserError(syntax_error_message(str(exc), query), exit_code=2) from None
    except (OSError, RemoteTimeout, RemoteUnavailable) as exc:
        raise UserError(f"query failed: {exc}") from None


def one_line(message: str, limit: int = 300) -> str:
    """Parser messages can list every expected token over several lines: keep one readable line."""
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


_ENGINE_ERROR = re.compile(r"error at (\d+):(\d+): expected (?:one of )?(.*)", re.DOTALL)
# An item of the engine's list of expected tokens: a quoted token, a bracketed character class or a word.
_EXPECTED_ITEM = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\']|\'(?:[^\'\\]|\\.)*\')*\]|[^,\s]+')
_CHARACTER_CLASSES = ((re.compile(r"'0'\s*\.\.=\s*'9'"), "a digit"),
                      (re.compile(r"'[Aa]'\s*\.\.=\s*'[Zz]'"), "a letter"))


def syntax_error_message(engine_message: str, text: str) -> str:
    """A SPARQL syntax error as a person reads it: where (line, column, the text there) and what was
    expected, in words. Oxigraph lists every expected token, character classes included."""
    match = _ENGINE_ERROR.match(" ".join(engine_message.split()))
    if not match:
        return f"SPARQL syntax error: {one_line(engine_message)}"
    line, column = int(match.group(1)), int(match.group(2))
    lines = text.splitlines() or [""]
    source = lines[line - 1] if 0 < line <= len(lines) else ""
    at = source[max(column - 1, 0):].strip()
    where = f"SPARQL syntax error at line {line}, column {column}"
    near = f" (near «{at[:40]}{'…' if len(at) > 40 else ''}»)" if at else " (at the end)"
    expected = _expected_in_words(match.group(3))
    if "Prefix not found" in match.group(3):
        prefix = re.match(r"[^\s:{}()<>\"']*:", source[max(column - 1, 0):] or "")
        name = prefix.group() if prefix else _prefix_before(source, column)
        return (f"{where}: the prefix {name!r} is not declared; add PREFIX {name} <…> to the query "
                f"(the default prefixes are {', '.join(p + ':' for p in PREFIXES)})")
    return f"{where}{near}: expected {expected}"


def _prefix_before(source: str, column: int) -> str:
    """The prefix of the prefixed name that ends at ``column`` (the engine points after it)."""
    found = re.search(r"([A-Za-z_][\w.-]*)?:[\w.-]*$", source[:max(column - 1, 0)].rstrip())
    return (found.group(1) or "") + ":" if found else ":"


def _expected_in_words(listing: str) -> str:
    words = []
    for item in _EXPECTED_ITEM.findall(listing):
        if item in ("Prefix", "not", "found", "[_]"):  # "Prefix not found" is said apart; [_] is any character
            continue
        if item.startswith("["):
            described = [word for pattern, word in _CHARACTER_CLASSES if pattern.search(item)]
            words.extend(described or [f"'{char}'" for char in re.findall(r"'((?:[^'\\]|\\.)+)'", item)])
        elif item.startswith('"'):
            words.append("«" + item[1:-1].replace('\\"', '"').replace("\\\\", "\\") + "»")
        else:
            words.append(item)
    words = list(dict.fromkeys(words))
    if not words:
        return "a term, a variable or a keyword"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def compact(term) -> str:
    """A readable form of a term for tables: prefixed names, plain literals."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, namespace in PREFIXES.items():
            if term.value.startswith(namespace) and "/" not in term.value[len(namespace):]:
                return f"{prefix}:{term.value[len(namespace):]}"
        return f"<{term.value}>"
    if isinstance(term, ox.Literal):
        return term.value + (f"@{term.language}" if term.language else "")
    return str(term)


def render(result, output_format: str) -> bytes:
    """Serialize a query result as the CLI's ``--format`` asks."""
    if isinstance(result, ox.QueryTriples):
        if output_format != "turtle":
            raise UserError(f"a CONSTRUCT or DESCRIBE result is written as turtle, not {output_format}")
        return ox.serialize(result, format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)
    if output_format == "turtle":
        raise UserError("--format turtle is for CONSTRUCT and DESCRIBE queries")
    if output_format in RESULT_FORMATS:
        return result.serialize(format=RESULT_FORMATS[output_format])
    if isinstance(result, ox.QueryBoolean):
        return (b"true\n" if bool(result) else b"false\n")
    return _table(result).encode()


def _table(solutions: ox.QuerySolutions) -> str:
    names = [v.value for v in solutions.variables]
    rows = [[compact(solution[name]) for name in names] for solution in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    line = "  ".join
    out = [line(n.ljust(w) for n, w in zip(names, widths)), line("-" * w for w in widths)]
    out += [line(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
