"""The curated PTCEs: ``data/ptce/*.yaml`` -> ``graph/ptce``.

Communes are resolved by name and département against the COG (its current communes, then its
communes déléguées and associées, then the sourced spellings of ``data/commune-aliases.yaml``); an
unknown or ambiguous commune is reported (build warnings) and kept out of the graph rather than guessed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from ..errors import UserError
from ..namespaces import LICENCE_OUVERTE, DCTERMS, ORG, PTCE, RDFS, ROV, SKOS, slugify
from ..rdf import TYPE, iri, text, triple
from . import BuildContext, Source
from .calls import results_dates
from .cog import CommuneAlias, commune_index
from .curated import StatementWriter, date_literal, number_literal, read_yaml, web_iri

DIRECTORY = Path("data/ptce")
ALIASES = Path("data/commune-aliases.yaml")
# Dated values (curated.StatementWriter.values): how the preferred value of each field is chosen.
DATED = {"members_count": (PTCE.memberCount, "latest"), "fte": (PTCE.fte, "latest")}
# What a created statement dates when it is the carrier's legal entity, not the PTCE: its `what` names
# a legal form of formes-juridiques (or says "carrier"); the carrier is the one of that legal form.
LEGAL_FORMS = ("association", "scic", "scop", "sas", "sarl", "sa", "gip", "gie", "fondation", "cooperative", "mutuelle")


def files(root: Path) -> list[Path]:
    found = sorted((root / DIRECTORY).glob("*.yaml"))
    if not found:
        raise UserError(f"no curated PTCE file in {root / DIRECTORY}")
    return found + ([root / ALIASES] if (root / ALIASES).exists() else [])


def commune_aliases(root: Path) -> tuple[CommuneAlias, ...]:
    """The sourced spellings of ``data/commune-aliases.yaml`` (none when the file is absent)."""
    path = root / ALIASES
    if not path.exists():
        return ()
    data = read_yaml(path)
    sources = data.get("sources") or {}
    aliases = []
    for index, entry in enumerate(data.get("aliases") or []):
        where = f"{path}: aliases[{index}]"
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) and entry.get(k) for k in ("name", "departement", "commune")):
            raise UserError(f"{where}: an alias needs name, departement and commune (strings)", exit_code=2)
        keys = entry.get("sources") or []
        if not keys or any(key not in sources for key in keys):
            raise UserError(f"{where}: every alias cites sources of the file's sources map", exit_code=2)
        urls = ", ".join(sources[key]["url"] for key in keys)
        aliases.append(CommuneAlias(entry["name"], entry["departement"], entry["commune"],
                                    f"spelling of the sources, kept as an alias in {ALIASES.as_posix()} ({urls})"))
    return tuple(aliases)


def triples(ctx: BuildContext) -> Iterator[ox.Triple]:
    communes = commune_index(ctx.root, commune_aliases(ctx.root))
    call_dates = results_dates(ctx.root, ctx.ns)
    for path in files(ctx.root):
        if path == ctx.root / ALIASES:
            continue
        data = read_yaml(path)
        slug = data.get("slug")
        if slug != path.stem or slug != slugify(slug):
            raise UserError(f"{path}: slug {slug!r} must equal the file name and be lowercase ASCII with hyphens", exit_code=2)
        yield from _ptce(ctx, path, data, communes, call_dates)


def _statements(data: dict, key: str, path: Path) -> list[dict]:
    value = data.get(key) or []
    if not isinstance(value, list) or not all(isinstance(s, dict) for s in value):
        raise UserError(f"{path}: {key} must be a list of statements (mappings)", exit_code=2)
    return value


def _ptce(ctx: BuildContext, path: Path, data: dict, communes, call_dates: dict) -> Iterator[ox.Triple]:
    """The PTCE of one file: its facts, and the provenance of every one (curated.StatementWriter)."""
    writer, sources = StatementWriter.for_file(ctx.ns, path, data)
    yield from sources
    yield from writer.complete(_facts(ctx, writer, path, data, communes, call_dates))


def _facts(ctx: BuildContext, writer: StatementWriter, path: Path, data: dict, communes, call_dates: dict) -> Iterator[ox.Triple]:
    ns = ctx.ns
    node = iri(ns.id("ptce", data["slug"]))
    yield from writer.summary(node)

    def each(key: str):
        for index, statement in enumerate(_statements(data, key, path)):
            yield statement, f"{key}[{index}]"

    names = list(each("name"))
    if not names:
        raise UserError(f"{path}: a PTCE needs at least one name statement", exit_code=2)
    yield from writer.state(node, TYPE, iri(PTCE.PTCE), *names[0])  # named as a PTCE by its first name's sources
    for index, (statement, where) in enumerate(names):
        yield from writer.state(node, SKOS.prefLabel if index == 0 else SKOS.altLabel, text(statement["value"], "fr"), statement, where)
    for statement, where in each("also_known_as"):
        yield from writer.state(node, SKOS.altLabel, text(statement["value"], "fr"), statement, where)
    for statement, where in each("commune"):
        match = communes.resolve(statement["name"], str(statement.get("departement") or "") or None)
        if match.code:
            if match.via:  # the name the sources use stays in the statement's note
                statement = {**statement, "note": "; ".join(filter(None, [statement.get("note"), f"COG 2026: {match.via}"]))}
            yield from writer.state(node, PTCE.commune, iri(ns.id("commune", match.code)), statement, where)
        else:
            reason = f"ambiguous ({', '.join(match.candidates)})" if match.ambiguous else "not found in the COG 2026"
            ctx.warn(f"{path.name}: {where}: commune {statement['name']!r} (département {statement.get('departement')}) {reason}; left out")
    for statement, where in each("territory"):
        area = iri(f"{node.value}#territoire")
        yield from writer.state(node, PTCE.territory, area, statement, where)
        yield triple(area, TYPE, iri(PTCE.TerritoireDeProjet))
        if statement.get("description"):
            yield triple(area, SKOS.prefLabel, text(statement["description"], "fr"))
        for code in statement.get("departements") or []:
            yield from writer.state(area, PTCE.comprisesArea, iri(ns.id("departement", str(code))), statement, where)
        for code in statement.get("regions") or []:
            yield from writer.state(area, PTCE.comprisesArea, iri(ns.id("region", str(code))), statement, where)
    for key, kind in (("departement", "departement"), ("region", "region")):
        for statement, where in each(key):
            yield from writer.state(node, DCTERMS.spatial, iri(ns.id(kind, str(statement["code"]))), statement, where)
    for statement, where in each("carrier"):
        yield from _carrier(writer, node, statement, where, names[0][0]["value"])
    yield from _dates(writer, node, list(each("created")), list(each("ended")))
    for statement, where in each("sectors"):
        yield from writer.state(node, DCTERMS.subject, text(statement["value"], "fr"), statement, where)
    for statement, where in each("calls"):
        if statement.get("call") not in call_dates:
            raise UserError(f"{path}: {where}: unknown call {statement.get('call')!r} (see data/calls.yaml)", exit_code=2)
        yield from _selection(writer, node, statement, where, call_dates[statement["call"]])
    for key, (predicate, prefer) in DATED.items():
        if statements := list(each(key)):
            yield from writer.values(node, predicate, number_literal, statements, key, prefer)
    for statement, where in each("website"):
        yield from writer.value(node, PTCE.website, web_iri, statement, where)
    for statement, where in each("studied_by_labo_ess"):
        if statement.get("value") is True:
            for source in writer.source_nodes(statement, where):
                yield from writer.state(node, DCTERMS.isReferencedBy, source, statement, where)
    for statement, where in each("description"):
        yield from writer.state(node, DCTERMS.description, text(statement["value"], statement.get("lang")), statement, where)
    for statement, where in each("status_note"):
        yield from writer.state(node, SKOS.note, text(statement["value"]), statement, where)


def _carrier(writer: StatementWriter, ptce: ox.NamedNode, statement: dict, where: str, ptce_name: str) -> Iterator[ox.Triple]:
    """The legal person carrying the PTCE, and its membership with the role 'structure porteuse'.

    A carrier whose name the sources do not give gets no name (skos:prefLabel) but a label
    (rdfs:label) that says what is known: whose carrier it is, and that its name is not given."""
    ns = writer.ns
    if statement.get("siren") or statement.get("name"):
        key = str(statement.get("siren") or slugify(statement["name"]))
        carrier = iri(ns.id("organisation", key))
    else:  # the sources give its legal form, not its name: a node of the PTCE's own description
        key, carrier = "porteur", iri(f"{ptce.value}#porteur")
    yield from writer.state(ptce, ROV.hasRegisteredOrganization, carrier, statement, where)
    yield triple(carrier, TYPE, iri(ROV.RegisteredOrganization))
    if statement.get("name"):
        yield triple(carrier, SKOS.prefLabel, text(statement["name"], "fr"))
    elif key == "porteur":
        yield triple(carrier, RDFS.label, text(f"structure porteuse de {ptce_name} (nom non donné par les sources)", "fr"))
        yield triple(carrier, RDFS.label, text(f"carrier of {ptce_name} (name not given by the sources)", "en"))
    if statement.get("siren"):
        yield triple(carrier, PTCE.siren, text(str(statement["siren"])))
    form = statement.get("legal_form")
    if form and form != "unknown":
        yield from writer.state(carrier, PTCE.legalForm, iri(ns.concept("formes-juridiques", form)), statement, where)
    membership = iri(f"{ptce.value}#membre-{slugify(key)}")
    yield triple(membership, TYPE, iri(ORG.Membership))
    yield triple(membership, ORG.member, carrier)
    yield triple(membership, ORG.organization, ptce)
    yield from writer.state(membership, ORG.role, iri(ns.concept("roles", "structure-porteuse")), statement, where)


def _selection(writer: StatementWriter, ptce: ox.NamedNode, statement: dict, where: str, results) -> Iterator[ox.Triple]:
    """A selection in a call: the node standing for the statement "lauréat of" (its sources on it).

    The selection is the statement node of the shortcut ``<ptce> ptce:laureateOf <call>``; its date is
    the call's results date, stated by ``data/calls.yaml``'s sources (its own statement node)."""
    call = iri(writer.ns.id("appel", statement["call"]))
    selection = iri(f"{ptce.value}#selection-{statement['call']}")
    yield from writer.describe(selection, statement, where)
    yield from writer.stands_for(selection, ptce, PTCE.laureateOf, call)
    yield triple(selection, TYPE, iri(PTCE.Selection))
    yield triple(selection, PTCE.selected, ptce)
    yield triple(selection, PTCE.call, call)
    if results is not None:
        date, sources = results
        yield from writer.cite(selection, PTCE.eventDate, date, sources,
                               f"the results date of the call (data/calls.yaml, {statement['call']})")


def _dates(writer: StatementWriter, ptce: ox.NamedNode, created: list, ended: list) -> Iterator[ox.Triple]:
    """Creation and end dates: the PTCE's own apart from its carrier's (a statement's ``what``).

    A created statement whose ``what`` is a carrier's legal entity (a legal form, or "carrier") dates
    the carrier of that legal form; when the file has no such carrier, it stays with the PTCE, its
    note saying so, and is never its preferred creation date. The PTCE's preferred creation date is the
    earliest (the beginning of the cooperation), several things created being no conflict."""
    # the carriers and their legal forms as written above (writer.complete has seen them go by): the
    # PTCE's legal entities, and the members of its memberships with the role 'structure porteuse'
    carrying = iri(writer.ns.concept("roles", "structure-porteuse"))
    carriers = list(dict.fromkeys(writer.facts.get((ptce, iri(ROV.hasRegisteredOrganization)), []) + [
        member for (membership, predicate), objects in list(writer.facts.items())
        if predicate == iri(ORG.role) and carrying in objects and ptce in writer.facts.get((membership, iri(ORG.organization)), [])
        for member in writer.facts.get((membership, iri(ORG.member)), [])]))
    forms = {c: {f.value.rsplit("/", 1)[-1] for f in writer.facts.get((c, iri(PTCE.legalForm)), [])} for c in carriers}
    own, unplaced, of_carrier = [], [], {}
    for statement, where in created:
        what = str(statement.get("what") or "").lower()
        words = set(re.findall(r"[a-z]+", what))
        form = next((f for f in LEGAL_FORMS if f in words), None)
        if not (form and (what.split()[0] == form or "carrier" in words)):
            own.append((statement, where))
            continue
        matching = [c for c in carriers if form in forms[c]]
        if len(matching) == 1:
            of_carrier.setdefault(matching[0], []).append((statement, where))
        else:
            note = f"date of the carrier's {form} (which carrier the sources do not say): not the PTCE's creation"
            unplaced.append(({**statement, "note": "; ".join(filter(None, [statement.get("note"), note]))}, where))

    def what(statement):
        return str(statement.get("what") or "")

    if own or unplaced:
        yield from writer.values(ptce, PTCE.creationDate, date_literal, own + unplaced, "created", "earliest", what,
                                 preferable=len(own))
    for carrier, statements in of_carrier.items():
        yield from writer.values(carrier, PTCE.creationDate, date_literal, statements, "created", "earliest", what)
    if ended:
        yield from writer.values(ptce, PTCE.endDate, date_literal, ended, "ended", "best")


SOURCE = Source(
    name="ptce",
    title={"fr": "PTCE (données curées et sourcées)", "en": "PTCEs (curated, sourced data)"},
    description={
        "fr": "Les PTCE réels connus, chaque affirmation avec ses sources et son degré de confiance.",
        "en": "Known real PTCEs, each statement with its sources and confidence.",
    },
    license=LICENCE_OUVERTE,
    files=files,
    triples=triples,
)
