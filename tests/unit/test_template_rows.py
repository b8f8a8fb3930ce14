"""The row logic of the publisher template (ptcekb/ingest/template/checking.py): typed values and their problems."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ptcekb.ingest.template import Row, load_reference


@pytest.fixture(scope="module")
def reference():
    return load_reference()


def row(reference, sheet: str = "ptce.csv", **values) -> Row:
    return Row(values, reference, sheet)


def test_dates_keep_their_precision(reference):
    r = row(reference, debut="2014", mois="2014-07", jour="2014-07-31")
    assert r.date("debut")[1].datatype.value.endswith("#gYear")
    assert r.date("mois")[1].datatype.value.endswith("#gYearMonth")
    assert r.date("jour")[1].datatype.value.endswith("#date")
    assert r.problems == []


@pytest.mark.parametrize("value, words", [("2014-02-30", "not a real date"), ("31/07/2014", "YYYY"), ("2014-13", "not a real date")])
def test_impossible_or_foreign_dates_are_problems_not_errors(reference, value, words):
    r = row(reference, debut=value)
    assert r.date("debut") is None and len(r.problems) == 1 and words in r.problems[0]


def test_a_period_that_ends_before_it_starts(reference):
    r = row(reference, debut="2020-05", fin="2019")
    assert r.period("debut", "fin") == (None, None) and "before" in r.problems[0]
    assert row(reference, debut="2020", fin="2020-01-15").period("debut", "fin")[1] is not None


@pytest.mark.parametrize("value, options, expected", [
    ("1 234,5", {}, Decimal("1234.5")),
    ("12\u202f000", {}, Decimal("12000")),
    ("45 %", {"percent": True, "minimum": 0, "maximum": 1}, Decimal("0.45")),
    ("0.3", {"minimum": 0, "maximum": 1}, Decimal("0.3")),
])
def test_decimals_as_people_write_them(reference, value, options, expected):
    r = row(reference, part=value)
    assert r.decimal("part", **options) == expected and r.problems == []


@pytest.mark.parametrize("value, options, words", [("abc", {}, "not a number"), ("1.5.2", {}, "not a number"),
                                                   ("150 %", {"percent": True, "minimum": 0, "maximum": 1}, "between")])
def test_bad_decimals(reference, value, options, words):
    r = row(reference, part=value)
    assert r.decimal("part", **options) is None and words in r.problems[0]


def test_integers_urls_and_lists(reference):
    r = row(reference, n="1 200", m="-3", urls="https://a.example/x ; ftp://b.example ; http://c.example/ok")
    assert r.integer("n") == 1200 and r.integer("m") is None
    assert [u.value for u in r.url("urls")] == ["https://a.example/x", "http://c.example/ok"]
    assert [p.split(":")[0] for p in r.problems] == ["m", "urls"]


def test_codes_come_from_the_code_lists(reference):
    scheme, codes = next((s, c) for s, c in sorted(reference.codes.items()) if len(c) > 1)
    first, second = sorted(codes)[:2]
    r = row(reference, code=f"{first}; {second}", bad="pas-un-code", one=f"{first};{second}")
    assert r.codes("code", scheme) == [codes[first], codes[second]]
    assert r.codes("bad", scheme) == [] and "unknown code 'pas-un-code'" in r.problems[0]
    assert r.codes("one", scheme, single=True) == [] and "one code only" in r.problems[1]


def test_slugs_and_required_columns(reference):
    r = row(reference, id="Mon PTCE")
    assert r.slug("id") is None and "'mon-ptce'" in r.problems[0]
    empty = row(reference)
    empty.required()
    assert empty.problems and all("required" in p for p in empty.problems)


def test_communes_resolve_against_the_cog(reference):
    assert row(reference, commune="42218").commune("commune") == "42218"  # Saint-Étienne
    bad = row(reference, commune="99999")
    assert bad.commune("commune") is None and bad.problems


# -- every reason in French too (issue 20 item 5: the validation report speaks the publisher's language)

@pytest.mark.parametrize("values, check, english, french", [
    ({"debut": "2023-13"}, lambda r: r.date("debut"), "'2023-13' is not a real date", "'2023-13' n'est pas une date réelle"),
    ({"debut": "31/07/2014"}, lambda r: r.date("debut"), "(YYYY, YYYY-MM or YYYY-MM-DD)", "(AAAA, AAAA-MM ou AAAA-MM-JJ)"),
    ({"debut": "2020-05", "fin": "2019"}, lambda r: r.period("debut", "fin"), "2019 is before debut 2020-05",
     "2019 est antérieur à debut 2020-05"),
    ({}, lambda r: r.required(), "required value is empty", "valeur obligatoire absente"),
    ({"role": "chef"}, lambda r: r.codes("role", "roles"), "unknown code 'chef' (code list roles: ",
     "code inconnu 'chef' (liste roles : "),
    ({"role": "membre;partenaire"}, lambda r: r.codes("role", "roles", single=True), "one code only, not 2",
     "un seul code attendu, et non 2"),
    ({"id": "Mon PTCE"}, lambda r: r.slug("id"), "is not a slug", "n'est pas un identifiant valide"),
    ({"site": "ftp://a.example"}, lambda r: r.url("site"), "is not an absolute http(s) URL", "n'est pas une adresse web complète"),
    ({"part": "abc"}, lambda r: r.decimal("part"), "'abc' is not a number", "'abc' n'est pas un nombre"),
    ({"part": "150 %"}, lambda r: r.decimal("part", 0, 1, percent=True), "must be between 0 and 1", "doit être compris entre 0 et 1"),
    ({"n": "-3"}, lambda r: r.integer("n"), "is not a whole number", "n'est pas un nombre entier positif ou nul"),
    ({"siren": "123456789"}, lambda r: r.siren("siren"), "'123456789': SIREN fails the Luhn check",
     "'123456789' : la clé de contrôle du SIREN est fausse"),
    ({"siret": "1234"}, lambda r: r.siret("siret"), "'1234': SIRET must be 14 digits, not 4",
     "'1234' : le SIRET doit compter 14 chiffres, et non 4"),
    ({"commune": "26400"}, lambda r: r.commune("commune"), "unknown commune code 26400 in the COG 2026",
     "code de commune 26400 inconnu au COG 2026"),
    ({"ptce": "autre"}, lambda r: r.ptce_reference({"pole"}), "unknown PTCE id 'autre'", "identifiant de PTCE inconnu 'autre'"),
])
def test_every_problem_is_said_in_english_and_french(reference, values, check, english, french):
    """The command line prints ``problems`` (English, unchanged); the report picks from ``details``."""
    r = row(reference, "membres.csv", **values)
    check(r)
    assert r.problems and len(r.problems) == len(r.details)
    for printed, (column, reasons) in zip(r.problems, r.details):
        assert printed == f"{column}: {reasons['en']}"
    assert any(english in reasons["en"] for _, reasons in r.details), r.details
    assert any(french in reasons["fr"] for _, reasons in r.details), r.details


def test_reading_problems_are_said_in_english_and_french():
    """Header and record problems (reading.py): the CLI's English reason, and each problem in both languages."""
    from ptcekb.ingest.template.reading import read_text_table

    table = read_text_table('ptce,nom,type_acteur,nom,couleur\n'
                            'a,b,c,d,e,f\n'
                            'a,"b\n', "membres.csv")
    header, *records = table.rejects
    assert header.reason.startswith("header: unknown column(s) couleur (known columns: ")
    assert "duplicate column(s) nom" in header.reason and header.reason.endswith("the 0 data row(s) of this file were not read")
    french = [reasons["fr"] for _, reasons in header.problems]
    assert french[0].startswith("en-tête : colonne(s) inconnue(s) couleur (colonnes connues : ")
    assert "en-tête : colonne(s) en double nom" in french and french[-1] == "0 ligne(s) de données de ce fichier non lue(s)"
    assert [column for column, _ in header.problems] == ["couleur", "nom", ""]
    assert [(r.line, r.reason) for r in records] == [
        (2, "6 fields, but the header has 5 columns"),
        (3, "broken CSV quoting: a quoted field opened on this line is never closed")]
    assert [r.problems[0][1]["fr"] for r in records] == [
        "6 champs, mais l'en-tête a 5 colonnes",
        "guillemets CSV mal fermés : un champ entre guillemets ouvert sur cette ligne n'est jamais fermé"]


def test_a_header_of_too_many_columns_is_refused_and_duplicates_found_in_one_pass():
    from ptcekb.ingest.template.reading import MAX_COLUMNS, read_text_table

    table = read_text_table("id,nom," + ",".join(["a"] * 60_000) + "\n", "ptce.csv")
    assert not table.readable and not table.rows and len(table.rejects) == 1
    problem = dict(table.rejects[0].problems[0][1])
    assert f"{MAX_COLUMNS} at most" in problem["en"] and f"{MAX_COLUMNS} au plus" in problem["fr"]
    duplicated = read_text_table("id,nom,secteurs,secteurs,nom\np,n,a,b,c\n", "ptce.csv")
    assert not duplicated.readable
    assert "duplicate column(s) nom, secteurs" in duplicated.rejects[0].reason


def test_unknown_codes_of_a_cell_are_one_problem_and_a_row_keeps_50(reference):
    r = row(reference, secteurs=";".join(f"x{i}" for i in range(5000)))
    r.codes("secteurs", "secteurs")
    assert len(r.details) == 1
    column, problem = r.details[0]
    assert column == "secteurs" and "5000 unknown codes" in problem["en"] and "et 4990 autres" in problem["fr"]
    assert len(problem["en"]) < 5000  # the code list is quoted once, not per code
    urls = row(reference, site_web=";".join(f"pas-une-url-{i}" for i in range(300)))
    urls.url("site_web")
    assert len(urls.details) == 50 and urls.more == 250
    assert "250 more" in urls.reported()[-1][1]["en"] and "250 autre" in urls.reported()[-1][1]["fr"]
