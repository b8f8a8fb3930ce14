"""Small constructors for pyoxigraph terms, shared by the ingestion modules."""

from __future__ import annotations

from typing import Iterable, Iterator

import pyoxigraph as ox

from .namespaces import DCAT, DCTERMS, PROV, RDF, SPDX, XSD

TYPE = ox.NamedNode(str(RDF.type))


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(str(value))


def text(value: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def typed(value, datatype) -> ox.Literal:
    return ox.Literal(str(value).lower() if isinstance(value, bool) else str(value), datatype=iri(datatype))


def integer(value: int) -> ox.Literal:
    return typed(int(value), XSD.integer)


def triple(subject, predicate, obj) -> ox.Triple:
    return ox.Triple(subject, iri(predicate) if isinstance(predicate, str) else predicate, obj)


def labels(subject, predicate, values: dict[str, str]) -> Iterable[ox.Triple]:
    """One language-tagged literal per language, in a stable order."""
    return (triple(subject, predicate, text(v, lang)) for lang, v in sorted(values.items()))


def file_entity(graph: ox.NamedNode, identifier: str, size: int, sha256: str | None) -> Iterator[ox.Triple]:
    """A file a graph was derived from (graph/meta): its name, size and SHA-256 checksum (SPDX)."""
    node = ox.BlankNode()
    yield triple(graph, PROV.wasDerivedFrom, node)
    yield triple(node, RDF.type, iri(PROV.Entity))
    yield triple(node, DCTERMS.identifier, text(identifier))
    yield triple(node, DCAT.byteSize, typed(size, XSD.nonNegativeInteger))
    if sha256:
        checksum = ox.BlankNode()
        yield triple(node, SPDX.checksum, checksum)
        yield triple(checksum, RDF.type, iri(SPDX.Checksum))
        yield triple(checksum, SPDX.algorithm, iri(SPDX.checksumAlgorithm_sha256))
        yield triple(checksum, SPDX.checksumValue, typed(sha256, XSD.hexBinary))
