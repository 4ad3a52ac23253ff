"""Normalising field values so that the barcode, the MRZ and printed text can be compared."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

MONTHS = {
    m: i + 1 for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))
}
_MONTH_ALIASES = {
    "JANV": 1,
    "FEVR": 2,
    "FEV": 2,
    "MARS": 3,
    "AVR": 4,
    "MAI": 5,
    "JUIN": 6,
    "JUIL": 7,
    "AOUT": 8,
    "SEPT": 9,
    "DEC": 12,
}

_DATE_PATTERNS = (
    # 01/15/1985, 01-15-1985, 01.15.1985 (US order: month first)
    (re.compile(r"\b(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4})\b"), "mdy"),
    # 1985-01-15
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    # 15 JAN 1985, 15 JAN/JAN 1985, 15JAN1985
    (re.compile(r"\b(\d{1,2})\s*([A-Z]{3,4})(?:\s*/\s*[A-Z]{3,4})?\s*(\d{4})\b"), "dMy"),
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def normalize_name(text: str) -> str:
    """Upper case, no diacritics, letters/spaces/hyphens/apostrophes only, single-spaced."""
    text = strip_accents(text).upper().replace("<", " ").replace(",", " ")
    text = re.sub(r"[^A-Z' \-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def name_tokens(text: str) -> list[str]:
    return [t for t in re.split(r"[ \-']+", normalize_name(text)) if t]


def normalize_document_number(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", strip_accents(text).upper())


def comparable(text: str) -> str:
    """A value reduced for comparing readings: upper case, no diacritics, letters and digits only
    (``"S514-172-80-844-0"`` -> ``"S514172808440"``, ``"Tina, A"`` -> ``"TINAA"``)."""
    return re.sub(r"[^A-Z0-9]", "", strip_accents(text).upper())


def parse_date(text: str, *, order: str = "mdy") -> date | None:
    """Find the first date in ``text``; numeric dates are read in ``order`` (``mdy`` or ``dmy``)."""
    upper = strip_accents(text).upper()
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.search(upper)
        if not m:
            continue
        try:
            if kind == "mdy":
                a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
                month, day = (a, b) if order == "mdy" else (b, a)
                return date(y, month, day)
            if kind == "ymd":
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            month_name = m.group(2)
            month_num = MONTHS.get(month_name[:3]) or _MONTH_ALIASES.get(month_name)
            if month_num is None:
                continue
            return date(int(m.group(3)), month_num, int(m.group(1)))
        except ValueError:
            continue
    return None


def iso(d: date | None) -> str:
    return "" if d is None else d.isoformat()


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def approximate_find(needle: str, text: str) -> tuple[int, int] | None:
    """Best approximate occurrence of ``needle`` anywhere in ``text``, case and spaces ignored.

    Returns ``(end, edits)``: the index in ``text`` just after the occurrence and its
    Levenshtein distance to ``needle`` (Sellers' algorithm: the occurrence may start
    anywhere); the earliest end among the best ones. ``None`` for an empty needle or text.
    """
    kept = [i for i, c in enumerate(text) if not c.isspace()]
    hay = "".join(text[i] for i in kept).upper()
    pattern = "".join(needle.split()).upper()
    if not pattern or not hay:
        return None
    previous = [0] * (len(hay) + 1)  # an occurrence may start at any position: no cost before it
    for i, cp in enumerate(pattern, 1):
        current = [i]
        for j, ch in enumerate(hay, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (cp != ch)))
        previous = current
    best = min(range(1, len(previous)), key=lambda j: (previous[j], j))
    return kept[best - 1] + 1, previous[best]
