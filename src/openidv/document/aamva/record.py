"""The AAMVA result types (header, directory entry, subfile, record), the repairs met while
parsing (:class:`FormatDeviation`, :class:`ParseNotes`) and the record's canonical fields."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openidv.document.aamva.formats import parse_aamva_date
from openidv.document.iin import Jurisdiction
from openidv.document.types import FieldSource, FieldValue
from openidv.errors import OpenIDVError


class AamvaError(OpenIDVError):
    """The text is not an AAMVA DL/ID payload that can be parsed."""

    code = "bad_barcode_payload"


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
        return merge_elements([s for s in self.subfiles if not s.type.startswith("Z")])

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


@dataclass
class ParseNotes:
    """What the parser repaired: human-readable notes and the named deviations (each once)."""

    problems: list[str] = field(default_factory=list)
    deviations: list[FormatDeviation] = field(default_factory=list)

    def add(self, deviation: FormatDeviation | None, note: str) -> None:
        if deviation is not None and deviation not in self.deviations:
            self.deviations.append(deviation)
        if note not in self.problems:
            self.problems.append(note)


def merge_elements(subfiles: list[AamvaSubfile], notes: ParseNotes | None = None) -> dict[str, str]:
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
