"""The AAMVA data element dictionary (a data table): element IDs, names and versions, date
elements, mandatory elements per version."""

from __future__ import annotations

import re

#: Element ID -> (human name, first AAMVA version that defines it). Versions are the
#: author's best knowledge; they only steer the separator-less splitter (soft penalty).
ELEMENTS: dict[str, tuple[str, int]] = {
    "DAA": ("full name (v01-v03: LAST,FIRST,MIDDLE,SUFFIX)", 1),
    "DAB": ("family name (v01)", 1),
    "DAC": ("first name", 1),
    "DAD": ("middle name(s)", 1),
    "DAE": ("name suffix (v01)", 1),
    "DAF": ("name prefix (v01)", 1),
    "DAG": ("address street 1", 1),
    "DAH": ("address street 2", 1),
    "DAI": ("address city", 1),
    "DAJ": ("address jurisdiction code", 1),
    "DAK": ("address postal code", 1),
    "DAL": ("residence street 1 (v01)", 1),
    "DAM": ("residence street 2 (v01)", 1),
    "DAN": ("residence city (v01)", 1),
    "DAO": ("residence jurisdiction code (v01)", 1),
    "DAP": ("residence postal code (v01)", 1),
    "DAQ": ("customer ID number (licence number)", 1),
    "DAR": ("licence classification code (v01)", 1),
    "DAS": ("licence restriction codes (v01)", 1),
    "DAT": ("licence endorsement codes (v01)", 1),
    "DAU": ("height", 1),
    "DAV": ("height in cm (v01)", 1),
    "DAW": ("weight in pounds", 1),
    "DAX": ("weight in kilograms", 1),
    "DAY": ("eye colour", 1),
    "DAZ": ("hair colour", 1),
    "DBA": ("expiry date", 1),
    "DBB": ("birth date", 1),
    "DBC": ("sex", 1),
    "DBD": ("issue date", 1),
    "DBE": ("issue timestamp (v01)", 1),
    "DBF": ("number of duplicates (v01)", 1),
    "DBG": ("medical indicator codes (v01); alias given name (v04+)", 1),
    "DBH": ("organ donor (v01)", 1),
    "DBI": ("non-resident indicator (v01)", 1),
    "DBJ": ("unique customer identifier (v01)", 1),
    "DBK": ("social security number (v01)", 1),
    "DBL": ("alias birth date", 1),
    "DBM": ("alias social security number (v01)", 1),
    "DBN": ("alias full / family name", 1),
    "DBO": ("alias family name", 1),
    "DBP": ("alias given name", 1),
    "DBQ": ("alias middle name", 1),
    "DBR": ("alias suffix", 1),
    "DBS": ("alias prefix (v01); alias suffix (v04+)", 1),
    "PAA": ("permit classification code (v01)", 1),
    "PAB": ("permit expiry date (v01)", 1),
    "PAC": ("permit identifier (v01)", 1),
    "PAD": ("permit issue date (v01)", 1),
    "PAE": ("permit restriction codes (v01)", 1),
    "PAF": ("permit endorsement codes (v01)", 1),
    "DCA": ("jurisdiction vehicle class", 2),
    "DCB": ("jurisdiction restriction codes", 2),
    "DCD": ("jurisdiction endorsement codes", 2),
    "DCE": ("weight range", 2),
    "DCF": ("document discriminator", 2),
    "DCG": ("country identification", 2),
    "DCH": ("federal commercial vehicle codes", 2),
    "DCI": ("place of birth", 2),
    "DCJ": ("audit information", 2),
    "DCK": ("inventory control number", 2),
    "DCL": ("race / ethnicity", 2),
    "DCM": ("standard vehicle classification", 2),
    "DCN": ("standard endorsement code", 2),
    "DCO": ("standard restriction code", 2),
    "DCP": ("vehicle classification description", 2),
    "DCQ": ("endorsement code description", 2),
    "DCR": ("restriction code description", 2),
    "DCS": ("family name", 2),
    "DCT": ("given names (v02-v03)", 2),
    "DCU": ("name suffix", 2),
    "DDA": ("compliance type", 4),
    "DDB": ("card revision date", 4),
    "DDC": ("HAZMAT endorsement expiry date", 4),
    "DDD": ("limited duration document indicator", 4),
    "DDE": ("family name truncation", 4),
    "DDF": ("first name truncation", 4),
    "DDG": ("middle name truncation", 4),
    "DDH": ("under 18 until", 5),
    "DDI": ("under 19 until", 5),
    "DDJ": ("under 21 until", 5),
    "DDK": ("organ donor indicator", 5),
    "DDL": ("veteran indicator", 7),
}

#: Elements holding a date (in the version's / issuer's date format).
DATE_ELEMENTS = frozenset({"DBA", "DBB", "DBD", "DBL", "DDB", "DDC", "DDH", "DDI", "DDJ", "PAB", "PAD"})

#: Mandatory elements of the DL/ID subfile. ``certain``: missing one fails the check;
#: ``probable``: the author is not sure the version requires it, missing one is inconclusive.
#: A tuple inside ``certain`` means "one of these".
_V04_MANDATORY: tuple[str, ...] = tuple(
    re.findall(r"[A-Z]{3}", "DCA DCB DCD DBA DCS DAC DAD DBD DBB DBC DAY DAU DAG DAI DAJ DAK DAQ DCF DCG DDE DDF DDG")
)
MANDATORY: dict[str, tuple[tuple[str | tuple[str, ...], ...], tuple[str, ...]]] = {
    "v01": (
        (("DAA", "DAB"), "DAG", "DAI", "DAJ", "DAK", "DAQ", "DBA", "DBB", "DBC", "DBD"),
        ("DAR", "DAS", "DAT"),
    ),
    "v02": (
        ("DCA", "DCB", "DCD", "DBA", "DCS", "DCT", "DBD", "DBB", "DBC", "DAG", "DAI", "DAJ", "DAK", "DAQ"),
        ("DAY", "DAU", "DCF", "DCG", "DCH"),
    ),
    "v04": (
        _V04_MANDATORY,
        (),
    ),
}

#: Longest payload accepted (a PDF417 symbol holds at most ~1,850 text characters).
MAX_PAYLOAD_CHARS = 8192


SEPARATORS = "\n\r\x1e"
ID_RE = re.compile(r"[A-Z][A-Z0-9]{2}")


def element_name(element_id: str) -> str:
    """Human name of an element ID (``"DCS"`` -> ``"family name"``); jurisdiction ``Z*`` IDs are generic."""
    if element_id in ELEMENTS:
        return ELEMENTS[element_id][0]
    if element_id.startswith("Z"):
        return f"jurisdiction-specific element of subfile {element_id[:2]}"
    return "unknown element"
