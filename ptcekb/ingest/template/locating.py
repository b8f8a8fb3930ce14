"""Where a validation finding is in the template's files, and how to fix it there, in the publisher's
words (files, lines, column names and codes, never RDF terms).

The conversion keeps, for every row it kept, the triples that row produced
(``TemplateResult.rows``). A finding (focus node, path, value) is located on the rows that produced
``focus path *``, else on the row that made the focus node (its ``rdf:type``), else on the rows
that name it; the column is the one of :data:`COLUMN_OF` that writes the path in that file. A
finding about something missing (the PTCE has no territory...) is on the PTCE's row of ``ptce.csv``
and, from :data:`GUIDE`, in the file and column where it is said.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ...namespaces import DCTERMS, GEO, LOCN, ORG, PROV, PTCE, RDF, ROV, SKOS, TIME

RDF_TYPE = str(RDF.type)

# The column of each file that writes a predicate (docs/publisher-template.md, section 2).
COLUMN_OF: dict[str, dict[str, str]] = {
    "ptce.csv": {str(k): v for k, v in {
        SKOS.prefLabel: "nom", SKOS.altLabel: "autres_noms", DCTERMS.description: "description",
        PTCE.website: "site_web", PTCE.creationDate: "date_creation", PTCE.endDate: "date_fin",
        ROV.hasRegisteredOrganization: "siren_porteur", PTCE.carrier: "siren_porteur", PTCE.siren: "siren_porteur",
        PTCE.territory: "territoire_communes", PTCE.comprisesArea: "territoire_communes",
        PTCE.strategy: "strategie", PTCE.cooperationMode: "modes_cooperation",
        PTCE.cooperationLevel: "niveaux_cooperation", PTCE.formalisedBy: "charte",
        PTCE.socialUtility: "utilite_sociale", PTCE.localDevelopmentContribution: "developpement_local",
        PTCE.impulse: "impulsion", PTCE.activityScope: "perimetre", PTCE.activitySector: "secteurs",
        PTCE.transverseFunction: "fonctions_transverses", PTCE.governanceConfiguration: "configuration_gouvernance",
        PTCE.animationCell: "etp_animation", PTCE.memberCount: "nombre_membres", PTCE.fte: "etp_total",
        DCTERMS.source: "source",
    }.items()},
    "membres.csv": {str(k): v for k, v in {
        RDF.type: "type_acteur", SKOS.prefLabel: "nom", PTCE.siren: "siren", PTCE.siret: "siret",
        PTCE.legalCategory: "categorie_juridique", PTCE.legalCategoryCode: "categorie_juridique",
        ORG.role: "role", ORG.memberDuring: "debut", TIME.hasBeginning: "debut", TIME.hasEnd: "fin",
        TIME.inXSDDate: "debut", TIME.inXSDgYearMonth: "debut", TIME.inXSDgYear: "debut",
        PTCE.commune: "commune", PTCE.website: "site_web", DCTERMS.source: "source",
        ORG.member: "nom", ORG.organization: "ptce", ORG.hasMember: "nom",
    }.items()},
    "projets.csv": {str(k): v for k, v in {
        SKOS.prefLabel: "nom", DCTERMS.description: "description", PTCE.innovationType: "innovation",
        PTCE.localDevelopmentContribution: "developpement_local", DCTERMS.temporal: "debut",
        TIME.hasBeginning: "debut", TIME.hasEnd: "fin", PROV.wasAssociatedWith: "participants",
        DCTERMS.source: "source", PTCE.project: "id",
    }.items()},
    "lieux.csv": {str(k): v for k, v in {
        SKOS.prefLabel: "nom", PTCE.placeType: "type", LOCN.address: "adresse", LOCN.fullAddress: "adresse",
        LOCN.postCode: "code_postal", PTCE.commune: "commune", GEO.hasGeometry: "latitude", GEO.asWKT: "latitude",
        DCTERMS.source: "source", ORG.hasSite: "id",
    }.items()},
    "ressources.csv": {str(k): v for k, v in {
        PTCE.resourceType: "type", PTCE.resourceProvider: "financeur", SKOS.prefLabel: "financeur",
        PTCE.siren: "financeur_siren", PTCE.amount: "montant", PTCE.share: "part", PTCE.referenceYear: "annee",
        DCTERMS.source: "source", PTCE.mobilisedResource: "type",
    }.items()},
}

# Per shape (local name in https://w3id.org/ptce/shapes#): where it is said in the template, and the
# fix in the publisher's words. Shapes not listed are located by their path (COLUMN_OF).
GUIDE: dict[str, tuple[str, str, dict[str, str]]] = {
    "Art9-1-EntreprisesESS": ("membres.csv", "type_acteur", {
        "fr": "Déclarez au moins deux membres de l'ESS dans membres.csv : type_acteur entreprise-ess, "
              "entreprise-ess-de-statut ou societe-commerciale-ess, ou ess = oui, ou une categorie_juridique "
              "d'association, de coopérative, de mutuelle ou de fondation (ou leur siren, si la base a SIRENE).",
        "en": "Declare at least two ESS members in membres.csv: type_acteur entreprise-ess, entreprise-ess-de-statut "
              "or societe-commerciale-ess, or ess = oui, or a categorie_juridique of an association, cooperative, "
              "mutual or foundation (or their siren, when the base holds SIRENE)."}),
    "Art9-1-CategorieDesEntreprisesESSDeStatut": ("membres.csv", "categorie_juridique", {
        "fr": "La categorie_juridique de ce membre n'est pas celle d'une association, coopérative, mutuelle ou "
              "fondation : corrigez-la, ou changez type_acteur en societe-commerciale-ess (société commerciale "
              "de l'ESS, article 1er, II) ou en entreprise-hors-ess.",
        "en": "This member's categorie_juridique is not that of an association, cooperative, mutual or foundation: "
              "correct it, or change type_acteur to societe-commerciale-ess (ESS commercial company, article 1, II) "
              "or to entreprise-hors-ess."}),
    "Art9-2-Territoire": ("ptce.csv", "territoire_communes", {
        "fr": "Remplissez au moins une des colonnes territoire_communes, territoire_epci, territoire_departements "
              "ou territoire_regions de ptce.csv (codes officiels, pas les codes postaux).",
        "en": "Fill in at least one of the columns territoire_communes, territoire_epci, territoire_departements "
              "or territoire_regions of ptce.csv (official codes, not postal codes)."}),
    "Art9-2-MembresESSSurLeTerritoire": ("membres.csv", "commune", {
        "fr": "Donnez la commune de ce membre (code INSEE) dans la colonne commune de membres.csv ; s'il est bien "
              "sur le territoire du pôle, élargissez le territoire dans ptce.csv (colonnes territoire_…).",
        "en": "Give this member's commune (INSEE code) in the column commune of membres.csv; if it is indeed in the "
              "hub's territory, widen the territory in ptce.csv (columns territoire_…)."}),
    "Art9-3-EntreprisesHorsESS": ("membres.csv", "type_acteur", {
        "fr": "Ajoutez dans membres.csv au moins une entreprise hors ESS associée au pôle : type_acteur entreprise-hors-ess.",
        "en": "Add to membres.csv at least one company outside the ESS associated with the hub: type_acteur entreprise-hors-ess."}),
    "Art9-4-LienPartenaires": ("membres.csv", "type_acteur", {
        "fr": "Ajoutez dans membres.csv au moins un partenaire : type_acteur collectivite-territoriale, "
              "groupement-collectivites, centre-recherche, etablissement-enseignement-superieur-recherche, "
              "organisme-formation ou autre-personne.",
        "en": "Add to membres.csv at least one partner: type_acteur collectivite-territoriale, groupement-collectivites, "
              "centre-recherche, etablissement-enseignement-superieur-recherche, organisme-formation or autre-personne."}),
    "Art9-5-Strategie": ("ptce.csv", "modes_cooperation", {
        "fr": "Dans ptce.csv, remplissez modes_cooperation (mutualisation, cooperation, partenariat, séparés par ;) "
              "et décrivez la stratégie commune dans strategie.",
        "en": "In ptce.csv, fill in modes_cooperation (mutualisation, cooperation, partenariat, separated by ;) and "
              "describe the common strategy in strategie."}),
    "Art9-6-ProjetInnovant": ("projets.csv", "innovation", {
        "fr": "Ajoutez dans projets.csv au moins un projet du pôle dont la colonne innovation dit sociale ou technologique.",
        "en": "Add to projets.csv at least one project of the hub whose column innovation says sociale or technologique."}),
    "Art9-7-DeveloppementLocalDurable": ("ptce.csv", "developpement_local", {
        "fr": "Décrivez la contribution au développement local durable dans la colonne developpement_local de "
              "ptce.csv ou d'un projet de projets.csv.",
        "en": "Describe the contribution to sustainable local development in the column developpement_local of "
              "ptce.csv or of a project in projets.csv."}),
    "Qualite-ClassesDisjointes": ("membres.csv", "type_acteur", {
        "fr": "Ce membre a deux catégories incompatibles (colonnes type_acteur et ess : par exemple de l'ESS et "
              "hors ESS, ou collectivité et entreprise) : gardez-en une seule.",
        "en": "This member has two incompatible categories (columns type_acteur and ess: for example ESS and outside "
              "the ESS, or local authority and company): keep only one."}),
    "Qualite-CleDeControle": ("membres.csv", "siren", {
        "fr": "Le numéro SIREN ou SIRET signalé a une clé de contrôle fausse : vérifiez-le chiffre par chiffre sur "
              "https://annuaire-entreprises.data.gouv.fr et corrigez-le (colonnes siren, siret, siren_porteur, "
              "financeur_siren).",
        "en": "The reported SIREN or SIRET number has a wrong check digit: check it digit by digit on "
              "https://annuaire-entreprises.data.gouv.fr and correct it (columns siren, siret, siren_porteur, "
              "financeur_siren)."}),
    "Spec-ImpulsionESS": ("membres.csv", "role", {
        "fr": "Indiquez quels membres de l'ESS ont lancé le pôle : role membre-fondateur (ou structure-porteuse) "
              "sur leur ligne de membres.csv.",
        "en": "Say which ESS members started the hub: role membre-fondateur (or structure-porteuse) on their row "
              "of membres.csv."}),
    "Spec-CollectivitesLocales": ("membres.csv", "type_acteur", {
        "fr": "Si une commune, une intercommunalité, un département ou une région coopère avec le pôle, ajoutez-la "
              "dans membres.csv (type_acteur collectivite-territoriale ou groupement-collectivites), dans la colonne "
              "participants de projets.csv ou comme financeur (financeur_siren de ressources.csv).",
        "en": "If a commune, intercommunality, département or région cooperates with the hub, add it to membres.csv "
              "(type_acteur collectivite-territoriale or groupement-collectivites), to the column participants of "
              "projets.csv or as a funder (financeur_siren of ressources.csv)."}),
    "Spec-RechercheFormation": ("membres.csv", "type_acteur", {
        "fr": "Si un organisme de recherche, d'enseignement supérieur ou de formation coopère avec le pôle, "
              "ajoutez-le dans membres.csv (type_acteur centre-recherche, etablissement-enseignement-superieur-recherche "
              "ou organisme-formation) ou dans la colonne participants de projets.csv.",
        "en": "If a research, higher-education or training body cooperates with the hub, add it to membres.csv "
              "(type_acteur centre-recherche, etablissement-enseignement-superieur-recherche or organisme-formation) "
              "or to the column participants of projets.csv."}),
    "Spec-PartenairesDuTerritoire": ("membres.csv", "commune", {
        "fr": "Ce membre hors ESS est situé hors du territoire : vérifiez sa colonne commune dans membres.csv et les "
              "colonnes territoire_… de ptce.csv ; s'il est vraiment extérieur, dites pourquoi dans la description du pôle.",
        "en": "This member outside the ESS is located outside the territory: check its column commune in membres.csv "
              "and the columns territoire_… of ptce.csv; if it really is outside, say why in the hub's description."}),
    "Spec-FinaliteSociale": ("ptce.csv", "utilite_sociale", {
        "fr": "Décrivez la finalité et l'utilité sociale du pôle dans la colonne utilite_sociale de ptce.csv.",
        "en": "Describe the hub's social purpose and utility in the column utilite_sociale of ptce.csv."}),
    "Spec-CooperationFormalisee": ("ptce.csv", "charte", {
        "fr": "Donnez l'adresse web de la charte, de la convention ou des statuts qui formalisent la coopération "
              "(colonne charte de ptce.csv).",
        "en": "Give the web address of the charter, agreement or statutes formalising the cooperation (column "
              "charte of ptce.csv)."}),
    "Spec-Duree-DateDeCreation": ("ptce.csv", "date_creation", {
        "fr": "Donnez la date de création du pôle (colonne date_creation de ptce.csv : AAAA, AAAA-MM ou AAAA-MM-JJ).",
        "en": "Give the hub's creation date (column date_creation of ptce.csv: YYYY, YYYY-MM or YYYY-MM-DD)."}),
    "Spec-Duree-EnActivite": ("ptce.csv", "date_fin", {
        "fr": "Le pôle a une date de fin (colonne date_fin de ptce.csv) : videz-la s'il est toujours en activité.",
        "en": "The hub has an end date (column date_fin of ptce.csv): empty it if it is still active."}),
}

GENERIC = {
    "fr": "Corrigez ou remplissez la colonne {column} de {file} : {name}.",
    "en": "Correct or fill in the column {column} of {file}: {name}.",
}


@dataclass(frozen=True)
class Place:
    file: str
    line: int
    column: str | None


class Provenance:
    """The template rows behind each node and triple of a conversion."""

    def __init__(self, rows: list[tuple[str, int, list[ox.Triple]]]):
        self.by_statement: dict[tuple[str, str], list[tuple[str, int]]] = {}
        self.by_subject: dict[str, list[tuple[str, int]]] = {}
        self.typed: dict[str, list[tuple[str, int]]] = {}
        self.by_object: dict[str, list[tuple[str, int]]] = {}
        for file, line, triples in rows:
            for t in triples:
                s, p = _key(t.subject), t.predicate.value
                _add(self.by_statement, (s, p), (file, line))
                _add(self.by_subject, s, (file, line))
                if p == RDF_TYPE:
                    _add(self.typed, s, (file, line))
                if not isinstance(t.object, ox.Literal):
                    _add(self.by_object, _key(t.object), (file, line))

    def locate(self, shape: str, focus: str, path: str | None, value: str | None) -> list[Place]:
        """The rows (file, line) and column a finding is about; empty if none is known."""
        guide = GUIDE.get(shape.rsplit("#", 1)[-1])
        rows = (self.by_statement.get((focus, path), []) if path else []) or self.typed.get(focus, []) \
            or self.by_subject.get(focus, []) or self.by_object.get(focus, [])
        if value and not rows:
            rows = self.typed.get(value, []) or self.by_object.get(value, [])
        places = []
        for file, line in rows:
            column = COLUMN_OF.get(file, {}).get(path) if path else None
            if column is None and guide and guide[0] == file:
                column = guide[1]
            places.append(Place(file, line, column))
        # a finding that names a member (its value) is about that member's row
        member_rows = [(f, n) for f, n in self.typed.get(value, []) if f == "membres.csv"] if value else []
        if member_rows:
            column = guide[1] if guide and guide[0] == "membres.csv" else None
            places = [Place(f, n, column) for f, n in member_rows]
        return list(dict.fromkeys(places))

    @staticmethod
    def fix(shape: str, lang: str, places: list[Place], name: str) -> str | None:
        """The fix in the publisher's words: the shape's guide, else the column to correct."""
        guide = GUIDE.get(shape.rsplit("#", 1)[-1])
        if guide:
            return guide[2][lang]
        place = next((p for p in places if p.column), None)
        if place is None:
            return None
        return GENERIC[lang].format(column=place.column, file=place.file, name=name)


def _key(term) -> str:
    return term.value if isinstance(term, (ox.NamedNode, ox.BlankNode)) else str(term)


def _add(index: dict, key, value) -> None:
    entries = index.setdefault(key, [])
    if value not in entries:
        entries.append(value)
