"""Human-readable names for RDF terms: labels in the reader's language, local links, prefixed names."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from .namespaces import PREFIXES, VOCAB_BASE

LABEL_PREDICATES = (
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://www.w3.org/2000/01/rdf-schema#label",
    "http://rdf.insee.fr/def/geo#nom",
    "http://xmlns.com/foaf/0.1/name",
    "http://purl.org/dc/terms/title",
)


def prefixed(value: str) -> str | None:
    for prefix, namespace in PREFIXES.items():
        if value.startswith(namespace) and value != namespace:
            local = value[len(namespace):]
            if "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
    return None


def local_path(value: str, base: str) -> str | None:
    """The path at which this instance serves an IRI, or None for IRIs it does not serve."""
    for root in (base, VOCAB_BASE):
        if value.startswith(root):
            return value[len(root) - 1:]
    return None


def is_web_link(iri: str) -> bool:
    """Whether an IRI of the data may be a link on a page: http(s) only (never ``javascript:`` or
    ``data:``, which a browser would run or open: an IRI of the data is anything a query can make)."""
    return iri[:8].lower().startswith(("http://", "https://"))


def href(iri: str, base: str) -> str | None:
    """Where a page links an IRI: the local path of what this instance serves, an http(s) IRI as it
    is, otherwise nowhere (``is_web_link``)."""
    return local_path(iri, base) or (iri if is_web_link(iri) else None)


def in_language(terms: list, lang: str) -> list:
    """``terms`` without the literals of other languages when one is in ``lang``: a French page shows
    the French title of a graph, not its English one beside it."""
    if not any(isinstance(t, ox.Literal) and t.language == lang for t in terms):
        return terms
    return [t for t in terms if not (isinstance(t, ox.Literal) and t.language and t.language != lang)]


def pick(values: dict[str, str], lang: str) -> str | None:
    """The value in ``lang``, else French, else English, else untagged, else any."""
    for key in (lang, "fr", "en", ""):
        if key in values:
            return values[key]
    return next(iter(values.values()), None)


# At most this many IRIs get their labels looked up for one table of SPARQL results (one query).
LOOKUP_CAP = 500


def labels_query(iris: list[str]) -> str:
    """One query for the labels of ``iris`` (all the label predicates, every language); ``best``
    picks from its rows. The caller bounds ``iris`` (``LOOKUP_CAP``)."""
    values = " ".join(f"<{iri}>" for iri in iris)
    predicates = " ".join(f"<{p}>" for p in LABEL_PREDICATES)
    return f"SELECT ?t ?p ?l WHERE {{ VALUES ?t {{ {values} }} VALUES ?p {{ {predicates} }} ?t ?p ?l FILTER(isLiteral(?l)) }}"


def best(rows, lang: str) -> dict[str, str]:
    """``{iri: label}`` from the rows of ``labels_query``: the first label predicate a term has (in
    ``LABEL_PREDICATES`` order, as ``Labeller.label``), its value in ``lang`` as ``pick`` chooses."""
    found: dict[str, dict[int, dict[str, str]]] = {}
    rank = {p: i for i, p in enumerate(LABEL_PREDICATES)}
    for row in rows:
        literal = row["l"]
        found.setdefault(row["t"].value, {}).setdefault(rank[row["p"].value], {}).setdefault(
            literal.language or "", literal.value)
    return {iri: pick(by_rank[min(by_rank)], lang) for iri, by_rank in found.items()}


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None
    iri: str | None
    lang: str | None = None  # a literal's language tag when it is not the page's (shown as a badge)
    code: bool = False  # an identifier or a code (shown as such, never translated)


class Labeller:
    """Labels of terms looked up in a store (cached for one page), rendered as links."""

    def __init__(self, store: ox.Store, base: str, lang: str = "fr"):
        self.store, self.base, self.lang = store, base, lang
        self._cache: dict[str, str | None] = {}

    def label(self, iri: str) -> str | None:
        if iri not in self._cache:
            values: dict[str, str] = {}
            node = ox.NamedNode(iri)
            for predicate in LABEL_PREDICATES:
                for quad in self.store.quads_for_pattern(node, ox.NamedNode(predicate), None, None):
                    if isinstance(quad.object, ox.Literal):
                        values.setdefault(quad.object.language or "", quad.object.value)
                if values:
                    break
            self._cache[iri] = pick(values, self.lang)
        return self._cache[iri]

    def link(self, term) -> Link:
        if isinstance(term, ox.NamedNode):
            iri = term.value
            path = local_path(iri, self.base)
            text = self.label(iri) or prefixed(iri) or (path.rsplit("/", 1)[-1] if path else iri)
            return Link(text, path or (iri if is_web_link(iri) else None), iri)
        if isinstance(term, ox.Literal):
            return Link(term.value, None, None, term.language if term.language and term.language != self.lang else None)
        return Link("[…]", None, None)
