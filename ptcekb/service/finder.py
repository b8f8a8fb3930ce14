"""The PTCEs of the home page: what each one is filtered by (région, département, call, sector,
creation year, names), read once per build with a few SPARQL queries over the ~150 PTCEs; the
filters of a request are then applied here, in Python, without any query (docs/uris.md, `/`).

Where a PTCE is: the départements of its seat's commune (``org:hasPrimarySite/ptce:commune``), of its
territory (a COG unit, the units its project territory comprises, lies within or overlaps), or that
its sources name (``ptce:mentionedArea``); a PTCE whose territory spans several départements is in each.
Its régions are those of these places, and the régions given directly. A PTCE of which only the
région, or nothing, is known has no département: it cannot be placed on the map of départements.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Mapping

from ..labels import local_path
from .pagequery import need
from .views.base import SPARQL_PREFIXES

# Every place a PTCE is given: its seat's commune, its territory and the units its project territory
# comprises, lies within or overlaps, the units its sources name. (`ptce:territory/(...)?` spelt out as
# alternatives: the same solutions under DISTINCT, and Virtuoso 7.2 cannot compile a `?` path inside an
# alternative: "Weird '|' ppath", docs/deployment.md)
_PLACES = ("ptce:territory|ptce:territory/ptce:comprisesArea|ptce:territory/ptce:withinArea"
           "|ptce:territory/ptce:overlapsArea|org:hasPrimarySite/ptce:commune|ptce:mentionedArea")
QUERIES = {
    "names": """SELECT ?ptce ?name ?main WHERE { ?ptce a ptce:PTCE .
      { ?ptce skos:prefLabel ?name BIND(true AS ?main) } UNION { ?ptce skos:altLabel ?name } }""",
    "departements": f"""SELECT DISTINCT ?ptce ?code WHERE {{ ?ptce a ptce:PTCE ; {_PLACES} ?area .
      {{ ?area a igeo:Departement BIND(?area AS ?d) }} UNION {{ ?area igeo:subdivisionDe ?d . ?d a igeo:Departement }}
      ?d igeo:codeINSEE ?code }}""",
    "regions": f"""SELECT DISTINCT ?ptce ?code WHERE {{ ?ptce a ptce:PTCE ; {_PLACES} ?area .
      {{ ?area a igeo:Region BIND(?area AS ?r) }} UNION {{ ?area igeo:subdivisionDe ?r . ?r a igeo:Region }}
      ?r igeo:codeINSEE ?code }}""",
    "calls": "SELECT DISTINCT ?ptce ?call WHERE { ?ptce a ptce:PTCE ; ptce:laureateOf ?call }",
    "sectors": "SELECT DISTINCT ?ptce ?sector WHERE { ?ptce a ptce:PTCE ; dcterms:subject ?sector FILTER(isLiteral(?sector)) }",
    "years": "SELECT DISTINCT ?ptce ?date WHERE { ?ptce a ptce:PTCE ; ptce:creationDate ?date }",
    # the territories and calls the filters name, with their labels
    "all_departements": "SELECT ?d ?code ?name WHERE { ?d a igeo:Departement ; igeo:codeINSEE ?code ; igeo:nom ?name }",
    "all_regions": "SELECT ?r ?code ?name WHERE { ?r a igeo:Region ; igeo:codeINSEE ?code ; igeo:nom ?name }",
    "call_labels": """SELECT ?call ?label ?date WHERE { ?call a ptce:AppelAProjets .
      OPTIONAL { ?call rdfs:label ?label } OPTIONAL { ?call ptce:resultsDate ?date } }""",
}
FILTERS = ("region", "departement", "call", "sector", "year")  # the query parameters, besides q
MAX_SEARCH = 100  # characters of the name search kept (a longer one matches nothing anyway)


def fold(text: str) -> str:
    """Case and accents ignored (as the search of the lists: resources.fold)."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    path: str | None


@dataclass(frozen=True)
class Ptce:
    iri: str
    path: str | None
    name: str
    searchable: tuple[str, ...]  # every name, folded
    departements: tuple[str, ...]  # INSEE codes, sorted
    regions: tuple[str, ...]
    calls: tuple[str, ...]  # slugs of the calls (the last segment of their IRI)
    sectors: tuple[str, ...]
    years: tuple[str, ...]  # of creation (several when the sources disagree)

    def values(self, name: str) -> tuple[str, ...]:
        return {"region": self.regions, "departement": self.departements, "call": self.calls,
                "sector": self.sectors, "year": self.years}[name]


@dataclass(frozen=True)
class Option:
    value: str  # the query parameter's value
    labels: tuple[str, str]  # French, English
    count: int  # PTCEs with this value, among all of them

    def label(self, lang: str) -> str:
        return self.labels[1 if lang == "en" else 0]


@dataclass(frozen=True)
class Call:
    slug: str
    path: str | None
    labels: tuple[str, str]
    date: str


@dataclass(frozen=True)
class Catalogue:
    """The PTCEs of one build and the values they can be filtered by."""

    ptces: tuple[Ptce, ...]  # by name
    options: dict[str, tuple[Option, ...]]  # filter -> its values held by at least one PTCE
    departements: dict[str, Place]  # every département of the COG, by INSEE code
    regions: dict[str, Place]
    calls: dict[str, Call]


async def read_catalogue(queries, base: str, timeout: float) -> Catalogue:
    """The catalogue of the served build (by the query workers, each query under ``timeout``;
    raises ``pagequery.Unanswered`` without an answer)."""
    rows = {}
    for name, text in QUERIES.items():
        rows[name] = need(await queries.select(SPARQL_PREFIXES + text, timeout=timeout))
    return catalogue_of(rows, base)


def catalogue_of(rows: Mapping[str, list[dict]], base: str) -> Catalogue:
    """The catalogue from the answers to ``QUERIES`` (rows of pyoxigraph terms)."""
    def value(row, name):
        term = row.get(name)
        return None if term is None else term.value

    def place_index(name, variable):
        return {value(r, "code"): Place(value(r, "code"), value(r, "name"), local_path(value(r, variable), base))
                for r in rows[name]}

    departements, regions = place_index("all_departements", "d"), place_index("all_regions", "r")
    labels: dict[str, dict[str, str]] = {}
    dates: dict[str, str] = {}
    for row in rows["call_labels"]:
        iri = value(row, "call")
        label = row.get("label")
        if label is not None:
            labels.setdefault(iri, {}).setdefault(label.language or "", label.value)
        if row.get("date") is not None:
            dates[iri] = min(dates.get(iri, value(row, "date")), value(row, "date"))
    calls = {}
    for iri in {value(r, "call") for r in rows["call_labels"]}:
        slug = iri.rstrip("/").rsplit("/", 1)[-1]
        known = labels.get(iri, {})
        french = known.get("fr") or known.get("") or known.get("en") or slug
        calls[slug] = Call(slug, local_path(iri, base), (french, known.get("en") or french), dates.get(iri, ""))

    names: dict[str, list[str]] = {}
    main: dict[str, str] = {}
    for row in rows["names"]:
        iri, name = value(row, "ptce"), value(row, "name")
        names.setdefault(iri, []).append(name)
        if row.get("main") is not None:
            main[iri] = min(main.get(iri, name), name)

    def grouped(name, variable, convert=lambda v: v):
        out: dict[str, set[str]] = {}
        for row in rows[name]:
            out.setdefault(value(row, "ptce"), set()).add(convert(value(row, variable)))
        return out

    of_departement = grouped("departements", "code")
    of_region = grouped("regions", "code")
    of_call = grouped("calls", "call", lambda iri: iri.rstrip("/").rsplit("/", 1)[-1])
    of_sector = grouped("sectors", "sector", str.strip)
    of_year = grouped("years", "date", lambda date: date[:4])
    ptces = []
    for iri in names:
        name = main.get(iri) or min(names[iri])
        ptces.append(Ptce(
            iri, local_path(iri, base), name, tuple(sorted({fold(n) for n in names[iri]})),
            *(tuple(sorted(index.get(iri, ()))) for index in (of_departement, of_region, of_call, of_sector, of_year))))
    ptces.sort(key=lambda p: (fold(p.name), p.iri))

    def options(name, label, order):
        counts = Counter(v for p in ptces for v in p.values(name))
        return tuple(sorted((Option(v, label(v), n) for v, n in counts.items()), key=order))

    def place_label(index):
        return lambda code: (index[code].name,) * 2 if code in index else (code, code)

    return Catalogue(tuple(ptces), {
        "region": options("region", place_label(regions), lambda o: fold(o.labels[0])),
        "departement": options("departement", place_label(departements), lambda o: o.value),
        "call": options("call", lambda s: calls[s].labels if s in calls else (s, s),
                        lambda o: (calls[o.value].date if o.value in calls else "", o.value)),
        "sector": options("sector", lambda s: (s, s), lambda o: fold(o.value)),
        "year": options("year", lambda y: (y, y), lambda o: o.value),
    }, departements, regions, calls)


@dataclass(frozen=True)
class Selection:
    """What a request asks for: the name searched and the value of each filter it sets."""

    text: str  # the name searched, as typed (bounded)
    q: str  # the same, folded
    chosen: dict[str, str]  # filter -> a value some PTCE has
    unknown: tuple[str, ...]  # the filters given a value no PTCE has (ignored, and the page says so)

    def matches(self, ptce: Ptce) -> bool:
        if self.q and not any(self.q in name for name in ptce.searchable):
            return False
        return all(value in ptce.values(name) for name, value in self.chosen.items())

    @property
    def active(self) -> bool:
        return bool(self.q or self.chosen)


def selection(catalogue: Catalogue, params: Mapping[str, str]) -> Selection:
    """The filters of ``params`` (a request's query parameters): each one a single value among the
    catalogue's options, the search bounded; empty values are no filter."""
    chosen, unknown = {}, []
    for name in FILTERS:
        wanted = (params.get(name) or "").strip()[:MAX_SEARCH]
        if not wanted:
            continue
        if any(option.value == wanted for option in catalogue.options[name]):
            chosen[name] = wanted
        else:
            unknown.append(name)
    text = " ".join((params.get("q") or "")[:MAX_SEARCH].split())
    return Selection(text, fold(text), chosen, tuple(unknown))
