"""Row mapping: one function per template file turns a checked row into triples of the ontology."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

import pyoxigraph as ox

from ...identifiers import compact, siren_reasons
from ...namespaces import DCTERMS, GEO, LOCN, ORG, PROV, PTCE, ROV, SKOS, TIME, XSD, Namespaces, slugify
from ...rdf import TYPE, iri, text, triple, typed
from ..registry import establishment as _establishment
from ..registry import registered as _registered
from .checking import NO, YES, Row
from .schema import LANG, Reference

_INSTANT_PROPERTY = {str(XSD.date): TIME.inXSDDate, str(XSD.gYearMonth): TIME.inXSDgYearMonth,
                     str(XSD.gYear): TIME.inXSDgYear}


def _interval(node_iri: str, start, end) -> list[ox.Triple]:
    """An OWL-Time interval ``node_iri`` with its beginning and end instants (``start``/``end`` from Row.date)."""
    interval = iri(node_iri)
    out = [triple(interval, TYPE, iri(TIME.Interval))]
    for value, predicate, suffix in ((start, TIME.hasBeginning, "debut"), (end, TIME.hasEnd, "fin")):
        if value:
            instant = iri(f"{node_iri}-{suffix}")
            out += [triple(interval, predicate, instant), triple(instant, TYPE, iri(TIME.Instant)),
                    triple(instant, _INSTANT_PROPERTY[value[1].datatype.value], value[1])]
    return out


def _decimal(number: Decimal) -> ox.Literal:
    return typed(format(number, "f"), XSD.decimal)



@dataclass
class Context:
    ns: Namespaces  # the publisher's resources
    territories: Namespaces  # the knowledge base's COG territories (whatever the publisher's base)
    ref: Reference
    ptce_ids: set[str]
    member_keys: dict[tuple[str, str], str]   # (ptce, slug of member name) -> organisation key
    used: dict[str, int] = field(default_factory=dict)  # hash IRIs already minted

    def unique(self, candidate: str) -> str:
        """``candidate``, or ``candidate-2``, ``-3``... if already minted in this template."""
        count = self.used.get(candidate, 0) + 1
        self.used[candidate] = count
        return candidate if count == 1 else f"{candidate}-{count}"


def _ptce_row(ctx: Context, row: Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    slug = row.slug("id")
    if slug and slug in seen:
        row.problem("id", f"duplicate PTCE id {slug!r} (first on line {seen[slug]})",
                    f"identifiant de PTCE {slug!r} en double (déjà utilisé ligne {seen[slug]})")
    node = iri(ns.id("ptce", slug or "x"))
    out.append(triple(node, TYPE, iri(PTCE.PTCE)))
    if row.get("nom"):
        out.append(triple(node, SKOS.prefLabel, row.text("nom")))
    for name in row.items("autres_noms"):
        out.append(triple(node, SKOS.altLabel, text(name, LANG)))
    if row.get("description"):
        out.append(triple(node, DCTERMS.description, row.text("description")))
    for url in row.url("site_web"):
        out.append(triple(node, PTCE.website, url))
    created, ended = row.period("date_creation", "date_fin")
    if created:
        out.append(triple(node, PTCE.creationDate, created[1]))
    if ended:
        out.append(triple(node, PTCE.endDate, ended[1]))

    carrier_siren = row.siren("siren_porteur")
    if carrier_siren:
        carrier = iri(ns.id("organisation", carrier_siren))
        out.append(triple(node, ROV.hasRegisteredOrganization, carrier))
        out += _registered(carrier, carrier_siren)
        if row.get("nom_porteur"):
            out.append(triple(carrier, SKOS.prefLabel, row.text("nom_porteur")))
    elif row.get("nom_porteur") and not row.get("siren_porteur"):
        row.problem("nom_porteur", "give siren_porteur too (the carrying structure is identified by its SIREN)",
                    "indiquez aussi siren_porteur (la structure porteuse est identifiée par son SIREN)")

    # Territory: each COG unit directly (several values = their union) and, with a description,
    # a project territory comprising them.
    units = []
    for code in row.items("territoire_communes"):
        if row.check_commune("territoire_communes", code.upper()):
            units.append(iri(ctx.territories.id("commune", code.upper())))
    for value in row.items("territoire_epci"):
        code = compact(value)
        if code in ctx.ref.cog.epci:
            units.append(iri(ctx.territories.id("epci", code)))
        elif code in ctx.ref.cog.ept:
            units.append(iri(ctx.territories.id("ept", code)))
        else:
            problem = siren_reasons(code)
            if problem:
                row.identifier_problem("territoire_epci", value, problem)
            else:
                row.problem("territoire_epci", f"{code} is not the SIREN of an EPCI in the COG 2026",
                            f"{code} n'est pas le SIREN d'un EPCI au COG 2026")
    for column, kind, kind_fr, known in (
            ("territoire_departements", "departement", "département", ctx.ref.cog.departements),
            ("territoire_regions", "region", "région", ctx.ref.cog.regions)):
        for code in row.items(column):
            code = code.upper() if code.upper() in known else code
            if code in known:
                units.append(iri(ctx.territories.id(kind, code)))
            else:
                row.problem(column, f"unknown {kind} code {code!r} in the COG 2026",
                            f"code de {kind_fr} inconnu {code!r} au COG 2026")
    for unit in units:
        out.append(triple(node, PTCE.territory, unit))
    if row.get("territoire_description"):
        area = iri(ns.id("territoire", slug or "x"))
        out += [triple(node, PTCE.territory, area), triple(area, TYPE, iri(PTCE.TerritoireDeProjet)),
                triple(area, SKOS.prefLabel, row.text("territoire_description"))]
        out += [triple(area, PTCE.comprisesArea, unit) for unit in units]

    modes = row.codes("modes_cooperation", "modes-cooperation")
    levels = row.codes("niveaux_cooperation", "niveaux-cooperation")
    charters = row.url("charte")
    if row.get("strategie") or modes or levels or charters:
        strategy = iri(f"{node.value}#strategie")
        out += [triple(node, PTCE.strategy, strategy), triple(strategy, TYPE, iri(PTCE.Strategy))]
        if row.get("strategie"):
            out.append(triple(strategy, DCTERMS.description, row.text("strategie")))
        out += [triple(strategy, PTCE.cooperationMode, iri(c)) for c in modes]
        out += [triple(strategy, PTCE.cooperationLevel, iri(c)) for c in levels]
        out += [triple(strategy, PTCE.formalisedBy, url) for url in charters]
    if row.get("utilite_sociale"):
        out.append(triple(node, PTCE.socialUtility, row.text("utilite_sociale")))
    if row.get("developpement_local"):
        out.append(triple(node, PTCE.localDevelopmentContribution, row.text("developpement_local")))

    for column, scheme, predicate, single in (
        ("impulsion", "impulsions", PTCE.impulse, False),
        ("perimetre", "perimetres-activite", PTCE.activityScope, True),
        ("secteurs", "secteurs-activite", PTCE.activitySector, False),
        ("fonctions_transverses", "fonctions-transverses", PTCE.transverseFunction, False),
        ("configuration_gouvernance", "configurations-gouvernance", PTCE.governanceConfiguration, True),
    ):
        out += [triple(node, predicate, iri(c)) for c in row.codes(column, scheme, single)]

    cell_fte = row.decimal("etp_animation", minimum=0)
    if cell_fte is not None:
        cell = iri(f"{node.value}#cellule-animation")
        out += [triple(node, PTCE.animationCell, cell), triple(cell, TYPE, iri(PTCE.CelluleAnimation)),
                triple(cell, PTCE.fte, _decimal(cell_fte))]
    members = row.integer("nombre_membres")
    if members is not None:
        out.append(triple(node, PTCE.memberCount, typed(members, XSD.integer)))
    fte = row.decimal("etp_total", minimum=0)
    if fte is not None:
        out.append(triple(node, PTCE.fte, _decimal(fte)))
    for url in row.url("source"):
        out.append(triple(node, DCTERMS.source, url))
    if slug and slug not in seen:
        seen[slug] = line
    return out


def member_key(values: dict[str, str]) -> str | None:
    """The organisation key of a member row: its SIREN (or the SIRET's first 9 digits), else its name's slug."""
    siren = compact(values.get("siren", ""))
    siret = compact(values.get("siret", ""))
    if siren:
        return siren
    if len(siret) == 14 and siret.isdigit():
        return siret[:9]
    return slugify(values.get("nom", "")) or None


def _member_row(ctx: Context, row: Row, seen: dict[tuple, int], line: int) -> list[ox.Triple]:
    ns, ref, out = ctx.ns, ctx.ref, []
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    siren, siret = row.siren("siren"), row.siret("siret")
    if siren and siret and siret[:9] != siren:
        row.problem("siret", f"{siret} does not start with the SIREN {siren}",
                    f"{siret} ne commence pas par le SIREN {siren}")
    if siret and not siren and not row.get("siren"):
        siren = siret[:9]
    key = siren or slugify(row.get("nom"))
    if row.get("nom") and not key:
        row.problem("nom", "the name must contain letters or digits (it names the organisation's IRI)",
                    "le nom doit contenir des lettres ou des chiffres (il sert à identifier l'organisation)")
    org = iri(ns.id("organisation", key or "x"))

    classes = []
    for code in row.items("type_acteur"):
        concept = ref.concept("types-acteurs", code)
        if concept is None:
            allowed = ", ".join(sorted(ref.actor_class))
            row.problem("type_acteur", f"unknown code {code!r} (code list types-acteurs: {allowed})",
                        f"code inconnu {code!r} (liste types-acteurs : {allowed})")
        else:
            classes.append(ref.actor_class[concept.rsplit("/", 1)[1]])
    ess_value = row.get("ess").lower()
    ess_class = str(PTCE.EntrepriseESS)
    if ess_value in YES:
        if not any(ess_class in ref.superclasses.get(c, ()) for c in classes):
            classes.append(ess_class)
    elif ess_value in NO:
        if any(ess_class in ref.superclasses.get(c, ()) for c in classes):
            row.problem("ess", "'non' contradicts type_acteur (an ESS enterprise type)",
                        "'non' contredit type_acteur (un type d'entreprise de l'ESS)")
    elif ess_value:
        row.problem("ess", f"{row.get('ess')!r} must be oui, non or empty",
                    f"{row.get('ess')!r} : la valeur doit être oui, non ou vide")
    for i, first in enumerate(classes):
        for second in classes[i + 1:]:
            for a in ref.superclasses.get(first, {first}):
                if any(frozenset((a, b)) in ref.disjoint for b in ref.superclasses.get(second, {second})):
                    a_name, b_name = first.rsplit('#', 1)[1], second.rsplit('#', 1)[1]
                    row.problem("type_acteur" if ess_value not in YES else "ess",
                                f"{a_name} and {b_name} are disjoint classes in the ontology",
                                f"{a_name} et {b_name} sont incompatibles (classes disjointes de l'ontologie)")
                    break

    category = row.get("categorie_juridique")
    category_concept = None
    if category:
        if not re.match(r"^\d{4}$", category):
            row.problem("categorie_juridique", f"{category!r} is not an INSEE legal category (4 digits, e.g. 9220)",
                        f"{category!r} n'est pas une catégorie juridique de l'INSEE (4 chiffres, par exemple 9220)")
        else:
            category_concept = ref.concept("categories-juridiques", category)
    roles = row.codes("role", "roles")
    start, end = row.period("debut", "fin")
    commune = row.commune("commune")
    websites = row.url("site_web")
    sources = row.url("source")
    duplicate_key = (ptce_id, key, start[0] if start else "")
    if ptce_id and key and duplicate_key in seen:
        row.problem("nom", f"this member is already listed for PTCE {ptce_id} with the same start (line {seen[duplicate_key]})",
                    f"ce membre figure déjà pour le PTCE {ptce_id} avec le même début (ligne {seen[duplicate_key]})")
    if row.problems:
        return []
    seen[duplicate_key] = line

    out += [triple(org, TYPE, iri(c)) for c in classes]
    out.append(triple(org, SKOS.prefLabel, row.text("nom")))
    if siren:
        out += _registered(org, siren)
    if category:
        out.append(triple(org, PTCE.legalCategoryCode, text(category)))
        if category_concept:
            out.append(triple(org, PTCE.legalCategory, iri(category_concept)))
    out += [triple(org, PTCE.website, url) for url in websites]
    site = None
    if siret:
        site, establishment = _establishment(ns, org, siret)
        out += establishment
    elif commune:
        site = iri(f"{org.value}#site-{commune.lower()}")
        out += [triple(site, TYPE, iri(ORG.Site)), triple(site, ORG.siteOf, org), triple(org, ORG.hasSite, site)]
    if site is not None and commune:
        out.append(triple(site, PTCE.commune, iri(ctx.territories.id("commune", commune))))

    ptce = iri(ns.id("ptce", ptce_id))
    membership_iri = ctx.unique(f"{ptce.value}#membre-{key}")
    membership = iri(membership_iri)
    out += [triple(membership, TYPE, iri(ORG.Membership)), triple(membership, ORG.member, org),
            triple(membership, ORG.organization, ptce), triple(ptce, ORG.hasMember, org)]
    out += [triple(membership, ORG.role, iri(r)) for r in roles]
    if start or end:
        period = f"{membership_iri}-periode"
        out.append(triple(membership, ORG.memberDuring, iri(period)))
        out += _interval(period, start, end)
    out += [triple(membership, DCTERMS.source, url) for url in sources]
    return out


def _identified(ctx: Context, row: Row, seen: dict[str, int], kind: str, what: str,
                what_fr: str) -> tuple[str, str, ox.NamedNode]:
    """The PTCE a row refers to, the row's own id (unique in its file) and the IRI it mints."""
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    slug = row.slug("id")
    if slug and slug in seen:
        row.problem("id", f"duplicate {what} id {slug!r} (first on line {seen[slug]})",
                    f"identifiant de {what_fr} {slug!r} en double (déjà utilisé ligne {seen[slug]})")
    return ptce_id, slug, iri(ctx.ns.id(kind, slug or "x"))


def _project_row(ctx: Context, row: Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id, slug, node = _identified(ctx, row, seen, "projet", "project", "projet")
    innovations = row.codes("innovation", "types-innovation")
    start, end = row.period("debut", "fin")
    participants = []
    for item in row.items("participants"):
        digits = compact(item)
        if digits.isdigit():
            problem = siren_reasons(digits)
            if problem:
                row.identifier_problem("participants", item, problem)
            else:
                participants.append(iri(ns.id("organisation", digits)))
        elif ptce_id and (ptce_id, slugify(item)) in ctx.member_keys:
            participants.append(iri(ns.id("organisation", ctx.member_keys[(ptce_id, slugify(item))])))
        else:
            row.problem("participants", f"{item!r} is neither a SIREN nor the name of a member of PTCE {ptce_id} in membres.csv",
                        f"{item!r} n'est ni un SIREN ni le nom d'un membre du PTCE {ptce_id} dans membres.csv")
    sources = row.url("source")
    if row.problems:
        return []
    seen[slug] = line
    out += [triple(iri(ns.id("ptce", ptce_id)), PTCE.project, node), triple(node, TYPE, iri(PTCE.Projet)),
            triple(node, SKOS.prefLabel, row.text("nom"))]
    if row.get("description"):
        out.append(triple(node, DCTERMS.description, row.text("description")))
    out += [triple(node, PTCE.innovationType, iri(c)) for c in innovations]
    if row.get("developpement_local"):
        out.append(triple(node, PTCE.localDevelopmentContribution, row.text("developpement_local")))
    if start or end:
        period = f"{node.value}#periode"
        out.append(triple(node, DCTERMS.temporal, iri(period)))
        out += _interval(period, start, end)
    out += [triple(node, PROV.wasAssociatedWith, p) for p in participants]
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


def _place_row(ctx: Context, row: Row, seen: dict[str, int], line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id, slug, node = _identified(ctx, row, seen, "lieu", "place", "lieu")
    kinds = row.codes("type", "types-lieux")
    commune = row.commune("commune")
    postcode = row.get("code_postal")
    if postcode and not re.match(r"^\d{5}$", postcode):
        row.problem("code_postal", f"{postcode!r} is not a postal code (5 digits)",
                    f"{postcode!r} n'est pas un code postal (5 chiffres)")
    latitude = row.decimal("latitude", Decimal(-90), Decimal(90))
    longitude = row.decimal("longitude", Decimal(-180), Decimal(180))
    if (row.get("latitude") == "") != (row.get("longitude") == ""):
        row.problem("latitude" if not row.get("latitude") else "longitude", "give both latitude and longitude, or neither",
                    "indiquez à la fois la latitude et la longitude, ou aucune des deux")
    sources = row.url("source")
    if row.problems:
        return []
    seen[slug] = line
    ptce = iri(ns.id("ptce", ptce_id))
    out += [triple(ptce, ORG.hasSite, node), triple(node, ORG.siteOf, ptce), triple(node, TYPE, iri(PTCE.LieuPartage)),
            triple(node, SKOS.prefLabel, row.text("nom"))]
    out += [triple(node, PTCE.placeType, iri(c)) for c in kinds]
    if row.get("adresse") or postcode:
        address = iri(f"{node.value}#adresse")
        out += [triple(node, LOCN.address, address), triple(address, TYPE, iri(LOCN.Address))]
        if row.get("adresse"):
            out.append(triple(address, LOCN.fullAddress, text(row.get("adresse"))))
        if postcode:
            out.append(triple(address, LOCN.postCode, text(postcode)))
    if commune:
        out.append(triple(node, PTCE.commune, iri(ctx.territories.id("commune", commune))))
    if latitude is not None and longitude is not None:
        geometry = iri(f"{node.value}#geometrie")
        wkt = f"POINT({format(longitude, 'f')} {format(latitude, 'f')})"
        out += [triple(node, GEO.hasGeometry, geometry), triple(geometry, TYPE, iri(GEO.Geometry)),
                triple(geometry, GEO.asWKT, typed(wkt, GEO.wktLiteral))]
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


def _resource_row(ctx: Context, row: Row, seen: dict, line: int) -> list[ox.Triple]:
    ns, out = ctx.ns, []
    ptce_id = row.ptce_reference(ctx.ptce_ids)
    kinds = row.codes("type", "types-ressources", single=True)
    funder_siren = row.siren("financeur_siren")
    amount = row.decimal("montant", minimum=0)
    share = row.decimal("part", Decimal(0), Decimal(1), percent=True)
    year = row.get("annee")
    if year and not re.match(r"^\d{4}$", year):
        row.problem("annee", f"{year!r} is not a year (YYYY)", f"{year!r} n'est pas une année (AAAA)")
    sources = row.url("source")
    if row.problems:
        return []
    ptce = iri(ns.id("ptce", ptce_id))
    code = kinds[0].rsplit("/", 1)[1]
    node_iri = f"{ptce.value}#ressource-{year or 'sans-annee'}-{code}"
    if node_iri in ctx.used and (row.get("financeur") or funder_siren):
        node_iri += "-" + (funder_siren or slugify(row.get("financeur")))
    node = iri(ctx.unique(node_iri))
    out += [triple(ptce, PTCE.mobilisedResource, node), triple(node, TYPE, iri(PTCE.RessourceMobilisee)),
            triple(node, PTCE.resourceType, iri(kinds[0]))]
    if funder_siren or slugify(row.get("financeur")):
        funder = iri(ns.id("organisation", funder_siren or slugify(row.get("financeur"))))
        out.append(triple(node, PTCE.resourceProvider, funder))
        if funder_siren:
            out += _registered(funder, funder_siren)
        if row.get("financeur"):
            out.append(triple(funder, SKOS.prefLabel, row.text("financeur")))
    if amount is not None:
        out.append(triple(node, PTCE.amount, _decimal(amount)))
    if share is not None:
        out.append(triple(node, PTCE.share, _decimal(share)))
    if year:
        out.append(triple(node, PTCE.referenceYear, typed(year, XSD.gYear)))
    out += [triple(node, DCTERMS.source, url) for url in sources]
    return out


HANDLERS = {
    "ptce.csv": _ptce_row,
    "membres.csv": _member_row,
    "projets.csv": _project_row,
    "lieux.csv": _place_row,
    "ressources.csv": _resource_row,
}
