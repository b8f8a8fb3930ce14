"""Settings from command-line flags and ``PTCEKB_*`` environment variables (flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UserError
from .namespaces import DEFAULT_BASE_IRI, Namespaces, check_base_iri


def _sources_root() -> Path:
    """Where ontology/, shapes/, queries/ and data/ are: the copy that a package install carries in
    ``ptcekb/_sources`` (setup.py puts it there), else the repository of an editable install."""
    package = Path(__file__).resolve().parent
    bundled = package / "_sources"
    return bundled if bundled.is_dir() else package.parent


SOURCES_ROOT = _sources_root()


@dataclass(frozen=True)
class Settings:
    store: Path = Path("var/store")
    store_url: str | None = None  # a remote SPARQL engine's query endpoint instead of the store directory (remote.py)
    base_iri: str = DEFAULT_BASE_IRI
    sources_root: Path = SOURCES_ROOT
    query_timeout: float = 30.0
    page_query_timeout: float = 5.0  # seconds for the queries of one page (PTCEKB_PAGE_QUERY_TIMEOUT, pagequery.py)
    update_token: str | None = None
    service_allowlist: tuple[str, ...] = field(default_factory=tuple)
    service_timeout: float = 10.0  # seconds for each remote SERVICE call (PTCEKB_SERVICE_TIMEOUT)
    validation_timeout: float = 60.0  # seconds for the validation of one upload (PTCEKB_VALIDATION_TIMEOUT)
    header_timeout: float = 10.0  # seconds a request's line and headers may take (PTCEKB_HEADER_TIMEOUT)
    public_url: str | None = None  # the service's URL as clients see it (PTCEKB_PUBLIC_URL; service/addressing.py)

    @property
    def ns(self) -> Namespaces:
        return Namespaces(self.base_iri)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read the environment, then apply the non-None ``overrides`` (from CLI flags)."""
        env = os.environ if environ is None else environ
        settings = cls(
            base_iri=env.get("PTCEKB_BASE_IRI", DEFAULT_BASE_IRI),
            sources_root=Path(env.get("PTCEKB_SOURCES", SOURCES_ROOT)),
            query_timeout=_positive_float(env.get("PTCEKB_QUERY_TIMEOUT", "30"), "PTCEKB_QUERY_TIMEOUT"),
            page_query_timeout=_positive_float(env.get("PTCEKB_PAGE_QUERY_TIMEOUT", "5"), "PTCEKB_PAGE_QUERY_TIMEOUT"),
            update_token=env.get("PTCEKB_UPDATE_TOKEN") or None,
            public_url=env.get("PTCEKB_PUBLIC_URL") or None,
            header_timeout=_positive_float(env.get("PTCEKB_HEADER_TIMEOUT", "10"), "PTCEKB_HEADER_TIMEOUT"),
            service_timeout=_positive_float(env.get("PTCEKB_SERVICE_TIMEOUT", "10"), "PTCEKB_SERVICE_TIMEOUT"),
            validation_timeout=_positive_float(env.get("PTCEKB_VALIDATION_TIMEOUT", "60"), "PTCEKB_VALIDATION_TIMEOUT"),
            service_allowlist=tuple(
                p.strip() for p in env.get("PTCEKB_SERVICE_ALLOWLIST", "").split(",") if p.strip()
            ),
        )
        location = overrides.pop("store", None) or env.get("PTCEKB_STORE", "var/store")
        if str(location).startswith(("http://", "https://")):
            settings = replace(settings, store_url=str(location))
        else:
            settings = replace(settings, store=Path(location))
        settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
        try:
            check_base_iri(settings.base_iri)
        except ValueError as exc:
            raise UserError(str(exc)) from None
        if settings.public_url:
            parse_public_url(settings.public_url)
        return settings


def parse_public_url(value: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], root path)`` of PTCEKB_PUBLIC_URL: an absolute http(s) URL without query or fragment."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise UserError(f"PTCEKB_PUBLIC_URL must be an http(s) URL such as https://data.example.org/ptce/, not {value!r}")
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def _positive_float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise UserError(f"{name} must be a number of seconds, not {value!r}") from None
    if number <= 0:
        raise UserError(f"{name} must be positive, not {value!r}")
    return number
