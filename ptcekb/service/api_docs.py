"""``/docs``: the HTTP API, listed from the OpenAPI description, served without any script or CDN
(FastAPI's Swagger UI loads its code from a CDN, which an offline or CSP-strict browser blocks)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter()
METHODS = ("get", "post", "put", "delete", "head", "options")


@router.get("/docs", include_in_schema=False)
async def api_docs(request: Request) -> HTMLResponse:
    spec = request.app.openapi()
    operations = [
        {"path": path, "method": method.upper(), "summary": operation.get("summary", ""),
         "parameters": [p["name"] for p in operation.get("parameters", [])]}
        for path, item in sorted(spec["paths"].items()) for method, operation in item.items() if method in METHODS
    ]
    return request.app.state.templates.TemplateResponse(request, "api.html", {"spec": spec, "operations": operations})
