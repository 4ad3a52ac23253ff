"""Strict parsing of clean MRZ lines: field values, the format check, one check per check digit, the dates check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from openidv.checks import CheckResult, Status
from openidv.document.mrz.charset import CHARSET, FILLER, SHAPES, MrzError, MrzType, check_digit
from openidv.document.mrz.layouts import LAYOUTS, CheckDigitSpec, detect_type
from openidv.document.mrz.result import Correction, MrzResult
from openidv.document.types import check


def _field_values(kind: MrzType, lines: Sequence[str]) -> dict[str, str]:
    spans, _ = LAYOUTS[kind]
    fields = {s.name: lines[s.line][s.start : s.end] for s in spans}
    if kind in (MrzType.TD1, MrzType.TD2):
        number, overflow_key = fields["document_number"], "optional_data"
        if fields["check_document_number"] == FILLER and fields[overflow_key][:1] not in ("", FILLER):
            # long document number: continues in the optional data, its check digit last
            opt = fields[overflow_key]
            ext = opt.split(FILLER, 1)[0]
            if len(ext) >= 2:
                fields["document_number"] = number + ext[:-1]
                fields["check_document_number"] = ext[-1]
                fields[overflow_key] = opt[len(ext) :]
    return fields


def long_document_number(kind: MrzType, lines: Sequence[str]) -> tuple[str, str] | None:
    """(data, digit) of a TD1/TD2 long document number, else ``None``."""
    if kind not in (MrzType.TD1, MrzType.TD2):
        return None
    f = _field_values(kind, lines)
    raw_number = lines[0][5:14] if kind is MrzType.TD1 else lines[1][0:9]
    if f["document_number"] != raw_number:
        return f["document_number"], f["check_document_number"]
    return None


def check_status(kind: MrzType, lines: Sequence[str], c: CheckDigitSpec) -> tuple[bool, str, str]:
    """(passes, expected digit, found digit)."""
    if c.key == "number":
        long = long_document_number(kind, lines)
        if long is not None:
            data, found = long
            try:
                expected = check_digit(data)
            except MrzError:
                return False, "?", found
            return found == expected, expected, found
    data = "".join(lines[ln][a:b] for ln, a, b in c.covers)
    found = lines[c.digit[0]][c.digit[1]]
    try:
        expected = check_digit(data)
    except MrzError:
        return False, "?", found
    if c.filler_ok and found == FILLER and set(data) <= {FILLER}:
        return True, expected, found
    return found == expected, expected, found


def count_failures(kind: MrzType, lines: Sequence[str]) -> int:
    return sum(not check_status(kind, lines, c)[0] for c in LAYOUTS[kind][1])


def parse_mrz(
    lines: Sequence[str],
    kind: MrzType | None = None,
    *,
    today: dt.date | None = None,
    raw_lines: Sequence[str] | None = None,
    corrections: Sequence[Correction] = (),
    unread: Sequence[tuple[int, int]] = (),
) -> MrzResult:
    """Parse clean MRZ lines (no correction).

    ``kind`` is detected from the shape when not given. Lines of the wrong length or with
    characters outside ``0-9A-Z<`` give a failed ``mrz_format`` check (short lines are
    padded with fillers for parsing); impossible shapes raise :class:`MrzError`.
    ``unread``: (line, position) of characters filled in where the text was cut off; a check
    digit over them is ``inconclusive`` / ``incomplete_read``, pass or fail (it was not read whole).
    """
    lines = [str(x) for x in lines]
    kind = kind or detect_type(lines)
    n, length = SHAPES[kind]
    if len(lines) != n:
        raise MrzError(f"{kind.value} needs {n} lines, got {len(lines)}")
    safe = [(ln + FILLER * length)[:length] for ln in lines]
    checks: list[CheckResult] = [_format_check(kind, lines, safe)]
    fixed_positions = {(c.line, c.position) for c in corrections if c.reason == "check_digit"}
    missing = set(unread)
    checks += [_check_digit_check(kind, safe, c, fixed_positions, missing) for c in LAYOUTS[kind][1]]
    fields = _field_values(kind, safe)
    result = MrzResult(
        kind,
        list(lines),
        fields,
        checks,
        raw_lines=list(raw_lines) if raw_lines is not None else list(lines),
        corrections=list(corrections),
        today=today or dt.date.today(),
        unread=sorted(set(unread)),
    )
    checks.append(_dates_check(result))
    return result


def _format_check(kind: MrzType, lines: Sequence[str], safe: Sequence[str]) -> CheckResult:
    """``mrz_format``: every line of the format's length, only ``0-9A-Z<``, a usual document code.
    ``safe``: the lines padded or cut to the format's length."""
    n, length = SHAPES[kind]
    problems = []
    for i, ln in enumerate(lines):
        if len(ln) != length:
            problems.append(f"line {i + 1} has {len(ln)} characters, {kind.value} needs {length}")
        bad = sorted(set(ln) - CHARSET)
        if bad:
            problems.append(f"line {i + 1} has characters outside 0-9 A-Z <: {''.join(bad)!r}")
    doc_code = safe[0][0]
    expected_first = "V" if kind in (MrzType.MRVA, MrzType.MRVB) else "PIAC"
    if doc_code not in expected_first:
        problems.append(f"document code {safe[0][:2]!r} is unusual for {kind.value}")
    return check(
        "mrz_format",
        Status.FAIL if problems else Status.PASS,
        "bad_format" if problems else "ok",
        0.0 if problems else 1.0,
        "; ".join(problems) or f"{kind.value}: {n} lines of {length}",
        type=kind.value,
    )


def _check_digit_check(
    kind: MrzType,
    safe: Sequence[str],
    c: CheckDigitSpec,
    fixed_positions: set[tuple[int, int]],
    missing: set[tuple[int, int]],
) -> CheckResult:
    """One check digit: pass / fail, or inconclusive when it covers characters not read
    (``missing``: (line, position) filled in). ``fixed_positions``: (line, position) changed by a
    check-digit-guided correction (the reason becomes ``valid_after_correction``)."""
    ok, expected, found = check_status(kind, safe, c)
    corrected = any(pos in fixed_positions for pos in check_positions(kind, c))
    cut = [ln for ln, p in check_positions(kind, c) if (ln, p) in missing]
    if cut:  # computed over filled-in characters: it verifies nothing, whatever it gives
        return check(
            c.name,
            Status.INCONCLUSIVE,
            "incomplete_read",
            None,
            f"check digit {found!r}, computed {expected!r} over characters not read: line {min(cut) + 1} was cut off",
            expected=expected,
            found=found,
            corrected=corrected,
        )
    return check(
        c.name,
        Status.PASS if ok else Status.FAIL,
        ("valid_after_correction" if corrected else "valid") if ok else "mismatch",
        1.0 if ok else 0.0,
        f"check digit {found!r}, computed {expected!r}",
        expected=expected,
        found=found,
        corrected=corrected,
    )


def _dates_check(result: MrzResult) -> CheckResult:
    """``mrz_dates``: the birth and expiry dates are real dates (all fillers is accepted)."""
    fields = result.fields
    bad_dates = [
        name
        for name, d in (("birth_date", result.birth_date()), ("expiry_date", result.expiry_date()))
        if d is None and fields.get(name, "") != FILLER * 6
    ]
    return check(
        "mrz_dates",
        Status.FAIL if bad_dates else Status.PASS,
        "invalid_date" if bad_dates else "ok",
        0.0 if bad_dates else 1.0,
        ", ".join(f"{n} {fields.get(n, '')!r} is not a date" for n in bad_dates) or "dates are real dates",
    )


def check_positions(kind: MrzType, c: CheckDigitSpec) -> list[tuple[int, int]]:
    out = [(ln, p) for ln, a, b in c.covers for p in range(a, b)]
    out.append(c.digit)
    return out
