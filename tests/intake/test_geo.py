"""Locations mapped to force areas and Scottish councils."""

from __future__ import annotations

from safeguard.intake import geo
from safeguard.intake.records import Location


def test_table_covers_every_postcode_area() -> None:
    assert len(geo.POSTCODE_AREAS) == 124  # 121 UK areas + GY, JE, IM
    assert len(geo.SCOTTISH_COUNCILS) == 32


def test_postcodes() -> None:
    fife = geo.locate(Location(postcode="ky16 9aj"))
    assert (fife.force, fife.council, fife.force_exact) == ("Police Scotland", "Fife", True)
    glasgow = geo.locate(Location(postcode="G2 1AA"))
    assert (
        glasgow.force == "Police Scotland"
        and glasgow.council is None
        and "Glasgow City" in glasgow.candidates
    )
    coventry = geo.locate(Location(postcode="CV1 2AA"))
    assert (
        coventry.force == "West Midlands"
        and not coventry.force_exact
        and "Warwickshire" in coventry.candidates
    )
    assert geo.locate(Location(postcode="EC1A 1BB")).force == "City of London Police"
    assert geo.locate(Location(postcode="BT1 1AA")).force == "Police Service of Northern Ireland"
    assert geo.locate(Location(postcode="ZZ9 9ZZ")).force is None


def test_councils_by_name_and_town() -> None:
    assert geo.locate(Location(city="Paisley")).council == "Renfrewshire"
    assert geo.locate(Location(council="Glasgow City Council")).council == "Glasgow City"
    assert geo.locate(Location(region="Western Isles")).council == "Na h-Eileanan Siar"
    # a council name refines a postcode area that spans several councils
    refined = geo.locate(Location(postcode="G42 8AB", city="Glasgow"))
    assert (refined.council, refined.label) == ("Glasgow City", "Glasgow City")
    assert geo.locate(Location(city="Springfield")).label == "unknown"


def test_best_of_several_locations() -> None:
    area = geo.locate_all([Location(postcode="CV1 2AA"), Location(postcode="DG1 1AA")])
    assert area.council == "Dumfries and Galloway"
    assert geo.locate_all([]) is geo.UNKNOWN
