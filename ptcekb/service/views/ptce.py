"""A PTCE: identity, territory, members by actor type, cooperation, projects, places, calls, sources."""

from __future__ import annotations

import pyoxigraph as ox

from ...labels import href as labels_href
from ...namespaces import DCTERMS, FOAF, ORG, PROV, PTCE, RDF, SKOS
from ..pagequery import Missing, Unanswered
from .base import Page, view
from .territory import hierarchy

# Actor classes in the order article 9 names them; a member is shown under the first it has.
ACTOR_GROUPS = tuple(str(c) for c in (
    PTCE.EntrepriseESS, PTCE.EntrepriseHorsESS, PTCE.CollectiviteTerritoriale, PTCE.GroupementDeCollectivites,
    PTCE.CentreDeRecherche, PTCE.EtablissementEnseignementSuperieurRecherche, PTCE.OrganismeDeFormation,
    PTCE.AutrePersonne))

# Its members (the carrier is shown with its identity: it is not one of the enterprises the PTCE groups);
# a member stated by its membership and by the org:hasMember shortcut is listed once, with its role.
MEMBERS = """
SELECT DISTINCT ?actor ?role WHERE {
  { ?membership org:organization $this ; org:member ?actor OPTIONAL { ?membership org:role ?role } }
  UNION { $this org:hasMember ?actor FILTER NOT EXISTS { ?m org:organization $this ; org:member ?actor } }
}"""
CLASSES = "SELECT DISTINCT ?class WHERE { $actor a/rdfs:subClassOf* ?class }"
# The same evidence as the article-9 shapes (shapes/article9.ttl: who is an ESS enterprise, who is not).
IS_ESS = """ASK {
  { $actor a/rdfs:subClassOf* ptce:EntrepriseESS } UNION { $actor ptce:essFlag true }
  UNION { $actor ptce:legalCategory ?category .
          <https://w3id.org/ptce/concept/categories-juridiques/ess-par-statut> skos:member/skos:member ?category }
  UNION { $actor ptce:legalForm/skos:broader* ?form
          FILTER(?form IN (<https://w3id.org/ptce/concept/formes-juridiques/association>,
                           <https://w3id.org/ptce/concept/formes-juridiques/cooperative>)) }
}"""
IS_OUTSIDE = "ASK { { $actor a/rdfs:subClassOf* ptce:EntrepriseHorsESS } UNION { $actor ptce:essFlag false } }"


@view("ptce.html", PTCE.PTCE)
def ptce(page: Page) -> dict:
    return {
        "names": [page.link(v) for v in page.values(SKOS.altLabel)],
        "identity": _identity(page),
        "territories": _territories(page),
        "members": page.section("members", lambda: _members(page)),
        "strategy": _strategy(page),
        "projects": [_node(page, p, PTCE.innovationType, DCTERMS.description) for p in page.values(PTCE.project)],
        "places": [_node(page, p, PTCE.placeType, PTCE.commune) for p in page.values(ORG.hasSite)],
        "calls": [page.link(c) for c in page.values(PTCE.laureateOf)],
        "statements": _statements(page),
        "compliance": page.section("article9", lambda: _compliance(page)),
    }


def _compliance(page: Page) -> dict | None:
    """Article 9 as documentation (ptcekb/documentation.py): the same computation as the PTCE list,
    ``/validate?ptce=`` and ``ptcekb validate --ptce``; ``{"pending": True}`` while it is computed."""
    documentation = page.compliance(page.iri) if page.compliance else None
    if isinstance(documentation, Missing):
        raise Unanswered(documentation)
    if documentation is None or isinstance(documentation, dict):
        return documentation
    return documentation.view(page.lang, href=lambda iri: labels_href(iri, page.base))


def _identity(page: Page) -> list:
    rows = []
    for predicate in (PTCE.creationDate, PTCE.website, FOAF.homepage, DCTERMS.description, DCTERMS.subject,
                      PTCE.carrier, PTCE.memberCount, PTCE.fte, PTCE.governanceConfiguration,
                      PTCE.impulse, PTCE.activitySector, PTCE.activityScope):
        values = page.values(predicate)
        if values:
            rows.append((page.link(_iri(predicate)), [page.link(v) for v in values]))
    return rows


# How a project territory is placed against a COG unit, and the word (ptcekb/i18n.py) that says it.
UNIT_RELATIONS = ((PTCE.comprisesArea, "comprises_area"), (PTCE.withinArea, "within_area"), (PTCE.overlapsArea, "overlaps_area"))


def _territories(page: Page) -> list[dict]:
    """The territory (with the units a project territory comprises, lies within or overlaps), the seat's
    commune and the units the sources only name: each under its own relation."""
    out = []
    for predicate in (PTCE.territory, ORG.hasPrimarySite, PTCE.mentionedArea):
        for territory in page.values(predicate):
            if predicate == ORG.hasPrimarySite:  # the seat is a site: show its commune
                units = [(u, None) for u in page.values(PTCE.commune, territory.value)]
            else:  # each unit with the word of its direction (i18n: comprises_area, within_area, overlaps_area)
                units = [(u, word) for p, word in UNIT_RELATIONS for u in page.values(p, territory.value)] or [(territory, None)]
            out.append({
                "relation": page.link(_iri(predicate)),
                "territory": page.link(territory),
                "units": [{"unit": page.link(u), "relation": word, "hierarchy": hierarchy(page, u.value)} for u, word in units],
            })
    return out


def _members(page: Page) -> list[dict]:
    groups: dict[str, list] = {}
    for row in page.rows(MEMBERS):
        actor = row["actor"].value
        classes = {r["class"].value for r in page.rows(CLASSES, actor=actor)}
        group = next((c for c in ACTOR_GROUPS if c in classes), "")
        status = "ess" if page.ask(IS_ESS, actor=actor) else "outside" if page.ask(IS_OUTSIDE, actor=actor) else "unknown"
        groups.setdefault(group, []).append({
            "actor": page.link(row["actor"]),
            "role": page.link(row["role"]) if row["role"] else None,
            "status": status,
        })
    order = {c: i for i, c in enumerate(ACTOR_GROUPS)}
    return [{"group": page.link(_iri(g)) if g else None, "members": sorted(ms, key=lambda m: m["actor"].text)}
            for g, ms in sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))]


def _strategy(page: Page) -> list:
    rows = []
    for strategy in page.values(PTCE.strategy):
        for predicate in (PTCE.cooperationMode, PTCE.cooperationLevel, PTCE.formalisedBy, DCTERMS.description):
            values = page.values(predicate, strategy.value)
            if values:
                rows.append((page.link(_iri(predicate)), [page.link(v) for v in values]))
    return rows


def _node(page: Page, node, *predicates) -> dict:
    details = []
    for predicate in predicates:
        details += [page.link(v) for v in page.values(predicate, node.value)]
    return {"node": page.link(node), "details": details}


def _statements(page: Page) -> list[dict]:
    """The statements about the PTCE and its parts: what is stated, by which sources, how sure.

    Statement nodes (``rdf:subject``), selections and dated values (``ptce:valueOf``: the value or
    its bounds, and its date) carry their sources with ``prov:wasDerivedFrom`` (docs/data-model.md §7)."""
    by_node: dict = {}
    for triple in page.description.triples:
        by_node.setdefault(triple.subject, {}).setdefault(triple.predicate.value, []).append(triple.object)
    out = []
    for node, properties in by_node.items():
        first = lambda key: properties.get(str(key), [None])[0]  # noqa: E731
        subject, predicate = first(PTCE.valueOf) or first(RDF.subject), first(PTCE.property) or first(RDF.predicate)
        if subject is None or predicate is None:
            continue
        value = first(RDF.value) if first(PTCE.valueOf) else first(RDF.object)
        date = first(DCTERMS.date)
        out.append({
            "subject": page.link(subject),
            "predicate": page.link(predicate),
            "object": page.link(value) if value is not None else None,
            "bounds": [page.link(v) for key in (PTCE.minimumValue, PTCE.maximumValue) for v in properties.get(str(key), [])],
            "sources": [page.link(s) for s in properties.get(str(PROV.wasDerivedFrom), [])],
            "confidence": page.link(first(PTCE.confidence)) if first(PTCE.confidence) else None,
            "note": " — ".join(filter(None, [date.value if date is not None else None,
                                              first(SKOS.note).value if first(SKOS.note) else None])) or None,
        })
    return sorted(out, key=lambda s: (s["subject"].text != page.title, s["predicate"].text))


def _iri(term) -> ox.NamedNode:
    return ox.NamedNode(str(term))
