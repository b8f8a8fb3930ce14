"""SIRENE, INSEE's register of companies: the ESS units of the national stock files -> ``graph/sirene``.

``ptcekb ingest sirene --unites-legales StockUniteLegale_utf8.csv[.zip] [--etablissements
StockEtablissement_utf8.csv[.zip]] [--store DIR]`` (documented in ``docs/sirene.md``). This package
only reads: :class:`SireneIngest` takes the PTCE members from the published store, streams the
stock files and writes the kept facts as N-Triples text to the sink it is given; the publication
(a new build with ``graph/sirene`` replaced and ``graph/meta`` updated) is ``ptcekb.publish``.

1. the SIREN/SIRET numbers of PTCE members, from every graph but SIRENE (:mod:`.members`);
2. the legal-unit file streamed (a zip member read directly, never whole), keeping the units in the
   ESS (``economieSocialeSolidaireUniteLegale = O``), those whose legal category is in an ESS family
   of the ``categories-juridiques`` code list (``cj:ess-par-statut``), and every unit a PTCE member
   references; then the establishments of the kept units (:mod:`.stock`);
3. each kept row mapped to N-Triples (:mod:`.rows`), the rejected rows written to
   ``{store}.sirene/rejects.csv``, the members' linking to ``{store}.sirene/membres.csv``;
4. the N-Triples are kept as ``{store}.sirene/sirene.nt``, which ``ptcekb build`` loads again
   (:func:`carried_sources`: a rebuild from the curated sources keeps the SIRENE graph).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox

from ... import __version__
from ...config import Settings
from ...files import replaced_atomically
from ...namespaces import DCTERMS, LICENCE_OUVERTE, XSD
from ...progress import Meter
from ...rdf import file_entity, triple, typed
from .. import Source
from ..cog import normalise_name
from .members import link_members, ptce_members, write_members
from .projection import lambert93_to_wgs84
from .rows import Rejects, Summary, Writer, load_reference
from .stock import StockFile, read_establishments, read_units

__all__ = ["SireneIngest", "IngestReport", "carried_sources", "derived_dir", "lambert93_to_wgs84", "source"]

NAME = "sirene"
INSEE_URLS = (
    "https://www.data.gouv.fr/fr/datasets/base-sirene-des-entreprises-et-de-leurs-etablissements-siren-siret/",
    "https://www.insee.fr/fr/information/3591226",
)
TITLE = {"fr": "Répertoire SIRENE : unités de l'ESS et membres des PTCE",
         "en": "SIRENE register: ESS units and PTCE members"}
DESCRIPTION = {
    "fr": "Unités légales de l'ESS (indicateur ESS ou catégorie juridique d'une famille de l'ESS), unités "
          "référencées par un membre de PTCE, et leurs établissements, extraits des fichiers stock SIRENE de l'INSEE.",
    "en": "ESS legal units (ESS flag or legal category of an ESS family), units referenced by a PTCE member, and "
          "their establishments, taken from INSEE's SIRENE stock files.",
}


def derived_dir(settings: Settings) -> Path:
    """``{store}.sirene``: the N-Triples kept for rebuilds, their provenance, rejects and members' linking."""
    store = Path(settings.store)
    return store.with_name(store.name + ".sirene")


def source(path: Path, provenance: dict) -> Source:
    """The SIRENE graph as a source of the build: the N-Triples file and the stock files it came from."""
    def describe(graph: ox.NamedNode):
        for item in provenance.get("inputs", []):
            yield from file_entity(graph, item["name"], item["bytes"], item.get("sha256"))
        if provenance.get("ingested"):
            yield triple(graph, DCTERMS.modified, typed(provenance["ingested"], XSD.dateTime))

    return Source(
        name=NAME, title=TITLE, description=DESCRIPTION, license=LICENCE_OUVERTE,
        files=lambda root: [], triples=lambda ctx: iter(()), urls=INSEE_URLS, ntriples=path, describe=describe,
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
    return [source(path, provenance)]


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


class SireneIngest:
    """One run of the SIRENE ingest, reading side: the stock files, the members they are matched
    against, the N-Triples written to a sink, the rejects and the members' linking report."""

    def __init__(self, settings: Settings, units_path: Path, establishments_path: Path | None):
        self.settings, self.ns = settings, settings.ns
        self.started = datetime.now(timezone.utc).replace(microsecond=0)
        self.clock = time.monotonic()
        self.units = StockFile(units_path, "legal-unit")
        self.establishments = StockFile(establishments_path, "establishment") if establishments_path else None
        self.ref = load_reference(Path(settings.sources_root))
        self.directory = derived_dir(settings)
        self.summary = Summary()
        self._hashes: dict[str, str] = {}  # sha256 of each stock file, computed while the store is prepared
        self._hashers = [_hash_in_background(s.path, self._hashes) for s in self._stocks()]
        self.members: list = []
        self.link_report: list[dict] = []
        self.provenance: dict = {}
        self.progress: bool | None = None  # rows read, kept, rejected on stderr: None = when it is a terminal

    def _stocks(self) -> list[StockFile]:
        return [s for s in (self.units, self.establishments) if s is not None]

    def read_members(self, published: ox.Store) -> None:
        """The PTCE members of the published store, whose units are kept whatever their category."""
        self.members = ptce_members(published, self.ns)

    def write(self, sink) -> Source:
        """Stream the stock files, writing the kept facts to ``sink.write(text)`` as N-Triples lines;
        write the rejects and the members' linking; return the graph's source (with its provenance)."""
        members = self.members
        referenced = {s for m in members for s in m.sirens}
        referenced_sirets = {s for m in members for s in m.sirets if len(s) == 14}
        referenced |= {s[:9] for s in referenced_sirets}
        candidates = {normalise_name(m.name): [] for m in members if not m.sirens and not m.sirets and m.name}
        self.directory.mkdir(parents=True, exist_ok=True)
        summary, seconds = self.summary, self.summary.seconds
        rejects = Rejects(self.directory / "rejects.csv", summary)
        try:
            writer = Writer(self.ns, self.ref, sink, summary, rejects)
            tick = time.monotonic()
            with self._meter("legal units", lambda: summary.kept_units) as progress:
                kept, protected, problems = read_units(self.units, writer, self.ref, referenced, rejects, candidates,
                                                       progress)
            seconds["legal units"] = round(time.monotonic() - tick, 2)
            found_sirets: set[str] = set()
            if self.establishments is not None:
                tick = time.monotonic()
                with self._meter("establishments", lambda: summary.kept_establishments) as progress:
                    found_sirets = read_establishments(self.establishments, writer, kept, protected, referenced_sirets,
                                                       rejects, progress)
                seconds["establishments"] = round(time.monotonic() - tick, 2)
            writer.flush()
        finally:
            rejects.close()
        for hasher in self._hashers:
            hasher.join()
        kept_str = {s.decode() for s in kept}
        del kept, protected
        self.link_report = link_members(members, kept_str, problems, found_sirets, candidates)
        write_members(self.directory / "membres.csv", self.link_report)
        inputs = [{"name": s.path.name, "member": s.member, "bytes": s.path.stat().st_size,
                   "sha256": self._hashes.get(str(s.path)), "columns": summary.layouts.get(s.path.name)}
                  for s in self._stocks()]
        self.provenance = {"ingested": self.started.isoformat(), "inputs": inputs, "tool": f"ptcekb {__version__}"}
        return source(self.directory / "sirene.nt", self.provenance)

    @contextmanager
    def _meter(self, what: str, kept: Callable[[], int]) -> Iterator[Callable[[int], None]]:
        """``progress(rows read)`` for one stock file: rows read, kept, rejected and the rate, on
        stderr every second when it is a terminal (:class:`~ptcekb.progress.Meter`), else nothing."""
        meter = Meter(what, enabled=self.progress)
        rows = 0

        def progress(read: int) -> None:
            nonlocal rows
            rows = read
            meter.update(read, kept(), sum(self.summary.rejects.values()))

        try:
            yield progress
            if meter.enabled:
                meter.update(rows, kept(), sum(self.summary.rejects.values()), force=True)
        finally:
            meter.close()

    def finish(self, triples: int) -> IngestReport:
        """Record the published graph's size and the provenance next to the N-Triples (``sirene.json``)."""
        self.summary.triples = triples
        self.summary.seconds["total"] = round(time.monotonic() - self.clock, 2)
        with replaced_atomically(self.directory / "sirene.json") as partial:
            partial.write_text(json.dumps({**self.provenance, "summary": self.summary.__dict__}, ensure_ascii=False,
                                          indent=2), encoding="utf-8")
        return IngestReport(self.summary, self.link_report, self.directory, self.settings.store)
