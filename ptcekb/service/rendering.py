"""Documents the service writes from triples of its own (VoID, the SPARQL service description), in the
representation the client negotiates: a registry from representation to renderer, as serializers.py
is for SPARQL results. RDF clients get the triples (Turtle, JSON-LD, RDF/XML, N-Triples, ``*/*``
first to Turtle); a browser (``text/html`` first) gets a page in its language: every IRI by its
label (labels.py: the store's labels, local translations included), literals of the page's language
only when there are some, language tags as badges, blank nodes nested under what points to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pyoxigraph as ox
from fastapi import Request
from fastapi.responses import Response

from ..labels import Labeller, Link, in_language
from ..namespaces import DCTERMS, IGEO, RDF, SKOS
from .documents import language
from .http import CORS_HEADERS, error_response
from .negotiation import HTML, RDF_REPRESENTATIONS, Representation, by_name, negotiate


@dataclass
class TripleDocument:
    """What a renderer gets: the triples, the IRI the document is about (shown first), its title (a
    word of ptcekb/i18n.py) and the prefixes of its RDF forms."""

    request: Request
    triples: list[ox.Triple]
    about: str
    title: str
    prefixes: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


Renderer = Callable[[Representation, TripleDocument], Response]
RENDERERS: dict[Representation, Renderer] = {}  # in the order offered: RDF first, then HTML
NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "rdf": "RDF/XML", "nt": "N-Triples"}
IDENTIFIERS = {str(DCTERMS.identifier), str(SKOS.notation), str(IGEO.codeINSEE)}  # values shown as code


def renderer(*representations: Representation) -> Callable[[Renderer], Renderer]:
    def register(function: Renderer) -> Renderer:
        for representation in representations:
            RENDERERS[representation] = function
        return function
    return register


def offers() -> tuple[Representation, ...]:
    return tuple(RENDERERS)


def render(document: TripleDocument, requested: str | None = None) -> Response:
    """``requested`` (``?format=``) wins over ``Accept``; 406 when nothing offered is acceptable."""
    request = document.request
    representation = (by_name(requested, offers()) if requested
                      else negotiate(request.headers.get("accept"), offers()))
    if representation is None:
        types = ", ".join(r.media_type for r in offers())
        return error_response(406, f"406: offered as {types} / aucun format acceptable", {"Vary": "Accept"})
    response = RENDERERS[representation](representation, document)
    response.headers.update({**CORS_HEADERS, "Vary": "Accept, Accept-Language, Cookie", **document.headers})
    return response


@renderer(*RDF_REPRESENTATIONS)
def rdf(representation: Representation, document: TripleDocument) -> Response:
    body = ox.serialize(document.triples, format=representation.rdf_format, prefixes=document.prefixes)
    return Response(body, media_type=representation.content_type)


# --------------------------------------------------------------------------------------------
# HTML


@dataclass
class Node:
    """A subject and its properties; a blank node pointed to once is a Node inside a value list."""

    link: Link
    rows: list[tuple[Link, list]] = field(default_factory=list)


def tree(triples: list[ox.Triple], about: str, labeller: Labeller) -> list[Node]:
    """The subjects of ``triples``, ``about`` first then by label, each with its properties grouped
    by predicate (rdf:type first, then by label); blank nodes referenced once are nested."""
    by_subject: dict = {}
    references: dict = {}
    for triple in triples:
        by_subject.setdefault(triple.subject, []).append(triple)
        if isinstance(triple.object, ox.BlankNode):
            references[triple.object] = references.get(triple.object, 0) + 1
    nested = {node for node, count in references.items() if count == 1 and node in by_subject}
    placed: set = set()

    def build(subject, path: frozenset) -> Node:
        placed.add(subject)
        grouped: dict[str, list] = {}
        for triple in by_subject.get(subject, []):
            grouped.setdefault(triple.predicate.value, []).append(triple.object)
        order = sorted(grouped, key=lambda p: (p != str(RDF.type), (labeller.label(p) or p).lower()))
        rows = []
        for predicate in order:
            values = []
            for value in in_language(grouped[predicate], labeller.lang):
                if value in nested and value not in path:
                    values.append(build(value, path | {value}))
                elif isinstance(value, ox.Literal) and predicate in IDENTIFIERS:
                    values.append(Link(value.value, None, None, code=True))
                else:
                    values.append(labeller.link(value))
            rows.append((labeller.link(ox.NamedNode(predicate)), values))
        return Node(labeller.link(subject), rows)

    root = ox.NamedNode(about)
    subjects = [s for s in by_subject if s not in nested]
    subjects.sort(key=lambda s: (s != root, isinstance(s, ox.BlankNode), labeller.link(s).text.lower()))
    nodes = [build(subject, frozenset({subject})) for subject in subjects]
    nodes += [build(node, frozenset({node})) for node in by_subject if node not in placed]  # cycles of blank nodes
    return nodes


@renderer(HTML)
def html(representation: Representation, document: TripleDocument) -> Response:
    request = document.request
    kb, lang = request.app.state.kb, language(request)
    labeller = Labeller(kb.store(), kb.settings.ns.base, lang)
    nodes = tree(document.triples, document.about, labeller)
    formats = [(NAMES[r.suffix], r.suffix) for r in RDF_REPRESENTATIONS]
    response = request.app.state.templates.TemplateResponse(request, "graph.html", {
        "title": document.title, "nodes": nodes, "formats": formats, "about": document.about})
    response.headers["Content-Language"] = lang
    return response
