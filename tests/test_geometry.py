"""Document localisation, rectification and orientation on generated photos.

Ground truth comes from two places: ``synth.photograph_with_corners`` (which returns
where the card went) and ``_scene``, a test-only camera with harder conditions (pale or textured
tables, rounded corners, glare, a finger over an edge) that returns the corners it used.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from skimage import data

from openidv.document import geometry as geo
from openidv.document.geometry import refine, score
from openidv.errors import ImageTooSmallError, OpenIDVError, UnsupportedImageError
from openidv.synth import document as synth

FRAME = (1280, 960)


# --------------------------------------------------------------------------- helpers


def _photo(portrait: np.ndarray, seed: int, card_fraction: float, tilt: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    card = synth.render_id_front(portrait, rng)
    photo, corners = synth.photograph_with_corners(card, rng, card_fraction=card_fraction, max_tilt_deg=tilt)
    # The warp maps the card's outer boundary (0..w) to ``corners``; the geometry module's convention is
    # pixel centres, half a pixel inside that boundary.
    return photo, np.asarray(corners, dtype=np.float64) - 0.5


def _scene(
    card: np.ndarray,
    rng: np.random.Generator,
    *,
    card_fraction: float = 0.65,
    tilt_deg: float = 20.0,
    background: str = "table",
    rounded: int = 0,
    glare: bool = False,
    finger: bool = False,
    offset: tuple[float, float] = (0.0, 0.0),
    skew: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """A harder camera photo than ``synth.photograph``; returns (photo, true corners TL TR BR BL)."""
    fw, fh = FRAME
    ch, cw = card.shape[:2]
    scale = card_fraction * fw / cw
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    a = np.deg2rad(rng.uniform(-tilt_deg, tilt_deg))
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    jitter = rng.uniform(-skew, skew, size=(4, 2)) * [cw * scale, ch * scale]
    shift = rng.uniform(-skew, skew, 2) * 0.6 * [fw, fh] + np.array(offset) * [fw, fh]
    dst = (((src - [cw / 2, ch / 2]) * scale) @ rot.T + jitter + [fw / 2, fh / 2] + shift).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    noise = rng.normal(0, 1, (fh, fw)).astype(np.float32)
    if background == "table":
        bg = rng.uniform(60, 160, 3) + 12 * cv2.GaussianBlur(noise, (0, 0), 3)[..., None]
    elif background == "pale":  # off-white desk under a pale card: low contrast
        bg = rng.uniform(185, 215, 3) + 6 * cv2.GaussianBlur(noise, (0, 0), 4)[..., None]
    elif background == "wood":  # coloured, strongly textured
        grain = np.sin(xx * 0.05 + 6 * np.sin(yy * 0.01) + rng.uniform(0, 6)) * 25 + 10 * noise
        bg = np.array([140, 95, 55]) + cv2.GaussianBlur(grain, (0, 0), 1.2)[..., None] * [1, 0.8, 0.6]
    elif background == "cloth":  # high-frequency coloured check pattern
        check = ((np.sin(xx * 0.35) > 0) ^ (np.sin(yy * 0.35) > 0)).astype(np.float32)
        bg = np.array([70, 110, 150]) + check[..., None] * np.array([90, 40, -40]) + 8 * noise[..., None]
    else:
        raise ValueError(background)
    card_mask = np.full((ch, cw), 255, np.uint8)
    if rounded:
        card_mask[:] = 0
        cv2.rectangle(card_mask, (rounded, 0), (cw - 1 - rounded, ch - 1), 255, -1)
        cv2.rectangle(card_mask, (0, rounded), (cw - 1, ch - 1 - rounded), 255, -1)
        for cx, cy in ((rounded, rounded), (cw - 1 - rounded, rounded), (cw - 1 - rounded, ch - 1 - rounded)):
            cv2.circle(card_mask, (cx, cy), rounded, 255, -1)
        cv2.circle(card_mask, (rounded, ch - 1 - rounded), rounded, 255, -1)
    warped = cv2.warpPerspective(card, matrix, (fw, fh)).astype(np.float32)
    mask = cv2.warpPerspective(card_mask, matrix, (fw, fh)).astype(np.float32)[..., None] / 255.0
    out = warped * mask + bg * (1 - mask)
    if glare:
        c = dst.mean(axis=0) + rng.uniform(-0.2, 0.2, 2) * [cw * scale, ch * scale]
        spot = np.exp(-(((xx - c[0]) / (0.12 * fw)) ** 2 + ((yy - c[1]) / (0.07 * fw)) ** 2))
        out = out + spot[..., None] * 200.0
    if finger:  # a finger from outside the card over the middle of its bottom edge
        p, q = dst[3], dst[2]
        mid = p + (q - p) * rng.uniform(0.35, 0.65)
        fmask = np.zeros((fh, fw), np.uint8)
        cv2.ellipse(fmask, (int(mid[0]), int(mid[1] + 40)), (int(0.04 * fw), int(0.11 * fw)), 0, 0, 360, 255, -1)
        soft = cv2.GaussianBlur(fmask, (0, 0), 2).astype(np.float32)[..., None] / 255.0
        out = out * (1 - soft) + np.array([225, 170, 140]) * soft
    out = cv2.GaussianBlur(np.clip(out, 0, 255), (0, 0), 0.8)
    out = np.clip(out + rng.normal(0, 3.0, out.shape), 0, 255).astype(np.uint8)
    return out, dst.astype(np.float64) - 0.5


def _corner_error(found: np.ndarray, truth: np.ndarray) -> float:
    """Largest corner distance in pixels (corners in the same TL TR BR BL order)."""
    return float(np.linalg.norm(found - truth, axis=1).max())


def _inside(corners: np.ndarray, margin: float = 2.0) -> bool:
    fw, fh = FRAME
    xs, ys = corners[:, 0], corners[:, 1]
    return bool(np.all((xs >= margin) & (xs <= fw - 1 - margin) & (ys >= margin) & (ys <= fh - 1 - margin)))


def _ncc(a: np.ndarray, b: np.ndarray) -> float:
    size = (202, 128)
    x = cv2.resize(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA).astype(np.float64)
    y = cv2.resize(cv2.cvtColor(b, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA).astype(np.float64)
    x -= x.mean()
    y -= y.mean()
    return float((x * y).sum() / np.sqrt((x * x).sum() * (y * y).sum()))


@pytest.fixture(scope="module")
def cards(astronaut_portrait: np.ndarray) -> list[np.ndarray]:
    return [synth.render_id_front(astronaut_portrait, np.random.default_rng(500 + i)) for i in range(4)]


# --------------------------------------------------------------------------- helpers of the locator


def test_intersect_lines() -> None:
    rng = np.random.default_rng(8)
    for _ in range(50):
        a0, a1, b0, b1 = rng.uniform(-500, 1500, (4, 2))
        point = refine.intersect_lines((a0, a1), (b0, b1))
        assert point is not None
        # on both lines: the cross product with each line's direction vanishes
        for p, q in ((a0, a1), (b0, b1)):
            d = q - p
            assert abs(d[0] * (point[1] - p[1]) - d[1] * (point[0] - p[0])) <= 1e-6 * max(1.0, np.hypot(*d) ** 2)
    assert (
        refine.intersect_lines(
            (np.array([0.0, 0.0]), np.array([10.0, 0.0])), (np.array([0.0, 5.0]), np.array([3.0, 5.0]))
        )
        is None
    )


def test_gradient_takes_the_strongest_channel() -> None:
    rng = np.random.default_rng(9)
    lab = cv2.GaussianBlur(rng.uniform(0, 255, (60, 80, 3)).astype(np.float32), (0, 0), 1.5)
    grad = score.EdgeGradient.of(lab)
    gx = cv2.Scharr(lab, cv2.CV_32F, 1, 0) / 16.0
    gy = cv2.Scharr(lab, cv2.CV_32F, 0, 1) / 16.0
    pick = np.argmax(gx * gx + gy * gy, axis=2)[..., None]
    assert np.array_equal(grad.gx, np.take_along_axis(gx, pick, axis=2)[..., 0])
    assert np.array_equal(grad.gy, np.take_along_axis(gy, pick, axis=2)[..., 0])
    assert np.allclose(grad.magnitude, np.hypot(grad.gx, grad.gy), rtol=1e-5)


def test_side_support_of_a_drawn_rectangle() -> None:
    image = np.full((240, 320, 3), 60, np.uint8)
    cv2.rectangle(image, (60, 50), (260, 190), (230, 230, 230), -1)
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    grad = score.EdgeGradient.of(cv2.GaussianBlur(lab, (0, 0), 1.0))
    quad = np.array([[60.0, 50.0], [260.0, 50.0], [260.0, 190.0], [60.0, 190.0]])
    off = quad - np.array([30.0, 0.0])  # left and right sides off the edges
    parts = score.score_many([quad, off], [False, False], grad, lab, 320, 240)
    assert parts[0] is not None and parts[1] is not None
    assert parts[0]["edge"] > 0.95 and parts[0]["contrast"] > 100
    assert parts[1]["edge_min"] < 0.2 and parts[1]["edge"] < parts[0]["edge"]
    # one side at a time gives the same numbers as the batch
    centre = quad.mean(axis=0)
    single = [score.side_support(quad[i], quad[(i + 1) % 4], centre, grad, lab, 320, 240) for i in range(4)]
    assert parts[0]["edge"] == pytest.approx(float(np.mean([s[0] for s in single])))
    assert parts[0]["contrast"] == pytest.approx(float(np.median([s[1] for s in single])))


# --------------------------------------------------------------------------- locating


def test_detects_synth_photographs_with_subpixel_corners(astronaut_portrait: np.ndarray) -> None:
    errors = []
    tried = 0
    for seed, (fraction, tilt) in enumerate([(0.35, 10), (0.5, 20), (0.6, 25), (0.7, 15), (0.75, 20)] * 2):
        photo, truth = _photo(astronaut_portrait, seed, fraction, tilt)
        if not _inside(truth):
            continue
        tried += 1
        result = geo.locate_document(photo)
        assert result.reason == "ok", (seed, result.reason)
        assert result.quad is not None
        assert 0.6 <= result.quad.confidence <= 1.0
        assert abs(result.quad.aspect_ratio - geo.FORMAT_ASPECTS["id1"]) < 0.2
        assert not result.quad.portrait
        errors.append(_corner_error(result.quad.corners, truth))
    assert tried >= 7
    # Measured: mean 0.5 px, max 0.9 px.
    assert float(np.mean(errors)) < 1.2, errors
    assert max(errors) < 2.5, errors


HARD = [
    {"background": "pale"},
    {"background": "wood"},
    {"background": "cloth"},
    {"rounded": 38},
    {"glare": True},
    {"finger": True},
    {"background": "wood", "finger": True, "rounded": 38},
    {"background": "pale", "rounded": 38, "glare": True},
    {"tilt_deg": 32.0, "card_fraction": 0.55},
    {"card_fraction": 0.3},
    {"card_fraction": 0.92, "tilt_deg": 2.0, "skew": 0.01},
]


@pytest.mark.parametrize("variant", HARD, ids=lambda v: "-".join(f"{k}={v[k]}" for k in v))
def test_detects_hard_scenes(cards: list[np.ndarray], variant: dict[str, Any]) -> None:
    errors = []
    for i in range(2):
        rng = np.random.default_rng(900 + i)
        photo, truth = _scene(cards[i], rng, **variant)
        assert _inside(truth)
        quad = geo.find_document(photo)
        assert quad is not None, (variant, i, geo.locate_document(photo).reason)
        errors.append(_corner_error(quad.corners, truth))
    # Measured: <= 1 px on most variants; the pale table with glare and the check cloth reach ~5-17 px
    # on some seeds (a side locked on a printed line just inside the card).
    limit = 20.0 if variant.get("background") in ("pale", "cloth") else 4.0
    assert max(errors) < limit, errors


def test_rotated_photos_are_found_and_rectified_upright(cards: list[np.ndarray]) -> None:
    rng = np.random.default_rng(77)
    photo, _ = _scene(cards[0], rng, card_fraction=0.6, tilt_deg=15)
    for rotation in geo.ROTATIONS:
        turned = geo.rotate(photo, rotation)
        quad = geo.find_document(turned)
        assert quad is not None, rotation
        assert quad.portrait == (rotation in (90, 270))
        rectified = geo.rectify(turned, quad)
        assert rectified.shape == (638, 1011, 3)
        straight, applied = geo.upright(rectified)
        assert applied in (0, 180)
        assert _ncc(straight, cards[0]) > 0.8, rotation
        assert _ncc(straight, cards[0]) > _ncc(straight, geo.rotate(cards[0], 180)) + 0.2, rotation


def test_cropped_document_is_reported(cards: list[np.ndarray]) -> None:
    reasons = []
    for i, offset in enumerate([(0.3, 0.0), (0.0, -0.3), (-0.28, 0.1), (0.1, 0.3)]):
        photo, truth = _scene(cards[i], np.random.default_rng(40 + i), card_fraction=0.7, tilt_deg=10, offset=offset)
        assert not _inside(truth, margin=-10.0)
        result = geo.locate_document(photo)
        assert result.quad is None, (offset, result.reason)
        reasons.append(result.reason)
    assert reasons.count("document_cropped") >= 3, reasons


def test_small_document(cards: list[np.ndarray]) -> None:
    photo, _ = _scene(cards[1], np.random.default_rng(3), card_fraction=0.14, tilt_deg=10)
    result = geo.locate_document(photo)
    assert result.quad is None
    assert result.reason in ("document_too_small", "no_document")


@pytest.mark.parametrize("name", ["coffee", "astronaut", "chelsea", "rocket", "camera", "grass"])
def test_non_documents_give_none_with_reason(name: str) -> None:
    image = getattr(data, name)()
    result = geo.locate_document(image)
    assert result.quad is None
    assert geo.find_document(image) is None
    assert result.reason in ("no_document", "document_cropped", "document_too_small", "low_contrast")


@pytest.mark.parametrize("value", [0, 128, 255])
def test_blank_images_are_low_contrast(value: int) -> None:
    result = geo.locate_document(np.full((600, 800, 3), value, np.uint8))
    assert result.quad is None
    assert result.reason == "low_contrast"


def test_noise_is_not_a_document() -> None:
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert geo.locate_document(noise).reason == "no_document"


def test_bad_inputs() -> None:
    with pytest.raises(ImageTooSmallError):
        geo.locate_document(np.zeros((10, 10, 3), np.uint8))
    with pytest.raises(UnsupportedImageError):
        geo.locate_document(np.zeros((50, 50, 5), np.uint8))
    with pytest.raises(UnsupportedImageError):
        geo.locate_document("not an image")  # type: ignore[arg-type]
    assert geo.locate_document(np.zeros((30, 40, 3), np.uint8)).reason == "image_too_small"
    with pytest.raises(OpenIDVError):
        geo.locate_document(np.full((20, 20), np.nan))


def test_grayscale_float_and_huge_inputs(cards: list[np.ndarray]) -> None:
    photo, truth = _scene(cards[2], np.random.default_rng(5), card_fraction=0.6, tilt_deg=12)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    quad = geo.find_document(gray)
    assert quad is not None
    assert _corner_error(quad.corners, truth) < 3.0
    quad = geo.find_document(photo.astype(np.float32) / 255.0)
    assert quad is not None
    assert _corner_error(quad.corners, truth) < 3.0
    # A 5120 x 3840 photo (20 MP): found on the reduced copy, corners refined at full size.
    big = cv2.resize(photo, (FRAME[0] * 4, FRAME[1] * 4), interpolation=cv2.INTER_CUBIC)
    result = geo.locate_document(big)
    assert result.quad is not None
    big_truth = (truth + 0.5) * 4 - 0.5
    assert _corner_error(result.quad.corners, big_truth) < 8.0
    assert result.work_scale == pytest.approx(640 / 5120)


def test_intermediate_steps_are_exposed(card_photo: np.ndarray) -> None:
    result = geo.locate_document(card_photo)
    assert result.found
    assert result.edges is not None and result.edges.dtype == np.uint8
    assert result.edges.shape[1] == 640
    assert result.candidates and result.candidates[0].score >= result.candidates[-1].score
    assert {"edge", "aspect", "angles", "area_fraction", "contrast"} <= set(result.candidates[0].parts)
    assert result.elapsed_ms > 0
    assert result.quad is not None and set(result.quad.to_dict()) == {
        "corners",
        "confidence",
        "aspect_ratio",
        "portrait",
    }


# --------------------------------------------------------------------------- rectification


def test_canonical_sizes() -> None:
    assert geo.canonical_size("id1") == synth.ID1_PX
    assert geo.canonical_size("td3") == (1476, 1039)
    assert geo.canonical_size("td2") == (1240, 874)
    assert geo.canonical_size("id1", dpi=150) == (506, 319)
    with pytest.raises(geo.UnknownDocumentKindError):
        geo.canonical_size("a4")
    assert geo.kind_from_aspect(1.59) == "id1"
    assert geo.kind_from_aspect(1.42) == "td3"


def test_rectify_with_true_corners_restores_the_card(cards: list[np.ndarray]) -> None:
    photo, truth = _scene(cards[3], np.random.default_rng(8), card_fraction=0.8, tilt_deg=20)
    out = geo.rectify(photo, truth, "id1")
    assert out.shape == (638, 1011, 3)
    assert _ncc(out, cards[3]) > 0.9
    # Any corner order is accepted; a passport kind gives the passport size.
    shuffled = truth[[2, 0, 3, 1]]
    assert _ncc(geo.rectify(photo, shuffled, "id1"), cards[3]) > 0.9
    assert geo.rectify(photo, truth, "td3").shape == (1039, 1476, 3)
    with pytest.raises(geo.BadQuadError):
        geo.rectify(photo, np.zeros((4, 2)))
    with pytest.raises(geo.BadQuadError):
        geo.rectify(photo, np.zeros((3, 2)))
    with pytest.raises(geo.UnknownDocumentKindError):
        geo.rectify(photo, truth, "letter")


def test_rectify_auto_picks_passport_size_for_passport_shape() -> None:
    page = np.full((880, 1250, 3), 230, np.uint8)
    cv2.rectangle(page, (100, 100), (400, 500), (40, 40, 40), -1)
    canvas = np.full((1200, 1600, 3), 90, np.uint8)
    canvas[160:1040, 175:1425] = page
    quad = geo.find_document(canvas)
    assert quad is not None
    assert quad.aspect_ratio == pytest.approx(125 / 88, abs=0.03)
    assert geo.rectify(canvas, quad).shape == (1039, 1476, 3)


# --------------------------------------------------------------------------- orientation


def test_orientation_on_generated_cards(cards: list[np.ndarray]) -> None:
    correct_face = correct_text = 0
    trials = 0
    for card in cards:
        for rotation in (0, 180):
            shown = geo.rotate(card, rotation)
            expected = (360 - rotation) % 360
            candidates = geo.orientation_candidates(shown)
            assert [r for r, _ in candidates] != [] and sorted(r for r, _ in candidates) == list(geo.ROTATIONS)
            assert sum(s for _, s in candidates) == pytest.approx(1.0)
            assert candidates == sorted(candidates, key=lambda rs: -rs[1])
            correct_face += candidates[0][0] == expected
            correct_text += geo.orientation_candidates(shown, use_face=False)[0][0] == expected
            trials += 1
    assert correct_face == trials
    assert correct_text >= trials - 1


def test_orientation_without_a_face_uses_text(astronaut_portrait: np.ndarray) -> None:
    card = synth.render_id_front(np.full_like(astronaut_portrait, 235), np.random.default_rng(3), ghost=False)
    cues = geo.orientation_cues(card)
    assert all(v == 0.0 for v in cues.face.values())
    assert cues.text_alignment[0] > 0 > cues.text_alignment[180]
    assert geo.upright(geo.rotate(card, 180))[1] == 180
    assert geo.upright(card)[1] == 0


def test_mrz_band_cue() -> None:
    page = Image.new("RGB", (1011, 638), (236, 232, 220))
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=52)  # 30 characters over ~90% of the width, as on a TD1 card
    for i, line in enumerate(
        ["I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
    ):
        draw.text((30, 470 + 52 * i), line, font=font, fill=(20, 20, 20))
    card = np.asarray(page)
    assert geo.orientation_cues(card, use_face=False).mrz[0] > 0
    assert geo.upright(geo.rotate(card, 180), use_face=False)[1] == 180


def test_portrait_format_face_picks_a_quarter_turn(astronaut_portrait: np.ndarray) -> None:
    # A vertical card (portrait format, e.g. an under-21 licence) rectified landscape:
    # only the face can tell that a quarter turn is needed.
    vertical = np.full((1011, 638, 3), 225, np.uint8)
    vertical[120:520, 140:460] = cv2.resize(astronaut_portrait, (320, 400))
    landscape = geo.rotate(vertical, 90)
    best = geo.orientation_candidates(landscape)[0]
    assert best[0] == 270


def test_rotate_rejects_other_angles() -> None:
    with pytest.raises(ValueError):
        geo.rotate(np.zeros((4, 4, 3), np.uint8), 45)
