"""Parsing an AAMVA DL/ID payload into an :class:`~openidv.document.aamva.record.AamvaRecord`."""

from __future__ import annotations

import re
from collections import Counter

from openidv.document.aamva.elements import ELEMENTS, MAX_PAYLOAD_CHARS, SEPARATORS
from openidv.document.aamva.formats import other_date_order
from openidv.document.aamva.header import parse_directory, parse_header
from openidv.document.aamva.read import read_subfiles
from openidv.document.aamva.record import AamvaError, AamvaRecord, FormatDeviation, ParseNotes, merge_elements
from openidv.document.aamva.subfiles import locate_subfiles
from openidv.document.iin import lookup_iin


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
    notes = ParseNotes()
    header, dir_start = parse_header(text, notes)
    sep = _substitute_separator(text[dir_start:])
    if sep is not None:  # one character for another: offsets stay valid
        notes.add(FormatDeviation.ELEMENT_SEPARATORS, f"elements are separated by {sep!r}, read as line feeds")
        text = text[:dir_start] + text[dir_start:].replace(sep, "\n")
    directory, dir_end = parse_directory(text, dir_start, header.number_of_entries, notes)
    subfiles, offsets_ok = locate_subfiles(text, directory, dir_end, notes)
    stripped = read_subfiles(text, subfiles, header.aamva_version, notes)
    elements = merge_elements(subfiles, notes)
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
    record.date_order_found = other_date_order(record.elements, record.expected_date_order)
    if record.date_order_found is not None:
        record.deviate(FormatDeviation.DATE_ORDER, f"dates are {record.date_order_found}, not the standard's order")
    return record


def _substitute_separator(body: str) -> str | None:
    """The character that stands for the separators in ``body`` (directory and data) when it has
    none of LF, CR, RS: a punctuation mark seen at least 5 times and followed by an element ID,
    a subfile designator or the end at least 80 % of the time (``|`` from some form inputs)."""
    if any(c in body for c in SEPARATORS):
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
