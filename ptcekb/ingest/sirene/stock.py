"""Stock reading: INSEE's SIRENE stock CSV files (plain or zipped) streamed as bytes, rows selected.

A row that is dropped (about 96 % of them) costs one ``rsplit`` of its last columns and two
comparisons; only kept rows are split and decoded and handed to the row mapping
(:class:`~.rows.Writer`). Lines with a double quote (rare) go through the ``csv`` module,
multi-line quoted fields included. Columns are found by name, so every INSEE layout is read.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from ...errors import UserError
from ...identifiers import siren_problem
from ..cog import normalise_name
from .rows import Reference, Rejects, Writer

CHUNK = 16 << 20                     # bytes read from a stock file at a time
MAX_RECORD_LINES = 20                # a quoted field open for more lines than this is a broken line

# Columns read by name. Required ones must be in the header; the others may be missing (older layouts).
UNIT_REQUIRED = ("siren", "categorieJuridiqueUniteLegale", "economieSocialeSolidaireUniteLegale")
UNIT_OPTIONAL = (
    "statutDiffusionUniteLegale", "dateCreationUniteLegale", "sigleUniteLegale", "trancheEffectifsUniteLegale",
    "anneeEffectifsUniteLegale", "etatAdministratifUniteLegale", "denominationUniteLegale",
    "denominationUsuelle1UniteLegale", "denominationUsuelle2UniteLegale", "denominationUsuelle3UniteLegale",
    "activitePrincipaleUniteLegale", "nomenclatureActivitePrincipaleUniteLegale", "nicSiegeUniteLegale",
    "societeMissionUniteLegale",
)
ESTABLISHMENT_REQUIRED = ("siren", "siret")
ESTABLISHMENT_OPTIONAL = (
    "statutDiffusionEtablissement", "trancheEffectifsEtablissement", "codePostalEtablissement",
    "codeCommuneEtablissement", "coordonneeLambertAbscisseEtablissement", "coordonneeLambertOrdonneeEtablissement",
    "etatAdministratifEtablissement", "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement",
)


class StockFile:
    """A SIRENE stock CSV, plain or as the only .csv member of a zip, read as bytes in chunks."""

    def __init__(self, path: Path, kind: str):
        self.path, self.kind = Path(path), kind
        if not self.path.exists():
            raise UserError(f"{path}: no such file / fichier introuvable", exit_code=2)
        if self.path.is_dir():
            raise UserError(f"{path}: is a directory, not a SIRENE stock file / répertoire", exit_code=2)
        self._zip = None
        self.member = self.path.name
        if zipfile.is_zipfile(self.path):
            try:
                self._zip = zipfile.ZipFile(self.path)
                members = [m for m in self._zip.namelist() if m.lower().endswith(".csv")]
            except (zipfile.BadZipFile, OSError) as exc:
                raise UserError(f"{path}: unreadable zip file: {exc}", exit_code=2) from None
            if len(members) != 1:
                raise UserError(f"{path}: the zip must hold exactly one .csv file, not {len(members)} / "
                                f"le zip doit contenir un seul fichier .csv", exit_code=2)
            self.member = members[0]

    def open(self) -> BinaryIO:
        try:
            return self._zip.open(self.member) if self._zip is not None else open(self.path, "rb")
        except (OSError, zipfile.BadZipFile, RuntimeError) as exc:
            raise UserError(f"{self.path}: cannot read: {exc}", exit_code=2) from None

    def chunks(self) -> Iterator[list[bytes]]:
        """Lists of complete lines (without their end of line), header included."""
        with self.open() as stream:
            rest = b""
            crlf = None
            while True:
                try:
                    block = stream.read(CHUNK)
                except (OSError, zipfile.BadZipFile, EOFError) as exc:
                    raise UserError(f"{self.path}: read error (truncated or corrupt file?): {exc}", exit_code=2) from None
                if not block:
                    break
                block = rest + block
                cut = block.rfind(b"\n")
                if cut < 0:
                    rest = block
                    continue
                rest, block = block[cut + 1:], block[:cut]
                if crlf is None:
                    crlf = b"\r\n" in block
                if crlf:
                    block = block.replace(b"\r", b"")
                yield block.split(b"\n")
            if rest.strip():
                yield [rest.replace(b"\r", b"")]

    def header(self, first_line: bytes, required: tuple[str, ...], what: str) -> dict[str, int]:
        try:
            names = next(csv.reader([first_line.decode("utf-8-sig")]))
        except (UnicodeDecodeError, csv.Error, StopIteration):
            raise UserError(f"{self.path}: line 1 is not a CSV header in UTF-8 / en-tête illisible", exit_code=2) from None
        columns = {name.strip(): i for i, name in enumerate(names)}
        missing = [c for c in required if c not in columns]
        if missing:
            raise UserError(f"{self.path}: not a SIRENE {what} stock file: missing column(s) {', '.join(missing)} / "
                            f"ce n'est pas un fichier stock SIRENE des {what_fr(what)}", exit_code=2)
        return columns


def what_fr(what: str) -> str:
    return {"legal-unit": "unités légales (StockUniteLegale)", "establishment": "établissements (StockEtablissement)"}[what]



def _records(stock: StockFile, lines: list[bytes], start: int, pending: list, rejects: Rejects,
             expected: int) -> Iterator[tuple[int, list[str]]]:
    """Records of the lines that need the csv module (a double quote), multi-line fields included.

    ``pending`` holds (line number, bytes) of an open quoted record carried over from previous
    lines; it is updated in place. A record that cannot be read is rejected at its first line and
    reading resumes on the line after it.
    """
    for offset, line in enumerate(lines):
        pending.append((start + offset, line))
        raw = b"\n".join(piece for _, piece in pending)
        if raw.count(b'"') % 2 and len(pending) < MAX_RECORD_LINES:
            continue  # a quoted field is still open: the record goes on on the next line
        span = list(pending)
        pending.clear()
        first = span[0][0]
        problem = None
        try:
            fields = next(csv.reader(io.StringIO(raw.decode("utf-8")), strict=True))
            if len(fields) != expected:
                problem = f"{len(fields)} fields, but the header has {expected} columns"
        except UnicodeDecodeError:
            problem = "not UTF-8"
        except (csv.Error, StopIteration) as exc:
            problem = f"broken CSV quoting ({exc})"
        if problem is None:
            yield first, fields
            continue
        if len(span) > 1:
            problem = f"a quoted field opened on this line is not closed properly; {problem}"
        rejects.add(stock.path.name, first, raw[:9].decode("ascii", "replace"), "broken line", problem)
        if len(span) > 1:  # resume on the line after the first one
            yield from _records(stock, [piece for _, piece in span[1:]], span[1][0], pending, rejects, expected)


def _scan(stock: StockFile, first: list[bytes], chunks: Iterator[list[bytes]], ncols: int, rejects: Rejects,
          fast, slow, flush, progress: Callable[[int], None] | None = None) -> int:
    """Feed every data line to ``fast(lines, i, start) -> next index`` (quote-free lines and one-line
    quoted records), or, while a quoted field runs over several lines, to ``slow(line, fields)``;
    ``progress(rows so far)`` after each chunk. Return the number of non-empty data lines."""
    pending: list = []
    number = 1
    rows = 0

    def lines_of() -> Iterator[list[bytes]]:
        yield first[1:]
        yield from chunks

    for lines in lines_of():
        start = number + 1
        number += len(lines)
        rows += sum(1 for line in lines if line)
        i, n = 0, len(lines)
        while i < n:
            if pending:
                for line_no, fields in _records(stock, [lines[i]], start + i, pending, rejects, ncols):
                    slow(line_no, fields)
                i += 1
            else:
                i = fast(lines, i, start, pending)
        flush()
        if progress is not None:
            progress(rows)
    while pending:  # a quoted field still open at the end of the file: reject its line, read the next ones
        span = list(pending)
        pending.clear()
        rejects.add(stock.path.name, span[0][0], span[0][1][:9].decode("ascii", "replace"), "broken line",
                    "a quoted field opened on this line is never closed")
        if len(span) > 1:
            for line_no, fields in _records(stock, [piece for _, piece in span[1:]], span[1][0], pending, rejects, ncols):
                slow(line_no, fields)
    flush()
    return rows


def _start_reading(stock: StockFile, writer: Writer, required: tuple[str, ...],
                   what: str) -> tuple[str, list[bytes], Iterator[list[bytes]], dict[str, int]]:
    """(file name, first chunk of lines, the next chunks, column index by name) of a stock file."""
    writer._file = name = stock.path.name
    chunks = stock.chunks()
    first = next(chunks, None)
    if not first or not first[0].strip():
        raise UserError(f"{stock.path}: empty file / fichier vide", exit_code=2)
    col = stock.header(first[0], required, what)
    writer.summary.layouts[name] = len(col)
    return name, first, chunks, col


def _quoted(stock: StockFile, line: bytes, line_no: int, pending: list, rejects: Rejects, ncols: int, slow) -> bool:
    """Hand a line with a double quote to ``slow`` through the csv module; True while its record
    stays open (a quoted field going on on the next lines)."""
    for number, fields in _records(stock, [line], line_no, pending, rejects, ncols):
        slow(number, fields)
    return bool(pending)


def _split(line: bytes, name: str, line_no: int, ncols: int, rejects: Rejects, id_width: int) -> list[str] | None:
    """The fields of a quote-free line, or None once it is rejected (not UTF-8, wrong field count)."""
    try:
        fields = line.decode("utf-8").split(",")
    except UnicodeDecodeError:
        rejects.add(name, line_no, line[:id_width].decode("ascii", "replace"), "broken line", "not UTF-8")
        return None
    if len(fields) != ncols:
        rejects.add(name, line_no, fields[0][:9], "broken line", f"{len(fields)} fields, but the header has {ncols} columns")
        return None
    return fields


def read_units(stock: StockFile, writer: Writer, ref: Reference, referenced: set[str], rejects: Rejects,
               candidates: dict[str, list], progress: Callable[[int], None] | None = None
               ) -> tuple[set[bytes], set[bytes], dict[str, str]]:
    """Stream the legal units; return the kept SIRENs, the protected ones, and problems of referenced SIRENs."""
    kept: set[bytes] = set()
    protected_set: set[bytes] = set()
    referenced_b = {s.encode() for s in referenced}
    ess_b = {c.encode() for c in ref.ess_categories}
    problems: dict[str, str] = {}
    name, first, chunks, col = _start_reading(stock, writer, UNIT_REQUIRED, "legal-unit")
    ncols = len(col)
    cat_i, ess_i, siren_i = col["categorieJuridiqueUniteLegale"], col["economieSocialeSolidaireUniteLegale"], col["siren"]
    low = min(cat_i, ess_i)
    splits = ncols - low  # rsplit on that many commas: tail[1:] are the columns from `low` on
    cat_t, ess_t = 1 + cat_i - low, 1 + ess_i - low
    name_i = col.get("denominationUniteLegale")
    ess_categories = ref.ess_categories

    def keep(line_no: int, fields: list[str]) -> None:
        siren = fields[siren_i].strip()
        is_referenced = siren in referenced
        problem = siren_problem(siren)
        if problem:
            rejects.add(name, line_no, siren, "invalid SIREN", problem)
            if is_referenced:
                problems[siren] = problem
            return
        writer._line = line_no
        written, protected = writer.unit(fields, col, is_referenced)
        if written:
            kept.add(siren.encode())
            if protected:
                protected_set.add(siren.encode())
            elif candidates and name_i is not None and fields[name_i].strip():
                key = normalise_name(fields[name_i])
                if key in candidates:
                    candidates[key].append(siren)

    def slow(line_no: int, fields: list[str]) -> None:
        if (fields[ess_i].strip() == "O" or fields[cat_i].strip() in ess_categories
                or fields[siren_i].strip() in referenced):
            keep(line_no, fields)

    def fast(lines: list[bytes], i: int, start: int, pending: list) -> int:
        for offset in range(i, len(lines)):
            line = lines[offset]
            if not line:
                continue
            if b'"' in line:
                if _quoted(stock, line, start + offset, pending, rejects, ncols, slow):
                    return offset + 1
                continue
            tail = line.rsplit(b",", splits)
            if len(tail) != splits + 1:
                rejects.add(name, start + offset, line[:9].decode("ascii", "replace"), "broken line",
                            f"{line.count(b',') + 1} fields, but the header has {ncols} columns")
                continue
            if tail[ess_t] == b"O" or tail[cat_t] in ess_b or line[:9] in referenced_b:
                fields = _split(line, name, start + offset, ncols, rejects, 9)
                if fields is not None:
                    keep(start + offset, fields)
        return len(lines)

    writer.summary.unit_rows += _scan(stock, first, chunks, ncols, rejects, fast, slow, writer.flush, progress)
    return kept, protected_set, problems


def read_establishments(stock: StockFile, writer: Writer, kept: set[bytes], protected: set[bytes],
                        referenced_sirets: set[str], rejects: Rejects,
                        progress: Callable[[int], None] | None = None) -> set[str]:
    """Stream the establishments; write those of kept units; return the referenced SIRETs found."""
    found: set[str] = set()
    name, first, chunks, col = _start_reading(stock, writer, ESTABLISHMENT_REQUIRED, "establishment")
    ncols = len(col)
    siren_i, siret_i = col["siren"], col["siret"]

    def keep(line_no: int, fields: list[str]) -> None:
        writer._line = line_no
        if writer.establishment(fields, col, fields[siren_i].strip().encode() in protected):
            siret = fields[siret_i].strip()
            if siret in referenced_sirets:
                found.add(siret)

    def slow(line_no: int, fields: list[str]) -> None:
        if fields[siren_i].strip().encode() in kept:
            keep(line_no, fields)

    def fast(lines: list[bytes], i: int, start: int, pending: list) -> int:
        for offset in range(i, len(lines)):
            line = lines[offset]
            if b'"' in line:  # a quoted SIREN, or a quoted field that may run over the next lines
                if _quoted(stock, line, start + offset, pending, rejects, ncols, slow):
                    return offset + 1
                continue
            if line[:9] not in kept:
                continue
            fields = _split(line, name, start + offset, ncols, rejects, 14)
            if fields is not None:
                keep(start + offset, fields)
        return len(lines)

    writer.summary.establishment_rows += _scan(stock, first, chunks, ncols, rejects, fast, slow, writer.flush, progress)
    return found

