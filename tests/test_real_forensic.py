"""Forensic checks on real genuine licence fronts (../shared/data/real_us_fronts; skipped when absent).

These fronts failed the screen check before it was calibrated on real images (spectra of 2-15
tiles, and a square lattice of printed halftone); they must not fail any forensic check.
"""

from __future__ import annotations

from datetime import date

import pytest

from openidv.checks import Status
from tests.conftest import shared_path

FORENSIC = ("screen_recapture", "compression_consistency", "portrait_border", "copy_move", "photocopy")
FAILED_BEFORE = ("Arizona_s", "Illinois", "Iowa", "Rhode_Island_s", "Texas", "Vermont_s", "Wyoming_s")


@pytest.mark.parametrize("state", FAILED_BEFORE)
def test_real_genuine_fronts_fail_no_forensic_check(state: str) -> None:
    from openidv.document.engine import analyse_document

    path = shared_path("real_us_fronts", f"luckyverma_us_dl_fronts__{state}.jpg")
    report = analyse_document(path.read_bytes(), today=date(2026, 6, 1))
    failed = [c for c in report.checks if c.status is Status.FAIL and c.name.endswith(FORENSIC)]
    assert not failed, [c.to_dict() for c in failed]


def test_mrz_filler_run_is_not_a_copy_move() -> None:
    """A real Chinese passport page (passporteye): its MRZ's run of '<' fillers matched itself 153 px on."""
    from openidv.document import integrity
    from openidv.imaging import decode_image

    path = shared_path("passporteye", "passporteye", "mrz", "testdata", "100_pass-chn.jpg")
    result = integrity.copy_move(decode_image(path.read_bytes()))
    assert result.status is Status.PASS, result.to_dict()
