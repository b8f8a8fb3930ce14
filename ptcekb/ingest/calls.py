"""The national calls for projects (``data/calls.yaml``) -> ``graph/calls``."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from ..errors import UserError
from ..namespaces import LICENCE_OUVERTE, PTCE, RDFS, SKOS
from ..rdf import TYPE, iri, labels, text, triple
from . import BuildContext, Source
from .curated import StatementWriter, date_literal, number_literal, read_yaml

FILE = Path("data/calls.yaml")
FIELDS = {
    "launched": (PTCE.launchDate, date_literal),
    "results": (PTCE.resultsDate, date_literal),
    "budget_eur": (PTCE.budget, number_literal),
    "grant_eur_min": (PTCE.minimumGrant, number_literal),
    "grant_eur_max": (PTCE.maximumGrant, number_literal),
    "laureats_count": (PTCE.laureateCount, number_literal),
    "applications_count": (PTCE.applicationCount, number_literal),
    "eligible_count": (PTCE.eligibleCount, number_literal),
    "funders": (SKOS.note, lambda v: text(f"Financeurs / funders: {v}")),
    "note": (SKOS.note, lambda v: text(str(v))),
}


def calls(root: Path) -> list[dict]:
    data = read_yaml(root / FILE)
    entries = data.get("calls")
    if not isinstance(entries, list):
        raise UserError(f"{root / FILE}: expected a list under 'calls'", exit_code=2)
    return entries


def results_dates(root: Path) -> dict[str, ox.Literal]:
    """The first stated results date of each call, by slug (the date of its selections)."""
    dates = {}
    for call in calls(root):
        stated = call.get("results") or []
        dates[call["slug"]] = date_literal(stated[0]["value"]) if stated else None
    return dates


def triples(ctx: BuildContext) -> Iterator[ox.Triple]:
    path = ctx.root / FILE
    data = read_yaml(path)
    writer, sources = StatementWriter.for_file(ctx.ns, path, data)
    yield from sources
    for call in calls(ctx.root):
        node = iri(ctx.ns.id("appel", call["slug"]))
        yield triple(node, TYPE, iri(PTCE.AppelAProjets))
        yield from labels(node, RDFS.label, call.get("label") or {})
        for key, (predicate, convert) in FIELDS.items():
            statements = call.get(key) or []
            for index, statement in enumerate(statements):
                yield from writer.value(node, predicate, convert, statement, f"{call['slug']}.{key}[{index}]")
            values = sorted({str(s["value"]) for s in statements if "value" in s})
            if len(values) > 1 and key not in ("funders", "note"):
                yield from writer.conflict_note(node, key, values)


SOURCE = Source(
    name="calls",
    title={"fr": "Appels à projets PTCE", "en": "PTCE calls for projects"},
    description={
        "fr": "Appels nationaux (2013, 2015, AMI 2021 à 2025) : dates, budgets, nombres de lauréats, avec leurs sources.",
        "en": "National calls (2013, 2015, AMIs 2021 to 2025): dates, budgets, lauréat counts, with their sources.",
    },
    license=LICENCE_OUVERTE,
    files=lambda root: [root / FILE],
    triples=triples,
)
