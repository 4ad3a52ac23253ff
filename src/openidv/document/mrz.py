"""Machine-readable zones (ICAO Doc 9303): check digits, parsing, OCR correction, generation.

Pure string logic, no images. Formats:

========  =====  ==========================================================
type      lines  layout
========  =====  ==========================================================
``TD1``   3x30   ID cards: number on line 1, dates on line 2, names on line 3
``TD2``   2x36   ID documents: names on line 1, the rest on line 2
``TD3``   2x44   passports: names on line 1, the rest on line 2
``MRVA``  2x44   visas (document code ``V``), no composite check digit
``MRVB``  2x36   visas (document code ``V``), no composite check digit
========  =====  ==========================================================

Characters are ``0-9``, ``A-Z`` and the filler ``<``. A check digit is the weighted sum
(weights 7, 3, 1 repeating; ``<`` = 0, digits as themselves, ``A`` = 10 ... ``Z`` = 35)
modulo 10.

Entry points:

* :func:`check_digit` - the ICAO check digit of a string;
* :func:`parse_mrz` - strict parse of clean lines into a :class:`MrzResult`;
* :func:`correct_mrz` - OCR repair (character classes per position, filler confusions,
  line lengths, then check-digit-guided substitutions); returns the corrected lines and
  every correction made;
* :func:`read_mrz_text` - :func:`correct_mrz` then :func:`parse_mrz`, keeping the raw text;
* :func:`generate_mrz` / :func:`break_check_digit` - valid lines for synthetic documents
  and deliberately broken ones for tests.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from openidv.checks import CheckResult, Status
from openidv.document.types import FieldSource, FieldValue, check
from openidv.errors import OpenIDVError

FILLER = "<"
CHARSET = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<")
_WEIGHTS = (7, 3, 1)
#: most characters a line may have too many or too few and still be repaired
LENGTH_TOLERANCE = 4


class MrzError(OpenIDVError):
    """The text cannot be an MRZ (wrong number or length of lines, unknown layout)."""

    code = "bad_mrz"


class MrzType(StrEnum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"
    MRVA = "MRVA"
    MRVB = "MRVB"


#: (number of lines, line length) of each format
SHAPES: dict[MrzType, tuple[int, int]] = {
    MrzType.TD1: (3, 30),
    MrzType.TD2: (2, 36),
    MrzType.TD3: (2, 44),
    MrzType.MRVA: (2, 44),
    MrzType.MRVB: (2, 36),
}


def char_value(c: str) -> int:
    """ICAO value of one MRZ character; raises :class:`MrzError` outside ``0-9A-Z<``."""
    if c == FILLER:
        return 0
    if "0" <= c <= "9":
        return ord(c) - 48
    if "A" <= c <= "Z":
        return ord(c) - 55
    raise MrzError(f"character {c!r} is not allowed in an MRZ")


def check_digit(data: str) -> str:
    """The ICAO 9303 check digit (``"0"`` .. ``"9"``) of ``data``."""
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(data)) % 10)


# --------------------------------------------------------------------------- layouts

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
class _Check:
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


def _two_line_checks(length: int, composite: bool) -> list[_Check]:
    checks = [
        _Check("mrz_check_digit_document_number", "number", (1, 9), ((1, 0, 9),)),
        _Check("mrz_check_digit_birth_date", "dob", (1, 19), ((1, 13, 19),)),
        _Check("mrz_check_digit_expiry_date", "expiry", (1, 27), ((1, 21, 27),)),
    ]
    if length == 44 and composite:
        checks.append(_Check("mrz_check_digit_optional_data", "optional", (1, 42), ((1, 28, 42),), filler_ok=True))
    if composite:
        checks.append(
            _Check(
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
    _Check("mrz_check_digit_document_number", "number", (0, 14), ((0, 5, 14),)),
    _Check("mrz_check_digit_birth_date", "dob", (1, 6), ((1, 0, 6),)),
    _Check("mrz_check_digit_expiry_date", "expiry", (1, 14), ((1, 8, 14),)),
    _Check(
        "mrz_composite_check_digit",
        "composite",
        (1, 29),
        ((0, 5, 30), (1, 0, 7), (1, 8, 15), (1, 18, 29)),
    ),
]

_LAYOUTS: dict[MrzType, tuple[list[_Span], list[_Check]]] = {
    MrzType.TD1: (_TD1_SPANS, _TD1_CHECKS),
    MrzType.TD2: (_two_line_spans(36, True), _two_line_checks(36, True)),
    MrzType.TD3: (_two_line_spans(44, True), _two_line_checks(44, True)),
    MrzType.MRVA: (_two_line_spans(44, False), _two_line_checks(44, False)),
    MrzType.MRVB: (_two_line_spans(36, False), _two_line_checks(36, False)),
}

#: check name -> short key used by labelled data (number, dob, expiry, optional, composite)
CHECK_KEYS: dict[str, str] = {c.name: c.key for _, cs in _LAYOUTS.values() for c in cs}


def _kinds(kind: MrzType) -> list[list[str]]:
    """Position class of every character of every line."""
    n, length = SHAPES[kind]
    out = [["X"] * length for _ in range(n)]
    for s in _LAYOUTS[kind][0]:
        for p in range(s.start, s.end):
            out[s.line][p] = s.kind
    out[0][1] = "c"  # second letter of the document code: issuer's choice (``C1`` exists)
    return out


_KINDS: dict[MrzType, list[list[str]]] = {k: _kinds(k) for k in MrzType}


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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Correction:
    """One change made to the OCR text."""

    line: int  #: 0-based line index
    position: int  #: 0-based position in the line after the change (-1: whole line)
    before: str
    after: str
    reason: str  #: ``char_class``, ``filler``, ``length``, ``check_digit``, ``normalise``
    cost: float = 0.0  #: check-digit repairs: look-alike cost plus OCR improbability (lower = surer)

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "position": self.position,
            "before": self.before,
            "after": self.after,
            "reason": self.reason,
            **({"cost": round(self.cost, 2)} if self.cost else {}),
        }


@dataclass
class MrzResult:
    """A parsed MRZ.

    ``fields`` holds the raw field strings (fillers kept), e.g. ``document_number``,
    ``birth_date`` (``YYMMDD``), ``names``, ``check_document_number``. ``checks`` has one
    :class:`CheckResult` per check digit, plus ``mrz_format`` and ``mrz_dates``.
    """

    type: MrzType
    lines: list[str]  #: the lines parsed (after correction, when there was any)
    fields: dict[str, str]
    checks: list[CheckResult]
    raw_lines: list[str] = field(default_factory=list)  #: the text as given (OCR output)
    corrections: list[Correction] = field(default_factory=list)
    today: dt.date = field(default_factory=dt.date.today)  #: reference date for the century
    #: (line, position) of characters not read but filled in at a line's start or end (the text
    #: was cut off there, e.g. by the photo's edge); the fields over them are not reported
    unread: list[tuple[int, int]] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        """Every check passes (format, dates and every check digit)."""
        return bool(self.checks) and all(c.status is Status.PASS for c in self.checks)

    @property
    def corrected(self) -> bool:
        return bool(self.corrections)

    def check_digits(self) -> dict[str, bool]:
        """Short key (``number``, ``dob``, ``expiry``, ``optional``, ``composite``) -> passes."""
        return {CHECK_KEYS[c.name]: c.status is Status.PASS for c in self.checks if c.name in CHECK_KEYS}

    def names(self) -> tuple[str, str]:
        """(primary identifier, secondary identifier), fillers turned into single spaces."""
        raw = self.fields.get("names", "")
        primary, _, secondary = raw.partition("<<")
        return _clean_name(primary), _clean_name(secondary)

    def birth_date(self) -> dt.date | None:
        return parse_date(self.fields.get("birth_date", ""), birth=True, today=self.today)

    def expiry_date(self) -> dt.date | None:
        return parse_date(self.fields.get("expiry_date", ""), birth=False, today=self.today)

    def to_fields(self, confidence: float | None = None) -> list[FieldValue]:
        """Canonical fields (source MRZ): names upper case without fillers, ISO dates,
        countries as ISO alpha-3 (``D`` -> ``DEU``), sex ``M``/``F``/``X``."""
        out: list[FieldValue] = []
        unread = set(self.unread)
        incomplete = {
            s.name for s in _LAYOUTS[self.type][0] if any((s.line, p) in unread for p in range(s.start, s.end))
        }
        sources = {"family_name": "names", "given_names": "names", "issuing_country": "issuing_state"}

        def add(name: str, value: str, raw: str) -> None:
            if value and sources.get(name, name) not in incomplete:
                out.append(FieldValue(name, value, FieldSource.MRZ, raw=raw, confidence=confidence))

        family, given = self.names()
        add("family_name", family, self.fields.get("names", "").partition("<<")[0])
        add("given_names", given, self.fields.get("names", "").partition("<<")[2])
        number = self.fields.get("document_number", "")
        add("document_number", number.replace(FILLER, ""), number)
        for name, key in (("birth_date", "birth_date"), ("expiry_date", "expiry_date")):
            d = self.birth_date() if name == "birth_date" else self.expiry_date()
            if d is not None:
                add(name, d.isoformat(), self.fields.get(key, ""))
        for name, key in (("nationality", "nationality"), ("issuing_country", "issuing_state")):
            raw = self.fields.get(key, "")
            add(name, country_code(raw), raw)
        sex = self.fields.get("sex", "")
        if sex in ("M", "F", "X", FILLER):
            add("sex", "X" if sex == FILLER else sex, sex)
        optional = "".join(self.fields.get(k, "") for k in ("optional_data", "optional_data_2"))
        add("optional_data", " ".join(optional.replace(FILLER, " ").split()), optional)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type.value,
            "lines": self.lines,
            "raw_lines": self.raw_lines,
            "valid": self.valid,
            "fields": dict(self.fields),
            "checks": [c.to_dict() for c in self.checks],
            "corrections": [c.to_dict() for c in self.corrections],
            "unread": [list(pos) for pos in self.unread],
        }


def _clean_name(s: str) -> str:
    return " ".join(s.replace(FILLER, " ").split())


#: ICAO 9303 codes that are not ISO 3166-1 alpha-3
_ICAO_TO_ISO = {"D": "DEU"}


def country_code(raw: str) -> str:
    """ICAO three-letter code without fillers, with ICAO-only codes mapped to ISO (``D`` -> ``DEU``)."""
    code = raw.replace(FILLER, "")
    return _ICAO_TO_ISO.get(code, code)


def parse_date(yymmdd: str, *, birth: bool, today: dt.date | None = None) -> dt.date | None:
    """``YYMMDD`` -> date, or ``None`` when not a real date.

    Century: a birth date is in the 2000s unless that would be after ``today`` (then the
    1900s); an expiry date is in the 2000s unless that is more than 50 years after
    ``today`` (then the 1900s).
    """
    if len(yymmdd) != 6 or not yymmdd.isdigit():
        return None
    today = today or dt.date.today()
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    for century in (2000, 1900):
        try:
            d = dt.date(century + yy, mm, dd)
        except ValueError:
            return None
        if birth and d <= today:
            return d
        if not birth and d.year <= today.year + 50:
            return d
    return None


# --------------------------------------------------------------------------- parsing


def _field_values(kind: MrzType, lines: Sequence[str]) -> dict[str, str]:
    spans, _ = _LAYOUTS[kind]
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


def _long_number(kind: MrzType, lines: Sequence[str]) -> tuple[str, str] | None:
    """(data, digit) of a TD1/TD2 long document number, else ``None``."""
    if kind not in (MrzType.TD1, MrzType.TD2):
        return None
    f = _field_values(kind, lines)
    raw_number = lines[0][5:14] if kind is MrzType.TD1 else lines[1][0:9]
    if f["document_number"] != raw_number:
        return f["document_number"], f["check_document_number"]
    return None


def _check_status(kind: MrzType, lines: Sequence[str], c: _Check) -> tuple[bool, str, str]:
    """(passes, expected digit, found digit)."""
    if c.key == "number":
        long = _long_number(kind, lines)
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


def _failures(kind: MrzType, lines: Sequence[str]) -> int:
    return sum(not _check_status(kind, lines, c)[0] for c in _LAYOUTS[kind][1])


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
    problems = []
    for i, ln in enumerate(lines):
        if len(ln) != length:
            problems.append(f"line {i + 1} has {len(ln)} characters, {kind.value} needs {length}")
        bad = sorted(set(ln) - CHARSET)
        if bad:
            problems.append(f"line {i + 1} has characters outside 0-9 A-Z <: {''.join(bad)!r}")
    safe = [(ln + FILLER * length)[:length] for ln in lines]
    doc_code = safe[0][0]
    expected_first = "V" if kind in (MrzType.MRVA, MrzType.MRVB) else "PIAC"
    if doc_code not in expected_first:
        problems.append(f"document code {safe[0][:2]!r} is unusual for {kind.value}")
    checks: list[CheckResult] = [
        check(
            "mrz_format",
            Status.FAIL if problems else Status.PASS,
            "bad_format" if problems else "ok",
            0.0 if problems else 1.0,
            "; ".join(problems) or f"{kind.value}: {n} lines of {length}",
            type=kind.value,
        )
    ]
    fixed_positions = {(c.line, c.position) for c in corrections if c.reason == "check_digit"}
    missing = set(unread)
    for c in _LAYOUTS[kind][1]:
        ok, expected, found = _check_status(kind, safe, c)
        corrected = any(pos in fixed_positions for pos in _positions(kind, c))
        cut = [ln for ln, p in _positions(kind, c) if (ln, p) in missing]
        if cut:  # computed over filled-in characters: it verifies nothing, whatever it gives
            checks.append(
                check(
                    c.name,
                    Status.INCONCLUSIVE,
                    "incomplete_read",
                    None,
                    f"check digit {found!r}, computed {expected!r} over characters not read: "
                    f"line {min(cut) + 1} was cut off",
                    expected=expected,
                    found=found,
                    corrected=corrected,
                )
            )
            continue
        checks.append(
            check(
                c.name,
                Status.PASS if ok else Status.FAIL,
                ("valid_after_correction" if corrected else "valid") if ok else "mismatch",
                1.0 if ok else 0.0,
                f"check digit {found!r}, computed {expected!r}",
                expected=expected,
                found=found,
                corrected=corrected,
            )
        )
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
    bad_dates = [
        name
        for name, d in (("birth_date", result.birth_date()), ("expiry_date", result.expiry_date()))
        if d is None and fields.get(name, "") != FILLER * 6
    ]
    checks.append(
        check(
            "mrz_dates",
            Status.FAIL if bad_dates else Status.PASS,
            "invalid_date" if bad_dates else "ok",
            0.0 if bad_dates else 1.0,
            ", ".join(f"{n} {fields.get(n, '')!r} is not a date" for n in bad_dates) or "dates are real dates",
        )
    )
    return result


def _positions(kind: MrzType, c: _Check) -> list[tuple[int, int]]:
    out = [(ln, p) for ln, a, b in c.covers for p in range(a, b)]
    out.append(c.digit)
    return out


# --------------------------------------------------------------------------- OCR correction

_TO_DIGIT = {"O": "0", "Q": "0", "D": "0", "U": "0", "I": "1", "L": "1", "J": "1", "Z": "2", "S": "5"}
_TO_DIGIT |= {"G": "6", "B": "8", "T": "7", "A": "4"}
_TO_ALPHA = {"0": "O", "1": "I", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "B"}
#: characters the OCR may give for a filler ``<``
_FILLER_LIKE = set("KXCL")
#: unicode and punctuation look-alikes, mapped before anything else
_NORMALISE = {
    "«": "<",
    "‹": "<",
    "〈": "<",
    "(": "<",
    "[": "<",
    "{": "<",
    "Φ": "0",
    "Ø": "0",
    "θ": "0",
    "Θ": "0",
    "О": "O",  # Cyrillic
    "С": "C",
    "К": "K",
    "|": "1",
    "!": "1",
    "$": "S",
    "€": "E",
    "£": "E",
    "&": "8",
    "@": "0",
    "§": "S",
}

#: plausible alternative readings with a cost (1: letter/digit look-alikes, 2: digit shapes)
_ALTERNATIVES: dict[str, tuple[tuple[str, int], ...]] = {
    "0": (("O", 1), ("D", 1), ("Q", 1), ("8", 2), ("6", 2), ("9", 2)),
    "1": (("I", 1), ("L", 1), ("7", 2), ("4", 2), ("T", 2)),
    "2": (("Z", 1), ("7", 2)),
    "3": (("8", 2), ("9", 2), ("5", 2)),
    "4": (("A", 1), ("1", 2), ("9", 2)),
    "5": (("S", 1), ("6", 2), ("3", 2)),
    "6": (("G", 1), ("5", 2), ("8", 2), ("0", 2)),
    "7": (("T", 1), ("1", 2), ("2", 2)),
    "8": (("B", 1), ("3", 2), ("6", 2), ("0", 2), ("9", 2)),
    "9": (("8", 2), ("3", 2), ("0", 2), ("4", 2)),
    "O": (("0", 1), ("D", 1), ("Q", 1)),
    "D": (("0", 1), ("O", 1)),
    "Q": (("0", 1), ("O", 1)),
    "I": (("1", 1), ("L", 2)),
    "L": (("1", 1), ("I", 2), ("<", 2)),
    "Z": (("2", 1),),
    "S": (("5", 1),),
    "G": (("6", 1),),
    "B": (("8", 1),),
    "T": (("7", 1),),
    "A": (("4", 1),),
    "K": (("<", 1),),
    "X": (("<", 2),),
    "C": (("<", 2),),
    "<": (("K", 2),),
}


def _allowed(kind: str, c: str) -> bool:
    if c == FILLER:
        return kind != "D"
    if kind in ("N", "D"):
        return c.isdigit()
    if kind in ("A", "C"):
        return "A" <= c <= "Z"
    if kind == "c":
        return c in CHARSET
    if kind == "S":
        return c in "MFX"
    return c in CHARSET


def _normalise_char(c: str) -> str:
    """Upper case, look-alike symbols mapped, accented letters transliterated (Ñ -> N)."""
    c = _NORMALISE.get(c, c)
    c = c.upper()[:1] or c
    c = _NORMALISE.get(c, c)
    if c not in CHARSET and c != " ":
        base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        if len(base) == 1 and base in CHARSET:
            c = base
    return c


def _normalise_text(line: str) -> tuple[str, list[int]]:
    """Normalised text and, per character, its index in ``line``; outer spaces dropped."""
    chars = [_normalise_char(c) for c in line]
    keep = [i for i, c in enumerate(chars) if not c.isspace()]
    if not keep:
        return "", []
    idx = list(range(keep[0], keep[-1] + 1))
    return "".join(" " if chars[i].isspace() else chars[i] for i in idx), idx


# ISO 3166-1 alpha-3 codes, and the ICAO 9303 codes that are not in ISO 3166
_COUNTRY_TEXT = """
    AFG ALA ALB DZA ASM AND AGO AIA ATA ATG ARG ARM ABW AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN BMU BTN
    BOL BES BIH BWA BVT BRA IOT BRN BGR BFA BDI CPV KHM CMR CAN CYM CAF TCD CHL CHN CXR CCK COL COM COG COD
    COK CRI CIV HRV CUB CUW CYP CZE DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FLK FRO FJI FIN FRA GUF
    PYF ATF GAB GMB GEO DEU GHA GIB GRC GRL GRD GLP GUM GTM GGY GIN GNB GUY HTI HMD VAT HND HKG HUN ISL IND
    IDN IRN IRQ IRL IMN ISR ITA JAM JPN JEY JOR KAZ KEN KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY LIE LTU
    LUX MAC MDG MWI MYS MDV MLI MLT MHL MTQ MRT MUS MYT MEX FSM MDA MCO MNG MNE MSR MAR MOZ MMR NAM NRU NPL
    NLD NCL NZL NIC NER NGA NIU NFK MKD MNP NOR OMN PAK PLW PSE PAN PNG PRY PER PHL PCN POL PRT PRI QAT REU
    ROU RUS RWA BLM SHN KNA LCA MAF SPM VCT WSM SMR STP SAU SEN SRB SYC SLE SGP SXM SVK SVN SLB SOM ZAF SGS
    SSD ESP LKA SDN SUR SJM SWE CHE SYR TWN TJK TZA THA TLS TGO TKL TON TTO TUN TUR TKM TCA TUV UGA UKR ARE
    GBR USA UMI URY UZB VUT VEN VNM VGB VIR WLF ESH YEM ZMB ZWE D<< UTO XXA XXB XXC XXX XOM XPO XCC XCO XEC
    XES XIM XDC XBA XCE XAU XMP XXK EUE UNO UNA UNK GBD GBN GBO GBP GBS RKS
"""
_COUNTRIES = frozenset(_COUNTRY_TEXT.split())
_ALPHA_ALTS: dict[str, str] = {"0": "ODQ", "1": "IL", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T", "8": "BR"}


def _fix_country(code: str) -> str:
    """A 3-character state code with digits read for letters: the known code it can be, else as read."""
    if all("A" <= c <= "Z" or c == FILLER for c in code):
        return code
    options = [list(_ALPHA_ALTS.get(c, c)) for c in code]
    for cand in itertools.product(*options):
        text = "".join(cand)
        if text in _COUNTRIES:
            return text
    if all(c in _TO_ALPHA or "A" <= c <= "Z" or c == FILLER for c in code):
        return "".join(_TO_ALPHA.get(c, c) for c in code)  # all look like letters: an unlisted code
    return code  # a character no letter looks like: printed as digits, keep


def _fix_spaces(line: str, length: int) -> list[int]:
    """Indices of ``line`` to keep (-1: a filler inserted) so that inner spaces are handled:
    dropped when that gives the right length, else each run of spaces becomes one filler."""
    if " " not in line:
        return list(range(len(line)))
    removed = [i for i, c in enumerate(line) if c != " "]
    if len(removed) == length:
        return removed
    collapsed: list[int] = []
    for i, c in enumerate(line):
        if c == " ":
            if collapsed and collapsed[-1] == -1:
                continue
            collapsed.append(-1)
        else:
            collapsed.append(i)
    if len(collapsed) == length:
        return collapsed
    return removed


def _length_variants(line: str, length: int) -> list[list[int]]:
    """Candidate repairs of a line whose length is wrong, as index lists (-1: an inserted
    filler), most plausible first: fillers added to / removed from a filler run, else at an end."""
    n = len(line)
    diff = length - n
    ident = list(range(n))
    if diff == 0:
        return [ident]
    runs = sorted(((m.end() - m.start(), m.start(), m.end()) for m in re.finditer(r"<{2,}", line)), reverse=True)
    out: list[list[int]] = []
    if diff > 0:
        for _, _a, b in runs:
            out.append(ident[:b] + [-1] * diff + ident[b:])
        out.append(ident + [-1] * diff)
        out.append([-1] * diff + ident)
    else:
        k = -diff
        for size, _a, b in runs:
            if size - k >= 1:
                out.append(ident[: b - k] + ident[b:])
        out.append(ident[:length])
        out.append(ident[k:])
    seen: list[list[int]] = []
    for v in out:
        if len(v) == length and v not in seen:
            seen.append(v)
    return seen or [(ident + [-1] * length)[:length]]


def _take(line: str, idx: Sequence[int]) -> str:
    return "".join(line[i] if i >= 0 else FILLER for i in idx)


def _class_fix(kind: MrzType, lines: list[str], alts: list[list[dict[str, float]]] | None = None) -> list[str]:
    """Map characters to their position's class (digits in dates, letters in names, ...):
    the recogniser's most probable allowed candidate when it gave some, else a fixed
    look-alike table."""
    kinds = _KINDS[kind]
    out = []
    for i, ln in enumerate(lines):
        chars = list(ln)
        for p, c in enumerate(chars):
            k = kinds[i][p]
            if _allowed(k, c):
                continue
            ocr = alts[i][p] if alts is not None and i < len(alts) and p < len(alts[i]) else {}
            allowed = [(prob, a) for a, prob in ocr.items() if _allowed(k, a) and a != FILLER and prob >= 1e-3]
            if allowed:
                chars[p] = max(allowed)[1]
                continue
            if k in ("N", "D"):
                chars[p] = _TO_DIGIT.get(c, c)
            elif k in ("A", "C"):
                chars[p] = _TO_ALPHA.get(c, c)
            elif k == "c":
                chars[p] = FILLER
            elif k == "S":
                chars[p] = {"H": "M", "N": "M", "P": "F", "E": "F", "K": FILLER, "C": FILLER}.get(c, c)
        if i == 0 and len(chars) > 1 and chars[0] == "I" and chars[1] in "0OQ":
            chars[1] = "D"  # ``ID``: no document code is ``IO`` or ``I0``
        # filler look-alikes: a K/X/C/L between fillers (two before it; two after it, or the line end)
        for p, c in enumerate(chars):
            if c in _FILLER_LIKE and kinds[i][p] != "D":
                left = "".join(chars[max(0, p - 2) : p])
                right = "".join(chars[p + 1 : p + 3])
                if left == "<<" and (right == "<<" or p + 1 == len(chars) or right == "<" == chars[-1]):
                    chars[p] = FILLER
        for span in _LAYOUTS[kind][0]:
            if span.line == i and span.name in ("issuing_state", "nationality"):
                chars[span.start : span.end] = list(_fix_country(ln[span.start : span.end]))
        # anything still outside the character set: a filler
        out.append("".join(c if c in CHARSET else FILLER for c in chars))
    return out


Alternatives = Sequence[Sequence[Mapping[str, float]]]
#: highest accepted cost of one check-digit-guided substitution: a look-alike (1-2) that the
#: OCR found at most about 100 times less likely than what it read
MAX_REPAIR_COST = 4.0


def _repair_by_check_digits(
    kind: MrzType, lines: list[str], alts: list[list[dict[str, float]]]
) -> tuple[list[str], list[Correction]]:
    """Greedy, check-digit-guided substitution of ambiguous characters.

    Each round tries every single plausible substitution in the fields of failing checks
    (and the composite-only fields when only the composite fails) and keeps the change
    that removes the most failures at the lowest cost, provided no different change ties
    with it. The cost of a substitution is its look-alike cost (1 letter/digit look-alikes,
    2 digit shapes) plus, when the OCR gave per-character probabilities, how much less
    likely the OCR found the alternative (-log10 of the probability ratio). Then pairs of
    substitutions inside one failing field. Stops when every check passes or nothing helps.
    """
    _, checks = _LAYOUTS[kind]
    kinds = _KINDS[kind]
    corrections: list[Correction] = []
    lines = list(lines)
    for _round in range(4):
        base = _failures(kind, lines)
        if base == 0:
            break
        failing = [c for c in checks if not _check_status(kind, lines, c)[0]]
        protected = {p for c in checks if c not in failing for p in _positions(kind, c)}
        suspects: list[tuple[int, int]] = []
        for c in failing:
            for pos in _positions(kind, c):
                if c.key == "composite" and pos in protected:
                    continue
                if pos not in suspects:
                    suspects.append(pos)
        best: list[tuple[int, float, list[str], list[tuple[int, int, str, str]]]] = []
        singles = list(_substitutions(lines, kinds, alts, suspects))
        for (ln, p), alt, cost in singles:
            cand = _replace(lines, ln, p, alt)
            f = _failures(kind, cand)
            if f < base:
                best.append((f, cost, cand, [(ln, p, lines[ln][p], alt)]))
        if not best:
            for c in failing:
                region = {q for q in _positions(kind, c) if not (c.key == "composite" and q in protected)}
                cheap = sorted((s for s in singles if s[0] in region), key=lambda s: s[2])[:40]
                for s1, s2 in itertools.combinations(cheap, 2):
                    if s1[0] == s2[0]:
                        continue
                    cand = _replace(_replace(lines, *s1[0], s1[1]), *s2[0], s2[1])
                    f = _failures(kind, cand)
                    if f < base:
                        changes = [(s1[0][0], s1[0][1], lines[s1[0][0]][s1[0][1]], s1[1])]
                        changes.append((s2[0][0], s2[0][1], lines[s2[0][0]][s2[0][1]], s2[1]))
                        best.append((f, s1[2] + s2[2] + 1.0, cand, changes))
        if not best:
            break
        best = [b for b in best if b[1] <= MAX_REPAIR_COST * len(b[3])]
        if not best:
            break
        best.sort(key=lambda t: (t[0], t[1]))
        top = best[0]
        if len(best) > 1 and best[1][0] == top[0] and abs(best[1][1] - top[1]) < 1e-6 and best[1][2] != top[2]:
            break  # ambiguous: two different readings fit equally well
        lines = top[2]
        corrections.extend(Correction(ln, p, b, a, "check_digit", top[1] / len(top[3])) for ln, p, b, a in top[3])
    return lines, corrections


def _substitutions(
    lines: list[str],
    kinds: list[list[str]],
    alts: list[list[dict[str, float]]],
    positions: Iterable[tuple[int, int]],
) -> Iterable[tuple[tuple[int, int], str, float]]:
    for ln, p in positions:
        c = lines[ln][p]
        ocr = alts[ln][p] if ln < len(alts) and p < len(alts[ln]) else {}
        options: dict[str, float] = {}
        for alt, cost in _ALTERNATIVES.get(c, ()):
            options[alt] = float(cost)
        for alt in ocr:
            if alt != c and alt not in options:
                options[alt] = 3.0  # the OCR's own second choice, not a known look-alike
        top = max(ocr.values()) if ocr else 0.0
        for alt, look_alike in options.items():
            if not _allowed(kinds[ln][p], alt):
                continue
            penalty = min(6.0, -math.log10((ocr.get(alt, 0.0) + 1e-6) / (top + 1e-6))) if ocr else 0.0
            yield (ln, p), alt, look_alike + penalty


def _replace(lines: list[str], ln: int, p: int, c: str) -> list[str]:
    out = list(lines)
    out[ln] = out[ln][:p] + c + out[ln][p + 1 :]
    return out


def _ocr_alternatives(line_alts: Sequence[Mapping[str, float]], kind_row: Sequence[str]) -> list[dict[str, float]]:
    """Normalise the OCR's per-character candidates (char -> probability) to MRZ characters."""
    out: list[dict[str, float]] = []
    for cand in line_alts:
        d: dict[str, float] = {}
        for ch, prob in cand.items():
            c = _normalise_char(str(ch)[:1] or " ")
            if c in CHARSET:
                d[c] = max(d.get(c, 0.0), float(prob))
        out.append(d)
    return out


@dataclass(frozen=True)
class CorrectedMrz:
    type: MrzType
    raw_lines: list[str]
    lines: list[str]
    corrections: list[Correction]
    unread: list[tuple[int, int]] = field(default_factory=list)  #: see :attr:`MrzResult.unread`


def correct_mrz(
    raw_lines: Sequence[str], kind: MrzType | None = None, *, alternatives: Alternatives | None = None
) -> CorrectedMrz:
    """Repair OCR text of an MRZ: look-alike characters, fillers, lengths, check digits.

    ``alternatives`` (optional): per line, per character of ``raw_lines``, the OCR's
    candidate characters with their probabilities; they rank the check-digit repairs.
    Raises :class:`MrzError` when the text cannot be an MRZ (number or length of lines).
    """
    raw = [str(x) for x in raw_lines]
    pairs = [(_normalise_text(x), i) for i, x in enumerate(raw)]
    pairs = [(t, i) for t, i in pairs if t[0]]
    norm = [t[0] for t, _ in pairs]
    src_alts: list[list[dict[str, float]]] = []
    for (_text, idx), i in pairs:
        given = list(alternatives[i]) if alternatives is not None and i < len(alternatives) else []
        row = _ocr_alternatives(given, []) if given else []
        src_alts.append([row[j] if 0 <= j < len(row) else {} for j in idx])
    kind = kind or detect_type([x.replace(" ", "") for x in norm])
    _, length = SHAPES[kind]
    corrections: list[Correction] = []
    space_idx = [_fix_spaces(x, length) for x in norm]
    spaced = [_take(x, idx) for x, idx in zip(norm, space_idx, strict=True)]
    spaced_alts = [[a[j] if j >= 0 else {} for j in idx] for a, idx in zip(src_alts, space_idx, strict=True)]
    for i, ((_, i_raw), b) in enumerate(zip(pairs, spaced, strict=True)):
        a = raw[i_raw]
        if a != b and a.upper().strip() != b:
            corrections.append(Correction(i, -1, a, b, "normalise"))
    # length: choose the combination of per-line repairs with the fewest failing checks
    variants = [_length_variants(x, length) for x in spaced]
    best_combo: tuple[list[int], ...] | None = None
    best_score = (10**6, 10**6)
    for combo in itertools.islice(itertools.product(*variants), 200):
        fixed = _class_fix(kind, [_take(x, idx) for x, idx in zip(spaced, combo, strict=True)])
        rank = sum(v.index(c) for v, c in zip(variants, combo, strict=True))
        score = (_failures(kind, fixed), rank)
        if score < best_score:
            best_score, best_combo = score, combo
    assert best_combo is not None
    best_lines = [_take(x, idx) for x, idx in zip(spaced, best_combo, strict=True)]
    alts = [[a[j] if j >= 0 else {} for j in idx] for a, idx in zip(spaced_alts, best_combo, strict=True)]
    for i, (a, b) in enumerate(zip(spaced, best_lines, strict=True)):
        if a != b:
            corrections.append(Correction(i, -1, a, b, "length"))
    fixed = _class_fix(kind, best_lines, alts)
    for i, (a, b) in enumerate(zip(best_lines, fixed, strict=True)):
        for p, (ca, cb) in enumerate(zip(a, b, strict=True)):
            if ca != cb:
                corrections.append(Correction(i, p, ca, cb, "filler" if cb == FILLER else "char_class"))
    repaired, cd_fixes = _repair_by_check_digits(kind, fixed, alts)
    corrections.extend(cd_fixes)
    if kind in (MrzType.TD3, MrzType.TD2) and repaired[0][:1] == "V":
        kind = MrzType.MRVA if kind is MrzType.TD3 else MrzType.MRVB
    unread = [(i, p) for i, (x, idx) in enumerate(zip(spaced, best_combo, strict=True)) for p in _cut_off(x, idx)]
    return CorrectedMrz(kind, raw, repaired, corrections, unread)


def _cut_off(line: str, idx: Sequence[int]) -> list[int]:
    """Positions a length repair filled in at the start of ``line``, or at its end after a
    character other than a filler: text missing there (cut off), not a filler missed in a run."""
    read = [p for p, j in enumerate(idx) if j >= 0]
    if not read:
        return list(range(len(idx)))
    first, last = read[0], read[-1]
    trailing = [] if line[idx[last]] == FILLER else list(range(last + 1, len(idx)))
    return list(range(first)) + trailing


def read_mrz_text(
    raw_lines: Sequence[str], *, today: dt.date | None = None, alternatives: Alternatives | None = None
) -> MrzResult:
    """Correct OCR text (:func:`correct_mrz`) and parse it; keeps the raw text and corrections."""
    c = correct_mrz(raw_lines, alternatives=alternatives)
    return parse_mrz(c.lines, c.type, today=today, raw_lines=c.raw_lines, corrections=c.corrections, unread=c.unread)


# --------------------------------------------------------------------------- generation


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
    for c in _LAYOUTS[kind][1]:
        if c.key == key:
            ln, p = c.digit
            if c.key == "number":
                long = _long_number(kind, lines)
                if long is not None:
                    ext = (lines[0][15:] if kind is MrzType.TD1 else lines[1][28:]).split(FILLER, 1)[0]
                    ln, p = (0, 15 + len(ext) - 1) if kind is MrzType.TD1 else (1, 28 + len(ext) - 1)
            old = lines[ln][p]
            new = str((int(old) + 1) % 10) if old.isdigit() else "1"
            return _replace(lines, ln, p, new)
    raise MrzError(f"{kind.value} has no {key!r} check digit")
