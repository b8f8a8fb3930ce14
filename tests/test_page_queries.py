"""The service's own queries (pages, lists, home, statistics) run in the query workers under
PTCEKB_PAGE_QUERY_TIMEOUT (ptcekb/service/pagequery.py): a page whose queries run out answers 200
with what it has and says what is missing; the event loop keeps serving meanwhile."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from conftest import REMOTE, Server, copy_store

NOTICE_FR = "Cette section n&#39;a pas pu être calculée à temps"
NOTICE_EN = "This section could not be computed in time"
HEAVY = ("/id/region/32", "/id/departement/62", "/id/ptce/3-eva", "/")


@pytest.fixture(scope="module")
def hurried(built_store, tmp_path_factory):
    """A server on a copy of the session's store whose pages get 1 ms for their queries."""
    store = built_store if REMOTE else copy_store(built_store, tmp_path_factory.mktemp("hurried") / "store")
    server = Server(store, env={"PTCEKB_PAGE_QUERY_TIMEOUT": "0.001"})
    yield server
    server.stop()


def test_a_page_out_of_time_says_what_is_missing(hurried):
    with httpx.Client(base_url=hurried.url, timeout=120) as http:
        page = http.get("/id/region/32")
        assert page.status_code == 200
        assert 'id="sections-missing"' in page.text and NOTICE_FR in page.text
        assert "<h1>Hauts-de-France</h1>" in page.text  # what needs no query is there
        assert "etag" not in page.headers and page.headers["cache-control"] == "no-store"
        english = http.get("/id/region/32", params={"lang": "en"})
        assert english.status_code == 200 and NOTICE_EN in english.text
        ptce = http.get("/id/ptce/3-eva", params={"lang": "fr"})  # ?lang=en above set the cookie
        assert ptce.status_code == 200 and NOTICE_FR in ptce.text and "3.EVA" in ptce.text
        # RDF documents need no SPARQL query: always complete
        turtle = http.get("/id/region/32.ttl")
        assert turtle.status_code == 200 and "Hauts-de-France" in turtle.text
        assert http.get("/").status_code == 200
    assert "Traceback" not in hurried.output()


def test_statistics_are_computed_in_the_background_under_the_query_time_limit(hurried):
    """VoID waits at most the page time limit for the statistics (503 + Retry-After meanwhile);
    they are computed once per build under PTCEKB_QUERY_TIMEOUT, so they come."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=hurried.url, timeout=120) as http:
        while True:
            reply = http.get("/.well-known/void", headers={"Accept": "text/turtle"})
            if reply.status_code == 200:
                break
            assert reply.status_code == 503 and reply.headers["retry-after"], reply.text
            assert time.monotonic() < deadline, "the statistics never came"
            time.sleep(0.5)
        assert "void:triples" in reply.text


def test_healthz_answers_while_heavy_pages_are_in_flight(hurried, server):
    for target in (hurried, server):
        in_flight, answered_during, errors = [0], [], []
        lock = threading.Lock()
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=target.url, timeout=120) as http:
                while not stop.is_set():
                    for path in HEAVY:
                        with lock:
                            in_flight[0] += 1
                        try:
                            status = http.get(path).status_code
                            if status != 200:
                                errors.append((path, status))
                        finally:
                            with lock:
                                in_flight[0] -= 1

        threads = [threading.Thread(target=load) for _ in range(6)]
        for thread in threads:
            thread.start()
        try:
            with httpx.Client(base_url=target.url, timeout=30) as http:  # a loose liveness bound
                for _ in range(20):
                    assert http.get("/healthz").status_code == 200
                    with lock:
                        answered_during.append(in_flight[0] > 0)
                    time.sleep(0.1)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=300)
        assert any(answered_during), "no page was in flight while /healthz was asked"
        assert not errors, errors
    assert "Traceback" not in hurried.output()


@pytest.mark.parametrize("path", ["/", "/id/region/32", "/id/departement/62", "/id/commune/62041", "/id/ptce/3-eva",
                                  "/id/structure/les-anges-gardins", "/concept/formes-juridiques", "/shapes",
                                  "/id/ptce/", "/id/commune/?q=arras"])
def test_with_the_normal_time_limit_pages_are_complete(http, path):
    page = http.get(path)
    assert page.status_code == 200
    assert 'id="sections-missing"' not in page.text and "notice missing" not in page.text
