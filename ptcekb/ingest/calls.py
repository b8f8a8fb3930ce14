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


def results_dates(root: Path, ns=None) -> dict[str, tuple[ox.Literal, list[ox.NamedNode]] | None]:
    """The preferred results date of each call, by slug, with its sources (the date of its selections)."""
    data = read_yaml(root / FILE)
    writer, _ = StatementWriter.for_file(ns, root / FILE, data) if ns is not None else (None, None)
    dates = {}
    for call in calls(root):
        stated = [s for s in call.get("results") or [] if "value" in s]
        if not stated:
            dates[call["slug"]] = None
            continue
        best = max(stated, key=lambda s: len(str(s["value"])))  # a results date is given once, or more precisely
        sources = writer.source_nodes(best, f"{call['slug']}.results") if writer else []
        dates[call["slug"]] = (date_literal(best["value"]), sources)
    return dates


# What a call's value of each field is preferred by: the most confident source, then the most precise.
SERIES = {"launched", "results", "budget_eur", "grant_eur_min", "grant_eur_max", "laureats_count",
          "applications_count", "eligible_count"}


def triples(ctx: BuildContext) -> Iterator[ox.Triple]:
    path = ctx.root / FILE
    data = read_yaml(path)
    writer, sources = StatementWriter.for_file(ctx.ns, path, data)
    yield from sources
    yield from writer.complete(_calls(ctx, writer))


def _calls(ctx: BuildContext, writer: StatementWriter) -> Iterator[ox.Triple]:
    for call in calls(ctx.root):
        node = iri(ctx.ns.id("appel", call["slug"]))
        # the call itself and its labels: named as NOTES.md §2 lists the calls
        yield from writer.describe(node, {"sources": ["domain-notes"]}, f"{call['slug']}.label")
        yield triple(node, TYPE, iri(PTCE.AppelAProjets))
        yield from labels(node, RDFS.label, call.get("label") or {})
        for key, (predicate, convert) in FIELDS.items():
            statements = [(s, f"{call['slug']}.{key}[{i}]") for i, s in enumerate(call.get(key) or [])]
            if key in SERIES:
                if statements:
                    yield from writer.values(node, predicate, convert, statements, key)
                continue
            for statement, where in statements:
                yield from writer.value(node, predicate, convert, statement, where)


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
