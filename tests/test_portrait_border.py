"""The portrait-border sharpness check: a pasted portrait's edge is sharper than the camera allows."""

from __future__ import annotations

from datetime import date
from math import erf, sqrt

import cv2
import numpy as np
import pytest

from openidv.checks import Status
from openidv.document import portrait_border as pb
from openidv.document.engine import analyse_document
from openidv.face.detection import detect
from openidv.synth import document as synth
from openidv.synth import tamper


def _slanted_step(
    angle_deg: float, blur_sigma: float, size: int = 160
) -> tuple[np.ndarray, tuple[float, float], tuple[float, float]]:
    """A dark/light step through the image centre at ``angle_deg`` from vertical, rendered 8x supersampled."""
    k = 8
    yy, xx = np.mgrid[0 : size * k, 0 : size * k].astype(np.float64) / k
    c = size / 2
    a = np.deg2rad(angle_deg)
    side = (xx - c) * np.cos(a) - (yy - c) * np.sin(a)
    fine = np.where(side > 0, 200.0, 60.0).astype(np.float32)
    image = cv2.resize(fine, (size, size), interpolation=cv2.INTER_AREA)  # each pixel integrates its area
    if blur_sigma > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur_sigma)
    # The edge runs along (sin a, cos a) through the centre (pixel centres at integers: shift by half a pixel).
    d = np.array([np.sin(a), np.cos(a)]) * size * 0.45
    p0 = (c - 0.5 - d[0], c - 0.5 - d[1])
    p1 = (c - 0.5 + d[0], c - 0.5 + d[1])
    return image, p0, p1


@pytest.mark.parametrize("angle", [3.0, 11.0, 27.0])
def test_edge_width_of_an_ideal_step_is_about_one_pixel(angle: float) -> None:
    image, p0, p1 = _slanted_step(angle, 0.0)
    widths = pb.edge_widths(image, p0, p1)
    assert len(widths) >= 5
    assert 0.9 <= float(np.median(widths)) <= 1.4


@pytest.mark.parametrize("sigma", [0.8, 1.2, 1.8])
def test_edge_width_grows_with_blur_as_a_gaussian_predicts(sigma: float) -> None:
    image, p0, p1 = _slanted_step(11.0, sigma)
    measured = float(np.median(pb.edge_widths(image, p0, p1)))
    # steepest one-pixel rise of a Gaussian-blurred step: erf(0.5 / (sigma * sqrt 2)) of the contrast
    expected = 1.0 / erf(0.5 / (sigma * sqrt(2.0)))
    assert measured == pytest.approx(expected, rel=0.15)


def test_weak_or_misplaced_steps_are_not_measured() -> None:
    image, p0, p1 = _slanted_step(11.0, 1.0)
    faint = 128 + (image - 128) * 0.1  # a 14-level step
    assert pb.edge_widths(faint, p0, p1) == []
    shifted = (p0[0] + 4.0, p0[1]), (p1[0] + 4.0, p1[1])
    assert pb.edge_widths(image, *shifted, max_offset=2.0) == []


def test_inconclusive_without_outline_or_border() -> None:
    flat = np.full((300, 400), 128, np.float32)
    r = pb.portrait_border(flat, flat, (100, 100, 80, 100), lambda pts: pts, None)
    assert r.status is Status.INCONCLUSIVE and r.reason == "no_outline"
    outline = np.array([[20, 20], [380, 20], [380, 280], [20, 280]], np.float64)
    r = pb.portrait_border(flat, flat, (100, 100, 80, 100), lambda pts: pts, outline)
    assert r.status is Status.INCONCLUSIVE and r.reason == "outline_unmeasurable"
    card = flat.copy()
    card[:, :] = 40
    card[20:280, 20:380] = 200  # a card on a dark table, no portrait frame around the face box
    r = pb.portrait_border(card, card, (150, 130, 60, 60), lambda pts: pts, outline)
    assert r.status is Status.INCONCLUSIVE and r.reason == "no_portrait_border", r.to_dict()


def _front_check(data: bytes) -> tuple[Status, dict[str, object]]:
    report = analyse_document(data, today=date(2026, 6, 1))
    check = next(c for c in report.checks if c.name == "front_portrait_border")
    return check.status, check.data


@pytest.mark.parametrize("seed", [3, 4])
def test_genuine_card_passes_and_a_pasted_portrait_fails(
    seed: int, astronaut_portrait: np.ndarray, cameraman: np.ndarray
) -> None:
    """A generated card photographed with 1.0-1.3 px of blur; the swap pastes another real portrait
    at patch JPEG quality 92, where no compression trace is left."""
    rng = np.random.default_rng(seed)
    g = tamper.genuine_sample(astronaut_portrait, rng, max_tilt_deg=20, blur=(1.0, 1.3), camera_quality=(85, 95))
    status, data = _front_check(g.data)
    assert status is Status.PASS, data
    photo = np.dstack([cameraman] * 3)
    b = detect(photo)[0].box
    other = synth.portrait_crop(photo, (b.x, b.y, b.width, b.height))
    swapped = tamper.paste_patch(g.photo, g.regions["portrait"], other, rng, 92, quality=90, mask=g.masks["portrait"])
    status, data = _front_check(swapped)
    assert status is Status.FAIL, data


def test_motion_blur_does_not_make_a_genuine_border_look_pasted(astronaut_portrait: np.ndarray) -> None:
    """A horizontal motion blur of 11 px widens vertical edges only, beyond the 5 px band the width is
    measured in. The portrait's borders are compared with the median of all four outline sides: a
    comparison with the parallel outline sides only was tried and failed this case (left border 0.55)."""
    rng = np.random.default_rng(6)
    g = tamper.genuine_sample(astronaut_portrait, rng, max_tilt_deg=8, blur=(0.5, 0.6), camera_quality=(90, 95))
    streak = cv2.filter2D(g.photo, -1, np.full((1, 11), 1 / 11, np.float32))
    status, data = _front_check(tamper.encode_jpeg(streak, 92))
    assert status is Status.PASS, data
