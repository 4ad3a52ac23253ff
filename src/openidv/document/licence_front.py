"""Reading the printed fields of a US licence or ID card front, whatever the state's layout.

Input: the OCR lines (:class:`~openidv.document.ocr.OcrLine`) of an upright front rectified to
ID-1 at 300 dpi (1011 x 638 px; pixels, origin top-left, x right, y down). Output:
:class:`~openidv.document.types.FieldValue` s with source ``printed``. Three ways to a field,
tried in this order:

1. **Labels**, with or without their AAMVA field numbers (``4d DLN``, ``3 DOB``, ``4b EXP``,
   ``4a ISS``, ``15 SEX``; ``DL``, ``LIC#``, ``NO.``, ``D.O.B.``, ``EXPIRES``, ``ISSUED``,
   ``GENDER``). Each line is cut into segments at every label it carries (wanted fields and
   others: ``CLASS``, ``HGT``, ``DD``, ``REV``, ...), so "4a Iss 11/07/2016 4b Exp 01/12/2021"
   gives each date to its own label and a value is never read across the next label
   ("9999999993DOB03" is a number, then a DOB label). A label without a value on its line
   takes the value of the line to its right (vertical overlap), else of the line below it.
2. **Position and format** where no label was read: dates in MM/DD/YYYY or MM-DD-YYYY that no
   label claimed are the birth (earliest), expiry (latest) and issue date (between, within
   :data:`MAX_VALIDITY_YEARS` of the expiry); the document number is the first line of
   licence-number format above the names.
3. **Names** from the lines just above the address (the line with "ST 12345" and the street
   above it): numbered (``1``, ``2``, ``1,2``), labelled (``LN``, ``FN``, ``FAMILY NAME``,
   ``GIVEN NAMES``), or unnumbered in the state's order (:mod:`openidv.document.us_layouts`);
   one line "FAMILY, GIVEN" is split at its comma.

The issuer (:func:`find_issuer`) is the state named in the header (the highest line naming
one), else a code after ``USA`` or alone in the header, else the address's state.

A value that does not have its field's format (a date, a number of 5-17 letters and digits with
at least 4 digits, a sex M/F/X, a name of letters) is not reported: a field that cannot be
read is missing, never half-read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from openidv.document.codes import FieldName
from openidv.document.normalize import approximate_find, comparable, normalize_name
from openidv.document.ocr import OcrLine
from openidv.document.types import FieldSource, FieldValue
from openidv.document.us_layouts import STATES, NameOrder, name_order


class Label(StrEnum):
    """What a printed label on a licence front introduces."""

    DOCUMENT_NUMBER = "document_number"
    BIRTH_DATE = "birth_date"
    EXPIRY_DATE = "expiry_date"
    ISSUE_DATE = "issue_date"
    SEX = "sex"
    OTHER = "other"  #: a label of a field not read here (class, height, ...): it ends the previous value


_DATE_LABELS = (Label.BIRTH_DATE, Label.EXPIRY_DATE, Label.ISSUE_DATE)


#: Label patterns (case-insensitive), AAMVA field number first where one is printed. OCR confusions
#: seen on real cards are allowed: O read as 0 or Q ("3 DQB"), I as l or | ("4alss", "4a|Ss"),
#: S as 5 and E as 0 ("15 50X"), G as C ("15CENDEM").
def _numbered(number: str, words: str) -> str:
    """``words`` after an optional AAMVA field ``number`` that stands alone ("3 DOB") or is glued to
    them ("3DOB"); a digit glued to a value on its left is the value's ("D1234563 DOB")."""
    return rf"(?:(?<![A-Z0-9]){number}\s*\.?\s*|{number}(?=[A-Z|]))?(?:{words})"


_LABELS: tuple[tuple[Label, str], ...] = (
    (
        Label.BIRTH_DATE,
        _numbered("3", r"(?<![A-Z])D\.?\s*[O0Q]\.?\s*B(?![A-Z])\.?|DATE\s*OF\s*BIRTH|BIRTH\s*DATE") + r"\s*:?",
    ),
    (Label.EXPIRY_DATE, _numbered("4b", r"EXP(?:IRES|IRATION(?:\s*DATE)?|IRY)?(?![A-Z])") + r"\s*:?"),
    (Label.EXPIRY_DATE, r"(?<![A-Z0-9])4b(?:[5S]XP)?\s*\.?\s*:?"),
    (Label.ISSUE_DATE, _numbered("4a", r"[IL|1]SS(?:UED?)?S?(?:\s*DATE)?(?![A-Z])") + r"\s*:?"),
    (Label.ISSUE_DATE, r"(?<![A-Z0-9])4a(?![A-Z0-9])\s*\.?\s*:?"),
    (
        Label.DOCUMENT_NUMBER,
        _numbered(
            "4d",
            r"DLN|DL\s*(?:NO\b\.?|#)|LIC(?:ENSE)?\.?\s*(?:NO+\b\.?|#)|IDN\b|ID\s*NUMBER|CREDENTIAL\s*IDENTIFIER"
            r"|(?<![A-Z])ID\s*(?:NO\b\.?|#)|(?<![A-Z])NUMBER\b|(?<![A-Z])NO\b\.?|NO\.?(?=[A-Z]?\d{5})|(?<![A-Z])DL(?=[A-Z]?\d{5}|\s*$)",
        )
        + r"\s*[:#.]?",
    ),
    (Label.DOCUMENT_NUMBER, r"(?<![A-Z0-9])4d(?![A-Z0-9])\s*\.?\s*:?"),
    (Label.SEX, _numbered("15", r"S[E3]X|[5S][O0E]X|[GC]ENDE?R?") + r"(?![A-Z]{2})\s*:?"),
    (
        Label.OTHER,
        _numbered(
            "(?:5|9a?|12|16|17|18|19)",
            r"CLASS|CL\b|END(?:ORSE(?:MENTS)?|ORS)?\b|EN\b|REST(?:R(?:ICTIONS)?)?\b|RSTR|RE\b|HGT|HT\b|HEIGHT|WGT|WT\b"
            r"|WEIGHT|EYES?\b|HAIR|DD\b|REV\b|REPLACED|DONOR|VETERAN|RACE",
        )
        + r"\s*:?",
    ),
)
_LABEL_RX = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _LABELS]

#: Longest time, in years, from a licence's issue to its expiry (US licences: 4-12 years).
MAX_VALIDITY_YEARS = 12
#: Youngest age, in years, at which a licence or ID card is issued in the position rule (learner permits: 14).
MIN_AGE_AT_ISSUE = 14
#: A date with a four-digit year, month first, slashes, dashes or dots; no boundary on its left, so that a date
#: glued to its misread label ("300807/15/1980" for "3 DOB 07/15/1980") is still found.
_DATE = re.compile(r"(\d{2})[/\-.](\d{2})[/\-.]((?:19|20)\d{2})")
_NUMBER_TOKEN = re.compile(r"^[\s:#.]*([A-Z0-9](?:[A-Z0-9]|-(?=[A-Z0-9]))*)")
#: The address's last line: "ANYTOWN, CA 95818", "DES MOINES, IA 50301-1234", "SALEM, OR, 97314".
_CITY_LINE = re.compile(r"\b[A-Z]{2}[\s,.]*\d{5}(?:-\d{4})?\b")
_NAME_PREFIX = (
    (re.compile(r"^\s*1\s*[,.]\s*2\s*[.:]?\s*|^\s*12(?=[A-Z])(?!REST)"), "both"),
    (re.compile(r"^\s*(?:1\s*[.:]?\s*|LN\s*[.:]?\s*)(?=[A-Z])"), "family_name"),
    (re.compile(r"^\s*(?:2\s*[.:]?\s*|FN\s*[.:]?\s*)(?=[A-Z])"), "given_names"),
)
_NAME_LABEL_LINES = (
    (re.compile(r"^\s*1?\s*\.?\s*(?:FAMILY\s*NAME|LAST\s*NAME|SURNAME)\s*$"), "family_name"),
    (re.compile(r"^\s*2?\s*\.?\s*(?:GIVEN\s*NAMES?|FIRST\s*NAME)\s*$"), "given_names"),
)
#: Words of a card's header and notices: a line carrying one is not a name.
_NOT_NAME_WORDS = frozenset(
    {
        "DRIVER", "DRIVERS", "LICENSE", "LICENCE", "IDENTIFICATION", "OPERATOR", "PERMIT", "FEDERAL", "USA",
        "LIMITED", "TERM", "VETERAN", "DONOR", "ADDRESS", "NONDRIVER", "COMMERCIAL", "INSTRUCTION",
    }
)  # fmt: skip
_SUFFIX = re.compile(r",\s*(?:JR|SR|II|III|IV)\.?\s*$")


@dataclass(frozen=True)
class _Segment:
    line: OcrLine
    label: Label | None  #: None: the text before the line's first label
    text: str  #: the value text, up to the next label


def read_licence_front(lines: list[OcrLine], height: float = 638.0) -> list[FieldValue]:
    """The printed fields of an upright, rectified US licence front ``height`` px high (see the module
    docstring), the issuing state among them (``issuing_state``)."""
    segments = [seg for line in lines for seg in _segments(line)]
    out: list[FieldValue] = []
    block = _name_block(lines)
    # a holder named after a state (VIRGINIA, GEORGIA, DAKOTA) does not name the issuer
    named = {id(line) for _, _, line in block if line is not None}
    issuer = find_issuer([ln for ln in lines if id(ln) not in named], height)
    if issuer is not None:
        out.append(FieldValue("issuing_state", issuer[0], FieldSource.PRINTED, raw=issuer[1]))
    found = _labelled_values(segments, lines)
    out += found.values()
    out += _dates_by_position(segments, found)
    names = _assign_names(block, issuer[0] if issuer else None)
    out += names
    if "document_number" not in found:
        name_lines = [ln for ln in lines if any(f.raw == ln.text for f in names)]
        name_top = min((ln.top for ln in name_lines), default=None)
        if (number := _number_by_position(segments, name_top)) is not None:
            out.append(number)
    if "sex" not in found and (sex := _sex_by_position(lines)) is not None:
        out.append(sex)
    return out


def read_licence_printed(lines: list[OcrLine], height: float = 638.0) -> list[FieldValue]:
    """:func:`read_licence_front`, with the names of the AAMVA label reader
    (:func:`openidv.document.vizone.extract_printed_fields`: field 1 and 2 labels, or the lines between
    the number and birth-date rows) where no address anchors them (cards printing no address)."""
    from openidv.document.vizone import extract_printed_fields

    out = read_licence_front(lines, height)
    have = {f.name for f in out}
    if not have & {"family_name", "given_names"}:
        out += [f for f in extract_printed_fields(lines, date_order="mdy") if f.name in ("family_name", "given_names")]
    return out


def _segments(line: OcrLine) -> Iterator[_Segment]:
    """The line cut at its labels: the text before the first label, then each label's value text."""
    text = line.text
    hits: list[tuple[int, int, Label]] = []
    for kind, rx in _LABEL_RX:
        for m in rx.finditer(text):
            if m.end() > m.start() and not any(s < m.end() and m.start() < e for s, e, _ in hits):
                hits.append((m.start(), m.end(), kind))
    hits.sort()
    starts = [s for s, _, _ in hits] + [len(text)]
    yield _Segment(line, None, text[: starts[0]])
    for (_, end, kind), stop in zip(hits, starts[1:], strict=True):
        yield _Segment(line, kind, text[end:stop])


def _labelled_values(segments: list[_Segment], lines: list[OcrLine]) -> dict[str, FieldValue]:
    """Fields found through their labels: the label's own value text, else the line to its right,
    else the line below it (in both, the text before that line's first label)."""
    leading = {id(s.line): s for s in segments if s.label is None}
    out: dict[str, FieldValue] = {}
    for seg in segments:
        if seg.label is None or seg.label is Label.OTHER or seg.label.value in out:
            continue
        parse = _PARSERS[seg.label]
        candidates = [(seg.text, seg.line)]
        for other in (_right_of(seg.line, lines), _below(seg.line, lines)):
            if other is not None:
                candidates.append((leading[id(other)].text, other))
        for text, line in candidates:
            value = parse(text)
            if value is not None:
                name = seg.label.value
                out[name] = FieldValue(name, value, FieldSource.PRINTED, raw=text.strip(), confidence=line.score)
                break
    return out


def _right_of(line: OcrLine, lines: list[OcrLine]) -> OcrLine | None:
    """The nearest line to the right of ``line`` (starting right of its middle; boxes of a label and its
    value may overlap) sharing at least half the lower one's height."""
    best, best_gap = None, float("inf")
    for other in lines:
        overlap = min(line.bottom, other.bottom) - max(line.top, other.top)
        gap = other.left - line.right
        if other is line or overlap < 0.5 * min(line.height, other.height) or other.left <= line.cx:
            continue
        if gap < best_gap:
            best, best_gap = other, gap
    return best


def _below(line: OcrLine, lines: list[OcrLine]) -> OcrLine | None:
    """The nearest line under ``line`` (its top lower than ``line``'s middle, within 1.5 heights) whose left
    edge lies within 2 heights of ``line``'s (labels printed above their values)."""
    best, best_gap = None, float("inf")
    for other in lines:
        gap = other.top - line.bottom
        if other is line or other.top < line.cy or gap > 1.5 * max(line.height, other.height):
            continue
        if abs(other.left - line.left) > 2.0 * line.height:
            continue
        if gap < best_gap:
            best, best_gap = other, gap
    return best


def _date_value(text: str) -> str | None:
    for m in _DATE.finditer(text):
        try:
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2))).isoformat()
        except ValueError:
            continue
    return None


def _number_value(text: str) -> str | None:
    """A licence number: the first token (letters, digits, inner hyphens), 5-17 characters of which at
    least 4 digits, not a date; digit groups separated by single spaces are joined ("123 456 789")."""
    upper = text.upper()
    m = _NUMBER_TOKEN.match(upper)
    if m is None or _DATE.search(upper[: m.end() + 1]):
        return None
    token = m.group(1)
    rest = upper[m.end() :]
    while token[-1].isdigit() and (g := re.match(r"^ (\d{3,4})(?![A-Z0-9/\-])", rest)):
        token, rest = token + g.group(1), rest[g.end() :]
    value = comparable(token)
    if not 5 <= len(value) <= 17 or sum(c.isdigit() for c in value) < 4:
        return None
    return value


def _sex_value(text: str) -> str | None:
    m = re.match(r"^[\s:.]*([MFX])(?![A-Z0-9])", text.upper())
    return m.group(1) if m else None


_PARSERS: dict[Label, Callable[[str], str | None]] = {
    Label.BIRTH_DATE: _date_value,
    Label.EXPIRY_DATE: _date_value,
    Label.ISSUE_DATE: _date_value,
    Label.DOCUMENT_NUMBER: _number_value,
    Label.SEX: _sex_value,
}


# --------------------------------------------------------------------------- dates by position


def _dates_by_position(segments: list[_Segment], found: dict[str, FieldValue]) -> list[FieldValue]:
    """Missing dates from the dates no label claimed (text before a line's first label), by value.

    The birth date is the earliest (at least :data:`MIN_AGE_AT_ISSUE` years before every other
    date); once a birth date is known, the expiry is the latest and the issue date the only one
    left between them (within :data:`MAX_VALIDITY_YEARS` of the expiry). Dates after other
    labels (``DD``, ``REV``, ``REPLACED``) are never used; a date equal to a labelled one is
    that one printed again.
    """
    known = {
        name: date.fromisoformat(found[name].value)
        for name in ("birth_date", "expiry_date", "issue_date")
        if name in found
    }
    free: dict[date, _Segment] = {}
    for seg in segments:
        if seg.label is not None:
            continue
        for m in _DATE.finditer(seg.text):
            d = _valid_date(m)
            if d is not None and d not in known.values():
                free.setdefault(d, seg)
    chosen: dict[str, date] = {}
    pool = sorted(free)
    if "birth_date" not in known and pool:
        others = [d for d in pool[1:]] + list(known.values())
        if others and all(_years(pool[0], d) >= MIN_AGE_AT_ISSUE for d in others):
            chosen["birth_date"] = pool.pop(0)
    birth = known.get("birth_date") or chosen.get("birth_date")
    if birth is None:
        return []  # without the holder's birth date two dates cannot be told apart from other dates
    if "expiry_date" not in known and pool:
        others = pool[:-1] + [d for k, d in known.items()] + list(chosen.values())
        if others and all(d < pool[-1] for d in others):
            chosen["expiry_date"] = pool.pop()
    if "issue_date" not in known:
        expiry = known.get("expiry_date") or chosen.get("expiry_date")
        between = [
            d
            for d in pool
            if expiry is not None
            and d < expiry
            and _years(d, expiry) <= MAX_VALIDITY_YEARS
            and _years(birth, d) >= MIN_AGE_AT_ISSUE
        ]
        if len(between) == 1:
            chosen["issue_date"] = between[0]
    return [
        FieldValue(name, d.isoformat(), FieldSource.PRINTED, raw=free[d].text.strip(), confidence=free[d].line.score)
        for name, d in chosen.items()
    ]


def _valid_date(m: re.Match[str]) -> date | None:
    try:
        return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None


def _years(earlier: date, later: date) -> float:
    return (later - earlier).days / 365.25


# --------------------------------------------------------------------------- names


_NameBlock = list[tuple[str | None, str, OcrLine | None]]


def _name_block(lines: list[OcrLine]) -> _NameBlock:
    """The name lines above the address, top to bottom: (field label or None, name, line); a
    label-only line ("2 GIVEN NAMES") has no name and no line. Empty without an address."""
    city = next((ln for ln in sorted(lines, key=lambda ln: ln.top) if _CITY_LINE.search(ln.text.upper())), None)
    if city is None:
        return []
    current = city
    for step in range(3):  # the street, an apartment or a second street line, an "8 ADDRESS" label
        above = _above(current, lines)
        if above is None or not _address_like(above.text, street=step == 0):
            break
        current = above
    block: list[tuple[str | None, str, OcrLine | None]] = []  # bottom to top: (kind, value, line)
    for _ in range(8):
        above = _above(current, lines)
        if above is None:
            break
        current = above
        label = next((kind for rx, kind in _NAME_LABEL_LINES if rx.match(above.text.upper())), None)
        if label is not None:
            block.append((label, "", None))
            continue
        kind, value = _name_line(above.text)
        if value is None:
            break
        block.append((kind, value, above))
        if kind in ("family_name", "both"):
            break
    return block[::-1]


def _address_like(text: str, *, street: bool) -> bool:
    """An address line: the street (right above the city line: starts with a digit), a line starting
    with a house number of 2+ digits (a lone digit is a name's field number: "2 JANE"), an apartment
    or box line, or the "8 ADDRESS" label."""
    upper = text.upper().strip()
    if re.match(r"^(?:8\s*\.?\s*)?(?:#|APT|UNIT|STE|SUITE|P\.?\s*O\.?\s*BOX|ADDRESS)", upper):
        return True
    return bool(re.match(r"^\d" if street else r"^\d{2}", upper))


def _name_line(text: str) -> tuple[str | None, str | None]:
    """(its field label, the name) of a name line, or (None, None) when the line is not a name."""
    upper = text.upper().strip()
    kind = None
    for rx, k in _NAME_PREFIX:
        if m := rx.match(upper):
            kind, upper = k, upper[m.end() :]
            break
    if not re.fullmatch(r"[A-Z][A-Z .,'\-]*", upper) or sum(c.isalpha() for c in upper) < 2:
        return None, None
    if set(re.split(r"[ .,'\-]+", upper)) & _NOT_NAME_WORDS:
        return None, None
    return kind, upper


def _assign_names(block: _NameBlock, state: str | None) -> list[FieldValue]:
    """Family and given names from the name block, top to bottom (label-only entries have no line)."""
    parts: dict[str, list[tuple[str, OcrLine]]] = {"family_name": [], "given_names": []}
    values = [(value, line) for _, value, line in block if line is not None]
    labelled = any(kind is not None for kind, _, _ in block)
    if labelled:
        current: str | None = None
        first_label = next(kind for kind, _, _ in block if kind is not None)
        for kind, value, line in block:
            if kind == "both":
                if line is not None:
                    parts["family_name"].append((value, line))
                current = "given_names"
                continue
            if kind is not None:
                # a label-only line names the lines under it; a numbered family name is followed by field 2
                current = kind if line is None or kind == FieldName.GIVEN_NAMES else FieldName.GIVEN_NAMES
                if line is None:
                    continue
                parts[kind].append((value, line))
                continue
            target = current or (FieldName.FAMILY_NAME if first_label == FieldName.GIVEN_NAMES else None)
            if target is not None and line is not None:
                parts[target].append((value, line))
    elif len(values) >= 2:
        upper, lower = values[-2], values[-1]  # the two lines nearest the address, top to bottom
        given_first = name_order(state) is NameOrder.GIVEN_FIRST
        parts["family_name"].append(lower if given_first else upper)
        parts["given_names"].append(upper if given_first else lower)
    elif len(values) == 1:
        parts["given_names"].append(values[0])
    if not parts["family_name"] and len(parts["given_names"]) == 1 and "," in parts["given_names"][0][0]:
        # one line "FAMILY, GIVEN" (AAMVA's "1,2" label): split at the comma
        text, where = parts["given_names"][0]
        family, given = text.split(",", 1)
        parts = {"family_name": [(family, where)], "given_names": [(given, where)]}
    out = []
    for name, found in parts.items():
        text = " ".join(_SUFFIX.sub("", value) for value, _ in found)
        value = normalize_name(text)
        if value and found:
            line = found[0][1]
            out.append(FieldValue(name, value, FieldSource.PRINTED, raw=line.text, confidence=line.score))
    return out


def _above(line: OcrLine, lines: list[OcrLine]) -> OcrLine | None:
    """The nearest line over ``line`` (its bottom above ``line``'s middle, within 1.5 heights) whose left
    edge lies within 2.5 of ``line``'s heights of ``line``'s."""
    best, best_gap = None, float("inf")
    for other in lines:
        gap = line.top - other.bottom
        if other is line or other.bottom > line.cy or gap > 1.5 * max(line.height, other.height):
            continue
        if abs(other.left - line.left) > 2.5 * line.height:
            continue
        if gap < best_gap:
            best, best_gap = other, gap
    return best


# --------------------------------------------------------------------------- number, sex, issuer


def _number_by_position(segments: list[_Segment], name_top: float | None) -> FieldValue | None:
    """The highest line above the names (anywhere without them) that starts with a licence number
    standing alone (nothing but labels after it)."""
    for seg in sorted(segments, key=lambda s: s.line.top):
        if seg.label is not None or (name_top is not None and seg.line.top >= name_top):
            continue
        if len(seg.text.split()) != 1:
            continue
        value = _number_value(seg.text)
        if value is not None and len(value) >= 6:
            return FieldValue(
                "document_number", value, FieldSource.PRINTED, raw=seg.text.strip(), confidence=seg.line.score
            )
    return None


def _sex_by_position(lines: list[OcrLine]) -> FieldValue | None:
    """A line that is only "M" or "F", when there is exactly one such value."""
    found = {ln.text.strip().upper(): ln for ln in lines if ln.text.strip().upper() in ("M", "F")}
    if len(found) != 1:
        return None
    value, line = next(iter(found.items()))
    return FieldValue("sex", value, FieldSource.PRINTED, raw=line.text, confidence=line.score)


#: Share of the card's height, from the top, where the issuer's name is looked for.
HEADER_FRACTION = 0.4
_STATE_KEYS = sorted(((comparable(name), code) for code, name in STATES.items()), key=lambda t: -len(t[0]))


def find_issuer(lines: list[OcrLine], height: float = 638.0) -> tuple[str, str] | None:
    """(state code, the text it was read from) of the card's issuer, or None.

    Cues, strongest first: a state's name in the header (the highest line naming one; names of 8+
    letters also 1 OCR edit away, e.g. "onnecticut"; the longest name wins, so "WEST VIRGINIA" is not
    "VIRGINIA"); ``USA`` followed by a state code, or a code alone beside a ``USA`` line in the header;
    the address's state ("ANYTOWN, CA 95818")."""
    header = [ln for ln in lines if ln.top < HEADER_FRACTION * height]
    hits: list[tuple[float, int, str, str]] = []
    for line in header:
        text = comparable(line.text)
        for key, code in _STATE_KEYS:
            if key in text:
                hits.append((line.top, -len(key), code, line.text))
                text = text.replace(key, "#" * len(key))
            elif len(key) >= 8 and (near := approximate_find(key, text)) is not None and near[1] <= 1:
                hits.append((line.top, -len(key), code, line.text))
    if hits:
        _, _, code, raw = min(hits)
        return code, raw
    for line in header:
        m = re.search(r"\bUSA\s*([A-Z]{2})\b", line.text.upper())
        if m and m.group(1) in STATES:
            return m.group(1), line.text
    usa = [ln for ln in header if comparable(ln.text) == "USA"]
    for line in header:
        code = comparable(line.text)
        if code in STATES and any(_adjacent(line, u) for u in usa):
            return code, line.text
    for line in lines:
        m = _CITY_LINE.search(line.text.upper())
        if m and (code := m.group(0)[:2]) in STATES:
            return code, line.text
    return None


def _adjacent(a: OcrLine, b: OcrLine) -> bool:
    """Within two line heights of each other, horizontally and vertically."""
    h = max(a.height, b.height)
    return (
        abs(a.cy - b.cy) <= 2 * h and min(abs(a.left - b.left), abs(a.left - b.right), abs(a.right - b.left)) <= 2 * h
    )
