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

Modules: :mod:`~.charset` (characters, formats, check digit), :mod:`~.layouts` (field and
check-digit positions per format), :mod:`~.result` (:class:`MrzResult`), :mod:`~.parse`,
:mod:`~.ocr_fixes` (character-level repairs), :mod:`~.correct`, :mod:`~.generate`.
"""

from openidv.document.mrz.charset import (
    CHARSET,
    FILLER,
    LENGTH_TOLERANCE,
    SHAPES,
    MrzError,
    MrzType,
    char_value,
    check_digit,
)
from openidv.document.mrz.correct import MAX_REPAIR_COST, Alternatives, CorrectedMrz, correct_mrz, read_mrz_text
from openidv.document.mrz.generate import break_check_digit, generate_mrz
from openidv.document.mrz.layouts import CHECK_KEYS, detect_type
from openidv.document.mrz.parse import parse_mrz
from openidv.document.mrz.result import Correction, MrzResult, country_code, parse_date

__all__ = [
    "CHARSET",
    "CHECK_KEYS",
    "FILLER",
    "LENGTH_TOLERANCE",
    "MAX_REPAIR_COST",
    "SHAPES",
    "Alternatives",
    "CorrectedMrz",
    "Correction",
    "MrzError",
    "MrzResult",
    "MrzType",
    "break_check_digit",
    "char_value",
    "check_digit",
    "correct_mrz",
    "country_code",
    "detect_type",
    "generate_mrz",
    "parse_date",
    "parse_mrz",
    "read_mrz_text",
]
