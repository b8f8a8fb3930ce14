"""The service's public address: every URL it writes is built on it, never on the ``Host`` header.

Links in pages, ``sd:endpoint``, VoID, the dump's URL and the redirects of a missing or extra
slash are built by Starlette from the request's ``Host`` header, which any client chooses: a
cache or a crawler would then keep links to a host of the attacker's choosing. This outermost
middleware replaces the scheme, host and root path of every request with the configured public
URL (``PTCEKB_PUBLIC_URL``, for a service behind a proxy), or else with the address the server
listens on (``ptcekb serve --host/--port``), before anything reads them.
"""

from __future__ import annotations

from ..config import parse_public_url


class PublicAddress:
    def __init__(self, app, public_url: str | None = None):
        self.app = app
        self.public = parse_public_url(public_url) if public_url else None

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] in ("http", "websocket"):
            if self.public is not None:
                scheme, authority, root = self.public
            else:
                host, port = scope.get("server") or ("127.0.0.1", 80)
                scheme, root = scope.get("scheme", "http"), ""
                authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
            headers = [(name, value) for name, value in scope.get("headers", []) if name != b"host"]
            scope = {**scope, "scheme": scheme, "headers": [(b"host", authority.encode()), *headers]}
            if root:  # ASGI: the path includes the root path, which routing strips again
                scope.update(root_path=root, path=root + scope["path"],
                             raw_path=root.encode() + scope.get("raw_path", scope["path"].encode()))
        await self.app(scope, receive, send)
