"""Content negotiation: Accept headers with q-values, ``?format=`` and file suffixes."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: each is a constant
class Representation:
    media_type: str
    suffix: str
    rdf_format: ox.RdfFormat | None  # None for HTML and for SPARQL query results
    results_format: ox.QueryResultsFormat | None = None  # SPARQL results (SELECT/ASK) only

    @property
    def content_type(self) -> str:
        return f"{self.media_type}; charset=utf-8"


HTML = Representation("text/html", "html", None)
RDF_REPRESENTATIONS = (
    Representation("text/turtle", "ttl", ox.RdfFormat.TURTLE),
    Representation("application/ld+json", "jsonld", ox.RdfFormat.JSON_LD),
    Representation("application/rdf+xml", "rdf", ox.RdfFormat.RDF_XML),
    Representation("application/n-triples", "nt", ox.RdfFormat.N_TRIPLES),
)
DOCUMENT_REPRESENTATIONS = (HTML, *RDF_REPRESENTATIONS)
BY_SUFFIX = {r.suffix: r for r in DOCUMENT_REPRESENTATIONS}
ALIASES = {"turtle": "ttl", "json-ld": "jsonld", "json": "jsonld", "rdfxml": "rdf", "xml": "rdf", "ntriples": "nt"}


# SPARQL query results (SELECT, ASK): the standard types first, then loose aliases, then HTML,
# so that ``*/*`` gets SPARQL JSON and a browser (``text/html`` first) gets the HTML page.
RESULTS_REPRESENTATIONS = (
    Representation("application/sparql-results+json", "srj", None, ox.QueryResultsFormat.JSON),
    Representation("application/sparql-results+xml", "srx", None, ox.QueryResultsFormat.XML),
    Representation("text/csv", "csv", None, ox.QueryResultsFormat.CSV),
    Representation("text/tab-separated-values", "tsv", None, ox.QueryResultsFormat.TSV),
    Representation("application/json", "json", None, ox.QueryResultsFormat.JSON),
    Representation("application/xml", "xml", None, ox.QueryResultsFormat.XML),
    HTML,
)
RESULTS_ALIASES = {"json": "srj", "xml": "srx", "sparql-results+json": "srj", "sparql-results+xml": "srx"}
# RDF graphs (CONSTRUCT, DESCRIBE): the document formats plus the dataset formats (default graph).
GRAPH_REPRESENTATIONS = (
    *RDF_REPRESENTATIONS,
    Representation("application/trig", "trig", ox.RdfFormat.TRIG),
    Representation("application/n-quads", "nq", ox.RdfFormat.N_QUADS),
    Representation("text/plain", "txt", ox.RdfFormat.N_TRIPLES),  # legacy N-Triples type
    HTML,
)
GRAPH_ALIASES = {**ALIASES, "nquads": "nq", "n-quads": "nq", "n-triples": "nt"}


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges with their q-values, best first (stable for equal q); malformed ranges are skipped."""
    if not header or not header.strip():
        return [("*/*", 1.0)]
    ranges = []
    for position, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if media.count("/") != 1:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media, q, -_specificity(media), position))
    ranges.sort(key=lambda r: (-r[1], r[2], r[3]))
    return [(media, q) for media, q, _, _ in ranges]


def _specificity(media: str) -> int:
    return 0 if media == "*/*" else 1 if media.endswith("/*") else 2


def _matches(media_range: str, media_type: str) -> bool:
    if media_range == "*/*":
        return True
    if media_range.endswith("/*"):
        return media_type.startswith(media_range[:-1])
    return media_range == media_type


@lru_cache(maxsize=512)  # clients send the same few Accept headers again and again
def negotiate(accept: str | None, offers: tuple[Representation, ...]) -> Representation | None:
    """The offer the client prefers (ties go to the server's order), or None when none is acceptable.

    An explicit ``q=0`` on a more specific range excludes that type even if ``*/*`` is accepted.
    """
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for index, offer in enumerate(offers):
        matching = [(media, q) for media, q in ranges if _matches(media, offer.media_type)]
        if not matching:
            continue
        media, q = max(matching, key=lambda m: _specificity(m[0]))
        if q > best_q:
            best, best_q = offer, q
    return best


def by_name(name: str, offers: tuple[Representation, ...] = DOCUMENT_REPRESENTATIONS,
            aliases: dict[str, str] = ALIASES) -> Representation | None:
    """A representation named by ``?format=`` or a suffix (``ttl``, ``turtle``, ``text/turtle``...)."""
    key = name.strip().lower()
    key = aliases.get(key, key)
    return next((r for r in offers if key in (r.suffix, r.media_type)), None)
