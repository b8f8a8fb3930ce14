"""Sources that are RDF files of the repository: the ontology, its code lists, alignments, shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from ..errors import UserError
from ..namespaces import CC_BY
from ..syntax_limits import SyntaxRefused, check_rdf
from . import BuildContext, Source


def parse_file(path: Path, base_iri: str | None = None) -> Iterator[ox.Quad]:
    """Parse an RDF file (format from its extension); a syntax error names the file, line and column.

    The file is read once and checked (syntax_limits: no XML entities, bounded nesting) before the
    parser is handed those same bytes."""
    try:
        rdf_format = ox.RdfFormat.from_extension(path.suffix.lstrip("."))
    except ValueError:
        rdf_format = None
    if rdf_format is None:
        raise UserError(f"{path}: unknown RDF file extension {path.suffix!r}", exit_code=2)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(f"{path}: {exc.strerror or exc}", exit_code=2) from None
    yield from parse_bytes(data, rdf_format, str(path), base_iri=base_iri)


def parse_bytes(data: bytes, rdf_format: ox.RdfFormat, name: str, base_iri: str | None = None) -> Iterator[ox.Quad]:
    """Check, then parse a document; a refusal or a syntax error names ``name``, the line and column."""
    checked(data, rdf_format, name)
    try:
        yield from ox.parse(data, format=rdf_format, base_iri=base_iri)
    except SyntaxError as exc:
        raise UserError(f"{name}:{_position(exc)} {exc.msg}", exit_code=2) from None


def checked(data: bytes, rdf_format: ox.RdfFormat, name: str) -> None:
    """``syntax_limits.check_rdf``, its refusal prefixed with ``name:line:column:`` (exit code 2, a 4xx)."""
    try:
        check_rdf(data, rdf_format)
    except SyntaxRefused as exc:
        raise SyntaxRefused(f"{name}:{exc.where()} {exc}", exc.http_status, exc.line, exc.column) from None


def _position(exc: SyntaxError) -> str:
    return f"{exc.lineno}:{exc.offset}:" if exc.lineno else ""


def _rdf_files_source(name: str, patterns: tuple[str, ...], title: dict, description: dict) -> Source:
    def files(root: Path) -> list[Path]:
        found = sorted({p for pattern in patterns for p in root.glob(pattern)})
        if not found:
            raise UserError(f"source {name!r}: no file matches {', '.join(patterns)} under {root}")
        return found

    def triples(ctx: BuildContext) -> Iterator[ox.Triple]:
        for path in files(ctx.root):
            for quad in parse_file(path):
                yield quad.triple

    return Source(name, title, description, CC_BY, files, triples)


SOURCES = [
    _rdf_files_source(
        "shapes",
        ("shapes/*.ttl",),
        {"fr": "Formes SHACL de l'article 9", "en": "SHACL shapes of article 9"},
        {"fr": "Règles de validation : loi, spécificités, grille de caractérisation, qualité des données.",
         "en": "Validation rules: the law, specificities, characterisation grid, data quality."},
    ),
    _rdf_files_source(
        "ontology",
        ("ontology/ptce.ttl",),
        {"fr": "Ontologie des PTCE", "en": "PTCE ontology"},
        {"fr": "Classes et propriétés du modèle des PTCE.", "en": "Classes and properties of the PTCE model."},
    ),
    _rdf_files_source(
        "vocabularies",
        ("ontology/vocabularies/*.ttl",),
        {"fr": "Listes de codes (SKOS)", "en": "Code lists (SKOS)"},
        {"fr": "Schémas de concepts utilisés par les données.", "en": "Concept schemes used by the data."},
    ),
    _rdf_files_source(
        "alignments",
        ("ontology/alignments.ttl", "ontology/term-labels.ttl", "ontology/term-labels-local.ttl"),
        {"fr": "Alignements vers d'autres vocabulaires", "en": "Alignments to other vocabularies"},
        {"fr": "Correspondances avec ESSGlobal, schema.org, CPOV... et libellés des termes réutilisés, copiés des "
               "vocabulaires qui les publient (ptcekb.ingest.term_labels), complétés en français ou en anglais "
               "par les mainteneurs de ptcekb là où ils n'en publient pas (term-labels-local.ttl).",
         "en": "Mappings to ESSGlobal, schema.org, CPOV... and labels of the reused terms, copied from the "
               "vocabularies that publish them (ptcekb.ingest.term_labels), completed in French or English by "
               "the ptcekb maintainers where they publish none (term-labels-local.ttl)."},
    ),
]
