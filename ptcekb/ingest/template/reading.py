"""Reading a template's CSV files: physical line numbers, broken quoting reported and skipped.

A broken record is reported at the line where it starts and reading resumes on the next line.
Every reason is said in English (the command line prints it) and French (``Reject.problems``).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ...errors import UserError
from .schema import COLUMNS, REQUIRED, Reject, Said, said

# The template's files have at most a few dozen columns (schema.COLUMNS): a header with more is
# refused before anything is checked per column (a 120 KB header holds 60,000 names).
MAX_COLUMNS = 200

_LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


class _LineFeed:
    """Physical lines handed to csv.reader one at a time, so that we know where each record starts."""

    def __init__(self, lines: list[str]):
        self.lines = lines
        self.pos = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


@dataclass
class _Record:
    line: int                   # physical line where the record starts (1-based)
    fields: list[str] | None    # None when the record could not be parsed
    error: Said | None = None   # why, in English and French
    lines: int = 1              # number of physical lines it spans


class _Records:
    """The records of a CSV text, each with the physical line where it starts.

    Broken quoting is reported as a record without fields, and reading resumes on the next physical
    line. Once ``expected`` (the header's column count) is set, a record spanning several lines
    with another number of fields is taken for an unclosed quote: it is reported at its first line
    and reading resumes on the line after it.
    """

    def __init__(self, content: str):
        self.lines = _LINES.findall(content)
        self.expected: int | None = None

    def __iter__(self) -> Iterator[_Record]:
        feed = _LineFeed(self.lines)
        reader = csv.reader(feed, strict=True)
        while True:
            start = feed.pos
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield _Record(start + 1, None, _quoting(str(exc), feed.pos >= len(self.lines), feed.pos - start, feed.pos))
                feed.pos = start + 1  # resume on the next physical line
                reader = csv.reader(feed, strict=True)
                continue
            spanned = feed.pos - start
            if self.expected is not None and spanned > 1 and fields and len(fields) != self.expected:
                yield _Record(start + 1, None, said(
                    f"broken CSV quoting: a quoted field opened on this line runs over {spanned} lines and the "
                    f"record has {len(fields)} fields, not {self.expected}",
                    f"guillemets CSV mal fermés : un champ entre guillemets ouvert sur cette ligne s'étend sur "
                    f"{spanned} lignes et l'enregistrement a {len(fields)} champs au lieu de {self.expected}"))
                feed.pos = start + 1
                reader = csv.reader(feed, strict=True)
                continue
            yield _Record(start + 1, fields, lines=spanned)


def _quoting(message: str, at_end: bool, spanned: int, error_line: int) -> Said:
    """The reason for a record the csv module refused (``message``), in English and French."""
    if "end of data" in message or at_end:
        en, fr = ("a quoted field opened on this line is never closed",
                  "un champ entre guillemets ouvert sur cette ligne n'est jamais fermé")
    elif spanned > 1:
        en, fr = (f"a quoted field opened on this line is not closed properly (error on line {error_line})",
                  f"un champ entre guillemets ouvert sur cette ligne n'est pas fermé correctement "
                  f"(erreur à la ligne {error_line})")
    elif "expected after" in message:
        en, fr = ("a closing quote must be followed by a comma or the end of the line",
                  "un guillemet fermant doit être suivi d'une virgule ou de la fin de la ligne")
    elif limit := re.match(r"field larger than field limit \((\d+)\)", message):
        en, fr = message, f"un champ dépasse la taille permise ({limit.group(1)} caractères)"
    else:  # a message of the csv module not foreseen here: quoted as it is
        en, fr = message, f"enregistrement illisible ({message})"
    return said(f"broken CSV quoting: {en}", f"guillemets CSV mal fermés : {fr}")


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror or exc}", exit_code=2) from None
    return decode(raw, str(path))


def decode(raw: bytes, where: str) -> str:
    """The text of a template file (UTF-8, a BOM accepted); ``where`` names it in the error."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UserError(f"{where}:{line}: not UTF-8 (save the file as CSV UTF-8) / pas en UTF-8 "
                        f"(enregistrez le fichier au format CSV UTF-8)", exit_code=2) from None


@dataclass
class Table:
    name: str
    header: list[str]
    rows: list[tuple[int, dict[str, str]]]      # (line, values) of well-formed rows
    rejects: list[Reject]
    readable: bool                              # False when the header is unusable: no row is read


def read_table(path: Path, name: str) -> Table:
    return read_text_table(_read_text(path), name)


def read_text_table(content: str, name: str) -> Table:
    """The table of a template file's text (what :func:`read_table` reads from a file)."""
    records = _Records(content)
    stream = iter(records)
    rejects: list[Reject] = []
    header: list[str] | None = None
    for record in stream:
        if record.fields is None:
            return Table(name, [], [], [Reject(name, record.line, f"header: {record.error['en']}", (
                ("", said(f"header: {record.error['en']}", f"en-tête : {record.error['fr']}")),))], False)
        if not any(f.strip() for f in record.fields):
            continue
        header = [f.strip().lower() for f in record.fields]
        header_line = record.line
        break
    if header is None:
        return Table(name, [], [], [], True)  # empty file: no rows
    if len(header) > MAX_COLUMNS:
        reason = said(f"header: {len(header)} columns, {MAX_COLUMNS} at most (the template has {len(COLUMNS[name])}); "
                      f"no row of this file was read",
                      f"en-tête : {len(header)} colonnes, {MAX_COLUMNS} au plus (le gabarit en a "
                      f"{len(COLUMNS[name])}) ; aucune ligne de ce fichier n'a été lue")
        return Table(name, [], [], [Reject(name, header_line, reason["en"], (("", reason),))], False)

    problems: list[tuple[str, Said]] = []  # (the columns it is about, the problem)
    unknown = [c for c in header if c and c not in COLUMNS[name]]
    if unknown:
        known = ", ".join(COLUMNS[name])
        problems.append((", ".join(unknown), said(f"unknown column(s) {', '.join(unknown)} (known columns: {known})",
                                                 f"colonne(s) inconnue(s) {', '.join(unknown)} (colonnes connues : {known})")))
    if "" in header:
        number = header.index("") + 1
        problems.append(("", said(f"column {number} has no name", f"la colonne {number} n'a pas de nom")))
    duplicates = sorted(c for c, n in Counter(header).items() if c and n > 1)  # one pass
    if duplicates:
        problems.append((", ".join(duplicates), said(f"duplicate column(s) {', '.join(duplicates)}",
                                                     f"colonne(s) en double {', '.join(duplicates)}")))
    missing = [c for c in REQUIRED[name] if c not in header]
    if missing:
        problems.append((", ".join(missing), said(f"missing required column(s) {', '.join(missing)}",
                                                  f"colonne(s) obligatoire(s) manquante(s) {', '.join(missing)}")))

    records.expected = len(header)
    raw_rows: list[tuple[int, dict[str, str]]] = []
    for record in stream:
        if record.fields is None:
            rejects.append(Reject(name, record.line, record.error["en"], (("", record.error),)))
            continue
        if not any(f.strip() for f in record.fields):
            continue
        if len(record.fields) != len(header):
            reason = said(f"{len(record.fields)} fields, but the header has {len(header)} columns",
                          f"{len(record.fields)} champs, mais l'en-tête a {len(header)} colonnes")
            rejects.append(Reject(name, record.line, reason["en"], (("", reason),)))
            continue
        values = {c: v.strip() for c, v in zip(header, record.fields) if c}
        raw_rows.append((record.line, values))
    if problems:
        detail = "; ".join(problem["en"] for _, problem in problems)
        unread = said(f"the {len(raw_rows)} data row(s) of this file were not read",
                      f"{len(raw_rows)} ligne(s) de données de ce fichier non lue(s)")
        rejects.insert(0, Reject(name, header_line, f"header: {detail}; {unread['en']}", tuple(
            (columns, said(f"header: {problem['en']}", f"en-tête : {problem['fr']}")) for columns, problem in problems
        ) + (("", unread),)))
        return Table(name, header, raw_rows, rejects, False)
    return Table(name, header, raw_rows, rejects, True)


