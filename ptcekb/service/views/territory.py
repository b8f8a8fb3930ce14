"""Territories of the COG (commune, EPCI, département, région, COM) and project territories."""

from __future__ import annotations

from urllib.parse import quote

import pyoxigraph as ox

from ...namespaces import IGEO, PTCE, RDF
from ...sparql_text import bind_iris
from .base import Page, view

# From the largest unit to the smallest: the order of a hierarchy's breadcrumb.
LEVELS = (str(IGEO.Region), str(IGEO.CollectiviteDOutreMer), str(IGEO.Departement),
          str(IGEO.Intercommunalite), str(IGEO.Commune))
ESS_SAMPLE = 50
CLOSED = "<https://w3id.org/ptce/concept/etats-administratifs/F>"  # établissement fermé
CEASED = "<https://w3id.org/ptce/concept/etats-administratifs/C>"  # unité légale cessée

# ESS enterprises with an active establishment in the territory or in one of its parts (the COG's
# igeo:subdivisionDe is materialised transitively: a région's communes are its direct subjects).
# Evaluated from the bound end: the territory, then its communes, then the sites of each commune
# (an index lookup per commune), so the cost follows the territory's establishments, not the
# register's. No ORDER BY: the engine stops at the LIMIT instead of sorting every establishment
# of a région; the page sorts the sample by name. "Enterprise of the ESS" is the one rule of
# docs/data-model.md (class, SIRENE flag, legal category, stated legal form; shapes/article9.ttl's
# ptcesh:EntrepriseESSReconnue), tested per organisation once its sites are found.
# Same rule as queries/ess-du-territoire-non-membres.rq.
ESS_IN_TERRITORY = """
SELECT DISTINCT ?org WHERE {
  { VALUES ?commune { $this } } UNION { ?commune igeo:subdivisionDe $this }
  ?site ptce:commune ?commune ; org:siteOf ?org .
  FILTER NOT EXISTS { ?site ptce:administrativeStatus %(closed)s }
  FILTER NOT EXISTS { ?org ptce:administrativeStatus %(ceased)s }
  FILTER(EXISTS { ?org ptce:essFlag true } || EXISTS { ?org a/rdfs:subClassOf* ptce:EntrepriseESS }
         || EXISTS { ?org ptce:legalCategory ?category .
                     <https://w3id.org/ptce/concept/categories-juridiques/ess-par-statut> skos:member/skos:member ?category }
         || EXISTS { ?org ptce:legalForm/skos:broader* ?form
                     FILTER(?form IN (<https://w3id.org/ptce/concept/formes-juridiques/association>,
                                      <https://w3id.org/ptce/concept/formes-juridiques/cooperative>)) })
}%(limit)s"""
# The same question, for the link to all of them: with their names, sorted (the whole list: seconds
# for a région on a national register, under the endpoint's own time limit and row cap).
ESS_IN_TERRITORY_ALL = ESS_IN_TERRITORY.replace("SELECT DISTINCT ?org WHERE {", "SELECT DISTINCT ?org ?name WHERE {").replace(
    "\n}%(limit)s", "\n  OPTIONAL { ?org rov:legalName ?legalName }\n  OPTIONAL { ?org skos:prefLabel ?label }"
    "\n  BIND(COALESCE(?legalName, ?label) AS ?name)\n} ORDER BY ?name")

# The PTCEs of a territory X, by relation: "same" (one of the PTCE's areas is X: its territory, a
# unit its territory comprises, its seat's commune, a unit its sources name), "contains" (the PTCE's
# territory — ptce:territory or the units it comprises — contains X), "within" (one of its areas lies
# within X, or its project territory lies within X or within a unit of X: ptce:withinArea) and
# "overlaps" (its project territory has a part in common with X or with a unit of X:
# ptce:overlapsArea). The seat (org:hasPrimarySite/ptce:commune) and the units the sources merely
# name (ptce:mentionedArea) are places, not a territory: they never make a PTCE "contain" the
# communes of a région; a unit the territory lies within or overlaps never makes it contain either.
# "Lies within" is igeo:subdivisionDe (materialised transitively in the COG graph); an EPCI, which
# the COG places in no département or région (it may straddle them), lies within a unit when all
# its communes do. An EPCI straddling the unit is in no relation.
# Evaluated from the PTCEs (a few hundred areas, a few index lookups each), not from X's
# subdivisions: with SIRENE loaded, ptce:commune also holds every establishment of X.
PTCES_OF_TERRITORY = """
SELECT DISTINCT ?ptce ?relation WHERE {
  { SELECT DISTINCT ?ptce ?area ?kind WHERE {
      ?ptce a ptce:PTCE .
      { ?ptce ptce:territory|ptce:territory/ptce:comprisesArea ?area BIND("territory" AS ?kind) }
      UNION { ?ptce ptce:territory/ptce:withinArea ?area BIND("container" AS ?kind) }
      UNION { ?ptce ptce:territory/ptce:overlapsArea ?area BIND("overlap" AS ?kind) }
      UNION { ?ptce org:hasPrimarySite ?site . ?site ptce:commune ?area BIND("place" AS ?kind) }
      UNION { ?ptce ptce:mentionedArea ?area BIND("place" AS ?kind) } } }
  BIND(IF(?area = $this && ?kind IN ("territory", "place"), "same",
       IF(?kind = "territory" && (EXISTS { $this igeo:subdivisionDe ?area }
                                  || EXISTS { $this a igeo:Intercommunalite .
                                              FILTER NOT EXISTS { ?c igeo:subdivisionDe $this .
                                                                  FILTER NOT EXISTS { ?c igeo:subdivisionDe ?area } } }), "contains",
       IF(?kind != "overlap" && (?area = $this || EXISTS { ?area igeo:subdivisionDe $this }
          || EXISTS { ?area a igeo:Intercommunalite .
                      FILTER NOT EXISTS { ?c igeo:subdivisionDe ?area .
                                          FILTER NOT EXISTS { ?c igeo:subdivisionDe $this } } }), "within",
       IF(?kind = "overlap" && (?area = $this || EXISTS { ?area igeo:subdivisionDe $this }), "overlaps", ?none)))) AS ?relation)
  FILTER(BOUND(?relation))
}"""
RELATIONS = ("same", "contains", "within", "overlaps")  # a PTCE related in several ways is listed under the first


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
    marks = {"closed": CLOSED, "ceased": CEASED}
    ess_query = ESS_IN_TERRITORY % {**marks, "limit": f" LIMIT {ESS_SAMPLE}"}
    all_query = ESS_IN_TERRITORY_ALL % marks
    return {
        "hierarchy": hierarchy(page, page.iri),
        "children": shown,
        "children_total": {LEVELS[k]: len(set(v)) for k, v in sorted(by_level.items())},
        "ptces": page.section("ptces", lambda: ptces_of_territory(page)),
        "ess": page.section("ess_here", lambda: sorted((page.link(r["org"]) for r in page.rows(ess_query)),
                                                      key=lambda link: link.text.lower())),
        "ess_limit": ESS_SAMPLE,
        "ess_query_url": "/sparql?query=" + quote(bind_iris(all_query, {"this": page.iri})),
    }


def ptces_of_territory(page: Page) -> dict[str, list]:
    """PTCEs whose territory is this unit, contains it, lies within it or overlaps it (PTCES_OF_TERRITORY)."""
    found: dict[str, set] = {}
    for row in page.rows(PTCES_OF_TERRITORY):
        found.setdefault(row["ptce"].value, set()).add(row["relation"].value)
    out: dict[str, list] = {relation: [] for relation in RELATIONS}
    for ptce, relations in found.items():
        out[next(r for r in RELATIONS if r in relations)].append(page.link(ox.NamedNode(ptce)))
    return {k: sorted(v, key=lambda link: link.text) for k, v in out.items()}


@view("territory.html", PTCE.TerritoireDeProjet)
def project_territory(page: Page) -> dict:
    areas = page.values(PTCE.comprisesArea)
    containers = page.values(PTCE.withinArea)  # the units it lies within (not those it only overlaps)
    return {"hierarchy": sorted((page.link(a) for a in containers), key=lambda link: link.text),
            "children": sorted((page.link(a) for a in areas), key=lambda link: link.text),
            "children_total": {}, "ptces": page.section("ptces", lambda: ptces_of_territory(page)), "ess": None}
