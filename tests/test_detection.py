from __future__ import annotations

import cv2
import numpy as np
import pytest

from openidv.errors import ImageError
from openidv.face.detection import DetectorConfig, detect
from openidv.face.quality import estimate_pose
from tests.conftest import encode


def test_one_face_with_ordered_landmarks(astronaut: np.ndarray) -> None:
    faces = detect(astronaut)
    assert len(faces) == 1
    f = faces[0]
    assert f.score > 0.9
    le, re, nose, ml, mr = f.landmarks
    assert le[0] < nose[0] < re[0]  # eyes either side of the nose
    assert ml[0] < mr[0]
    assert max(le[1], re[1]) < nose[1] < min(ml[1], mr[1])  # eyes above nose above mouth
    x, y, w, h = f.box.x, f.box.y, f.box.width, f.box.height
    assert all(x <= px <= x + w and y <= py <= y + h for px, py in f.landmarks)
    q = f.quality
    assert 35 < q.interocular_px < 60
    assert abs(q.roll_deg) < 10 and abs(q.yaw_deg) < 15
    assert q.sharpness > 50 and 60 < q.brightness < 220


def test_accepts_bytes_gray_and_rgba(astronaut: np.ndarray) -> None:
    gray = cv2.cvtColor(astronaut, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([astronaut, np.full(astronaut.shape[:2], 255, np.uint8)])
    for image in (encode(astronaut), gray, rgba):
        assert len(detect(image)) == 1


def test_no_face_on_blank_and_noise() -> None:
    assert detect(np.full((480, 640, 3), 128, np.uint8)) == []
    rng = np.random.default_rng(0)
    assert detect(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) == []


def test_small_face_in_large_frame_found_by_second_pass(astronaut: np.ndarray) -> None:
    # The face is ~8 px wide after the first pass's downscale to 640: found at higher resolution.
    canvas = np.full((3000, 4000, 3), 90, np.uint8)
    small = cv2.resize(astronaut, (260, 260), interpolation=cv2.INTER_AREA)
    canvas[1400:1660, 2000:2260] = small
    assert detect(canvas, DetectorConfig(hog_fallback=False, retry_max_side=640)) == []
    faces = detect(canvas, DetectorConfig(hog_fallback=False))
    assert len(faces) == 1
    assert 2000 < faces[0].box.x < 2260


def test_second_pass_only_when_it_is_larger(monkeypatch: pytest.MonkeyPatch) -> None:
    from openidv.face import detection

    scales: list[float] = []
    monkeypatch.setattr(detection, "_retinaface", lambda rgb, config, scale: scales.append(scale) or [])
    blank = np.full((1000, 1500, 3), 128, np.uint8)
    assert detect(blank, DetectorConfig(max_side=500, retry_max_side=500, hog_fallback=False)) == []
    assert scales == [pytest.approx(500 / 1500)]
    scales.clear()
    assert detect(blank, DetectorConfig(max_side=500, retry_max_side=1000, hog_fallback=False)) == []
    assert scales == [pytest.approx(500 / 1500), pytest.approx(1000 / 1500)]


def test_quality_measures_respond(astronaut: np.ndarray) -> None:
    sharp = detect(astronaut)[0].quality
    blurred = detect(cv2.GaussianBlur(astronaut, (0, 0), 3))[0].quality
    dark = detect((astronaut * 0.35).astype(np.uint8))[0].quality
    assert blurred.sharpness < sharp.sharpness / 3
    assert dark.brightness < sharp.brightness * 0.5


def test_roll_follows_rotation(astronaut: np.ndarray) -> None:
    f = detect(astronaut)[0]
    c = f.box.center
    m = cv2.getRotationMatrix2D(c, -20, 1.0)  # negative angle: clockwise in the image
    rotated = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REFLECT)
    roll = detect(rotated)[0].quality.roll_deg
    assert roll - f.quality.roll_deg == pytest.approx(20, abs=6)


def test_pose_estimate_on_synthetic_landmarks() -> None:
    frontal = np.array([[40, 50], [80, 50], [60, 72], [45, 92], [75, 92]], np.float32)
    yaw, pitch, roll = estimate_pose(frontal)
    assert abs(yaw) < 1 and abs(roll) < 1 and abs(pitch) < 5
    turned = frontal.copy()
    turned[2, 0] += 12  # nose shifted to the image's right
    assert estimate_pose(turned)[0] > 20


def test_bad_input_is_typed_error() -> None:
    with pytest.raises(ImageError):
        detect(b"")
    with pytest.raises(ImageError):
        detect(b"GIF89a broken")
