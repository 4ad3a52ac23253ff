"""Where each field and check digit sits in each MRZ format (TD1, TD2, TD3, MRV-A, MRV-B),
and the format from the lines' shape (:func:`detect_type`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from openidv.document.mrz.charset import LENGTH_TOLERANCE, SHAPES, MrzError, MrzType

# position classes: A alpha (or <), N numeric (or <), X alphanumeric (or <), D check digit,
# S sex (M F X <), C document code (letter then letter or <)


@dataclass(frozen=True)
class _Span:
    name: str
    line: int
    start: int
    end: int  #: exclusive
    kind: str


@dataclass(frozen=True)
class CheckDigitSpec:
    name: str  #: the check's name, e.g. ``mrz_check_digit_document_number``
    key: str  #: short key: number, dob, expiry, optional, composite
    digit: tuple[int, int]  #: (line, position) of the check digit
    covers: tuple[tuple[int, int, int], ...]  #: (line, start, end) ranges, in order
    filler_ok: bool = False  #: ``<`` is accepted as check digit when the data is all fillers


def _span(name: str, line: int, start: int, end: int, kind: str) -> _Span:
    return _Span(name, line, start, end, kind)


def _two_line_spans(length: int, composite: bool) -> list[_Span]:
    opt_end = length - 2 if length == 44 and composite else (length - 1 if composite else length)
    spans = [
        _span("document_code", 0, 0, 2, "C"),
        _span("issuing_state", 0, 2, 5, "A"),
        _span("names", 0, 5, length, "A"),
        _span("document_number", 1, 0, 9, "X"),
        _span("check_document_number", 1, 9, 10, "D"),
        _span("nationality", 1, 10, 13, "A"),
        _span("birth_date", 1, 13, 19, "N"),
        _span("check_birth_date", 1, 19, 20, "D"),
        _span("sex", 1, 20, 21, "S"),
        _span("expiry_date", 1, 21, 27, "N"),
        _span("check_expiry_date", 1, 27, 28, "D"),
        _span("optional_data", 1, 28, opt_end, "X"),
    ]
    if length == 44 and composite:
        spans.append(_span("check_optional_data", 1, 42, 43, "D"))
    if composite:
        spans.append(_span("check_composite", 1, length - 1, length, "D"))
    return spans


def _two_line_checks(length: int, composite: bool) -> list[CheckDigitSpec]:
    checks = [
        CheckDigitSpec("mrz_check_digit_document_number", "number", (1, 9), ((1, 0, 9),)),
        CheckDigitSpec("mrz_check_digit_birth_date", "dob", (1, 19), ((1, 13, 19),)),
        CheckDigitSpec("mrz_check_digit_expiry_date", "expiry", (1, 27), ((1, 21, 27),)),
    ]
    if length == 44 and composite:
        checks.append(
            CheckDigitSpec("mrz_check_digit_optional_data", "optional", (1, 42), ((1, 28, 42),), filler_ok=True)
        )
    if composite:
        checks.append(
            CheckDigitSpec(
                "mrz_composite_check_digit",
                "composite",
                (1, length - 1),
                ((1, 0, 10), (1, 13, 20), (1, 21, length - 1)),
            )
        )
    return checks


_TD1_SPANS = [
    _span("document_code", 0, 0, 2, "C"),
    _span("issuing_state", 0, 2, 5, "A"),
    _span("document_number", 0, 5, 14, "X"),
    _span("check_document_number", 0, 14, 15, "D"),
    _span("optional_data", 0, 15, 30, "X"),
    _span("birth_date", 1, 0, 6, "N"),
    _span("check_birth_date", 1, 6, 7, "D"),
    _span("sex", 1, 7, 8, "S"),
    _span("expiry_date", 1, 8, 14, "N"),
    _span("check_expiry_date", 1, 14, 15, "D"),
    _span("nationality", 1, 15, 18, "A"),
    _span("optional_data_2", 1, 18, 29, "X"),
    _span("check_composite", 1, 29, 30, "D"),
    _span("names", 2, 0, 30, "A"),
]
_TD1_CHECKS = [
    CheckDigitSpec("mrz_check_digit_document_number", "number", (0, 14), ((0, 5, 14),)),
    CheckDigitSpec("mrz_check_digit_birth_date", "dob", (1, 6), ((1, 0, 6),)),
    CheckDigitSpec("mrz_check_digit_expiry_date", "expiry", (1, 14), ((1, 8, 14),)),
    CheckDigitSpec(
        "mrz_composite_check_digit",
        "composite",
        (1, 29),
        ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)),
    ),
]

LAYOUTS: dict[MrzType, tuple[list[_Span], list[CheckDigitSpec]]] = {
    MrzType.TD1: (_TD1_SPANS, _TD1_CHECKS),
    MrzType.TD2: (_two_line_spans(36, True), _two_line_checks(36, True)),
    MrzType.TD3: (_two_line_spans(44, True), _two_line_checks(44, True)),
    MrzType.MRVA: (_two_line_spans(44, False), _two_line_checks(44, False)),
    MrzType.MRVB: (_two_line_spans(36, False), _two_line_checks(36, False)),
}

#: check name -> short key used by labelled data (number, dob, expiry, optional, composite)
CHECK_KEYS: dict[str, str] = {c.name: c.key for _, cs in LAYOUTS.values() for c in cs}


def _kinds(kind: MrzType) -> list[list[str]]:
    """Position class of every character of every line."""
    n, length = SHAPES[kind]
    out = [["X"] * length for _ in range(n)]
    for s in LAYOUTS[kind][0]:
        for p in range(s.start, s.end):
            out[s.line][p] = s.kind
    out[0][1] = "c"  # second letter of the document code: issuer's choice (``C1`` exists)
    return out


POSITION_CLASSES: dict[MrzType, list[list[str]]] = {k: _kinds(k) for k in MrzType}


def detect_type(lines: Sequence[str]) -> MrzType:
    """The format from the number of lines, their lengths and the document code.

    Tolerates OCR length errors of up to ``LENGTH_TOLERANCE`` characters per line; raises
    :class:`MrzError` otherwise.
    """
    n = len(lines)
    tol = LENGTH_TOLERANCE
    if n == 3:
        if all(abs(len(x) - 30) <= tol for x in lines):
            return MrzType.TD1
        raise MrzError(f"3 lines of lengths {[len(x) for x in lines]}: not a TD1 MRZ (3 x 30)")
    if n != 2:
        raise MrzError(f"{n} lines: an MRZ has 2 or 3")
    visa = lines[0][:1] == "V"
    if all(abs(len(x) - 44) <= tol for x in lines):
        return MrzType.MRVA if visa else MrzType.TD3
    if all(abs(len(x) - 36) <= tol for x in lines):
        return MrzType.MRVB if visa else MrzType.TD2
    raise MrzError(f"2 lines of lengths {[len(x) for x in lines]}: not 2 x 36 nor 2 x 44")
