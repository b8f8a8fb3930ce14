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
validator. The package: :mod:`.schema` (files, columns, reference data), :mod:`.reading` (CSV with
physical line numbers), :mod:`.checking` (one row's typed values and problems), :mod:`.mapping` (one
function per file, rows -> triples); this module runs them over a template directory.
"""


from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ...config import SOURCES_ROOT
from ...errors import UserError
from ...namespaces import SKOS, Namespaces, slugify
from ...rdf import TYPE, triple
from .checking import Row
from .mapping import HANDLERS, Context, member_key
from .reading import Table, decode, read_table, read_text_table
from .schema import COLUMNS, MAIN_FILE, REQUIRED, Reject, TemplateResult, load_reference

__all__ = ["COLUMNS", "REQUIRED", "Reject", "Row", "TemplateResult", "ingest_files", "ingest_template",
           "load_reference", "read_template", "used_prefixes"]


def ingest_template(directory: Path, ns: Namespaces | None = None, root: Path = SOURCES_ROOT,
                    territories: Namespaces | None = None) -> TemplateResult:
    """Read a template directory; raise UserError (exit code 2) if it or its ptce.csv is unreadable.

    ``ns`` mints the publisher's resources; ``territories`` is the knowledge base whose COG IRIs
    the territories point to (by default the same base)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise UserError(f"{directory}: not a directory (expected a directory holding ptce.csv)", exit_code=2)
    if not (directory / MAIN_FILE).is_file():
        raise UserError(f"{directory / MAIN_FILE}: missing (every template needs ptce.csv)", exit_code=2)
    tables = {name: read_table(directory / name, name) for name in COLUMNS if (directory / name).is_file()}
    return _convert(tables, ns, root, territories)


def ingest_files(files: dict[str, bytes], ns: Namespaces | None = None, root: Path = SOURCES_ROOT,
                 territories: Namespaces | None = None) -> TemplateResult:
    """The same conversion as :func:`ingest_template`, of the template's files given by name and
    content (an upload): names other than the template's are refused, ptce.csv is required."""
    unknown = sorted(set(files) - set(COLUMNS))
    if unknown:
        raise UserError(f"{', '.join(unknown)}: not a file of the template ({', '.join(COLUMNS)}) / "
                        f"n'est pas un fichier du gabarit", exit_code=2)
    if MAIN_FILE not in files:
        raise UserError(f"{MAIN_FILE}: missing (every template needs ptce.csv) / {MAIN_FILE} manque "
                        f"(tout gabarit en a besoin)", exit_code=2)
    tables = {name: read_text_table(decode(files[name], name), name) for name in COLUMNS if name in files}
    return _convert(tables, ns, root, territories)


def _convert(tables: dict[str, Table], ns: Namespaces | None, root: Path, territories: Namespaces | None) -> TemplateResult:
    ns = ns or Namespaces()
    territories = territories or ns
    ref = load_reference(Path(root))

    # Keys other files refer to, taken from every row (valid or not): a row never depends on
    # another row being valid.
    ptce_ids = {values.get("id", "") for _, values in tables[MAIN_FILE].rows if values.get("id")}
    member_keys = {}
    for _, values in tables.get("membres.csv", Table("", [], [], [], True)).rows:
        key = member_key(values)
        if values.get("ptce") and key and slugify(values.get("nom", "")):
            member_keys.setdefault((values["ptce"], slugify(values["nom"])), key)
    ctx = Context(ns, territories, ref, ptce_ids, member_keys)

    triples: list[ox.Triple] = []
    rejects: list[Reject] = []
    kept: dict[str, int] = {}
    provenance: list[tuple[str, int, list[ox.Triple]]] = []
    for name, table in tables.items():
        rejects += table.rejects
        kept[name] = 0
        if not table.readable:
            continue
        seen: dict = {}
        for line, values in table.rows:
            row = Row(values, ref, name)
            row.required()
            produced = HANDLERS[name](ctx, row, seen, line)
            if row.problems:
                more = f"; and {row.more} more problem(s)" if row.more else ""
                rejects.append(Reject(name, line, "; ".join(row.problems) + more, row.reported()))
            else:
                triples += produced
                kept[name] += 1
                provenance.append((name, line, produced))
    rejects.sort(key=lambda r: (list(COLUMNS).index(r.file), r.line))
    return TemplateResult(_tidy(triples), rejects, kept, provenance)


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
