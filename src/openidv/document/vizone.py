"""Reading the printed (visual) zone: fields found by their labels and positions.

Input is the list of OCR lines of an upright, rectified document
(:func:`openidv.document.ocr.read_text`). A field's value is looked for, in order:
in the same OCR line after its label, in the next line to the right on the same row,
then in the line directly below the label (left-aligned with it), which is how
passport data pages print them.

US licences follow the AAMVA card design numbering: ``1`` family name, ``2`` given
names, ``3 DOB``, ``4a ISS``, ``4b EXP``, ``4d DLN``; dates are month/day/year.
Passport pages use bilingual labels ("Surname / Nom", "Date of birth", ...) and
dates like ``15 JAN 1985``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from openidv.document.normalize import (
    approximate_find,
    edit_distance,
    iso,
    normalize_document_number,
    normalize_name,
    parse_date,
)
from openidv.document.ocr import OcrLine, group_rows
from openidv.document.types import FieldSource, FieldValue

_DATE_FIELDS = {
    # OCR reads the O of DOB as a zero now and then ("3D0B"), the B after the field number as an 8
    # ("3DO8"; not without the number: "D08" starts document numbers)
    "birth_date": (
        r"3\s*D[O0]B",
        r"(?<![A-Z])D[O0]B(?![A-Z])",
        r"(?<![0-9A-Z])3\s*D[O0]8(?![0-9])",
        r"DATE OF BIRTH",
        r"BIRTH ?DATE",
    ),
    "expiry_date": (r"4b\s*EXP", r"(?<![A-Z])EXP(IRES|IRATION)?(?![A-Z])", r"DATE OF EXPIR", r"\bEXPIRY\b"),
    "issue_date": (r"4a\s*ISS", r"(?<![A-Z])ISS(UED)?(?![A-Z])", r"DATE OF ISSUE"),
}
_NUMBER_LABELS = (
    r"\b4d\s*(DLN|DL|LIC|NO)(?![A-Z])",
    r"\b4d\s*DLN",  # the value read glued to the label ("4dDLNJ3737...")
    r"(?<![A-Z])DLN(?![A-Z])",
    r"\bDL\s*NO\b",
    r"\bLIC(ENSE)?\s*(NO|#)",
    r"PASSPORT\s*NO",
    r"DOCUMENT\s*NO",
    r"\bCARD\s*NO\b",
)
_NAME_LABELS = {
    "family_name": (r"^\s*1\s+(?=[A-Z])", r"^\s*1\s*$", r"\bSURNAME\b", r"\bLAST NAME\b", r"\bLN\b"),
    "given_names": (r"^\s*2\s+(?=[A-Z])", r"^\s*2\s*$", r"\bGIVEN NAMES?\b", r"\bFIRST NAME\b", r"\bFN\b"),
}
_NOT_NAMES = frozenset({"USA", "P", "PP", "M", "F", "X", "UNITED STATES OF AMERICA"})
_SEX_LABELS = (r"\bSEX\b",)
#: Passport-page labels (values-below layout) matched approximately when no pattern matches: the
#: small bilingual labels are often misread ("Sumname/Nom", "Date af expiratic", "Grven Names").
#: A line stands for a label when it is at most :data:`FUZZY_LABEL_EDITS` edits from it (spaces and
#: case ignored) and nearer to it than to any other label of the page (:data:`_PAGE_LABELS`):
#: "Place of birth" is 2 edits from "Date of birth" but 0 from its own label.
_FUZZY_LABELS = {
    "birth_date": ("DATE OF BIRTH",),
    "expiry_date": ("DATE OF EXPIR",),
    "issue_date": ("DATE OF ISSUE",),
    "document_number": ("PASSPORT NO",),
    "family_name": ("SURNAME",),
    "given_names": ("GIVEN NAME",),
}
_PAGE_LABELS = (
    *(phrase for phrases in _FUZZY_LABELS.values() for phrase in phrases),
    "PLACE OF BIRTH",
    "NATIONALITY",
    "AUTHORITY",
)
FUZZY_LABEL_EDITS = 2
#: Words of printed field labels (English/French, as on ICAO data pages and AAMVA cards): never part of a name.
_LABEL_WORDS = frozenset(
    {
        "NOM", "NOMS", "PRENOM", "PRENOMS", "NAME", "NAMES", "SURNAME", "GIVEN", "NATIONALITY", "NATIONALITE",
        "DATE", "BIRTH", "NAISSANCE", "PLACE", "LIEU", "SEX", "SEXE", "AUTHORITY", "AUTORITE", "ISSUE",
        "DELIVRANCE", "EXPIRATION", "EXPIRY", "TYPE", "CODE", "PASSPORT", "PASSEPORT", "NO", "DLN", "DOB",
        "EXP", "ISS", "CLASS", "RESTRICTIONS", "ENDORSEMENTS", "SIGNATURE",
    }
)  # fmt: skip


#: Passport pages print small labels right above their values. A detected line is a label when the
#: nearest line under it (left-aligned with it) starts within this fraction of its height below it
#: and is not much shorter than it (:data:`LABEL_MAX_HEIGHT_RATIO`). Measured on 16 generated
#: pages (218 line pairs, labels read): a label's gap to its value is at most 0.27 of its height
#: (95 % at most 0.06); a value's gap to the next line is at least 0.23, and where under 0.35 the
#: value is at least 1.15 times as tall as the label under it.
LABEL_MAX_GAP = 0.2
LABEL_MAX_HEIGHT_RATIO = 1.1


def label_lines(quads: list[np.ndarray]) -> list[bool]:
    """Which text-line quadrilaterals ((4, 2), detector order, page pixels) are field labels of a
    values-below layout (passport data page): see :data:`LABEL_MAX_GAP`.

    A page whose fields are found by position (:func:`extract_printed_fields`) need not read
    its labels, about half the recogniser's work on a bilingual page. A label missed by the
    rule is only read in vain. A value taken for a label (dense layouts print the next label
    right under a value, as tall) is read later: the engine recognises the marked lines too
    when a needed field is still missing.
    """
    boxes = [(float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 1].max()), _height(q)) for q in quads]
    out = []
    for i, (left, _, bottom, height) in enumerate(boxes):
        under = [
            (top_j - bottom, height_j)
            for j, (left_j, top_j, _, height_j) in enumerate(boxes)
            if j != i and top_j - bottom >= -0.3 * height and abs(left_j - left) <= 1.5 * height
        ]
        if not under:
            out.append(False)
            continue
        gap, height_below = min(under)
        out.append(gap <= LABEL_MAX_GAP * height and height < LABEL_MAX_HEIGHT_RATIO * height_below)
    return out


def _height(quad: np.ndarray) -> float:
    """A detector quadrilateral's height in pixels: the longer of its two vertical sides."""
    q = np.asarray(quad, dtype=np.float64).reshape(4, 2)
    return float(max(np.linalg.norm(q[3] - q[0]), np.linalg.norm(q[2] - q[1])))


@dataclass(frozen=True)
class _Hit:
    value: str
    score: float
    raw: str  #: the OCR text the value was parsed from


def extract_printed_fields(
    lines: list[OcrLine], *, date_order: str = "mdy", values_below: bool | None = None
) -> list[FieldValue]:
    """Fields found in the printed zone, as :class:`FieldValue` with source PRINTED.

    ``values_below`` allows a value on the line under its label (passport pages); by
    default it follows the layout implied by ``date_order`` (``dmy``: passport).
    US licences print values beside their labels, so a missing value must not be
    taken from the next field's line. In the values-below layout the line under the
    label is tried first: the rest of the label's own line is its other-language half
    ("Surname / Nom"), which OCR misreads or cuts ("/ Pre", "ANom"); text after a slash
    there is never a value.
    """
    below_ok = (date_order == "dmy") if values_below is None else values_below
    rows = group_rows(lines)
    out: list[FieldValue] = []

    def date_value(text: str) -> str | None:
        return iso(parse_date(text, order=date_order)) or None

    for name, labels in _DATE_FIELDS.items():
        hit = _find(lines, rows, labels, date_value, below_ok, _FUZZY_LABELS[name])
        if hit:
            out.append(FieldValue(name, hit.value, FieldSource.PRINTED, raw=hit.raw, confidence=hit.score))
    parse_number = _page_document_number if below_ok else _document_number
    number = _find(lines, rows, _NUMBER_LABELS, parse_number, below_ok, _FUZZY_LABELS["document_number"])
    if number:
        out.append(
            FieldValue("document_number", number.value, FieldSource.PRINTED, raw=number.raw, confidence=number.score)
        )
    if below_ok:
        out += _page_dates_and_number_by_position(lines, rows, out, date_value)
    found: dict[str, str] = {}
    for name, labels in _NAME_LABELS.items():
        hit = _find(lines, rows, labels, _name_value, below_ok, _FUZZY_LABELS[name])
        if hit:
            found[name] = hit.raw
            out.append(FieldValue(name, hit.value, FieldSource.PRINTED, raw=hit.raw, confidence=hit.score))
    if len(found) == 2 and len(set(found.values())) == 1:
        # both name labels led to one line (one label naming both parts: "Name (Surname, Given names)"):
        # which part it is cannot be told, so neither is taken
        out = [f for f in out if f.name not in found]
        found = {}
    if not found or (date_order == "mdy" and len(found) < len(_NAME_LABELS)):
        # No name label read, or (licence layout) one missed, often the lone small "1" of the family
        # name: the names by position, except a line a label already claimed.
        claimed = {normalize_name(raw) for raw in found.values()}
        by_position = _page_names_by_position(lines, out) if below_ok else _names_by_position(lines, rows)
        out += [f for f in by_position if f.name not in found and normalize_name(f.raw or "") not in claimed]
    sex = _find(lines, rows, _SEX_LABELS, _sex_value, below_ok)
    if sex:
        out.append(FieldValue("sex", sex.value, FieldSource.PRINTED, raw=sex.raw, confidence=sex.score))
    elif below_ok:
        out += _page_sex_by_position(lines, out)
    return out


def _find(
    lines: list[OcrLine],
    rows: list[list[OcrLine]],
    labels: tuple[str, ...],
    parse: Callable[[str], str | None],
    below_ok: bool = True,
    fuzzy: tuple[str, ...] = (),
) -> _Hit | None:
    """The first label pattern match (in ``labels`` order) with a value near it; then, in the
    values-below layout only, the ``fuzzy`` label phrases matched approximately (closest first)
    with a value on the line below."""
    for pattern in labels:
        rx = re.compile(pattern, re.IGNORECASE)
        for line in lines:
            m = rx.search(line.text)
            if m and (hit := _value_near(line, m.end(), lines, rows, parse, below_ok)):
                return hit
    if not below_ok or not fuzzy:
        return None
    near: list[tuple[int, int, OcrLine]] = []  # (edits, line index, line)
    for k, line in enumerate(lines):
        label, edits = _nearest_label(line.text)
        if label in fuzzy and edits <= FUZZY_LABEL_EDITS:
            near.append((edits, k, line))
    for _, _, line in sorted(near, key=lambda t: t[:2]):
        # only the line below: the rest of a misread label's line is its translation or the label itself
        below = _below(line, lines)
        if below is not None and (value := parse(below.text)):
            return _Hit(value, below.score, below.text)
    return None


@lru_cache(maxsize=512)
def _nearest_label(text: str) -> tuple[str | None, int]:
    """The page label (:data:`_PAGE_LABELS`) strictly nearest to an approximate occurrence in ``text``
    and its edits; ``(None, edits)`` on a tie between two labels."""
    scored = sorted(
        (found[1], phrase) for phrase in _PAGE_LABELS if (found := approximate_find(phrase, text)) is not None
    )
    if not scored:
        return None, 1 << 30
    if len(scored) > 1 and scored[1][0] == scored[0][0]:
        return None, scored[0][0]
    return scored[0][1], scored[0][0]


def _value_near(
    line: OcrLine,
    label_end: int,
    lines: list[OcrLine],
    rows: list[list[OcrLine]],
    parse: Callable[[str], str | None],
    below_ok: bool,
) -> _Hit | None:
    """The value of a label found in ``line`` ending at ``label_end``: below it (values-below
    layout), after it on the same line, or in the next line to the right."""
    after = line.text[label_end:]
    below = _below(line, lines) if below_ok else None
    if below is not None and (value := parse(below.text)):
        return _Hit(value, below.score, below.text)
    if not (below_ok and after.lstrip().startswith("/")) and (value := parse(after)):
        return _Hit(value, line.score, after.strip())
    right = _right_of(line, rows)
    if right is not None and (value := parse(right.text)):
        return _Hit(value, right.score, right.text)
    return None


def _right_of(line: OcrLine, rows: list[list[OcrLine]]) -> OcrLine | None:
    for row in rows:
        if line in row:
            i = row.index(line)
            return row[i + 1] if i + 1 < len(row) else None
    return None


def _below(line: OcrLine, lines: list[OcrLine]) -> OcrLine | None:
    """The nearest line under ``line``, starting within one line height of its left edge."""
    best, best_gap = None, float("inf")
    for other in lines:
        gap = other.top - line.bottom
        if other is line or gap < -0.3 * line.height or gap > 2.0 * line.height:
            continue
        if abs(other.left - line.left) > 1.5 * max(line.height, other.height):
            continue
        if gap < best_gap:
            best, best_gap = other, gap
    return best


def _names_by_position(lines: list[OcrLine], rows: list[list[OcrLine]]) -> list[FieldValue]:
    """AAMVA layout fallback when the small "1" / "2" labels were not read.

    On US licences the family name (field 1) and the given names (field 2) are the
    first two purely alphabetic lines below the licence-number row and above the
    birth-date row, in the value column.
    """
    number_line = next((ln for p in _NUMBER_LABELS for ln in lines if re.search(p, ln.text, re.IGNORECASE)), None)
    dob_line = next(
        (ln for p in _DATE_FIELDS["birth_date"] for ln in lines if re.search(p, ln.text, re.IGNORECASE)), None
    )
    if number_line is None or dob_line is None or dob_line.top <= number_line.bottom:
        return []
    between = [
        ln
        for ln in lines
        if number_line.bottom - 0.3 * number_line.height <= ln.top < dob_line.top
        and ln is not number_line
        and _name_value(ln.text)
    ]
    between.sort(key=lambda ln: ln.top)
    out = []
    for name, line in zip(("family_name", "given_names"), between, strict=False):
        value = _name_value(line.text)
        if value:
            out.append(FieldValue(name, value, FieldSource.PRINTED, raw=line.text, confidence=line.score))
    return out


#: ICAO 9303 zone II order of a data page's dated fields (date of birth, issue, expiry): the order in
#: which they are read, row by row and left to right, on US pages and ICAO-recommended layouts.
_PAGE_DATE_ORDER = ("birth_date", "issue_date", "expiry_date")
#: Country names printed as a nationality value (never a holder's name), spaces removed.
_NATIONALITY_VALUES = ("UNITEDSTATESOFAMERICA",)


def _page_dates_and_number_by_position(
    lines: list[OcrLine], rows: list[list[OcrLine]], found: list[FieldValue], date_value: Callable[[str], str | None]
) -> list[FieldValue]:
    """Passport-page fallback for dates and the document number whose small labels were not read.

    Dates: the lines that are a whole date and were not claimed by a label, in reading
    order (rows top to bottom, left to right), are the missing fields of
    :data:`_PAGE_DATE_ORDER` in that order, only when there are exactly as many such lines as
    missing date fields (a missed or extra date line would shift them all). Document
    number: the topmost line above every date that reads as a document number (the
    first row of the page: type, issuing code, number).
    """
    have = {f.name: f for f in found}
    claimed = {f.raw for f in found}
    order = [line for row in rows for line in row]
    all_dated = [(line, value) for line in order if (value := _whole_date(line.text, date_value))]
    dated = [(line, value) for line, value in all_dated if line.text not in claimed]
    out: list[FieldValue] = []
    missing = [name for name in _PAGE_DATE_ORDER if name not in have]
    if missing and len(dated) == len(missing):
        out += [
            FieldValue(name, value, FieldSource.PRINTED, raw=line.text, confidence=line.score)
            for name, (line, value) in zip(missing, dated, strict=True)
        ]
    if "document_number" not in have and all_dated:
        first_date_top = min(line.top for line, _ in all_dated)
        numbers = [
            (line, value)
            for line in order
            if line.bottom <= first_date_top and (value := _page_document_number(line.text))
        ]
        if numbers:
            line, value = min(numbers, key=lambda t: t[0].top)
            out.append(FieldValue("document_number", value, FieldSource.PRINTED, raw=line.text, confidence=line.score))
    return out


def _whole_date(text: str, date_value: Callable[[str], str | None]) -> str | None:
    """The date ``text`` consists of (a value line, not a label with a date in it)."""
    if re.search(r"[A-Za-z]{5,}", text):  # month names are 3 letters (bilingual "JAN/JAN" split by a slash)
        return None
    return date_value(text)


def _page_names_by_position(lines: list[OcrLine], found: list[FieldValue]) -> list[FieldValue]:
    """Passport-page fallback for names whose labels were not read (ICAO 9303 zone II order).

    Between the document number and the date of birth, in the date of birth's value
    column, the page prints the surname, the given names and the nationality. When
    exactly two name-like lines lie above the nationality (or, without a nationality
    line, in that whole span) they are the surname and the given names; with one of them
    missed nothing is assigned, as a shifted guess would fail the MRZ comparison.
    """
    number_line, birth_line = _line_of(lines, found, "document_number"), _line_of(lines, found, "birth_date")
    if number_line is None or birth_line is None or birth_line.top <= number_line.bottom:
        return []
    column = sorted(
        (
            ln
            for ln in lines
            if number_line.bottom - 0.3 * number_line.height <= ln.top < birth_line.top
            and abs(ln.left - birth_line.left) <= 1.5 * max(ln.height, birth_line.height)
            and ln is not number_line
        ),
        key=lambda ln: ln.top,
    )
    names: list[tuple[OcrLine, str]] = []
    for line in column:
        value = _name_value(line.text)
        if value is None:
            continue
        if any(edit_distance(value.replace(" ", ""), c) <= 2 for c in _NATIONALITY_VALUES):
            break  # the nationality follows the names
        names.append((line, value))
    if len(names) != 2:
        return []
    return [
        FieldValue(name, value, FieldSource.PRINTED, raw=line.text, confidence=line.score)
        for name, (line, value) in zip(("family_name", "given_names"), names, strict=True)
    ]


def _page_sex_by_position(lines: list[OcrLine], found: list[FieldValue]) -> list[FieldValue]:
    """Passport-page fallback for the sex whose label was not read: the only line from the
    date of birth's row down that is a lone M, F or X (the first row's lone letter is the
    document type, P; a sex misread as P is not guessed)."""
    birth_line = _line_of(lines, found, "birth_date")
    if birth_line is None:
        return []
    singles = [
        (ln, code)
        for ln in lines
        if ln.top >= birth_line.top - 0.3 * birth_line.height
        and re.fullmatch(r"[MFX]", code := ln.text.strip(" .,:;/").upper())
    ]
    if len(singles) != 1:
        return []
    line, code = singles[0]
    return [FieldValue("sex", code, FieldSource.PRINTED, raw=line.text, confidence=line.score)]


def _line_of(lines: list[OcrLine], found: list[FieldValue], name: str) -> OcrLine | None:
    """The OCR line field ``name`` of ``found`` was read from (the first whose text is its raw text)."""
    field = next((f for f in found if f.name == name), None)
    return None if field is None else next((ln for ln in lines if ln.text == field.raw), None)


def _document_number(text: str) -> str | None:
    for token in re.findall(r"[A-Z0-9][A-Z0-9 \-]{3,}[A-Z0-9]", text.upper()):
        cleaned = normalize_document_number(token)
        if 5 <= len(cleaned) <= 20 and any(c.isdigit() for c in cleaned):
            return cleaned
    return None


def _page_document_number(text: str) -> str | None:
    """A passport number: 6 or more characters, at least half of them digits (a misread label
    such as "Type/Type" read "TYPE7TYPE" is not one)."""
    value = _document_number(text)
    if value is None or len(value) < 6 or 2 * sum(c.isdigit() for c in value) < len(value):
        return None
    return value


def _name_value(text: str) -> str | None:
    cleaned = normalize_name(re.sub(r"^[\s:/]+", "", text))
    if not cleaned or len(cleaned) < 2 or re.search(r"\d", text):
        return None
    if _LABEL_WORDS.intersection(cleaned.split()):  # a field label (often bilingual), not a value
        return None
    if any(_glued_labels(token) for token in cleaned.split()):  # "Type/Type" read as "TYPETYPE"
        return None
    if any(_near_label_word(token) for token in cleaned.split()):  # a label misread ("PREHOMS")
        return None
    if cleaned in _NOT_NAMES:  # a neighbouring field's value (document type, country code, sex)
        return None
    return cleaned


def _sex_value(text: str) -> str | None:
    m = re.search(r"(?<![A-Z])([MFX])(?![A-Z])", text.upper())
    return m.group(1) if m else None


_LONG_LABEL_WORDS = tuple(w for w in _LABEL_WORDS if len(w) >= 6)


def _glued_labels(token: str) -> bool:
    """A token made entirely of two or more label words run together (a bilingual label read
    without its slash: "TYPETYPE", "SURNAMENOM")."""
    covered = [True] + [False] * len(token)  # covered[i]: token[:i] is a run of label words
    for i in range(len(token)):
        if covered[i]:
            for word in _LABEL_WORDS:
                if token.startswith(word, i):
                    covered[i + len(word)] = True
    return covered[-1] and token not in _LABEL_WORDS


def _near_label_word(token: str) -> bool:
    """A label word misread by OCR: a token within one edit (insertion, deletion or substitution)
    of a 6-letter label word or two edits of a longer one ("PENOMS", "PRENOTNS"), or one that
    starts with such a word, or with one a single edit from it, and runs on ("SURNAMEANOM",
    "NATIONATITYNATIONATITE": a bilingual label with its slash misread). Shorter
    label words are too close to real names (BIRTH/BIRCH, CLASS/GLASS) to be matched loosely."""
    if len(token) < 5:
        return False
    for word in _LONG_LABEL_WORDS:
        if len(token) > len(word) and token.startswith(word):
            return True
        if len(token) >= len(word) + 3 and edit_distance(word, token[: len(word)]) <= 1:
            return True  # a misread label glued to its translation ("NATIONATITYNATIONATITE")
        allowed = 1 if len(word) <= 6 else 2
        if abs(len(word) - len(token)) <= allowed and edit_distance(word, token) <= allowed:
            return True
    return False
