"""An organisation: its register data (SIRENE), its PTCE memberships, its establishments."""

from __future__ import annotations

import pyoxigraph as ox

from ...namespaces import FOAF, ORG, PTCE, RDFS, ROV, SKOS
from .base import Page, view

REGISTER = (ROV.legalName, SKOS.altLabel, PTCE.siren, PTCE.legalCategory, PTCE.legalCategoryCode, PTCE.legalForm,
            PTCE.nafCode, PTCE.activityNomenclature, PTCE.headcountBand, PTCE.headcountYear, PTCE.essFlag,
            PTCE.missionCompanyFlag, PTCE.administrativeStatus, PTCE.creationDate, PTCE.website, FOAF.homepage,
            PTCE.administers, RDFS.seeAlso)

MEMBERSHIPS = """
SELECT DISTINCT ?ptce ?role WHERE {
  { ?membership org:member $this ; org:organization ?ptce OPTIONAL { ?membership org:role ?role } }
  UNION { ?ptce org:hasMember $this FILTER NOT EXISTS { ?m org:member $this ; org:organization ?ptce } }
  UNION { ?ptce ptce:carrier|rov:hasRegisteredOrganization $this BIND(<https://w3id.org/ptce/concept/roles/structure-porteuse> AS ?role) }
}"""

SITES = """
SELECT ?site ?siret ?commune WHERE {
  { $this org:hasSite ?site } UNION { ?site org:siteOf $this }
  OPTIONAL { ?site ptce:siret ?siret } OPTIONAL { ?site ptce:commune ?commune }
} ORDER BY ?siret LIMIT 200"""


@view("organisation.html", ROV.RegisteredOrganization, ORG.Organization, ORG.FormalOrganization, FOAF.Agent,
      PTCE.EntrepriseESS, PTCE.EntrepriseESSDeStatut, PTCE.SocieteCommercialeESS, PTCE.EntrepriseHorsESS,
      PTCE.CollectiviteTerritoriale, PTCE.GroupementDeCollectivites, PTCE.CentreDeRecherche,
      PTCE.EtablissementEnseignementSuperieurRecherche, PTCE.OrganismeDeFormation, PTCE.AutrePersonne)
def organisation(page: Page) -> dict:
    register = []
    for predicate in REGISTER:
        values = page.values(predicate)
        if values:
            register.append((page.link(ox.NamedNode(str(predicate))), [page.link(v) for v in values]))
    return {
        "register": register,
        "memberships": page.section("memberships", lambda: [
            {"ptce": page.link(r["ptce"]), "role": page.link(r["role"]) if r["role"] else None}
            for r in page.rows(MEMBERSHIPS)]),
        "sites": page.section("sites", lambda: [
            {"site": page.link(r["site"]), "commune": page.link(r["commune"]) if r["commune"] else None}
            for r in page.rows(SITES)], []),
    }
