"""Labels of the external terms the knowledge base uses (igeo:, org:, dcterms:, prov:...), copied
from the vocabularies' own published files into ``ontology/term-labels.ttl`` (loaded with the
alignments), so pages show "subdivision de" rather than ``igeo:subdivisionDe``.

Maintainers regenerate the snapshot from a built store and the vocabulary files:

    python -m ptcekb.ingest.term_labels --store var/store

(the vocabulary files are the gzipped copies in ``data/upstream/vocab/``, listed with their origin
in its ``SOURCES.tsv``).

Only labels the vocabularies publish are copied (French where they have it, as INSEE's geo
ontology does; otherwise English): none is invented. Labels of RDF, RDFS, OWL and XSD terms are never
taken from the copies: those terms belong to specifications that are not among them, and a vocabulary
that redeclares one is no authority on it (LOCN labels ``rdfs:seeAlso`` "geographic identifier").

Where a vocabulary publishes no label in French or in English, ``ontology/term-labels-local.ttl`` (kept
by hand, loaded beside the snapshot) gives one, each with who wrote it and from what (its comments).
``missing_labels`` lists the terms still without a label in one of the two languages; the command
prints them, and tests/test_ontology.py requires there be none: every page is in one language.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import sys
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

from ..config import SOURCES_ROOT
from ..namespaces import DCTERMS, FOAF, OWL, RDF, RDFS, SD, SH, SKOS, VOCAB_BASE, VOID, XSD
from ..store import open_read_only
from ..syntax_limits import SyntaxRefused, check_rdf

SNAPSHOT = SOURCES_ROOT / "ontology" / "term-labels.ttl"
LOCAL = SOURCES_ROOT / "ontology" / "term-labels-local.ttl"  # labels the vocabularies do not publish
VOCAB_COPY = Path("data/upstream/vocab")
LABELS = (RDFS.label, SKOS.prefLabel)
LANGUAGES = ("fr", "en")
# Terms a page shows: properties and classes used, and the terms the ontology, the shapes and the
# alignments point to (a class page shows its superclasses, equivalents, ranges, shapes' paths...).
_SCHEMA_LINKS = (RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentClass,
                 OWL.equivalentProperty, OWL.disjointWith, OWL.inverseOf, SKOS.exactMatch, SKOS.closeMatch,
                 SKOS.broadMatch, SKOS.narrowMatch, SKOS.relatedMatch, SH.targetClass, SH.path, SH["class"],
                 SH.datatype, SH.targetSubjectsOf, SH.targetObjectsOf)
# The language of the labels a file writes without a tag (English unless said here).
UNTAGGED = {"insee/sirene-ld_sirene.ttl": "fr", "insee/sirene-ld_categories-juridiques.nt": "fr"}
_USED = ("SELECT DISTINCT ?t WHERE { { GRAPH ?g { ?s ?t ?o } } UNION { GRAPH ?g { ?s a ?t } } UNION "
         "{ GRAPH ?g { ?s ?p ?t } FILTER(isIRI(?t) && ?p IN (" + ", ".join(f"<{p}>" for p in _SCHEMA_LINKS) + ")) } }")
# Terms of the documents the service writes itself, not held in the store (service/description.py:
# VoID and the SPARQL service description, shown as HTML pages too; describe.py: resource documents).
SERVICE_TERMS = {str(term) for term in (
    SD.Service, SD.endpoint, SD.supportedLanguage, SD.resultFormat, SD.feature, SD.defaultEntailmentRegime,
    SD.defaultDataset, SD.Dataset, SD.defaultGraph, SD.Graph, SD.namedGraph, SD.NamedGraph, SD.name, SD.graph,
    SD.UnionDefaultGraph, SD.BasicFederatedQuery, SD.SPARQL11Query, SD.SPARQL11Update,
    VOID.DatasetDescription, VOID.Dataset, VOID.sparqlEndpoint, VOID.dataDump, VOID.feature, VOID.triples,
    VOID.entities, VOID.classes, VOID.properties, VOID.subset, VOID.classPartition, VOID["class"],
    VOID.uriSpace, VOID.inDataset, FOAF.primaryTopic, FOAF.Document, DCTERMS.title, DCTERMS.license,
    RDFS.comment, RDFS.seeAlso, RDFS.label, RDF.type, SH.declare, SH.prefix, SH.namespace)}
# Specifications whose terms take their labels from ontology/term-labels-local.ttl only (see above).
CORE = (str(RDF), str(RDFS), str(OWL), str(XSD))


def used_terms(store) -> set[str]:
    """The terms, not ours, that pages show: used in the store, pointed to by the schema, or in the
    service's own documents."""
    used = {row["t"].value for row in store.query(_USED)} | SERVICE_TERMS
    return {term for term in used if not term.startswith(VOCAB_BASE)}


def missing_labels(store, terms: set[str]) -> dict[str, list[str]]:
    """``{term: [languages]}``: the terms without a label in French or in English in ``store``."""
    found: dict[str, set[str]] = defaultdict(set)
    query = ("SELECT DISTINCT ?t (LANG(?l) AS ?lang) WHERE { GRAPH ?g { ?t ?p ?l } FILTER(?p IN ("
             + ", ".join(f"<{p}>" for p in LABELS) + ")) }")
    for row in store.query(query):
        found[row["t"].value].add(row["lang"].value)
    return {term: [lang for lang in LANGUAGES if lang not in found[term]]
            for term in sorted(terms) if not set(LANGUAGES) <= found[term]}


def vocabulary_labels(vocab: Path, terms: set[str]) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """``{term: {lang: label}}`` from every RDF file under ``vocab``; and the file each came from."""
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    origin: dict[str, str] = {}
    predicates = {ox.NamedNode(p) for p in LABELS}
    for path in sorted(vocab.rglob("*")):
        name = path.relative_to(vocab).as_posix().removesuffix(".gz")  # the file as its publisher names it
        suffix = Path(name).suffix
        try:
            rdf_format = ox.RdfFormat.from_extension(suffix.lstrip("."))
        except ValueError:
            rdf_format = None
        if rdf_format is None and suffix == ".skos":  # ESSGlobal's code lists: RDF/XML
            rdf_format = ox.RdfFormat.RDF_XML
        if rdf_format is None or not path.is_file():
            continue
        try:
            data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            check_rdf(data, rdf_format)  # no XML entities, bounded nesting (syntax_limits)
            quads = list(ox.parse(data, format=rdf_format, lenient=True))
        except SyntaxRefused as exc:
            print(f"{path}:{exc.where()} skipped: {exc}", file=sys.stderr)
            continue
        except (SyntaxError, OSError, EOFError):
            continue
        for quad in quads:
            subject = quad.subject.value if isinstance(quad.subject, ox.NamedNode) else None
            if subject in terms and not subject.startswith(CORE) and quad.predicate in predicates \
                    and isinstance(quad.object, ox.Literal):
                lang = (quad.object.language or UNTAGGED.get(name, "en")).lower()  # ESSGlobal writes "FR"
                text = " ".join(quad.object.value.split())
                if lang in LANGUAGES and text and lang not in labels[subject]:  # ESSGlobal has empty labels
                    labels[subject][lang] = text
                    origin.setdefault(subject, name)
    return labels, origin


def write_snapshot(labels: dict[str, dict[str, str]], origin: dict[str, str], sources: dict[str, str], target: Path) -> None:
    lines = [
        "# Labels of the external terms ptcekb uses, copied from the vocabularies' published files.",
        "# Generated by `python -m ptcekb.ingest.term_labels`; do not edit by hand.",
        "# Files (repository, path, commit):",
    ]
    lines += [f"#   {name}: {sources.get(Path(name).name, 'no recorded origin')}" for name in sorted(set(origin.values()))]
    lines.append("")
    for term in sorted(labels):
        literals = " , ".join(f"{ox.Literal(text, language=lang)}" for lang, text in sorted(labels[term].items()))
        lines.append(f"<{term}> <{RDFS.label}> {literals} .")
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _sources(vocab: Path) -> dict[str, str]:
    index = vocab / "SOURCES.tsv"
    if not index.exists():
        return {}
    with open(index, encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream, delimiter="\t"))
    origins = {}
    for row in rows:  # the copies drop the "zazuko_" of the index's file names
        name = Path(row["local_file"]).name
        origins[name] = origins[name.removeprefix("zazuko_")] = \
            f"{row['repository']} {row['path_in_repo'].split(' (')[0]} {row['last_commit_touching_path']}"
    return origins


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--vocab", type=Path, default=SOURCES_ROOT / VOCAB_COPY,
                        help="directory of the vocabularies' files, plain or gzipped (default: data/upstream/vocab)")
    parser.add_argument("--store", type=Path, default=Path("var/store"), help="a built store (the terms it uses)")
    parser.add_argument("-o", "--output", type=Path, default=SNAPSHOT)
    args = parser.parse_args(argv)
    store = open_read_only(args.store)
    terms = used_terms(store)
    labels, origin = vocabulary_labels(args.vocab, terms)
    write_snapshot(labels, origin, _sources(args.vocab), args.output)
    print(f"{len(labels)} terms labelled -> {args.output}")
    for term, languages in missing_labels(store, terms).items():  # as the store holds them: rebuild to see new ones
        print(f"no label in {', '.join(languages)}: {term} (add one to {LOCAL.name})")


if __name__ == "__main__":
    main()
