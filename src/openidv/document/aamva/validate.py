"""Checks on a parsed AAMVA record: header, mandatory elements, value formats, date logic, expiry, age, issuer."""

from __future__ import annotations

import datetime as dt

from openidv.checks import CheckResult, Status
from openidv.document.aamva.elements import DATE_ELEMENTS, MANDATORY
from openidv.document.aamva.formats import date_order_mismatch, format_ok
from openidv.document.aamva.record import SERIOUS_DEVIATIONS, AamvaRecord, FormatDeviation
from openidv.document.types import check


def _mandatory_for(version: int) -> tuple[tuple[str | tuple[str, ...], ...], tuple[str, ...]]:
    if version <= 1:
        return MANDATORY["v01"]
    if version <= 3:
        return MANDATORY["v02"]
    return MANDATORY["v04"]


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def validate_aamva(record: AamvaRecord, today: dt.date) -> list[CheckResult]:
    """Checks on a parsed payload, ``today`` being the reference date.

    ``barcode_header``, ``barcode_mandatory_elements``, ``barcode_formats``,
    ``barcode_date_logic``, ``document_not_expired``, ``age_at_least_18``, ``us_issuer``.
    Scores: 1.0 pass, 0.0 fail, ``None`` inconclusive (``barcode_formats``: the share of
    checked elements that are well formed).
    """
    return [
        _check_header(record),
        _check_mandatory(record),
        _check_formats(record),
        _check_date_logic(record, today),
        _check_not_expired(record, today),
        _check_age(record, today),
        _check_us_issuer(record),
    ]


def _check_header(rec: AamvaRecord) -> CheckResult:
    """Layout of the payload. Fails only without a DL/ID subfile, without the compliance indicator
    ``@`` (all known real-world variants keep it) or with the undefined version 00;
    deviations that may have cost data (a listed subfile not found, a truncated payload) are
    inconclusive; repaired layout deviations are inconclusive and advisory (:mod:`openidv.decision.severity`),
    named in ``data.deviations``: genuine licences show them too often to count against one."""
    h = rec.header
    name = "barcode_header"
    if rec.main_subfile is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile, only jurisdiction subfiles")
    if h.aamva_version < 1:
        return check(name, Status.FAIL, "bad_version", 0.0, f"AAMVA version {h.aamva_version:02d}")
    if not h.compliance_indicator:  # every known variant keeps the '@'; without it the text is no barcode payload
        return check(name, Status.FAIL, "no_compliance_indicator", 0.0, "the payload does not start with '@'")
    layout = [d for d in rec.deviations if d is not FormatDeviation.DATE_ORDER]
    named = {"deviations": [d.value for d in layout]}
    serious = [d for d in layout if d in SERIOUS_DEVIATIONS]
    if serious:
        return check(name, Status.INCONCLUSIVE, serious[0].value, None, "; ".join(rec.problems), **named)
    if rec.separators_stripped:
        detail = "separators were removed from the payload: elements split on their IDs, offsets not verifiable"
        return check(name, Status.INCONCLUSIVE, "separators_stripped", None, detail, **named)
    if h.aamva_version > 10:
        return check(name, Status.INCONCLUSIVE, "unknown_version", None, f"AAMVA version {h.aamva_version:02d}")
    if layout:
        detail = "repaired: " + "; ".join(rec.problems)
        return check(name, Status.INCONCLUSIVE, "format_deviations", None, detail, **named)
    return check(name, Status.PASS, "header_ok", 1.0, f"{h.file_type} v{h.aamva_version:02d}, IIN {h.iin}")


#: Elements that identify the holder and the card: one of them absent or empty and the data
#: cannot be trusted (a tuple means "one of these").
_ESSENTIAL: tuple[tuple[str, ...], ...] = (("DAQ",), ("DCS", "DAB", "DAA"), ("DAC", "DCT", "DAA"), ("DBB",), ("DBA",))


def _check_mandatory(rec: AamvaRecord) -> CheckResult:
    """The version's mandatory elements. Fails when an essential one (number, names, birth and
    expiry dates) is absent or empty; other mandatory elements missing (genuine issuers leave out
    middle names, truncation flags, the country, ...) are inconclusive and named."""
    name = "barcode_mandatory_elements"
    main = rec.main_subfile
    if main is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile")
    present = rec.dlid_elements
    essential = ["/".join(alts) for alts in _ESSENTIAL if not any(present.get(a, "").strip() for a in alts)]
    if essential:
        return check(name, Status.FAIL, "missing_mandatory_elements", 0.0, "missing: " + ", ".join(essential))
    certain, probable = _mandatory_for(rec.version)
    missing: list[str] = []
    unsure: list[str] = [p for p in probable if p not in present]
    for item in certain:
        alts = (item,) if isinstance(item, str) else item
        if not any(a in present for a in alts):
            # DL-only elements on an ID card: not sure they are mandatory there.
            (unsure if main.type == "ID" and alts[0] in {"DCA", "DCB", "DCD"} else missing).append("/".join(alts))
    if rec.version > 10:
        return check(name, Status.INCONCLUSIVE, "unknown_version", None, f"version {rec.version:02d}")
    if missing:
        detail = "missing: " + ", ".join(missing)
        return check(name, Status.INCONCLUSIVE, "missing_standard_elements", None, detail, missing=missing)
    if unsure:
        detail = "missing (mandatory status not certain for this version): " + ", ".join(unsure)
        return check(name, Status.INCONCLUSIVE, "missing_uncertain_elements", None, detail)
    return check(name, Status.PASS, "all_present", 1.0, f"version {rec.version:02d} {main.type}")


#: Elements whose malformation is only unusual (jurisdictions deviate): alone they make the check inconclusive.
_SOFT_FORMAT = frozenset({"DAY", "DAZ", "DAU", "DDA", "DDD", "DDK", "DDL"})
#: The dates every licence carries: one that is no date in either order fails the payload.
_KEY_DATES = frozenset({"DBA", "DBB", "DBD"})


def _skip_format(eid: str, value: str) -> bool:
    """Values with nothing to check: elements left empty, zero dates (absent; the mandatory and
    date checks see to the key ones), a non-expiring DBA."""
    if value == "" or (eid in DATE_ELEMENTS and value == "00000000"):
        return True
    return eid == "DBA" and value == "99999999"


def _check_formats(rec: AamvaRecord) -> CheckResult:
    """Element formats. Fails only on a key date (DBA, DBB, DBD) that is no date in either
    order; other malformed values are inconclusive (``malformed_elements``, or
    ``unusual_element_values`` for eye/hair/height-like ones); dates consistently in the
    other order are an advisory ``date_order`` deviation."""
    name = "barcode_formats"
    if rec.main_subfile is None:
        return check(name, Status.FAIL, "no_dl_id_subfile", 0.0, "no DL/ID subfile")
    impossible: list[str] = []
    bad: list[str] = []
    soft: list[str] = []
    checked = 0
    order = rec.date_order
    for eid, value in rec.dlid_elements.items():
        v = value.strip()
        if _skip_format(eid, v):
            continue
        ok = format_ok(eid, value, order)
        if ok is None:
            continue
        checked += 1
        if ok:
            continue
        other = eid in DATE_ELEMENTS and date_order_mismatch(value, order)
        item = f"{eid}={v!r}" + (" (date in the other order)" if other else "")
        if eid in _KEY_DATES and not other:
            impossible.append(item)
        else:
            (soft if eid in _SOFT_FORMAT else bad).append(item)
    if checked == 0:
        return check(name, Status.INCONCLUSIVE, "nothing_to_check", None, "no element with a format rule")
    score = 1.0 - (len(impossible) + len(bad) + len(soft)) / checked
    if impossible:
        return check(name, Status.FAIL, "impossible_date", 0.0, "no date in either order: " + ", ".join(impossible))
    if bad:
        return check(name, Status.INCONCLUSIVE, "malformed_elements", score, "malformed: " + ", ".join(bad + soft))
    if soft:
        return check(name, Status.INCONCLUSIVE, "unusual_element_values", score, "unusual: " + ", ".join(soft))
    if rec.date_order_found is not None:
        detail = f"dates are {rec.date_order_found} where the standard has {rec.expected_date_order}"
        return check(name, Status.INCONCLUSIVE, "date_order", score, detail, deviations=["date_order"])
    return check(name, Status.PASS, "formats_ok", score, f"{checked} elements checked")


def _check_date_logic(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "barcode_date_logic"
    birth, issue, expiry = rec.date("DBB"), rec.date("DBD"), rec.date("DBA")
    problems: list[tuple[str, str]] = []
    if birth is not None:
        age = _age(birth, today)
        if not 0 <= age <= 120:
            problems.append(("implausible_birth_date", f"DBB {birth.isoformat()} gives age {age}"))
    if birth is not None and issue is not None and not birth < issue:
        problems.append(("birth_not_before_issue", f"DBB {birth.isoformat()} >= DBD {issue.isoformat()}"))
    if issue is not None and expiry is not None and not issue < expiry:
        problems.append(("issue_not_before_expiry", f"DBD {issue.isoformat()} >= DBA {expiry.isoformat()}"))
    if birth is not None and expiry is not None and not birth < expiry:
        problems.append(("birth_not_before_expiry", f"DBB {birth.isoformat()} >= DBA {expiry.isoformat()}"))
    if issue is not None and issue > today:
        problems.append(("issue_in_future", f"DBD {issue.isoformat()} is after {today.isoformat()}"))
    if problems:
        return check(name, Status.FAIL, problems[0][0], 0.0, "; ".join(d for _, d in problems))
    missing = [eid for eid, d in (("DBB", birth), ("DBD", issue), ("DBA", expiry)) if d is None]
    if missing:
        return check(name, Status.INCONCLUSIVE, "dates_missing", None, "no valid date in " + ", ".join(missing))
    return check(name, Status.PASS, "dates_consistent", 1.0, "birth < issue < expiry, issue not in the future")


def _check_not_expired(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "document_not_expired"
    expiry = rec.date("DBA")
    if expiry is None:
        return check(name, Status.INCONCLUSIVE, "no_expiry_date", None, "DBA absent or not a valid date")
    if expiry < today:
        return check(name, Status.FAIL, "expired", 0.0, f"DBA {expiry.isoformat()} is before {today.isoformat()}")
    return check(name, Status.PASS, "not_expired", 1.0, f"expires {expiry.isoformat()}")


def _check_age(rec: AamvaRecord, today: dt.date) -> CheckResult:
    name = "age_at_least_18"
    birth = rec.date("DBB")
    if birth is None:
        return check(name, Status.INCONCLUSIVE, "no_birth_date", None, "DBB absent or not a valid date")
    age = _age(birth, today)
    if age < 18:
        return check(name, Status.FAIL, "under_18", 0.0, f"DBB {birth.isoformat()}: age {age}", age=age)
    return check(name, Status.PASS, "adult", 1.0, f"age {age}", age=age)


def _check_us_issuer(rec: AamvaRecord) -> CheckResult:
    name = "us_issuer"
    j = rec.jurisdiction
    if j is None:
        return check(name, Status.INCONCLUSIVE, "unknown_iin", None, f"IIN {rec.iin} is not in the AAMVA IIN table")
    dcg = rec.elements.get("DCG", "").strip().upper()
    if dcg in {"USA", "CAN"} and dcg != j.country:
        return check(
            name, Status.FAIL, "country_mismatch", 0.0, f"IIN {rec.iin} is {j.name} ({j.country}) but DCG is {dcg}"
        )
    if not j.is_us:
        return check(name, Status.FAIL, "non_us_issuer", 0.0, f"IIN {rec.iin}: {j.name}, {j.country}")
    return check(name, Status.PASS, "us_issuer", 1.0, f"IIN {rec.iin}: {j.name}")
