"""Running SPARQL on the store and writing results for the command line."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from .errors import UserError
from .messages import syntax_error_message
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


def readable_term(term) -> str:
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
    rows = [[readable_term(solution[name]) for name in names] for solution in solutions]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    line = "  ".join
    out = [line(n.ljust(w) for n, w in zip(names, widths)), line("-" * w for w in widths)]
    out += [line(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(out) + "\n"
