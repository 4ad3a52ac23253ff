"""The selfie gate (minimum distance between the eye centres) is a setting the match and the capture share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openidv.cli import main
from openidv.config import get_settings
from openidv.liveness.frame import GUIDANCE_CLOSER, FrameConfig, frame_guidance
from openidv.liveness.types import FrameAnalysis


def _frame_with_eyes(apart_px: float) -> FrameAnalysis:
    """A well-lit, centred, sharp 640x480 frame whose mesh puts the eye centres ``apart_px`` apart."""
    marks = np.zeros((478, 3), np.float32)
    marks[[33, 133], 0], marks[[362, 263], 0] = 320 - apart_px / 2, 320 + apart_px / 2
    marks[:, 1] = 240
    box = (220.0, 140.0, 200.0, 200.0)
    return FrameAnalysis(0.0, 640, 480, 1, True, marks, box, face_width_frac=0.31, brightness=120, sharpness=80)


def test_capture_guidance_asks_to_come_closer_below_the_gate() -> None:
    assert frame_guidance(_frame_with_eyes(29.0)) == GUIDANCE_CLOSER  # default gate: 30 px
    assert frame_guidance(_frame_with_eyes(31.0)) == ""
    assert frame_guidance(_frame_with_eyes(31.0), FrameConfig(min_interocular_px=40.0)) == GUIDANCE_CLOSER


def test_match_reads_the_selfie_gate_setting(
    astronaut: np.ndarray,
    card_photo: np.ndarray,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import json

    selfie, card = tmp_path / "selfie.png", tmp_path / "card.png"
    Image.fromarray(astronaut).save(selfie)
    Image.fromarray(card_photo).save(card)
    monkeypatch.setenv("OPENIDV_FACE_SELFIE_MIN_IOD_PX", "500")
    get_settings.cache_clear()
    try:
        assert main(["match", str(selfie), str(card), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
    finally:
        monkeypatch.delenv("OPENIDV_FACE_SELFIE_MIN_IOD_PX")
        get_settings.cache_clear()
    assert out["same_person"] is None
    assert any(r["code"] == "face_too_small" and r["side"] == "selfie" for r in out["reason_details"])
    assert main(["match", str(selfie), str(card), "--json"]) == 0  # back to the default gate
    assert json.loads(capsys.readouterr().out)["same_person"] is True
