"""AAMVA DL/ID barcode payloads (the PDF417 on the back of US/Canadian licences and ID cards).

A payload is text (ASCII) laid out as::

    @ <LF> <RS> <CR>                       compliance indicator + the 3 separators
    ANSI  IIN(6) VV JJ NN                  file type, issuer number, AAMVA version,
                                           jurisdiction version (v02+), number of entries
    {TT OOOO LLLL} x NN                    subfile directory: type, offset, length
    DL DAQ... <LF> DCS... <LF> ... <CR>    subfiles at those offsets (character offsets
    ZV ZVA... <CR>                         from the start of the payload)

Versions: 01 = AAMVA DL/ID-2000 (file type ``AAMVA`` or ``ANSI``, no jurisdiction
version, dates CCYYMMDD, full name in ``DAA``), 02/03 = 2003/2005 (``DCS`` family name,
``DCT`` given names), 04-10 = 2009-2020 (``DAC``/``DAD`` first/middle names,
truncation flags ``DDE``/``DDF``/``DDG``). From version 02 on dates are MMDDCCYY for US
issuers and CCYYMMDD for Canadian ones.

The parser here is written for real-world payloads: separators may be missing (then
elements are found by their known 3-letter IDs and the values' formats), CR and LF are
interchangeable, values carry trailing padding, the header may lack its jurisdiction
version or entry count, the directory may be empty, non-numeric or wrong (then subfiles
are found by their ``DL``/``ID``/``Z*`` designators, or by their first element when the
designator is missing), a subfile's data runs to the next subfile whatever its declared
length, subfiles the directory does not list are read too (a second DL after a
jurisdiction one; each element keeps its first non-empty value), vendor characters
before the first element are skipped. Whatever was repaired is named in
:attr:`AamvaRecord.deviations` (:class:`FormatDeviation`) and described in
:attr:`AamvaRecord.problems` for reviewers; :func:`validate_aamva` fails a payload only
when its data cannot be trusted. Unparseable input raises :class:`AamvaError`.
:mod:`openidv.synth.aamva_variants` rebuilds these deviations from the encoder.

Everything here is pure: strings in, dataclasses out.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openidv.checks import CheckResult, Status
from openidv.document.iin import Jurisdiction, lookup_iin
from openidv.document.types import FieldSource, FieldValue, check
from openidv.errors import OpenIDVError


class AamvaError(OpenIDVError):
    """The text is not an AAMVA DL/ID payload that can be parsed."""

    code = "bad_barcode_payload"


# --------------------------------------------------------------------------------------
# Data element dictionary
# --------------------------------------------------------------------------------------

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
_MANDATORY: dict[str, tuple[tuple[str | tuple[str, ...], ...], tuple[str, ...]]] = {
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

_EYE_COLOURS = frozenset({"BLK", "BLU", "BRO", "GRY", "GRN", "HAZ", "MAR", "PNK", "DIC", "UNK"})
_HAIR_COLOURS = frozenset({"BAL", "BLK", "BLN", "BRO", "GRY", "RED", "SDY", "WHI", "UNK"})
_SEPARATORS = "\n\r\x1e"
_ID_RE = re.compile(r"[A-Z][A-Z0-9]{2}")
_HEADER_RE = re.compile(r"(?P<ftype>ANSI|A?AMVA)\s?(?P<iin>\d{6})(?P<ver>\d{2})(?P<run>\d*)")
_DIR_ENTRY_RE = re.compile(r"([A-Z][A-Z0-9])(\d{4})(\d{4})")


# --------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------


class FormatDeviation(StrEnum):
    """A departure from the standard layout that the parser repaired (the elements still parse).

    Genuine licences show most of these (keyboard-wedge scanners, issuers' own miscounts);
    they name what was met and never make the data untrustworthy by themselves.
    """

    TEXT_BEFORE_HEADER = "text_before_header"  #: characters before ``@``
    NO_COMPLIANCE_INDICATOR = "no_compliance_indicator"  #: no ``@``
    HEADER_SEPARATORS = "header_separators"  #: not ``@ LF RS CR`` (``@\n\n``, ``@\r\n``, ...)
    FILE_TYPE = "file_type"  #: ``AMVA`` and the like read as ``AAMVA``
    NO_JURISDICTION_VERSION = "no_jurisdiction_version"  #: version 02+ header without it
    HEADER_DIGITS = "header_digits"  #: jurisdiction version in a v01 header, extra or missing digits
    ENTRY_COUNT = "entry_count"  #: the header's number of entries differs from the directory
    NO_DIRECTORY = "no_directory"  #: no readable subfile directory
    OFFSETS_SHIFTED = "offsets_shifted"  #: every offset off by the same amount
    OFFSETS_WRONG = "offsets_wrong"  #: subfiles found by their designators, not at their offsets
    LENGTH_MISCOUNT = "length_miscount"  #: a subfile's data longer or shorter than its directory length
    SUBFILE_NOT_IN_DIRECTORY = "subfile_not_in_directory"  #: a designator found that the directory lacks
    NO_DESIGNATOR = "no_designator"  #: elements right after the directory without ``DL``/``ID``
    SEPARATORS_STRIPPED = "separators_stripped"  #: no element separators: split on element IDs
    PREFIX_BEFORE_ELEMENTS = "prefix_before_elements"  #: characters between a subfile's type and its first element
    TEXT_WITHOUT_ELEMENT_ID = "text_without_element_id"  #: a separated piece with no element ID
    REPEATED_ELEMENT = "repeated_element"  #: an element twice (the first non-empty value kept)
    ELEMENT_SEPARATORS = "element_separators"  #: another character (``|``) where LF/CR/RS belong
    DESIGNATOR_MISMATCH = "designator_mismatch"  #: the directory says DL where the data says ID, or the reverse
    DATE_ORDER = "date_order"  #: dates in the other order (CCYYMMDD for a US issuer or the reverse)
    SUBFILE_MISSING = "subfile_missing"  #: a directory entry whose subfile is not in the text
    TRUNCATED = "truncated"  #: the directory's lengths run past the end of the text


#: Deviations that may have cost data: the header check is inconclusive and counts for the
#: decision (not advisory).
SERIOUS_DEVIATIONS: frozenset[FormatDeviation] = frozenset({FormatDeviation.SUBFILE_MISSING, FormatDeviation.TRUNCATED})


@dataclass(frozen=True)
class AamvaHeader:
    """The header: ``file_type`` (``ANSI`` or ``AAMVA``), IIN, versions, number of entries."""

    compliance_indicator: bool  #: an ``@`` started the payload
    separators: str  #: the (up to 3) separator characters after ``@``, as found
    file_type: str
    iin: str
    aamva_version: int
    jurisdiction_version: int | None  #: absent in version 01
    number_of_entries: int


@dataclass(frozen=True)
class SubfileEntry:
    """One row of the subfile directory: type (``DL``, ``ID``, ``ZV``), offset and length in characters."""

    type: str
    offset: int
    length: int


@dataclass
class AamvaSubfile:
    """One subfile and its elements (ID -> value; values of ``Z*`` subfiles are kept raw)."""

    type: str
    offset: int  #: from the directory
    length: int  #: from the directory
    located_by: str  #: ``offset``, ``shifted_offset``, ``search`` or ``assumed``
    start: int  #: where its data was actually found (character index of the type, or of the first element)
    elements: dict[str, str] = field(default_factory=dict)


@dataclass
class AamvaRecord:
    """A parsed payload. ``elements`` merges every subfile's elements (first occurrence wins)."""

    header: AamvaHeader
    directory: list[SubfileEntry]
    subfiles: list[AamvaSubfile]
    elements: dict[str, str]
    jurisdiction: Jurisdiction | None  #: from the IIN; ``None`` when the IIN is not in the table
    separators_stripped: bool  #: the DL/ID data had no element separators (split on element IDs)
    offsets_consistent: bool  #: every directory entry pointed at its subfile
    payload_length: int = 0  #: characters in the parsed text
    problems: list[str] = field(default_factory=list)
    deviations: list[FormatDeviation] = field(default_factory=list)  #: repaired departures, each once
    date_order_found: str | None = None  #: ``YMD``/``MDY`` when the dates use the other order than expected

    @property
    def length_shortfall(self) -> int:
        """Characters missing at the end of the payload according to the directory (0 when none)."""
        if not self.offsets_consistent or not self.directory:
            return 0
        return max(0, max(e.offset + e.length for e in self.directory) - self.payload_length)

    @property
    def version(self) -> int:
        return self.header.aamva_version

    @property
    def iin(self) -> str:
        return self.header.iin

    @property
    def is_canadian(self) -> bool:
        """Canadian issuer: by the IIN, else by ``DCG`` = ``CAN``."""
        if self.jurisdiction is not None:
            return self.jurisdiction.is_canadian
        return self.elements.get("DCG", "").strip().upper() == "CAN"

    @property
    def expected_date_order(self) -> str:
        """``YMD`` (CCYYMMDD: version 01 and Canadian issuers) or ``MDY`` (MMDDCCYY) by the standard."""
        return "YMD" if self.version <= 1 or self.is_canadian else "MDY"

    @property
    def date_order(self) -> str:
        """The order the dates are read in: the standard's, unless all key dates use the other one."""
        return self.date_order_found or self.expected_date_order

    @property
    def main_subfile(self) -> AamvaSubfile | None:
        """The DL or ID subfile (the first non-``Z`` one)."""
        for s in self.subfiles:
            if not s.type.startswith("Z"):
                return s
        return None

    @property
    def dlid_elements(self) -> dict[str, str]:
        """Elements of every DL/ID subfile (a second DL subfile included), the first non-empty value kept."""
        return _merge([s for s in self.subfiles if not s.type.startswith("Z")])

    def deviate(self, deviation: FormatDeviation, note: str) -> None:
        """Record a repaired deviation (once) and its human-readable note."""
        if deviation not in self.deviations:
            self.deviations.append(deviation)
        if note not in self.problems:
            self.problems.append(note)

    def date(self, element: str) -> dt.date | None:
        """The element's value as a date (``None`` if absent or not a valid date in the record's format)."""
        value = self.elements.get(element)
        if value is None:
            return None
        return parse_aamva_date(value, self.date_order)

    def to_fields(self) -> list[FieldValue]:
        """Canonical fields (see :mod:`openidv.document.types`), source ``BARCODE``."""
        return _to_fields(self)

    def to_dict(self) -> dict[str, Any]:
        h = self.header
        return {
            "header": {
                "file_type": h.file_type,
                "iin": h.iin,
                "aamva_version": h.aamva_version,
                "jurisdiction_version": h.jurisdiction_version,
                "number_of_entries": h.number_of_entries,
            },
            "jurisdiction": None if self.jurisdiction is None else self.jurisdiction.code,
            "subfiles": [
                {"type": s.type, "offset": s.offset, "length": s.length, "located_by": s.located_by}
                for s in self.subfiles
            ],
            "elements": dict(self.elements),
            "fields": {f.name: f.value for f in self.to_fields()},
            "problems": list(self.problems),
            "deviations": [d.value for d in self.deviations],
        }


def element_name(element_id: str) -> str:
    """Human name of an element ID (``"DCS"`` -> ``"family name"``); jurisdiction ``Z*`` IDs are generic."""
    if element_id in ELEMENTS:
        return ELEMENTS[element_id][0]
    if element_id.startswith("Z"):
        return f"jurisdiction-specific element of subfile {element_id[:2]}"
    return "unknown element"


# --------------------------------------------------------------------------------------
# Dates and value formats
# --------------------------------------------------------------------------------------


def _ymd(value: str, order: str) -> dt.date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    if order == "YMD":
        y, m, d = int(value[:4]), int(value[4:6]), int(value[6:])
    else:
        m, d, y = int(value[:2]), int(value[2:4]), int(value[4:])
    try:
        return dt.date(y, m, d) if y >= 1 else None
    except ValueError:
        return None


def parse_aamva_date(value: str, order: str) -> dt.date | None:
    """An 8-digit AAMVA date in ``order`` (``MDY`` = MMDDCCYY, ``YMD`` = CCYYMMDD), or ``None``.

    Only the given order is tried: a date that is valid only in the other order is a
    format error of the payload, not something to guess silently (see :func:`date_order_mismatch`).
    """
    return _ymd(value.strip(), order)


def date_order_mismatch(value: str, order: str) -> bool:
    """True when ``value`` is not a valid date in ``order`` but is one in the other order."""
    other = "MDY" if order == "YMD" else "YMD"
    return _ymd(value.strip(), order) is None and _ymd(value.strip(), other) is not None


_HEIGHT_RE = re.compile(r"^\d{2,3}\s*(IN|CM)?$|^\d{3}$", re.IGNORECASE)
_US_POSTAL_RE = re.compile(r"^\d{5}(?:-?\d{4})?-?$")
_CA_POSTAL_RE = re.compile(r"^[A-Z]\d[A-Z]\s?\d[A-Z]\d$")


def _format_ok(element: str, value: str, order: str | None = None) -> bool | None:
    """Whether ``value`` (stripped) fits the element's format; ``None`` when there is no rule.

    ``order`` is the date order; ``None`` accepts either (used by the separator-less splitter).
    """
    v = value.strip()
    if element in DATE_ELEMENTS:
        if order is None:
            return _ymd(v, "MDY") is not None or _ymd(v, "YMD") is not None
        return _ymd(v, order) is not None
    if element == "DBC":
        return v.upper() in {"1", "2", "9", "M", "F", "X", "U", "0"}
    if element in {"DAJ", "DAO"}:
        return len(v) == 2 and v.isalpha()
    if element in {"DAK", "DAP"}:
        compact = v.upper()
        return bool(_US_POSTAL_RE.match(compact.replace(" ", ""))) or bool(_CA_POSTAL_RE.match(compact))
    if element in {"DDE", "DDF", "DDG"}:
        return v.upper() in {"T", "N", "U"}
    if element == "DCG":
        return v.upper() in {"USA", "CAN"}
    if element == "DAY":
        return v.upper() in _EYE_COLOURS
    if element == "DAZ":
        return v.upper() in _HAIR_COLOURS
    if element == "DAU":
        return bool(_HEIGHT_RE.match(v))
    if element == "DDA":
        return v.upper() in {"F", "N", "M"}
    if element in {"DDD", "DDK", "DDL"}:
        return v in {"0", "1"}
    return None


# --------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------


@dataclass
class _Notes:
    """What the parser repaired: human-readable notes and the named deviations (each once)."""

    problems: list[str] = field(default_factory=list)
    deviations: list[FormatDeviation] = field(default_factory=list)

    def add(self, deviation: FormatDeviation | None, note: str) -> None:
        if deviation is not None and deviation not in self.deviations:
            self.deviations.append(deviation)
        if note not in self.problems:
            self.problems.append(note)


def parse_aamva(text: str) -> AamvaRecord:
    """Parse an AAMVA DL/ID payload (versions 01-10).

    Raises :class:`AamvaError` (code ``bad_barcode_payload``) when there is no AAMVA
    header or no element could be read; every other irregularity is repaired where
    possible, named in ``deviations`` and described in ``problems``.
    """
    if not isinstance(text, str):
        raise AamvaError("the payload must be text")
    if not text.strip():
        raise AamvaError("empty payload")
    if len(text) > MAX_PAYLOAD_CHARS:
        raise AamvaError(f"payload of {len(text)} characters; a PDF417 holds at most {MAX_PAYLOAD_CHARS}")
    notes = _Notes()
    header, dir_start = _parse_header(text, notes)
    sep = _substitute_separator(text[dir_start:])
    if sep is not None:  # one character for another: offsets stay valid
        notes.add(FormatDeviation.ELEMENT_SEPARATORS, f"elements are separated by {sep!r}, read as line feeds")
        text = text[:dir_start] + text[dir_start:].replace(sep, "\n")
    directory, dir_end = _parse_directory(text, dir_start, header.number_of_entries, notes)
    subfiles, offsets_ok = _locate_subfiles(text, directory, dir_end, notes)
    stripped = _read_subfiles(text, subfiles, header.aamva_version, notes)
    elements = _merge(subfiles, notes)
    if not elements:
        raise AamvaError("no data elements found")
    jurisdiction = lookup_iin(header.iin)
    if jurisdiction is None:
        notes.add(None, f"IIN {header.iin} is not in the AAMVA IIN table")
    record = AamvaRecord(
        header=header,
        directory=directory,
        subfiles=subfiles,
        elements=elements,
        jurisdiction=jurisdiction,
        separators_stripped=stripped,
        offsets_consistent=offsets_ok,
        payload_length=len(text),
        problems=notes.problems,
        deviations=notes.deviations,
    )
    if record.length_shortfall > 1:
        record.deviate(
            FormatDeviation.TRUNCATED,
            f"the directory's lengths run {record.length_shortfall} characters past the end (truncated?)",
        )
    record.date_order_found = _other_date_order(record.elements, record.expected_date_order)
    if record.date_order_found is not None:
        record.deviate(FormatDeviation.DATE_ORDER, f"dates are {record.date_order_found}, not the standard's order")
    return record


def _substitute_separator(body: str) -> str | None:
    """The character that stands for the separators in ``body`` (directory and data) when it has
    none of LF, CR, RS: a punctuation mark seen at least 5 times and followed by an element ID,
    a subfile designator or the end at least 80 % of the time (``|`` from some form inputs)."""
    if any(c in body for c in _SEPARATORS):
        return None
    counts = Counter(c for c in body if c.isprintable() and not c.isalnum() and c != " ")
    for c, n in counts.most_common(3):
        if n < 5:
            break
        followed = 0
        for m in re.finditer(re.escape(c), body):
            nxt = body[m.end() : m.end() + 3]
            followed += nxt in ELEMENTS or nxt[:2] in {"DL", "ID"} or nxt[:1] == "Z" or nxt == ""
        if followed >= 0.8 * n:
            return c
    return None


def _merge(subfiles: list[AamvaSubfile], notes: _Notes | None = None) -> dict[str, str]:
    """Elements of ``subfiles`` in order; a repeated element keeps its first non-empty value."""
    out: dict[str, str] = {}
    for sub in subfiles:
        for key, value in sub.elements.items():
            if key not in out:
                out[key] = value
                continue
            if out[key] == "" and value != "":
                out[key] = value
            if notes is not None:
                notes.add(
                    FormatDeviation.REPEATED_ELEMENT,
                    f"element {key} appears in more than one subfile; the first non-empty value is kept",
                )
    return out


def _other_date_order(elements: dict[str, str], expected: str) -> str | None:
    """The other date order when every key date (DBA, DBB, DBD) is valid only in it, else ``None``."""
    other = "MDY" if expected == "YMD" else "YMD"
    values = [elements.get(e, "").strip() for e in ("DBA", "DBB", "DBD")]
    values = [v for v in values if v not in {"", "00000000", "99999999"}]
    if values and all(_ymd(v, expected) is None and _ymd(v, other) is not None for v in values):
        return other
    return None


def _parse_header(text: str, notes: _Notes) -> tuple[AamvaHeader, int]:
    """The header and the position right after it (where the directory starts)."""
    at = text.find("@", 0, 64)
    search_from = at + 1 if at >= 0 else 0
    m = _HEADER_RE.search(text, search_from, min(len(text), search_from + 64))
    if m is None:
        raise AamvaError("no AAMVA header (file type ANSI/AAMVA followed by a 6-digit IIN)")
    if at < 0:
        notes.add(FormatDeviation.NO_COMPLIANCE_INDICATOR, "no compliance indicator '@'")
    elif text[:at].strip():
        notes.add(FormatDeviation.TEXT_BEFORE_HEADER, f"{at} characters before the compliance indicator were ignored")
    seps = text[search_from : m.start()] if at >= 0 else ""
    if at >= 0 and seps != "\n\x1e\r":
        notes.add(FormatDeviation.HEADER_SEPARATORS, f"header separators are {seps!r}, not '\\n\\x1e\\r'")
    ftype = m.group("ftype")
    if ftype != "ANSI" and ftype != "AAMVA":
        notes.add(FormatDeviation.FILE_TYPE, f"file type {ftype!r} read as AAMVA")
        ftype = "AAMVA"
    version = int(m.group("ver"))
    run = m.group("run")
    jv, entries = _header_numbers(text, m.end(), version, run, notes)
    header = AamvaHeader(
        compliance_indicator=at >= 0,
        separators=seps[:8],
        file_type=ftype,
        iin=m.group("iin"),
        aamva_version=version,
        jurisdiction_version=jv,
        number_of_entries=entries,
    )
    return header, m.start("run") + min(len(run), 4)


def _header_numbers(text: str, after: int, version: int, run: str, notes: _Notes) -> tuple[int | None, int]:
    """(jurisdiction version, number of entries) from the ``run`` of digits after the AAMVA version.

    Standard: 4 digits (``JJNN``) from version 02 on, 2 (``NN``) in version 01. A
    version 02+ header with 2 digits and no directory after them carries its
    jurisdiction version there (no entry count); with a directory, they are the count.
    ``0`` entries means "not given": the directory is then read as far as it goes.
    Two digits after a version 02+ are the entry count when they match the directory that
    follows; when they do not (or say 0), they are the jurisdiction version.
    """
    digits = FormatDeviation.HEADER_DIGITS
    if len(run) == 4:
        if version <= 1:
            notes.add(digits, "version 01 header carries a jurisdiction version")
        return int(run[:2]), int(run[2:])
    if len(run) == 2 and version <= 1:
        return None, int(run)
    if len(run) == 2:
        listed = _count_entries(text, after)
        if int(run) == listed:
            note = f"version {version:02d} header has no jurisdiction version"
            notes.add(FormatDeviation.NO_JURISDICTION_VERSION, note)
            return None, int(run)
        note = f"version {version:02d} header has no entry count; its 2 digits are the jurisdiction version"
        notes.add(digits, note)
        return int(run), 0
    if len(run) > 4:
        notes.add(digits, f"{len(run) - 4} extra digits after the header")
        return int(run[:2]), int(run[2:4])
    if len(run) == 3:
        notes.add(digits, "3 digits after the version: read as a 1-digit jurisdiction version and the count")
        return int(run[0]), int(run[1:])
    notes.add(digits, f"{len(run)} digits after the version: no entry count")
    return None, int(run or "0")


def _count_entries(text: str, pos: int) -> int:
    """Well-formed directory entries (type, 4-digit offset, 4-digit length) from ``pos``."""
    n = 0
    while n < 99 and _DIR_ENTRY_RE.match(text, pos + 10 * n) is not None:
        n += 1
    return n


_LOOSE_ENTRY_RE = re.compile(r"(DL|ID|Z[A-Z0-9])([0-9A-Za-z]{4})([0-9A-Za-z]{4})")


def _parse_directory(text: str, pos: int, entries: int, notes: _Notes) -> tuple[list[SubfileEntry], int]:
    """Directory entries from ``pos`` (``entries`` of them; as many as there are when 0).

    An entry whose offset or length is not a number (letters written there) is kept with
    offset and length -1, so its subfile is found by its designator.
    """
    directory: list[SubfileEntry] = []
    limit = entries if entries > 0 else 99
    while len(directory) < limit:
        m = _DIR_ENTRY_RE.match(text, pos)
        if m is not None:
            directory.append(SubfileEntry(m.group(1), int(m.group(2)), int(m.group(3))))
            pos = m.end()
            continue
        m = _LOOSE_ENTRY_RE.match(text, pos)
        if m is None or any(text[q : q + 3] in ELEMENTS for q in range(pos + 2, pos + 10)):
            break  # not an entry: a subfile whose (perhaps vendor-prefixed) elements start here
        notes.add(FormatDeviation.OFFSETS_WRONG, "directory offsets or lengths that are not numbers")
        directory.append(SubfileEntry(m.group(1), -1, -1))
        pos = m.end()
    if entries > 0 and len(directory) != entries:
        notes.add(
            FormatDeviation.ENTRY_COUNT, f"header announces {entries} subfiles, the directory lists {len(directory)}"
        )
    if not directory:
        notes.add(FormatDeviation.NO_DIRECTORY, "no subfile directory; subfiles found by their designators")
    return directory, pos


def _known_element_at(text: str, pos: int) -> bool:
    return text[pos : pos + 3] in ELEMENTS


def _subfile_start_at(text: str, pos: int, stype: str) -> bool:
    """``text[pos:]`` starts with subfile type ``stype`` followed by one of its elements."""
    if text[pos : pos + 2] != stype:
        return False
    nxt = text[pos + 2 : pos + 5]
    if stype.startswith("Z"):
        return len(nxt) == 3 and nxt.startswith(stype) and nxt[2].isalnum()
    return nxt in ELEMENTS


def _designator_at(text: str, pos: int, stype: str) -> bool:
    """Subfile type ``stype`` at ``pos``, not the first letters of one of its elements: a ``Z``
    type is followed by an element of its own (or ends there), a DL/ID type by a known element
    (after a vendor prefix, perhaps)."""
    if text[pos : pos + 2] != stype:
        return False
    if stype.startswith("Z"):
        return text[pos + 2 : pos + 4] == stype or text[pos + 2 : pos + 3] in ("", *_SEPARATORS)
    return _prefix_length(text, pos + 2) is not None or stype not in {"DL", "ID"}


_MAX_PREFIX = 12  #: longest vendor prefix accepted between a subfile's type and its first element


def _prefix_length(text: str, pos: int) -> int | None:
    """Characters before the first known element at ``pos`` (none: 0), up to :data:`_MAX_PREFIX`
    and before any separator; ``None`` when there is no known element there."""
    for k in range(_MAX_PREFIX + 1):
        if pos + k >= len(text) or text[pos + k] in _SEPARATORS:
            return None
        if text[pos + k : pos + k + 3] in ELEMENTS:
            return k
    return None


def _find_subfile(text: str, stype: str, start: int, stop: int) -> int | None:
    """First position in ``[start, stop)`` where subfile ``stype`` starts (see :func:`_subfile_start_at`)."""
    p = text.find(stype, start, stop + 1)
    while p >= 0:
        if _subfile_start_at(text, p, stype):
            return p
        p = text.find(stype, p + 1, stop + 1)
    return None


def _locate_subfiles(
    text: str, directory: list[SubfileEntry], dir_end: int, notes: _Notes
) -> tuple[list[AamvaSubfile], bool]:
    """Where each subfile starts: at its offset, at a constant shift, or by its designator;
    designators the directory does not list are added. Returns (subfiles by start, offsets consistent)."""

    def consistent(shift: int) -> bool:
        return bool(directory) and all(
            0 <= e.offset + shift < len(text) and _designator_at(text, e.offset + shift, e.type) for e in directory
        )

    subfiles: list[AamvaSubfile]
    if consistent(0):
        subfiles = [AamvaSubfile(e.type, e.offset, e.length, "offset", e.offset) for e in directory]
    else:
        shift = _constant_shift(text, directory, dir_end)
        if shift is not None and consistent(shift):
            notes.add(FormatDeviation.OFFSETS_SHIFTED, f"subfile offsets are shifted by {shift} characters")
            subfiles = [AamvaSubfile(e.type, e.offset, e.length, "shifted_offset", e.offset + shift) for e in directory]
        else:
            subfiles = _search_subfiles(text, directory, dir_end, notes)
    extra = _undeclared_subfiles(text, subfiles, dir_end, notes)
    subfiles = sorted(subfiles + extra, key=lambda s: s.start)
    if not any(not s.type.startswith("Z") for s in subfiles):
        main = _fallback_main_subfile(text, dir_end, {s.start for s in subfiles}, notes)
        subfiles = sorted([*subfiles, *([main] if main else [])], key=lambda s: s.start)
    if not subfiles:
        raise AamvaError("no subfile found in the payload")
    located = all(s.located_by == "offset" for s in subfiles)
    return subfiles, located and not extra


def _fallback_main_subfile(text: str, dir_end: int, taken: set[int], notes: _Notes) -> AamvaSubfile | None:
    """The DL/ID subfile when neither the directory nor an anchored designator gave one: the first
    ``DL``/``ID`` + known element after the directory (a garbled directory runs into it), else
    elements right after the directory (perhaps after ``DL`` and a vendor prefix)."""
    cands = [(p, t) for t in ("DL", "ID") if (p := _find_subfile(text, t, dir_end, len(text))) is not None]
    cands = [(p, t) for p, t in cands if p not in taken]
    if cands:
        p, t = min(cands)
        notes.add(FormatDeviation.SUBFILE_NOT_IN_DIRECTORY, f"subfile {t} at {p} is not in the directory")
        return AamvaSubfile(t, p, 0, "designator", p)
    if dir_end in taken or _prefix_length(text, dir_end) is None:
        return None
    stype = text[dir_end : dir_end + 2] if text[dir_end : dir_end + 2] in {"DL", "ID"} else "DL"
    notes.add(FormatDeviation.NO_DESIGNATOR, "no DL/ID designator; the elements start after the directory")
    return AamvaSubfile(stype, dir_end, max(0, len(text) - dir_end), "assumed", dir_end)


def _constant_shift(text: str, directory: list[SubfileEntry], dir_end: int) -> int | None:
    """The shift that moves the first directory entry onto its subfile (found near the directory)."""
    if not directory or directory[0].offset < 0:
        return None
    found = _find_subfile(text, directory[0].type, dir_end, dir_end + 64)
    if found is None or found == directory[0].offset:
        return None
    return found - directory[0].offset


def _search_subfiles(text: str, directory: list[SubfileEntry], dir_end: int, notes: _Notes) -> list[AamvaSubfile]:
    """Each directory entry found by its designator, in order, after the previous one."""
    subfiles: list[AamvaSubfile] = []
    pos = dir_end
    found = _Designators(text)
    for i, e in enumerate(directory):
        taken = {s.start for s in subfiles}
        start, stype, how = None, e.type, "search"
        if i == 0 and not e.type.startswith("Z") and _prefix_length(text, pos) == 0:
            start, how = pos, "assumed"  # elements right after the directory: its designator left out
            note = f"subfile {e.type} has no designator; its elements follow the directory"
            notes.add(FormatDeviation.NO_DESIGNATOR, note)
        if start is None:
            start, stype = _search_one(found, e.type, pos, dir_end, taken)
        if start is None:
            start, stype = _search_one(found, e.type, pos, dir_end, taken, relaxed=True)
        if start is not None and stype != e.type:
            note = f"the directory lists subfile {e.type}, the data has {stype}"
            notes.add(FormatDeviation.DESIGNATOR_MISMATCH, note)
            e = SubfileEntry(stype, e.offset, e.length)
        if start is None and e.type.startswith("Z"):
            start = found.bare_z_subfile(e.type, pos, taken)
            if start is not None:
                how = "assumed"
                note = f"subfile {e.type} has no designator; found by its first element"
                notes.add(FormatDeviation.NO_DESIGNATOR, note)
        if start is None:
            notes.add(FormatDeviation.SUBFILE_MISSING, f"subfile {e.type} not found")
            continue
        subfiles.append(AamvaSubfile(e.type, e.offset, e.length, how, start))
        pos = start + (2 if how == "search" else 0)
    if subfiles and directory:
        first_in_place = subfiles[0].start == directory[0].offset
        notes.add(
            FormatDeviation.LENGTH_MISCOUNT if first_in_place else FormatDeviation.OFFSETS_WRONG,
            "subfile offsets do not point at the subfiles; located by their designators"
            + (" (a subfile length miscounted)" if first_in_place else ""),
        )
    return subfiles


def _starts_here(text: str, p: int, stype: str, prefixed: bool) -> bool:
    """Subfile ``stype`` starts at ``p`` (with ``prefixed``, a DL/ID may have a vendor prefix)."""
    if _subfile_start_at(text, p, stype):
        return True
    return (
        prefixed and text[p : p + 2] == stype and not stype.startswith("Z") and _prefix_length(text, p + 2) is not None
    )


class _Designators:
    """Where each subfile type could start in one text, found once per type and mode (a payload
    full of ``DL``s is searched once, not once per directory entry)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._cache: dict[tuple[str, bool, bool], list[int]] = {}
        self._bare: dict[str, list[int]] = {}

    def positions(self, stype: str, prefixed: bool, after_separator: bool) -> list[int]:
        key = (stype, prefixed, after_separator)
        if key not in self._cache:
            text, out = self.text, []
            p = text.find(stype)
            while p >= 0:
                if _starts_here(text, p, stype, prefixed) and (
                    not after_separator or (p > 0 and text[p - 1] in _SEPARATORS)
                ):
                    out.append(p)
                p = text.find(stype, p + 1)
            self._cache[key] = out
        return self._cache[key]

    def bare_z_subfile(self, stype: str, begin: int, taken: set[int]) -> int | None:
        """First element of jurisdiction subfile ``stype`` (``ZVA...`` right after a separator) at or
        after ``begin``: where the subfile starts when its ``ZV`` designator was left out."""
        if stype not in self._bare:
            pattern = re.compile(r"(?<=[\n\r\x1e])" + re.escape(stype) + r"[A-Z0-9]")
            self._bare[stype] = [m.start() for m in pattern.finditer(self.text)]
        ps = self._bare[stype]
        for p in ps[bisect.bisect_left(ps, begin) :]:
            if p not in taken and not _subfile_start_at(self.text, p, stype):
                return p
        return None

    def first(self, stype: str, begin: int, taken: set[int], relaxed: bool) -> int | None:
        """First start of ``stype`` at or after ``begin`` not in ``taken``; ``relaxed``: a
        prefixed designator, opening the range or right after a separator."""
        if relaxed and begin not in taken and _starts_here(self.text, begin, stype, prefixed=True):
            return begin
        ps = self.positions(stype, relaxed, relaxed)
        for p in ps[bisect.bisect_left(ps, begin) :]:
            if p not in taken:
                return p
        return None


def _search_one(
    found: _Designators, stype: str, pos: int, dir_end: int, taken: set[int], relaxed: bool = False
) -> tuple[int | None, str]:
    """(start, type) of subfile ``stype`` searched after ``pos``, then anywhere after the directory.

    ``relaxed``: a DL listed in the directory may be an ID in the data (and the reverse), and a
    DL/ID type may be followed by a vendor prefix; such a designator must open the search range
    or follow a separator (not sit inside a value)."""
    types = [stype, *{"DL": ["ID"], "ID": ["DL"]}.get(stype, [])] if relaxed else [stype]
    for begin in (pos, dir_end):
        for t in types:
            start = found.first(t, begin, taken, relaxed)
            if start is not None:
                return start, t
    return None, stype


def _undeclared_subfiles(text: str, known: list[AamvaSubfile], dir_end: int, notes: _Notes) -> list[AamvaSubfile]:
    """Subfile designators the directory does not list: ``DL``/``ID`` + a known element right
    after the directory or after a separator, or ``Zx`` + ``Zx?`` anywhere after the directory."""
    starts = {s.start for s in known}
    found: list[AamvaSubfile] = []
    for p in range(dir_end, len(text) - 4):
        stype = text[p : p + 2]
        if p in starts or not (stype in {"DL", "ID"} or stype.startswith("Z")):
            continue
        anchored = p == dir_end or text[p - 1] in _SEPARATORS
        # Z designators carry their own type twice (ZVZVA): found even where a terminator was lost.
        if (anchored or stype.startswith("Z")) and _subfile_start_at(text, p, stype):
            found.append(AamvaSubfile(stype, p, 0, "designator", p))
    for s in found:
        notes.add(FormatDeviation.SUBFILE_NOT_IN_DIRECTORY, f"subfile {s.type} at {s.start} is not in the directory")
    return found


def _read_subfiles(text: str, subfiles: list[AamvaSubfile], version: int, notes: _Notes) -> bool:
    """Parse each subfile's elements (its data runs to the next subfile's start); True when
    the DL/ID data had no separators."""
    stripped = False
    for i, sub in enumerate(subfiles):
        has_type = text[sub.start : sub.start + 2] == sub.type and sub.located_by != "assumed"
        data_start = sub.start + (2 if has_type else 0)
        data_end = len(text) if i + 1 == len(subfiles) else max(subfiles[i + 1].start, data_start)
        if sub.located_by in {"offset", "shifted_offset"} and sub.length >= 2:
            _check_length(text, sub, data_end, notes)
        sub.elements, was_stripped = _parse_elements(text[data_start:data_end], sub.type, version, notes)
        if not sub.type.startswith("Z"):
            stripped = stripped or was_stripped
    if stripped:
        notes.add(FormatDeviation.SEPARATORS_STRIPPED, "the DL/ID data has no element separators")
    return stripped


def _check_length(text: str, sub: AamvaSubfile, data_end: int, notes: _Notes) -> None:
    """Note a subfile whose data (to the next subfile, padding aside) differs from its declared length."""
    actual = len(text[sub.start : data_end].rstrip(" \x00"))
    declared_end = min(sub.start + sub.length, len(text))
    beyond = text[declared_end:data_end].strip(" \x00" + _SEPARATORS)
    if abs(actual - sub.length) > 1 and (beyond or actual < sub.length - 1) and declared_end < len(text):
        notes.add(
            FormatDeviation.LENGTH_MISCOUNT,
            f"subfile {sub.type} declares {sub.length} characters and holds {actual}; read to the next subfile",
        )


def _parse_elements(region: str, stype: str, version: int, notes: _Notes) -> tuple[dict[str, str], bool]:
    """Elements of one subfile's data (after its 2-letter type). Returns (elements, separators_stripped)."""
    is_z = stype.startswith("Z")
    if any(c in region for c in _SEPARATORS):
        return _parse_separated(region, stype, notes), False
    if is_z:
        pairs = _split_z(region, stype)
    else:
        pairs = _split_known(region, version)
        if pairs:
            notes.add(None, f"subfile {stype} has no element separators; split on element IDs")
    first = region.find(pairs[0][0] + pairs[0][1]) if pairs else -1
    if first > 0 and region[:first].strip():
        note = f"subfile {stype}: {first} characters before the first element ignored"
        notes.add(FormatDeviation.PREFIX_BEFORE_ELEMENTS, note)
    out: dict[str, str] = {}
    for eid, value in pairs:
        out.setdefault(eid, _clean(value, is_z))
    return out, True


def _parse_separated(region: str, stype: str, notes: _Notes) -> dict[str, str]:
    """Elements of data split by separators (LF, CR, RS in any mix): each piece is an ID and its value."""
    is_z = stype.startswith("Z")
    out: dict[str, str] = {}
    last: str | None = None
    for piece in (p for p in re.split(r"[\n\r\x1e]+", region) if p.strip(" \x00") != ""):
        if not out and last is None and not is_z and piece[:3] not in ELEMENTS:
            k = _prefix_length(piece, 0)
            if k:
                notes.add(
                    FormatDeviation.PREFIX_BEFORE_ELEMENTS,
                    f"subfile {stype}: {k} characters before the first element ignored",
                )
                piece = piece[k:]
        eid = piece[:3]
        valid_id = bool(_ID_RE.fullmatch(eid)) and (eid.startswith(stype) if is_z else True)
        if valid_id and not is_z and eid.startswith("Z"):  # a jurisdiction subfile whose designator is lost
            notes.add(FormatDeviation.NO_DESIGNATOR, f"jurisdiction element {eid} inside subfile {stype}")
        if not valid_id:
            if last is not None:
                out[last] += "\n" + piece
                notes.add(FormatDeviation.TEXT_WITHOUT_ELEMENT_ID, f"text without an element ID appended to {last}")
            elif piece.strip():
                notes.add(
                    FormatDeviation.PREFIX_BEFORE_ELEMENTS,
                    f"subfile {stype}: {len(piece)} characters before the first element ignored",
                )
            continue
        if eid in out and out[eid].strip():
            notes.add(FormatDeviation.REPEATED_ELEMENT, f"element {eid} repeated in subfile {stype}; the first is kept")
            last = None
            continue
        if not is_z and eid not in ELEMENTS:
            notes.add(None, f"unknown element ID {eid}")
        out[eid] = piece[3:]
        last = eid
    return {k: _clean(v, is_z) for k, v in out.items()}


def _clean(value: str, is_z: bool) -> str:
    """Drop padding: both sides for standard elements, trailing only for raw jurisdiction (``Z*``) data."""
    return value.rstrip() if is_z else value.strip()


def _split_z(region: str, stype: str) -> list[tuple[str, str]]:
    """Jurisdiction subfile without separators: IDs ``{stype}X`` with X increasing (ZTA, ZTB, ...)."""
    starts: list[int] = []
    last_letter = ""
    pos = 0
    while True:
        p = region.find(stype, pos)
        if p < 0 or p + 2 >= len(region):
            break
        letter = region[p + 2]
        if letter.isupper() and letter > last_letter and (not starts or p >= starts[-1] + 3):
            starts.append(p)
            last_letter = letter
        pos = p + 1
    return _pairs(region, starts) if starts else []


def _pairs(region: str, starts: list[int]) -> list[tuple[str, str]]:
    ends = [*starts[1:], len(region)]
    return [(region[s : s + 3], region[s + 3 : e]) for s, e in zip(starts, ends, strict=True)]


#: Elements of the 2000 standard (v01) that later versions dropped (DAA lasted to v03).
_OLD_ONLY: dict[str, int] = {
    **{e: 1 for e in ("DAB", "DAE", "DAF", "DAL", "DAM", "DAN", "DAO", "DAP", "DAR", "DAS", "DAT", "DAV")},
    **{e: 1 for e in ("DBE", "DBF", "DBH", "DBI", "DBJ", "DBK", "DBM")},
    **{e: 1 for e in ("PAA", "PAB", "PAC", "PAD", "PAE", "PAF")},
    "DAA": 3,
    "DCT": 3,
}
#: Elements rarely present: a split that creates one needs more evidence.
_UNCOMMON = frozenset(
    {"DAH", "DAL", "DAM", "DAN", "DAO", "DAP", "DAV", "DAX", "DBE", "DBG", "DBI", "DBJ", "DBK", "DBL", "DBM"}
    | {"DBN", "DBO", "DBP", "DBQ", "DBR", "DBS", "DCE", "DCI", "DCJ", "DCL", "DCM", "DCN", "DCO", "DCP", "DCQ"}
    | {"DCR", "DAF", "PAA", "PAB", "PAC", "PAD", "PAE", "PAF"}
)
_NAME_ELEMENTS = frozenset({"DCS", "DAC", "DAD", "DCT", "DAB", "DAE", "DAF", "DCU"})


_ADDRESS2_RE = re.compile(
    r"(APT|APARTMENT|STE|SUITE|UNIT|#|BLDG|BUILDING|FL|FLOOR|RM|ROOM|LOT|SPC|SPACE|TRLR|PO|P O|C/O|\d)"
)


def _plausible_text(eid: str, value: str) -> bool | None:
    """Weak plausibility of free-text values, used only to split separator-less data."""
    v = value.strip()
    if not v or v.upper() == "NONE":
        return None
    if eid in _NAME_ELEMENTS:
        return not any(c.isdigit() for c in v)
    if eid in {"DAG", "DAL"}:
        return len(v) >= 3 and any(c.isalpha() for c in v)
    if eid in {"DAH", "DAM"}:  # second address line: apartment, suite, unit, PO box, ...
        return bool(_ADDRESS2_RE.match(v.upper()))
    if eid in {"DAI", "DAN"}:
        return not any(c.isdigit() for c in v)
    if eid in {"DAW", "DAX", "DAV"}:
        return v.isdigit() and 2 <= len(v) <= 3
    return None


def _value_score(eid: str, raw: str, version: int, last: bool = False) -> float:
    """How plausible it is that element ``eid`` has the raw value ``raw`` (separator-less splitting).

    An empty value is unlikely between two elements (padding would normally remain) but
    common for the subfile's ``last`` element. Strict format rules weigh most, then the
    element's existence in this version, then how common it is and weak text rules.
    """
    score = 1.0
    if raw == "" and not last:
        score -= 1.5
    if ELEMENTS.get(eid, ("", 1))[1] > max(version, 1):
        score -= 1.0
    if version > _OLD_ONLY.get(eid, 99):
        score -= 1.5
    if eid in _UNCOMMON:
        score -= 0.5
    ok = _format_ok(eid, raw)
    if ok is True:
        score += 1.0
    elif ok is False:
        score -= 2.0
    if _plausible_text(eid, raw) is False:
        score -= 1.0
    return score


_MAX_LOOKAHEAD = 32  #: candidate element IDs considered after each chosen one


def _split_known(region: str, version: int) -> list[tuple[str, str]]:
    """Split separator-less element data on known element IDs.

    Every position where a known 3-letter ID occurs is a candidate element start. A
    dynamic programme (:func:`_best_split`) picks the sequence of candidates, starting
    with the first, that maximises the summed plausibility of the resulting values
    (format rules per element; empty values and IDs newer than the version penalised).
    An element occurs once per subfile: when the best split uses an ID twice, each
    choice of the one occurrence to keep is tried (the others become plain text) and
    the best-scoring split without repeats wins; failing that, the first occurrence is kept.
    """
    cands = [p for p in range(len(region) - 2) if region[p : p + 3] in ELEMENTS]
    if not cands:
        return []
    if len(cands) > _MAX_CANDIDATES:  # not a real payload: first occurrence of each ID, no search
        firsts: dict[str, int] = {}
        for p in cands:
            if p >= (max(firsts.values()) + 3 if firsts else 0):
                firsts.setdefault(region[p : p + 3], p)
        return _pairs(region, sorted(firsts.values()))
    _, chosen = _best_split(region, cands, version)
    dups = _repeated_ids(region, chosen)
    if dups and len(dups) <= _MAX_REPEATED:
        occurrences = [[p for p in cands if region[p : p + 3] == eid] for eid in dups]
        combos: list[list[int]] = [[]]
        for occ in occurrences:
            combos = [[*c, p] for c in combos for p in occ][:_MAX_COMBOS]
        best_alt: tuple[float, list[int]] | None = None
        for keep in combos:
            banned = {p for occ in occurrences for p in occ} - set(keep)
            alt_score, alt = _best_split(region, [p for p in cands if p not in banned], version)
            if not _repeated_ids(region, alt) and (best_alt is None or alt_score > best_alt[0]):
                best_alt = (alt_score, alt)
        if best_alt is not None:
            chosen = best_alt[1]
    kept: list[int] = []
    seen_ids: set[str] = set()
    for p in chosen:
        eid = region[p : p + 3]
        if eid not in seen_ids:
            seen_ids.add(eid)
            kept.append(p)
    return _pairs(region, kept)


_MAX_COMBOS = 16  #: alternatives tried when the best split repeats element IDs
_MAX_REPEATED = 3  #: more repeated IDs than this: keep first occurrences without searching
_MAX_CANDIDATES = 256  #: real payloads have far fewer candidate element IDs


def _repeated_ids(region: str, starts: list[int]) -> list[str]:
    ids = [region[p : p + 3] for p in starts]
    return sorted({i for i in ids if ids.count(i) > 1})


def _best_split(region: str, cands: list[int], version: int) -> tuple[float, list[int]]:
    """(score, chosen start positions) of the best segmentation that starts at ``cands[0]``."""
    n = len(cands)
    if n == 0:
        return float("-inf"), []
    best = [float("-inf")] * n
    prev = [-1] * n
    best[0] = 0.0
    end = len(region)
    final_best, final_i = float("-inf"), 0
    for i in range(n):
        if best[i] == float("-inf"):
            continue
        pi = cands[i]
        eid = region[pi : pi + 3]
        tail = best[i] + _value_score(eid, region[pi + 3 : end], version, last=True)
        if tail > final_best:
            final_best, final_i = tail, i
        seen = 0
        for j in range(i + 1, n):
            pj = cands[j]
            if pj < pi + 3:
                continue
            seen += 1
            if seen > _MAX_LOOKAHEAD:
                break
            s = best[i] + _value_score(eid, region[pi + 3 : pj], version)
            if s > best[j]:
                best[j], prev[j] = s, i
    chosen: list[int] = []
    i = final_i
    while i >= 0:
        chosen.append(cands[i])
        i = prev[i]
    chosen.reverse()
    return final_best, chosen


# --------------------------------------------------------------------------------------
# Canonical fields
# --------------------------------------------------------------------------------------


def _name(value: str) -> str:
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.upper().replace(",", " ").split())


def _split_full_name(value: str) -> tuple[str, str, str, str] | None:
    """``DAA`` (v01-v03): ``LAST,FIRST,MIDDLE,SUFFIX`` (comma or ``$`` separated)."""
    for sep in (",", "$"):
        if sep in value:
            parts = [p.strip() for p in value.split(sep)] + ["", "", ""]
            return parts[0], parts[1], parts[2], parts[3]
    return None


def _height(value: str, version: int) -> str | None:
    v = value.strip().upper()
    m = re.fullmatch(r"(\d{2,3})\s*(IN|CM)", v)
    if m:
        return f"{int(m.group(1))} {m.group(2).lower()}"
    if re.fullmatch(r"\d{3}", v):
        if version <= 1:  # v01: FII (feet, inches)
            return f"{int(v[0]) * 12 + int(v[1:])} in"
        return f"{int(v)} in"
    return None


def _postal(value: str, canadian: bool) -> str | None:
    v = value.strip().upper()
    if canadian or re.match(r"^[A-Z]\d[A-Z]", v):
        compact = v.replace(" ", "")
        return compact[:6] if re.fullmatch(r"[A-Z]\d[A-Z]\d[A-Z]\d", compact[:6]) else None
    m = re.match(r"\d{5}", v)
    return m.group(0) if m else None


def _to_fields(rec: AamvaRecord) -> list[FieldValue]:
    e = rec.elements
    out: list[FieldValue] = []

    def add(name: str, value: str | None, raw: str) -> None:
        if value:
            out.append(FieldValue(name, value, FieldSource.BARCODE, raw=raw))

    family = given = middle = suffix = None
    if "DCS" in e or "DAB" in e:
        family = e.get("DCS", e.get("DAB"))
    if "DAC" in e:
        given = e["DAC"]
    elif "DCT" in e:
        dct = e["DCT"]
        if "," in dct:
            given, _, middle = dct.partition(",")
        else:
            given = dct
    if "DAD" in e:
        middle = e["DAD"]
    suffix = e.get("DCU", e.get("DAE"))
    if "DAA" in e and (family is None or given is None):
        parts = _split_full_name(e["DAA"])
        if parts is None:
            note = "DAA full name has no separator; family/given names not split"
            if note not in rec.problems:
                rec.problems.append(note)
        else:
            family = family or parts[0]
            given = given or parts[1]
            middle = middle or parts[2]
            suffix = suffix or parts[3]
    for name, value in (("family_name", family), ("given_names", given), ("middle_names", middle)):
        if value is not None and _name(value) not in {"", "NONE"}:
            add(name, _name(value), value)
    if suffix:
        add("name_suffix", _name(suffix), suffix)
    for name, eid in (("birth_date", "DBB"), ("expiry_date", "DBA"), ("issue_date", "DBD")):
        d = rec.date(eid)
        if d is not None:
            add(name, d.isoformat(), e[eid])
    if "DAQ" in e:
        add("document_number", re.sub(r"[^0-9A-Z]", "", e["DAQ"].upper()), e["DAQ"])
    if "DBC" in e:
        sex = {"1": "M", "2": "F", "9": "X", "M": "M", "F": "F", "X": "X"}.get(e["DBC"].strip().upper())
        add("sex", sex, e["DBC"])
    if rec.jurisdiction is not None:
        add("issuing_state", rec.jurisdiction.code, rec.iin)
        add("issuing_country", rec.jurisdiction.country, rec.iin)
    elif e.get("DCG", "").strip().upper() in {"USA", "CAN"}:
        add("issuing_country", e["DCG"].strip().upper(), e["DCG"])
    if "DAG" in e:
        add("address_street", " ".join(e["DAG"].upper().split()), e["DAG"])
    if "DAI" in e:
        add("address_city", " ".join(e["DAI"].upper().split()), e["DAI"])
    if "DAJ" in e:
        add("address_state", e["DAJ"].strip().upper(), e["DAJ"])
    if "DAK" in e:
        add("address_postal_code", _postal(e["DAK"], rec.is_canadian), e["DAK"])
    if "DCF" in e:
        add("document_discriminator", e["DCF"].strip(), e["DCF"])
    if "DDA" in e:
        add("real_id_compliance", e["DDA"].strip().upper(), e["DDA"])
    vclass = e.get("DCA", e.get("DAR"))
    if vclass is not None:
        add("vehicle_class", vclass.strip().upper(), vclass)
    if "DAU" in e:
        add("height", _height(e["DAU"], rec.version), e["DAU"])
    if "DAY" in e:
        add("eye_color", e["DAY"].strip().upper(), e["DAY"])
    return out


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


def _mandatory_for(version: int) -> tuple[tuple[str | tuple[str, ...], ...], tuple[str, ...]]:
    if version <= 1:
        return _MANDATORY["v01"]
    if version <= 3:
        return _MANDATORY["v02"]
    return _MANDATORY["v04"]


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def validate_aamva(record: AamvaRecord, today: dt.date) -> list[CheckResult]:
    """Checks on a parsed payload, ``today`` being the reference date.

    ``barcode_header``, ``barcode_mandatory_elements``, ``barcode_formats``,
    ``barcode_date_logic``, ``document_not_expired``, ``age_at_least_18``, ``us_issuer``.
    Scores: 1.0 pass, 0.0 fail, ``None`` inconclusive (``barcode_formats``: the share of
    checked elements that are well formed).
    """
    return [
        _check_header(record),
        _check_mandatory(record),
        _check_formats(record),
        _check_date_logic(record, today),
        _check_not_expired(record, today),
        _check_age(record, today),
        _check_us_issuer(record),
    ]


def _check_header(rec: AamvaRecord) -> CheckResult:
    """Layout of the payload. Fails only without a DL/ID subfile, without the compliance indicator
    ``@`` (all known real-world variants keep it) or with the undefined version 00;
    deviations that may have cost data (a listed subfile not found, a truncated payload) are
    inconclusive; repaired layout deviations are inconclusive and advisory (:mod:`openidv.decision.severity`),
    named in ``data.deviations``: genuine licences show them too often to count against one."""
    h = rec.header
    name = "barcode_header"
    if rec.main_subfile is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile, only jurisdiction subfiles")
    if h.aamva_version < 1:
        return check(name, Status.FAIL, "bad_version", 0.0, f"AAMVA version {h.aamva_version:02d}")
    if not h.compliance_indicator:  # every known variant keeps the '@'; without it the text is no barcode payload
        return check(name, Status.FAIL, "no_compliance_indicator", 0.0, "the payload does not start with '@'")
    layout = [d for d in rec.deviations if d is not FormatDeviation.DATE_ORDER]
    named = {"deviations": [d.value for d in layout]}
    serious = [d for d in layout if d in SERIOUS_DEVIATIONS]
    if serious:
        return check(name, Status.INCONCLUSIVE, serious[0].value, None, "; ".join(rec.problems), **named)
    if rec.separators_stripped:
        detail = "separators were removed from the payload: elements split on their IDs, offsets not verifiable"
        return check(name, Status.INCONCLUSIVE, "separators_stripped", None, detail, **named)
    if h.aamva_version > 10:
        return check(name, Status.INCONCLUSIVE, "unknown_version", None, f"AAMVA version {h.aamva_version:02d}")
    if layout:
        detail = "repaired: " + "; ".join(rec.problems)
        return check(name, Status.INCONCLUSIVE, "format_deviations", None, detail, **named)
    return check(name, Status.PASS, "header_ok", 1.0, f"{h.file_type} v{h.aamva_version:02d}, IIN {h.iin}")


#: Elements that identify the holder and the card: one of them absent or empty and the data
#: cannot be trusted (a tuple means "one of these").
_ESSENTIAL: tuple[tuple[str, ...], ...] = (("DAQ",), ("DCS", "DAB", "DAA"), ("DAC", "DCT", "DAA"), ("DBB",), ("DBA",))


def _check_mandatory(rec: AamvaRecord) -> CheckResult:
    """The version's mandatory elements. Fails when an essential one (number, names, birth and
    expiry dates) is absent or empty; other mandatory elements missing (genuine issuers leave out
    middle names, truncation flags, the country, ...) are inconclusive and named."""
    name = "barcode_mandatory_elements"
    main = rec.main_subfile
    if main is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile")
    present = rec.dlid_elements
    essential = ["/".join(alts) for alts in _ESSENTIAL if not any(present.get(a, "").strip() for a in alts)]
    if essential:
        return check(name, Status.FAIL, "missing_mandatory_elements", 0.0, "missing: " + ", ".join(essential))
    certain, probable = _mandatory_for(rec.version)
    missing: list[str] = []
    unsure: list[str] = [p for p in probable if p not in present]
    for item in certain:
        alts = (item,) if isinstance(item, str) else item
        if not any(a in present for a in alts):
            # DL-only elements on an ID card: not sure they are mandatory there.
            (unsure if main.type == "ID" and alts[0] in {"DCA", "DCB", "DCD"} else missing).append("/".join(alts))
    if rec.version > 10:
        return check(name, Status.INCONCLUSIVE, "unknown_version", None, f"version {rec.version:02d}")
    if missing:
        detail = "missing: " + ", ".join(missing)
        return check(name, Status.INCONCLUSIVE, "missing_standard_elements", None, detail, missing=missing)
    if unsure:
        detail = "missing (mandatory status not certain for this version): " + ", ".join(unsure)
        return check(name, Status.INCONCLUSIVE, "missing_uncertain_elements", None, detail)
    return check(name, Status.PASS, "all_present", 1.0, f"version {rec.version:02d} {main.type}")


#: Elements whose malformation is only unusual (jurisdictions deviate): alone they make the check inconclusive.
_SOFT_FORMAT = frozenset({"DAY", "DAZ", "DAU", "DDA", "DDD", "DDK", "DDL"})
#: The dates every licence carries: one that is no date in either order fails the payload.
_KEY_DATES = frozenset({"DBA", "DBB", "DBD"})


def _skip_format(eid: str, value: str) -> bool:
    """Values with nothing to check: elements left empty, zero dates (absent; the mandatory and
    date checks see to the key ones), a non-expiring DBA."""
    if value == "" or (eid in DATE_ELEMENTS and value == "00000000"):
        return True
    return eid == "DBA" and value == "99999999"


def _check_formats(rec: AamvaRecord) -> CheckResult:
    """Element formats. Fails only on a key date (DBA, DBB, DBD) that is no date in either
    order; other malformed values are inconclusive (``malformed_elements``, or
    ``unusual_element_values`` for eye/hair/height-like ones); dates consistently in the
    other order are an advisory ``date_order`` deviation."""
    name = "barcode_formats"
    if rec.main_subfile is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile")
    impossible: list[str] = []
    bad: list[str] = []
    soft: list[str] = []
    checked = 0
    order = rec.date_order
    for eid, value in rec.dlid_elements.items():
        v = value.strip()
        if _skip_format(eid, v):
            continue
        ok = _format_ok(eid, value, order)
        if ok is None:
            continue
        checked += 1
        if ok:
            continue
        other = eid in DATE_ELEMENTS and date_order_mismatch(value, order)
        item = f"{eid}={v!r}" + (" (date in the other order)" if other else "")
        if eid in _KEY_DATES and not other:
            impossible.append(item)
        else:
            (soft if eid in _SOFT_FORMAT else bad).append(item)
    if checked == 0:
        return check(name, Status.INCONCLUSIVE, "nothing_to_check", None, "no element with a format rule")
    score = 1.0 - (len(impossible) + len(bad) + len(soft)) / checked
    if impossible:
        return check(name, Status.FAIL, "impossible_date", 0.0, "no date in either order: " + ", ".join(impossible))
    if bad:
        return check(name, Status.INCONCLUSIVE, "malformed_elements", score, "malformed: " + ", ".join(bad + soft))
    if soft:
        return check(name, Status.INCONCLUSIVE, "unusual_element_values", score, "unusual: " + ", ".join(soft))
    if rec.date_order_found is not None:
        detail = f"dates are {rec.date_order_found} where the standard has {rec.expected_date_order}"
        return check(name, Status.INCONCLUSIVE, "date_order", score, detail, deviations=["date_order"])
    return check(name, Status.PASS, "formats_ok", score, f"{checked} elements checked")


def _check_date_logic(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "barcode_date_logic"
    birth, issue, expiry = rec.date("DBB"), rec.date("DBD"), rec.date("DBA")
    problems: list[tuple[str, str]] = []
    if birth is not None:
        age = _age(birth, today)
        if not 0 <= age <= 120:
            problems.append(("implausible_birth_date", f"DBB {birth.isoformat()} gives age {age}"))
    if birth is not None and issue is not None and not birth < issue:
        problems.append(("birth_not_before_issue", f"DBB {birth.isoformat()} >= DBD {issue.isoformat()}"))
    if issue is not None and expiry is not None and not issue < expiry:
        problems.append(("issue_not_before_expiry", f"DBD {issue.isoformat()} >= DBA {expiry.isoformat()}"))
    if birth is not None and expiry is not None and not birth < expiry:
        problems.append(("birth_not_before_expiry", f"DBB {birth.isoformat()} >= DBA {expiry.isoformat()}"))
    if issue is not None and issue > today:
        problems.append(("issue_in_future", f"DBD {issue.isoformat()} is after {today.isoformat()}"))
    if problems:
        return check(name, Status.FAIL, problems[0][0], 0.0, "; ".join(d for _, d in problems))
    missing = [eid for eid, d in (("DBB", birth), ("DBD", issue), ("DBA", expiry)) if d is None]
    if missing:
        return check(name, Status.INCONCLUSIVE, "dates_missing", None, "no valid date in " + ", ".join(missing))
    return check(name, Status.PASS, "dates_consistent", 1.0, "birth < issue < expiry, issue not in the future")


def _check_not_expired(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "document_not_expired"
    expiry = rec.date("DBA")
    if expiry is None:
        return check(name, Status.INCONCLUSIVE, "no_expiry_date", None, "DBA absent or not a valid date")
    if expiry < today:
        return check(name, Status.FAIL, "expired", 0.0, f"DBA {expiry.isoformat()} is before {today.isoformat()}")
    return check(name, Status.PASS, "not_expired", 1.0, f"expires {expiry.isoformat()}")


def _check_age(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "age_at_least_18"
    birth = rec.date("DBB")
    if birth is None:
        return check(name, Status.INCONCLUSIVE, "no_birth_date", None, "DBB absent or not a valid date")
    age = _age(birth, today)
    if age < 18:
        return check(name, Status.FAIL, "under_18", 0.0, f"DBB {birth.isoformat()}: age {age}", age=age)
    return check(name, Status.PASS, "adult", 1.0, f"age {age}", age=age)


def _check_us_issuer(rec: AamvaRecord) -> CheckResult:
    name = "us_issuer"
    j = rec.jurisdiction
    if j is None:
        return check(name, Status.INCONCLUSIVE, "unknown_iin", None, f"IIN {rec.iin} is not in the AAMVA IIN table")
    dcg = rec.elements.get("DCG", "").strip().upper()
    if dcg in {"USA", "CAN"} and dcg != j.country:
        return check(
            name, Status.FAIL, "country_mismatch", 0.0, f"IIN {rec.iin} is {j.name} ({j.country}) but DCG is {dcg}"
        )
    if not j.is_us:
        return check(name, Status.FAIL, "non_us_issuer", 0.0, f"IIN {rec.iin}: {j.name}, {j.country}")
    return check(name, Status.PASS, "us_issuer", 1.0, f"IIN {rec.iin}: {j.name}")


# --------------------------------------------------------------------------------------
# Encoding
# --------------------------------------------------------------------------------------

_HEADER_PREFIX = "@\n\x1e\r"


def encode_aamva(
    fields: dict[str, str],
    *,
    iin: str,
    version: int = 10,
    jurisdiction_version: int = 0,
    subfile_type: str = "DL",
) -> str:
    """A standard-conforming payload: ``@ LF RS CR``, ``ANSI `` header, directory with correct offsets.

    ``fields`` maps element IDs to values, in the order they are written; IDs starting
    with ``Z`` go to jurisdiction subfiles named by their first two letters (``ZVA`` ->
    subfile ``ZV``), the rest to ``subfile_type`` (``DL`` or ``ID``). Values must be
    printable ASCII. Offsets and lengths count characters (= bytes, the payload being
    ASCII); each subfile's length includes its type and its CR terminator. Raises
    :class:`AamvaError` on invalid arguments.
    """
    if not re.fullmatch(r"[A-Y][A-Z]", subfile_type):
        raise AamvaError(f"subfile type must be two letters not starting with Z, got {subfile_type!r}")
    groups: dict[str, list[tuple[str, str]]] = {subfile_type: []}
    for eid, value in fields.items():
        key = eid[:2] if eid.startswith("Z") else subfile_type
        groups.setdefault(key, []).append((eid, value))
    if not groups[subfile_type]:
        raise AamvaError(f"no element for the {subfile_type} subfile")
    return encode_subfiles(list(groups.items()), iin=iin, version=version, jurisdiction_version=jurisdiction_version)


def encode_subfiles(
    subfiles: list[tuple[str, list[tuple[str, str]]]],
    *,
    iin: str,
    version: int = 10,
    jurisdiction_version: int = 0,
) -> str:
    """A standard-conforming payload with the given subfiles, in order (type, [(element ID, value)]).

    Lets a payload carry several DL/ID subfiles (a second DL after a jurisdiction one).
    Offsets and lengths as in :func:`encode_aamva`; raises :class:`AamvaError` on invalid arguments.
    """
    _check_encoder_arguments(iin, version, jurisdiction_version)
    if not subfiles:
        raise AamvaError("no subfile")
    for stype, items in subfiles:
        if not re.fullmatch(r"[A-Z][A-Z0-9]", stype):
            raise AamvaError(f"subfile type must be two characters, got {stype!r}")
        for eid, value in items:
            if not _ID_RE.fullmatch(eid):
                raise AamvaError(f"element ID must be 3 upper-case characters, got {eid!r}")
            if not all(" " <= c <= "~" for c in value):
                raise AamvaError(f"element {eid}: value must be printable ASCII")
    bodies = [t + "\n".join(eid + value for eid, value in items) + "\r" for t, items in subfiles]
    n = len(bodies)
    if n > 99:
        raise AamvaError("too many subfiles")
    head = _HEADER_PREFIX + "ANSI " + iin + f"{version:02d}" + (f"{jurisdiction_version:02d}" if version >= 2 else "")
    head += f"{n:02d}"
    offset = len(head) + 10 * n
    directory = ""
    for (t, _), body in zip(subfiles, bodies, strict=True):
        if offset > 9999 or len(body) > 9999:
            raise AamvaError("payload too long for 4-digit offsets")
        directory += f"{t}{offset:04d}{len(body):04d}"
        offset += len(body)
    return head + directory + "".join(bodies)


def _check_encoder_arguments(iin: str, version: int, jurisdiction_version: int) -> None:
    if not re.fullmatch(r"\d{6}", iin):
        raise AamvaError(f"IIN must be 6 digits, got {iin!r}")
    if not 1 <= version <= 99:
        raise AamvaError(f"version must be 1..99, got {version}")
    if not 0 <= jurisdiction_version <= 99:
        raise AamvaError(f"jurisdiction version must be 0..99, got {jurisdiction_version}")
