"""The triples that identify a SIRENE legal unit and an establishment, written the same way by every
ingestion (publisher template, SIRENE stock files).

* legal unit ``{base}id/organisation/{siren}``: ``rov:RegisteredOrganization``, ``ptce:siren``,
  ``wdt:P1616`` and ``rov:registration`` -> ``{org}#siren``, an ``adms:Identifier``;
* establishment ``{base}id/etablissement/{siret}``: ``ptce:Etablissement``, ``ptce:siret``,
  ``wdt:P3215``, ``adms:identifier`` -> ``{node}#siret``, ``org:siteOf`` / ``org:hasSite``.

:func:`registered` and :func:`establishment` give pyoxigraph triples (small inputs);
:func:`ntriples_template` turns the same triples into an N-Triples ``str.format`` template, for the
SIRENE ingestion that writes millions of them as text (see ``ptcekb.ingest.sirene``).
"""

from __future__ import annotations

from typing import Iterable, Iterator

import pyoxigraph as ox

from ..namespaces import ADMS, CONCEPT, DCTERMS, ORG, PTCE, ROV, SKOS, WDT, Namespaces
from ..rdf import TYPE, iri, text, triple

ANNUAIRE = "https://annuaire-entreprises.data.gouv.fr/"


def annuaire_unit_page(siren: str) -> str:
    """The public page of a legal unit on annuaire-entreprises (État)."""
    return f"{ANNUAIRE}entreprise/{siren}"


def annuaire_establishment_page(siret: str) -> str:
    return f"{ANNUAIRE}etablissement/{siret}"


def registered(org: ox.NamedNode, siren: str) -> Iterator[ox.Triple]:
    """A SIRENE legal unit: its SIREN as a literal and as an adms:Identifier."""
    identifier = iri(f"{org.value}#siren")
    yield triple(org, TYPE, iri(ROV.RegisteredOrganization))
    yield triple(org, PTCE.siren, text(siren))
    yield triple(org, WDT.P1616, text(siren))
    yield triple(org, ROV.registration, identifier)
    yield triple(identifier, TYPE, iri(ADMS.Identifier))
    yield triple(identifier, SKOS.notation, text(siren))
    yield triple(identifier, DCTERMS.type, iri(CONCEPT["types-identifiants/siren"]))
    yield triple(identifier, ADMS.schemeAgency, text("INSEE"))


def establishment_triples(node: ox.NamedNode, org: ox.NamedNode, siret: str) -> list[ox.Triple]:
    """A SIRENE establishment ``node`` of the legal unit ``org``: its SIRET, identifier and site links."""
    identifier = iri(f"{node.value}#siret")
    return [
        triple(node, TYPE, iri(PTCE.Etablissement)),
        triple(node, PTCE.siret, text(siret)),
        triple(node, WDT.P3215, text(siret)),
        triple(node, ADMS.identifier, identifier),
        triple(node, ORG.siteOf, org),
        triple(org, ORG.hasSite, node),
        triple(identifier, TYPE, iri(ADMS.Identifier)),
        triple(identifier, SKOS.notation, text(siret)),
        triple(identifier, DCTERMS.type, iri(CONCEPT["types-identifiants/siret"])),
        triple(identifier, ADMS.schemeAgency, text("INSEE")),
    ]


def establishment(ns: Namespaces, org: ox.NamedNode, siret: str) -> tuple[ox.NamedNode, list[ox.Triple]]:
    """The establishment IRI ``{base}id/etablissement/{siret}`` and its triples."""
    node = iri(ns.id("etablissement", siret))
    return node, establishment_triples(node, org, siret)


# -- the same triples as N-Triples text, for bulk ingestion ---------------------------------------

_PLACEHOLDER_IRI = "https://placeholder.invalid/"


def ntriples_template(triples: Iterable[ox.Triple], **placeholders: str) -> str:
    """An N-Triples ``str.format`` template of ``triples``.

    The triples are built with placeholder values: IRIs ``https://placeholder.invalid/{name}`` and
    literals equal to a placeholder name given in ``placeholders`` (name -> the literal value used).
    Each becomes ``{name}`` in the template, so ``template.format(org=..., siren=...)`` writes the
    triples for real values, without building pyoxigraph terms for each of millions of rows.
    """
    lines = []
    for t in triples:
        line = f"{t.subject} {t.predicate} {t.object} .\n".replace("{", "{{").replace("}", "}}")
        for name, value in placeholders.items():
            line = line.replace(f"<{_PLACEHOLDER_IRI}{name}>", f"<{{{name}}}>")
            line = line.replace(f"<{_PLACEHOLDER_IRI}{name}#", f"<{{{name}}}#")
            line = line.replace(f'"{value}"', f'"{{{name}}}"')
        lines.append(line)
    return "".join(lines)


def placeholder(name: str) -> ox.NamedNode:
    return iri(_PLACEHOLDER_IRI + name)
