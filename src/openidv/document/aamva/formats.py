"""Dates and value formats of AAMVA elements: CCYYMMDD / MMDDCCYY dates, heights, postal codes, eye and hair colours."""

from __future__ import annotations

import datetime as dt
import re

from openidv.document.aamva.elements import DATE_ELEMENTS

_EYE_COLOURS = frozenset({"BLK", "BLU", "BRO", "GRY", "GRN", "HAZ", "MAR", "PNK", "DIC", "UNK"})
_HAIR_COLOURS = frozenset({"BAL", "BLK", "BLN", "BRO", "GRY", "RED", "SDY", "WHI", "UNK"})


def _ymd(value: str, order: str) -> dt.date | None:
    if len(value) != 8 or not value.isdigit():
        return None
    if order == "YMD":
        y, m, d = int(value[:4]), int(value[4:6]), int(value[6:])
    else:
        m, d, y = int(value[:2]), int(value[2:4]), int(value[4:])
    try:
        return dt.date(y, m, d) if y >= 1 else None
    except ValueError:
        return None


def parse_aamva_date(value: str, order: str) -> dt.date | None:
    """An 8-digit AAMVA date in ``order`` (``MDY`` = MMDDCCYY, ``YMD`` = CCYYMMDD), or ``None``.

    Only the given order is tried: a date that is valid only in the other order is a
    format error of the payload, not something to guess silently (see :func:`date_order_mismatch`).
    """
    return _ymd(value.strip(), order)


def date_order_mismatch(value: str, order: str) -> bool:
    """True when ``value`` is not a valid date in ``order`` but is one in the other order."""
    other = "MDY" if order == "YMD" else "YMD"
    return _ymd(value.strip(), order) is None and _ymd(value.strip(), other) is not None


_HEIGHT_RE = re.compile(r"^\d{2,3}\s*(IN|CM)?$|^\d{3}$", re.IGNORECASE)
_US_POSTAL_RE = re.compile(r"^\d{5}(?:-?\d{4})?-?$")
_CA_POSTAL_RE = re.compile(r"^[A-Z]\d[A-Z]\s?\d[A-Z]\d$")


def format_ok(element: str, value: str, order: str | None = None) -> bool | None:
    """Whether ``value`` (stripped) fits the element's format; ``None`` when there is no rule.

    ``order`` is the date order; ``None`` accepts either (used by the separator-less splitter).
    """
    v = value.strip()
    if element in DATE_ELEMENTS:
        if order is None:
            return _ymd(v, "MDY") is not None or _ymd(v, "YMD") is not None
        return _ymd(v, order) is not None
    if element == "DBC":
        return v.upper() in {"1", "2", "9", "M", "F", "X", "U", "0"}
    if element in {"DAJ", "DAO"}:
        return len(v) == 2 and v.isalpha()
    if element in {"DAK", "DAP"}:
        compact = v.upper()
        return bool(_US_POSTAL_RE.match(compact.replace(" ", ""))) or bool(_CA_POSTAL_RE.match(compact))
    if element in {"DDE", "DDF", "DDG"}:
        return v.upper() in {"T", "N", "U"}
    if element == "DCG":
        return v.upper() in {"USA", "CAN"}
    if element == "DAY":
        return v.upper() in _EYE_COLOURS
    if element == "DAZ":
        return v.upper() in _HAIR_COLOURS
    if element == "DAU":
        return bool(_HEIGHT_RE.match(v))
    if element == "DDA":
        return v.upper() in {"F", "N", "M"}
    if element in {"DDD", "DDK", "DDL"}:
        return v in {"0", "1"}
    return None


def other_date_order(elements: dict[str, str], expected: str) -> str | None:
    """The other date order when every key date (DBA, DBB, DBD) is valid only in it, else ``None``."""
    other = "MDY" if expected == "YMD" else "YMD"
    values = [elements.get(e, "").strip() for e in ("DBA", "DBB", "DBD")]
    values = [v for v in values if v not in {"", "00000000", "99999999"}]
    if values and all(_ymd(v, expected) is None and _ymd(v, other) is not None for v in values):
        return other
    return None
