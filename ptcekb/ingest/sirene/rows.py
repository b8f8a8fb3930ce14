"""Row mapping: a kept legal unit or establishment of the stock files -> N-Triples text.

:class:`Writer` turns the fields of one row into N-Triples lines (no Python RDF object per row),
checked against the code lists of ``ontology/vocabularies`` and the COG (:class:`Reference`);
:class:`Rejects` records every rejected row or dropped field; :class:`Summary` counts them.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from ...errors import UserError
from ...identifiers import siret_problem
from ...namespaces import CONCEPT, GEO, LOCN, ORG, PTCE, RDF, RDFS, ROV, SKOS, XSD, Namespaces
from ..cog import CogReference, cog_reference
from ..registry import (annuaire_establishment_page, annuaire_unit_page, establishment_triples, ntriples_template,
                        placeholder, registered)
from .projection import METROPOLE, lambert93_to_wgs84

VOCABULARIES = Path("ontology/vocabularies")
ESS_FAMILIES = str(CONCEPT["categories-juridiques/ess-par-statut"])
NOT_DIFFUSED = "[ND]"                # INSEE's mark for a value withheld from diffusion

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_CODE4 = re.compile(r"^\d{4}$")
_NAF = re.compile(r"^[0-9A-Z.]{2,8}$")
_POSTCODE = re.compile(r"^\d{5}$")
_NIC = re.compile(r"^\d{5}$")

# Kept facts are handed on in pieces of at most this many strings (~5 MB of N-Triples), not once per
# 16 MiB chunk of input: with 35 % of the rows kept a chunk makes ~70 MB of text, held as small
# strings, joined, copied to the file and encoded into a loader block (docs/benchmarks.md, issue 23).
FLUSH_PARTS = 40_000

_XSD_DATE = f"<{XSD.date}>"
_XSD_GYEAR = f"<{XSD.gYear}>"
_XSD_BOOLEAN = f"<{XSD.boolean}>"
_WKT = f"<{GEO.wktLiteral}>"


@dataclass(frozen=True)
class Reference:
    categories: frozenset        # codes with a concept in categories-juridiques
    ess_categories: frozenset    # codes in an ESS family (members of members of cj:ess-par-statut)
    bands: frozenset             # tranches-effectifs codes
    cog: CogReference


@lru_cache(maxsize=4)
def load_reference(root: Path) -> Reference:
    members: dict[str, set[str]] = {}
    codes: dict[str, set[str]] = {"categories-juridiques": set(), "tranches-effectifs": set()}
    for scheme in codes:
        path = root / VOCABULARIES / f"{scheme}.ttl"
        try:
            parsed = list(ox.parse(path=str(path), format=ox.RdfFormat.TURTLE))
        except (OSError, SyntaxError, ValueError) as exc:
            raise UserError(f"cannot read the code list {path}: {exc}", exit_code=2) from None
        prefix = str(CONCEPT) + scheme + "/"
        for t in parsed:
            if t.predicate.value == str(SKOS.inScheme) and t.subject.value.startswith(prefix):
                codes[scheme].add(t.subject.value[len(prefix):])
            elif t.predicate.value == str(SKOS.member):
                members.setdefault(t.subject.value, set()).add(t.object.value)
    prefix = str(CONCEPT) + "categories-juridiques/"
    ess = {concept[len(prefix):] for family in members.get(ESS_FAMILIES, ()) for concept in members.get(family, ())}
    if not ess:
        raise UserError(f"no ESS family in {root / VOCABULARIES / 'categories-juridiques.ttl'}", exit_code=2)
    return Reference(frozenset(codes["categories-juridiques"]), frozenset(ess), frozenset(codes["tranches-effectifs"]),
                     cog_reference(root))




def _literal(value: str) -> str:
    if '"' in value or "\\" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return value


@dataclass
class Summary:
    unit_rows: int = 0
    establishment_rows: int = 0
    kept_ess_flag: int = 0
    kept_ess_category: int = 0
    kept_referenced: int = 0
    kept_units: int = 0
    kept_establishments: int = 0
    natural_persons_skipped: int = 0
    protected_units: int = 0
    untyped_units: int = 0
    flag_category_conflicts: int = 0
    points: int = 0
    rejects: dict = field(default_factory=dict)
    triples: int = 0
    seconds: dict = field(default_factory=dict)
    layouts: dict = field(default_factory=dict)


class Rejects:
    """The rejects file: one CSV row per rejected row or dropped field, with its line and reason."""

    def __init__(self, path: Path, summary: Summary):
        self.stream = open(path, "w", encoding="utf-8", newline="")
        self.writer = csv.writer(self.stream)
        self.writer.writerow(["fichier", "ligne", "identifiant", "motif", "action"])
        self.summary = summary

    def add(self, file: str, line: int, identifier: str, kind: str, reason: str, action: str = "row skipped") -> None:
        self.writer.writerow([file, line, identifier, reason, action])
        self.summary.rejects[kind] = self.summary.rejects.get(kind, 0) + 1

    def close(self) -> None:
        self.stream.close()


class Writer:
    """Kept units and establishments as N-Triples text."""

    def __init__(self, ns: Namespaces, ref: Reference, stream, summary: Summary, rejects: Rejects):
        self.ns, self.ref, self.stream, self.summary, self.rejects = ns, ref, stream, summary, rejects
        self.org_base = ns.id("organisation", "")
        self.site_base = ns.id("etablissement", "")
        self.commune_base = ns.id("commune", "")
        org, site = placeholder("org"), placeholder("site")
        self.unit_template = ntriples_template(registered(org, "SIRENPLACEHOLDER"), org="", siren="SIRENPLACEHOLDER")
        self.site_template = ntriples_template(establishment_triples(site, org, "SIRETPLACEHOLDER"),
                                               site="", org="", siret="SIRETPLACEHOLDER")
        self.p = {name: f"<{value}>" for name, value in {
            "type": RDF.type, "legalName": ROV.legalName, "prefLabel": SKOS.prefLabel, "altLabel": SKOS.altLabel,
            "legalCategoryCode": PTCE.legalCategoryCode, "legalCategory": PTCE.legalCategory,
            "nafCode": PTCE.nafCode, "nomenclature": PTCE.activityNomenclature, "essFlag": PTCE.essFlag,
            "missionFlag": PTCE.missionCompanyFlag, "band": PTCE.headcountBand, "bandYear": PTCE.headcountYear,
            "created": PTCE.creationDate, "status": PTCE.administrativeStatus,
            "headOffice": ORG.hasRegisteredSite, "seeAlso": RDFS.seeAlso, "commune": PTCE.commune,
            "address": LOCN.address, "postCode": LOCN.postCode, "geometry": GEO.hasGeometry, "wkt": GEO.asWKT,
        }.items()}
        self.classes = {name: f"<{PTCE[name]}>" for name in ("EntrepriseESSDeStatut", "EntrepriseESS", "EntrepriseHorsESS")}
        self.concept = str(CONCEPT)
        self.parts: list[str] = []

    def flush(self) -> None:
        if self.parts:
            self.stream.write("".join(self.parts))
            self.parts = []

    # -- one legal unit ------------------------------------------------------------------------
    def unit(self, f: list[str], col: dict[str, int], referenced: bool) -> tuple[bool, bool]:
        """Write a kept unit; return (written, protected)."""
        def get(name: str) -> str:
            i = col.get(name)
            value = f[i].strip() if i is not None else ""
            return "" if value == NOT_DIFFUSED else value

        siren, category, ess = get("siren"), get("categorieJuridiqueUniteLegale"), get("economieSocialeSolidaireUniteLegale")
        natural = category == "1000"
        if natural and not referenced:
            self.summary.natural_persons_skipped += 1
            return False, True
        protected = natural or get("statutDiffusionUniteLegale") == "P"
        if protected:
            self.summary.protected_units += 1
        s = self.summary
        if ess == "O":
            s.kept_ess_flag += 1
        if category in self.ref.ess_categories:
            s.kept_ess_category += 1
        if referenced:
            s.kept_referenced += 1
        s.kept_units += 1
        p, org = self.p, f"<{self.org_base}{siren}>"
        out = [self.unit_template.format(org=self.org_base + siren, siren=siren)]
        if category in self.ref.ess_categories:
            cls = self.classes["EntrepriseESSDeStatut"]
            if ess == "N":
                s.flag_category_conflicts += 1
        elif ess == "O":
            cls = self.classes["EntrepriseESS"]
        elif ess == "N" and category[:1] in "123456" and category:
            cls = self.classes["EntrepriseHorsESS"]
        else:
            cls = None
            s.untyped_units += 1
        if cls:
            out.append(f"{org} {p['type']} {cls} .\n")
        if protected:
            label = "Entrepreneur individuel" if natural else "Unité légale à diffusion partielle"
            out.append(f'{org} {p["prefLabel"]} "{label} (SIREN {siren})"@fr .\n')
        else:
            name = get("denominationUniteLegale")
            usual = [v for v in (get("denominationUsuelle1UniteLegale"), get("denominationUsuelle2UniteLegale"),
                                 get("denominationUsuelle3UniteLegale")) if v]
            if name:
                out.append(f'{org} {p["legalName"]} "{_literal(name)}" .\n{org} {p["prefLabel"]} "{_literal(name)}"@fr .\n')
            elif usual:
                out.append(f'{org} {p["prefLabel"]} "{_literal(usual.pop(0))}"@fr .\n')
            for value in usual + [v for v in (get("sigleUniteLegale"),) if v]:
                out.append(f'{org} {p["altLabel"]} "{_literal(value)}"@fr .\n')
        if _CODE4.match(category):
            out.append(f'{org} {p["legalCategoryCode"]} "{category}" .\n')
            if category in self.ref.categories:
                out.append(f'{org} {p["legalCategory"]} <{self.concept}categories-juridiques/{category}> .\n')
        self._activity(out, org, get("activitePrincipaleUniteLegale"), get("nomenclatureActivitePrincipaleUniteLegale"))
        if ess in ("O", "N"):
            out.append(f'{org} {p["essFlag"]} "{"true" if ess == "O" else "false"}"^^{_XSD_BOOLEAN} .\n')
        mission = get("societeMissionUniteLegale")
        if mission in ("O", "N"):
            out.append(f'{org} {p["missionFlag"]} "{"true" if mission == "O" else "false"}"^^{_XSD_BOOLEAN} .\n')
        self._band(out, org, get("trancheEffectifsUniteLegale"), get("anneeEffectifsUniteLegale"))
        created = get("dateCreationUniteLegale")
        if _DATE.match(created):
            out.append(f'{org} {p["created"]} "{created}"^^{_XSD_DATE} .\n')
        status = get("etatAdministratifUniteLegale")
        if status in ("A", "C"):
            out.append(f'{org} {p["status"]} <{self.concept}etats-administratifs/{status}> .\n')
        nic = get("nicSiegeUniteLegale")
        if _NIC.match(nic):
            siret = siren + nic
            problem = siret_problem(siret)
            if problem:
                self.rejects.add(self._file, self._line, siret, "head-office SIRET", problem, "head office not linked")
            else:
                out.append(f"{org} {p['headOffice']} <{self.site_base}{siret}> .\n")
        out.append(f"{org} {p['seeAlso']} <{annuaire_unit_page(siren)}> .\n")
        self.parts.extend(out)
        if len(self.parts) >= FLUSH_PARTS:
            self.flush()
        return True, protected

    def _activity(self, out: list[str], node: str, code: str, nomenclature: str) -> None:
        if code and _NAF.match(code):
            out.append(f'{node} {self.p["nafCode"]} "{code}" .\n')
            if nomenclature and _NAF.match(nomenclature.upper()):
                out.append(f'{node} {self.p["nomenclature"]} "{nomenclature}" .\n')

    def _band(self, out: list[str], node: str, band: str, year: str) -> None:
        if band in self.ref.bands:
            out.append(f'{node} {self.p["band"]} <{self.concept}tranches-effectifs/{band}> .\n')
            if _YEAR.match(year):
                out.append(f'{node} {self.p["bandYear"]} "{year}"^^{_XSD_GYEAR} .\n')

    # -- one establishment ---------------------------------------------------------------------
    def establishment(self, f: list[str], col: dict[str, int], protected_unit: bool) -> bool:
        def get(name: str) -> str:
            i = col.get(name)
            value = f[i].strip() if i is not None else ""
            return "" if value == NOT_DIFFUSED else value

        siren, siret = get("siren"), get("siret")
        problem = siret_problem(siret)
        if problem:
            self.rejects.add(self._file, self._line, siret, "invalid SIRET", problem)
            return False
        if siret[:9] != siren:
            self.rejects.add(self._file, self._line, siret, "invalid SIRET", f"SIRET {siret} does not start with the SIREN {siren}")
            return False
        p, node = self.p, f"<{self.site_base}{siret}>"
        out = [self.site_template.format(site=self.site_base + siret, org=self.org_base + siren, siret=siret)]
        code = get("codeCommuneEtablissement").upper()
        commune = None
        if code:
            commune = self.ref.cog.current(code)
            if commune is None:
                self.rejects.add(self._file, self._line, siret, "unknown commune",
                                 f"unknown commune code {code!r} in the COG 2026", "establishment kept without its commune")
            else:
                out.append(f"{node} {p['commune']} <{self.commune_base}{commune}> .\n")
        protected = protected_unit or get("statutDiffusionEtablissement") == "P"
        if not protected:
            postcode = get("codePostalEtablissement")
            if _POSTCODE.match(postcode):
                out.append(f"{node} {p['address']} <{self.site_base}{siret}#adresse> .\n"
                           f'<{self.site_base}{siret}#adresse> {p["postCode"]} "{postcode}" .\n')
            x, y = get("coordonneeLambertAbscisseEtablissement"), get("coordonneeLambertOrdonneeEtablissement")
            if x and y and commune and not commune.startswith("97") and not commune.startswith("98"):
                try:
                    lon, lat = lambert93_to_wgs84(float(x), float(y))
                except (ValueError, ZeroDivisionError):
                    lon = lat = math.nan
                west, south, east, north = METROPOLE
                if west <= lon <= east and south <= lat <= north:
                    self.summary.points += 1
                    out.append(f"{node} {p['geometry']} <{self.site_base}{siret}#geometrie> .\n"
                               f'<{self.site_base}{siret}#geometrie> {p["wkt"]} "POINT({lon:.6f} {lat:.6f})"^^{_WKT} .\n')
                else:
                    self.rejects.add(self._file, self._line, siret, "wrong coordinates",
                                     f"Lambert-93 ({x}, {y}) falls outside metropolitan France", "point not written")
        status = get("etatAdministratifEtablissement")
        if status in ("A", "F"):
            out.append(f'{node} {p["status"]} <{self.concept}etats-administratifs/{status}> .\n')
        self._activity(out, node, get("activitePrincipaleEtablissement"), get("nomenclatureActivitePrincipaleEtablissement"))
        self._band(out, node, get("trancheEffectifsEtablissement"), "")
        out.append(f"{node} {p['seeAlso']} <{annuaire_establishment_page(siret)}> .\n")
        self.parts.extend(out)
        if len(self.parts) >= FLUSH_PARTS:
            self.flush()
        self.summary.kept_establishments += 1
        return True

    _file = ""
    _line = 0

