"""The page of one resource and the registry that picks its view by ``rdf:type``.

A view is a template plus a function that adds what that kind of resource needs (a PTCE's members,
a territory's hierarchy...). Every page also shows the generic part: all the resource's properties
and its incoming links, so nothing the store holds is hidden by a specialised view.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Callable

import pyoxigraph as ox

from ...describe import Description, document_of
from ...labels import Labeller, Link, in_language
from ...namespaces import PREFIXES, RDF
from ...sparql_text import bind_iris

if TYPE_CHECKING:
    from ..pagequery import Budget

_TYPE = str(RDF.type)
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())


@dataclass
class Page:
    """What a view reads: the resource, its description, the store, the reader's language."""

    iri: str
    description: Description
    store: ox.Store
    labeller: Labeller
    lang: str
    base: str
    compliance: Callable[[str], object] | None = None  # PTCE IRI -> article-9 report (set by the service)
    # The page's SPARQL, run by the query workers under the page's time limit (pagequery.py);
    # None: straight on ``store`` (outside the service).
    queries: "Budget | None" = None

    @cached_property
    def types(self) -> list[str]:
        return [t.object.value for t in self.own if t.predicate.value == _TYPE and isinstance(t.object, ox.NamedNode)]

    @cached_property
    def own(self) -> list[ox.Triple]:
        return [t for t in self.description.triples if isinstance(t.subject, ox.NamedNode) and t.subject.value == self.iri]

    def type_links(self) -> list[Link]:
        return [self.link(ox.NamedNode(t)) for t in self.types]

    @property
    def title(self) -> str:
        return self.labeller.label(self.iri) or self.iri.rsplit("/", 1)[-1]

    def link(self, term) -> Link:
        return self.labeller.link(term)

    def values(self, predicate, subject: str | None = None) -> list:
        """Distinct objects of ``subject`` (default: the resource) for ``predicate``, from every graph."""
        found = {}
        for quad in self.store.quads_for_pattern(ox.NamedNode(subject or self.iri), ox.NamedNode(str(predicate)), None, None):
            found.setdefault(quad.object, None)
        return list(found)

    def _text(self, query: str, iris: dict[str, str]) -> str:
        """The query over the union of the graphs, ``$this`` and each ``$name`` bound to their IRIs."""
        return SPARQL_PREFIXES + bind_iris(query, {"this": self.iri, **iris})

    def ask(self, query: str, **iris: str) -> bool:
        """Raises ``pagequery.Unanswered`` when the query had no answer in time (see ``section``)."""
        if self.queries is not None:
            return self.queries.ask(self._text(query, iris))
        return bool(self.store.query(self._text(query, iris), use_default_graph_as_union=True))

    def rows(self, query: str, **iris: str) -> list[dict]:
        """Raises ``pagequery.Unanswered`` when the query had no answer in time (see ``section``)."""
        if self.queries is not None:
            return self.queries.select(self._text(query, iris))
        solutions = self.store.query(self._text(query, iris), use_default_graph_as_union=True)
        names = [v.value for v in solutions.variables]
        return [{name: solution[name] for name in names} for solution in solutions]

    def section(self, name: str, compute: Callable[[], Any], fallback: Any = None) -> Any:
        """``compute()``; or, when one of its queries had no answer in time, ``fallback``, and the
        section ``name`` (a word of ptcekb/i18n.py) is listed in ``missing``: the page says so."""
        if self.queries is None:
            return compute()
        return self.queries.section(name, compute, fallback)

    @property
    def missing(self) -> list[str]:
        return self.queries.missing if self.queries is not None else []

    def properties(self) -> list[tuple[Link, list[Link]]]:
        """The resource's own triples grouped by predicate, predicates in label order, rdf:type first."""
        grouped: dict[str, list] = {}
        for triple in self.own:
            grouped.setdefault(triple.predicate.value, []).append(triple.object)
        order = sorted(grouped, key=lambda p: (p != _TYPE, (self.labeller.label(p) or p).lower()))
        return [(self.link(ox.NamedNode(p)), [self.link(o) for o in in_language(grouped[p], self.lang)]) for p in order]

    def incoming(self) -> list[tuple[Link, Link]]:
        """Links pointing to the resource from other resources (this page of them)."""
        inner = document_of(self.iri) + "#"
        return [(self.link(t.subject), self.link(t.predicate)) for t in self.description.triples
                if isinstance(t.object, ox.NamedNode) and t.object.value == self.iri
                and not (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(inner))
                and not isinstance(t.subject, ox.BlankNode)]


@dataclass(frozen=True)
class View:
    template: str
    classes: tuple[str, ...]
    context: Callable[[Page], dict]


_VIEWS: list[View] = []


def view(template: str, *classes) -> Callable:
    """Register ``function(page) -> dict`` as the view of resources typed with one of ``classes``."""
    def register(function: Callable[[Page], dict]) -> Callable[[Page], dict]:
        _VIEWS.append(View(template, tuple(str(c) for c in classes), function))
        return function
    return register


GENERIC = View("resource.html", (), lambda page: {})


def select(types: list[str]) -> View:
    """The first registered view whose classes the resource has; the generic view otherwise."""
    for candidate in _VIEWS:
        if any(c in types for c in candidate.classes):
            return candidate
    return GENERIC
