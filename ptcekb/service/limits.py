"""The size limits of the requests the service accepts, in one place (docs/operations.md lists them).

Time limits are settings (``PTCEKB_*_TIMEOUT``, config.py); these are fixed: each is the most a
legitimate client sends, with the reason beside it.
"""

from __future__ import annotations

MAX_QUERY_BYTES = 1 << 20  # 1 MiB: body of a POST to /sparql (and the query itself)
MAX_UPDATE_BYTES = 16 << 20  # 16 MiB: body of a POST to /update
MAX_STORE_BYTES = 128 << 20  # 128 MiB per Graph Store Protocol upload
UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes of an upload to /validate; 413 beyond
# pySHACL's time grows with the triples (about 30 s for the 11,000 triples of all the curated PTCEs,
# 20 s for 50,000 unrelated triples on 2 cores): a 10 MB file could hold minutes of work. Entities,
# nesting (Oxigraph's RDF/XML parser: 1 s at depth 5,000, 35 s at 20,000) are refused before parsing
# by syntax_limits, as on every path that parses.
UPLOAD_TRIPLE_LIMIT = 50_000
# A publisher template sent to /validate as files or a zip (validation_worker.py): the template has 5
# files, so a few more (a README, a spreadsheet's leftovers) are skipped but 8 files per form and 64
# members per zip are the most accepted; what the zip holds, uncompressed, counts against
# UPLOAD_LIMIT as the files would (a zip bomb stops there, while it is read). Nested zips are refused.
UPLOAD_MAX_FILES = 8
# A multipart upload to /validate is counted as it arrives: its files (UPLOAD_LIMIT together) plus room
# for the parts' headers and boundaries; its fields that are not files (the form has none) are kept in
# memory by Starlette, so each may hold a few bytes only, and there are few of them.
MULTIPART_FRAMING = 64 << 10
UPLOAD_MAX_FIELDS = 10
UPLOAD_FIELD_BYTES = 4 << 10
ZIP_MAX_MEMBERS = 64

# Every request (security.py): the largest body a route accepts (PUT/POST /store) plus room for
# multipart framing; header fields, in number and bytes; and the whole head as it arrives
# (http_protocol.py): the headers plus a request line of up to 16 KiB.
MAX_BODY_BYTES = MAX_STORE_BYTES + (1 << 20)
MAX_HEADERS = 100
MAX_HEADER_BYTES = 64 << 10
MAX_LINE_BYTES = 16 << 10  # the request line's URL: longer queries go in a POST body (414 beyond)
MAX_HEAD_BYTES = MAX_HEADER_BYTES + MAX_LINE_BYTES
