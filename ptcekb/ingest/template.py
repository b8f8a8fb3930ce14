"""The publisher template: CSV files a PTCE fills to describe itself -> RDF following the ontology.

A template is a directory with ``ptce.csv`` (required) and, optionally, ``membres.csv``,
``projets.csv``, ``lieux.csv`` and ``ressources.csv``: UTF-8 (a BOM is accepted), comma-separated,
a header row of the column names of :data:`COLUMNS` (documented in ``docs/publisher-template.md``).

Every row is checked on its own (identifiers, code lists of ``ontology/vocabularies``, COG 2026
codes, dates, numbers, URLs, references to ``ptce.csv``). A row with a problem is rejected as a
whole and reported with its file, physical line (header = line 1) and the reasons; every other row
is kept: a row never depends on another row being valid (a reference to a PTCE only needs its id to
appear in ``ptce.csv``). Broken CSV quoting is reported at the line where the broken record starts
and reading resumes on the next line.

:func:`read_template` returns ``(triples, rejects)`` for the CLI (``ptcekb ingest template``) and the
validator.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from ..config import SOURCES_ROOT
from ..errors import UserError
from ..identifiers import compact, siren_problem, siret_problem
from ..namespaces import (CONCEPT, DCTERMS, GEO, LOCN, ORG, OWL, PROV, PTCE, RDFS, ROV, SKOS, TIME, XSD,
                          Namespaces, slugify)
from ..rdf import TYPE, iri, text, triple, typed
from .rdf_files import parse_file
from .cog import SNAPSHOT as COG_SNAPSHOT
from .cog import load_snapshot
from .registry import establishment as _establishment
from .registry import registered as _registered

LANG = "fr"  # free-text columns are French

# Columns of each file, in the documented order; REQUIRED ones must be present and non-empty.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ptce.csv": (
        "id", "nom", "autres_noms", "description", "site_web", "date_creation", "date_fin",
        "siren_porteur", "nom_porteur",
        "territoire_communes", "territoire_epci", "territoire_departements", "territoire_regions",
        "territoire_description",
        "strategie", "modes_cooperation", "niveaux_cooperation", "charte",
        "utilite_sociale", "developpement_local",
        "impulsion", "perimetre", "secteurs", "fonctions_transverses", "configuration_gouvernance",
        "etp_animation", "nombre_membres", "etp_total", "source",
    ),
    "membres.csv": (
        "ptce", "nom", "siren", "siret", "type_acteur", "categorie_juridique", "ess", "role",
        "debut", "fin", "commune", "site_web", "source",
    ),
    "projets.csv": (
        "ptce", "id", "nom", "description", "innovation", "developpement_local", "debut", "fin",
        "participants", "source",
    ),
    "lieux.csv": (
        "ptce", "id", "nom", "type", "adresse", "code_postal", "commune", "latitude", "longitude", "source",
    ),
    "ressources.csv": (
        "ptce", "type", "financeur", "financeur_siren", "montant", "part", "annee", "source",
    ),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "ptce.csv": ("id", "nom"),
    "membres.csv": ("ptce", "nom", "type_acteur"),
    "projets.csv": ("ptce", "id", "nom"),
    "lieux.csv": ("ptce", "id", "nom"),
    "ressources.csv": ("ptce", "type"),
}
MAIN_FILE = "ptce.csv"
VOCABULARIES = Path("ontology/vocabularies")
ONTOLOGY = Path("ontology/ptce.ttl")

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_YES = {"oui", "o", "yes", "y", "true", "vrai", "1"}
_NO = {"non", "n", "no", "false", "faux", "0"}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reject:
    """A rejected row (or header): file name, physical line (header = 1), reasons."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class TemplateResult:
    triples: list[ox.Triple]
    rejects: list[Reject]
    kept: dict[str, int] = field(default_factory=dict)  # rows kept per file


# --------------------------------------------------------------------------------------------
# Reference data: code lists, actor classes, COG
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    codes: dict[str, dict[str, str]]       # scheme -> code -> concept IRI (as declared)
    actor_class: dict[str, str]            # types-acteurs code -> OWL class IRI
    superclasses: dict[str, frozenset]     # class -> itself and its declared superclasses
    disjoint: frozenset                    # frozenset({a, b}) pairs declared owl:disjointWith
    communes: frozenset
    not_current: dict[str, str]            # code of a commune déléguée/associée... -> current commune
    epci: frozenset
    ept: frozenset
    departements: frozenset
    regions: frozenset

    def concept(self, scheme: str, code: str) -> str | None:
        concepts = self.codes.get(scheme, {})
        return concepts.get(code) or concepts.get(code.lower())


@lru_cache(maxsize=4)
def load_reference(root: Path = SOURCES_ROOT) -> Reference:
    """Parse the code lists and the ontology once, and index the COG 2026 snapshot."""
    codes: dict[str, dict[str, str]] = defaultdict(dict)
    actor_class: dict[str, str] = {}
    concept_base = str(CONCEPT)
    vocab_files = sorted((root / VOCABULARIES).glob("*.ttl"))
    if not vocab_files:
        raise UserError(f"no code list in {root / VOCABULARIES}", exit_code=2)
    classes: dict[str, str] = {}
    for path in vocab_files:
        try:
            parsed = [q.triple for q in parse_file(path)]  # checked (syntax_limits), then parsed
        except (OSError, SyntaxError, ValueError) as exc:
            raise UserError(f"cannot read the code list {path}: {exc}", exit_code=2) from None
        for t in parsed:
            if t.predicate.value == str(SKOS.inScheme) and isinstance(t.object, ox.NamedNode):
                scheme, concept = t.object.value, t.subject.value
                if scheme.startswith(concept_base) and concept.startswith(scheme + "/"):
                    codes[scheme[len(concept_base):]][concept[len(scheme) + 1:]] = concept
            elif t.predicate.value == str(PTCE.actorClass):
                classes[t.subject.value] = t.object.value
    for code, concept in codes.get("types-acteurs", {}).items():
        if concept in classes:
            actor_class[code] = classes[concept]

    parents: dict[str, set] = defaultdict(set)
    disjoint = set()
    try:
        ontology = [q.triple for q in parse_file(root / ONTOLOGY)]
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"cannot read the ontology {root / ONTOLOGY}: {exc}", exit_code=2) from None
    for t in ontology:
        if t.predicate.value == str(RDFS.subClassOf) and isinstance(t.object, ox.NamedNode):
            parents[t.subject.value].add(t.object.value)
        elif t.predicate.value == str(OWL.disjointWith):
            disjoint.add(frozenset((t.subject.value, t.object.value)))
    superclasses = {}
    for cls in set(parents) | set(actor_class.values()):
        seen, todo = {cls}, [cls]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        superclasses[cls] = frozenset(seen)

    snapshot = load_snapshot(root / COG_SNAPSHOT)
    communes = frozenset(c["code"] for c in snapshot["communes"] if c["type"] == "commune-actuelle")
    not_current = {c["code"]: c.get("chefLieu") or c.get("commune") or "" for c in snapshot["communes"]
                   if c["type"] != "commune-actuelle" and c["code"] not in communes}
    return Reference(
        codes={k: dict(v) for k, v in codes.items()}, actor_class=actor_class, superclasses=superclasses,
        disjoint=frozenset(disjoint), communes=communes, not_current=not_current,
        epci=frozenset(e["code"] for e in snapshot["epci"]), ept=frozenset(e["code"] for e in snapshot["ept"]),
        departements=frozenset(d["code"] for d in snapshot["departements"]),
        regions=frozenset(r["code"] for r in snapshot["regions"]),
    )


# --------------------------------------------------------------------------------------------
# CSV reading (physical line numbers, broken quoting reported and skipped)
# --------------------------------------------------------------------------------------------

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


class _LineFeed:
    """Physical lines handed to csv.reader one at a time, so that we know where each record starts."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


@dataclass
class _Record:
    line: int                   # physical line where the record starts (1-based)
    fields: list[str] | None    # None when the record could not be parsed
    error: str | None = None
    lines: int = 1              # number of physical lines it spans


class _Records:
    """The records of a CSV text, each with the physical line where it starts.

    Broken quoting is reported as a record without fields, and reading resumes on the next physical
    line. Once ``expected`` (the header's column count) is set, a record spanning several lines
    with another number of fields is taken for an unclosed quote: it is reported at its first line
    and reading resumes on the line after it.
    """

    def __init__(self, content: str):
        self.lines = _LINES.findall(content)
        self.expected: int | None = None

    def __iter__(self) -> Iterator[_Record]:
        feed = _LineFeed(self.lines)
        reader = csv.reader(feed, strict=True)
        while True:
            start = feed.pos
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                message = str(exc)
                if "end of data" in message or feed.pos >= len(self.lines):
                    message = "a quoted field opened on this line is never closed"
                elif feed.pos - start > 1:
                    message = f"a quoted field opened on this line is not closed properly (error on line {feed.pos})"
                elif "expected after" in message:
                    message = "a closing quote must be followed by a comma or the end of the line"
                yield _Record(start + 1, None, f"broken CSV quoting: {message}")
                feed.pos = start + 1  # resume on the next physical line
                reader = csv.reader(feed, strict=True)
                continue
            spanned = feed.pos - start
            if self.expected is not None and spanned > 1 and fields and len(fields) != self.expected:
                yield _Record(start + 1, None, f"broken CSV quoting: a quoted field opened on this line runs over "
                                               f"{spanned} lines and the record has {len(fields)} fields, not {self.expected}")
                feed.pos = start + 1
                reader = csv.reader(feed, strict=True)
                continue
            yield _Record(start + 1, fields, lines=spanned)


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}", exit_code=2) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{path}:{line}: not UTF-8 (save the file as CSV UTF-8)", exit_code=2) from None


@dataclass
class _Table:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]      # (line, values) of well-formed rows
    rejects: list[Reject]
    readable: bool                              # False when the header is unusable: no row is read


def _read_table(path: Path, name: str) -> _Table:
    records = _Records(_read_text(path))
    stream = iter(records)
    rejects: list[Reject] = []
    header: list[str] | None = None
    for record in stream:
        if record.fields is None:
            return _Table(name, [], [], [Reject(name, record.line, f"header: {record.error}")], False)
        if not any(f.strip() for f in record.fields):
            continue
        header = [f.strip().lower() for f in record.fields]
        header_line = record.line
        break
    if header is None:
        return _Table(name, [], [], [], True)  # empty file: no rows

    problems = []
    unknown = [c for c in header if c and c not in COLUMNS[name]]
    if unknown:
        problems.append(f"unknown column(s) {', '.join(unknown)} (known columns: {', '.join(COLUMNS[name])})")
    if "" in header:
        problems.append(f"column {header.index('') + 1} has no name")
    duplicates = sorted({c for c in header if c and header.count(c) > 1})
    if duplicates:
        problems.append(f"duplicate column(s) {', '.join(duplicates)}")
    missing = [c for c in REQUIRED[name] if c not in header]
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")

    records.expected = len(header)
    raw_rows: list[tuple[int, dict[str, str]]] = []
    for record in stream:
        if record.fields is None:
            rejects.append(Reject(name, record.line, record.error))
            continue
        if not any(f.strip() for f in record.fields):
            continue
        if len(record.fields) != len(header):
            rejects.append(Reject(name, record.line, f"{len(record.fields)} fields, but the header has {len(header)} columns"))
            continue
        values = {c: v.strip() for c, v in zip(header, record.fields) if c}
        raw_rows.append((record.line, values))
    if problems:
        detail = "; ".join(problems)
        rejects.insert(0, Reject(name, header_line, f"header: {detail}; the {len(raw_rows)} data row(s) of this file were not read"))
        return _Table(name, header, raw_rows, rejects, False)
    return _Table(name, header, raw_rows, rejects, True)


# --------------------------------------------------------------------------------------------
# Row checking
# --------------------------------------------------------------------------------------------

class _Row:
    """The values of one row, with typed accessors that collect problems instead of raising."""

    def __init__(self, values: dict[str, str], ref: Reference, name: str):
        self.values = values
        self.ref = ref
        self.name = name
        self.problems: list[str] = []

    def problem(self, column: str, message: str) -> None:
        self.problems.append(f"{column}: {message}")

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def required(self) -> None:
        for column in REQUIRED[self.name]:
            if not self.get(column):
                self.problem(column, "required value is empty")

    def items(self, column: str) -> list[str]:
        return [item.strip() for item in self.get(column).split(";") if item.strip()]

    def slug(self, column: str) -> str | None:
        value = self.get(column)
        if not value:
            return None
        if value != slugify(value):
            self.problem(column, f"{value!r} is not a slug (lowercase ASCII letters, digits and hyphens, e.g. {slugify(value)!r})")
            return None
        return value

    def codes(self, column: str, scheme: str, single: bool = False) -> list[str]:
        items = self.items(column)
        if single and len(items) > 1:
            self.problem(column, f"one code only, not {len(items)}")
            return []
        found = []
        for item in items:
            concept = self.ref.concept(scheme, item)
            if concept is None:
                allowed = ", ".join(sorted(self.ref.codes.get(scheme, {})))
                self.problem(column, f"unknown code {item!r} (code list {scheme}: {allowed})")
            else:
                found.append(concept)
        return found

    def text(self, column: str) -> ox.Literal | None:
        value = self.get(column)
        return text(value, LANG) if value else None

    def url(self, column: str) -> list[ox.NamedNode]:
        found = []
        for item in self.items(column):
            if not _URL.match(item):
                self.problem(column, f"{item!r} is not an absolute http(s) URL")
                continue
            try:
                found.append(iri(item))
            except ValueError:
                self.problem(column, f"{item!r} is not a valid URL")
        return found

    def date(self, column: str) -> tuple[str, ox.Literal] | None:
        value = self.get(column)
        if not value:
            return None
        match = _DATE.match(value)
        if not match:
            self.problem(column, f"{value!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)")
            return None
        year, month, day = match.groups()
        try:
            date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            self.problem(column, f"{value!r} is not a real date")
            return None
        datatype = XSD.date if day else XSD.gYearMonth if month else XSD.gYear
        return value, typed(value, datatype)

    def period(self, start_column: str, end_column: str):
        start, end = self.date(start_column), self.date(end_column)
        if start and end:
            n = min(len(start[0]), len(end[0]))
            if end[0][:n] < start[0][:n]:
                self.problem(end_column, f"{end[0]} is before {start_column} {start[0]}")
                return None, None
        return start, end

    def decimal(self, column: str, minimum=None, maximum=None, percent: bool = False) -> Decimal | None:
        value = _NUMBER_SPACES.sub("", self.get(column))
        if not value:
            return None
        scale = Decimal(1)
        if percent and value.endswith("%"):
            value, scale = value[:-1], Decimal(100)
        if "," in value and "." not in value:
            value = value.replace(",", ".")
        if not _DECIMAL.match(value):
            self.problem(column, f"{self.get(column)!r} is not a number (digits, optional decimal point or comma)")
            return None
        try:
            number = Decimal(value) / scale
        except InvalidOperation:
            self.problem(column, f"{self.get(column)!r} is not a number")
            return None
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            bounds = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
            self.problem(column, f"{self.get(column)} must be {bounds}")
            return None
        return number

    def integer(self, column: str) -> int | None:
        value = _NUMBER_SPACES.sub("", self.get(column))
        if not value:
            return None
        if not value.isdigit():
            self.problem(column, f"{self.get(column)!r} is not a whole number ≥ 0")
            return None
        return int(value)

    def siren(self, column: str) -> str | None:
        value = compact(self.get(column))
        if not value:
            return None
        problem = siren_problem(value)
        if problem:
            self.problem(column, f"{self.get(column)!r}: {problem}")
            return None
        return value

    def siret(self, column: str) -> str | None:
        value = compact(self.get(column))
        if not value:
            return None
        problem = siret_problem(value)
        if problem:
            self.problem(column, f"{self.get(column)!r}: {problem}")
            return None
        return value

    def commune(self, column: str) -> str | None:
        code = self.get(column).upper()
        if not code:
            return None
        return code if self.check_commune(column, code) else None

    def check_commune(self, column: str, code: str) -> bool:
        if code in self.ref.communes:
            return True
        parent = self.ref.not_current.get(code)
        if parent:
            self.problem(column, f"{code} is not a current commune in the COG 2026 (it belongs to commune {parent}; use that code)")
        elif re.match(r"^\d{5}$|^2[AB]\d{3}$", code):
            self.problem(column, f"unknown commune code {code} in the COG 2026 (the INSEE code, not the postal code)")
        else:
            self.problem(column, f"{code!r} is not a commune code (5 characters, INSEE code, not the postal code)")
        return False

    def ptce_reference(self, ptce_ids: set[str]) -> str | None:
        value = self.get("ptce")
        if value and value not in ptce_ids:
            self.problem("ptce", f"unknown PTCE id {value!r} (not an id of ptce.csv)")
            return None
        return value or None


# --------------------------------------------------------------------------------------------
# RDF building blocks
# --------------------------------------------------------------------------------------------

_INSTANT_PROPERTY = {str(XSD.date): TIME.inXSDDate, str(XSD.gYearMonth): TIME.inXSDgYearMonth,
                     str(XSD.gYear): TIME.inXSDgYear}


def _interval(node_iri: str, start, end) -> list[ox.Triple]:
    """An OWL-Time interval ``node_iri`` with its beginning and end instants (``start``/``end`` from _Row.date)."""
    interval = iri(node_iri)
    out = [triple(interval, TYPE, iri(TIME.Interval))]
    for value, predicate, suffix in ((start, TIME.hasBeginning, "debut"), (end, TIME.hasEnd, "fin")):
        if value:
            instant = iri(f"{node_iri}-{suffix}")
            out += [triple(interval, predicate, instant), triple(instant, TYPE, iri(TIME.Instant)),
                    triple(instant, _INSTANT_PROPERTY[value[1].datatype.value], value[1])]
    return out


def _decimal(number: Decimal) -> ox.Literal:
    return typed(format(number, "f"), XSD.decimal)


# --------------------------------------------------------------------------------------------
# One function per file
# --------------------------------------------------------------------------------------------

@dataclass
class _Context:
    ns: Namespaces  # the publisher's resources
    territories: Namespaces  # the knowledge base's COG territories (whatever the publisher's base)
    ref: Reference
    ptce_ids: set[str]
    member_keys: dict[tuple[str, str], str]   # (ptce, slug of member name) -> organisation key
    used: dict[str, int] = field(default_factory=dict)  # hash IRIs already minted

    def unique(self, candidate: str) -> str:
        """``candidate``, or ``candidate-2``, ``-3``... if already minted in this template."""
        count = self.used.get(candidate, 0) + 1
        self.used[candidate] = count
        return candidate if count == 1 else f"{candidate}-{count}"


def _ptce_row(ctx: _Context, row: _Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    slug = row.slug("id")
    if slug and slug in seen:
        row.problem("id", f"duplicate PTCE id {slug!r} (first on line {seen[slug]})")
    node = iri(ns.id("ptce", slug or "x"))
    out.append(triple(node, TYPE, iri(PTCE.PTCE)))
    if row.get("nom"):
        out.append(triple(node, SKOS.prefLabel, row.text("nom")))
    for name in row.items("autres_noms"):
        out.append(triple(node, SKOS.altLabel, text(name, LANG)))
    if row.get("description"):
        out.append(triple(node, DCTERMS.description, row.text("description")))
    for url in row.url("site_web"):
        out.append(triple(node, PTCE.website, url))
    created, ended = row.period("date_creation", "date_fin")
    if created:
        out.append(triple(node, PTCE.creationDate, created[1]))
    if ended:
        out.append(triple(node, PTCE.endDate, ended[1]))

    carrier_siren = row.siren("siren_porteur")
    if carrier_siren:
        carrier = iri(ns.id("organisation", carrier_siren))
        out.append(triple(node, ROV.hasRegisteredOrganization, carrier))
        out += _registered(carrier, carrier_siren)
        if row.get("nom_porteur"):
            out.append(triple(carrier, SKOS.prefLabel, row.text("nom_porteur")))
    elif row.get("nom_porteur") and not row.get("siren_porteur"):
        row.problem("nom_porteur", "give siren_porteur too (the carrying structure is identified by its SIREN)")

    # Territory: each COG unit directly (several values = their union) and, with a description,
    # a project territory comprising them.
    units = []
    for code in row.items("territoire_communes"):
        if row.check_commune("territoire_communes", code.upper()):
            units.append(iri(ctx.territories.id("commune", code.upper())))
    for value in row.items("territoire_epci"):
        code = compact(value)
        if code in ctx.ref.epci:
            units.append(iri(ctx.territories.id("epci", code)))
        elif code in ctx.ref.ept:
            units.append(iri(ctx.territories.id("ept", code)))
        else:
            problem = siren_problem(code)
            row.problem("territoire_epci", f"{value!r}: {problem}" if problem else f"{code} is not the SIREN of an EPCI in the COG 2026")
    for column, kind, known in (("territoire_departements", "departement", ctx.ref.departements),
                                ("territoire_regions", "region", ctx.ref.regions)):
        for code in row.items(column):
            code = code.upper() if code.upper() in known else code
            if code in known:
                units.append(iri(ctx.territories.id(kind, code)))
            else:
                row.problem(column, f"unknown {kind} code {code!r} in the COG 2026")
    for unit in units:
        out.append(triple(node, PTCE.territory, unit))
    if row.get("territoire_description"):
        area = iri(ns.id("territoire", slug or "x"))
        out += [triple(node, PTCE.territory, area), triple(area, TYPE, iri(PTCE.TerritoireDeProjet)),
                triple(area, SKOS.prefLabel, row.text("territoire_description"))]
        out += [triple(area, PTCE.comprisesArea, unit) for unit in units]

    modes = row.codes("modes_cooperation", "modes-cooperation")
    levels = row.codes("niveaux_cooperation", "niveaux-cooperation")
    charters = row.url("charte")
    if row.get("strategie") or modes or levels or charters:
        strategy = iri(f"{node.value}#strategie")
        out += [triple(node, PTCE.strategy, strategy), triple(strategy, TYPE, iri(PTCE.Strategy))]
        if row.get("strategie"):
            out.append(triple(strategy, DCTERMS.description, row.text("strategie")))
        out += [triple(strategy, PTCE.cooperationMode, iri(c)) for c in modes]
        out += [triple(strategy, PTCE.cooperationLevel, iri(c)) for c in levels]
        out += [triple(strategy, PTCE.formalisedBy, url) for url in charters]
    if row.get("utilite_sociale"):
        out.append(triple(node, PTCE.socialUtility, row.text("utilite_sociale")))
    if row.get("developpement_local"):
        out.append(triple(node, PTCE.localDevelopmentContribution, row.text("developpement_local")))

    for column, scheme, predicate, single in (
        ("impulsion", "impulsions", PTCE.impulse, False),
        ("perimetre", "perimetres-activite", PTCE.activityScope, True),
        ("secteurs", "secteurs-activite", PTCE.activitySector, False),
        ("fonctions_transverses", "fonctions-transverses", PTCE.transverseFunction, False),
        ("configuration_gouvernance", "configurations-gouvernance", PTCE.governanceConfiguration, True),
    ):
        out += [triple(node, predicate, iri(c)) for c in row.codes(column, scheme, single)]

    cell_fte = row.decimal("etp_animation", minimum=0)
    if cell_fte is not None:
        cell = iri(f"{node.value}#cellule-animation")
        out += [triple(node, PTCE.animationCell, cell), triple(cell, TYPE, iri(PTCE.CelluleAnimation)),
                triple(cell, PTCE.fte, _decimal(cell_fte))]
    members = row.integer("nombre_membres")
    if members is not None:
        out.append(triple(node, PTCE.memberCount, typed(members, XSD.integer)))
    fte = row.decimal("etp_total", minimum=0)
    if fte is not None:
        out.append(triple(node, PTCE.fte, _decimal(fte)))
    for url in row.url("source"):
        out.append(triple(node, DCTERMS.source, url))
    if slug and slug not in seen:
        seen[slug] = line
    return out


def _member_key(values: dict[str, str]) -> str | None:
    """The organisation key of a member row: its SIREN (or the SIRET's first 9 digits), else its name's slug."""
    siren = compact(values.get("siren", ""))
    siret = compact(values.get("siret", ""))
    if siren:
        return siren
    if len(siret) == 14 and siret.isdigit():
        return siret[:9]
    return slugify(values.get("nom", "")) or None


def _member_row(ctx: _Context, row: _Row, seen: dict[tuple, int], line: int) -> list[ox.Triple]:
    ns, ref, out = ctx.ns, ctx.ref, []
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    siren, siret = row.siren("siren"), row.siret("siret")
    if siren and siret and siret[:9] != siren:
        row.problem("siret", f"{siret} does not start with the SIREN {siren}")
    if siret and not siren and not row.get("siren"):
        siren = siret[:9]
    key = siren or slugify(row.get("nom"))
    if row.get("nom") and not key:
        row.problem("nom", "the name must contain letters or digits (it names the organisation's IRI)")
    org = iri(ns.id("organisation", key or "x"))

    classes = []
    for code in row.items("type_acteur"):
        concept = ref.concept("types-acteurs", code)
        if concept is None:
            allowed = ", ".join(sorted(ref.actor_class))
            row.problem("type_acteur", f"unknown code {code!r} (code list types-acteurs: {allowed})")
        else:
            classes.append(ref.actor_class[concept.rsplit("/", 1)[1]])
    ess_value = row.get("ess").lower()
    ess_class = str(PTCE.EntrepriseESS)
    if ess_value in _YES:
        if not any(ess_class in ref.superclasses.get(c, ()) for c in classes):
            classes.append(ess_class)
    elif ess_value in _NO:
        if any(ess_class in ref.superclasses.get(c, ()) for c in classes):
            row.problem("ess", "'non' contradicts type_acteur (an ESS enterprise type)")
    elif ess_value:
        row.problem("ess", f"{row.get('ess')!r} must be oui, non or empty")
    for i, first in enumerate(classes):
        for second in classes[i + 1:]:
            for a in ref.superclasses.get(first, {first}):
                if any(frozenset((a, b)) in ref.disjoint for b in ref.superclasses.get(second, {second})):
                    row.problem("type_acteur" if ess_value not in _YES else "ess",
                                f"{first.rsplit('#', 1)[1]} and {second.rsplit('#', 1)[1]} are disjoint classes in the ontology")
                    break

    category = row.get("categorie_juridique")
    category_concept = None
    if category:
        if not re.match(r"^\d{4}$", category):
            row.problem("categorie_juridique", f"{category!r} is not an INSEE legal category (4 digits, e.g. 9220)")
        else:
            category_concept = ref.concept("categories-juridiques", category)
    roles = row.codes("role", "roles")
    start, end = row.period("debut", "fin")
    commune = row.commune("commune")
    websites = row.url("site_web")
    sources = row.url("source")
    duplicate_key = (ptce_id, key, start[0] if start else "")
    if ptce_id and key and duplicate_key in seen:
        row.problem("nom", f"this member is already listed for PTCE {ptce_id} with the same start (line {seen[duplicate_key]})")
    if row.problems:
        return []
    seen[duplicate_key] = line

    out += [triple(org, TYPE, iri(c)) for c in classes]
    out.append(triple(org, SKOS.prefLabel, row.text("nom")))
    if siren:
        out += _registered(org, siren)
    if category:
        out.append(triple(org, PTCE.legalCategoryCode, text(category)))
        if category_concept:
            out.append(triple(org, PTCE.legalCategory, iri(category_concept)))
    out += [triple(org, PTCE.website, url) for url in websites]
    site = None
    if siret:
        site, establishment = _establishment(ns, org, siret)
        out += establishment
    elif commune:
        site = iri(f"{org.value}#site-{commune.lower()}")
        out += [triple(site, TYPE, iri(ORG.Site)), triple(site, ORG.siteOf, org), triple(org, ORG.hasSite, site)]
    if site is not None and commune:
        out.append(triple(site, PTCE.commune, iri(ctx.territories.id("commune", commune))))

    ptce = iri(ns.id("ptce", ptce_id))
    membership_iri = ctx.unique(f"{ptce.value}#membre-{key}")
    membership = iri(membership_iri)
    out += [triple(membership, TYPE, iri(ORG.Membership)), triple(membership, ORG.member, org),
            triple(membership, ORG.organization, ptce), triple(ptce, ORG.hasMember, org)]
    out += [triple(membership, ORG.role, iri(r)) for r in roles]
    if start or end:
        period = f"{membership_iri}-periode"
        out.append(triple(membership, ORG.memberDuring, iri(period)))
        out += _interval(period, start, end)
    out += [triple(membership, DCTERMS.source, url) for url in sources]
    return out


def _identified(ctx: _Context, row: _Row, seen: dict[str, int], kind: str, what: str) -> tuple[str, str, ox.NamedNode]:
    """The PTCE a row refers to, the row's own id (unique in its file) and the IRI it mints."""
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    slug = row.slug("id")
    if slug and slug in seen:
        row.problem("id", f"duplicate {what} id {slug!r} (first on line {seen[slug]})")
    return ptce_id, slug, iri(ctx.ns.id(kind, slug or "x"))


def _project_row(ctx: _Context, row: _Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id, slug, node = _identified(ctx, row, seen, "projet", "project")
    innovations = row.codes("innovation", "types-innovation")
    start, end = row.period("debut", "fin")
    participants = []
    for item in row.items("participants"):
        digits = compact(item)
        if digits.isdigit():
            problem = siren_problem(digits)
            if problem:
                row.problem("participants", f"{item!r}: {problem}")
            else:
                participants.append(iri(ns.id("organisation", digits)))
        elif ptce_id and (ptce_id, slugify(item)) in ctx.member_keys:
            participants.append(iri(ns.id("organisation", ctx.member_keys[(ptce_id, slugify(item))])))
        else:
            row.problem("participants", f"{item!r} is neither a SIREN nor the name of a member of PTCE {ptce_id} in membres.csv")
    sources = row.url("source")
    if row.problems:
        return []
    seen[slug] = line
    out += [triple(iri(ns.id("ptce", ptce_id)), PTCE.project, node), triple(node, TYPE, iri(PTCE.Projet)),
            triple(node, SKOS.prefLabel, row.text("nom"))]
    if row.get("description"):
        out.append(triple(node, DCTERMS.description, row.text("description")))
    out += [triple(node, PTCE.innovationType, iri(c)) for c in innovations]
    if row.get("developpement_local"):
        out.append(triple(node, PTCE.localDevelopmentContribution, row.text("developpement_local")))
    if start or end:
        period = f"{node.value}#periode"
        out.append(triple(node, DCTERMS.temporal, iri(period)))
        out += _interval(period, start, end)
    out += [triple(node, PROV.wasAssociatedWith, p) for p in participants]
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


def _place_row(ctx: _Context, row: _Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id, slug, node = _identified(ctx, row, seen, "lieu", "place")
    kinds = row.codes("type", "types-lieux")
    commune = row.commune("commune")
    postcode = row.get("code_postal")
    if postcode and not re.match(r"^\d{5}$", postcode):
        row.problem("code_postal", f"{postcode!r} is not a postal code (5 digits)")
    latitude = row.decimal("latitude", Decimal(-90), Decimal(90))
    longitude = row.decimal("longitude", Decimal(-180), Decimal(180))
    if (row.get("latitude") == "") != (row.get("longitude") == ""):
        row.problem("latitude" if not row.get("latitude") else "longitude", "give both latitude and longitude, or neither")
    sources = row.url("source")
    if row.problems:
        return []
    seen[slug] = line
    ptce = iri(ns.id("ptce", ptce_id))
    out += [triple(ptce, ORG.hasSite, node), triple(node, ORG.siteOf, ptce), triple(node, TYPE, iri(PTCE.LieuPartage)),
            triple(node, SKOS.prefLabel, row.text("nom"))]
    out += [triple(node, PTCE.placeType, iri(c)) for c in kinds]
    if row.get("adresse") or postcode:
        address = iri(f"{node.value}#adresse")
        out += [triple(node, LOCN.address, address), triple(address, TYPE, iri(LOCN.Address))]
        if row.get("adresse"):
            out.append(triple(address, LOCN.fullAddress, text(row.get("adresse"))))
        if postcode:
            out.append(triple(address, LOCN.postCode, text(postcode)))
    if commune:
        out.append(triple(node, PTCE.commune, iri(ctx.territories.id("commune", commune))))
    if latitude is not None and longitude is not None:
        geometry = iri(f"{node.value}#geometrie")
        wkt = f"POINT({format(longitude, 'f')} {format(latitude, 'f')})"
        out += [triple(node, GEO.hasGeometry, geometry), triple(geometry, TYPE, iri(GEO.Geometry)),
                triple(geometry, GEO.asWKT, typed(wkt, GEO.wktLiteral))]
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


def _resource_row(ctx: _Context, row: _Row, seen: dict, line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    kinds = row.codes("type", "types-ressources", single=True)
    funder_siren = row.siren("financeur_siren")
    amount = row.decimal("montant", minimum=0)
    share = row.decimal("part", Decimal(0), Decimal(1), percent=True)
    year = row.get("annee")
    if year and not re.match(r"^\d{4}$", year):
        row.problem("annee", f"{year!r} is not a year (YYYY)")
    sources = row.url("source")
    if row.problems:
        return []
    ptce = iri(ns.id("ptce", ptce_id))
    code = kinds[0].rsplit("/", 1)[1]
    node_iri = f"{ptce.value}#ressource-{year or 'sans-annee'}-{code}"
    if node_iri in ctx.used and (row.get("financeur") or funder_siren):
        node_iri += "-" + (funder_siren or slugify(row.get("financeur")))
    node = iri(ctx.unique(node_iri))
    out += [triple(ptce, PTCE.mobilisedResource, node), triple(node, TYPE, iri(PTCE.RessourceMobilisee)),
            triple(node, PTCE.resourceType, iri(kinds[0]))]
    if funder_siren or slugify(row.get("financeur")):
        funder = iri(ns.id("organisation", funder_siren or slugify(row.get("financeur"))))
        out.append(triple(node, PTCE.resourceProvider, funder))
        if funder_siren:
            out += _registered(funder, funder_siren)
        if row.get("financeur"):
            out.append(triple(funder, SKOS.prefLabel, row.text("financeur")))
    if amount is not None:
        out.append(triple(node, PTCE.amount, _decimal(amount)))
    if share is not None:
        out.append(triple(node, PTCE.share, _decimal(share)))
    if year:
        out.append(triple(node, PTCE.referenceYear, typed(year, XSD.gYear)))
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


_HANDLERS = {
    "ptce.csv": _ptce_row,
    "membres.csv": _member_row,
    "projets.csv": _project_row,
    "lieux.csv": _place_row,
    "ressources.csv": _resource_row,
}


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

def ingest_template(directory: Path, ns: Namespaces | None = None, root: Path = SOURCES_ROOT,
                    territories: Namespaces | None = None) -> TemplateResult:
    """Read a template directory; raise UserError (exit code 2) if it or its ptce.csv is unreadable.

    ``ns`` mints the publisher's resources; ``territories`` is the knowledge base whose COG IRIs
    the territories point to (by default the same base)."""
    directory = Path(directory)
    ns = ns or Namespaces()
    territories = territories or ns
    if not directory.is_dir():
        raise UserError(f"{directory}: not a directory (expected a directory holding ptce.csv)", exit_code=2)
    if not (directory / MAIN_FILE).is_file():
        raise UserError(f"{directory / MAIN_FILE}: missing (every template needs ptce.csv)", exit_code=2)
    ref = load_reference(Path(root))
    tables = {name: _read_table(directory / name, name) for name in COLUMNS if (directory / name).is_file()}

    # Keys other files refer to, taken from every row (valid or not): a row never depends on
    # another row being valid.
    ptce_ids = {values.get("id", "") for _, values in tables[MAIN_FILE].rows if values.get("id")}
    member_keys = {}
    for _, values in tables.get("membres.csv", _Table("", [], [], [], True)).rows:
        key = _member_key(values)
        if values.get("ptce") and key and slugify(values.get("nom", "")):
            member_keys.setdefault((values["ptce"], slugify(values["nom"])), key)
    ctx = _Context(ns, territories, ref, ptce_ids, member_keys)

    triples: list[ox.Triple] = []
    rejects: list[Reject] = []
    kept: dict[str, int] = {}
    for name, table in tables.items():
        rejects += table.rejects
        kept[name] = 0
        if not table.readable:
            continue
        seen: dict = {}
        for line, values in table.rows:
            row = _Row(values, ref, name)
            row.required()
            produced = _HANDLERS[name](ctx, row, seen, line)
            if row.problems:
                rejects.append(Reject(name, line, "; ".join(row.problems)))
            else:
                triples += produced
                kept[name] += 1
    rejects.sort(key=lambda r: (list(COLUMNS).index(r.file), r.line))
    return TemplateResult(_tidy(triples), rejects, kept)


def read_template(directory: Path, ns: Namespaces | None = None, root: Path = SOURCES_ROOT,
                  territories: Namespaces | None = None) -> tuple[list[ox.Triple], list[Reject]]:
    """The triples of the valid rows and the rejected rows of a template directory."""
    result = ingest_template(directory, ns, root, territories)
    return result.triples, result.rejects


def _tidy(triples: list[ox.Triple]) -> list[ox.Triple]:
    """Drop duplicates, keep one skos:prefLabel per language and subject (later ones become
    skos:altLabel: the same organisation named differently in two rows), group by subject."""
    seen, by_subject = set(), {}
    labelled = set()
    for t in triples:
        if t.predicate.value == str(SKOS.prefLabel):
            key = (t.subject, t.object.language)
            if key in labelled:
                t = triple(t.subject, SKOS.altLabel, t.object)
            labelled.add(key)
        if t in seen:
            continue
        seen.add(t)
        by_subject.setdefault(t.subject, []).append(t)
    prefs = {(t.subject, t.object) for ts in by_subject.values() for t in ts if t.predicate.value == str(SKOS.prefLabel)}
    return [t for ts in by_subject.values() for t in sorted(ts, key=lambda t: t.predicate != TYPE)
            if not (t.predicate.value == str(SKOS.altLabel) and (t.subject, t.object) in prefs)]


def used_prefixes(triples: list[ox.Triple], prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes whose namespace appears in the triples (keeps the Turtle header short)."""
    values = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                values.add(term.value)
            elif isinstance(term, ox.Literal):
                values.add(term.datatype.value)
    return {p: ns for p, ns in prefixes.items() if any(v.startswith(ns) for v in values)}
