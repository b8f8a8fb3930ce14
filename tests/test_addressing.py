"""URLs the service writes come from its configuration or its own socket, never from the Host header."""

from __future__ import annotations

import time

import httpx
import pytest

from conftest import REMOTE, Server

EVIL = {"Host": "evil.example"}
PUBLIC = "https://data.example.org/ptce/"


def written_urls(client: httpx.Client) -> dict[str, str]:
    """The redirect of an extra slash, the endpoint's sd:endpoint and the dump's URL in VoID."""
    redirect = client.get("/sparql/", headers=EVIL, follow_redirects=False)
    assert redirect.status_code in (301, 307, 308), redirect.status_code
    deadline = time.monotonic() + 180
    while True:  # its statistics are computed in the background after a start: 503 with Retry-After meanwhile
        response = client.get("/sparql", headers={**EVIL, "Accept": "application/n-triples"})
        if response.status_code != 503 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert response.status_code == 200, response.text
    description = response.text
    endpoint = next(line.split()[2] for line in description.splitlines() if "/ns/sparql-service-description#endpoint>" in line)
    return {"redirect": redirect.headers["location"], "endpoint": endpoint.strip("<>")}


def test_the_host_header_is_not_echoed(http, server):
    urls = written_urls(http)
    assert urls == {"redirect": f"{server.url}/sparql", "endpoint": f"{server.url}/sparql"}
    assert "evil.example" not in http.get("/validate", headers=EVIL).text


@pytest.mark.skipif(REMOTE, reason="the address does not depend on the store")
def test_the_public_url_comes_from_configuration(built_store):
    server = Server(built_store, env={"PTCEKB_PUBLIC_URL": PUBLIC})
    try:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            assert written_urls(client) == {"redirect": PUBLIC + "sparql", "endpoint": PUBLIC + "sparql"}
            assert client.get("/id/ptce/3-eva", headers=EVIL).status_code == 200  # routes still match
    finally:
        server.stop()


def test_a_bad_public_url_is_one_error_line(built_store):
    from conftest import ptcekb

    result = ptcekb("serve", "--store", str(built_store), "--port", "0", env={"PTCEKB_PUBLIC_URL": "data.example.org"})
    assert result.returncode == 1 and result.stderr.strip().startswith("ptcekb: error: PTCEKB_PUBLIC_URL")
