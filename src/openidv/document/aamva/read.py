"""Reading a subfile's elements: separated by LF/CR/RS, jurisdiction (``Z*``) subfiles, the declared lengths."""

from __future__ import annotations

import re

from openidv.document.aamva.elements import ELEMENTS, ID_RE, SEPARATORS
from openidv.document.aamva.record import AamvaSubfile, FormatDeviation, ParseNotes
from openidv.document.aamva.subfiles import prefix_length
from openidv.document.aamva.unseparated import pairs_at, split_known


def read_subfiles(text: str, subfiles: list[AamvaSubfile], version: int, notes: ParseNotes) -> bool:
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


def _check_length(text: str, sub: AamvaSubfile, data_end: int, notes: ParseNotes) -> None:
    """Note a subfile whose data (to the next subfile, padding aside) differs from its declared length."""
    actual = len(text[sub.start : data_end].rstrip(" \x00"))
    declared_end = min(sub.start + sub.length, len(text))
    beyond = text[declared_end:data_end].strip(" \x00" + SEPARATORS)
    if abs(actual - sub.length) > 1 and (beyond or actual < sub.length - 1) and declared_end < len(text):
        notes.add(
            FormatDeviation.LENGTH_MISCOUNT,
            f"subfile {sub.type} declares {sub.length} characters and holds {actual}; read to the next subfile",
        )


def _parse_elements(region: str, stype: str, version: int, notes: ParseNotes) -> tuple[dict[str, str], bool]:
    """Elements of one subfile's data (after its 2-letter type). Returns (elements, separators_stripped)."""
    is_z = stype.startswith("Z")
    if any(c in region for c in SEPARATORS):
        return _parse_separated(region, stype, notes), False
    if is_z:
        pairs = _split_z(region, stype)
    else:
        pairs = split_known(region, version)
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


def _parse_separated(region: str, stype: str, notes: ParseNotes) -> dict[str, str]:
    """Elements of data split by separators (LF, CR, RS in any mix): each piece is an ID and its value."""
    is_z = stype.startswith("Z")
    out: dict[str, str] = {}
    last: str | None = None
    for piece in (p for p in re.split(r"[\n\r\x1e]+", region) if p.strip(" \x00") != ""):
        if not out and last is None and not is_z and piece[:3] not in ELEMENTS:
            k = prefix_length(piece, 0)
            if k:
                notes.add(
                    FormatDeviation.PREFIX_BEFORE_ELEMENTS,
                    f"subfile {stype}: {k} characters before the first element ignored",
                )
                piece = piece[k:]
        eid = piece[:3]
        valid_id = bool(ID_RE.fullmatch(eid)) and (eid.startswith(stype) if is_z else True)
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
    return pairs_at(region, starts) if starts else []
