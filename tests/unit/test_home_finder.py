"""The home page's filters and map, without a store: finder.py's selection, home.py's marker positions."""

from __future__ import annotations

from ptcekb.service.finder import MAX_SEARCH, Catalogue, Option, Ptce, selection
from ptcekb.service.home import centroid, map_shapes


def ptce(name: str, **values) -> Ptce:
    return Ptce(f"x:{name}", f"/id/ptce/{name}", name, (name.casefold(),),
                *(tuple(values.get(k, ())) for k in ("departements", "regions", "calls", "sectors", "years")))


CATALOGUE = Catalogue(
    (ptce("ecopole", departements=["62"], regions=["32"], years=["2009"]), ptce("autre", regions=["76"])),
    {"region": (Option("32", ("Hauts-de-France",) * 2, 1), Option("76", ("Occitanie",) * 2, 1)),
     "departement": (Option("62", ("Pas-de-Calais",) * 2, 1),), "call": (), "sector": (),
     "year": (Option("2009", ("2009",) * 2, 1),)}, {}, {}, {})


def test_a_selection_keeps_known_values_and_says_which_it_ignored():
    chosen = selection(CATALOGUE, {"region": "32", "year": "1789", "call": "", "q": "  ÉCO  "})
    assert chosen.chosen == {"region": "32"} and chosen.unknown == ("year",) and chosen.q == "eco"
    assert [p.name for p in CATALOGUE.ptces if chosen.matches(p)] == ["ecopole"]
    assert not selection(CATALOGUE, {}).active and all(selection(CATALOGUE, {}).matches(p) for p in CATALOGUE.ptces)
    assert len(selection(CATALOGUE, {"q": "a" * 10_000}).q) == MAX_SEARCH


def test_markers_sit_at_the_centroid_of_the_largest_part():
    square = "m 0,0 10,0 0,10 -10,0 z"
    assert centroid(square) == (5.0, 5.0)
    assert centroid(square + " m 20,0 2,0 0,2 -2,0 z") == (5.0, 5.0)  # an islet does not move it
    shapes = {s.code: s for s in map_shapes()}
    assert len(shapes) == 96
    # Paris lies inside the Île-de-France ring, north of Lyon's Rhône, west of Strasbourg's Bas-Rhin.
    assert shapes["92"].centre[0] < shapes["75"].centre[0] < shapes["93"].centre[0]
    assert shapes["69"].centre[1] > shapes["75"].centre[1] and shapes["67"].centre[0] > shapes["75"].centre[0]
