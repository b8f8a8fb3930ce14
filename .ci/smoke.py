"""The service as a user first meets it: fetch the main URLs of a running ``ptcekb serve``.

Standard library only: it runs with the interpreter of a virtual environment that holds nothing but
the runtime install (``pip install .``). Usage: ``python .ci/smoke.py BASE_URL FILE_TO_VALIDATE``.
Prints one line per check; exits 1 at the first failure, with what was expected and what came.
"""

import json
import sys
import urllib.error
import urllib.parse
import urllib.request

BASE, UPLOAD = sys.argv[1].rstrip("/"), sys.argv[2]
PTCE_QUERY = "SELECT ?ptce WHERE { ?ptce a ptce:PTCE } ORDER BY ?ptce LIMIT 1"


def fetch(path: str, accept: str, data: bytes | None = None, content_type: str | None = None) -> tuple[int, str, bytes]:
    request = urllib.request.Request(BASE + path, data=data, headers={"Accept": accept})
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get("content-type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type", ""), error.read()


def check(what: str, path: str, accept: str, expect_type: str, expect_text: str, **request) -> bytes:
    status, media_type, body = fetch(path, accept, **request)
    problem = None
    if status != 200:
        problem = f"status {status}"
    elif not media_type.startswith(expect_type):
        problem = f"media type {media_type!r}, expected {expect_type}"
    elif expect_text.encode() not in body:
        problem = f"no {expect_text!r} in the answer"
    if problem:
        print(f"smoke: FAILED {what}: GET/POST {path}: {problem}: {body[:300]!r}", file=sys.stderr)
        sys.exit(1)
    print(f"smoke: ok {what} ({path.split('?')[0]}, {len(body):,} bytes)")
    return body


check("health", "/healthz", "application/json", "application/json", "triples")
check("home page", "/", "text/html", "text/html", "PTCE")
answer = check("a query", "/sparql?" + urllib.parse.urlencode({"query": PTCE_QUERY}),
               "application/sparql-results+json", "application/sparql-results+json", "bindings")
iri = json.loads(answer)["results"]["bindings"][0]["ptce"]["value"]
check("a PTCE page", "/id/" + iri.split("/id/", 1)[1], "text/html", "text/html", "<h1")  # served at its path below the base IRI
with open(UPLOAD, "rb") as stream:
    check("validation of a file", "/validate", "text/turtle", "text/turtle", "ValidationReport",
          data=stream.read(), content_type="text/turtle")
