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
