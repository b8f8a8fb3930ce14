"""SIREN and SIRET numbers: format and check-digit rules (NOTES.md §3).

* SIREN: 9 digits; the last is a Luhn check digit.
* SIRET: the SIREN followed by a 5-digit NIC (14 digits); the whole number passes the Luhn check,
  except for La Poste (SIREN 356000000), whose thousands of establishments outgrew the Luhn key:
  its SIRETs are valid when the sum of their 14 digits is a multiple of 5 (the head office,
  35600000000048, passes the Luhn check instead, so either rule is accepted for La Poste).

Each ``*_reasons`` function returns ``None`` for a valid number, or a short reason in English and
French (``{"en": …, "fr": …}``, for ``labels.pick``) that callers put after the value: the publisher
template shows it in the reader's language. ``*_problem`` is its English text (SIRENE ingestion's
rejects file, the command line).
Numbers are checked as written: callers decide whether to strip spaces first (see ``compact``).
"""

from __future__ import annotations

import re

LA_POSTE_SIREN = "356000000"

_DIGITS = re.compile(r"^[0-9]+$")
_SPACES = re.compile(r"[\s\u00a0\u202f.]+")


def compact(value: str) -> str:
    """Remove the spaces (also non-breaking) and dots people put in numbers: '123 456 782' -> '123456782'."""
    return _SPACES.sub("", value)


_DOUBLED = bytes.maketrans(b"0123456789", b"0246813579")  # a doubled digit, its digits summed (as ASCII)


def luhn_valid(digits: str) -> bool:
    """True if the string of digits passes the Luhn check (every second digit from the right doubled)."""
    if digits.isascii() and digits.isdigit():  # the usual case, ~3x faster (the SIRENE ingest checks millions)
        data = digits.encode("ascii")
        return (sum(data[-1::-2]) + sum(data[-2::-2].translate(_DOUBLED)) - 48 * len(data)) % 10 == 0
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def _format_reasons(value: str, length: int, name: str) -> dict[str, str] | None:
    if not isinstance(value, str) or not value:
        return {"en": f"{name} is empty", "fr": f"le {name} est vide"}
    if not _DIGITS.match(value):
        return {"en": f"{name} must be {length} digits (no letters or signs)",
                "fr": f"le {name} doit compter {length} chiffres (ni lettres ni signes)"}
    if len(value) != length:
        return {"en": f"{name} must be {length} digits, not {len(value)}",
                "fr": f"le {name} doit compter {length} chiffres, et non {len(value)}"}
    return None


def siren_reasons(value: str) -> dict[str, str] | None:
    """Why ``value`` is not a valid SIREN, in English and French, or None."""
    reasons = _format_reasons(value, 9, "SIREN")
    if reasons:
        return reasons
    if not luhn_valid(value):
        return {"en": "SIREN fails the Luhn check (a digit is wrong or two digits are swapped)",
                "fr": "la clé de contrôle du SIREN est fausse (un chiffre est erroné ou deux chiffres sont inversés)"}
    return None


def siret_reasons(value: str) -> dict[str, str] | None:
    """Why ``value`` is not a valid SIRET, in English and French, or None (La Poste's SIRETs follow
    their own rule)."""
    reasons = _format_reasons(value, 14, "SIRET")
    if reasons:
        return reasons
    if value[:9] == LA_POSTE_SIREN:
        if luhn_valid(value) or sum(ord(c) - 48 for c in value) % 5 == 0:
            return None
        return {"en": "SIRET of La Poste: the sum of its 14 digits must be a multiple of 5",
                "fr": "SIRET de La Poste : la somme de ses 14 chiffres doit être un multiple de 5"}
    siren = siren_reasons(value[:9])
    if siren:
        return {"en": f"SIRET: its first 9 digits are not a valid SIREN ({siren['en']})",
                "fr": f"SIRET : ses 9 premiers chiffres ne forment pas un SIREN valide ({siren['fr']})"}
    if not luhn_valid(value):
        return {"en": "SIRET fails the Luhn check (a digit of the NIC is wrong)",
                "fr": "la clé de contrôle du SIRET est fausse (un chiffre du NIC est erroné)"}
    return None


def siren_problem(value: str) -> str | None:
    """Why ``value`` is not a valid SIREN (English), or None."""
    reasons = siren_reasons(value)
    return reasons["en"] if reasons else None


def siret_problem(value: str) -> str | None:
    """Why ``value`` is not a valid SIRET (English), or None."""
    reasons = siret_reasons(value)
    return reasons["en"] if reasons else None


def luhn_check_digit(prefix: str) -> str:
    """The digit that makes ``prefix + digit`` pass the Luhn check (to make up test numbers)."""
    for digit in "0123456789":
        if luhn_valid(prefix + digit):
            return digit
    raise AssertionError("unreachable")
