"""Character-level OCR repairs of MRZ text: look-alike normalisation, filler confusions,
spaces, line lengths, per-position character classes and country codes."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Sequence

from openidv.document.mrz.charset import CHARSET, FILLER, MrzType
from openidv.document.mrz.layouts import LAYOUTS, POSITION_CLASSES

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
ALTERNATIVES: dict[str, tuple[tuple[str, int], ...]] = {
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


def allowed_in_class(kind: str, c: str) -> bool:
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


def normalise_char(c: str) -> str:
    """Upper case, look-alike symbols mapped, accented letters transliterated (Ñ -> N)."""
    c = _NORMALISE.get(c, c)
    c = c.upper()[:1] or c
    c = _NORMALISE.get(c, c)
    if c not in CHARSET and c != " ":
        base = "".join(ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch))
        if len(base) == 1 and base in CHARSET:
            c = base
    return c


def normalise_text(line: str) -> tuple[str, list[int]]:
    """Normalised text and, per character, its index in ``line``; outer spaces dropped."""
    chars = [normalise_char(c) for c in line]
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


def fix_spaces(line: str, length: int) -> list[int]:
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


def length_variants(line: str, length: int) -> list[list[int]]:
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


def take_positions(line: str, idx: Sequence[int]) -> str:
    return "".join(line[i] if i >= 0 else FILLER for i in idx)


def class_fix(kind: MrzType, lines: list[str], alts: list[list[dict[str, float]]] | None = None) -> list[str]:
    """Map characters to their position's class (digits in dates, letters in names, ...):
    the recogniser's most probable allowed candidate when it gave some, else a fixed
    look-alike table."""
    kinds = POSITION_CLASSES[kind]
    out = []
    for i, ln in enumerate(lines):
        chars = list(ln)
        for p, c in enumerate(chars):
            k = kinds[i][p]
            if allowed_in_class(k, c):
                continue
            ocr = alts[i][p] if alts is not None and i < len(alts) and p < len(alts[i]) else {}
            allowed = [(prob, a) for a, prob in ocr.items() if allowed_in_class(k, a) and a != FILLER and prob >= 1e-3]
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
        for span in LAYOUTS[kind][0]:
            if span.line == i and span.name in ("issuing_state", "nationality"):
                chars[span.start : span.end] = list(_fix_country(ln[span.start : span.end]))
        # anything still outside the character set: a filler
        out.append("".join(c if c in CHARSET else FILLER for c in chars))
    return out
