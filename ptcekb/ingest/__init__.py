"""The sources of the knowledge base: one module per source, one named graph per source.

A :class:`Source` names its graph, says where its files are and turns them into triples; the
build (``ptcekb.build``) loads each into ``{base}graph/{name}`` and describes it in ``graph/meta``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import pyoxigraph as ox

from ..config import Settings


@dataclass(frozen=True)
class BuildContext:
    settings: Settings

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


def all_sources() -> list[Source]:
    """Every source, in build order."""
    from . import cog, rdf_files

    return [*rdf_files.SOURCES, cog.SOURCE]
