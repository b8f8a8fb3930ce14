"""Validation of uploads in a worker process, under a time limit (``PTCEKB_VALIDATION_TIMEOUT``).

Parsing and pySHACL are pure-Python CPU work: run in the server process they hold its GIL, and
every other request waits behind them; and a thread cannot be stopped. One spawned worker process
per published build keeps the build's validation context loaded and validates uploads one at a
time; an upload past the time limit is stopped by killing that process (pebble's ProcessPool
cancels a running task that way and starts a new worker), so the service answers 504 and goes on;
uploads queued behind it are validated by the new worker. Validation is heavy work: the worker
runs at the niceness of the query workers' heavy lane (worker_guard.HEAVY_NICE). Reports come back pickled and are
rendered in the server.

The worker confines itself before its first upload (worker_guard.py): it dies with the server, its
memory is capped (``PTCEKB_WORKER_MEMORY``) and, with a local store, it cannot open a network socket
(a remote store is read over HTTP by the validation, so there it keeps its network).
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import threading
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import pyoxigraph as ox
from pebble import ProcessExpired, ProcessPool

from ..config import Settings
from ..errors import UserError
from ..ingest.rdf_files import parse_bytes
from ..ingest.template import COLUMNS, ingest_files
from ..remote import open_store
from ..validate import Report, ValidationContext, graph_of, locate_in_template, validate
from . import worker_guard
from .limits import UPLOAD_LIMIT, UPLOAD_TRIPLE_LIMIT, ZIP_MAX_MEMBERS
from .worker_guard import HEAVY_NICE, Confinement

# Zip members are read in pieces of this size, so that what a member inflates to is counted as it is
# read; only the methods zipfile inflates piece by piece (deflate, or none) are accepted.
ZIP_READ_CHUNK = 64 << 10
ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
ZIP_METHOD_NAMES = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA", 9: "deflate64"}


class ValidationPool:
    """The worker process of the build being served (replaced when the build changes or is killed)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._build: str | None = None
        self._pool: ProcessPool | None = None
        self._memory: int | None = None

    def _current(self, settings: Settings, build: str, remote: bool) -> ProcessPool:
        with self._lock:
            if self._pool is None or self._build != build:
                if self._pool is not None:  # a previous build's: its uploads finish, then it ends
                    self._pool.close()
                    threading.Thread(target=self._pool.join, daemon=True, name="ptcekb-validation-end").start()
                confinement = Confinement.for_workers(network_guard=not remote and worker_guard.probe() is None,
                                                      settings=settings, nice=HEAVY_NICE)
                self._pool = ProcessPool(max_workers=1, context=multiprocessing.get_context("spawn"),
                                         initializer=worker_guard.enter, initargs=(confinement,))
                self._memory = confinement.memory
                self._build = build
            return self._pool

    async def validate(self, settings: Settings, build: str, directory: Path | None, body: bytes,
                       extension: str, name: str, timeout: float) -> Report:
        return await self._run(settings, build, directory, timeout, validate_upload,
                               (settings, build, directory, body, extension, name))

    async def validate_template(self, settings: Settings, build: str, directory: Path | None,
                                files: list[tuple[str, bytes]], timeout: float) -> Report:
        """A publisher template's CSV files (or a zip of them), converted and validated in the worker."""
        return await self._run(settings, build, directory, timeout, validate_template_upload,
                               (settings, build, directory, files))

    async def _run(self, settings: Settings, build: str, directory: Path | None, timeout: float, function, args) -> Report:
        pool = self._current(settings, build, remote=directory is None)
        task = pool.schedule(function, args=args)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(task), timeout)
        except asyncio.TimeoutError:  # the time limit counts the wait in the queue too
            task.cancel()  # pebble kills the worker if the upload is running, and starts another
            raise UserError(f"validation stopped after {timeout:g} s (PTCEKB_VALIDATION_TIMEOUT): send a smaller "
                            f"description / validation arrêtée après {timeout:g} s", http_status=504) from None
        except ProcessExpired:  # the worker died under this upload (pebble starts another)
            shown = worker_guard.human(self._memory) if self._memory else "its memory"
            raise UserError(f"the validation worker stopped: this upload may have needed more than {shown} "
                            f"(PTCEKB_WORKER_MEMORY), or another upload's time limit stopped it; retry with a smaller "
                            f"description / validation interrompue (mémoire ou délai), réessayer", http_status=503) from None
        except MemoryError:
            raise UserError(f"the validation used more than {worker_guard.human(self._memory or 0)} of memory "
                            f"(PTCEKB_WORKER_MEMORY) / la validation a dépassé la mémoire permise",
                            http_status=507) from None

    def close(self) -> None:
        """Stop the worker now, a running upload included (the server stops)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()
            pool.join()


# The validation context of the last build this worker process validated against: the process
# validates upload after upload against one build, and for a remote store (no build directory, so no
# on-disk cache beside it: validate.ValidationContext) preparing it reads the model over HTTP.
_last_context: tuple[str, ValidationContext] | None = None


def _context(settings: Settings, build: str, directory: Path | None) -> ValidationContext:
    global _last_context  # noqa: PLW0603 - this worker process's own state, one build at a time
    if _last_context is None or _last_context[0] != build:
        store = ox.Store.read_only(str(directory)) if directory is not None else open_store(settings)
        _last_context = (build, ValidationContext(store, settings, directory))
    return _last_context[1]


def validate_upload(settings: Settings, build: str, directory: Path | None, body: bytes, extension: str,
                    name: str) -> Report:
    """In the worker: check the limits, parse, validate against the build's context."""
    rdf_format = ox.RdfFormat.from_extension(extension)
    triples = []
    for quad in parse_bytes(body, rdf_format, name):  # syntax_limits first; errors with the line and column
        if len(triples) == UPLOAD_TRIPLE_LIMIT:
            raise UserError(f"more than {UPLOAD_TRIPLE_LIMIT:,} triples: validation is for the description of "
                            f"a few PTCEs / plus de {UPLOAD_TRIPLE_LIMIT:,} triplets", http_status=413)
        triples.append(quad.triple)
    return validate(graph_of(triples), _context(settings, build, directory))


def validate_template_upload(settings: Settings, build: str, directory: Path | None,
                             files: list[tuple[str, bytes]]) -> Report:
    """In the worker: unpack, convert as ``ptcekb ingest template`` does, validate, locate the findings."""
    result = ingest_files(template_files(files), settings.ns)
    if len(result.triples) > UPLOAD_TRIPLE_LIMIT:
        raise UserError(f"more than {UPLOAD_TRIPLE_LIMIT:,} triples: validation is for the description of "
                        f"a few PTCEs / plus de {UPLOAD_TRIPLE_LIMIT:,} triplets", http_status=413)
    report = validate(graph_of(result.triples), _context(settings, build, directory))
    return locate_in_template(report, result)


def template_files(files: list[tuple[str, bytes]]) -> dict[str, bytes]:
    """The template's files by name, from uploaded CSV files and zips (hostile input: bounded).

    A zip is read member by member, decompressing at most what is left of ``UPLOAD_LIMIT`` for all
    files together (the sizes a zip declares are not trusted); at most ``ZIP_MAX_MEMBERS`` members;
    a member that is a zip, is encrypted, or whose name is absolute or climbs (``..``) is refused.
    Only a member's base name counts (nothing is written to disk): folders, ``__MACOSX`` and
    hidden files are skipped, as are files that are not the template's; a name twice is refused."""
    out: dict[str, bytes] = {}
    budget = [UPLOAD_LIMIT]

    def add(name: str, content: bytes, where: str) -> None:
        if name in out:
            raise UserError(f"{where}: {name} given twice / {name} donné deux fois", http_status=400)
        out[name] = content

    for name, content in files:
        base = PurePosixPath(name.replace("\\", "/")).name
        if base.lower().endswith(".zip"):
            for member, data in _zip_members(base, content, budget):
                add(PurePosixPath(member).name.lower(), data, f"{base}: {member}")
        else:
            budget[0] -= len(content)
            add(base.lower(), content, base)
    known = {n: c for n, c in out.items() if n in COLUMNS}
    if not known:
        raise UserError(f"no file of the template ({', '.join(COLUMNS)}) in the upload / aucun fichier du gabarit "
                        f"dans l'envoi (ptce.csv au moins)", http_status=400)
    return known


def _zip_members(name: str, content: bytes, budget: list[int]):
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UserError(f"{name}: not a readable zip ({exc}) / zip illisible", http_status=400) from None
    if len(entries) > ZIP_MAX_MEMBERS:
        raise UserError(f"{name}: {len(entries)} entries, {ZIP_MAX_MEMBERS} at most / trop de fichiers dans le zip",
                        http_status=413)
    with archive:
        for entry in entries:
            member = entry.filename
            path = PurePosixPath(member.replace("\\", "/"))
            if member.startswith(("/", "\\")) or ".." in path.parts or (path.parts and ":" in path.parts[0]):
                raise UserError(f"{name}: {member}: a path outside the archive / chemin hors de l'archive", http_status=400)
            if entry.is_dir() or "__MACOSX" in path.parts or path.name.startswith("."):
                continue
            if path.name.lower().endswith(".zip"):
                raise UserError(f"{name}: {member}: a zip inside the zip is not accepted / zip imbriqué refusé",
                                http_status=400)
            if path.name.lower() not in COLUMNS:
                continue  # a README, a spreadsheet: not the template's, not read
            if entry.flag_bits & 0x1:
                raise UserError(f"{name}: {member}: encrypted / chiffré", http_status=400)
            if entry.compress_type not in ZIP_METHODS:
                # zipfile hands bzip2 and LZMA no output bound: one read inflates the whole member
                method = ZIP_METHOD_NAMES.get(entry.compress_type, f"method {entry.compress_type}")
                raise UserError(f"{name}: {member}: compressed with {method}; only stored or deflate (what every zip "
                                f"tool writes by default) is accepted / compression {method} refusée : seuls les zip "
                                f"sans compression ou en deflate (la compression habituelle) sont acceptés",
                                http_status=415)
            chunks, size = [], 0
            try:
                with archive.open(entry) as stream:
                    while size <= budget[0]:  # deflate in small pieces: at most the budget plus one piece
                        chunk = stream.read(ZIP_READ_CHUNK)
                        if not chunk:
                            break
                        chunks.append(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError) as exc:
                reason = str(exc) or type(exc).__name__
                raise UserError(f"{name}: {member}: unreadable ({reason}) / illisible ({reason})", http_status=400) from None
            budget[0] -= size
            if budget[0] < 0:
                raise UserError(f"{name}: more than {UPLOAD_LIMIT // (1024 * 1024)} MB once uncompressed / plus de "
                                f"{UPLOAD_LIMIT // (1024 * 1024)} Mo une fois décompressé", http_status=413)
            yield member, b"".join(chunks)
