"""Checks that do not apply, or whose input was not read with confidence, are inconclusive, never fail."""

from __future__ import annotations

from datetime import date

import pytest

from openidv.checks import Status
from openidv.document.engine import SideAnalysis, build_report
from openidv.document.mrz_ocr import MrzReadout
from openidv.document.types import DocumentType, FieldSource, FieldValue
from openidv.document.validation import validate_fields
from tests.conftest import shared_path

TODAY = date(2026, 6, 1)


def _printed(name: str, value: str, confidence: float = 0.97, raw: str = "") -> FieldValue:
    return FieldValue(name, value, FieldSource.PRINTED, raw=raw or value, confidence=confidence)


def _by_name(fields: list[FieldValue]) -> dict[str, tuple[Status, str]]:
    return {c.name: (c.status, c.reason) for c in validate_fields(fields, TODAY)}


def test_confident_dates_still_fail() -> None:
    fields = [
        _printed("birth_date", "2012-03-04"),
        _printed("expiry_date", "2025-01-02"),
        _printed("issue_date", "2026-09-01"),
    ]
    checks = _by_name(fields)
    assert checks["document_not_expired"] == (Status.FAIL, "expired")
    assert checks["age_at_least_18"] == (Status.FAIL, "under_18")
    assert checks["date_logic"] == (Status.FAIL, "inconsistent_dates")


def test_low_confidence_dates_are_inconclusive() -> None:
    fields = [
        _printed("birth_date", "2012-03-04", confidence=0.55),
        _printed("expiry_date", "2025-01-02", confidence=0.6),
        _printed("issue_date", "2026-09-01", confidence=0.5),
    ]
    checks = _by_name(fields)
    assert checks["document_not_expired"] == (Status.INCONCLUSIVE, "uncertain_date")
    assert checks["age_at_least_18"] == (Status.INCONCLUSIVE, "uncertain_date")
    assert checks["date_logic"] == (Status.INCONCLUSIVE, "uncertain_date")


def test_one_printed_date_taken_for_two_fields_does_not_fail_date_logic() -> None:
    """'EXPIRES: 07-10-2021' read as the issue date too: issue == expiry says nothing about the card."""
    fields = [
        _printed("birth_date", "1960-08-16"),
        _printed("expiry_date", "2031-10-07", raw="EXPIRES: 07-10-2031"),
        _printed("issue_date", "2031-10-07", raw="EXPIRES: 07-10-2031"),
    ]
    assert _by_name(fields)["date_logic"] == (Status.INCONCLUSIVE, "uncertain_date")


def test_a_firm_problem_fails_even_next_to_an_uncertain_date() -> None:
    fields = [
        FieldValue("birth_date", "2030-01-01", FieldSource.MRZ),  # after expiry, from the MRZ
        FieldValue("expiry_date", "2029-01-01", FieldSource.MRZ),
        _printed("issue_date", "2027-01-01", confidence=0.4),  # in the future, but read poorly
    ]
    checks = _by_name(fields)
    assert checks["date_logic"][0] is Status.FAIL
    assert "issue date in the future" not in next(
        c.detail for c in validate_fields(fields, TODAY) if c.name == "date_logic"
    )


def test_machine_readable_dates_ignore_ocr_confidence() -> None:
    fields = [FieldValue("expiry_date", "2025-01-02", FieldSource.MRZ, confidence=0.3)]
    assert _by_name(fields)["document_not_expired"] == (Status.FAIL, "expired")


def _page_side(fmt: str, raw_lines: list[str]) -> SideAnalysis:
    side = SideAnalysis("front")
    side.kind, side.format = DocumentType.PASSPORT_TD3, fmt
    side.mrz = MrzReadout(False, "no_mrz_text", raw_lines=raw_lines)
    return side


@pytest.mark.parametrize(
    ("fmt", "raw_lines", "expected"),
    [
        ("unknown", [], (Status.INCONCLUSIVE, "no_mrz_found")),  # a tight crop guessed to be a page
        ("unknown", ["DRIVER LICENSE 4d DLN"], (Status.INCONCLUSIVE, "no_mrz_found")),
        ("td3", [], (Status.FAIL, "mrz_unreadable")),  # a passport-shaped outline always has an MRZ
        ("unknown", ["P<UTOERIKSSON<<ANNA<MAR1A<<<<<<<<<<<"], (Status.FAIL, "mrz_unreadable")),
    ],
)
def test_mrz_read_fails_only_where_an_mrz_must_be(fmt: str, raw_lines: list[str], expected: tuple[Status, str]) -> None:
    report = build_report([_page_side(fmt, raw_lines)], today=TODAY)
    mrz_read = next(c for c in report.checks if c.name == "mrz_read")
    assert (mrz_read.status, mrz_read.reason) == expected


@pytest.mark.parametrize("state", ["Florida", "Iowa", "Vermont_s"])
def test_real_licence_fronts_do_not_fail_an_mrz_check(state: str) -> None:
    """US licence fronts carry no MRZ; these three tight crops were taken for passport pages and failed mrz_read."""
    from openidv.document.engine import analyse_document

    path = shared_path("real_us_fronts", f"luckyverma_us_dl_fronts__{state}.jpg")
    report = analyse_document(path.read_bytes(), today=TODAY)
    failed = {c.name for c in report.checks if c.status is Status.FAIL}
    assert not {n for n in failed if n.startswith("mrz_")}, failed
    assert "date_logic" not in failed, failed
