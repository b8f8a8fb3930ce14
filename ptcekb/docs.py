"""Documentation of the ontology and its code lists, generated from the store.

The same page is served at ``/def`` (and is what every ``def#Term`` IRI dereferences to, the
fragment naming the term's anchor) and written by ``ptcekb docs -o DIR`` as a static site.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .config import Settings
from .i18n import translator
from .labels import Labeller, Link
from .namespaces import ONTOLOGY_IRI, OWL, PREFIXES, PTCE, RDF, RDFS, SKOS
from .templating import environment

# The kinds of terms, by their words in ptcekb/i18n.py; ``en`` names the section's anchor (stable URLs).
KINDS = (
    (str(OWL.Class), {"key": "owl_classes", "en": "Classes"}),
    (str(OWL.ObjectProperty), {"key": "owl_object_properties", "en": "Object properties"}),
    (str(OWL.DatatypeProperty), {"key": "owl_datatype_properties", "en": "Datatype properties"}),
    (str(OWL.AnnotationProperty), {"key": "owl_annotation_properties", "en": "Annotation properties"}),
)
TEXT_PREDICATES = {str(RDFS.label), str(SKOS.definition), str(SKOS.scopeNote), str(SKOS.altLabel), str(RDFS.comment), str(RDF.type), str(RDFS.isDefinedBy)}


@dataclass
class Texts:
    """Literal values of one predicate by language."""

    by_lang: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, literal: ox.Literal) -> None:
        self.by_lang[literal.language or ""].append(literal.value)


@dataclass
class TermDoc:
    iri: str
    anchor: str
    kind: str
    texts: dict[str, Texts]
    statements: list[tuple[Link, list[Link]]]

    def text(self, predicate, lang: str) -> list[str]:
        texts = self.texts.get(str(predicate))
        return texts.by_lang.get(lang, []) if texts else []


@dataclass
class ConceptDoc:
    iri: str
    notation: str | None
    labels: dict[str, str]
    definitions: dict[str, str]


@dataclass
class SchemeDoc:
    iri: str
    anchor: str
    labels: dict[str, str]
    concepts: list[ConceptDoc]


def _graph(settings: Settings, name: str) -> ox.NamedNode:
    return ox.NamedNode(settings.ns.graph(name))


def terms(store: ox.Store, settings: Settings, labeller: Labeller) -> dict[str, list[TermDoc]]:
    """Every ptce: term of the ontology graph, grouped by OWL kind, sorted by local name."""
    graph = _graph(settings, "ontology")
    by_subject: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in store.quads_for_pattern(None, None, None, graph):
        if isinstance(quad.subject, ox.NamedNode) and quad.subject.value.startswith(str(PTCE)):
            by_subject[quad.subject.value].append(quad)
    grouped: dict[str, list[TermDoc]] = {kind: [] for kind, _ in KINDS}
    for iri, quads in sorted(by_subject.items()):
        kinds = {q.object.value for q in quads if q.predicate.value == str(RDF.type)}
        kind = next((k for k, _ in KINDS if k in kinds), None)
        if kind is None:
            continue
        texts: dict[str, Texts] = defaultdict(Texts)
        statements: dict[str, list] = defaultdict(list)
        for quad in quads:
            if isinstance(quad.object, ox.Literal) and quad.predicate.value in TEXT_PREDICATES:
                texts[quad.predicate.value].add(quad.object)
            elif quad.predicate.value not in TEXT_PREDICATES or quad.predicate.value == str(RDF.type) and quad.object.value != kind:
                statements[quad.predicate.value].append(labeller.link(quad.object))
        rows = [(labeller.link(ox.NamedNode(p)), objs) for p, objs in sorted(statements.items())]
        grouped[kind].append(TermDoc(iri, iri[len(str(PTCE)):], kind, texts, rows))
    return grouped


def schemes(store: ox.Store, settings: Settings) -> list[SchemeDoc]:
    graph = f"<{settings.ns.graph('vocabularies')}>"
    rows = store.query(f"""PREFIX skos: <{SKOS}>
        SELECT ?scheme ?slabel ?concept ?notation ?label ?definition WHERE {{ GRAPH {graph} {{
          ?scheme a skos:ConceptScheme . OPTIONAL {{ ?scheme skos:prefLabel|<{RDFS.label}> ?slabel }}
          OPTIONAL {{ ?concept skos:inScheme ?scheme .
            OPTIONAL {{ ?concept skos:notation ?notation }}
            OPTIONAL {{ ?concept skos:prefLabel ?label }}
            OPTIONAL {{ ?concept skos:definition ?definition FILTER(LANG(?definition) = LANG(?label)) }} }} }} }}""")
    found: dict[str, SchemeDoc] = {}
    concepts: dict[tuple[str, str], ConceptDoc] = {}
    for row in rows:
        scheme_iri = row["scheme"].value
        scheme = found.setdefault(scheme_iri, SchemeDoc(scheme_iri, scheme_iri.rstrip("/").rsplit("/", 1)[-1], {}, []))
        if row["slabel"] is not None:
            scheme.labels[row["slabel"].language or ""] = row["slabel"].value
        if row["concept"] is None:
            continue
        key = (scheme_iri, row["concept"].value)
        if key not in concepts:
            concepts[key] = ConceptDoc(row["concept"].value, row["notation"].value if row["notation"] else None, {}, {})
            scheme.concepts.append(concepts[key])
        if row["label"] is not None:
            concepts[key].labels[row["label"].language or ""] = row["label"].value
            if row["definition"] is not None:
                concepts[key].definitions[row["label"].language or ""] = row["definition"].value
    for scheme in found.values():
        scheme.concepts.sort(key=lambda c: (c.notation or "", c.iri))
    return sorted(found.values(), key=lambda s: s.anchor)


def ontology_header(store: ox.Store, settings: Settings, labeller: Labeller) -> dict:
    node, graph = ox.NamedNode(ONTOLOGY_IRI), _graph(settings, "ontology")
    header: dict[str, list] = defaultdict(list)
    for quad in store.quads_for_pattern(node, None, None, graph):
        key = quad.predicate.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
        header[key].append(quad.object)
    return header


def render_ontology(store: ox.Store, settings: Settings, lang: str = "fr", static: bool = False) -> str:
    labeller = Labeller(store, settings.base_iri, lang)
    return environment().get_template("ontology.html").render(
        lang=lang, other_lang="en" if lang == "fr" else "fr", kinds=KINDS, static=static,
        terms=terms(store, settings, labeller), schemes=schemes(store, settings),
        header=ontology_header(store, settings, labeller), ontology_iri=ONTOLOGY_IRI,
        prefixes=PREFIXES, labeller=labeller, word=translator(lang),
    )


def write_static_docs(store: ox.Store, settings: Settings, output: Path, formats: dict[str, ox.RdfFormat]) -> list[Path]:
    """``index.html`` (French), ``index.en.html``, and the ontology in each RDF format of ``formats``
    (file suffix -> format: the service's RDF representations, so the files match what it serves)."""
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for lang, name in (("fr", "index.html"), ("en", "index.en.html")):
        path = output / name
        path.write_text(render_ontology(store, settings, lang, static=True), encoding="utf-8")
        written.append(path)
    graph = _graph(settings, "ontology")
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, graph)]
    for suffix, rdf_format in formats.items():
        path = output / f"ptce.{suffix}"
        ox.serialize(triples, str(path), format=rdf_format, prefixes=PREFIXES)
        written.append(path)
    return written
