"""``using-graph-uri`` and ``using-named-graph-uri`` on ``/update``, by rewriting the update's text.

SPARQL 1.1 Protocol §2.2.3: these parameters give the RDF dataset of every operation of the request
that has a WHERE clause, as ``USING <g>`` and ``USING NAMED <g>`` would; a request that has both
the parameters and a ``USING``, ``USING NAMED`` or ``WITH`` clause is an error (400). pyoxigraph's
``Store.update`` takes no dataset, so the clauses are written into the text: ``USING <g> …``
before the ``WHERE`` of each ``DELETE``/``INSERT … WHERE`` (the grammar's ``Modify``), and the
``DELETE WHERE { P }`` shorthand, which has no place for ``USING`` in the grammar, becomes its
long form ``DELETE { P } USING … WHERE { P }`` (the same operation by definition, SPARQL 1.1
Update §3.1.3.3). Operations without a WHERE clause (``INSERT DATA``, ``DELETE DATA``, ``LOAD``,
``CLEAR``, graph management) are left as they are, as the protocol says.

The text is read with the endpoint's tokenizer (sparql_text.py: strings, IRIs and comments are
whole tokens, keywords are recognised the way the engine's parser does, glued to what follows), and
only at the top level (outside braces): a ``WHERE`` inside a group is a sub-query's. It is one
linear pass, so it runs in the server, before the update is analysed (the analysis and the
egress checks see exactly the text the worker will run) and queued to the update worker: the
worker then applies a plain text, as for any other update.

Where the engine would read a spelling this pass cannot place (a top-level word holding ``WHERE``
that is neither ``WHERE`` nor ``DELETEWHERE``), the update is refused (400) rather than run
against the wrong dataset.
"""

from __future__ import annotations

import re

from ..sparql_text import _tokens  # the endpoint's one tokenizer (private to the package, shared on purpose)

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^<>\"{}|^`\\\x00-\x20]*$")


class DatasetError(ValueError):
    """The protocol dataset cannot be applied to this update (400, or 413 past the size limit)."""

    def __init__(self, message: str, http_status: int = 400):
        super().__init__(message)
        self.http_status = http_status


def check_graph_iri(iri: str) -> str:
    """An absolute IRI, safe to write between ``<`` and ``>`` (no character that ends or escapes it)."""
    if not _IRI.match(iri):
        raise DatasetError(f"graph IRI {iri!r} is not an absolute IRI / IRI de graphe invalide")
    return iri


def clauses(default_graphs: list[str], named_graphs: list[str]) -> str:
    return "".join(f"USING <{check_graph_iri(g)}> " for g in default_graphs) + \
        "".join(f"USING NAMED <{check_graph_iri(g)}> " for g in named_graphs)


def apply_dataset(text: str, default_graphs: list[str], named_graphs: list[str], limit: int | None = None) -> str:
    """``text`` with the protocol dataset written as ``USING``/``USING NAMED`` into each operation that
    has a WHERE clause; unchanged when no graph is given. Raises DatasetError (400) on a conflict,
    and (413) when the rewritten text would pass ``limit`` characters: the clauses are repeated in
    every operation, so many operations times many graphs must not grow without bound."""
    if not default_graphs and not named_graphs:
        return text
    using = clauses(default_graphs, named_graphs)
    size = len(text)

    def grow(added: int) -> None:
        nonlocal size
        size += added
        if limit is not None and size > limit:
            raise DatasetError(f"413: with the using-graph-uri / using-named-graph-uri clauses written into each "
                               f"operation, the update would pass {limit} characters / mise à jour trop grande une "
                               "fois les clauses USING ajoutées à chaque opération", 413)

    pieces: list[str] = []
    copied = 0  # text[:copied] is in pieces
    depth = 0
    previous: tuple[str, str] | None = None  # the previous top-level token (kind, upper-cased value)
    shorthand: dict | None = None  # a DELETE WHERE being rewritten: where its WHERE starts, its pattern's start
    for kind, value, start, end in _tokens(text):
        if kind == "other" and value == "{":
            if depth == 0 and shorthand is not None and shorthand.get("open") is None:
                shorthand["open"] = start
            depth += 1
            continue
        if kind == "other" and value == "}":
            depth -= 1
            if depth == 0 and shorthand is not None and shorthand.get("open") is not None:
                pattern = text[shorthand["open"]:end]
                grow(len(pattern) + len(using) + len(" WHERE ") + shorthand["open"] - shorthand["where"])
                pieces.append(text[copied:shorthand["where"]])
                pieces.append(f"{pattern} {using}WHERE {pattern}")
                copied = end
                shorthand = None
            previous = ("other", "}") if depth == 0 else previous
            continue
        if depth > 0:
            continue
        upper = value.upper()
        if kind == "word" and (upper.startswith("WITH") or upper.startswith("USING")) or \
                kind == "pname" and _clause_glued(upper, previous):
            raise DatasetError(
                "400: using-graph-uri / using-named-graph-uri cannot be combined with USING, USING NAMED or WITH in "
                "the update (SPARQL 1.1 Protocol §2.2.3) / les paramètres using-graph-uri et using-named-graph-uri "
                "ne peuvent pas être combinés avec USING ou WITH dans la mise à jour")
        if kind == "word" and "WHERE" in upper:
            if upper == "WHERE" and previous == ("word", "DELETE"):
                shorthand = {"where": start}  # DELETE WHERE { P }: rewritten when P closes
            elif upper == "WHERE":
                grow(len(using))
                pieces.append(text[copied:start])
                pieces.append(using)
                copied = start
            elif upper == "DELETEWHERE":  # the engine reads the two keywords glued
                shorthand = {"where": start + len("DELETE")}
            else:
                raise DatasetError(f"400: cannot place the protocol dataset in this update near {value!r}: write the "
                                   "keywords apart / impossible d'appliquer using-graph-uri à cette mise à jour "
                                   f"près de {value!r} : séparer les mots-clés")
        if kind == "badstring":
            break  # the engine refuses the text: nothing to rewrite
        previous = (kind, upper)
    pieces.append(text[copied:])
    return "".join(pieces)


def _clause_glued(upper: str, previous: tuple[str, str] | None) -> bool:
    """A prefixed name the engine reads as ``WITH``/``USING`` glued to a name (``WITHex:g``): at the
    start of an operation for WITH, after a template or another USING target for USING (no other
    rule of the grammar puts a prefixed name there)."""
    if upper.startswith("WITH"):
        return previous is None or previous[1] == ";" or previous[0] == "iri"
    if upper.startswith("USING"):
        return previous is not None and (previous[1] == "}" or previous[0] in ("iri", "pname"))
    return False
