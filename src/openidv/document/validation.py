"""Validation of extracted fields that does not depend on their source.

Used for documents without an AAMVA barcode (passports, passport cards), whose
barcode-specific checks live in :func:`openidv.document.aamva.validate_aamva`. The
value of each field is taken from the most reliable source that has it: barcode,
then MRZ, then printed text.
"""

from __future__ import annotations

from datetime import date

from openidv.checks import CheckResult, Status
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


def validate_fields(fields: list[FieldValue], today: date, *, min_age: int = 18) -> list[CheckResult]:
    """``document_not_expired``, ``age_at_least_18``, ``date_logic`` and ``us_issuer`` from the best sources."""
    out: list[CheckResult] = []
    expiry, ef = best_date(fields, "expiry_date")
    birth, bf = best_date(fields, "birth_date")
    issue, _ = best_date(fields, "issue_date")
    if expiry is None:
        out.append(check("document_not_expired", Status.INCONCLUSIVE, "no_expiry_date", None, "no expiry date read"))
    elif expiry < today:
        out.append(
            check(
                "document_not_expired",
                Status.FAIL,
                "expired",
                0.0,
                f"expired on {expiry.isoformat()} ({ef.source.value if ef else '?'})",
            )
        )
    else:
        out.append(check("document_not_expired", Status.PASS, "not_expired", 1.0, f"expires {expiry.isoformat()}"))
    if birth is None:
        out.append(check(f"age_at_least_{min_age}", Status.INCONCLUSIVE, "no_birth_date", None, "no birth date read"))
    else:
        age = age_on(birth, today)
        if age < min_age:
            out.append(
                check(
                    f"age_at_least_{min_age}",
                    Status.FAIL,
                    f"under_{min_age}",
                    0.0,
                    f"age {age} (born {birth.isoformat()}, {bf.source.value if bf else '?'})",
                )
            )
        else:
            out.append(check(f"age_at_least_{min_age}", Status.PASS, "adult", 1.0, f"age {age}"))
    problems = []
    if birth is not None and not (0 <= age_on(birth, today) <= 120):
        problems.append("implausible birth date")
    if birth is not None and expiry is not None and birth >= expiry:
        problems.append("birth date not before expiry")
    if issue is not None and expiry is not None and issue >= expiry:
        problems.append("issue date not before expiry")
    if issue is not None and issue > today:
        problems.append("issue date in the future")
    if birth is None and expiry is None:
        out.append(check("date_logic", Status.INCONCLUSIVE, "dates_missing"))
    elif problems:
        out.append(check("date_logic", Status.FAIL, "inconsistent_dates", 0.0, "; ".join(problems)))
    else:
        out.append(check("date_logic", Status.PASS, "dates_consistent", 1.0))
    country = best_value(fields, "issuing_country")
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
