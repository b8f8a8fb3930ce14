"""The 2026 COG (code officiel géographique) from Etalab's ``@etalab/decoupage-administratif`` 6.0.0.

The build reads a compact derived snapshot committed under ``data/reference/`` (so a fresh machine
needs no npm); ``ptcekb ingest cog`` regenerates it from the upstream JSON files, of which
``data/upstream/cog-2026/`` keeps a gzipped copy. Territories are typed with INSEE's ``igeo:`` classes and carry their code, name,
vintage and hierarchy; each commune and EPCI is linked to its local authority (a legal person with a
SIREN, kept apart from its territory).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from ..errors import UserError
from ..files import replaced_atomically
from ..namespaces import LICENCE_OUVERTE, CV, IGEO, PTCE, RDFS, WDT, XSD, Namespaces
from ..rdf import TYPE, integer, iri, text, triple, typed
from . import BuildContext, Source

VINTAGE = "2026"
SNAPSHOT = Path("data/reference/cog-2026.json.gz")
UPSTREAM_COPY = Path("data/upstream/cog-2026")  # Etalab's files as published, gzipped
UPSTREAM = {
    "package": "@etalab/decoupage-administratif",
    "version": "6.0.0",
    "repository": "https://github.com/etalab/decoupage-administratif",
    "data_license": LICENCE_OUVERTE,
    "origin": "https://www.insee.fr/fr/information/2560452",
}
UPSTREAM_FILES = ("regions", "departements", "arrondissements", "communes", "epci", "ept")

# Etalab's commune types -> (IRI kind, igeo class)
COMMUNE_KINDS = {
    "commune-actuelle": ("commune", IGEO.Commune),
    "commune-deleguee": ("commune-deleguee", IGEO.CommuneDeleguee),
    "commune-associee": ("commune-associee", IGEO.CommuneAssociee),
    "arrondissement-municipal": ("arrondissement-municipal", IGEO.ArrondissementMunicipal),
}
COMMUNE_FIELDS = ("code", "nom", "type", "departement", "region", "arrondissement", "siren",
                  "codesPostaux", "population", "chefLieu", "commune")


def make_snapshot(upstream_dir: Path, output: Path) -> dict:
    """Derive the compact snapshot from Etalab's JSON files; deterministic bytes for the same input."""
    data: dict = {"vintage": VINTAGE, "provenance": dict(UPSTREAM, files={})}
    for name in UPSTREAM_FILES:
        raw = _read_upstream(Path(upstream_dir), f"{name}.json")
        try:
            rows = json.loads(raw)
        except ValueError as exc:
            raise UserError(f"cannot read {name}.json in {upstream_dir}: {exc}", exit_code=2) from None
        data["provenance"]["files"][f"{name}.json"] = hashlib.sha256(raw).hexdigest()
        if name == "communes":
            rows = [{k: row[k] for k in COMMUNE_FIELDS if k in row} for row in rows]
        elif name in ("epci", "ept"):
            rows = [{"code": r["code"], "nom": r["nom"], "type": r["type"],
                     "populationMunicipale": r.get("populationMunicipale"),
                     "membres": sorted(m["code"] for m in r["membres"])} for r in rows]
        data[name] = sorted(rows, key=lambda r: (r["code"], r.get("type", "")))
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    output.parent.mkdir(parents=True, exist_ok=True)
    with replaced_atomically(output) as partial, open(partial, "wb") as raw, \
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as stream:
        stream.write(payload)
    return data


def _read_upstream(directory: Path, name: str) -> bytes:
    """The bytes of ``name`` as Etalab publishes it, from ``name`` or its gzipped copy ``name.gz``."""
    plain, packed = directory / name, directory / f"{name}.gz"
    try:
        if plain.exists():
            return plain.read_bytes()
        with gzip.open(packed, "rb") as stream:
            return stream.read()
    except (OSError, EOFError) as exc:
        raise UserError(f"cannot read {plain} (or {packed.name}): {getattr(exc, 'strerror', None) or exc}",
                        exit_code=2) from None


@lru_cache(maxsize=4)
def load_snapshot(path: Path) -> dict:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as stream:
            return json.load(stream)
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read the COG snapshot {path}: {exc}", exit_code=2) from None


@dataclass(frozen=True)
class CogReference:
    """The COG 2026 codes that rows are checked against (the publisher template, SIRENE)."""
    communes: frozenset        # current communes
    former: dict               # commune déléguée/associée, arrondissement municipal -> its current commune
    epci: frozenset
    ept: frozenset
    departements: frozenset
    regions: frozenset

    def current(self, code: str) -> str | None:
        """The current commune of a commune code (itself when current), or None when unknown."""
        return code if code in self.communes else self.former.get(code)


@lru_cache(maxsize=4)
def cog_reference(root: Path) -> CogReference:
    snapshot = load_snapshot(root / SNAPSHOT)
    current = frozenset(c["code"] for c in snapshot["communes"] if c["type"] == "commune-actuelle")
    former = {c["code"]: c.get("chefLieu") or c.get("commune") for c in snapshot["communes"]
              if c["code"] not in current and (c.get("chefLieu") or c.get("commune")) in current}
    return CogReference(
        communes=current, former=former, epci=frozenset(e["code"] for e in snapshot["epci"]),
        ept=frozenset(e["code"] for e in snapshot["ept"]),
        departements=frozenset(d["code"] for d in snapshot["departements"]),
        regions=frozenset(r["code"] for r in snapshot["regions"]))


def normalise_name(name: str) -> str:
    """Compare commune names as people write them: no accents, case, hyphens or 'Saint'/'St'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    words = ascii_name.replace("'", " ").replace("-", " ").replace("’", " ").split()
    return " ".join({"st": "saint", "ste": "sainte"}.get(w, w) for w in words)


@dataclass(frozen=True)
class CommuneMatch:
    code: str | None
    candidates: tuple[str, ...]
    via: str | None = None  # the former commune (déléguée or associée) the name designates

    @property
    def ambiguous(self) -> bool:
        return self.code is None and len(self.candidates) > 1


@dataclass(frozen=True)
class CommuneAlias:
    """A name sources write for a current commune that the COG does not hold (neither the commune's
    name nor a commune déléguée or associée): ``name`` (and ``departement``) -> the COG name ``commune``.
    ``why`` says who writes it so (``data/commune-aliases.yaml`` carries the sources)."""
    name: str
    departement: str
    commune: str
    why: str = ""


class CommuneIndex:
    """Resolve a commune by name (and département) against the current communes of the COG.

    A name that is no current commune's is looked for, in this order, among the communes déléguées
    and associées (a merged commune keeps its name there: Montaigu -> Montaigu-Vendée), then among
    the explicit aliases (a spelling the COG does not know: La Chapelle-aux-Pots -> Lachapelle-aux-Pots)."""

    def __init__(self, snapshot: dict, aliases: tuple[CommuneAlias, ...] = ()):
        self._current: dict[str, list[dict]] = defaultdict(list)
        self._former: dict[str, list[dict]] = defaultdict(list)
        self._aliases: dict[str, list[CommuneAlias]] = defaultdict(list)
        self.communes = {c["code"]: c for c in snapshot["communes"] if c["type"] == "commune-actuelle"}
        for commune in snapshot["communes"]:
            if commune["type"] == "commune-actuelle":
                self._current[normalise_name(commune["nom"])].append(commune)
            elif commune["type"] in ("commune-deleguee", "commune-associee"):
                self._former[normalise_name(commune["nom"])].append(commune)
        for alias in aliases:
            target = self._current_named(normalise_name(alias.commune), alias.departement)
            if len(target) != 1:
                raise UserError(f"commune alias {alias.name!r} ({alias.departement}): {alias.commune!r} is not one "
                                f"current commune of the département in the COG {VINTAGE}", exit_code=2)
            self._aliases[normalise_name(alias.name)].append(alias)

    def _current_named(self, key: str, departement: str | None) -> list[dict]:
        return [c for c in self._current.get(key, []) if not departement or c["departement"] == departement]

    def resolve(self, name: str, departement: str | None = None) -> CommuneMatch:
        """A current commune by its name; failing that, the current commune that absorbed a
        commune déléguée or associée of that name (e.g. Montaigu (85) -> Montaigu-Vendée); failing
        that, the current commune an alias names (e.g. La Chapelle-aux-Pots (60) -> Lachapelle-aux-Pots)."""
        key = normalise_name(name)
        found = self._current_named(key, departement)
        if not found:
            former = [c for c in self._former.get(key, []) if not departement or c["departement"] == departement]
            if len(former) == 1:
                kind = former[0]["type"].replace("commune-", "commune ").replace("deleguee", "déléguée").replace("associee", "associée")
                return CommuneMatch(former[0]["chefLieu"], (former[0]["chefLieu"],), f"{kind} {former[0]['nom']} ({former[0]['code']})")
            aliases = [a for a in self._aliases.get(key, []) if not departement or a.departement == departement]
            if len(aliases) == 1:
                (commune,) = self._current_named(normalise_name(aliases[0].commune), aliases[0].departement)
                why = f"; {aliases[0].why}" if aliases[0].why else ""
                return CommuneMatch(commune["code"], (commune["code"],),
                                    f"« {name} » is written {commune['nom']} ({commune['code']}){why}")
        codes = tuple(sorted(c["code"] for c in found))
        return CommuneMatch(codes[0] if len(codes) == 1 else None, codes)


def commune_index(root: Path, aliases: tuple[CommuneAlias, ...] = ()) -> CommuneIndex:
    return CommuneIndex(load_snapshot(root / SNAPSHOT), aliases)


def annuaire_page(siren: str) -> str:
    """The public page of a legal unit on annuaire-entreprises (État)."""
    return f"https://annuaire-entreprises.data.gouv.fr/entreprise/{siren}"


def territory_iri(ns: Namespaces, kind: str, code: str) -> ox.NamedNode:
    return iri(ns.id(kind, code))


def triples(ctx: BuildContext) -> Iterator[ox.Triple]:
    snapshot = load_snapshot(ctx.root / SNAPSHOT)
    ns = ctx.ns
    vintage = typed(snapshot["vintage"], XSD.gYear)

    def territory(node, cls, code, name, wikidata_code=None):
        yield triple(node, TYPE, iri(cls))
        yield triple(node, IGEO.codeINSEE, text(code))
        yield triple(node, IGEO.nom, text(name, "fr"))
        yield triple(node, RDFS.label, text(name, "fr"))
        yield triple(node, PTCE.millesime, vintage)
        if wikidata_code:
            yield triple(node, wikidata_code, text(code))

    def part_of(node, *parents):
        """Direct parent first, then the rest of the chain (igeo:subdivisionDe is transitive)."""
        parents = [p for p in parents if p is not None]
        if parents:
            yield triple(node, IGEO.subdivisionDirecteDe, parents[0])
        for parent in parents:
            yield triple(node, IGEO.subdivisionDe, parent)

    def authority(siren, territory_node, cls, label):
        org = iri(ns.id("organisation", siren))
        yield triple(org, TYPE, iri(CV.PublicOrganisation))
        yield triple(org, TYPE, iri(cls))
        yield triple(org, PTCE.siren, text(siren))
        yield triple(org, WDT.P1616, text(siren))
        yield triple(org, RDFS.seeAlso, iri(annuaire_page(siren)))
        yield triple(org, RDFS.label, text(label, "fr"))
        yield triple(org, PTCE.administers, territory_node)

    # Etalab lists the collectivités d'outre-mer (zone "com") both as régions and as départements:
    # they are neither; each becomes one igeo:CollectiviteDOutreMer (Clipperton its own class).
    overseas = {r["code"]: territory_iri(ns, "com", r["code"]) for r in snapshot["regions"] if r["zone"] == "com"}
    for r in snapshot["regions"]:
        if r["zone"] == "com":
            yield from territory(overseas[r["code"]], IGEO.Clipperton if r["code"] == "989" else IGEO.CollectiviteDOutreMer, r["code"], r["nom"])
    region = {r["code"]: territory_iri(ns, "region", r["code"]) for r in snapshot["regions"] if r["zone"] != "com"}
    for r in snapshot["regions"]:
        if r["zone"] != "com":
            yield from territory(region[r["code"]], IGEO.Region, r["code"], r["nom"], WDT.P2585)
    departement = {d["code"]: territory_iri(ns, "departement", d["code"]) for d in snapshot["departements"] if d["zone"] != "com"}
    for d in snapshot["departements"]:
        if d["zone"] == "com":
            continue
        node = departement[d["code"]]
        yield from territory(node, IGEO.Departement, d["code"], d["nom"], WDT.P2586)
        yield from part_of(node, region[d["region"]])
        yield triple(node, IGEO.chefLieu, territory_iri(ns, "commune", d["chefLieu"]))
    departement.update(overseas)
    region.update(overseas)
    arrondissement = {a["code"]: territory_iri(ns, "arrondissement", a["code"]) for a in snapshot["arrondissements"]}
    for a in snapshot["arrondissements"]:
        node = arrondissement[a["code"]]
        yield from territory(node, IGEO.Arrondissement, a["code"], a["nom"])
        yield from part_of(node, departement[a["departement"]], region[a["region"]])

    for c in snapshot["communes"]:
        kind, cls = COMMUNE_KINDS[c["type"]]
        node = territory_iri(ns, kind, c["code"])
        yield from territory(node, cls, c["code"], c["nom"], WDT.P374 if kind == "commune" else None)
        parent_commune = c.get("chefLieu") or c.get("commune")
        chain = [territory_iri(ns, "commune", parent_commune)] if parent_commune else []
        chain += [arrondissement.get(c.get("arrondissement")), departement[c["departement"]]]
        chain += [region[c["region"]]] if region[c["region"]] != departement[c["departement"]] else []
        yield from part_of(node, *chain)
        for postcode in c.get("codesPostaux", ()):
            yield triple(node, PTCE.codePostal, text(postcode))
        if "population" in c:
            yield triple(node, PTCE.populationMunicipale, integer(c["population"]))
        if kind == "commune" and c.get("siren"):
            yield from authority(c["siren"], node, PTCE.CollectiviteTerritoriale, f"Commune de {c['nom']}")

    for family, cls in (("epci", IGEO.Intercommunalite), ("ept", IGEO.Intercommunalite)):
        for e in snapshot[family]:
            node = territory_iri(ns, family, e["code"])
            yield from territory(node, cls, e["code"], e["nom"])
            yield triple(node, PTCE.typeIntercommunalite, iri(ns.concept("types-intercommunalites", e["type"].lower())))
            if e.get("populationMunicipale") is not None:
                yield triple(node, PTCE.populationMunicipale, integer(e["populationMunicipale"]))
            # the Métropole de Lyon (MET69) is listed with the EPCI but is a collectivité territoriale à statut
            # particulier (CGCT, art. L3611-1), not a grouping of communes
            authority_class = PTCE.CollectiviteTerritoriale if e["type"] == "MET69" else PTCE.GroupementDeCollectivites
            yield from authority(e["code"], node, authority_class, e["nom"])
            for member in e["membres"]:
                commune = territory_iri(ns, "commune", member)
                yield triple(commune, IGEO.subdivisionDirecteDe, node)
                yield triple(commune, IGEO.subdivisionDe, node)


SOURCE = Source(
    name="cog",
    title={"fr": "Code officiel géographique 2026", "en": "Official geographic code (COG) 2026"},
    description={
        "fr": "Communes, EPCI, EPT, arrondissements, départements et régions au 1er janvier 2026 (Etalab, découpage administratif 6.0.0).",
        "en": "Communes, EPCIs, EPTs, arrondissements, départements and régions at 1 January 2026 (Etalab, découpage administratif 6.0.0).",
    },
    license=LICENCE_OUVERTE,
    files=lambda root: [root / SNAPSHOT],
    triples=triples,
    urls=(UPSTREAM["repository"], UPSTREAM["origin"]),
)
