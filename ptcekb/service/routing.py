"""The service's router: one route, and so one OpenAPI operation, per HTTP method.

FastAPI gives every method of a route declared with several methods the same operation id: the
OpenAPI description is ambiguous and each extra method logs a "Duplicate Operation ID" warning
when /docs is opened. Splitting such routes keeps one id per operation; HEAD is served with GET
and left out of the description, as OpenAPI clients expect.
"""

from __future__ import annotations

from fastapi import APIRouter


class Router(APIRouter):
    def add_api_route(self, path, endpoint, *, methods=None, include_in_schema: bool = True, **options) -> None:
        if not methods or len(methods) == 1:
            super().add_api_route(path, endpoint, methods=methods, include_in_schema=include_in_schema, **options)
            return
        for method in methods:
            super().add_api_route(path, endpoint, methods=[method], **options,
                                  include_in_schema=include_in_schema and method.upper() != "HEAD")
