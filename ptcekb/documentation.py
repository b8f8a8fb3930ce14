"""Article 9 of the knowledge base's curated PTCEs, as documentation rather than a verdict.

One computation for every place that speaks of a curated PTCE's article 9 (its page, the PTCE list,
``/validate?ptce=``, ``ptcekb validate --ptce``): ``document_curated`` validates the whole curated
graph once with the strict shapes (``validate.validate``, the same run a publisher's file gets), then
classifies each violation of an element of the law:

- *not documented in our sources*: a missing-value constraint failed (``sh:minCount``,
  ``sh:qualifiedMinCount``), or an ESS member's commune is unknown (the territory constraint);
- *contradicted*: a value that is present goes against the element (a type of the negative
  definition, a member located outside the territory, any other constraint failed by a value),
  shown with that fact and its sources;
- *documented*: no violation; shown with the facts that document it and their sources (the
  curated data gives every triple its sources with ``prov:wasDerivedFrom``, docs/data-model.md §7).

A curated PTCE is never called non-compliant because facts are missing: the sources we read are not
the PTCE's own declaration. A publisher's upload keeps the strict verdict (validate.py).
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef

from .config import Settings
from .files import replaced_atomically
from .labels import pick
from .namespaces import DCTERMS, FOAF, IGEO, PREFIXES, RDF, RDFS, SH, SKOS
from .sparql_text import bind_iris
from .i18n import report_words, translator
from .validate import Finding, Report, ValidationContext, graph_of, render_rdf, validate

SHAPES = "https://w3id.org/ptce/shapes#"
# The elements of article 9 (the groups of shapes/article9.ttl), in the order of the law, then the
# negative definition (from the research on PTCEs: it can be contradicted, never "documented").
ELEMENTS = tuple(SHAPES + g for g in (
    "Groupe-Art9-1", "Groupe-Art9-2", "Groupe-Art9-3", "Groupe-Art9-4", "Groupe-Art9-5", "Groupe-Art9-6",
    "Groupe-Art9-7", "Groupe-Art9-Negatif"))
NEGATIVE = SHAPES + "Groupe-Art9-Negatif"
STATUSES = ("documented", "undocumented", "contradicted", "uncontradicted")
MISSING_VALUE = {str(SH.MinCountConstraintComponent), str(SH.QualifiedMinCountConstraintComponent)}
# Constraints whose value is a member: contradicted only when the member's location is known.
LOCATED = {SHAPES + "Art9-2-MembresESSSurLeTerritoire"}
MODEL_GRAPHS = ("ontology", "vocabularies")
LABELS = (SKOS.prefLabel, RDFS.label, FOAF.name, IGEO.nom, DCTERMS.title)

_PREFIXES = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items()) + """
PREFIX cj: <https://w3id.org/ptce/concept/categories-juridiques/>
PREFIX fj: <https://w3id.org/ptce/concept/formes-juridiques/>
PREFIX mode: <https://w3id.org/ptce/concept/modes-cooperation/>
PREFIX innov: <https://w3id.org/ptce/concept/types-innovation/>
PREFIX cv: <http://data.europa.eu/m8g/>
"""
_MEMBER = "(org:hasMember|^org:organization/org:member)"
# The facts that document each element, as the shapes of shapes/article9.ttl read them: rows
# ?ptce ?s ?p ?o, each (?s ?p ?o) a triple of the data.
EVIDENCE = {
    SHAPES + "Groupe-Art9-1": f"""SELECT ?ptce ?s ?p ?o WHERE {{ ?ptce a ptce:PTCE ; {_MEMBER} ?s .
  {{ ?s rdf:type ?o . ?o rdfs:subClassOf* ptce:EntrepriseESS BIND(rdf:type AS ?p) }}
  UNION {{ ?s ptce:essFlag ?o FILTER(?o = true) BIND(ptce:essFlag AS ?p) }}
  UNION {{ ?s ptce:legalCategory ?o . cj:ess-par-statut skos:member/skos:member ?o BIND(ptce:legalCategory AS ?p) }}
  UNION {{ ?s ptce:legalForm ?o . ?o skos:broader* ?form FILTER(?form IN (fj:association, fj:cooperative))
           BIND(ptce:legalForm AS ?p) }} }}""",
    SHAPES + "Groupe-Art9-2": """SELECT ?ptce ?s ?p ?o WHERE { ?ptce a ptce:PTCE ; ptce:territory ?o
  BIND(?ptce AS ?s) BIND(ptce:territory AS ?p) }""",
    SHAPES + "Groupe-Art9-3": f"""SELECT ?ptce ?s ?p ?o WHERE {{ ?ptce a ptce:PTCE ; {_MEMBER} ?s .
  {{ ?s rdf:type ?o . ?o rdfs:subClassOf* ptce:EntrepriseHorsESS BIND(rdf:type AS ?p) }}
  UNION {{ ?s ptce:essFlag ?o FILTER(?o = false) BIND(ptce:essFlag AS ?p) }} }}""",
    SHAPES + "Groupe-Art9-4": f"""SELECT ?ptce ?s ?p ?o WHERE {{ ?ptce a ptce:PTCE ;
    ({_MEMBER}|ptce:project/prov:wasAssociatedWith|ptce:mobilisedResource/ptce:resourceProvider) ?s .
  ?s rdf:type ?o . ?o rdfs:subClassOf* ?partner
  FILTER(?partner IN (ptce:CollectiviteTerritoriale, ptce:GroupementDeCollectivites, cv:PublicOrganisation,
    ptce:CentreDeRecherche, ptce:EtablissementEnseignementSuperieurRecherche, ptce:OrganismeDeFormation,
    ptce:AutrePersonne)) BIND(rdf:type AS ?p) }}""",
    SHAPES + "Groupe-Art9-5": """SELECT ?ptce ?s ?p ?o WHERE { ?ptce a ptce:PTCE ; ptce:strategy ?s .
  ?s ptce:cooperationMode ?o FILTER(?o IN (mode:mutualisation, mode:cooperation, mode:partenariat))
  BIND(ptce:cooperationMode AS ?p) }""",
    SHAPES + "Groupe-Art9-6": """SELECT ?ptce ?s ?p ?o WHERE { ?ptce a ptce:PTCE ; ptce:project ?s .
  ?s ptce:innovationType ?o FILTER(?o IN (innov:sociale, innov:technologique)) BIND(ptce:innovationType AS ?p) }""",
    SHAPES + "Groupe-Art9-7": """SELECT ?ptce ?s ?p ?o WHERE {
  { ?ptce a ptce:PTCE ; ptce:localDevelopmentContribution ?o BIND(?ptce AS ?s) }
  UNION { ?ptce a ptce:PTCE ; ptce:project ?s . ?s ptce:localDevelopmentContribution ?o }
  BIND(ptce:localDevelopmentContribution AS ?p) }""",
    # the negative definition: the facts that contradict it
    NEGATIVE: """SELECT ?ptce ?s ?p ?o WHERE { ?ptce a ptce:PTCE ; rdf:type ?o . ?o rdfs:subClassOf* ?class
  FILTER(?class IN (ptce:PoleDeCompetitivite, ptce:ReseauOuRegroupement, ptce:AgenceDeDeveloppement))
  BIND(?ptce AS ?s) BIND(rdf:type AS ?p) }""",
}
LOCATION = """SELECT ?s ?p ?o WHERE {
  { BIND($member AS ?s) ?s ptce:commune ?o }
  UNION { $member (org:hasSite|org:hasRegisteredSite|^org:siteOf) ?s . ?s ptce:commune ?o }
  BIND(ptce:commune AS ?p) }"""
# The sources of every triple, by the one pattern of docs/data-model.md §7: its statement node's, or
# else those of its subject when that node carries its own (a selection, a membership, a carrier...).
STATEMENTS = """SELECT ?s ?p ?o ?source WHERE {
  { ?statement rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o ; prov:wasDerivedFrom ?source }
  UNION { ?s prov:wasDerivedFrom ?source . ?s ?p ?o
          FILTER NOT EXISTS { ?other rdf:subject ?s ; rdf:predicate ?p ; rdf:object ?o } } }"""


@dataclass
class Fact:
    """A triple of the data with its labels (by language) and the sources that state it."""

    subject: str
    subject_label: dict[str, str]
    predicate: str
    predicate_label: dict[str, str]
    object: str
    object_label: dict[str, str]
    object_is_iri: bool
    sources: list[str]


@dataclass
class Element:
    group: str  # the sh:PropertyGroup of the element
    label: dict[str, str]
    status: str  # one of STATUSES
    facts: list[Fact] = field(default_factory=list)  # documenting it, or contradicting it
    missing: list[dict[str, str]] = field(default_factory=list)  # names of what no source documents

    @property
    def key(self) -> str:
        return self.group.rsplit("#", 1)[-1].removeprefix("Groupe-")


@dataclass
class PTCEDocumentation:
    """One curated PTCE: each element of article 9 and every finding of the strict validation."""

    iri: str
    label: str
    elements: list[Element]
    findings: list[Finding]
    results: bytes  # its part of the SHACL report (sh:ValidationReport), N-Triples

    def counts(self) -> dict[str, int]:
        return {status: sum(1 for e in self.elements if e.status == status) for status in STATUSES}

    def severities(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in ("violation", "warning", "info")}

    def report(self) -> Report:
        """Its findings as a SHACL validation report (Turtle, JSON-LD)."""
        return combined_report([self])

    def view(self, lang: str, href: Callable[[str], str | None] = lambda iri: iri) -> dict:
        """What the templates show, in ``lang``; ``href`` maps an IRI to the link shown (None: no link)."""
        def fact(f: Fact) -> dict:
            return {"subject": pick(f.subject_label, lang), "subject_href": href(f.subject),
                    "predicate": pick(f.predicate_label, lang), "predicate_href": href(f.predicate),
                    "object": pick(f.object_label, lang), "object_href": href(f.object) if f.object_is_iri else None,
                    "sources": f.sources}
        return {
            "iri": self.iri, "label": self.label, "counts": self.counts(), "severities": self.severities(),
            "elements": [{"key": e.key, "label": pick(e.label, lang), "status": e.status,
                          "facts": [fact(f) for f in e.facts], "missing": [pick(m, lang) for m in e.missing]}
                         for e in self.elements],
        }


_CACHE_VERSION = f"1 python {sys.version_info[:2]} rdflib {rdflib.__version__}"
_CACHE_SUFFIX = ".documentation.pickle"


def documented(store, settings: Settings, key) -> dict[str, PTCEDocumentation]:
    """``document_curated`` once per published build: when ``key`` is the build's directory, the result
    is kept next to it (``{build}.documentation.pickle``), so the service and the command line read the
    same computation; the build is immutable, so it is never stale (rewritten if unreadable)."""
    cache = key.with_name(key.name + _CACHE_SUFFIX) if isinstance(key, Path) and key.is_dir() else None
    if cache is not None:
        try:
            with open(cache, "rb") as stream:
                saved = pickle.load(stream)
            if saved.get("version") == _CACHE_VERSION and saved.get("base") == settings.base_iri:
                return saved["documentation"]
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError,
                ValueError, KeyError):
            pass
    documentation = document_curated(store, settings, key)
    if cache is not None:
        try:
            with replaced_atomically(cache) as partial, open(partial, "wb") as stream:
                pickle.dump({"version": _CACHE_VERSION, "base": settings.base_iri, "documentation": documentation},
                            stream, protocol=pickle.HIGHEST_PROTOCOL)
            for other in cache.parent.glob("*" + _CACHE_SUFFIX):  # the caches of builds that are gone
                if not other.with_name(other.name[: -len(_CACHE_SUFFIX)]).is_dir():
                    other.unlink(missing_ok=True)
        except OSError:  # a read-only store is no error
            pass
    return documentation


def document_curated(store, settings: Settings, key) -> dict[str, PTCEDocumentation]:
    """Every PTCE of the curated graph (``graph/ptce``): one validation, its findings classified."""
    context = ValidationContext(store, settings, key if isinstance(key, Path) else None)
    triples = [q.triple for q in store.quads_for_pattern(None, None, None, ox.NamedNode(settings.ns.graph("ptce")))]
    data = graph_of(triples)
    report = validate(data, context)
    # The evidence is read on the same data the shapes saw: the curated graph, the model, the
    # reference extract (no inference; class membership by rdfs:subClassOf*).
    mirror = ox.Store()
    mirror.extend(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    for name in MODEL_GRAPHS:
        mirror.extend(ox.Quad(q.subject, q.predicate, q.object)
                      for q in store.quads_for_pattern(None, None, None, ox.NamedNode(settings.ns.graph(name))))
    mirror.extend(ox.Quad(t.subject, t.predicate, t.object) for t in context.reference_extract(data))
    reader = _Reader(mirror)
    evidence: dict[tuple[str, str], list[Fact]] = {}
    for group, query in EVIDENCE.items():
        for row in mirror.query(_PREFIXES + query):
            evidence.setdefault((row["ptce"].value, group), []).append(reader.fact(row["s"], row["p"], row["o"], row["ptce"]))
    groups = {g: _texts(context.shapes, URIRef(g), RDFS.label) for g in ELEMENTS}
    out = {}
    for ptce, label in sorted(report.ptces.items(), key=lambda item: item[1]):
        findings = report.findings.get(ptce, [])
        elements = []
        for group in ELEMENTS:
            violations = [f for f in findings if f.severity == "violation" and f.group_iri == group]
            contradicting, missing = [], []
            for finding in violations:
                facts = reader.contradicting(finding, evidence.get((ptce, group), []), report.results)
                if facts is None:
                    missing.append(finding.name)
                else:
                    contradicting += facts
            if contradicting:
                status, facts = "contradicted", contradicting
            elif violations:
                status, facts = "undocumented", evidence.get((ptce, group), [])
            else:
                status = "uncontradicted" if group == NEGATIVE else "documented"
                facts = [] if group == NEGATIVE else evidence.get((ptce, group), [])
            names = []
            for name in missing if not contradicting else []:
                if name not in names:
                    names.append(name)
            elements.append(Element(group, groups[group], status, _unique(facts), names))
        out[ptce] = PTCEDocumentation(ptce, label, elements, findings,
                                      _subreport(report.results, [f.node for f in findings], not any(
                                          f.severity == "violation" for f in findings)))
    return out


def summary(documentation: dict[str, PTCEDocumentation], lang: str) -> dict:
    """How well the base documents each element across its PTCEs (the ``_documentation.html`` partial)."""
    rows = {}
    for doc in documentation.values():
        for element in doc.elements:
            row = rows.setdefault(element.group, {"key": element.key, "label": pick(element.label, lang),
                                                  **{status: 0 for status in STATUSES}})
            row[element.status] += 1
    return {"total": len(documentation), "elements": [rows[g] for g in ELEMENTS if g in rows]}


class _Reader:
    """Labels and sources of the terms of the facts, read on the mirror of the validated data."""

    def __init__(self, mirror: ox.Store):
        self.mirror = mirror
        self.sources: dict[tuple, list[str]] = {}
        for row in mirror.query(_PREFIXES + STATEMENTS):
            self.sources.setdefault((row["s"], row["p"], row["o"]), []).append(row["source"].value)
        self._labels: dict = {}

    def labels(self, term) -> dict[str, str]:
        if isinstance(term, ox.Literal):
            return {"": term.value}
        if term not in self._labels:
            found: dict[str, str] = {}
            for predicate in LABELS:
                for quad in self.mirror.quads_for_pattern(term, ox.NamedNode(str(predicate)), None, None):
                    if isinstance(quad.object, ox.Literal):
                        found.setdefault(quad.object.language or "", quad.object.value)
                if found:
                    break
            self._labels[term] = found or {"": term.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
                                           if isinstance(term, ox.NamedNode) else "[…]"}
        return self._labels[term]

    def fact(self, s, p, o, ptce=None) -> Fact:
        sources = self.sources.get((s, p, o))
        if not sources and ptce is not None:
            # a fact on a member that no statement states (a class the curated data gives from the
            # member's legal form...): the sources that name that member in this PTCE
            sources = [src for (ss, _, oo), found in self.sources.items() if ss == ptce and oo == s for src in found]
        return Fact(s.value, self.labels(s), p.value, self.labels(p), o.value, self.labels(o),
                    isinstance(o, ox.NamedNode), sorted(set(sources or [])))

    def contradicting(self, finding: Finding, evidence: list[Fact], results: rdflib.Graph) -> list[Fact] | None:
        """The facts that contradict the element for this violation, or None: it is undocumented."""
        if finding.component in MISSING_VALUE:
            return None
        if finding.group_iri == NEGATIVE:
            return evidence or None
        if finding.shape in LOCATED:
            member = results.value(finding.node, SH.value) if finding.node is not None else None
            if not isinstance(member, URIRef):
                return None
            rows = self.mirror.query(_PREFIXES + bind_iris(LOCATION, {"member": str(member)}))
            facts = [self.fact(r["s"], r["p"], r["o"]) for r in rows]
            return facts or None
        value = results.value(finding.node, SH.value) if finding.node is not None else None
        path = results.value(finding.node, SH.resultPath) if finding.node is not None else None
        if value is None or not isinstance(path, URIRef):
            return None
        obj = ox.NamedNode(str(value)) if isinstance(value, URIRef) else (
            ox.Literal(str(value), language=value.language) if isinstance(value, Literal) and value.language else
            ox.Literal(str(value), datatype=ox.NamedNode(str(value.datatype))) if isinstance(value, Literal) and value.datatype
            else ox.Literal(str(value)))
        return [self.fact(ox.NamedNode(finding.focus), ox.NamedNode(str(path)), obj)]


def _texts(graph: rdflib.Graph, subject, predicate) -> dict[str, str]:
    return {(o.language or ""): str(o) for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def _unique(facts: list[Fact]) -> list[Fact]:
    seen, out = set(), []
    for f in facts:
        if (f.subject, f.predicate, f.object) not in seen:
            seen.add((f.subject, f.predicate, f.object))
            out.append(f)
    return sorted(out, key=lambda f: (pick(f.subject_label, "fr") or "", pick(f.object_label, "fr") or ""))


def _subreport(results: rdflib.Graph, nodes: list, conforms: bool) -> bytes:
    """The part of a SHACL report about these results: a sh:ValidationReport with them, nested ones included."""
    graph = rdflib.Graph()
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(conforms)))
    seen = set()
    for node in nodes:
        if node is None:
            continue
        graph.add((report, SH.result, node))
        stack = [node]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for _, p, o in results.triples((current, None, None)):
                graph.add((current, p, o))
                if isinstance(o, BNode):
                    stack.append(o)
    return graph.serialize(format="nt").encode()


# -- rendering ------------------------------------------------------------------------------------

def render_documentation_html(docs: list[PTCEDocumentation], lang: str,
                              href: Callable[[str], str | None] = lambda iri: iri, **context) -> str:
    """The article 9 documentation of curated PTCEs, then the details of their findings (a whole page);
    ``context``: more for the template (the service's ``request``)."""
    from .templating import environment

    return environment().get_template("documentation.html").render(
        docs=[(d.view(lang, href), d) for d in docs], lang=lang, words=report_words(lang), pick=pick,
        t=translator(lang), **context)


def render_human(docs: list[PTCEDocumentation], lang: str) -> str:
    t, words = translator(lang), report_words(lang)
    lines: list[str] = []
    for doc in docs:
        view = doc.view(lang)
        counts = view["counts"]
        lines.append(f"{words['ptce']} {doc.label} <{doc.iri}>")
        lines.append("  " + t("article9") + " — " + t("article9_counts").format(
            d=counts["documented"], u=counts["undocumented"], c=counts["contradicted"]))
        for element in view["elements"]:
            lines.append(f"  [{t('status_' + element['status'])}] {element['label']}")
            if element["missing"]:
                lines.append(f"      {t('not_found_in_sources')} {' ; '.join(element['missing'])}")
            for fact in element["facts"]:
                sources = f"  ({t('sources_short')} {' ; '.join(fact['sources'])})" if fact["sources"] else ""
                lines.append(f"      {fact['subject']} · {fact['predicate']} : {fact['object']}{sources}")
        severities = view["severities"]
        lines.append("  " + t("details") + " — " + words["summary"].format(
            v=severities["violation"], w=severities["warning"], i=severities["info"]))
        for f in doc.findings:
            group = pick(f.group, lang) or ""
            value = f" · {words['value']} : {f.value}" if f.value else ""
            lines.append(f"    [{words[f.severity]}] {group}{' — ' if group else ''}{pick(f.name, lang) or f.shape}{value}")
        lines.append("")
    return "\n".join(lines)


def combined_report(docs: list[PTCEDocumentation]) -> Report:
    """The findings of several curated PTCEs as one SHACL validation report."""
    graph = rdflib.Graph()
    for doc in docs:
        graph.parse(data=doc.results.decode(), format="nt")
    results = list(graph.objects(None, SH.result))
    for report in list(graph.subjects(RDF.type, SH.ValidationReport)):
        graph.remove((report, None, None))
    conforms = not any(f.severity == "violation" for doc in docs for f in doc.findings)
    report = BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    graph.add((report, SH.conforms, Literal(conforms)))
    for result in results:
        graph.add((report, SH.result, result))
    return Report(conforms, graph, {d.iri: d.label for d in docs}, {d.iri: list(d.findings) for d in docs if d.findings})


def render(docs: list[PTCEDocumentation], output_format: str, lang: str) -> bytes:
    if output_format == "human":
        return render_human(docs, lang).encode()
    if output_format == "html":
        return render_documentation_html(docs, lang).encode()
    return render_rdf(combined_report(docs), {"turtle": "turtle", "json-ld": "json-ld"}[output_format])
