"""Dereferenceable IRIs and HTML pages (issue 7), against the real server over HTTP.

The resources checked are real ones of the built knowledge base: a curated PTCE, an organisation,
a commune of the COG, an ontology term (through /def) and a concept of a code list.
"""

from __future__ import annotations

import gzip
import re
import time
import xml.etree.ElementTree as ET

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from conftest import Server, slow_on_virtuoso
from ptcekb.store import StoreLocation

BASE = "https://w3id.org/ptce/"
PTCE_IRI = BASE + "id/ptce/3-eva"
RESOURCES = {  # local path -> IRI whose own triples the document must contain
    "/id/ptce/3-eva": PTCE_IRI,
    "/id/structure/les-anges-gardins": BASE + "id/structure/les-anges-gardins",  # a carrier without SIREN (issue 21)
    "/id/commune/11206": BASE + "id/commune/11206",
    "/def": BASE + "def#PTCE",
    "/concept/roles/structure-porteuse": BASE + "concept/roles/structure-porteuse",
}
RDF_FORMATS = {  # media type -> (suffix, rdflib parser)
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/rdf+xml": ("rdf", "xml"),
    "application/n-triples": ("nt", "nt"),
}
VOID_IN_DATASET = rdflib.URIRef("http://rdfs.org/ns/void#inDataset")
FOAF_PRIMARY_TOPIC = rdflib.URIRef("http://xmlns.com/foaf/0.1/primaryTopic")


def _store_triples(http, iri: str, graph: str | None = None) -> set[tuple]:
    """The resource's own triples, as the SPARQL endpoint gives them (the union of the graphs, or one graph)."""
    pattern = f"GRAPH <{graph}> {{ <{iri}> ?p ?o }}" if graph else f"<{iri}> ?p ?o"
    reply = http.post("/sparql", data={"query": f"CONSTRUCT {{ <{iri}> ?p ?o }} WHERE {{ {pattern} }}"},
                      headers={"Accept": "application/n-triples"})
    assert reply.status_code == 200
    graph = rdflib.Graph().parse(data=reply.text, format="nt")
    return {t for t in graph if not isinstance(t[2], rdflib.BNode)}


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("media", RDF_FORMATS)
def test_each_rdf_format_parses_back_with_the_resource_triples(http, path, media):
    iri = RESOURCES[path]
    reply = http.get(path, headers={"Accept": media})
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == f"{media}; charset=utf-8"
    graph = rdflib.Graph().parse(data=reply.content, format=RDF_FORMATS[media][1])
    # /def is the ontology document: the term's triples of graph/ontology (alignments are a graph of their own)
    expected = _store_triples(http, iri, BASE + "graph/ontology" if path == "/def" else None)
    assert expected and expected <= set(graph), f"missing: {list(expected - set(graph))[:3]}"
    if path != "/def":  # the ontology document is the whole ontology graph, not a description
        documents = list(graph.subjects(FOAF_PRIMARY_TOPIC, rdflib.URIRef(iri)))
        assert documents and (documents[0], VOID_IN_DATASET, rdflib.URIRef(BASE + "dataset")) in graph


def test_description_holds_hash_nodes_labels_and_incoming_links(http):
    graph = rdflib.Graph().parse(data=http.get("/id/ptce/3-eva.ttl").text, format="turtle")
    territory = rdflib.URIRef(PTCE_IRI + "#territoire")  # a hash node of the document: described in it
    # the Haute Vallée de l'Aude lies within the Aude (issue 21: it does not comprise it)
    assert (territory, rdflib.URIRef(BASE + "def#withinArea"), rdflib.URIRef(BASE + "id/departement/11")) in graph
    # the département it points to is named, so a client shows "Aude" without another request
    assert (rdflib.URIRef(BASE + "id/departement/11"), rdflib.RDFS.label, rdflib.Literal("Aude", lang="fr")) in graph \
        or any(str(o) == "Aude" for o in graph.objects(rdflib.URIRef(BASE + "id/departement/11")))
    # the statement nodes about the PTCE (incoming rdf:subject links) come with their sources
    statements = set(graph.subjects(rdflib.RDF.subject, rdflib.URIRef(PTCE_IRI)))
    assert statements and all(graph.value(s, rdflib.URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")) for s in statements)
    # incoming links from other documents: the PTCE's seat (a site of its description, issue 21) points to its commune
    commune = rdflib.Graph().parse(data=http.get("/id/commune/11206.ttl").text, format="turtle")
    assert (rdflib.URIRef(PTCE_IRI + "#implantation-11206"), rdflib.URIRef(BASE + "def#commune"),
            rdflib.URIRef(BASE + "id/commune/11206")) in commune


@pytest.mark.parametrize("how", ["suffix", "format"])
def test_suffix_and_format_override_accept(http, how):
    url = "/id/commune/11206.nt" if how == "suffix" else "/id/commune/11206?format=nt"
    reply = http.get(url, headers={"Accept": "text/html"})
    assert reply.headers["content-type"] == "application/n-triples; charset=utf-8"
    assert "Content-Location" not in reply.headers  # a document URL names itself


def test_q_values_choose_the_representation(http):
    reply = http.get("/id/commune/11206", headers={"Accept": "text/html;q=0.5, application/ld+json;q=0.9, */*;q=0.1"})
    assert reply.headers["content-type"].startswith("application/ld+json")
    assert http.get("/id/commune/11206").headers["content-type"] == "text/html; charset=utf-8"  # no Accept: HTML


def test_linked_data_headers(http):
    reply = http.get("/id/ptce/3-eva", headers={"Accept": "text/turtle"})
    headers = reply.headers
    assert headers["content-location"] == "/id/ptce/3-eva.ttl"  # 200 + Content-Location (docs/uris.md)
    assert "Accept" in headers["vary"]
    link = headers["link"]
    for suffix, media in (("ttl", "text/turtle"), ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml"),
                          ("nt", "application/n-triples"), ("html", "text/html")):
        assert f'</id/ptce/3-eva.{suffix}>; rel="alternate"; type="{media}"' in link
    assert 'rel="describedby"' in link
    assert '<https://www.etalab.gouv.fr/licence-ouverte-open-licence/>; rel="license"' in link
    assert headers["etag"] and "max-age" in headers["cache-control"]
    again = http.get("/id/ptce/3-eva", headers={"Accept": "text/turtle", "If-None-Match": headers["etag"]})
    assert again.status_code == 304 and not again.content
    other = http.get("/id/ptce/3-eva", headers={"Accept": "application/n-triples"})
    assert other.headers["etag"] != headers["etag"]  # one tag per variant


def test_unknown_iri_is_404_and_unsupported_type_406(http):
    assert http.get("/id/ptce/does-not-exist", headers={"Accept": "text/turtle"}).status_code == 404
    page = http.get("/id/ptce/does-not-exist")
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert http.get("/concept/roles/nope.ttl").status_code == 404
    assert http.get("/graph/nope").status_code == 404
    refused = http.get("/id/ptce/3-eva", headers={"Accept": "image/png"})
    assert refused.status_code == 406 and "text/turtle" in refused.text
    assert http.get("/id/ptce/3-eva.xyz").status_code == 404  # not a document format: no such document


def test_head_answers_like_get_without_a_body(http):
    reply = http.head("/id/commune/11206", headers={"Accept": "text/turtle"})
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/turtle") and not reply.content


def test_incoming_links_are_paged(http):
    first = http.get("/id/region/11", headers={"Accept": "text/turtle"})  # Île-de-France: 1,287 communes point to it
    assert 'rel="next"' in first.headers["link"]
    next_url = re.search(r'<([^>]+)>; rel="next"', first.headers["link"]).group(1)
    second = http.get(next_url, headers={"Accept": "text/turtle"})
    assert second.status_code == 200
    within = rdflib.URIRef("http://rdf.insee.fr/def/geo#subdivisionDe")
    region = rdflib.URIRef(BASE + "id/region/11")
    page1 = set(rdflib.Graph().parse(data=first.text, format="turtle").subjects(within, region))
    page2 = set(rdflib.Graph().parse(data=second.text, format="turtle").subjects(within, region))
    assert page1 and page2 and not page1 & page2


def test_graph_dataset_and_shapes_dereference(http):
    graph = rdflib.Graph().parse(data=http.get("/graph/ptce.ttl").text, format="turtle")
    assert (rdflib.URIRef(BASE + "graph/ptce"), rdflib.URIRef("http://purl.org/dc/terms/license"), None) in graph
    assert http.get("/dataset", headers={"Accept": "text/turtle"}).status_code == 200
    shapes = rdflib.Graph().parse(data=http.get("/shapes", headers={"Accept": "text/turtle"}).text, format="turtle")
    assert (None, rdflib.URIRef("http://www.w3.org/ns/shacl#severity"), None) in shapes
    page = http.get("/shapes").text
    assert 'id="Art9-1-DeuxEntreprisesESS"' in page or "Art9-" in page


def test_ptce_page_shows_identity_territory_members_and_sources(http):
    page = http.get("/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq").text
    assert "<h2>Territoire</h2>" in page and "<h2>Membres</h2>" in page
    # its carriers (issue 21): named without a SIREN, so in id/structure/; the CC de la Région d'Audruicq is
    # the COG's authority; a carrier is not a member (the curated sources name no member)
    identity = page.split("<h2>Territoire</h2>", 1)[0]
    assert 'href="/id/structure/les-anges-gardins"' in identity and 'href="/id/organisation/246200844"' in identity
    members = page.split("<h2>Membres</h2>", 1)[1].split("</section>", 1)[0]
    assert "Aucun membre connu dans les sources." in members and "les-anges-gardins" not in members
    # the territory lies within the Pas-de-Calais: said in words, in each language
    territory = page.split("<h2>Territoire</h2>", 1)[1].split("</section>", 1)[0]
    assert re.search(r'data-relation="within_area">se trouve dans</span> <a href="/id/departement/62"', territory)
    assert "Sources de chaque affirmation" in page
    assert "dcterms:subject" not in page and "rov:hasRegisteredOrganization" not in page  # reused terms by their labels
    assert "Article 9 : ce que documentent nos sources" in page or 'id="compliance-pending"' in page
    assert "Non conforme" not in page  # missing facts are no verdict on a curated PTCE (issue 20)
    english = http.get("/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq", headers={"Accept-Language": "en"}).text
    assert "<h2>Members</h2>" in english and 'lang="en"' in english
    vilaine = http.get("/id/ptce/eoliennes-en-pays-de-vilaine", headers={"Accept-Language": "en"}).text
    for code in ("56", "44", "35"):  # a territory straddling three départements overlaps each
        assert f'data-relation="overlaps_area">overlaps</span> <a href="/id/departement/{code}"' in vilaine
    switched = http.get("/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq?lang=en")
    assert "<h2>Members</h2>" in switched.text
    http.cookies.clear()  # the shared client would keep the choice (see the next test)


def test_the_language_chosen_is_remembered(server):
    with httpx.Client(base_url=server.url, timeout=60) as browser:
        chosen = browser.get("/id/ptce/?lang=en")
        assert "ptcekb_lang=en" in chosen.headers["set-cookie"] and "SameSite=Lax" in chosen.headers["set-cookie"]
        later = browser.get("/id/commune/11206")  # no parameter: the cookie decides
        assert 'lang="en"' in later.text and "Cookie" in later.headers["vary"]
        assert 'lang="fr"' in browser.get("/id/commune/11206?lang=fr").text
        assert 'lang="fr"' in browser.get("/sparql", headers={"Accept": "text/html"}).text  # every page follows


@slow_on_virtuoso("the PTCEs of a territory (four kinds of place since issue 21, each related to the territory by "
                  "EXISTS tests) are not answered within the page's 5 s (PTCEKB_PAGE_QUERY_TIMEOUT)")
def test_territory_page_shows_hierarchy_and_ptces(http):
    page = http.get("/id/commune/11206").text
    assert 'href="/id/departement/11"' in page and 'href="/id/region/76"' in page  # its hierarchy
    assert 'href="/id/ptce/3-eva"' in page  # the PTCE located there
    # its seat: the same territory, not one its territory contains (the branch used to be always empty)
    same = re.search(r'<section id="ptce-same">(.*?)</section>', page, re.DOTALL)
    assert same and 'href="/id/ptce/3-eva"' in same.group(1)
    montaigu = re.search(r'<section id="ptce-same">(.*?)</section>', http.get("/id/commune/85146").text, re.DOTALL)
    assert montaigu and 'href="/id/ptce/ptce-culture-a-montaigu"' in montaigu.group(1)
    departement = http.get("/id/departement/11").text
    assert 'href="/id/ptce/3-eva"' in departement and 'href="/id/commune/11206"' not in departement.split("<details")[0] \
        or "Comprend" in departement


def test_organisation_and_concept_pages(http):
    page = http.get("/id/structure/les-anges-gardins").text  # a carrier without SIREN (issue 21)
    assert "Membre des PTCE" in page and 'href="/id/ptce/ecopole-alimentaire-de-la-region-d-audruicq"' in page
    assert 'href="/concept/roles/structure-porteuse"' in page  # its role: the carrier, not a member
    assert http.get("/id/organisation/les-anges-gardins").status_code == 404  # nothing in the SIREN space without a SIREN
    concept = http.get("/concept/roles").text
    assert 'href="/concept/roles/structure-porteuse"' in concept


@slow_on_virtuoso("the name index of a list page reads every label (17 MB of rdfs:label, 8.8 MB of igeo:nom): "
                  "more than the page's 5 s, so the list is replaced by the notice")
def test_lists_page_and_search_by_name(http):
    first = http.get("/id/commune/").text
    assert first.count('<li><a href="/id/commune/') == 50 and 'rel="next"' in first
    found = http.get("/id/commune/", params={"q": "ile-de-brehat"}).text  # accents and case ignored
    assert 'href="/id/commune/22016"' in found
    assert http.get("/id/ptce/", params={"q": "3.EVA"}).text.count('<li><a href="/id/ptce/') == 1
    assert http.get("/id/nothing/").status_code == 404


def test_home_page_has_the_map_counts_and_links(http):
    page = http.get("/").text
    assert page.count('class="departement"') == 96  # every metropolitan département, linked
    assert 'href="/id/departement/11"' in page
    assert "CC BY 4.0" in page and "MapSVG" in page
    assert 'href="/id/departement/971"' in page  # overseas listed beside the map
    for link in ("/sparql", "/validate", "/dumps/", "/.well-known/void", "/def"):
        assert f'href="{link}"' in page


@slow_on_virtuoso("the dump reads every graph (97 MB of N-Triples for the COG: 62 s from Virtuoso) within "
                  "PTCEKB_QUERY_TIMEOUT (30 s): 503")
def test_dumps_are_dcat_distributions_in_nquads_and_trig(http):
    index = rdflib.Graph().parse(data=http.get("/dumps/", headers={"Accept": "text/turtle"}).text, format="turtle")
    urls = {str(u) for u in index.objects(None, rdflib.URIRef("http://www.w3.org/ns/dcat#downloadURL"))}
    assert {u.rsplit("/", 1)[1] for u in urls} == {"ptcekb.nq.gz", "ptcekb.trig"}
    nquads = ox.parse(gzip.decompress(http.get("/dumps/ptcekb.nq.gz").content), format=ox.RdfFormat.N_QUADS)
    trig = ox.parse(http.get("/dumps/ptcekb.trig").content, format=ox.RdfFormat.TRIG)
    assert sum(1 for _ in nquads) == sum(1 for _ in trig) > 100_000


@slow_on_virtuoso("the sitemap lists every resource (the name index again): more than 5 s, 503")
def test_sitemap_lists_resource_pages(http):
    index = ET.fromstring(http.get("/sitemap.xml").content)
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    sitemaps = [e.text for e in index.findall("s:sitemap/s:loc", ns)]
    ptce_map = next(u for u in sitemaps if "/sitemaps/ptce-" in u)
    urls = [e.text for e in ET.fromstring(http.get(ptce_map).content).findall("s:url/s:loc", ns)]
    assert len(urls) >= 100 and any(u.endswith("/id/ptce/3-eva") for u in urls)
    assert http.get(urls[0]).status_code == 200


# --------------------------------------------------------------------------------------------
# Text from the data is escaped: a fictional PTCE (example namespace, test store only)

DEMO = "https://example.org/ptce-demo/"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "store"
    ptce = ox.NamedNode(DEMO + "id/ptce/demo")
    graph = ox.NamedNode(DEMO + "graph/ptce")
    with StoreLocation(path).building() as directory:
        store = ox.Store(str(directory))
        store.extend([
            ox.Quad(ptce, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(BASE + "def#PTCE"), graph),
            ox.Quad(ptce, ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
                    ox.Literal("<script>alert('x')</script> Pôle fictif", language="fr"), graph),
            ox.Quad(ptce, ox.NamedNode("http://purl.org/dc/terms/description"),
                    ox.Literal('"><img src=x onerror=alert(1)>', language="fr"), graph),
        ])
        store.flush()
        del store
    server = Server(path, env={"PTCEKB_BASE_IRI": DEMO})
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client
    server.stop()


def test_data_text_is_escaped_in_pages(hostile):
    page = hostile.get("/id/ptce/demo").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Pôle fictif" in page
    assert "<img src=x" not in page
    listing = hostile.get("/id/ptce/").text
    assert "<script>alert" not in listing and "&lt;script&gt;" in listing
    for _ in range(60):  # the home page lists the PTCEs once read in the background
        home = hostile.get("/").text
        if 'id="sections-missing"' not in home:
            break
        time.sleep(1)
    assert "<script>alert" not in home and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Pôle fictif" in home


def test_api_docs_need_no_script_and_every_graph_linked_from_the_page_about_the_data_dereferences(http):
    docs = http.get("/docs")
    assert docs.status_code == 200 and "<script" not in docs.text and "cdn" not in docs.text.lower()
    assert "/sparql" in docs.text and 'href="/openapi.json"' in docs.text
    about = http.get("/about").text
    graphs = sorted(set(re.findall(r'href="(/graph/[\w-]+)"', about)))
    assert "/graph/meta" in graphs and "/graph/cog" in graphs
    for graph in graphs:
        assert http.get(graph).status_code == 200, graph


def test_a_curated_member_lists_its_ptce_once_with_its_role(http):
    """APESE is a member of TETRIS by its membership (role) and the org:hasMember shortcut that stands
    for it: the organisation page lists TETRIS once, with the role."""
    page = http.get("/id/structure/apese", headers={"Accept": "text/html"}).text
    memberships = page.split("<h2>Membre des PTCE</h2>", 1)[1].split("</section>", 1)[0]
    assert memberships.count('href="/id/ptce/tetris"') == 1
    assert 'href="/concept/roles/membre"' in memberships


def test_the_documentation_of_a_ptce_by_its_slug_is_that_of_its_iri(http):
    by_slug = http.get("/validate", params={"ptce": "tetris"}, headers={"Accept": "text/turtle"})
    by_iri = http.get("/validate", params={"ptce": "https://w3id.org/ptce/id/ptce/tetris"}, headers={"Accept": "text/turtle"})
    assert by_slug.status_code == by_iri.status_code == 200
    from rdflib.compare import isomorphic  # the same report (its blank nodes in any order)

    assert isomorphic(rdflib.Graph().parse(data=by_slug.text, format="turtle"),
                      rdflib.Graph().parse(data=by_iri.text, format="turtle"))
    assert http.get("/validate", params={"ptce": "no-such-ptce"}).status_code == 404
