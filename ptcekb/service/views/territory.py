"""Territories of the COG (commune, EPCI, département, région, COM) and project territories."""

from __future__ import annotations

from urllib.parse import quote

from ...namespaces import IGEO, PTCE, RDF
from ...sparql_text import bind_iris
from .base import Page, view

# From the largest unit to the smallest: the order of a hierarchy's breadcrumb.
LEVELS = (str(IGEO.Region), str(IGEO.CollectiviteDOutreMer), str(IGEO.Departement),
          str(IGEO.Intercommunalite), str(IGEO.Commune))
ESS_SAMPLE = 50

ESS_IN_TERRITORY = """
SELECT DISTINCT ?org ?name WHERE {
  ?site ptce:commune ?commune ; org:siteOf ?org .
  { FILTER(?commune = $this) } UNION { ?commune igeo:subdivisionDe $this }
  { ?org ptce:essFlag true } UNION { ?org a/rdfs:subClassOf* ptce:EntrepriseESS }
  OPTIONAL { ?org rov:legalName ?name }
} ORDER BY ?name LIMIT %d"""


def level(page: Page, iri: str) -> int:
    types = {t.value for t in page.values(RDF.type, iri)}
    return min((LEVELS.index(t) for t in types if t in LEVELS), default=len(LEVELS))


def hierarchy(page: Page, iri: str) -> list:
    """The units containing ``iri`` (igeo:subdivisionDe is materialised transitively), largest first."""
    parents = page.values(IGEO.subdivisionDe, iri)
    return [page.link(p) for p in sorted(parents, key=lambda p: level(page, p.value))]


@view("territory.html", IGEO.Commune, IGEO.Intercommunalite, IGEO.Departement, IGEO.Region, IGEO.CollectiviteDOutreMer)
def territory(page: Page) -> dict:
    own_level = level(page, page.iri)
    children = page.section("contains", lambda: page.rows("""SELECT ?child ?type WHERE { ?child igeo:subdivisionDe $this ; a ?type
                            FILTER(?type IN (igeo:Departement, igeo:Intercommunalite, igeo:Commune)) }"""), [])
    by_level: dict[int, list] = {}
    for row in children:
        child_level = LEVELS.index(row["type"].value)
        if child_level > own_level:
            by_level.setdefault(child_level, []).append(row["child"])
    # the next level down only (a région lists its départements, not its 4,000 communes)
    next_level = min(by_level, default=None)
    shown = sorted({page.link(c) for c in by_level.get(next_level, [])}, key=lambda link: link.text)
    ess_query = ESS_IN_TERRITORY % ESS_SAMPLE
    return {
        "hierarchy": hierarchy(page, page.iri),
        "children": shown,
        "children_total": {LEVELS[k]: len(set(v)) for k, v in sorted(by_level.items())},
        "ptces": page.section("ptces", lambda: ptces_of_territory(page)),
        "ess": page.section("ess_here", lambda: [page.link(r["org"]) for r in page.rows(ess_query)]),
        "ess_limit": ESS_SAMPLE,
        "ess_query_url": "/sparql?query=" + quote(bind_iris(ess_query, {"this": page.iri}).replace(f"LIMIT {ESS_SAMPLE}", "")),
    }


def ptces_of_territory(page: Page) -> dict[str, list]:
    """PTCEs whose territory is this unit, contains it, or lies within it."""
    rows = page.rows("""
SELECT DISTINCT ?ptce ?relation WHERE {
  ?ptce a ptce:PTCE ; ptce:territory|ptce:territory/ptce:comprisesArea|ptce:commune|dcterms:spatial ?area .
  { FILTER(?area = $this) BIND("same" AS ?relation) }
  UNION { $this igeo:subdivisionDe ?area BIND("contains" AS ?relation) }
  UNION { ?area igeo:subdivisionDe $this BIND("within" AS ?relation) }
}""")
    out: dict[str, list] = {"same": [], "contains": [], "within": []}
    for row in rows:
        out[row["relation"].value].append(page.link(row["ptce"]))
    return {k: sorted(set(v), key=lambda link: link.text) for k, v in out.items()}


@view("territory.html", PTCE.TerritoireDeProjet)
def project_territory(page: Page) -> dict:
    areas = page.values(PTCE.comprisesArea)
    return {"hierarchy": [], "children": sorted((page.link(a) for a in areas), key=lambda link: link.text),
            "children_total": {}, "ptces": page.section("ptces", lambda: ptces_of_territory(page)), "ess": None}
