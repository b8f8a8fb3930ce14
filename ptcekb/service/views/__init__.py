"""HTML views of resources; importing the modules registers them (most specific first)."""

from . import ptce, territory, concept, organisation  # noqa: F401  (registration order matters)
from .base import GENERIC, Page, View, select

__all__ = ["GENERIC", "Page", "View", "select"]
