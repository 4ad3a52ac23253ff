"""Valid MRZ lines for generated documents, and deliberately broken ones for tests."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from openidv.document.mrz.charset import FILLER, SHAPES, MrzError, MrzType, check_digit
from openidv.document.mrz.correct import replace_char
from openidv.document.mrz.layouts import LAYOUTS, detect_type
from openidv.document.mrz.parse import long_document_number


def _alpha_field(value: str, width: int, name: str) -> str:
    v = re.sub(r"[^A-Z0-9<]", FILLER, value.upper().replace(" ", FILLER))
    if len(v) > width:
        raise MrzError(f"{name} {value!r} is longer than {width} characters")
    return v.ljust(width, FILLER)


def _names_field(family: str, given: str, width: int) -> str:
    def clean(s: str) -> str:
        return FILLER.join(re.sub(r"[^A-Z]", " ", s.upper()).split())

    text = clean(family) + (FILLER * 2 + clean(given) if given.strip() else "")
    return text[:width].ljust(width, FILLER)


def _date_field(d: dt.date | str) -> str:
    if isinstance(d, dt.date):
        return d.strftime("%y%m%d")
    if not re.fullmatch(r"[0-9<]{6}", d):
        raise MrzError(f"date {d!r} is not YYMMDD")
    return d


def generate_mrz(
    kind: MrzType | str,
    *,
    document_code: str | None = None,
    issuing_state: str = "UTO",
    family_name: str = "ERIKSSON",
    given_names: str = "ANNA MARIA",
    document_number: str = "L898902C3",
    nationality: str = "UTO",
    birth_date: dt.date | str = "740812",
    sex: str = "F",
    expiry_date: dt.date | str = "120415",
    optional_data: str = "",
    optional_data_2: str = "",
) -> list[str]:
    """Valid MRZ lines (every check digit correct) for a synthetic document.

    Names are upper-cased, non-letters become fillers and they are truncated to the
    field's width. ``document_code`` defaults to ``P<``, ``I<`` or ``V<``. A document
    number longer than 9 characters uses the TD1/TD2 long-number rule.
    """
    kind = MrzType(kind)
    n, length = SHAPES[kind]
    code = document_code or {"TD3": "P<", "TD1": "I<", "TD2": "I<"}.get(kind.value, "V<")
    code = _alpha_field(code, 2, "document code")
    state = _alpha_field(issuing_state, 3, "issuing state")
    nat = _alpha_field(nationality, 3, "nationality")
    dob, exp = _date_field(birth_date), _date_field(expiry_date)
    sx = {"M": "M", "F": "F", "X": FILLER, "<": FILLER, "": FILLER}.get(sex.upper())
    if sx is None:
        raise MrzError(f"sex {sex!r} is not M, F or X")
    number = re.sub(r"[^A-Z0-9<]", "", document_number.upper())
    if kind is MrzType.TD1:
        opt_width = 15
    elif kind is MrzType.TD2:
        opt_width = 7
    elif kind is MrzType.TD3:
        opt_width = 14
    elif kind is MrzType.MRVA:
        opt_width = 16
    else:
        opt_width = 8
    long_number = len(number) > 9
    if long_number and kind not in (MrzType.TD1, MrzType.TD2):
        raise MrzError(f"document number {document_number!r} is longer than 9 characters")
    if long_number:
        ext = number[9:] + check_digit(number)
        opt = _alpha_field(ext + FILLER + optional_data if optional_data else ext, opt_width, "optional data")
        num_field = number[:9] + FILLER
    else:
        num = number.ljust(9, FILLER)
        num_field = num + check_digit(num)
        opt = _alpha_field(optional_data, opt_width, "optional data")
    dob_f, exp_f = dob + check_digit(dob), exp + check_digit(exp)
    if kind is MrzType.TD1:
        l1 = code + state + num_field + opt
        opt2 = _alpha_field(optional_data_2, 11, "optional data 2")
        l2 = dob_f + sx + exp_f + nat + opt2
        l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
        l3 = _names_field(family_name, given_names, 30)
        lines = [l1, l2, l3]
    else:
        l1 = code + state + _names_field(family_name, given_names, length - 5)
        l2 = num_field + nat + dob_f + sx + exp_f + opt
        if kind is MrzType.TD3:
            l2 += check_digit(opt)
        if kind in (MrzType.TD3, MrzType.TD2):
            l2 += check_digit(l2[0:10] + l2[13:20] + l2[21:])
        lines = [l1, l2]
    assert len(lines) == n and all(len(x) == length for x in lines), lines
    return lines


def break_check_digit(lines: Sequence[str], key: str) -> list[str]:
    """Copy of ``lines`` with one check digit made wrong (``key``: number, dob, expiry,
    optional, composite). Raises :class:`MrzError` if the format has no such check."""
    lines = list(lines)
    kind = detect_type(lines)
    for c in LAYOUTS[kind][1]:
        if c.key == key:
            ln, p = c.digit
            if c.key == "number":
                long = long_document_number(kind, lines)
                if long is not None:
                    ext = (lines[0][15:] if kind is MrzType.TD1 else lines[1][28:]).split(FILLER, 1)[0]
                    ln, p = (0, 15 + len(ext) - 1) if kind is MrzType.TD1 else (1, 28 + len(ext) - 1)
            old = lines[ln][p]
            new = str((int(old) + 1) % 10) if old.isdigit() else "1"
            return replace_char(lines, ln, p, new)
    raise MrzError(f"{kind.value} has no {key!r} check digit")
