"""Locations given in referrals, mapped to a UK police force area and, in Scotland, a local authority.

The lookup is deliberately small and documented (docs/intake.md, "Locations"), not a gazetteer:

- **Postcode area -> force.** All 121 UK postcode areas plus the Crown Dependencies (GY, JE, IM). Many
  areas cross force boundaries; the table names the force covering most of the area and lists the others,
  and the answer is marked ``force_exact=False`` for such areas. Scottish areas are all Police Scotland
  (a single national force), so the force is always exact there.
- **Scottish local authorities.** The 32 council areas by name (and common short forms: "Glasgow",
  "Edinburgh", "Western Isles"), plus a handful of towns; and from the postcode area only where that area
  lies within one council (DG, HS, KY, TD, ZE). Elsewhere the candidate councils are listed.
- Nothing is guessed from IP addresses, and nothing is looked up on the network.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from safeguard.intake.identifiers import fold
from safeguard.intake.records import Location

SCOTLAND = "Police Scotland"
MET = "Metropolitan Police"

# area -> (principal force, other forces covering part of the area)
POSTCODE_AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "AB": (SCOTLAND, ()),
    "AL": ("Hertfordshire", ()),
    "B": ("West Midlands", ("Staffordshire", "Warwickshire", "West Mercia")),
    "BA": ("Avon and Somerset", ("Wiltshire",)),
    "BB": ("Lancashire", ()),
    "BD": ("West Yorkshire", ("North Yorkshire",)),
    "BH": ("Dorset", ("Hampshire",)),
    "BL": ("Greater Manchester", ("Lancashire",)),
    "BN": ("Sussex", ()),
    "BR": (MET, ()),
    "BS": ("Avon and Somerset", ()),
    "BT": ("Police Service of Northern Ireland", ()),
    "CA": ("Cumbria", ("Northumbria", "Police Scotland")),
    "CB": ("Cambridgeshire", ("Essex", "Suffolk")),
    "CF": ("South Wales", ("Gwent",)),
    "CH": ("Cheshire", ("Merseyside", "North Wales")),
    "CM": ("Essex", ("Hertfordshire",)),
    "CO": ("Essex", ("Suffolk",)),
    "CR": (MET, ("Surrey",)),
    "CT": ("Kent", ()),
    "CV": ("West Midlands", ("Warwickshire", "Leicestershire")),
    "CW": ("Cheshire", ()),
    "DA": ("Kent", (MET,)),
    "DD": (SCOTLAND, ()),
    "DE": ("Derbyshire", ("Staffordshire", "Leicestershire")),
    "DG": (SCOTLAND, ()),
    "DH": ("Durham", ("Northumbria",)),
    "DL": ("Durham", ("North Yorkshire",)),
    "DN": ("South Yorkshire", ("Humberside", "Lincolnshire", "Nottinghamshire")),
    "DT": ("Dorset", ()),
    "DY": ("West Midlands", ("West Mercia", "Staffordshire")),
    "E": (MET, ()),
    "EC": ("City of London Police", (MET,)),
    "EH": (SCOTLAND, ()),
    "EN": (MET, ("Hertfordshire",)),
    "EX": ("Devon and Cornwall", ("Avon and Somerset",)),
    "FK": (SCOTLAND, ()),
    "FY": ("Lancashire", ()),
    "G": (SCOTLAND, ()),
    "GL": ("Gloucestershire", ("Wiltshire", "Thames Valley")),
    "GU": ("Surrey", ("Hampshire", "Sussex")),
    "HA": (MET, ()),
    "HD": ("West Yorkshire", ()),
    "HG": ("North Yorkshire", ()),
    "HP": ("Thames Valley", ("Hertfordshire",)),
    "HR": ("West Mercia", ()),
    "HS": (SCOTLAND, ()),
    "HU": ("Humberside", ()),
    "HX": ("West Yorkshire", ()),
    "IG": (MET, ("Essex",)),
    "IP": ("Suffolk", ("Norfolk",)),
    "IV": (SCOTLAND, ()),
    "KA": (SCOTLAND, ()),
    "KT": (MET, ("Surrey",)),
    "KW": (SCOTLAND, ()),
    "KY": (SCOTLAND, ()),
    "L": ("Merseyside", ()),
    "LA": ("Lancashire", ("Cumbria", "North Yorkshire")),
    "LD": ("Dyfed-Powys", ()),
    "LE": ("Leicestershire", ()),
    "LL": ("North Wales", ("Dyfed-Powys",)),
    "LN": ("Lincolnshire", ()),
    "LS": ("West Yorkshire", ("North Yorkshire",)),
    "LU": ("Bedfordshire", ()),
    "M": ("Greater Manchester", ()),
    "ME": ("Kent", ()),
    "MK": ("Thames Valley", ("Bedfordshire", "Northamptonshire")),
    "ML": (SCOTLAND, ()),
    "N": (MET, ()),
    "NE": ("Northumbria", ("Durham",)),
    "NG": ("Nottinghamshire", ("Lincolnshire", "Leicestershire")),
    "NN": ("Northamptonshire", ()),
    "NP": ("Gwent", ("Dyfed-Powys",)),
    "NR": ("Norfolk", ("Suffolk",)),
    "NW": (MET, ()),
    "OL": ("Greater Manchester", ("West Yorkshire",)),
    "OX": ("Thames Valley", ("Warwickshire", "Gloucestershire")),
    "PA": (SCOTLAND, ()),
    "PE": ("Cambridgeshire", ("Lincolnshire", "Norfolk", "Northamptonshire", "Leicestershire")),
    "PH": (SCOTLAND, ()),
    "PL": ("Devon and Cornwall", ()),
    "PO": ("Hampshire", ("Sussex",)),
    "PR": ("Lancashire", ("Merseyside",)),
    "RG": ("Thames Valley", ("Hampshire",)),
    "RH": ("Surrey", ("Sussex",)),
    "RM": (MET, ("Essex",)),
    "S": ("South Yorkshire", ("Derbyshire", "Nottinghamshire")),
    "SA": ("South Wales", ("Dyfed-Powys",)),
    "SE": (MET, ()),
    "SG": ("Hertfordshire", ("Bedfordshire", "Cambridgeshire")),
    "SK": ("Greater Manchester", ("Cheshire", "Derbyshire")),
    "SL": ("Thames Valley", ()),
    "SM": (MET, ("Surrey",)),
    "SN": ("Wiltshire", ("Thames Valley", "Gloucestershire")),
    "SO": ("Hampshire", ()),
    "SP": ("Wiltshire", ("Hampshire", "Dorset")),
    "SR": ("Northumbria", ("Durham",)),
    "SS": ("Essex", ()),
    "ST": ("Staffordshire", ("Cheshire",)),
    "SW": (MET, ()),
    "SY": ("West Mercia", ("Dyfed-Powys", "North Wales")),
    "TA": ("Avon and Somerset", ("Devon and Cornwall",)),
    "TD": (SCOTLAND, ("Northumbria",)),
    "TF": ("West Mercia", ()),
    "TN": ("Kent", ("Sussex",)),
    "TQ": ("Devon and Cornwall", ()),
    "TR": ("Devon and Cornwall", ()),
    "TS": ("Cleveland", ("Durham", "North Yorkshire")),
    "TW": (MET, ("Surrey",)),
    "UB": (MET, ()),
    "W": (MET, ()),
    "WA": ("Cheshire", ("Merseyside", "Greater Manchester")),
    "WC": (MET, ()),
    "WD": ("Hertfordshire", (MET,)),
    "WF": ("West Yorkshire", ()),
    "WN": ("Greater Manchester", ("Merseyside",)),
    "WR": ("West Mercia", ()),
    "WS": ("West Midlands", ("Staffordshire",)),
    "WV": ("West Midlands", ("Staffordshire", "West Mercia")),
    "YO": ("North Yorkshire", ("Humberside",)),
    "ZE": (SCOTLAND, ()),
    "GY": ("States of Guernsey Police", ()),
    "JE": ("States of Jersey Police", ()),
    "IM": ("Isle of Man Constabulary", ()),
}

SCOTTISH_COUNCILS = (
    "Aberdeen City",
    "Aberdeenshire",
    "Angus",
    "Argyll and Bute",
    "City of Edinburgh",
    "Clackmannanshire",
    "Dumfries and Galloway",
    "Dundee City",
    "East Ayrshire",
    "East Dunbartonshire",
    "East Lothian",
    "East Renfrewshire",
    "Falkirk",
    "Fife",
    "Glasgow City",
    "Highland",
    "Inverclyde",
    "Midlothian",
    "Moray",
    "Na h-Eileanan Siar",
    "North Ayrshire",
    "North Lanarkshire",
    "Orkney Islands",
    "Perth and Kinross",
    "Renfrewshire",
    "Scottish Borders",
    "Shetland Islands",
    "South Ayrshire",
    "South Lanarkshire",
    "Stirling",
    "West Dunbartonshire",
    "West Lothian",
)

# Short forms and towns people write instead of the council's name.
_COUNCIL_ALIASES = {
    "aberdeen": "Aberdeen City",
    "edinburgh": "City of Edinburgh",
    "glasgow": "Glasgow City",
    "dundee": "Dundee City",
    "western isles": "Na h-Eileanan Siar",
    "eilean siar": "Na h-Eileanan Siar",
    "comhairle nan eilean siar": "Na h-Eileanan Siar",
    "orkney": "Orkney Islands",
    "shetland": "Shetland Islands",
    "borders": "Scottish Borders",
    "perth": "Perth and Kinross",
    "inverness": "Highland",
    "fort william": "Highland",
    "paisley": "Renfrewshire",
    "greenock": "Inverclyde",
    "kilmarnock": "East Ayrshire",
    "ayr": "South Ayrshire",
    "irvine": "North Ayrshire",
    "motherwell": "North Lanarkshire",
    "hamilton": "South Lanarkshire",
    "east kilbride": "South Lanarkshire",
    "livingston": "West Lothian",
    "kirkcaldy": "Fife",
    "dunfermline": "Fife",
    "st andrews": "Fife",
    "dumfries": "Dumfries and Galloway",
    "elgin": "Moray",
    "oban": "Argyll and Bute",
    "alloa": "Clackmannanshire",
    "clydebank": "West Dunbartonshire",
    "dumbarton": "West Dunbartonshire",
    "arbroath": "Angus",
    "forfar": "Angus",
    "stornoway": "Na h-Eileanan Siar",
    "lerwick": "Shetland Islands",
    "kirkwall": "Orkney Islands",
    "galashiels": "Scottish Borders",
    "haddington": "East Lothian",
    "dalkeith": "Midlothian",
    "bearsden": "East Dunbartonshire",
    "giffnock": "East Renfrewshire",
    "grangemouth": "Falkirk",
}

# Scottish postcode area -> council areas it lies in (one name: exact).
_SCOTTISH_AREA_COUNCILS: dict[str, tuple[str, ...]] = {
    "AB": ("Aberdeen City", "Aberdeenshire", "Moray"),
    "DD": ("Dundee City", "Angus", "Perth and Kinross", "Fife"),
    "DG": ("Dumfries and Galloway",),
    "EH": ("City of Edinburgh", "East Lothian", "Midlothian", "West Lothian", "Scottish Borders", "Falkirk"),
    "FK": ("Falkirk", "Stirling", "Clackmannanshire", "Perth and Kinross", "North Lanarkshire"),
    "G": (
        "Glasgow City",
        "East Dunbartonshire",
        "East Renfrewshire",
        "North Lanarkshire",
        "South Lanarkshire",
        "West Dunbartonshire",
        "Renfrewshire",
    ),
    "HS": ("Na h-Eileanan Siar",),
    "IV": ("Highland", "Moray"),
    "KA": ("East Ayrshire", "North Ayrshire", "South Ayrshire"),
    "KW": ("Highland", "Orkney Islands"),
    "KY": ("Fife",),
    "ML": ("North Lanarkshire", "South Lanarkshire"),
    "PA": ("Renfrewshire", "Inverclyde", "Argyll and Bute", "Highland", "East Renfrewshire"),
    "PH": ("Perth and Kinross", "Highland", "Argyll and Bute"),
    "TD": ("Scottish Borders",),
    "ZE": ("Shetland Islands",),
}

_COUNCIL_BY_NAME = {fold(name): name for name in SCOTTISH_COUNCILS} | {
    fold(k): v for k, v in _COUNCIL_ALIASES.items()
}
_POSTCODE = re.compile(r"^([A-Z]{1,2})[0-9]")


@dataclass(frozen=True, slots=True)
class Area:
    force: str | None
    council: str | None  # Scottish local authority, when known
    force_exact: bool  # False when the postcode area spans several forces
    candidates: tuple[str, ...] = ()  # the other forces (or, in Scotland, the councils) it may be
    basis: str = ""  # what the answer was read from

    @property
    def label(self) -> str:
        """The area figures are grouped by: the council in Scotland, else the force, else "unknown"."""
        return self.council or self.force or "unknown"


UNKNOWN = Area(None, None, False, (), "no location given")


def postcode_area(postcode: str) -> str | None:
    match = _POSTCODE.match(re.sub(r"\s+", "", postcode.upper()))
    if match is None:
        return None
    # One-letter areas (B, E, G, L, M, N, S, W) are followed by a digit; "BT1" is area BT.
    letters = match.group(1)
    return letters if letters in POSTCODE_AREAS else None


def council_from_name(name: str) -> str | None:
    text = fold(name).strip()
    text = re.sub(r"\s+(council|city council|and district)$", "", text)
    return _COUNCIL_BY_NAME.get(text)


def locate(location: Location) -> Area:
    """The force area (and Scottish council) of one location, from the most specific field given."""
    council = None
    for text in (location.council, location.city, location.region):
        if text and (council := council_from_name(text)):
            break
    area_code = postcode_area(location.postcode) if location.postcode else None
    if area_code is not None:
        force, others = POSTCODE_AREAS[area_code]
        if force == SCOTLAND:
            councils = _SCOTTISH_AREA_COUNCILS.get(area_code, ())
            if council is None and len(councils) == 1:
                council = councils[0]
            return Area(SCOTLAND, council, True, () if council else councils, f"postcode area {area_code}")
        return Area(force, None, not others, others, f"postcode area {area_code}")
    if council is not None:
        return Area(SCOTLAND, council, True, (), "council or town name")
    return UNKNOWN


def locate_all(locations: tuple[Location, ...] | list[Location]) -> Area:
    """The best area among several locations: one naming a council, then an exact force, then any force."""
    areas = [locate(location) for location in locations]
    for wanted in (lambda a: a.council is not None, lambda a: a.force_exact, lambda a: a.force is not None):
        found = next((area for area in areas if wanted(area)), None)
        if found is not None:
            return found
    return UNKNOWN
