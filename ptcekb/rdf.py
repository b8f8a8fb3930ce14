"""Small constructors for pyoxigraph terms, shared by the ingestion modules."""

from __future__ import annotations

from typing import Iterable

import pyoxigraph as ox

from .namespaces import RDF, XSD

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
