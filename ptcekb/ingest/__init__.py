"""The sources of the knowledge base: one module per source, one named graph per source.

A :class:`Source` names its graph, says where its files are and turns them into triples; the
build (``ptcekb.build``) loads each into ``{base}graph/{name}`` and describes it in ``graph/meta``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import pyoxigraph as ox

from ..config import Settings


@dataclass(frozen=True)
class BuildContext:
    settings: Settings
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str) -> None:
        """Something the build leaves out rather than guess (reported at the end of the build)."""
        self.warnings.append(message)

    @property
    def ns(self):
        return self.settings.ns

    @property
    def root(self) -> Path:
        return self.settings.sources_root


@dataclass(frozen=True)
class Source:
    name: str
    title: dict[str, str]
    description: dict[str, str]
    license: str
    files: Callable[[Path], list[Path]]
    triples: Callable[[BuildContext], Iterable[ox.Triple]]
    urls: tuple[str, ...] = ()
    # a large source gives a file of N-Triples, bulk-loaded by the build, instead of triples one by one
    ntriples: Path | None = None
    # extra triples of graph/meta about the graph (provenance the source files alone do not give)
    describe: Callable[[ox.NamedNode], Iterable[ox.Triple]] | None = None


def all_sources(settings: Settings | None = None) -> list[Source]:
    """Every source, in build order; with ``settings``, also the SIRENE graph ingested earlier into
    that store (``ptcekb ingest sirene`` keeps its derived N-Triples next to the store)."""
    from . import calls, cog, ptce, rdf_files

    sources = [*rdf_files.SOURCES, cog.SOURCE, calls.SOURCE, ptce.SOURCE]
    if settings is not None:
        from . import sirene

        sources += sirene.carried_sources(settings)
    return sources
