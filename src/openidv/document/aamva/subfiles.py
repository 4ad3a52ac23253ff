"""Finding the subfiles in the text: at their directory offsets, shifted, by their designators,
or assumed after the directory."""

from __future__ import annotations

import bisect
import re

from openidv.document.aamva.elements import ELEMENTS, SEPARATORS
from openidv.document.aamva.record import AamvaError, AamvaSubfile, FormatDeviation, ParseNotes, SubfileEntry


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
        return text[pos + 2 : pos + 4] == stype or text[pos + 2 : pos + 3] in ("", *SEPARATORS)
    return prefix_length(text, pos + 2) is not None or stype not in {"DL", "ID"}


_MAX_PREFIX = 12  #: longest vendor prefix accepted between a subfile's type and its first element


def prefix_length(text: str, pos: int) -> int | None:
    """Characters before the first known element at ``pos`` (none: 0), up to :data:`_MAX_PREFIX`
    and before any separator; ``None`` when there is no known element there."""
    for k in range(_MAX_PREFIX + 1):
        if pos + k >= len(text) or text[pos + k] in SEPARATORS:
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


def locate_subfiles(
    text: str, directory: list[SubfileEntry], dir_end: int, notes: ParseNotes
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


def _fallback_main_subfile(text: str, dir_end: int, taken: set[int], notes: ParseNotes) -> AamvaSubfile | None:
    """The DL/ID subfile when neither the directory nor an anchored designator gave one: the first
    ``DL``/``ID`` + known element after the directory (a garbled directory runs into it), else
    elements right after the directory (perhaps after ``DL`` and a vendor prefix)."""
    cands = [(p, t) for t in ("DL", "ID") if (p := _find_subfile(text, t, dir_end, len(text))) is not None]
    cands = [(p, t) for p, t in cands if p not in taken]
    if cands:
        p, t = min(cands)
        notes.add(FormatDeviation.SUBFILE_NOT_IN_DIRECTORY, f"subfile {t} at {p} is not in the directory")
        return AamvaSubfile(t, p, 0, "designator", p)
    if dir_end in taken or prefix_length(text, dir_end) is None:
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


def _search_subfiles(text: str, directory: list[SubfileEntry], dir_end: int, notes: ParseNotes) -> list[AamvaSubfile]:
    """Each directory entry found by its designator, in order, after the previous one."""
    subfiles: list[AamvaSubfile] = []
    pos = dir_end
    found = _Designators(text)
    for i, e in enumerate(directory):
        taken = {s.start for s in subfiles}
        start, stype, how = None, e.type, "search"
        if i == 0 and not e.type.startswith("Z") and prefix_length(text, pos) == 0:
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
        prefixed and text[p : p + 2] == stype and not stype.startswith("Z") and prefix_length(text, p + 2) is not None
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
                    not after_separator or (p > 0 and text[p - 1] in SEPARATORS)
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


def _undeclared_subfiles(text: str, known: list[AamvaSubfile], dir_end: int, notes: ParseNotes) -> list[AamvaSubfile]:
    """Subfile designators the directory does not list: ``DL``/``ID`` + a known element right
    after the directory or after a separator, or ``Zx`` + ``Zx?`` anywhere after the directory."""
    starts = {s.start for s in known}
    found: list[AamvaSubfile] = []
    for p in range(dir_end, len(text) - 4):
        stype = text[p : p + 2]
        if p in starts or not (stype in {"DL", "ID"} or stype.startswith("Z")):
            continue
        anchored = p == dir_end or text[p - 1] in SEPARATORS
        # Z designators carry their own type twice (ZVZVA): found even where a terminator was lost.
        if (anchored or stype.startswith("Z")) and _subfile_start_at(text, p, stype):
            found.append(AamvaSubfile(stype, p, 0, "designator", p))
    for s in found:
        notes.add(FormatDeviation.SUBFILE_NOT_IN_DIRECTORY, f"subfile {s.type} at {s.start} is not in the directory")
    return found
