"""The Jinja2 environment shared by the service pages and the static documentation."""

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from .i18n import translator

TEMPLATES = Path(__file__).parent / "service" / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), trim_blocks=True,
                      lstrip_blocks=True)
    env.globals["translator"] = translator  # base.html words its header in the page's language
    return env
