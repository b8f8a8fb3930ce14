"""The HTTP/1.1 connection protocol of ``ptcekb serve``: uvicorn's, with a deadline on request heads.

uvicorn bounds the idle time between two requests of a connection (``timeout_keep_alive``) but not
the time a client takes to send a request's line and headers: a client sending one byte a second
holds a connection, and its memory, for as long as it likes ("slowloris"), and a few hundred of
them fill the server. Here the head of every request (from the connection's opening, or from the
first byte of the next request on a kept-alive connection, to the end of its headers) must arrive
within ``PTCEKB_HEADER_TIMEOUT`` seconds (default 10), with a request line of at most
``MAX_LINE_BYTES`` and headers of at most ``MAX_HEAD_BYTES``; otherwise the client gets a 408 (414,
431) and the connection is closed. The close lingers: what the client still sends for up to
``LINGER_SECONDS`` is read and dropped, so that it reads the answer instead of a connection reset.
The body has its own limit between two chunks (``PTCEKB_BODY_TIMEOUT``, security.py).
"""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .limits import MAX_HEAD_BYTES, MAX_LINE_BYTES

LINGER_SECONDS = 2.0


def _answer(status: str, message: str) -> bytes:
    body = message.encode()
    return (f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {len(body)}\r\n"
            "connection: close\r\n\r\n").encode() + body


def protocol(header_timeout: float) -> type[HttpToolsProtocol]:
    """The protocol class for ``uvicorn.Config(http=...)``, with this deadline on request heads."""

    timed_out = _answer("408 Request Timeout", f"408: the request's headers did not arrive within {header_timeout:g} s "
                                               "/ en-têtes de la requête trop lents\n")
    too_large = _answer("431 Request Header Fields Too Large", f"431: request line and headers larger than "
                                                               f"{MAX_HEAD_BYTES >> 10} KiB / en-têtes trop grands\n")
    too_long = _answer("414 URI Too Long", f"414: request URL longer than {MAX_LINE_BYTES >> 10} KiB: send long "
                                           "queries in a POST body / URL trop longue, utiliser POST\n")

    class HeadDeadlineProtocol(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None
        _head_bytes = 0
        _line_bytes = 0
        _refused = False  # the parser may still call back for the rest of the bytes it was given

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._start_deadline()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._head_bytes = self._line_bytes = 0
            self._start_deadline()

        def data_received(self, data: bytes) -> None:
            if not self._refused:  # after a refusal, what still comes is dropped (lingering close)
                super().data_received(data)

        def on_url(self, url: bytes) -> None:
            self._line_bytes += len(url)
            if self._line_bytes > MAX_LINE_BYTES:
                self._refuse(too_long)
            elif self._count(len(url)):
                super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            if self._count(len(name) + len(value)):
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._stop_deadline()
            if not self._refused:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self._refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self._refused:
                super().on_message_complete()

        def connection_lost(self, exc) -> None:
            self._stop_deadline()
            super().connection_lost(exc)

        def _start_deadline(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(header_timeout, self._refuse, timed_out)

        def _stop_deadline(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _count(self, size: int) -> bool:
            """Whether the head is still within its size (refused otherwise)."""
            self._head_bytes += size
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(too_large)
            return not self._refused

        def _refuse(self, answer: bytes) -> None:
            self._stop_deadline()
            if self._refused:
                return
            self._refused = True
            if not self.transport.is_closing():
                self.transport.write(answer)
                if self.transport.can_write_eof():
                    self.transport.write_eof()  # the answer, then FIN; reading goes on until the close
                self.loop.call_later(LINGER_SECONDS, self.transport.close)

    return HeadDeadlineProtocol
