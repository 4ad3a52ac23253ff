"""Per-state knowledge of US licence fronts, as data.

:data:`STATES` maps each issuer's two-letter code (50 states, DC and the territories that
issue AAMVA cards) to its printed name, which the reader looks for in the card's header
(:func:`openidv.document.licence_front.find_issuer`).

:data:`GIVEN_NAME_FIRST` lists the issuers whose fronts print the holder's name without
AAMVA field numbers and given name(s) first, on the line above the family name ("CONNOR" /
"SAMPLE"). Everywhere else the unnumbered name lines read family name first, as field 1
above field 2 on the AAMVA design (DL/ID Card Design Standard, 2020, section 3.2). The
entries come from the issuers' published sample cards; a state missing here whose layout is
given-first reads its names swapped, which the barcode cross-check (``name_parts_confused``)
then sends to review rather than failing.
"""

from __future__ import annotations

from enum import StrEnum


class NameOrder(StrEnum):
    """The order of the unnumbered name lines on a licence front, top to bottom."""

    FAMILY_FIRST = "family_first"
    GIVEN_FIRST = "given_first"


STATES: dict[str, str] = {
    "AL": "ALABAMA", "AK": "ALASKA", "AZ": "ARIZONA", "AR": "ARKANSAS", "CA": "CALIFORNIA",
    "CO": "COLORADO", "CT": "CONNECTICUT", "DE": "DELAWARE", "DC": "DISTRICT OF COLUMBIA",
    "FL": "FLORIDA", "GA": "GEORGIA", "HI": "HAWAII", "ID": "IDAHO", "IL": "ILLINOIS",
    "IN": "INDIANA", "IA": "IOWA", "KS": "KANSAS", "KY": "KENTUCKY", "LA": "LOUISIANA",
    "ME": "MAINE", "MD": "MARYLAND", "MA": "MASSACHUSETTS", "MI": "MICHIGAN", "MN": "MINNESOTA",
    "MS": "MISSISSIPPI", "MO": "MISSOURI", "MT": "MONTANA", "NE": "NEBRASKA", "NV": "NEVADA",
    "NH": "NEW HAMPSHIRE", "NJ": "NEW JERSEY", "NM": "NEW MEXICO", "NY": "NEW YORK",
    "NC": "NORTH CAROLINA", "ND": "NORTH DAKOTA", "OH": "OHIO", "OK": "OKLAHOMA", "OR": "OREGON",
    "PA": "PENNSYLVANIA", "RI": "RHODE ISLAND", "SC": "SOUTH CAROLINA", "SD": "SOUTH DAKOTA",
    "TN": "TENNESSEE", "TX": "TEXAS", "UT": "UTAH", "VT": "VERMONT", "VA": "VIRGINIA",
    "WA": "WASHINGTON", "WV": "WEST VIRGINIA", "WI": "WISCONSIN", "WY": "WYOMING",
    "AS": "AMERICAN SAMOA", "GU": "GUAM", "MP": "NORTHERN MARIANA ISLANDS", "PR": "PUERTO RICO",
    "VI": "VIRGIN ISLANDS",
}  # fmt: skip

#: Issuers whose unnumbered name lines read given name(s) first (see the module docstring).
GIVEN_NAME_FIRST: frozenset[str] = frozenset({"AL", "FL"})


def name_order(state: str | None) -> NameOrder:
    """The order of unnumbered name lines on ``state``'s fronts; family first when unknown."""
    return NameOrder.GIVEN_FIRST if state in GIVEN_NAME_FIRST else NameOrder.FAMILY_FIRST
