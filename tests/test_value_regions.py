"""Regions of printed values for the compression check: the value's own characters, not its label."""

from __future__ import annotations

from datetime import date

import numpy as np

from openidv.checks import Status
from openidv.document.integrity_pipeline import value_quad
from tests.conftest import shared_path

LINE = np.array([[400, 104], [567, 104], [567, 124], [400, 124]], np.float64)


def test_value_part_of_a_labelled_line_is_cut_by_character_position() -> None:
    quad = value_quad(LINE, "ISSUED 03/01/2007", "03012007")
    # 7 of 17 characters precede the value: it starts 7/17 of the way along the line
    assert np.allclose(quad[:, 0], [400 + 167 * 7 / 17, 567, 567, 400 + 167 * 7 / 17])
    assert np.allclose(quad[:, 1], [104, 104, 124, 124])
    middle = value_quad(LINE, "DOB 03/01/1957 SEX F", "03011957")
    assert 400 < middle[0, 0] < middle[1, 0] < 567


def test_short_or_absent_values_keep_the_whole_line() -> None:
    assert value_quad(LINE, "Date of Birth 03/01/1957", "F") is LINE  # one letter also matches inside words
    assert value_quad(LINE, "ISSUED 03/01/2007", "12345678") is LINE
    assert value_quad(LINE, "", "1234") is LINE


def test_real_front_whose_issue_line_is_mostly_blank_paper_is_not_a_false_alarm() -> None:
    """A real New Mexico front (final JPEG quality 75): the line ``ISSUED 03/01/2007`` read as one box was
    mostly white paper, quantised flat (noise 0.63 against 1.30 around it); the value's characters
    alone read 4.0."""
    from openidv.document.engine import analyse_document

    path = shared_path("real_us_fronts", "luckyverma_us_dl_fronts__New_Mexico_s.jpg")
    report = analyse_document(path.read_bytes(), today=date(2026, 6, 1))
    check = {c.name: c for c in report.checks}["front_compression_consistency"]
    assert check.status is not Status.FAIL, check.to_dict()
    regions = {r["name"]: r for r in check.data["regions"]}
    x, _, w, _ = regions["issue_date"]["box"]
    assert x > 450 and w < 120, regions["issue_date"]  # the digits only (they start at x ~ 471)
