"""Row checking: the typed accessors of one template row, which collect problems instead of raising
(identifiers, code lists, COG codes, dates, numbers, URLs). Each problem is said in English (the
command line) and French (the validation report in French): ``Row.problem(column, en, fr)``."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

from ...identifiers import compact, siren_reasons, siret_reasons
from ...namespaces import XSD, slugify
from ...rdf import iri, text, typed
from .schema import LANG, REQUIRED, Reference, Said, said

_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_URL = re.compile(r"^https?://[^\s<>\"{}|\\^`]+$")
_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f]+")
_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
ROW_PROBLEMS = 50  # problems kept per row (the template has at most a few dozen columns)
QUOTED_CODES = 10  # unknown codes quoted in a problem; the others are counted
QUOTED_CHARS = 200  # a value quoted in a problem is shortened past this


def shorten(value: str, limit: int = QUOTED_CHARS) -> str:
    """``value`` as a problem quotes it: past ``limit`` characters, its start, an ellipsis and its length."""
    return value if len(value) <= limit else f"{value[:limit]}… ({len(value)} characters/caractères)"


YES = {"oui", "o", "yes", "y", "true", "vrai", "1"}
NO = {"non", "n", "no", "false", "faux", "0"}


class Row:
    """The values of one row, with typed accessors that collect problems instead of raising."""

    def __init__(self, values: dict[str, str], ref: Reference, name: str):
        self.values = values
        self.ref = ref
        self.name = name
        self.problems: list[str] = []  # "column: reason" in English, as the command line prints them
        self.details: list[tuple[str, Said]] = []  # (column, reason in English and French) of each problem
        self.more = 0  # problems past ROW_PROBLEMS: counted, not kept

    def problem(self, column: str, en: str, fr: str) -> None:
        """Record a problem of ``column``, said in English (``en``) and French (``fr``)."""
        if len(self.details) >= ROW_PROBLEMS:  # a cell of 60,000 bad URLs is one row, not 60,000 lines of report
            self.more += 1
            return
        self.problems.append(f"{column}: {en}")
        self.details.append((column, said(en, fr)))

    def reported(self) -> tuple[tuple[str, Said], ...]:
        """The problems as the report shows them: the first ``ROW_PROBLEMS``, and how many more."""
        if not self.more:
            return tuple(self.details)
        return (*self.details, ("", said(f"and {self.more} more problem(s) on this row",
                                         f"et {self.more} autre(s) problème(s) sur cette ligne")))

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def required(self) -> None:
        for column in REQUIRED[self.name]:
            if not self.get(column):
                self.problem(column, "required value is empty", "valeur obligatoire absente")

    def items(self, column: str) -> list[str]:
        return [item.strip() for item in self.get(column).split(";") if item.strip()]

    def slug(self, column: str) -> str | None:
        value = self.get(column)
        if not value:
            return None
        if value != slugify(value):
            self.problem(column, f"{shorten(value)!r} is not a slug (lowercase ASCII letters, digits and hyphens, e.g. {shorten(slugify(value))!r})",
                         f"{shorten(value)!r} n'est pas un identifiant valide (lettres minuscules sans accent, chiffres et "
                         f"tirets, par exemple {shorten(slugify(value))!r})")
            return None
        return value

    def codes(self, column: str, scheme: str, single: bool = False) -> list[str]:
        items = self.items(column)
        if single and len(items) > 1:
            self.problem(column, f"one code only, not {len(items)}", f"un seul code attendu, et non {len(items)}")
            return []
        found, unknown = [], []
        for item in items:
            concept = self.ref.concept(scheme, item)
            if concept is None:
                unknown.append(item)
            else:
                found.append(concept)
        if unknown:  # one problem per column, quoting the code list once (a cell may hold thousands of codes)
            allowed = ", ".join(sorted(self.ref.codes.get(scheme, {})))
            shown = ", ".join(repr(shorten(u)) for u in unknown[:QUOTED_CODES])
            more = len(unknown) - QUOTED_CODES
            if len(unknown) == 1:
                self.problem(column, f"unknown code {shown} (code list {scheme}: {allowed})",
                             f"code inconnu {shown} (liste {scheme} : {allowed})")
            else:
                self.problem(column, f"{len(unknown)} unknown codes {shown}{f' and {more} more' if more > 0 else ''} "
                                     f"(code list {scheme}: {allowed})",
                             f"{len(unknown)} codes inconnus {shown}{f' et {more} autres' if more > 0 else ''} "
                             f"(liste {scheme} : {allowed})")
        return found

    def text(self, column: str) -> ox.Literal | None:
        value = self.get(column)
        return text(value, LANG) if value else None

    def url(self, column: str) -> list[ox.NamedNode]:
        found = []
        for item in self.items(column):
            if not _URL.match(item):
                self.problem(column, f"{shorten(item)!r} is not an absolute http(s) URL",
                             f"{shorten(item)!r} n'est pas une adresse web complète (commençant par http:// ou https://)")
                continue
            try:
                found.append(iri(item))
            except ValueError:
                self.problem(column, f"{shorten(item)!r} is not a valid URL", f"{shorten(item)!r} n'est pas une adresse web valide")
        return found

    def date(self, column: str) -> tuple[str, ox.Literal] | None:
        value = self.get(column)
        if not value:
            return None
        match = _DATE.match(value)
        if not match:
            self.problem(column, f"{shorten(value)!r} is not a date (YYYY, YYYY-MM or YYYY-MM-DD)",
                         f"{shorten(value)!r} n'est pas une date (AAAA, AAAA-MM ou AAAA-MM-JJ)")
            return None
        year, month, day = match.groups()
        try:
            date(int(year), int(month or 1), int(day or 1))
        except ValueError:
            self.problem(column, f"{shorten(value)!r} is not a real date", f"{shorten(value)!r} n'est pas une date réelle")
            return None
        datatype = XSD.date if day else XSD.gYearMonth if month else XSD.gYear
        return value, typed(value, datatype)

    def period(self, start_column: str, end_column: str):
        start, end = self.date(start_column), self.date(end_column)
        if start and end:
            n = min(len(start[0]), len(end[0]))
            if end[0][:n] < start[0][:n]:
                self.problem(end_column, f"{end[0]} is before {start_column} {start[0]}",
                             f"{end[0]} est antérieur à {start_column} {start[0]}")
                return None, None
        return start, end

    def decimal(self, column: str, minimum=None, maximum=None, percent: bool = False) -> Decimal | None:
        value = _NUMBER_SPACES.sub("", self.get(column))
        if not value:
            return None
        scale = Decimal(1)
        if percent and value.endswith("%"):
            value, scale = value[:-1], Decimal(100)
        if "," in value and "." not in value:
            value = value.replace(",", ".")
        if not _DECIMAL.match(value):
            self.problem(column, f"{shorten(self.get(column))!r} is not a number (digits, optional decimal point or comma)",
                         f"{shorten(self.get(column))!r} n'est pas un nombre (des chiffres, avec au besoin une virgule "
                         f"ou un point décimal)")
            return None
        try:
            number = Decimal(value) / scale
        except InvalidOperation:
            self.problem(column, f"{shorten(self.get(column))!r} is not a number", f"{shorten(self.get(column))!r} n'est pas un nombre")
            return None
        if minimum is not None and number < minimum or maximum is not None and number > maximum:
            if maximum is not None:
                self.problem(column, f"{self.get(column)} must be between {minimum} and {maximum}",
                             f"{self.get(column)} doit être compris entre {minimum} et {maximum}")
            else:
                self.problem(column, f"{self.get(column)} must be at least {minimum}",
                             f"{self.get(column)} doit valoir au moins {minimum}")
            return None
        return number

    def integer(self, column: str) -> int | None:
        value = _NUMBER_SPACES.sub("", self.get(column))
        if not value:
            return None
        if not value.isdigit():
            self.problem(column, f"{shorten(self.get(column))!r} is not a whole number ≥ 0",
                         f"{shorten(self.get(column))!r} n'est pas un nombre entier positif ou nul")
            return None
        return int(value)

    def siren(self, column: str) -> str | None:
        value = compact(self.get(column))
        if not value:
            return None
        problem = siren_reasons(value)
        if problem:
            self.identifier_problem(column, self.get(column), problem)
            return None
        return value

    def siret(self, column: str) -> str | None:
        value = compact(self.get(column))
        if not value:
            return None
        problem = siret_reasons(value)
        if problem:
            self.identifier_problem(column, self.get(column), problem)
            return None
        return value

    def identifier_problem(self, column: str, written: str, reasons: Said) -> None:
        """A SIREN or SIRET problem (``identifiers.siren_reasons``...) after the value as written."""
        self.problem(column, f"{shorten(written)!r}: {reasons['en']}", f"{shorten(written)!r} : {reasons['fr']}")

    def commune(self, column: str) -> str | None:
        code = self.get(column).upper()
        if not code:
            return None
        return code if self.check_commune(column, code) else None

    def check_commune(self, column: str, code: str) -> bool:
        if code in self.ref.cog.communes:
            return True
        parent = self.ref.cog.former.get(code)
        if parent:
            self.problem(column, f"{code} is not a current commune in the COG 2026 (it belongs to commune {parent}; use that code)",
                         f"{code} n'est pas une commune en vigueur au COG 2026 (elle fait partie de la commune "
                         f"{parent} : utilisez ce code)")
        elif re.match(r"^\d{5}$|^2[AB]\d{3}$", code):
            self.problem(column, f"unknown commune code {code} in the COG 2026 (the INSEE code, not the postal code)",
                         f"code de commune {code} inconnu au COG 2026 (indiquez le code INSEE, pas le code postal)")
        else:
            self.problem(column, f"{shorten(code)!r} is not a commune code (5 characters, INSEE code, not the postal code)",
                         f"{shorten(code)!r} n'est pas un code de commune (5 caractères : le code INSEE, pas le code postal)")
        return False

    def ptce_reference(self, ptce_ids: set[str]) -> str | None:
        value = self.get("ptce")
        if value and value not in ptce_ids:
            self.problem("ptce", f"unknown PTCE id {shorten(value)!r} (not an id of ptce.csv)",
                         f"identifiant de PTCE inconnu {shorten(value)!r} (absent de la colonne id de ptce.csv)")
            return None
        return value or None

