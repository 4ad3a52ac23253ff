"""The AAMVA header (``@`` + separators + file type, IIN, versions, entry count) and the subfile directory."""

from __future__ import annotations

import re

from openidv.document.aamva.elements import ELEMENTS
from openidv.document.aamva.record import AamvaError, AamvaHeader, FormatDeviation, ParseNotes, SubfileEntry

_HEADER_RE = re.compile(r"(?P<ftype>ANSI|A?AMVA)\s?(?P<iin>\d{6})(?P<ver>\d{2})(?P<run>\d*)")
_DIR_ENTRY_RE = re.compile(r"([A-Z][A-Z0-9])(\d{4})(\d{4})")


def parse_header(text: str, notes: ParseNotes) -> tuple[AamvaHeader, int]:
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


def _header_numbers(text: str, after: int, version: int, run: str, notes: ParseNotes) -> tuple[int | None, int]:
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


def parse_directory(text: str, pos: int, entries: int, notes: ParseNotes) -> tuple[list[SubfileEntry], int]:
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
