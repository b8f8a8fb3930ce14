"""Every IRI of the knowledge base is built here.

Two families of IRIs:

* the **vocabulary** (ontology ``def``, ``shapes``, code lists ``concept/...``) is fixed at
  ``https://w3id.org/ptce/``: publishers and other knowledge bases use the same terms whatever the
  instance that serves them;
* the **instance data** (``id/...``, ``graph/...``, the dataset) is minted under the configurable
  base IRI (``--base-iri``, ``PTCEKB_BASE_IRI``), so a mirror or a test instance mints its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rdflib import Namespace

VOCAB_BASE = "https://w3id.org/ptce/"
DEFAULT_BASE_IRI = VOCAB_BASE

ONTOLOGY_IRI = VOCAB_BASE + "def"
PTCE = Namespace(ONTOLOGY_IRI + "#")
SHAPES_IRI = VOCAB_BASE + "shapes"
PTCESH = Namespace(SHAPES_IRI + "#")
CONCEPT = Namespace(VOCAB_BASE + "concept/")
EXAMPLE = Namespace("https://example.org/ptce-demo/")

# Licences: the data (ours and Etalab's) under the Licence Ouverte, the vocabulary under CC BY.
LICENCE_OUVERTE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"

ADMS = Namespace("http://www.w3.org/ns/adms#")
CV = Namespace("http://data.europa.eu/m8g/")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = Namespace("http://purl.org/dc/terms/")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
GEO = Namespace("http://www.opengis.net/ont/geosparql#")
IGEO = Namespace("http://rdf.insee.fr/def/geo#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
ORG = Namespace("http://www.w3.org/ns/org#")
OWL = Namespace("http://www.w3.org/2002/07/owl#")
PROV = Namespace("http://www.w3.org/ns/prov#")
RDF = Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
RDFS = Namespace("http://www.w3.org/2000/01/rdf-schema#")
ROV = Namespace("http://www.w3.org/ns/regorg#")
SCHEMA = Namespace("http://schema.org/")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SH = Namespace("http://www.w3.org/ns/shacl#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
TIME = Namespace("http://www.w3.org/2006/time#")
VANN = Namespace("http://purl.org/vocab/vann/")
VOID = Namespace("http://rdfs.org/ns/void#")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")

# Prefixes bound explicitly everywhere (rdflib's defaults bind some to other IRIs).
PREFIXES: dict[str, str] = {
    "ptce": str(PTCE),
    "ptcesh": str(PTCESH),
    "adms": str(ADMS),
    "cv": str(CV),
    "dcat": str(DCAT),
    "dcterms": str(DCTERMS),
    "foaf": str(FOAF),
    "geo": str(GEO),
    "igeo": str(IGEO),
    "locn": str(LOCN),
    "org": str(ORG),
    "owl": str(OWL),
    "prov": str(PROV),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "rov": str(ROV),
    "schema": str(SCHEMA),
    "sd": str(SD),
    "sh": str(SH),
    "skos": str(SKOS),
    "spdx": str(SPDX),
    "time": str(TIME),
    "void": str(VOID),
    "wdt": str(WDT),
    "xsd": str(XSD),
}

_BASE_IRI = re.compile(r"^https?://[^\s<>\"{}|\\^`]+/$")


def check_base_iri(base: str) -> str:
    """Return ``base`` if it is an absolute http(s) IRI ending with ``/``, else raise ValueError."""
    if not _BASE_IRI.match(base):
        raise ValueError(f"base IRI must be an absolute http(s) IRI ending with '/': {base!r}")
    return base


def slugify(text: str) -> str:
    """Lowercase ASCII with hyphens: the form of every slug we mint."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(frozen=True)
class Namespaces:
    """The instance IRIs under one base IRI."""

    base: str = DEFAULT_BASE_IRI

    def __post_init__(self) -> None:
        check_base_iri(self.base)

    def id(self, kind: str, key: str) -> str:
        return f"{self.base}id/{kind}/{key}"

    def graph(self, name: str) -> str:
        return f"{self.base}graph/{name}"

    @property
    def dataset(self) -> str:
        return f"{self.base}dataset"

    @property
    def meta_graph(self) -> str:
        return self.graph("meta")

    def concept(self, scheme: str, code: str | None = None) -> str:
        return str(CONCEPT) + (scheme if code is None else f"{scheme}/{code}")
