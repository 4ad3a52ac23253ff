"""Specimen documents and placeholder values (SAMPLE, MUSTERMANN, ``L898902C3``, ``123456789`` ...)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import inconclusive
from openidv.document.normalize import normalize_name
from openidv.document.types import FieldValue, check

_SPECIMEN_WORDS = re.compile(
    r"\b(SAMPLE|SPECIMEN|SPECIMINE|SPECIMEN ONLY|MUSTERMANN|MUSTERFRAU|MUSTERMAN|EXEMPLAR|EXEMPLE|ESPECIMEN|"
    r"MUESTRA|CAMPIONE|VOID|NOT VALID|TEST|TRAVELER HAPPY|HAPPY TRAVELER|UTOPIA|ERIKSSON ANNA|DOCUMENT SAMPLE)\b"
)
#: Document numbers printed on widely published specimens (ICAO 9303, AAMVA, US passport, EU ids).
SPECIMEN_NUMBERS: frozenset[str] = frozenset(
    {
        "L898902C3", "L898902C", "D23145890", "AB2134", "123456789", "1234567890", "12345678", "0123456789",
        "987654321", "D1234567", "D12345678", "A1234567", "X1234567", "C01X00T47", "T22000129", "L01X00T47",
        "Y00000000", "100000000", "99999999", "999999999", "000000000", "DL123456789", "S12345678",
    }
)  # fmt: skip
#: Words that mark a specimen wherever they are printed (a stamp or an overlay across the page). The
#: list above applies to names and country fields only: SAMPLE, TEST and VOID occur in real addresses
#: ("W Sample Rd", Pompano Beach FL), "NOT VALID FOR FEDERAL PURPOSES" on genuine US licences.
_SPECIMEN_STAMP = re.compile(r"\b(SPECIMEN|SPECIMINE|ESPECIMEN)\b")
_NAME_FIELDS = ("family_name", "given_names", "middle_names", "full_name", "name")
_NUMBER_FIELDS = ("document_number", "personal_number", "optional_data", "document_discriminator")


def _specimen_number(value: str) -> str | None:
    v = re.sub(r"[\s\-./]", "", value.upper())
    if not v:
        return None
    if v in SPECIMEN_NUMBERS:
        return "published specimen number"
    digits = re.sub(r"^[A-Z]{0,3}", "", v)
    if len(digits) >= 6 and digits.isdigit():
        if len(set(digits)) == 1:
            return "repeated digit"
        steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
        if steps in ({1}, {9}):
            return "consecutive digits"
        if digits.startswith(("123456", "987654")):
            return "sequence 123456 / 987654"
    return None


def specimen(fields: Sequence[FieldValue], printed: Sequence[str] = ()) -> CheckResult:
    """Fail documents that are known specimens or obvious placeholders.

    Names: SAMPLE, SPECIMEN, MUSTERMANN/MUSTERFRAU (German specimens), JOHN/JANE DOE,
    HAPPY TRAVELER (US passport specimen), ERIKSSON ANNA (ICAO 9303), UTOPIA/``UTO``
    country, VOID, TEST. Numbers: published specimen numbers (``L898902C3``,
    ``D23145890``, ``123456789``, ``D1234567`` ...), a letter prefix followed by one
    repeated digit or by consecutive digits (``D1234567``, ``X0000000``, ``987654321``).
    Addresses and ``printed`` (the OCR'd lines of the printed zone, any of them) only by the
    word SPECIMEN (:data:`_SPECIMEN_STAMP`; accents ignored), as stamped across specimen pages.
    ``fail`` / ``specimen_document`` names the matching field (``printed_text`` for a line);
    ``pass`` / ``no_specimen`` when fields were read and none matched; ``inconclusive`` /
    ``no_fields`` otherwise.
    """
    name = "specimen"
    stamps = [line for line in printed if _SPECIMEN_STAMP.search(normalize_name(line))]
    if not fields and not stamps:
        return inconclusive(name, "no_fields", "no fields were read")
    hits: list[dict[str, str]] = [
        {"field": "printed_text", "source": "printed", "value": line, "why": "specimen stamp"} for line in stamps[:3]
    ]
    names = {f.name: f.value.upper() for f in fields if f.name in _NAME_FIELDS}
    for f in fields:
        value = (f.value or "").upper().strip()
        if not value:
            continue
        why: str | None = None
        if f.name == "address_street":
            m = _SPECIMEN_STAMP.search(normalize_name(value))
            why = f"specimen word {m.group(1)}" if m else None
        elif f.name in _NAME_FIELDS or f.name in ("issuing_country", "nationality"):
            m = _SPECIMEN_WORDS.search(value)
            if m:
                why = f"specimen word {m.group(1)}"
            elif f.name in ("issuing_country", "nationality") and value in ("UTO", "ZZZ"):
                why = f"fictional country code {value}"
        if (
            f.name == "family_name"
            and value in ("DOE", "ROE")
            and names.get("given_names", "").split()[:1]
            in (
                ["JOHN"],
                ["JANE"],
                ["RICHARD"],
            )
        ):
            why = "placeholder name JOHN/JANE DOE"
        if f.name in _NAME_FIELDS and re.search(r"\b(JOHN|JANE) DOE\b|\bDOE,? (JOHN|JANE)\b", value):
            why = "placeholder name JOHN/JANE DOE"
        if f.name in _NUMBER_FIELDS:
            why = why or _specimen_number(value)
        if why:
            hits.append({"field": f.name, "source": f.source.value, "value": f.value, "why": why})
    if hits:
        first = hits[0]
        return check(
            name,
            Status.FAIL,
            "specimen_document",
            0.0,
            f"{first['field']} ({first['source']}) = {first['value']!r}: {first['why']}",
            matches=hits,
        )
    return check(name, Status.PASS, "no_specimen", 1.0, f"{len(fields)} fields, none a known specimen value")
