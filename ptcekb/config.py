"""Settings from command-line flags and ``PTCEKB_*`` environment variables (flags win).

Every ``PTCEKB_*`` variable is read here and nowhere else (tests/unit/test_settings.py checks it, and
that README's configuration table lists exactly ``VARIABLES``). A bad value is a ``UserError`` of one
line naming the variable (``ptcekb: error: PTCEKB_X must be …``), never a validation traceback.
Worker processes do not read the environment: what they need travels with them (the pickled
``Settings`` or ``worker_guard.Confinement``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import UserError
from .namespaces import DEFAULT_BASE_IRI, Namespaces, check_base_iri


def _sources_root() -> Path:
    """Where ontology/, shapes/, queries/ and data/ are: the copy that a package install carries in
    ``ptcekb/_sources`` (setup.py puts it there), else the repository of an editable install."""
    package = Path(__file__).resolve().parent
    bundled = package / "_sources"
    return bundled if bundled.is_dir() else package.parent


SOURCES_ROOT = _sources_root()

GiB = 1 << 30
# Each worker's address space. 2 GiB: the default pool is 2 query workers, up to 6 on demand
# (PTCEKB_QUERY_WORKERS_MAX), plus one validation and one update worker: 8 × 2 GiB = 16 GiB at the
# very worst, which leaves the server and the page cache room on a 24 GiB machine. A worker that has
# opened the store read-only and answered queries maps ~0.5 GiB of address space (RocksDB, thread
# stacks, malloc arenas; docs/operations.md), so 2 GiB leaves ~1.5 GiB to a query.
DEFAULT_WORKER_MEMORY = 2 * GiB
MINIMUM_WORKER_MEMORY = 256 << 20  # below this a worker cannot even import pyoxigraph and open a store
DEFAULT_ROW_CAP = 10_000
# Bytes of one SPARQL answer (as the worker writes it; the HTML page reads it as JSON): 10,000 rows of a
# few hundred bytes are a few MB; past this, an answer is cut like at the row cap (a 700-byte query could
# otherwise make 1,000 rows of 131,072-character IRIs, hundreds of MB held by the server).
DEFAULT_ANSWER_BYTES = 32 << 20
MINIMUM_ANSWER_BYTES = 64 << 10

# variable → field: the one list of the service's and the CLI's environment variables
VARIABLES = {
    "PTCEKB_STORE": "store",
    "PTCEKB_STORE_UPDATE": "store_update_url",
    "PTCEKB_STORE_GSP": "store_gsp_url",
    "PTCEKB_STORE_USER": "store_user",
    "PTCEKB_STORE_PASSWORD": "store_password",
    "PTCEKB_BASE_IRI": "base_iri",
    "PTCEKB_SOURCES": "sources_root",
    "PTCEKB_PUBLIC_URL": "public_url",
    "PTCEKB_QUERY_TIMEOUT": "query_timeout",
    "PTCEKB_PAGE_QUERY_TIMEOUT": "page_query_timeout",
    "PTCEKB_UPDATE_TOKEN": "update_token",
    "PTCEKB_SERVICE_ALLOWLIST": "service_allowlist",
    "PTCEKB_SERVICE_TIMEOUT": "service_timeout",
    "PTCEKB_HEADER_TIMEOUT": "header_timeout",
    "PTCEKB_BODY_TIMEOUT": "body_timeout",
    "PTCEKB_VALIDATION_TIMEOUT": "validation_timeout",
    "PTCEKB_ROW_CAP": "row_cap",
    "PTCEKB_ANSWER_BYTES": "answer_bytes",
    "PTCEKB_QUERY_WORKERS": "query_workers",
    "PTCEKB_QUERY_WORKERS_MAX": "query_workers_max",
    "PTCEKB_HEAVY_WORKERS": "heavy_workers",
    "PTCEKB_HEAVY_AFTER": "heavy_after",
    "PTCEKB_WORKER_MEMORY": "worker_memory",
    "PTCEKB_NETWORK_GUARD": "network_guard",
    "PTCEKB_DEBUG": "debug",
}
_VARIABLE = {field: variable for variable, field in VARIABLES.items()}


class _Variables(PydanticBaseSettingsSource):
    """The ``PTCEKB_*`` variables of one environment (``os.environ``, or the mapping a test passes)."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]):
        super().__init__(settings_cls)
        self.environ = environ

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        variable = _VARIABLE.get(field_name)
        return (self.environ.get(variable) if variable else None), field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                found[key] = value
        return found


class Settings(BaseSettings):
    model_config = SettingsConfigDict(frozen=True)

    store: Path = Path("var/store")
    store_url: str | None = None  # a remote SPARQL engine's query endpoint instead of the store directory (remote.py)
    store_update_url: str | None = None  # the remote engine's update endpoint (default: its …/update)
    store_gsp_url: str | None = None  # the remote engine's Graph Store endpoint (default: its …/store)
    store_user: str | None = None  # the remote engine's account, when it asks for one (Basic or Digest)
    store_password: str | None = Field(default=None, repr=False)  # a secret: never in a log line
    base_iri: str = DEFAULT_BASE_IRI
    sources_root: Path = SOURCES_ROOT
    query_timeout: float = 30.0
    page_query_timeout: float = 5.0  # seconds for the queries of one page (pagequery.py)
    update_token: str | None = Field(default=None, repr=False)  # a secret: never in a log line
    service_allowlist: tuple[str, ...] = ()
    service_timeout: float = 10.0  # seconds for each remote SERVICE call
    validation_timeout: float = 60.0  # seconds for the validation of one upload
    header_timeout: float = 10.0  # seconds a request's line and headers may take (http_protocol.py)
    body_timeout: float = 30.0  # seconds a request body may stall (security.py)
    public_url: str | None = None  # the service's URL as clients see it (service/addressing.py)
    row_cap: int = DEFAULT_ROW_CAP  # rows or triples of a SPARQL answer (executor.py)
    answer_bytes: int = DEFAULT_ANSWER_BYTES  # bytes of a SPARQL answer (serializers.py)
    query_workers: int = 2  # query worker processes always running (executor.py)
    query_workers_max: int = 6  # with the extra ones started on demand; at least query_workers
    heavy_workers: int = 1  # query workers of the heavy lane, for the queries that ran long (executor.py)
    heavy_after: float = 0.5  # CPU seconds after which a query is heavy: its next runs go to the heavy lane
    worker_memory: int = DEFAULT_WORKER_MEMORY  # bytes of address space per worker (worker_guard.py)
    network_guard: bool = True  # False: the workers' network filter is not installed (worker_guard.py)
    debug: bool = False  # the CLI shows the traceback of an internal error

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # the environment is read by from_env, from the mapping it is given

    @property
    def ns(self) -> Namespaces:
        return Namespaces(self.base_iri)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> "Settings":
        """Read the environment, then apply the non-None ``overrides`` (from CLI flags)."""
        values = _Variables(cls, os.environ if environ is None else environ)()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            error = exc.errors()[0]
            cause = error.get("ctx", {}).get("error")
            name = _VARIABLE.get(str(error["loc"][0]) if error["loc"] else "", "PTCEKB_*")
            raise UserError(str(cause) if isinstance(cause, ValueError) else f"{name}: {error['msg']}") from None

    # -- the variables' forms, with the messages they had before this class held them all -------

    @model_validator(mode="before")
    @classmethod
    def _store_or_url(cls, values: dict) -> dict:
        location = values.get("store")
        if location is not None and str(location).startswith(("http://", "https://")):
            values = {**values, "store_url": str(location)}
            del values["store"]
        return values

    @field_validator("query_timeout", "page_query_timeout", "service_timeout", "validation_timeout",
                     "header_timeout", "heavy_after", mode="before")
    @classmethod
    def _seconds(cls, value, info):
        return _positive_float(value, _VARIABLE[info.field_name])

    @field_validator("body_timeout", mode="before")
    @classmethod
    def _body_seconds(cls, value, info):
        return 30.0 if isinstance(value, str) and not value.strip() else _positive_float(value, _VARIABLE[info.field_name])

    @field_validator("row_cap", "query_workers", "query_workers_max", "heavy_workers", mode="before")
    @classmethod
    def _count(cls, value, info):
        return _at_least_one(value, _VARIABLE[info.field_name], cls.model_fields[info.field_name].default)

    @field_validator("update_token", "public_url", "store_update_url", "store_gsp_url", "store_user",
                     "store_password", mode="before")
    @classmethod
    def _unset_if_empty(cls, value):
        return value or None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value):
        if value:
            parse_public_url(value)
        return value

    @field_validator("base_iri")
    @classmethod
    def _base_iri(cls, value):
        check_base_iri(value)
        return value

    @field_validator("service_allowlist", mode="before")
    @classmethod
    def _prefixes(cls, value):
        return tuple(p.strip() for p in value.split(",") if p.strip()) if isinstance(value, str) else value

    @field_validator("worker_memory", mode="before")
    @classmethod
    def _memory(cls, value):
        if not isinstance(value, str):
            return value
        if not value.strip():
            return DEFAULT_WORKER_MEMORY
        size = parse_size(value, "PTCEKB_WORKER_MEMORY")
        if size < MINIMUM_WORKER_MEMORY:
            raise ValueError(f"PTCEKB_WORKER_MEMORY must be at least {MINIMUM_WORKER_MEMORY >> 20}M (a worker needs "
                             f"that much to start), not {value!r}")
        return size

    @field_validator("answer_bytes", mode="before")
    @classmethod
    def _answer_bytes(cls, value):
        if isinstance(value, str):
            value = parse_size(value, "PTCEKB_ANSWER_BYTES") if value.strip() else DEFAULT_ANSWER_BYTES
        if value < MINIMUM_ANSWER_BYTES:
            raise ValueError(f"PTCEKB_ANSWER_BYTES must be at least {MINIMUM_ANSWER_BYTES >> 10}K, not {value!r}")
        return value

    @field_validator("network_guard", mode="before")
    @classmethod
    def _guard(cls, value):
        return value.strip().lower() not in ("off", "0", "no", "false") if isinstance(value, str) else value

    @field_validator("debug", mode="before")
    @classmethod
    def _debug(cls, value):
        return bool(value)

    @model_validator(mode="after")
    def _workers_max(self) -> "Settings":
        if self.query_workers_max < self.query_workers:  # at least the pool that is always running
            object.__setattr__(self, "query_workers_max", self.query_workers)
        return self


def parse_public_url(value: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], root path)`` of PTCEKB_PUBLIC_URL: an absolute http(s) URL without query or fragment."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment or "@" in parts.netloc:
        raise UserError(f"PTCEKB_PUBLIC_URL must be an http(s) URL such as https://data.example.org/ptce/, not {value!r}")
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


_SUFFIXES = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str, name: str = "PTCEKB_WORKER_MEMORY") -> int:
    """``"2G"`` → 2147483648: bytes, with an optional K, M, G or T suffix (powers of 1024; ``KiB``… too)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*", text.upper())
    if not match:
        raise ValueError(f"{name} must be a size in bytes with an optional K, M or G suffix (e.g. 2G), "
                         f"not {text!r}")
    return int(float(match.group(1)) * _SUFFIXES[match.group(2)])


def _positive_float(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number of seconds, not {value!r}") from None
    if number <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return number


def _at_least_one(value, name: str, default: int) -> int:
    if isinstance(value, str) and not value.strip():
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, not {value!r}") from None
    if number < 1:
        raise ValueError(f"{name} must be at least 1, not {value!r}")
    return number
