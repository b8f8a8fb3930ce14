"""SIREN and SIRET checks (ptcekb/identifiers.py) on real numbers of INSEE's stock files."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ptcekb.identifiers import LA_POSTE_SIREN, compact, luhn_check_digit, luhn_valid, siren_problem, siret_problem

SIRENE_SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "sirene"  # real rows (SOURCE.txt there)


# Real numbers from tests/fixtures/sirene/ (INSEE open data, see its SOURCE.txt):
# sirene_sample_unitelegale.csv rows 1, 2 and the cooperative "CISN COOPERATIVE";
# sirene_sample_unitelegale_2026schema.csv row 1; sirene_sample_etablissement.csv rows 1 and 2.
REAL_SIRENS = ["005410949", "005420013", "005580113", "016750697"]
REAL_SIRETS = ["00032517500016", "00032517500024"]


@pytest.mark.parametrize("siren", REAL_SIRENS)
def test_real_sirens_pass(siren):
    assert siren_problem(siren) is None


@pytest.mark.parametrize("siret", REAL_SIRETS)
def test_real_sirets_pass(siret):
    assert siret_problem(siret) is None


@pytest.mark.parametrize("number", REAL_SIRENS + REAL_SIRETS)
def test_one_changed_digit_fails(number):
    # Luhn detects every single-digit change: try them all at every position.
    check = siren_problem if len(number) == 9 else siret_problem
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                mutated = number[:position] + digit + number[position + 1:]
                assert check(mutated) is not None, mutated


def test_swapped_adjacent_digits_fail():
    # Luhn detects every swap of two adjacent digits except 0 <-> 9.
    for number in REAL_SIRENS:
        for i in range(8):
            a, b = number[i], number[i + 1]
            if a != b and {a, b} != {"0", "9"}:
                swapped = number[:i] + b + a + number[i + 2:]
                assert "Luhn" in siren_problem(swapped), swapped


def test_format_problems():
    assert "9 digits" in siren_problem("12345678")
    assert "9 digits" in siren_problem("1234567890")
    assert "digits" in siren_problem("00541094A")
    assert "empty" in siren_problem("")
    assert "14 digits" in siret_problem("005410949")
    assert "first 9 digits" in siret_problem("00541094800016")


def test_la_poste_exception():
    # The sum of the digits of 35600000049837 is 3+5+6+4+9+8+3+7 = 45, a multiple of 5, while the
    # Luhn check fails: valid for La Poste only.
    assert not luhn_valid("35600000049837")
    assert siret_problem("35600000049837") is None
    assert siret_problem("35600000049838") is not None  # sum 46
    # La Poste's head office SIRET passes the Luhn check itself.
    assert luhn_valid("35600000000048") and siret_problem("35600000000048") is None
    assert siren_problem(LA_POSTE_SIREN) is None
    # The same digit-sum rule does not make another company's SIRET valid.
    others = [f"005410949{nic:05d}" for nic in range(1, 200)]
    others = [n for n in others if sum(map(int, n)) % 5 == 0 and not luhn_valid(n)]
    assert others and all(siret_problem(n) is not None for n in others)


def test_helpers():
    assert compact("005 410 949") == "005410949"
    assert compact("005\u00a0410\u202f949") == "005410949"
    assert luhn_check_digit("00541094") == "9"


def test_every_sample_number_passes():
    for name, column, check in (("sirene_sample_unitelegale.csv", "siren", siren_problem),
                                ("sirene_sample_unitelegale_2026schema.csv", "siren", siren_problem),
                                ("sirene_sample_etablissement.csv", "siret", siret_problem)):
        with open(SIRENE_SAMPLES / name, encoding="utf-8") as stream:
            numbers = [row[column] for row in csv.DictReader(stream)]
        assert numbers and [n for n in numbers if check(n)] == []


def test_reasons_in_french_and_english():
    """The template's report shows them in the reader's language; ``*_problem`` is the English one."""
    from ptcekb.identifiers import siren_reasons, siret_reasons

    assert siren_reasons(REAL_SIRENS[0]) is None and siret_reasons(REAL_SIRETS[0]) is None
    assert siren_reasons("12345678") == {"en": "SIREN must be 9 digits, not 8", "fr": "le SIREN doit compter 9 chiffres, et non 8"}
    assert siren_reasons("")["fr"] == "le SIREN est vide"
    assert siren_reasons("12345678A")["fr"] == "le SIREN doit compter 9 chiffres (ni lettres ni signes)"
    assert "clé de contrôle du SIREN est fausse" in siren_reasons("123456789")["fr"]
    assert siret_reasons("00541094800016")["fr"].startswith("SIRET : ses 9 premiers chiffres ne forment pas un SIREN valide (")
    assert siret_reasons("35600000049838")["fr"].startswith("SIRET de La Poste")
    for number in ("", "12", "123456789", "00541094800016", "35600000049838", "00032517500017"):
        check, problem = (siren_reasons, siren_problem) if len(number) <= 9 else (siret_reasons, siret_problem)
        assert check(number)["en"] == problem(number) and check(number)["fr"] != problem(number)


def _reference_luhn(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = ord(char) - 48
        if position % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def test_the_fast_luhn_check_agrees_with_the_definition():
    import random

    rng = random.Random(23)
    numbers = ["", "0", "7", "18", "59", *REAL_SIRENS, *REAL_SIRETS, "12a4", "١٢٣"]
    numbers += ["".join(rng.choice("0123456789") for _ in range(rng.choice((1, 2, 8, 9, 13, 14, 15)))) for _ in range(20000)]
    for number in numbers:
        assert luhn_valid(number) == _reference_luhn(number), number
