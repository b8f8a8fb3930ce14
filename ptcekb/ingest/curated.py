"""Shared machinery of the curated YAML files (``data/ptce/*.yaml``, ``data/calls.yaml``).

Every fact is a *statement*: a value with the keys of its sources, optionally a confidence, a date
and a note (format in ``docs/curated-data.md``). Each statement becomes its triple plus an
``rdf:Statement`` that reifies it and carries ``dcterms:source``, ``ptce:confidence``,
``dcterms:date`` and ``skos:note``; the reifying node is a hash IRI of the described resource, named
after the triple itself so it does not change when statements are reordered.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import yaml

from ..errors import UserError
from ..namespaces import DCTERMS, FOAF, PTCE, RDF, SKOS, XSD, Namespaces
from ..rdf import TYPE, iri, text, triple, typed

CONFIDENCE = {"high": "haute", "medium": "moyenne", "low": "basse"}
_DATE_TYPES = ((re.compile(r"^\d{4}$"), XSD.gYear), (re.compile(r"^\d{4}-\d{2}$"), XSD.gYearMonth),
               (re.compile(r"^\d{4}-\d{2}-\d{2}$"), XSD.date))


def read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as stream:
            data = yaml.safe_load(stream)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise UserError(f"{path}:{mark.line + 1}:{mark.column + 1}: {exc.problem}", exit_code=2) from None
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}", exit_code=2) from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping at the top level", exit_code=2)
    return data


def _digest(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def date_literal(value) -> ox.Literal:
    """A year, year-month or date, typed by its form (xsd:gYear, xsd:gYearMonth, xsd:date)."""
    value = str(value)
    for pattern, datatype in _DATE_TYPES:
        if pattern.match(value):
            return typed(value, datatype)
    raise ValueError(f"not a date (YYYY, YYYY-MM or YYYY-MM-DD): {value!r}")


def web_iri(value) -> ox.NamedNode:
    value = str(value).strip()
    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
        raise ValueError(f"not an http(s) address: {value!r}")
    return iri(value)


def number_literal(value) -> ox.Literal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"not a number: {value!r}")
    return typed(value, XSD.integer) if isinstance(value, int) else typed(value, XSD.decimal)


@dataclass
class StatementWriter:
    """Writes triples with their reification, for one YAML file."""

    ns: Namespaces
    path: Path
    sources: dict[str, ox.NamedNode]

    @classmethod
    def for_file(cls, ns: Namespaces, path: Path, data: dict) -> tuple["StatementWriter", list[ox.Triple]]:
        """The writer, and the triples describing the file's sources as documents."""
        sources, described = {}, []
        for key, source in (data.get("sources") or {}).items():
            url = source.get("url") if isinstance(source, dict) else source
            if not url:
                raise UserError(f"{path}: source {key!r} has no url", exit_code=2)
            node = iri(url) if re.match(r"^https?://", url) else iri(ns.id("document", Path(url).stem))
            sources[key] = node
            described.append(triple(node, TYPE, iri(FOAF.Document)))
            if isinstance(source, dict) and source.get("title"):
                described.append(triple(node, DCTERMS.title, text(source["title"])))
        return cls(ns, path, sources), described

    def source_nodes(self, statement: dict, where: str) -> list[ox.NamedNode]:
        keys = statement.get("sources") or []
        if not keys:
            raise UserError(f"{self.path}: {where}: a statement without sources", exit_code=2)
        missing = [k for k in keys if k not in self.sources]
        if missing:
            raise UserError(f"{self.path}: {where}: unknown source key(s) {', '.join(missing)}", exit_code=2)
        return [self.sources[k] for k in keys]

    def state(self, subject: ox.NamedNode, predicate, obj, statement: dict, where: str) -> Iterator[ox.Triple]:
        """The triple and its reification with the statement's sources, confidence, date and note."""
        fact = triple(subject, predicate, obj)
        yield fact
        node = self.statement_node(subject, predicate, obj)
        yield triple(node, TYPE, iri(RDF.Statement))
        yield triple(node, RDF.subject, subject)
        yield triple(node, RDF.predicate, fact.predicate)
        yield triple(node, RDF.object, obj)
        yield from self.annotate(node, statement, where)

    @staticmethod
    def statement_node(subject: ox.NamedNode, predicate, obj) -> ox.NamedNode:
        return iri(f"{subject.value.split('#')[0]}#statement-{_digest(str(subject), str(iri(predicate)), str(obj))}")

    def annotate(self, node: ox.NamedNode, statement: dict, where: str) -> Iterator[ox.Triple]:
        """Sources, confidence, date and note of a statement, on its reifying node."""
        for source in self.source_nodes(statement, where):
            yield triple(node, DCTERMS.source, source)
        if statement.get("confidence"):
            level = CONFIDENCE.get(str(statement["confidence"]).lower())
            if level is None:
                raise UserError(f"{self.path}: {where}: confidence must be high, medium or low", exit_code=2)
            yield triple(node, PTCE.confidence, iri(self.ns.concept("confiance", level)))
        if statement.get("date") is not None:
            yield triple(node, DCTERMS.date, self.checked(date_literal, statement["date"], where))
        notes = [str(statement[k]) for k in ("what", "note") if statement.get(k)]
        if notes:
            yield triple(node, SKOS.note, text(" — ".join(notes)))

    def value(self, subject: ox.NamedNode, predicate, convert, statement: dict, where: str) -> Iterator[ox.Triple]:
        """A statement of one value, or of bounds only (``min``/``max``: "at least 70 members").

        Bounds are not asserted as a triple: the reifying node carries ``ptce:minimumValue`` and
        ``ptce:maximumValue`` for the predicate, with the statement's sources.
        """
        if "value" in statement:
            obj = self.checked(convert, statement["value"], where)
            yield from self.state(subject, predicate, obj, statement, where)
            if statement.get("approximate"):
                yield triple(self.statement_node(subject, predicate, obj), PTCE.approximate, typed(True, XSD.boolean))
            return
        if "min" not in statement and "max" not in statement:
            raise UserError(f"{self.path}: {where}: a statement needs a value (or min/max)", exit_code=2)
        bounds = {k: self.checked(convert, statement[k], where) for k in ("min", "max") if k in statement}
        node = iri(f"{subject.value.split('#')[0]}#statement-{_digest(str(subject), str(iri(predicate)), *map(str, bounds.values()))}")
        yield triple(node, TYPE, iri(RDF.Statement))
        yield triple(node, RDF.subject, subject)
        yield triple(node, RDF.predicate, iri(predicate))
        for key, literal in bounds.items():
            yield triple(node, PTCE.minimumValue if key == "min" else PTCE.maximumValue, literal)
        yield from self.annotate(node, statement, where)

    def checked(self, convert, value, where: str):
        try:
            return convert(value)
        except ValueError as exc:
            raise UserError(f"{self.path}: {where}: {exc}", exit_code=2) from None

    def conflict_note(self, subject: ox.NamedNode, field: str, values: list[str]) -> Iterator[ox.Triple]:
        """Sources disagree: every value stays published, and a note says so."""
        listed = " ; ".join(values)
        yield triple(subject, PTCE.conflictNote, text(f"Les sources divergent ({field}) : {listed}", "fr"))
        yield triple(subject, PTCE.conflictNote, text(f"Sources disagree ({field}): {listed}", "en"))
