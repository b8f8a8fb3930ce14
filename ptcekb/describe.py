"""What dereferencing an IRI returns in RDF: the resource's description, built from the store.

The description of ``<x>`` is a *symmetric bounded description*, the shape linked-data clients
expect (see docs/uris.md):

* every triple whose subject is ``<x>``, from every named graph (the union, without duplicates);
* the closure over blank nodes and over the hash IRIs of the same document (``<x#membre-...>``,
  ``<x#siren>``, reified statements ``<x#statement-...>``): they have no document of their own;
* the triples whose object is ``<x>`` (incoming links), ``INCOMING_PAGE`` per page, in a stable
  order, with the hash nodes of ``<x>`` among their subjects described too;
* a label for every other IRI mentioned, so that a client can show names without more requests;
* the document itself: ``foaf:primaryTopic <x>``, ``void:inDataset``, its licence(s).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Iterator

import pyoxigraph as ox

from .labels import LABEL_PREDICATES
from .namespaces import DCTERMS, FOAF, RDF, VOID

INCOMING_PAGE = 500
HYDRA_NEXT = ox.NamedNode("http://www.w3.org/ns/hydra/core#next")
_TYPE = ox.NamedNode(str(RDF.type))
_LABELS = tuple(ox.NamedNode(p) for p in LABEL_PREDICATES)


@dataclass
class Description:
    """The triples about one IRI and where they come from."""

    iri: str
    triples: list[ox.Triple] = field(default_factory=list)
    graphs: set[str] = field(default_factory=set)  # named graphs the resource's own triples come from
    incoming_page: int = 1
    has_more_incoming: bool = False

    @property
    def empty(self) -> bool:
        return not self.triples


def document_of(iri: str) -> str:
    return iri.split("#", 1)[0]


def describe(store: ox.Store, iri: str, incoming_page: int = 1) -> Description:
    """The bounded description of ``iri`` (see the module docstring); empty if the store does not know it."""
    description = Description(iri, incoming_page=incoming_page)
    seen: set[ox.Triple] = set()
    hash_prefix = document_of(iri) + "#"

    def add(triple: ox.Triple) -> bool:
        if triple in seen:
            return False
        seen.add(triple)
        description.triples.append(triple)
        return True

    def inner(term) -> bool:
        return isinstance(term, ox.BlankNode) or (isinstance(term, ox.NamedNode) and term.value.startswith(hash_prefix))

    pending: list = [ox.NamedNode(iri)]
    expanded: set = set()

    def expand() -> None:
        while pending:
            subject = pending.pop()
            if subject in expanded:
                continue
            expanded.add(subject)
            for quad in store.quads_for_pattern(subject, None, None, None):
                if subject.value == iri and isinstance(quad.graph_name, ox.NamedNode):
                    description.graphs.add(quad.graph_name.value)
                if add(quad.triple) and inner(quad.object):
                    pending.append(quad.object)

    expand()
    if not description.triples:
        return description
    incoming = _incoming(store, ox.NamedNode(iri), (incoming_page - 1) * INCOMING_PAGE, INCOMING_PAGE + 1)
    for position, triple in enumerate(incoming):
        if position == INCOMING_PAGE:
            description.has_more_incoming = True
            break
        add(triple)
        if inner(triple.subject):
            pending.append(triple.subject)
    expand()
    for term in _mentioned(description.triples, expanded):
        for triple in labels_of(store, term):
            add(triple)
    return description


def _incoming(store, node: ox.NamedNode, start: int, count: int) -> Iterator[ox.Triple]:
    """``count`` distinct triples pointing to ``node``, from the ``start``-th. pyoxigraph skips the
    first ones in the engine (a SPARQL OFFSET over the same index, same order, ~8× faster than
    skipping quads in Python: the deep pages of a concept the whole SIRENE register points to,
    issue 23); a remote store pages its quads."""
    if isinstance(store, ox.Store):
        rows = store.query(f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p {node} }} }} OFFSET {start} LIMIT {count}")
        return (ox.Triple(row["s"], row["p"], node) for row in rows)
    return islice(_distinct_triples(store.quads_for_pattern(None, None, node, None)), start, start + count)


def _distinct_triples(quads):
    seen = set()
    for quad in quads:
        if quad.triple not in seen:
            seen.add(quad.triple)
            yield quad.triple


def _mentioned(triples: list[ox.Triple], described: set) -> list[ox.NamedNode]:
    """IRIs the description points to (or is pointed from) whose labels it does not hold yet."""
    terms = {}
    for triple in triples:
        for term in (triple.subject, triple.object):
            if isinstance(term, ox.NamedNode) and term not in described:
                terms[term] = None
    return list(terms)


def labels_of(store: ox.Store, term: ox.NamedNode) -> list[ox.Triple]:
    """The label triples of ``term`` under the first label predicate it has (one per language)."""
    for predicate in _LABELS:
        found = list(_distinct_triples(store.quads_for_pattern(term, predicate, None, None)))
        if found:
            return found
    return []


def document_triples(document: str, iri: str, dataset: str, licences: list[str],
                     next_page: str | None = None) -> list[ox.Triple]:
    """What the document says about itself (DWBP: provenance, licence, dataset)."""
    node = ox.NamedNode(document)
    out = [
        ox.Triple(node, _TYPE, ox.NamedNode(FOAF.Document)),
        ox.Triple(node, ox.NamedNode(FOAF.primaryTopic), ox.NamedNode(iri)),
        ox.Triple(node, ox.NamedNode(VOID.inDataset), ox.NamedNode(dataset)),
    ]
    out += [ox.Triple(node, ox.NamedNode(DCTERMS.license), ox.NamedNode(licence)) for licence in licences]
    if next_page:
        out.append(ox.Triple(node, HYDRA_NEXT, ox.NamedNode(next_page)))
    return out
