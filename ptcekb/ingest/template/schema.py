"""The template's schema: its files and columns, what a result is, and the reference data rows are
checked against (code lists of ``ontology/vocabularies``, actor classes of the ontology, the COG)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ...config import SOURCES_ROOT
from ...errors import UserError
from ...namespaces import CONCEPT, OWL, PTCE, RDFS, SKOS
from ..cog import CogReference, cog_reference
from ..rdf_files import parse_file

LANG = "fr"  # free-text columns are French

# Columns of each file, in the documented order; REQUIRED ones must be present and non-empty.
COLUMNS: dict[str, tuple[str, ...]] = {
    "ptce.csv": (
        "id", "nom", "autres_noms", "description", "site_web", "date_creation", "date_fin",
        "siren_porteur", "nom_porteur",
        "territoire_communes", "territoire_epci", "territoire_departements", "territoire_regions",
        "territoire_description",
        "strategie", "modes_cooperation", "niveaux_cooperation", "charte",
        "utilite_sociale", "developpement_local",
        "impulsion", "perimetre", "secteurs", "fonctions_transverses", "configuration_gouvernance",
        "etp_animation", "nombre_membres", "etp_total", "source",
    ),
    "membres.csv": (
        "ptce", "nom", "siren", "siret", "type_acteur", "categorie_juridique", "ess", "role",
        "debut", "fin", "commune", "site_web", "source",
    ),
    "projets.csv": (
        "ptce", "id", "nom", "description", "innovation", "developpement_local", "debut", "fin",
        "participants", "source",
    ),
    "lieux.csv": (
        "ptce", "id", "nom", "type", "adresse", "code_postal", "commune", "latitude", "longitude", "source",
    ),
    "ressources.csv": (
        "ptce", "type", "financeur", "financeur_siren", "montant", "part", "annee", "source",
    ),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "ptce.csv": ("id", "nom"),
    "membres.csv": ("ptce", "nom", "type_acteur"),
    "projets.csv": ("ptce", "id", "nom"),
    "lieux.csv": ("ptce", "id", "nom"),
    "ressources.csv": ("ptce", "type"),
}
MAIN_FILE = "ptce.csv"
VOCABULARIES = Path("ontology/vocabularies")
ONTOLOGY = Path("ontology/ptce.ttl")


# A reason said in English and French: {"en": …, "fr": …} (``labels.pick`` chooses one).
Said = dict[str, str]


@dataclass(frozen=True)
class Reject:
    """A rejected row (or header, or unreadable record): file name, physical line (header = 1), reasons.

    ``reason`` is the English line the command line prints; ``problems`` says the same, one
    (column, reason in both languages) per problem (column "" when it is about no one column),
    for the validation report in the reader's language."""

    file: str
    line: int
    reason: str
    problems: tuple[tuple[str, Said], ...] = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


def said(en: str, fr: str) -> Said:
    return {"en": en, "fr": fr}


@dataclass
class TemplateResult:
    triples: list[ox.Triple]
    rejects: list[Reject]
    kept: dict[str, int] = field(default_factory=dict)  # rows kept per file
    # the rows kept, each with the triples it produced: (file, physical line, triples)
    rows: list[tuple[str, int, list[ox.Triple]]] = field(default_factory=list)



@dataclass(frozen=True)
class Reference:
    codes: dict[str, dict[str, str]]       # scheme -> code -> concept IRI (as declared)
    actor_class: dict[str, str]            # types-acteurs code -> OWL class IRI
    superclasses: dict[str, frozenset]     # class -> itself and its declared superclasses
    disjoint: frozenset                    # frozenset({a, b}) pairs declared owl:disjointWith
    cog: CogReference                      # the COG 2026 codes (communes, EPCI, EPT, départements, régions)

    def concept(self, scheme: str, code: str) -> str | None:
        concepts = self.codes.get(scheme, {})
        return concepts.get(code) or concepts.get(code.lower())


@lru_cache(maxsize=4)
def load_reference(root: Path = SOURCES_ROOT) -> Reference:
    """Parse the code lists and the ontology once; the COG codes come from ``ingest.cog``."""
    codes: dict[str, dict[str, str]] = defaultdict(dict)
    actor_class: dict[str, str] = {}
    concept_base = str(CONCEPT)
    vocab_files = sorted((root / VOCABULARIES).glob("*.ttl"))
    if not vocab_files:
        raise UserError(f"no code list in {root / VOCABULARIES}", exit_code=2)
    classes: dict[str, str] = {}
    for path in vocab_files:
        try:
            parsed = [q.triple for q in parse_file(path)]  # checked (syntax_limits), then parsed
        except (OSError, SyntaxError, ValueError) as exc:
            raise UserError(f"cannot read the code list {path}: {exc}", exit_code=2) from None
        for t in parsed:
            if t.predicate.value == str(SKOS.inScheme) and isinstance(t.object, ox.NamedNode):
                scheme, concept = t.object.value, t.subject.value
                if scheme.startswith(concept_base) and concept.startswith(scheme + "/"):
                    codes[scheme[len(concept_base):]][concept[len(scheme) + 1:]] = concept
            elif t.predicate.value == str(PTCE.actorClass):
                classes[t.subject.value] = t.object.value
    for code, concept in codes.get("types-acteurs", {}).items():
        if concept in classes:
            actor_class[code] = classes[concept]

    parents: dict[str, set] = defaultdict(set)
    disjoint = set()
    try:
        ontology = [q.triple for q in parse_file(root / ONTOLOGY)]
    except (OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"cannot read the ontology {root / ONTOLOGY}: {exc}", exit_code=2) from None
    for t in ontology:
        if t.predicate.value == str(RDFS.subClassOf) and isinstance(t.object, ox.NamedNode):
            parents[t.subject.value].add(t.object.value)
        elif t.predicate.value == str(OWL.disjointWith):
            disjoint.add(frozenset((t.subject.value, t.object.value)))
    superclasses = {}
    for cls in set(parents) | set(actor_class.values()):
        seen, todo = {cls}, [cls]
        while todo:
            for parent in parents.get(todo.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    todo.append(parent)
        superclasses[cls] = frozenset(seen)

    return Reference(
        codes={k: dict(v) for k, v in codes.items()}, actor_class=actor_class, superclasses=superclasses,
        disjoint=frozenset(disjoint), cog=cog_reference(Path(root)),
    )

