"""Validation of a publisher's data against article 9, the specificities, the grid and data quality.

The data graph given to pySHACL is the publisher's data, plus the ontology and code lists, plus an
extract of the reference data (the COG territories and SIRENE units its IRIs point to, with their
materialised hierarchy) taken from the store: the publisher does not supply the COG, and no
inference is run. The SHACL-SPARQL constraints run on Oxigraph (``DataGraph``), shapes and model
are cached next to the build, and pySHACL's text report is not written, so one publisher file
validates in under a second end to end (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import pickle
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import pyshacl
import rdflib
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.query import Result

from .config import Settings
from .i18n import report_words
from .errors import UserError
from .files import replaced_atomically
from .ingest.rdf_files import parse_file
from .labels import pick
from .namespaces import DCTERMS, FOAF, IGEO, PREFIXES, PTCE, PTCESH, RDF, RDFS, SH, SKOS

# rdflib logs a warning with a traceback for every literal it cannot convert ("2021-02-30"^^xsd:date):
# such a literal is a finding of the report (ill_typed_results), never a traceback on stderr.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)
ILL_TYPED_SHAPE = PTCESH["Qualite-ValeursBienTypees"]

REFERENCE_GRAPHS = ("cog", "sirene")
# Article 9 of loi n° 2014-856 du 31 juillet 2014: the text the project cites (ontology, shapes)
LAW_URL = "https://www.legifrance.gouv.fr/jorf/id/JORFTEXT000029313296"
MODEL_GRAPHS = ("ontology", "vocabularies")
SEVERITIES = {str(SH.Violation): "violation", str(SH.Warning): "warning", str(SH.Info): "info"}
SEVERITY_ORDER = ("violation", "warning", "info")
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LABELS = (SKOS.prefLabel, RDFS.label, FOAF.name, IGEO.nom, DCTERMS.title)


# -- RDF terms between pyoxigraph (parsing, store) and rdflib (pySHACL) ---------------------------

def to_rdflib(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    return Literal(term.value, datatype=URIRef(term.datatype.value))


def to_ox(term):
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if term.language:
        return ox.Literal(str(term), language=term.language)
    return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype or XSD_STRING)))


def graph_of(triples) -> rdflib.Graph:
    graph = rdflib.Graph()
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph


class DataGraph(rdflib.Graph):
    """The data graph: rdflib for pySHACL's triple lookups, pyoxigraph for its SPARQL queries.

    pySHACL evaluates the SHACL-SPARQL constraints (``sh:sparql``) with ``data_graph.query``, one
    query per focus node, each parsed and run by rdflib's SPARQL engine: 0.2-0.4 s per query on this
    machine, 0.9 s of the 1.5 s pySHACL took on a publisher file. Here they run on an in-memory
    pyoxigraph copy of the same triples (a few milliseconds), the focus node substituted for
    ``$this`` as pySHACL pre-binds it; pySHACL makes the results from the solutions as usual. Anything
    else (other query forms or arguments, a query Oxigraph does not parse) goes to rdflib.
    The content is given at construction (the mirror is made from it on the first query): triples
    added afterwards, other than the same ones, would not be seen by the queries.
    """

    def __init__(self, store="default", identifier=None, ntriples: bytes = b"", ox_triples=()):
        super().__init__(store=store, identifier=identifier)
        self._ntriples, self._ox_triples = ntriples, list(ox_triples)
        self._ox_store: ox.Store | None = None

    def _mirror(self) -> ox.Store:
        """The pyoxigraph copy, made on the first query: it must hold the same triples as the graph."""
        if self._ox_store is None:
            store = ox.Store()
            if self._ntriples:
                store.load(self._ntriples, format=ox.RdfFormat.N_TRIPLES)
            store.extend(ox.Quad(t.subject, t.predicate, t.object) for t in self._ox_triples)
            self._ox_store = store
        return self._ox_store

    def query(self, query_object, processor="sparql", result="sparql", initNs=None, initBindings=None,  # noqa: N803
              use_store_provided=True, **kwargs):
        if not isinstance(query_object, str) or initNs or kwargs or processor != "sparql" or result != "sparql":
            return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)
        substitutions = {ox.Variable(str(name)): to_ox(value) for name, value in (initBindings or {}).items()}
        try:
            solutions = self._mirror().query(query_object, substitutions=substitutions)
        except SyntaxError:  # not SPARQL 1.1 as Oxigraph reads it: rdflib's own dialect, then
            solutions = None
        if not isinstance(solutions, ox.QuerySolutions):
            return super().query(query_object, processor, result, initNs, initBindings, use_store_provided, **kwargs)
        names = [v.value for v in solutions.variables]
        variables = [Variable(n) for n in names]
        answer = Result("SELECT")
        answer.vars = variables
        answer.bindings = [{var: to_rdflib(s[name]) for var, name in zip(variables, names) if s[name] is not None}
                           for s in solutions]
        return answer


# -- input ----------------------------------------------------------------------------------------

def load_input(paths: list[Path], settings: Settings) -> rdflib.Graph:
    """Publisher data from RDF files (format by extension) or publisher template directories."""
    triples: list = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            from .ingest.template import read_template

            produced, rejects = read_template(path, settings.ns)
            if rejects:
                raise UserError("; ".join(str(r) for r in rejects[:5]) + (" ..." if len(rejects) > 5 else ""), exit_code=2)
            triples.extend(produced)
            continue
        if not path.exists():
            raise UserError(f"{path}: no such file", exit_code=2)
        if path.stat().st_size == 0:
            raise UserError(f"{path}: empty file / fichier vide", exit_code=2)
        triples.extend(q.triple for q in parse_file(path))
    return graph_of(triples)


# -- the data graph -------------------------------------------------------------------------------

class ValidationContext:
    """Shapes, model and the store's reference data, cached per published build.

    ``build`` (the directory of the published build) names an on-disk cache next to it,
    ``{build}.validation.pickle``: the shapes graph and the model graph as pickled rdflib stores,
    and the model as N-Triples for the SPARQL side. Unpickling them takes ~0.03 s where reading the
    store and building the rdflib graphs takes ~0.15 s, and a command-line run pays it every time.
    The build is immutable, so the cache is never stale; it is rewritten if unreadable or written by
    other versions of rdflib or of this module, and skipped if the directory is not writable.
    """

    def __init__(self, store: ox.Store, settings: Settings, build: Path | None = None):
        self.store, self.settings = store, settings
        ns = settings.ns
        named_graphs = set(store.named_graphs())
        self.reference_graphs = [ox.NamedNode(ns.graph(g)) for g in REFERENCE_GRAPHS if ox.NamedNode(ns.graph(g)) in named_graphs]
        self.id_prefix = ns.base + "id/"
        cache = _cache_path(build)
        prepared = _read_cache(cache, settings.base_iri)
        if prepared is None:
            prepared = self._prepare()
            _write_cache(cache, prepared)
        self.shapes: rdflib.Graph = pickle.loads(prepared["shapes"])
        self._model: bytes = prepared["model"]  # pickled (store, identifier) of the model's rdflib graph
        self._model_ntriples: bytes = prepared["model_ntriples"]

    def _graph_triples(self, name: str):
        return (q.triple for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(self.settings.ns.graph(name))))

    def _prepare(self) -> dict:
        model_triples = [t for name in MODEL_GRAPHS for t in self._graph_triples(name)]
        model = rdflib.Graph()  # rdflib's default prefixes only, as the report's paths have always been written
        for t in model_triples:
            model.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return {
            "version": _CACHE_VERSION,
            "base": self.settings.base_iri,  # names the graphs read
            "shapes": pickle.dumps(graph_of(self._graph_triples("shapes")), protocol=pickle.HIGHEST_PROTOCOL),
            "model": pickle.dumps((model.store, model.identifier), protocol=pickle.HIGHEST_PROTOCOL),
            "model_ntriples": ox.serialize(model_triples, format=ox.RdfFormat.N_TRIPLES),
        }

    @property
    def model(self) -> rdflib.Graph:
        """A fresh copy of the ontology and code lists as an rdflib graph."""
        store, identifier = pickle.loads(self._model)
        return rdflib.Graph(store=store, identifier=identifier)

    def registry_aliases(self, data: rdflib.Graph) -> dict[str, str]:
        """The data's nodes given by a SIREN or SIRET (``ptce:siren``/``ptce:siret``) that are not the
        KB's own IRI for it, mapped to the unit or establishment of the reference graphs (SIRENE)
        holding that number; empty when the base holds none."""
        aliases: dict[str, str] = {}
        if not self.reference_graphs:
            return aliases
        for predicate in (PTCE.siren, PTCE.siret):
            for node, value in data.subject_objects(predicate):
                if not isinstance(node, URIRef) or not isinstance(value, Literal):
                    continue
                number = ox.Literal(str(value).replace(" ", ""))
                for graph in self.reference_graphs:
                    found = next(iter(self.store.quads_for_pattern(None, ox.NamedNode(str(predicate)), number, graph)), None)
                    if found is not None and isinstance(found.subject, ox.NamedNode):
                        if found.subject.value != str(node):
                            aliases[str(node)] = found.subject.value
                        break
        return aliases

    def reference_extract(self, data: rdflib.Graph, hops: int = 2) -> list[ox.Triple]:
        """Triples of the reference graphs about the KB resources the data points to (and one hop on).

        A node of the data given by a SIREN or SIRET under another IRI (the publisher's own
        namespace) is resolved: the facts of the matching SIRENE unit or establishment are stated
        about that node too (its ESS flag, legal category, establishments and their communes)."""
        seen: set[str] = set()
        aliases = self.registry_aliases(data)
        frontier = {str(n) for n in set(data.subjects()) | set(data.objects())
                    if isinstance(n, URIRef) and str(n).startswith(self.id_prefix)} | set(aliases.values())
        extract: list[ox.Triple] = []
        for _ in range(hops):
            frontier -= seen
            seen |= frontier
            found = set()
            for iri in frontier:
                for graph in self.reference_graphs:
                    for quad in self.store.quads_for_pattern(ox.NamedNode(iri), None, None, graph):
                        extract.append(quad.triple)
                        if isinstance(quad.object, ox.NamedNode) and quad.object.value.startswith(self.id_prefix):
                            found.add(quad.object.value)
            frontier = found
        if aliases:
            nodes: dict[str, list[ox.NamedNode]] = {}
            for node, target in aliases.items():
                nodes.setdefault(target, []).append(ox.NamedNode(node))
            resolved = []
            for t in extract:
                for subject in nodes.get(t.subject.value, ()) if isinstance(t.subject, ox.NamedNode) else ():
                    resolved.append(ox.Triple(subject, t.predicate, t.object))
                for obj in nodes.get(t.object.value, ()) if isinstance(t.object, ox.NamedNode) else ():
                    resolved.append(ox.Triple(t.subject, t.predicate, obj))
            extract += resolved
        return extract

    def data_graph(self, data: rdflib.Graph) -> DataGraph:
        """The publisher's data + the model + the reference extract, on a fresh copy of the model."""
        extract = self.reference_extract(data)
        store, identifier = pickle.loads(self._model)
        graph = DataGraph(store, identifier, self._model_ntriples, extract + [ox.Triple(*map(to_ox, t)) for t in data])
        for triple in data:
            graph.add(triple)
        for t in extract:
            graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
        return graph


_CACHE_VERSION = f"1 python {sys.version_info[:2]} rdflib {rdflib.__version__}"
_CACHE_SUFFIX = ".validation.pickle"


def _cache_path(build: Path | None) -> Path | None:
    return build.with_name(build.name + _CACHE_SUFFIX) if isinstance(build, Path) and build.is_dir() else None


def _read_cache(path: Path | None, base_iri: str) -> dict | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as stream:
            prepared = pickle.load(stream)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, IndexError, TypeError, ValueError):
        return None
    if isinstance(prepared, dict) and prepared.get("version") == _CACHE_VERSION and prepared.get("base") == base_iri:
        return prepared
    return None


def _write_cache(path: Path | None, prepared: dict) -> None:
    """Write atomically; drop the caches of builds that are gone. A read-only store is no error."""
    if path is None:
        return
    try:
        with replaced_atomically(path) as partial, open(partial, "wb") as stream:
            pickle.dump(prepared, stream, protocol=pickle.HIGHEST_PROTOCOL)
        for other in path.parent.glob("*" + _CACHE_SUFFIX):
            if not other.with_name(other.name[: -len(_CACHE_SUFFIX)]).is_dir():
                other.unlink(missing_ok=True)
    except OSError:
        pass


# -- the report -----------------------------------------------------------------------------------

# The rejected rows a report lists (the others are counted): a file of a million refused rows would
# otherwise be a report of a hundred megabytes, built and sent for nothing.
REPORTED_REJECTS = 200


@dataclass
class Finding:
    severity: str
    shape: str
    group: dict[str, str]
    group_order: float
    name: dict[str, str]
    message: dict[str, str]
    hint: dict[str, str]
    focus: str
    focus_label: str
    path: str | None
    value: str | None
    source: str | None
    # for ptcekb.documentation, which classifies the findings on curated PTCEs: the element of the
    # law (sh:group IRI), the constraint component, the sh:result node
    group_iri: str | None = None
    component: str | None = None
    node: object = None
    path_iri: str | None = None  # the path when it is one predicate
    value_term: str | None = None  # the value's IRI (or lexical form)
    # for a publisher template: the (file, line, column) places of the finding, and its fix in the
    # publisher's words by language (ptcekb.ingest.template.locating)
    where: list = field(default_factory=list)
    fix: dict[str, str] = field(default_factory=dict)


@dataclass
class Report:
    conforms: bool
    results: rdflib.Graph
    ptces: dict[str, str]  # IRI -> label
    findings: dict[str | None, list[Finding]] = field(default_factory=dict)  # by PTCE IRI
    template: bool = False  # made from the publisher's CSV template (findings located in its files)
    rejects: list = field(default_factory=list)  # the template's rejected rows (schema.Reject), the first REPORTED_REJECTS
    rejects_total: int = 0  # how many rows the template refused in all

    @property
    def rejects_more(self) -> int:
        """Rejected rows counted but not listed (past ``REPORTED_REJECTS``)."""
        return max(self.rejects_total - len(self.rejects), 0)

    def count(self, severity: str) -> int:
        return sum(1 for fs in self.findings.values() for f in fs if f.severity == severity)


def _no_result_texts() -> None:
    """Stop pySHACL writing the text description of each result it makes.

    pySHACL describes every result in words as it makes it, nested ones included (each member tried
    against each branch of a sh:or, each of its classes against a sh:in...), most of which it then
    throws away; the descriptions only feed the text report, the third value of
    ``pyshacl.validate``, which ptcekb never reads (it renders the results graph). Formatting them
    (turning nodes into Turtle) was a third of pySHACL's time on a publisher file. The results graph
    is unchanged. pySHACL is used in this process by this module only.
    """
    from pyshacl.constraints.constraint_component import ConstraintComponent

    if not getattr(ConstraintComponent, "_ptcekb_no_text", False):
        ConstraintComponent.make_v_result_description = lambda self, *args, **kwargs: ""
        ConstraintComponent._ptcekb_no_text = True


def validate(data: rdflib.Graph, context: ValidationContext, timings: dict[str, float] | None = None) -> Report:
    """Validate ``data``; ``timings``, if given, receives the seconds spent in each step (bench/)."""
    _no_result_texts()
    start = time.perf_counter()
    graph = context.data_graph(data)
    built = time.perf_counter()
    conforms, results, _ = pyshacl.validate(
        graph, shacl_graph=context.shapes, inference="none", allow_warnings=True, allow_infos=True, inplace=True,
    )
    validated = time.perf_counter()
    ill_typed = ill_typed_results(data, results, context.shapes)
    _tag_sparql_messages(results, context.shapes)
    ptces = {str(p): _label(data, p) for p in data.subjects(RDF.type, PTCE.PTCE)}
    if not ptces:
        _no_ptce(results)
    report = Report(bool(conforms) and not ill_typed and bool(ptces), results, ptces)
    for result in results.objects(None, SH.result):  # not the nested sh:detail results
        finding = _finding(results, context.shapes, graph, result)
        # the focus as a term (a blank node stays one: the member's period, a nested instant...)
        report.findings.setdefault(_owner(data, results.value(result, SH.focusNode), set(ptces)), []).append(finding)
    for findings in report.findings.values():
        findings.sort(key=lambda f: (SEVERITY_ORDER.index(f.severity), f.group_order, f.shape, f.focus_label))
    if timings is not None:
        timings.update({"data graph": built - start, "pySHACL": validated - built,
                        "findings": time.perf_counter() - validated})
    return report


def _no_ptce(results: rdflib.Graph) -> None:
    """Data without any ``ptce:PTCE`` does not conform (nothing of article 9 could be checked; the
    command line exits 1, the HTML report says so): the RDF report says ``sh:conforms false`` and
    why, in an ``rdfs:comment`` of the report in French and English (there is no result: no node failed
    a shape)."""
    report = results.value(predicate=RDF.type, object=SH.ValidationReport)
    if report is None:
        return
    results.set((report, SH.conforms, Literal(False)))
    words = {lang: report_words(lang)["no_ptce"] for lang in ("fr", "en")}
    for lang, text in words.items():
        results.add((report, RDFS.comment, Literal(text, lang=lang)))


def ill_typed_results(data: rdflib.Graph, results: rdflib.Graph, shapes: rdflib.Graph) -> int:
    """Add a result of ``ptcesh:Qualite-ValeursBienTypees`` for every ill-typed literal of the data
    (its lexical form is not in its XSD datatype's lexical space: rdflib marks it ``ill_typed``);
    no SHACL target reaches every literal, so this shape is evaluated here. Returns their number."""
    report = results.value(predicate=RDF.type, object=SH.ValidationReport)
    if report is None:
        return 0
    count = 0
    for subject, predicate, value in data:
        if not isinstance(value, Literal) or not value.ill_typed:
            continue
        count += 1
        result = BNode()
        results.add((report, SH.result, result))
        results.add((result, RDF.type, SH.ValidationResult))
        results.add((result, SH.focusNode, subject))
        results.add((result, SH.resultPath, predicate))
        results.add((result, SH.value, value))
        results.add((result, SH.sourceShape, ILL_TYPED_SHAPE))
        results.add((result, SH.resultSeverity, shapes.value(ILL_TYPED_SHAPE, SH.severity) or SH.Violation))
        results.add((result, SH.sourceConstraintComponent, SH.DatatypeConstraintComponent))
        for message in shapes.objects(ILL_TYPED_SHAPE, SH.message):
            results.add((result, SH.resultMessage, message))
    if count:
        results.set((report, SH.conforms, Literal(False)))
    return count


def _tag_sparql_messages(results: rdflib.Graph, shapes: rdflib.Graph) -> None:
    """pySHACL writes the messages of SHACL-SPARQL constraints without their language tags (both
    languages as untagged strings): put back the constraint's (else the shape's) tagged messages."""
    for result in list(results.objects(None, SH.result)):
        messages = list(results.objects(result, SH.resultMessage))
        if not messages or any(isinstance(m, Literal) and m.language for m in messages):
            continue
        constraint = results.value(result, SH.sourceConstraint)
        shape = results.value(result, SH.sourceShape)
        tagged = [m for m in shapes.objects(constraint, SH.message) if m.language] if constraint is not None else []
        tagged = tagged or [m for m in shapes.objects(shape, SH.message) if isinstance(m, Literal) and m.language]
        if tagged:
            results.remove((result, SH.resultMessage, None))
            for message in tagged:
                results.add((result, SH.resultMessage, message))


def _texts(graph: rdflib.Graph, subject, predicate) -> dict[str, str]:
    return {(o.language or ""): str(o) for o in graph.objects(subject, predicate) if isinstance(o, Literal)}


def _label(graph: rdflib.Graph, node) -> str:
    for predicate in LABELS:
        values = _texts(graph, node, predicate)
        if values:
            return pick(values, "fr")
    return str(node) if isinstance(node, URIRef) else "[…]"


def _finding(results: rdflib.Graph, shapes: rdflib.Graph, graph: rdflib.Graph, result) -> Finding:
    shape = results.value(result, SH.sourceShape)
    owner = shape
    group = shapes.value(shape, SH.group)
    if group is None:  # a property shape without a group: take its node shape's
        owner = shapes.value(predicate=SH.property, object=shape) or shape
        group = shapes.value(owner, SH.group)
    focus = results.value(result, SH.focusNode)
    value = results.value(result, SH.value)
    path = results.value(result, SH.resultPath)
    # pySHACL writes the messages of SPARQL-based constraints without their language tags: then the
    # shape's own (tagged) messages, else one of the untagged ones was picked at random
    message = _texts(results, result, SH.resultMessage)
    if not set(message) - {""}:
        message = _texts(shapes, shape, SH.message) or message
    return Finding(
        severity=SEVERITIES.get(str(results.value(result, SH.resultSeverity)), "violation"),
        shape=str(shape) if isinstance(shape, URIRef) else str(owner),
        group=_texts(shapes, group, RDFS.label) if group is not None else {},
        group_order=float(shapes.value(group, SH.order) or 0) if group is not None else 0.0,
        name=_texts(shapes, shape, SH.name) or _texts(shapes, owner, SH.name),
        message=message,
        hint=_texts(shapes, shape, SH.description) or _texts(shapes, owner, SH.description),
        focus=str(focus),
        focus_label=_label(graph, focus),
        path=path.n3(graph.namespace_manager) if isinstance(path, URIRef) else None,
        value=(_label(graph, value) if isinstance(value, URIRef) else str(value)) if value is not None else None,
        source=str(shapes.value(shape, DCTERMS.source) or shapes.value(owner, DCTERMS.source) or "") or None,
        group_iri=str(group) if isinstance(group, URIRef) else None,
        component=str(results.value(result, SH.sourceConstraintComponent) or "") or None,
        node=result,
        path_iri=str(path) if isinstance(path, URIRef) else None,
        value_term=str(value) if value is not None else None,
    )


def locate_in_template(report: Report, result) -> Report:
    """Place the findings of a publisher template's report in its files (``result``: the
    ``TemplateResult`` of the conversion), with the fix in the publisher's words."""
    from .ingest.template.locating import Provenance

    provenance = Provenance(result.rows)
    report.template, report.rejects = True, list(result.rejects[:REPORTED_REJECTS])
    report.rejects_total = len(result.rejects)
    for findings in report.findings.values():
        for f in findings:
            f.where = provenance.locate(f.shape, f.focus, f.path_iri, f.value_term)
            for lang in ("fr", "en"):
                fix = provenance.fix(f.shape, lang, f.where, pick(f.name, lang) or "")
                if fix:
                    f.fix[lang] = fix
    return report


def _owner(data: rdflib.Graph, focus: URIRef, ptces: set[str], depth: int = 3) -> str | None:
    """The PTCE a finding is about: the focus itself, or the nearest PTCE linked to it in the data."""
    if str(focus) in ptces:
        return str(focus)
    queue, seen = deque([(focus, 0)]), {focus}
    while queue:
        node, distance = queue.popleft()
        if distance == depth:
            continue
        neighbours = [o for p, o in data.predicate_objects(node) if p != RDF.type]
        neighbours += [s for s, p in data.subject_predicates(node) if p != RDF.type]
        for other in neighbours:
            if str(other) in ptces:
                return str(other)
            if other not in seen and not isinstance(other, Literal):
                seen.add(other)
                queue.append((other, distance + 1))
    return None


# -- rendering ------------------------------------------------------------------------------------

def render_human(report: Report, lang: str = "fr") -> str:
    words = report_words(lang)
    lines: list[str] = []
    if not report.ptces:
        lines.append(words["no_ptce"])
    for owner in sorted(set(report.ptces) | set(report.findings), key=lambda o: (o is None, report.ptces.get(o, ""))):
        findings = report.findings.get(owner, [])
        if owner is None:
            lines.append(f"\n{words['none']}")
        else:
            ok = not any(f.severity == "violation" for f in findings)
            lines.append(f"\n{words['ptce']} {report.ptces[owner]} <{owner}>: {words['ok'] if ok else words['ko']}")
        for f in findings:
            group = pick(f.group, lang) or ""
            lines.append(f"  [{words[f.severity]}] {group}{' — ' if group else ''}{pick(f.name, lang) or f.shape}")
            lines.append(f"    {pick(f.message, lang) or ''}")
            lines.append(f"    {words['node']}: {f.focus_label}" + (f" · {f.path}" if f.path else "")
                         + (f" · {words['value']}: {f.value}" if f.value else ""))
            if f.hint:
                lines.append(f"    {words['hint']}: {pick(f.hint, lang)}")
    lines.append("\n" + words["summary"].format(v=report.count("violation"), w=report.count("warning"), i=report.count("info")))
    return "\n".join(lines).lstrip("\n") + "\n"


def render_rdf(report: Report, fmt: str) -> bytes:
    """The standard SHACL validation report (sh:ValidationReport) as Turtle or JSON-LD."""
    for prefix in ("sh", "ptcesh", "ptce"):
        report.results.bind(prefix, PREFIXES[prefix], override=True, replace=True)
    return report.results.serialize(format=fmt).encode()


def render_html(report: Report, lang: str = "fr", standalone: bool = True) -> str:
    from .templating import environment

    return environment().get_template("validation.html").render(
        report=report, lang=lang, words=report_words(lang), pick=pick, standalone=standalone, law=LAW_URL,
        owners=sorted(set(report.ptces) | set(report.findings), key=lambda o: (o is None, report.ptces.get(o, ""))),
    )


def render(report: Report, output_format: str, lang: str) -> bytes:
    if output_format == "human":
        return render_human(report, lang).encode()
    if output_format == "html":
        return render_html(report, lang).encode()
    return render_rdf(report, {"turtle": "turtle", "json-ld": "json-ld"}[output_format])
