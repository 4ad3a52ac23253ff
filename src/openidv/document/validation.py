"""Validation of extracted fields that does not depend on their source.

Used for documents without an AAMVA barcode (passports, passport cards), whose
barcode-specific checks live in :func:`openidv.document.aamva.validate_aamva`. The
value of each field is taken from the most reliable source that has it: barcode,
then MRZ, then printed text.
"""

from __future__ import annotations

from datetime import date

from openidv.checks import CheckResult, Status
from openidv.document.codes import FieldName
from openidv.document.crosscheck import PRINTED_MIN_CONFIDENCE
from openidv.document.types import FieldSource, FieldValue, check

_ORDER = {FieldSource.BARCODE: 0, FieldSource.MRZ: 1, FieldSource.PRINTED: 2}


def best_value(fields: list[FieldValue], name: str) -> FieldValue | None:
    found = [f for f in fields if f.name == name and f.value]
    return min(found, key=lambda f: _ORDER[f.source]) if found else None


def best_date(fields: list[FieldValue], name: str) -> tuple[date | None, FieldValue | None]:
    f = best_value(fields, name)
    if f is None:
        return None, None
    try:
        return date.fromisoformat(f.value), f
    except ValueError:
        return None, f


def age_on(birth: date, today: date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


#: A printed (OCR) date read with a recogniser confidence below this is not trusted to fail a check
#: (the bound under which the printed-text cross-checks call a disagreement uncertain).
PRINTED_DATE_MIN_CONFIDENCE = PRINTED_MIN_CONFIDENCE
_DATE_FIELDS = ("birth_date", "expiry_date", "issue_date")


def uncertain_dates(fields: list[FieldValue]) -> set[str]:
    """Date fields whose best value cannot be trusted to fail a check: printed text read with a
    confidence below :data:`PRINTED_DATE_MIN_CONFIDENCE`, or one printed date taken for two fields
    (the same value for two different dates: one of them was read from the other's line)."""
    best = {name: best_value(fields, name) for name in _DATE_FIELDS}
    printed = {n: f for n, f in best.items() if f is not None and f.source is FieldSource.PRINTED}
    out = {n for n, f in printed.items() if f.confidence is not None and f.confidence < PRINTED_DATE_MIN_CONFIDENCE}
    for name, f in printed.items():
        if any(other != name and g.value == f.value for other, g in printed.items()):
            out.add(name)
    return out


def validate_fields(fields: list[FieldValue], today: date, *, min_age: int = 18) -> list[CheckResult]:
    """``document_not_expired``, ``age_at_least_18``, ``date_logic`` and ``us_issuer`` from the best sources.

    A check that would fail on a date read uncertainly (:func:`uncertain_dates`) is
    ``inconclusive`` / ``uncertain_date`` instead: the date was not read well enough to decide.
    """
    uncertain = uncertain_dates(fields)
    out = [
        _expiry_check(fields, today, uncertain),
        _age_check(fields, today, min_age, uncertain),
        _date_logic_check(fields, today, uncertain),
    ]
    country = best_value(fields, FieldName.ISSUING_COUNTRY)
    if country is None:
        out.append(check("us_issuer", Status.INCONCLUSIVE, "issuer_unknown", None, "no issuing country read"))
    elif country.value == "USA":
        out.append(check("us_issuer", Status.PASS, "us_issuer", 1.0, f"issued by USA ({country.source.value})"))
    else:
        out.append(
            check(
                "us_issuer",
                Status.FAIL,
                "non_us_issuer",
                0.0,
                f"issued by {country.value}: this service accepts US documents only",
            )
        )
    return out


def _uncertain(name: str, field_name: str, f: FieldValue | None, would: str) -> CheckResult:
    read = f"{f.raw or f.value!r} read with confidence {f.confidence:.2f}" if f and f.confidence is not None else ""
    detail = f"{would}, but the {field_name.replace('_', ' ')} was not read with confidence ({read or 'ambiguous'})"
    return check(name, Status.INCONCLUSIVE, "uncertain_date", None, detail)


def _expiry_check(fields: list[FieldValue], today: date, uncertain: set[str]) -> CheckResult:
    name = "document_not_expired"
    expiry, ef = best_date(fields, FieldName.EXPIRY_DATE)
    if expiry is None:
        return check(name, Status.INCONCLUSIVE, "no_expiry_date", None, "no expiry date read")
    if expiry >= today:
        return check(name, Status.PASS, "not_expired", 1.0, f"expires {expiry.isoformat()}")
    if FieldName.EXPIRY_DATE in uncertain:
        return _uncertain(name, FieldName.EXPIRY_DATE, ef, f"expired on {expiry.isoformat()}")
    source = ef.source.value if ef else "?"
    return check(name, Status.FAIL, "expired", 0.0, f"expired on {expiry.isoformat()} ({source})")


def _age_check(fields: list[FieldValue], today: date, min_age: int, uncertain: set[str]) -> CheckResult:
    name = f"age_at_least_{min_age}"
    birth, bf = best_date(fields, FieldName.BIRTH_DATE)
    if birth is None:
        return check(name, Status.INCONCLUSIVE, "no_birth_date", None, "no birth date read")
    age = age_on(birth, today)
    if age >= min_age:
        return check(name, Status.PASS, "adult", 1.0, f"age {age}")
    if FieldName.BIRTH_DATE in uncertain:
        return _uncertain(name, FieldName.BIRTH_DATE, bf, f"age {age}")
    source = bf.source.value if bf else "?"
    return check(name, Status.FAIL, f"under_{min_age}", 0.0, f"age {age} (born {birth.isoformat()}, {source})")


def _date_logic_check(fields: list[FieldValue], today: date, uncertain: set[str]) -> CheckResult:
    """Birth before expiry, issue before expiry, issue not in the future, a plausible birth date.

    A problem that involves a date in ``uncertain`` makes the check ``inconclusive`` /
    ``uncertain_date`` rather than ``fail``; a problem between trusted dates fails it.
    """
    dates = {n: best_date(fields, n)[0] for n in _DATE_FIELDS}
    birth, expiry, issue = dates["birth_date"], dates["expiry_date"], dates["issue_date"]
    if birth is None and expiry is None:
        return check("date_logic", Status.INCONCLUSIVE, "dates_missing")
    problems: list[tuple[str, tuple[str, ...]]] = []
    if birth is not None and not (0 <= age_on(birth, today) <= 120):
        problems.append(("implausible birth date", ("birth_date",)))
    if birth is not None and expiry is not None and birth >= expiry:
        problems.append(("birth date not before expiry", ("birth_date", "expiry_date")))
    if issue is not None and expiry is not None and issue >= expiry:
        problems.append(("issue date not before expiry", ("issue_date", "expiry_date")))
    if issue is not None and issue > today:
        problems.append(("issue date in the future", ("issue_date",)))
    if not problems:
        return check("date_logic", Status.PASS, "dates_consistent", 1.0)
    firm = [text for text, names in problems if not uncertain.intersection(names)]
    if firm:
        return check("date_logic", Status.FAIL, "inconsistent_dates", 0.0, "; ".join(firm))
    detail = (
        "; ".join(text for text, _ in problems)
        + " (dates not read with confidence: "
        + ", ".join(sorted(uncertain))
        + ")"
    )
    return check("date_logic", Status.INCONCLUSIVE, "uncertain_date", None, detail)
