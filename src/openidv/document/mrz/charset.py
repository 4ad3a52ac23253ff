"""MRZ characters, formats (lines x characters) and the ICAO 9303 check digit."""

from __future__ import annotations

from enum import StrEnum

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
