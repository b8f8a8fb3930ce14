"""Shared machinery of the curated YAML files (``data/ptce/*.yaml``, ``data/calls.yaml``).

Every fact is a *statement*: a value with the keys of its sources, optionally a confidence, a date
and a note (format in ``docs/curated-data.md``). Provenance follows one convention
(``docs/data-model.md`` §7), which every triple of the curated graphs obeys:

- a triple ``s p o`` stated by a statement has a *statement node* ``?st rdf:subject s ; rdf:predicate
  p ; rdf:object o`` (the RDF reification vocabulary, without the redundant ``a rdf:Statement``) with
  ``prov:wasDerivedFrom`` its sources, ``ptce:confidence``, ``dcterms:date`` and ``skos:note``; the node
  is a hash IRI of the subject, named after the triple and the statement's sources, so that two
  statements of one triple stay two nodes and reordering changes nothing;
- a node that one statement describes on its own (a selection, a membership, a project territory, a
  carrier, a dated value) carries ``prov:wasDerivedFrom`` itself: its triples that no statement node
  describes are derived from those sources (``complete`` adds it to every such node);
- a property whose sources give several values, dated or not (member counts, FTEs, dates of a
  call...), is a set of *dated values* (``ptce:ValeurDatee``, Wikidata's qualified statements): one per
  statement, with its value or bounds, date (its precision is its datatype), sources and confidence;
  the preferred one is also asserted as the direct triple (Wikidata's "truthy" triple), its node
  being that triple's statement node (``ptce:preferred true``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import yaml

from ..errors import UserError
from ..namespaces import DCTERMS, FOAF, PROV, PTCE, RDF, SKOS, XSD, Namespaces
from ..rdf import TYPE, iri, text, triple, typed

CONFIDENCE = {"high": "haute", "medium": "moyenne", "low": "basse"}
# How a preferred value is chosen among sources of equal standing: a statement without a confidence
# is not a weak one (docs/curated-data.md), so it ranks between high and medium.
_CONFIDENCE_RANK = {"high": 3, None: 2, "medium": 1, "low": 0}
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


def same_date(a: str, b: str) -> bool:
    """Two forms of one date: equal, or one given at a coarser precision ("2013" and "2013-07")."""
    return a.startswith(b) or b.startswith(a)


def _agree(a: str, b: str) -> bool:
    dated = all(any(pattern.match(v) for pattern, _ in _DATE_TYPES) for v in (a, b))
    return same_date(a, b) if dated else a == b


@dataclass
class Entry:
    """One statement of a dated value: its value or its bounds."""

    statement: dict
    where: str
    value: ox.Term | None
    bounds: dict[str, ox.Literal]
    index: int

    @property
    def rank(self) -> int:
        return _CONFIDENCE_RANK.get(str(self.statement.get("confidence") or "").lower() or None, 0)


@dataclass
class StatementWriter:
    """Writes the triples of one YAML file with their provenance (see the module's docstring)."""

    ns: Namespaces
    path: Path
    sources: dict[str, ox.NamedNode]
    written: set = field(default_factory=set)  # triples written with their provenance, or provenance
    derived: set = field(default_factory=set)  # (node, source) of the node-level provenance written
    facts: dict = field(default_factory=dict)  # (subject, predicate) -> objects, of what complete() saw
    current: tuple | None = None  # (statement, where) being written: the sources of the plain triples

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
        writer = cls(ns, path, sources)
        writer.written.update(described)  # the sources themselves: described, not stated
        return writer, described

    def source_nodes(self, statement: dict, where: str) -> list[ox.NamedNode]:
        keys = statement.get("sources") or []
        if not keys:
            raise UserError(f"{self.path}: {where}: a statement without sources", exit_code=2)
        missing = [k for k in keys if k not in self.sources]
        if missing:
            raise UserError(f"{self.path}: {where}: unknown source key(s) {', '.join(missing)}", exit_code=2)
        return [self.sources[k] for k in keys]

    def _own(self, *triples: ox.Triple) -> Iterator[ox.Triple]:
        for t in triples:
            self.written.add(t)
            yield t

    def summary(self, subject: ox.NamedNode) -> Iterator[ox.Triple]:
        """``dcterms:source``: every source of the file, on the resource the file describes."""
        for source in self.sources.values():
            yield from self._own(triple(subject, DCTERMS.source, source))

    def state(self, subject: ox.NamedNode, predicate, obj, statement: dict, where: str) -> Iterator[ox.Triple]:
        """The triple and its statement node with the statement's sources, confidence, date and note."""
        self.current = (statement, where)
        fact = triple(subject, predicate, obj)
        node = self.statement_node(subject, fact.predicate, obj, statement)
        yield from self._own(fact, triple(node, RDF.subject, subject), triple(node, RDF.predicate, fact.predicate),
                             triple(node, RDF.object, obj))
        yield from self.annotate(node, statement, where)

    def cite(self, subject: ox.NamedNode, predicate, obj, sources: list[ox.NamedNode], note: str) -> Iterator[ox.Triple]:
        """A triple stated by another curated file (the date of a call's results): its own sources."""
        fact = triple(subject, predicate, obj)
        node = iri(f"{subject.value.split('#')[0]}#statement-"
                   f"{_digest(str(subject), str(fact.predicate), str(obj), *sorted(map(str, sources)))}")
        yield from self._own(fact, triple(node, RDF.subject, subject), triple(node, RDF.predicate, fact.predicate),
                             triple(node, RDF.object, obj), *(triple(node, PROV.wasDerivedFrom, s) for s in sources),
                             triple(node, SKOS.note, text(note)))

    @staticmethod
    def statement_node(subject: ox.NamedNode, predicate, obj, statement: dict) -> ox.NamedNode:
        keys = ",".join(sorted(statement.get("sources") or []))
        return iri(f"{subject.value.split('#')[0]}#statement-"
                   f"{_digest(str(subject), str(predicate if isinstance(predicate, ox.NamedNode) else iri(predicate)), str(obj), keys, str(statement.get('date') or ''))}")

    def describe(self, node: ox.NamedNode, statement: dict, where: str) -> Iterator[ox.Triple]:
        """A node that stands for one statement (a selection...): the statement's provenance on it."""
        self.current = (statement, where)
        for source in self.source_nodes(statement, where):
            self.derived.add((node, source))
        yield from self.annotate(node, statement, where)

    def stands_for(self, node: ox.NamedNode, subject: ox.NamedNode, predicate, obj) -> Iterator[ox.Triple]:
        """The triple, and ``node`` (which carries its statement's sources) as its statement node."""
        fact = triple(subject, predicate, obj)
        yield from self._own(fact, triple(node, RDF.subject, subject), triple(node, RDF.predicate, fact.predicate),
                             triple(node, RDF.object, obj))

    def annotate(self, node: ox.NamedNode, statement: dict, where: str) -> Iterator[ox.Triple]:
        """Sources, confidence, date and note of a statement, on the node standing for it."""
        for source in self.source_nodes(statement, where):
            yield from self._own(triple(node, PROV.wasDerivedFrom, source))
        if statement.get("confidence"):
            level = CONFIDENCE.get(str(statement["confidence"]).lower())
            if level is None:
                raise UserError(f"{self.path}: {where}: confidence must be high, medium or low", exit_code=2)
            yield from self._own(triple(node, PTCE.confidence, iri(self.ns.concept("confiance", level))))
        if statement.get("date") is not None:
            yield from self._own(triple(node, DCTERMS.date, self.checked(date_literal, statement["date"], where)))
        notes = [str(statement[k]) for k in ("what", "note") if statement.get(k)]
        if notes:
            yield from self._own(triple(node, SKOS.note, text(" — ".join(notes))))

    def complete(self, triples: Iterator[ox.Triple]) -> Iterator[ox.Triple]:
        """Every triple, and the node-level provenance of those that no statement node describes.

        A triple written without a statement (the type of a carrier, the name of a project territory)
        is derived from the statement being written when it comes: its subject gets
        ``prov:wasDerivedFrom`` that statement's sources."""
        for t in triples:
            yield t
            self.facts.setdefault((t.subject, t.predicate), []).append(t.object)
            if t in self.written:
                continue
            if self.current is None:
                raise UserError(f"{self.path}: a fact written before any statement: {t}", exit_code=2)
            statement, where = self.current
            for source in self.source_nodes(statement, where):
                if (t.subject, source) not in self.derived:
                    self.derived.add((t.subject, source))
                    yield from self._own(triple(t.subject, PROV.wasDerivedFrom, source))

    def value(self, subject: ox.NamedNode, predicate, convert, statement: dict, where: str) -> Iterator[ox.Triple]:
        """A statement of one value (a triple), or of bounds only: a dated value, no triple asserted."""
        if "value" in statement:
            obj = self.checked(convert, statement["value"], where)
            yield from self.state(subject, predicate, obj, statement, where)
            if statement.get("approximate"):
                yield from self._own(triple(self.statement_node(subject, predicate, obj, statement), PTCE.approximate,
                                            typed(True, XSD.boolean)))
            return
        yield from self.values(subject, predicate, convert, [(statement, where)], str(iri(predicate).value))

    def values(self, subject: ox.NamedNode, predicate, convert, statements: list[tuple[dict, str]], label: str,
               prefer: str = "best", group=lambda statement: None, preferable: int | None = None) -> Iterator[ox.Triple]:
        """The values the sources give for one property of ``subject``, as dated values.

        One ``ptce:ValeurDatee`` per statement (value or ``min``/``max`` bounds, ``approximate``, date,
        sources, confidence, note); the preferred value is also asserted as the direct triple, on
        which its node is the statement node. ``prefer``: ``latest`` (the value of the most recent
        date, for counts), ``earliest`` (the earliest date given as value, for a beginning), ``best``;
        ties go to the higher confidence, then the more precise date, an exact value, the file's order.
        Only the first ``preferable`` statements may be preferred (the others are kept, never preferred).
        Values conflict only within one date (and one ``group``, e.g. what was created) and when they
        differ other than by precision: then a ``ptce:conflictNote``, with the sources of those values.
        """
        predicate = iri(predicate)
        entries = []
        for index, (statement, where) in enumerate(statements):
            self.current = (statement, where)
            if "value" in statement:
                entries.append(Entry(statement, where, self.checked(convert, statement["value"], where), {}, index))
            elif "min" in statement or "max" in statement:
                bounds = {k: self.checked(convert, statement[k], where) for k in ("min", "max") if k in statement}
                entries.append(Entry(statement, where, None, bounds, index))
            else:
                raise UserError(f"{self.path}: {where}: a statement needs a value (or min/max)", exit_code=2)
        candidates = entries if preferable is None else entries[:preferable]
        preferred = self._preferred([e for e in candidates if e.value is not None], prefer)
        for entry in entries:
            self.current = (entry.statement, entry.where)
            shown = str(entry.value) if entry.value is not None else "|".join(f"{k}={v}" for k, v in entry.bounds.items())
            node = iri(f"{subject.value.split('#')[0]}#valeur-{_digest(str(subject), str(predicate), shown, str(entry.index))}")
            yield from self._own(triple(node, TYPE, iri(PTCE.ValeurDatee)), triple(node, PTCE.valueOf, subject),
                                 triple(node, PTCE.property, predicate))
            if entry.value is not None:
                yield from self._own(triple(node, RDF.value, entry.value))
            for key, literal in entry.bounds.items():
                yield from self._own(triple(node, PTCE.minimumValue if key == "min" else PTCE.maximumValue, literal))
            if entry.statement.get("approximate"):
                yield from self._own(triple(node, PTCE.approximate, typed(True, XSD.boolean)))
            if entry is preferred:
                yield from self._own(triple(subject, predicate, entry.value), triple(node, RDF.subject, subject),
                                     triple(node, RDF.predicate, predicate), triple(node, RDF.object, entry.value),
                                     triple(node, PTCE.preferred, typed(True, XSD.boolean)))
            yield from self.annotate(node, entry.statement, entry.where)
        yield from self._conflicts(subject, label, [e for e in entries if e.value is not None], group)

    @staticmethod
    def _preferred(entries: list[Entry], prefer: str) -> Entry | None:
        if not entries:
            return None
        if prefer == "earliest":
            first = min(str(e.value.value) for e in entries)
            entries = [e for e in entries if same_date(str(e.value.value), first)]
        def key(e: Entry):
            date = str(e.statement.get("date") or "") if prefer == "latest" else ""
            value = str(e.value.value)
            precision = len(value) if any(pattern.match(value) for pattern, _ in _DATE_TYPES) else 0
            return (date, e.rank, precision, not e.statement.get("approximate"), -e.index)
        return max(entries, key=key)

    def _conflicts(self, subject, label: str, entries: list[Entry], group) -> Iterator[ox.Triple]:
        groups: dict = {}
        for entry in entries:
            groups.setdefault((str(entry.statement.get("date") or ""), group(entry.statement)), []).append(entry)
        for (date, _), members in sorted(groups.items(), key=lambda item: (item[0][0], str(item[0][1]))):
            values = sorted({str(e.value.value) for e in members})
            if all(_agree(a, b) for a in values for b in values):
                continue
            keys = sorted({k for e in members for k in e.statement["sources"]})
            field_ = f"{label}, {date}" if date else label
            yield from self.conflict_note(subject, field_, values, keys)

    def checked(self, convert, value, where: str):
        try:
            return convert(value)
        except ValueError as exc:
            raise UserError(f"{self.path}: {where}: {exc}", exit_code=2) from None

    def conflict_note(self, subject: ox.NamedNode, field_: str, values: list[str], keys: list[str]) -> Iterator[ox.Triple]:
        """Sources disagree: every value stays published, and a note says so (sourced by them all)."""
        listed = " ; ".join(values)
        statement = {"sources": keys}
        yield from self.state(subject, PTCE.conflictNote, text(f"Les sources divergent ({field_}) : {listed}", "fr"),
                              statement, f"conflict note ({field_})")
        yield from self.state(subject, PTCE.conflictNote, text(f"Sources disagree ({field_}): {listed}", "en"),
                              statement, f"conflict note ({field_})")
