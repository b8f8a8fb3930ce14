"""SKOS concepts and concept schemes (the code lists under ``/concept/``)."""

from __future__ import annotations

from ...namespaces import SKOS
from .base import Page, view


@view("concept.html", SKOS.ConceptScheme)
def scheme(page: Page) -> dict:
    rows = page.section("concepts", lambda: page.rows(
        """SELECT ?concept ?notation WHERE { ?concept skos:inScheme $this OPTIONAL { ?concept skos:notation ?notation } }"""), [])
    concepts = [{"concept": page.link(r["concept"]), "notation": r["notation"].value if r["notation"] else ""} for r in rows]
    return {"concepts": sorted(concepts, key=lambda c: (c["notation"], c["concept"].text)), "definition": _text(page, SKOS.definition)}


@view("concept.html", SKOS.Concept, SKOS.Collection)
def concept(page: Page) -> dict:
    return {
        "definition": _text(page, SKOS.definition),
        "scheme": [page.link(s) for s in page.values(SKOS.inScheme)],
        "broader": [page.link(s) for s in page.values(SKOS.broader)],
        "narrower": page.section("narrower", lambda: sorted(
            (page.link(r["n"]) for r in page.rows("SELECT DISTINCT ?n WHERE { ?n skos:broader $this }")),
            key=lambda link: link.text), []),
        "members": sorted((page.link(m) for m in page.values(SKOS.member)), key=lambda link: link.text),
        "collections": page.section("collections", lambda: [
            page.link(r["c"]) for r in page.rows("SELECT DISTINCT ?c WHERE { ?c skos:member $this }")], []),
    }


def _text(page: Page, predicate) -> str | None:
    values = {v.language or "": v.value for v in page.values(predicate)}
    return values.get(page.lang) or values.get("fr") or next(iter(values.values()), None)
