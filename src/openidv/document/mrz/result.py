"""A parsed MRZ (:class:`MrzResult`), the corrections made to OCR text, and its dates and country codes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from openidv.checks import CheckResult, Status
from openidv.document.mrz.charset import FILLER, MrzType
from openidv.document.mrz.layouts import CHECK_KEYS, LAYOUTS
from openidv.document.types import FieldSource, FieldValue


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
            s.name for s in LAYOUTS[self.type][0] if any((s.line, p) in unread for p in range(s.start, s.end))
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
