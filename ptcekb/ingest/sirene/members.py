"""PTCE members as the knowledge base knows them, and how they link to the SIRENE register.

:func:`ptce_members` reads the members and their SIREN/SIRET numbers from the published store;
:func:`link_members` reports, after the stock files are read, whether each member was found
(written to ``membres.csv``: a name alone is never linked, its candidates are listed).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ...namespaces import Namespaces
from ..cog import normalise_name


@dataclass
class Member:
    ptce: str
    member: str
    name: str = ""
    sirens: set = field(default_factory=set)
    sirets: set = field(default_factory=set)


MEMBERS_QUERY = """
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX ptce: <https://w3id.org/ptce/def#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?ptce ?member ?siren ?siret ?name WHERE {
  ?ptce a ptce:PTCE .
  { ?ptce org:hasMember ?member } UNION { ?membership org:organization ?ptce ; org:member ?member }
  OPTIONAL { ?member ptce:siren ?siren }
  OPTIONAL { ?member org:hasSite|org:hasRegisteredSite ?site . ?site ptce:siret ?siret }
  OPTIONAL { ?member skos:prefLabel|rdfs:label ?name }
}"""


def ptce_members(store: ox.Store, ns: Namespaces) -> list[Member]:
    """The members of the PTCEs in every graph but SIRENE's and meta, with their SIREN/SIRET numbers."""
    skip = {ns.graph("sirene"), ns.meta_graph}
    graphs = [g for g in store.named_graphs() if g.value not in skip]
    if not graphs:
        return []
    members: dict[tuple[str, str], Member] = {}
    organisation = ns.id("organisation", "")
    for row in store.query(MEMBERS_QUERY, default_graph=graphs):
        ptce, member = row["ptce"].value, row["member"]
        key = (ptce, str(member))
        found = members.setdefault(key, Member(ptce, member.value if isinstance(member, ox.NamedNode) else str(member)))
        if row["siren"] is not None:
            found.sirens.add(row["siren"].value)
        if row["siret"] is not None:
            found.sirets.add(row["siret"].value)
        if row["name"] is not None and not found.name:
            found.name = row["name"].value
        if isinstance(member, ox.NamedNode) and member.value.startswith(organisation):
            key_part = member.value[len(organisation):]
            if len(key_part) == 9 and key_part.isdigit():
                found.sirens.add(key_part)
    return sorted(members.values(), key=lambda m: (m.ptce, m.member))


def link_members(members: list[Member], kept: set[str], problems: dict[str, str], found_sirets: set[str],
                  candidates: dict[str, list]) -> list[dict]:
    rows = []
    for m in members:
        row = {"ptce": m.ptce, "membre": m.member, "nom": m.name, "siren": ";".join(sorted(m.sirens)),
               "siret": ";".join(sorted(m.sirets)), "statut": "", "detail": "", "candidats": ""}
        if m.sirens or m.sirets:
            sirens = m.sirens | {s[:9] for s in m.sirets}
            bad = [f"{s}: {problems[s]}" for s in sorted(sirens) if s in problems]
            missing = sorted(s for s in sirens if s not in kept and s not in problems)
            unknown_sirets = sorted(s for s in m.sirets if s not in found_sirets)
            if bad:
                row["statut"], row["detail"] = "invalid", "; ".join(bad)
            elif missing:
                row["statut"], row["detail"] = "not-in-register", "SIREN not in the legal-unit file: " + ", ".join(missing)
            else:
                row["statut"] = "linked"
                if unknown_sirets:
                    row["detail"] = "SIRET not in the establishment file: " + ", ".join(unknown_sirets)
        else:
            row["statut"] = "unresolved"
            found = candidates.get(normalise_name(m.name), []) if m.name else []
            row["candidats"] = ";".join(sorted(set(found)))
            row["detail"] = "no SIREN or SIRET; candidates share the normalised name (never linked automatically)" if found else "no SIREN or SIRET"
        rows.append(row)
    return rows


def write_members(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        out = csv.DictWriter(stream, fieldnames=["ptce", "membre", "nom", "siren", "siret", "statut", "detail", "candidats"])
        out.writeheader()
        out.writerows(rows)

