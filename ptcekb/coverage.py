"""The coverage of the knowledge base, counted by each build into ``graph/meta`` (issue 22, item 5).

Three sets of figures, each a node ``ptce:Couverture`` whose ``dcterms:subject`` is what it counts:

- per call of ``data/calls.yaml``: the lauréats the base names (``ptce:knownLaureateCount``: the PTCEs
  a ``ptce:Selection`` of the call selects) and the count the State announced (``ptce:laureateCount``,
  the call's asserted value), with that count's sources (``prov:wasDerivedFrom``);
- per curated PTCE: its facts (``ptce:factCount``: the nodes of its description that carry sources,
  its statement nodes, selections, memberships, carrier, dated values, territories) and the distinct
  sources they derive from (``ptce:sourceCount``), by the provenance pattern of docs/data-model.md §7;
- per element of article 9 (a group of shapes/article9.ttl): how many PTCEs our sources document it
  for, and contradict it for (``ptce:documentedCount``, ``ptce:contradictedCount``), from the one
  computation of ``ptcekb.documentation``.

``triples`` runs when the build publishes the store (``ptcekb.build``), so a request only reads them
(``read``); /coverage, /coverage.json and the VoID description (all of graph/meta) show them.
"""

from __future__ import annotations

from typing import Iterator

import pyoxigraph as ox

from .config import Settings
from .documentation import ELEMENTS, document_curated, summary
from .labels import Labeller
from .namespaces import DCTERMS, PREFIXES, PROV, PTCE, RDF
from .rdf import integer, iri, triple

_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
CALLS = """SELECT ?call ?announced (COUNT(DISTINCT ?laureate) AS ?known) WHERE {
  GRAPH <{calls}> { ?call a ptce:AppelAProjets OPTIONAL { ?call ptce:laureateCount ?announced } }
  OPTIONAL { GRAPH <{ptce}> { ?selection a ptce:Selection ; ptce:call ?call ; ptce:selected ?laureate } } }
GROUP BY ?call ?announced"""
# the sources of the announced count: its statement node's (docs/data-model.md §7)
ANNOUNCED_SOURCES = """SELECT ?call ?source WHERE { GRAPH <{calls}> { ?call ptce:laureateCount ?n .
  ?node rdf:subject ?call ; rdf:predicate ptce:laureateCount ; rdf:object ?n ; prov:wasDerivedFrom ?source } }"""
PTCES = """SELECT ?ptce (COUNT(DISTINCT ?node) AS ?facts) (COUNT(DISTINCT ?source) AS ?sources) WHERE {
  GRAPH <{ptce}> { ?ptce a ptce:PTCE
    OPTIONAL { ?node prov:wasDerivedFrom ?source FILTER(?node = ?ptce || STRSTARTS(STR(?node), CONCAT(STR(?ptce), "#"))) } } }
GROUP BY ?ptce"""
KINDS = ("call", "ptce", "element")
READ = """SELECT ?node ?subject ?p ?o WHERE { GRAPH <{meta}> { ?node a ptce:Couverture ; dcterms:subject ?subject ; ?p ?o
  FILTER(?p IN (ptce:knownLaureateCount, ptce:laureateCount, prov:wasDerivedFrom, ptce:factCount, ptce:sourceCount,
                ptce:documentedCount, ptce:contradictedCount)) } }"""


def _query(store, query: str, settings: Settings):
    ns = settings.ns
    text = query.replace("{calls}", ns.graph("calls")).replace("{ptce}", ns.graph("ptce")).replace("{meta}", ns.meta_graph)
    return store.query(_PREFIXES + text)


def triples(store: ox.Store, settings: Settings) -> Iterator[ox.Triple]:
    """The coverage figures of a store whose graphs are all loaded (nothing when the curated graphs,
    the calls or the shapes are not among them: a partial build)."""
    graphs = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    if not {settings.ns.graph(g) for g in ("ptce", "calls", "shapes")} <= graphs:
        return
    activity = iri(settings.ns.meta_graph + "#build")
    out: list[ox.Triple] = []

    def node(kind: str, key: str, subject: str) -> ox.NamedNode:
        figure = iri(f"{settings.ns.meta_graph}#coverage-{kind}-{key}")
        out.extend((triple(figure, RDF.type, iri(PTCE.Couverture)), triple(figure, DCTERMS.subject, iri(subject)),
                    triple(figure, PROV.wasGeneratedBy, activity)))
        return figure

    for row in _query(store, CALLS, settings):
        call = row["call"].value
        figure = node("call", call.rsplit("/", 1)[-1], call)
        out.append(triple(figure, iri(PTCE.knownLaureateCount), integer(int(row["known"].value))))
        if row["announced"] is not None:
            out.append(triple(figure, iri(PTCE.laureateCount), row["announced"]))
    for row in _query(store, ANNOUNCED_SOURCES, settings):
        figure = iri(f"{settings.ns.meta_graph}#coverage-call-{row['call'].value.rsplit('/', 1)[-1]}")
        out.append(triple(figure, PROV.wasDerivedFrom, row["source"]))
    for row in _query(store, PTCES, settings):
        ptce = row["ptce"].value
        figure = node("ptce", ptce.rsplit("/", 1)[-1], ptce)
        out.append(triple(figure, iri(PTCE.factCount), integer(int(row["facts"].value))))
        out.append(triple(figure, iri(PTCE.sourceCount), integer(int(row["sources"].value))))
    for element in summary(document_curated(store, settings, None), "fr")["elements"]:
        figure = node("element", element["key"], element["group"])
        out.append(triple(figure, iri(PTCE.documentedCount), integer(element["documented"])))
        out.append(triple(figure, iri(PTCE.contradictedCount), integer(element["contradicted"])))
    yield from out


def read(store, settings: Settings) -> dict:
    """The figures of graph/meta, with the labels of what they count in French and English (the JSON
    of /coverage.json; the page picks its language). Empty lists when the build wrote none."""
    figures: dict[str, dict] = {}
    for row in _query(store, READ, settings):
        figure = figures.setdefault(row["node"].value, {"iri": row["subject"].value})
        name = row["p"].value.rsplit("#", 1)[-1]
        if name == "wasDerivedFrom":
            figure.setdefault("announced_sources", []).append(row["o"].value)
        else:
            figure[name] = int(row["o"].value)
    labellers = {lang: Labeller(store, settings.ns.base, lang) for lang in ("fr", "en")}
    out: dict[str, list] = {kind: [] for kind in KINDS}
    for key, figure in figures.items():
        kind = key.rsplit("#coverage-", 1)[-1].split("-", 1)[0]
        figure["label"] = {lang: labeller.label(figure["iri"]) for lang, labeller in labellers.items()}
        if kind == "call":
            figure = {"iri": figure["iri"], "label": figure["label"], "known": figure.get("knownLaureateCount", 0),
                      "announced": figure.get("laureateCount"),
                      "announced_sources": [{"iri": source, "title": labellers["fr"].label(source)}
                                            for source in sorted(figure.get("announced_sources", []))]}
        elif kind == "ptce":
            figure = {"iri": figure["iri"], "label": figure["label"], "facts": figure.get("factCount", 0),
                      "sources": figure.get("sourceCount", 0)}
        else:
            figure = {"iri": figure["iri"], "label": figure["label"], "documented": figure.get("documentedCount", 0),
                      "contradicted": figure.get("contradictedCount", 0)}
        out[kind].append(figure)
    out["call"].sort(key=lambda f: f["iri"])
    out["ptce"].sort(key=lambda f: (f["label"]["fr"] or f["iri"]).casefold())
    out["element"].sort(key=lambda f: ELEMENTS.index(f["iri"]) if f["iri"] in ELEMENTS else len(ELEMENTS))
    return {"calls": out["call"], "ptces": out["ptce"], "article9": out["element"]}
