"""SIRENE, INSEE's register of companies: the ESS units of the national stock files -> ``graph/sirene``.

``ptcekb ingest sirene --unites-legales StockUniteLegale_utf8.csv[.zip] [--etablissements
StockEtablissement_utf8.csv[.zip]] [--store DIR]`` (documented in ``docs/sirene.md``):

1. reads, from the published store, the SIREN/SIRET numbers of PTCE members (any graph but SIRENE);
2. streams the legal-unit file (zip member read directly, 16 MiB at a time, never whole) and keeps the
   units in the ESS (``economieSocialeSolidaireUniteLegale = O``), those whose legal category is in
   an ESS family of the ``categories-juridiques`` code list (``cj:ess-par-statut``), and every unit
   a PTCE member references; columns are found by name, so every INSEE layout is read;
3. streams the establishment file and keeps the establishments of the kept units;
4. writes the kept facts as N-Triples text (no Python RDF object per row) into
   ``{store}.sirene/sirene.nt.partial``, the rejected rows into ``{store}.sirene/rejects.csv`` and
   the members' linking into ``{store}.sirene/membres.csv``;
5. publishes a new build of the store: every other graph copied from the published build, the new
   ``graph/sirene`` bulk-loaded, ``graph/meta`` updated; the atomic link switch of ``ptcekb build``
   makes the replacement atomic (an interrupted run leaves the previous graph served);
6. moves the N-Triples to ``{store}.sirene/sirene.nt``, which ``ptcekb build`` loads again (a rebuild
   from the curated sources keeps the SIRENE graph).

Speed: a row that is dropped (about 96 % of them) costs one ``rsplit`` of its last columns and two
comparisons; only kept rows are split and decoded. Lines with a double quote (rare) go through the
``csv`` module, multi-line quoted fields included.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import queue
import re
import threading
import time
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterator

import pyoxigraph as ox

from .. import __version__
from ..config import Settings
from ..errors import UserError
from ..identifiers import siren_problem, siret_problem
from ..namespaces import (CONCEPT, DCAT, DCTERMS, GEO, LICENCE_OUVERTE, LOCN, ORG, PROV, PTCE, RDF, RDFS,
                          ROV, SKOS, SPDX, XSD, Namespaces)
from ..rdf import iri, text, triple, typed
from ..store import StoreLocation, clone_build
from . import Source
from .cog import SNAPSHOT as COG_SNAPSHOT
from .cog import load_snapshot, normalise_name
from .registry import (annuaire_establishment_page, annuaire_unit_page, establishment_triples, ntriples_template,
                       placeholder, registered)

CHUNK = 16 << 20                     # bytes read from a stock file at a time
LOAD_BLOCK = 40 << 20                # bytes of N-Triples per bulk_load call (bounds the loader's memory)
LOAD_THREADS = 2
OPTIMIZE_FROM = 1_000_000            # compact the new build when the SIRENE graph has this many triples
MAX_RECORD_LINES = 20                # a quoted field open for more lines than this is a broken line
VOCABULARIES = Path("ontology/vocabularies")
ESS_FAMILIES = str(CONCEPT["categories-juridiques/ess-par-statut"])
INSEE_URLS = (
    "https://www.data.gouv.fr/fr/datasets/base-sirene-des-entreprises-et-de-leurs-etablissements-siren-siret/",
    "https://www.insee.fr/fr/information/3591226",
)
NOT_DIFFUSED = "[ND]"                # INSEE's mark for a value withheld from diffusion

# Columns read by name. Required ones must be in the header; the others may be missing (older layouts).
UNIT_REQUIRED = ("siren", "categorieJuridiqueUniteLegale", "economieSocialeSolidaireUniteLegale")
UNIT_OPTIONAL = (
    "statutDiffusionUniteLegale", "dateCreationUniteLegale", "sigleUniteLegale", "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale", "etatAdministratifUniteLegale", "denominationUniteLegale",
    "denominationUsuelle1UniteLegale", "denominationUsuelle2UniteLegale", "denominationUsuelle3UniteLegale",
    "activitePrincipaleUniteLegale", "nomenclatureActivitePrincipaleUniteLegale", "nicSiegeUniteLegale",
    "societeMissionUniteLegale",
)
ESTABLISHMENT_REQUIRED = ("siren", "siret")
ESTABLISHMENT_OPTIONAL = (
    "statutDiffusionEtablissement", "trancheEffectifsEtablissement", "codePostalEtablissement",
    "codeCommuneEtablissement", "coordonneeLambertAbscisseEtablissement", "coordonneeLambertOrdonneeEtablissement",
    "etatAdministratifEtablissement", "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
)

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR = re.compile(r"^\d{4}$")
_CODE4 = re.compile(r"^\d{4}$")
_NAF = re.compile(r"^[0-9A-Z.]{2,8}$")
_POSTCODE = re.compile(r"^\d{5}$")
_NIC = re.compile(r"^\d{5}$")

_XSD_DATE = f"<{XSD.date}>"
_XSD_GYEAR = f"<{XSD.gYear}>"
_XSD_BOOLEAN = f"<{XSD.boolean}>"
_WKT = f"<{GEO.wktLiteral}>"


# --------------------------------------------------------------------------------------------
# Lambert-93 -> WGS84
# --------------------------------------------------------------------------------------------

# Lambert-93 (EPSG:2154): Lambert conformal conic on GRS80, secant at 44° and 49° N, origin 46.5° N
# 3° E, false easting 700,000 m, false northing 6,600,000 m. Constants of IGN's algorithms
# (notes techniques NT/G 71, ALG0004 for the inverse): n, C and Ys computed from those parameters.
_E = 0.0818191910428158                    # first eccentricity of GRS80
_N = 0.7256077650532670
_C = 11754255.426096
_XS, _YS = 700000.0, 12655612.049876
_LON0 = math.radians(3.0)


def lambert93_to_wgs84(x: float, y: float) -> tuple[float, float]:
    """(longitude, latitude) in degrees of a Lambert-93 point (RGF93 ~ WGS84 to better than a metre)."""
    dx, dy = x - _XS, y - _YS
    radius = math.hypot(dx, dy)
    gamma = math.atan2(dx, -dy)
    lon = _LON0 + gamma / _N
    isometric = -math.log(radius / _C) / _N
    lat = 2 * math.atan(math.exp(isometric)) - math.pi / 2
    for _ in range(20):  # ALG0001: latitude from isometric latitude
        e_sin = _E * math.sin(lat)
        new = 2 * math.atan(((1 + e_sin) / (1 - e_sin)) ** (_E / 2) * math.exp(isometric)) - math.pi / 2
        if abs(new - lat) < 1e-12:
            lat = new
            break
        lat = new
    return math.degrees(lon), math.degrees(lat)


# Metropolitan France and Corsica, generously: a converted point outside is a wrong coordinate.
_METROPOLE = (-5.8, 41.2, 10.0, 51.3)


# --------------------------------------------------------------------------------------------
# Reference data: code lists and COG
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reference:
    categories: frozenset        # codes with a concept in categories-juridiques
    ess_categories: frozenset    # codes in an ESS family (members of members of cj:ess-par-statut)
    bands: frozenset             # tranches-effectifs codes
    communes: frozenset          # current communes of the COG
    current_of: dict             # code of a commune déléguée/associée, arrondissement municipal -> current commune


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
    snapshot = load_snapshot(root / COG_SNAPSHOT)
    current = frozenset(c["code"] for c in snapshot["communes"] if c["type"] == "commune-actuelle")
    current_of = {c["code"]: c.get("chefLieu") or c.get("commune") for c in snapshot["communes"]
                  if c["code"] not in current and (c.get("chefLieu") or c.get("commune")) in current}
    return Reference(frozenset(codes["categories-juridiques"]), frozenset(ess), frozenset(codes["tranches-effectifs"]),
                     current, current_of)


# --------------------------------------------------------------------------------------------
# What the knowledge base already says: PTCE members and their numbers
# --------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------
# Reading the stock files
# --------------------------------------------------------------------------------------------

class StockFile:
    """A SIRENE stock CSV, plain or as the only .csv member of a zip, read as bytes in chunks."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = Path(path), kind
        if not self.path.exists():
            raise UserError(f"{path}: no such file / fichier introuvable", exit_code=2)
        if self.path.is_dir():
            raise UserError(f"{path}: is a directory, not a SIRENE stock file / répertoire", exit_code=2)
        self._zip = None
        self.member = self.path.name
        if zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
                members = [m for m in self._zip.namelist() if m.lower().endswith(".csv")]
            except (zipfile.BadZipFile, OSError) as exc:
                raise UserError(f"{path}: unreadable zip file: {exc}", exit_code=2) from None
            if len(members) != 1:
                raise UserError(f"{path}: the zip must hold exactly one .csv file, not {len(members)} / "
                                f"le zip doit contenir un seul fichier .csv", exit_code=2)
            self.member = members[0]

    def open(self) -> BinaryIO:
        try:
            return self._zip.open(self.member) if self._zip is not None else open(self.path, "rb")
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise UserError(f"{self.path}: cannot read: {exc}", exit_code=2) from None

    def chunks(self) -> Iterator[list[bytes]]:
        """Lists of complete lines (without their end of line), header included."""
        with self.open() as stream:
            rest = b""
            crlf = None
            while True:
                try:
                    block = stream.read(CHUNK)
                except (OSError, zipfile.BadZipFile, EOFError) as exc:
                    raise UserError(f"{self.path}: read error (truncated or corrupt file?): {exc}", exit_code=2) from None
                if not block:
                    break
                block = rest + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    rest = block
                    continue
                rest, block = block[cut + 1:], block[:cut]
                if crlf is None:
                    crlf = b"\r\n" in block
                if crlf:
                    block = block.replace(b"\r", b"")
                yield block.split(b"\n")
            if rest.strip():
                yield [rest.replace(b"\r", b"")]

    def header(self, first_line: bytes, required: tuple[str, ...], what: str) -> dict[str, int]:
        try:
            names = next(csv.reader([first_line.decode("utf-8-sig")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            raise UserError(f"{self.path}: line 1 is not a CSV header in UTF-8 / en-tête illisible", exit_code=2) from None
        columns = {name.strip(): i for i, name in enumerate(names)}
        missing = [c for c in required if c not in columns]
        if missing:
            raise UserError(f"{self.path}: not a SIRENE {what} stock file: missing column(s) {', '.join(missing)} / "
                            f"ce n'est pas un fichier stock SIRENE des {what_fr(what)}", exit_code=2)
        return columns


def what_fr(what: str) -> str:
    return {"legal-unit": "unités légales (StockUniteLegale)", "establishment": "établissements (StockEtablissement)"}[what]


# --------------------------------------------------------------------------------------------
# Output: N-Triples text, rejects, summary
# --------------------------------------------------------------------------------------------

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
            commune = code if code in self.ref.communes else self.ref.current_of.get(code)
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
                west, south, east, north = _METROPOLE
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
        self.summary.kept_establishments += 1
        return True

    _file = ""
    _line = 0


# --------------------------------------------------------------------------------------------
# The two passes
# --------------------------------------------------------------------------------------------

def _records(stock: StockFile, lines: list[bytes], start: int, pending: list, rejects: Rejects,
             expected: int) -> Iterator[tuple[int, list[str]]]:
    """Records of the lines that need the csv module (a double quote), multi-line fields included.

    ``pending`` holds (line number, bytes) of an open quoted record carried over from previous
    lines; it is updated in place. A record that cannot be read is rejected at its first line and
    reading resumes on the line after it.
    """
    for offset, line in enumerate(lines):
        pending.append((start + offset, line))
        raw = b"\n".join(piece for _, piece in pending)
        if raw.count(b'"') % 2 and len(pending) < MAX_RECORD_LINES:
            continue  # a quoted field is still open: the record goes on on the next line
        span = list(pending)
        pending.clear()
        first = span[0][0]
        problem = None
        try:
            fields = next(csv.reader(io.StringIO(raw.decode("utf-8")), strict=True))
            if len(fields) != expected:
                problem = f"{len(fields)} fields, but the header has {expected} columns"
        except UnicodeDecodeError:
            problem = "not UTF-8"
        except (csv.Error, StopIteration) as exc:
            problem = f"broken CSV quoting ({exc})"
        if problem is None:
            yield first, fields
            continue
        if len(span) > 1:
            problem = f"a quoted field opened on this line is not closed properly; {problem}"
        rejects.add(stock.path.name, first, raw[:9].decode("ascii", "replace"), "broken line", problem)
        if len(span) > 1:  # resume on the line after the first one
            yield from _records(stock, [piece for _, piece in span[1:]], span[1][0], pending, rejects, expected)


def _scan(stock: StockFile, first: list[bytes], chunks: Iterator[list[bytes]], ncols: int, rejects: Rejects,
          fast, slow, flush) -> int:
    """Feed every data line to ``fast(lines, i, start) -> next index`` (quote-free lines and one-line
    quoted records), or, while a quoted field runs over several lines, to ``slow(line, fields)``.
    Return the number of non-empty data lines."""
    pending: list = []
    number = 1
    rows = 0

    def lines_of() -> Iterator[list[bytes]]:
        yield first[1:]
        yield from chunks

    for lines in lines_of():
        start = number + 1
        number += len(lines)
        rows += sum(1 for line in lines if line)
        i, n = 0, len(lines)
        while i < n:
            if pending:
                for line_no, fields in _records(stock, [lines[i]], start + i, pending, rejects, ncols):
                    slow(line_no, fields)
                i += 1
            else:
                i = fast(lines, i, start, pending)
        flush()
    while pending:  # a quoted field still open at the end of the file: reject its line, read the next ones
        span = list(pending)
        pending.clear()
        rejects.add(stock.path.name, span[0][0], span[0][1][:9].decode("ascii", "replace"), "broken line",
                    "a quoted field opened on this line is never closed")
        if len(span) > 1:
            for line_no, fields in _records(stock, [piece for _, piece in span[1:]], span[1][0], pending, rejects, ncols):
                slow(line_no, fields)
    flush()
    return rows


def _start_reading(stock: StockFile, writer: Writer, required: tuple[str, ...],
                   what: str) -> tuple[str, list[bytes], Iterator[list[bytes]], dict[str, int]]:
    """(file name, first chunk of lines, the next chunks, column index by name) of a stock file."""
    writer._file = name = stock.path.name
    chunks = stock.chunks()
    first = next(chunks, None)
    if not first or not first[0].strip():
        raise UserError(f"{stock.path}: empty file / fichier vide", exit_code=2)
    col = stock.header(first[0], required, what)
    writer.summary.layouts[name] = len(col)
    return name, first, chunks, col


def _quoted(stock: StockFile, line: bytes, line_no: int, pending: list, rejects: Rejects, ncols: int, slow) -> bool:
    """Hand a line with a double quote to ``slow`` through the csv module; True while its record
    stays open (a quoted field going on on the next lines)."""
    for number, fields in _records(stock, [line], line_no, pending, rejects, ncols):
        slow(number, fields)
    return bool(pending)


def _split(line: bytes, name: str, line_no: int, ncols: int, rejects: Rejects, id_width: int) -> list[str] | None:
    """The fields of a quote-free line, or None once it is rejected (not UTF-8, wrong field count)."""
    try:
        fields = line.decode("utf-8").split(",")
    except UnicodeDecodeError:
        rejects.add(name, line_no, line[:id_width].decode("ascii", "replace"), "broken line", "not UTF-8")
        return None
    if len(fields) != ncols:
        rejects.add(name, line_no, fields[0][:9], "broken line", f"{len(fields)} fields, but the header has {ncols} columns")
        return None
    return fields


def read_units(stock: StockFile, writer: Writer, ref: Reference, referenced: set[str], rejects: Rejects,
               candidates: dict[str, list]) -> tuple[set[bytes], set[bytes], dict[str, str]]:
    """Stream the legal units; return the kept SIRENs, the protected ones, and problems of referenced SIRENs."""
    kept: set[bytes] = set()
    protected_set: set[bytes] = set()
    referenced_b = {s.encode() for s in referenced}
    ess_b = {c.encode() for c in ref.ess_categories}
    problems: dict[str, str] = {}
    name, first, chunks, col = _start_reading(stock, writer, UNIT_REQUIRED, "legal-unit")
    ncols = len(col)
    cat_i, ess_i, siren_i = col["categorieJuridiqueUniteLegale"], col["economieSocialeSolidaireUniteLegale"], col["siren"]
    low = min(cat_i, ess_i)
    splits = ncols - low  # rsplit on that many commas: tail[1:] are the columns from `low` on
    cat_t, ess_t = 1 + cat_i - low, 1 + ess_i - low
    name_i = col.get("denominationUniteLegale")
    ess_categories = ref.ess_categories

    def keep(line_no: int, fields: list[str]) -> None:
        siren = fields[siren_i].strip()
        is_referenced = siren in referenced
        problem = siren_problem(siren)
        if problem:
            rejects.add(name, line_no, siren, "invalid SIREN", problem)
            if is_referenced:
                problems[siren] = problem
            return
        writer._line = line_no
        written, protected = writer.unit(fields, col, is_referenced)
        if written:
            kept.add(siren.encode())
            if protected:
                protected_set.add(siren.encode())
            elif candidates and name_i is not None and fields[name_i].strip():
                key = normalise_name(fields[name_i])
                if key in candidates:
                    candidates[key].append(siren)

    def slow(line_no: int, fields: list[str]) -> None:
        if (fields[ess_i].strip() == "O" or fields[cat_i].strip() in ess_categories
                or fields[siren_i].strip() in referenced):
            keep(line_no, fields)

    def fast(lines: list[bytes], i: int, start: int, pending: list) -> int:
        for offset in range(i, len(lines)):
            line = lines[offset]
            if not line:
                continue
            if b'"' in line:
                if _quoted(stock, line, start + offset, pending, rejects, ncols, slow):
                    return offset + 1
                continue
            tail = line.rsplit(b",", splits)
            if len(tail) != splits + 1:
                rejects.add(name, start + offset, line[:9].decode("ascii", "replace"), "broken line",
                            f"{line.count(b',') + 1} fields, but the header has {ncols} columns")
                continue
            if tail[ess_t] == b"O" or tail[cat_t] in ess_b or line[:9] in referenced_b:
                fields = _split(line, name, start + offset, ncols, rejects, 9)
                if fields is not None:
                    keep(start + offset, fields)
        return len(lines)

    writer.summary.unit_rows += _scan(stock, first, chunks, ncols, rejects, fast, slow, writer.flush)
    return kept, protected_set, problems


def read_establishments(stock: StockFile, writer: Writer, kept: set[bytes], protected: set[bytes],
                        referenced_sirets: set[str], rejects: Rejects) -> set[str]:
    """Stream the establishments; write those of kept units; return the referenced SIRETs found."""
    found: set[str] = set()
    name, first, chunks, col = _start_reading(stock, writer, ESTABLISHMENT_REQUIRED, "establishment")
    ncols = len(col)
    siren_i, siret_i = col["siren"], col["siret"]

    def keep(line_no: int, fields: list[str]) -> None:
        writer._line = line_no
        if writer.establishment(fields, col, fields[siren_i].strip().encode() in protected):
            siret = fields[siret_i].strip()
            if siret in referenced_sirets:
                found.add(siret)

    def slow(line_no: int, fields: list[str]) -> None:
        if fields[siren_i].strip().encode() in kept:
            keep(line_no, fields)

    def fast(lines: list[bytes], i: int, start: int, pending: list) -> int:
        for offset in range(i, len(lines)):
            line = lines[offset]
            if b'"' in line:  # a quoted SIREN, or a quoted field that may run over the next lines
                if _quoted(stock, line, start + offset, pending, rejects, ncols, slow):
                    return offset + 1
                continue
            if line[:9] not in kept:
                continue
            fields = _split(line, name, start + offset, ncols, rejects, 14)
            if fields is not None:
                keep(start + offset, fields)
        return len(lines)

    writer.summary.establishment_rows += _scan(stock, first, chunks, ncols, rejects, fast, slow, writer.flush)
    return found


# --------------------------------------------------------------------------------------------
# Loading N-Triples into a store with bounded memory
# --------------------------------------------------------------------------------------------

class GraphLoader:
    """Bulk-loads N-Triples into a store while they are being produced.

    ``write`` takes whole lines for ``graph``; they are cut into blocks of LOAD_BLOCK bytes, each
    loaded by one ``bulk_load`` call on one of LOAD_THREADS threads. pyoxigraph releases the GIL
    while loading, so the stock files are read on one core while the other loads. Blocks bound the
    loader's memory (one ``bulk_load`` of a large file takes ~1.7 GB whatever the number of cores);
    the one-slot queue makes the producer wait when the loaders fall behind. ``load`` queues a
    block of whole lines (blank node labels do not carry over from one block to the next).

    Used as a context manager: on a clean exit every block is loaded (a loading error is raised
    then); after an exception the blocks not yet started are dropped.
    """

    def __init__(self, store: ox.Store, graph: ox.NamedNode):
        self.store, self.graph = store, graph
        self._blocks: queue.Queue = queue.Queue(maxsize=1)
        self._errors: list[BaseException] = []
        self._pending: list[str] = []
        self._size = 0
        self._workers = [threading.Thread(target=self._work, daemon=True) for _ in range(LOAD_THREADS)]
        for worker in self._workers:
            worker.start()

    def _work(self) -> None:
        while True:
            item = self._blocks.get()
            if item is None:
                return
            if self._errors:
                continue
            try:
                self.store.bulk_load(item, format=ox.RdfFormat.N_TRIPLES, to_graph=self.graph)
            except BaseException as exc:  # reported by the producer
                self._errors.append(exc)

    def _raise_error(self) -> None:
        if self._errors:
            raise UserError(f"cannot load the N-Triples into {self.graph.value}: {self._errors[0]}")

    def load(self, data: bytes) -> None:
        self._raise_error()
        self._blocks.put(data)

    def write(self, text: str) -> None:
        self._pending.append(text)
        self._size += len(text)
        if self._size >= LOAD_BLOCK:
            self._send()

    def _send(self) -> None:
        if self._pending:
            block, self._pending, self._size = "".join(self._pending).encode("utf-8"), [], 0
            self.load(block)

    def __enter__(self) -> "GraphLoader":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        try:
            if kind is None:
                self._send()
            else:
                self._errors.append(value)  # the workers skip what is left
        finally:
            for _ in self._workers:
                self._blocks.put(None)
            for worker in self._workers:
                worker.join()
        if kind is None:
            self._raise_error()


def load_ntriples(store: ox.Store, path: Path, graph: ox.NamedNode) -> None:
    """Bulk-load an N-Triples file into ``graph`` with bounded memory (a rebuild carrying the SIRENE graph)."""
    with open(path, "rb") as stream, GraphLoader(store, graph) as loader:
        rest = b""
        for block in iter(lambda: stream.read(LOAD_BLOCK), b""):
            block = rest + block
            cut = block.rfind(b"\n") + 1
            rest = block[cut:]
            if cut:
                loader.load(block[:cut])
        if rest.strip():
            loader.load(rest)


class _Tee:
    """Text written to several sinks (the N-Triples file kept for rebuilds, and the loader)."""

    def __init__(self, *sinks):
        self.sinks = sinks

    def write(self, text: str) -> None:
        for sink in self.sinks:
            sink.write(text)


# --------------------------------------------------------------------------------------------
# The SIRENE source: for the ingest, and for a rebuild that carries the graph over
# --------------------------------------------------------------------------------------------

TITLE = {"fr": "Répertoire SIRENE : unités de l'ESS et membres des PTCE",
         "en": "SIRENE register: ESS units and PTCE members"}
DESCRIPTION = {
    "fr": "Unités légales de l'ESS (indicateur ESS ou catégorie juridique d'une famille de l'ESS), unités "
          "référencées par un membre de PTCE, et leurs établissements, extraits des fichiers stock SIRENE de l'INSEE.",
    "en": "ESS legal units (ESS flag or legal category of an ESS family), units referenced by a PTCE member, and "
          "their establishments, taken from INSEE's SIRENE stock files.",
}


def derived_dir(settings: Settings) -> Path:
    store = Path(settings.store)
    return store.with_name(store.name + ".sirene")


def _source(path: Path, provenance: dict) -> Source:
    def describe(graph: ox.NamedNode):
        for item in provenance.get("inputs", []):
            node = ox.BlankNode()
            yield triple(graph, PROV.wasDerivedFrom, node)
            yield triple(node, RDF.type, iri(PROV.Entity))
            yield triple(node, DCTERMS.identifier, text(item["name"]))
            yield triple(node, DCAT.byteSize, typed(item["bytes"], XSD.nonNegativeInteger))
            if item.get("sha256"):
                checksum = ox.BlankNode()
                yield triple(node, SPDX.checksum, checksum)
                yield triple(checksum, RDF.type, iri(SPDX.Checksum))
                yield triple(checksum, SPDX.algorithm, iri(SPDX.checksumAlgorithm_sha256))
                yield triple(checksum, SPDX.checksumValue, typed(item["sha256"], XSD.hexBinary))
        if provenance.get("ingested"):
            yield triple(graph, DCTERMS.modified, typed(provenance["ingested"], XSD.dateTime))

    return Source(
        name="sirene", title=TITLE, description=DESCRIPTION, license=LICENCE_OUVERTE,
        files=lambda root: [], triples=lambda ctx: iter(()), urls=INSEE_URLS,
        load=lambda ctx, store, graph: load_ntriples(store, path, graph), describe=describe,
    )


def carried_sources(settings: Settings) -> list[Source]:
    """The SIRENE graph ingested earlier, for ``ptcekb build`` (none if never ingested)."""
    directory = derived_dir(settings)
    path = directory / "sirene.nt"
    if not path.exists():
        return []
    try:
        provenance = json.loads((directory / "sirene.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        provenance = {}
    return [_source(path, provenance)]


# --------------------------------------------------------------------------------------------
# The ingest
# --------------------------------------------------------------------------------------------

@dataclass
class IngestReport:
    summary: Summary
    members: list
    directory: Path
    store: Path


def _hash_in_background(path: Path, result: dict) -> threading.Thread:
    def run() -> None:
        digest = hashlib.sha256()
        with open(path, "rb") as stream:
            for block in iter(lambda: stream.read(4 << 20), b""):
                digest.update(block)  # releases the GIL: runs on the other core while rows are parsed
        result[str(path)] = digest.hexdigest()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def ingest_sirene(settings: Settings, units_path: Path, establishments_path: Path | None) -> IngestReport:
    started = datetime.now(timezone.utc).replace(microsecond=0)
    clock = time.monotonic()
    location = StoreLocation(settings.store)
    current = location.current()  # a UserError when nothing was built yet
    ns = settings.ns
    units = StockFile(units_path, "legal-unit")
    establishments = StockFile(establishments_path, "establishment") if establishments_path else None
    ref = load_reference(Path(settings.sources_root))

    try:
        published = ox.Store.read_only(str(current))
        members = ptce_members(published, ns)
    except OSError as exc:
        raise UserError(f"cannot open the knowledge base at {settings.store}: {exc}") from None
    referenced = {s for m in members for s in m.sirens}
    referenced_sirets = {s for m in members for s in m.sirets if len(s) == 14}
    referenced |= {s[:9] for s in referenced_sirets}
    candidates = {normalise_name(m.name): [] for m in members if not m.sirens and not m.sirets and m.name}

    directory = derived_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    partial = directory / f"sirene.nt.{os.getpid()}.partial"
    for old in directory.glob("sirene.nt.*.partial"):
        old.unlink(missing_ok=True)
    summary = Summary()
    rejects = Rejects(directory / "rejects.csv", summary)
    hashes: dict[str, str] = {}
    hashers = [_hash_in_background(s.path, hashes) for s in (units, establishments) if s is not None]
    graph = iri(ns.graph("sirene"))
    seconds = summary.seconds
    try:
        with location.building() as build:
            store, old_meta = _start_build(settings, published, current, build, seconds)
            tick = time.monotonic()
            with open(partial, "w", encoding="utf-8", newline="\n", buffering=1 << 20) as stream, \
                    GraphLoader(store, graph) as loader:
                writer = Writer(ns, ref, _Tee(stream, loader), summary, rejects)
                kept, protected, problems = read_units(units, writer, ref, referenced, rejects, candidates)
                seconds["legal units"] = round(time.monotonic() - tick, 2)
                found_sirets: set[str] = set()
                if establishments is not None:
                    tick = time.monotonic()
                    found_sirets = read_establishments(establishments, writer, kept, protected, referenced_sirets, rejects)
                    seconds["establishments"] = round(time.monotonic() - tick, 2)
                writer.flush()
                tick = time.monotonic()
            seconds["store: load after reading"] = round(time.monotonic() - tick, 2)
            rejects.close()
            for hasher in hashers:
                hasher.join()
            kept_str = {s.decode() for s in kept}
            del kept, protected
            link_report = _link_members(members, kept_str, problems, found_sirets, candidates)
            _write_members(directory / "membres.csv", link_report)

            inputs = [{"name": s.path.name, "member": s.member, "bytes": s.path.stat().st_size,
                       "sha256": hashes.get(str(s.path)), "columns": summary.layouts.get(s.path.name)}
                      for s in (units, establishments) if s is not None]
            provenance = {"ingested": started.isoformat(), "inputs": inputs, "tool": f"ptcekb {__version__}"}
            summary.triples = _finish_build(settings, store, graph, old_meta, provenance, started, seconds)
            del store
        os.replace(partial, directory / "sirene.nt")
        seconds["total"] = round(time.monotonic() - clock, 2)
        (directory / "sirene.json").write_text(
            json.dumps({**provenance, "summary": summary.__dict__}, ensure_ascii=False, indent=2), encoding="utf-8")
    except BaseException:
        rejects.close()
        partial.unlink(missing_ok=True)
        raise
    return IngestReport(summary, link_report, directory, settings.store)


def _link_members(members: list[Member], kept: set[str], problems: dict[str, str], found_sirets: set[str],
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


def _write_members(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as stream:
        out = csv.DictWriter(stream, fieldnames=["ptce", "membre", "nom", "siren", "siret", "statut", "detail", "candidats"])
        out.writeheader()
        out.writerows(rows)


def _start_build(settings: Settings, published: ox.Store, current: Path, build: Path,
                 seconds: dict) -> tuple[ox.Store, list]:
    """Open the new build's store; return it with the published meta quads.

    When the published SIRENE graph is small, the build starts as a clone of the published one (SST
    files hard-linked, as ``/update`` does) with the SIRENE and meta graphs removed; otherwise it
    starts empty and the other graphs are copied, one ``bulk_load`` each (removing a large graph is
    slower than copying the others: pyoxigraph removes ~16,000 triples/s and loads ~100,000). The
    copy is done before the stock files are read: loading a whole graph (blank nodes must stay in
    one call) alongside the SIRENE blocks would raise the peak memory by ~300 MB.
    """
    ns = settings.ns
    graph, meta = iri(ns.graph("sirene")), iri(ns.meta_graph)
    old_meta = list(published.quads_for_pattern(None, None, None, meta))
    tick = time.monotonic()
    if _clone_is_cheaper(settings, old_meta):
        clone_build(current, build)
        store = ox.Store(str(build))
        for name in (graph, meta):
            if store.contains_named_graph(name):
                store.remove_graph(name)
    else:
        store = ox.Store(str(build))
        for name in published.named_graphs():
            if name not in (graph, meta):
                store.bulk_load(published.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name),
                                format=ox.RdfFormat.N_TRIPLES, to_graph=name)
    seconds["store: start"] = round(time.monotonic() - tick, 2)
    return store, old_meta


def _clone_is_cheaper(settings: Settings, meta_quads: list) -> bool:
    sirene = settings.ns.graph("sirene")
    sizes = {q.subject.value: int(q.object.value) for q in meta_quads
             if q.predicate.value == "http://rdfs.org/ns/void#triples" and q.subject.value != settings.ns.dataset}
    return sizes.get(sirene, 0) <= sum(n for g, n in sizes.items() if g != sirene) * 0.1


def _finish_build(settings: Settings, store: ox.Store, graph: ox.NamedNode, old_meta: list, provenance: dict,
                  started: datetime, seconds: dict) -> int:
    """Describe the loaded SIRENE graph in graph/meta, compact the build; return the graph's size."""
    tick = time.monotonic()
    (row,) = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph.value}> {{ ?s ?p ?o }} }}")
    count = int(row["n"].value)
    meta = iri(settings.ns.meta_graph)
    store.bulk_extend(ox.Quad(t.subject, t.predicate, t.object, meta)
                      for t in _meta_triples(settings, old_meta, provenance, started, count))
    store.flush()
    seconds["store: count and meta"] = round(time.monotonic() - tick, 2)
    if count >= OPTIMIZE_FROM:  # many blocks loaded: compact them (small graphs are not worth it)
        tick = time.monotonic()
        store.optimize()
        seconds["store: optimize"] = round(time.monotonic() - tick, 2)
    return count


def _meta_triples(settings: Settings, quads: list, provenance: dict, started: datetime, count: int) -> Iterator[ox.Triple]:
    """graph/meta of the published build without its SIRENE description, plus the new one."""
    from ..build import GraphRecord, activity_triples, describe_graph

    ns = settings.ns
    graph = iri(ns.graph("sirene"))
    dataset, activity = iri(ns.dataset), iri(ns.meta_graph + "#ingest-sirene")
    VOID_SUBSET, VOID_TRIPLES = "http://rdfs.org/ns/void#subset", "http://rdfs.org/ns/void#triples"
    # drop what describes the previous SIRENE graph and the previous ingest (with their blank nodes)
    drop_subjects = {graph, activity}
    todo = [graph, activity]
    while todo:
        subject = todo.pop()
        for q in quads:
            if q.subject == subject and isinstance(q.object, ox.BlankNode) and q.object not in drop_subjects:
                drop_subjects.add(q.object)
                todo.append(q.object)
    total = 0
    for q in quads:
        if q.subject in drop_subjects:
            continue
        if q.subject == dataset and q.predicate.value == VOID_SUBSET and q.object == graph:
            continue
        if q.subject == dataset and q.predicate.value == VOID_TRIPLES:
            continue
        if q.predicate.value == VOID_TRIPLES and q.subject != dataset:
            total += int(q.object.value)
        yield q.triple
    ended = datetime.now(timezone.utc).replace(microsecond=0)
    yield from activity_triples(activity, "ptcekb ingest sirene", started, ended)
    yield triple(dataset, iri(VOID_SUBSET), graph)
    yield triple(dataset, iri(VOID_TRIPLES), typed(total + count, XSD.integer))
    source = _source(Path("sirene.nt"), provenance)
    yield from describe_graph(settings, GraphRecord(source, graph.value, [], count), activity, ended)
