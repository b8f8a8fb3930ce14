"""``/sparql``: the SPARQL 1.1 Protocol endpoint (queries over the union of the named graphs)."""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..errors import UserError
from ..query import execute

router = APIRouter()

JSON_RESULTS = "application/sparql-results+json"


@router.get("/sparql", summary="SPARQL 1.1 query (GET)")
def sparql_get(request: Request, query: str | None = None) -> Response:
    if not query or not query.strip():
        raise UserError("missing 'query' parameter / paramètre 'query' manquant")
    result = execute(request.app.state.kb.store(), query)
    if isinstance(result, ox.QueryTriples):
        raise UserError("CONSTRUCT and DESCRIBE are not served yet / pas encore servis")
    return Response(result.serialize(format=ox.QueryResultsFormat.JSON), media_type=JSON_RESULTS)
