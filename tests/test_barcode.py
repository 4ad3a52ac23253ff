"""PDF417 reading on generated US driver's licence backs, synthetic backs, and the evaluation harness."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from openidv.document.barcode import (
    DEFAULT_CHAIN,
    REASON_NO_BARCODE,
    REASON_NOT_AAMVA,
    REASON_UNREADABLE,
    decode_pdf417,
    find_regions,
    looks_like_aamva,
    looks_like_pdf417,
    rectify,
)
from openidv.errors import DataFormatError, ImageTooSmallError, UnsupportedImageError
from openidv.eval.pdf417 import (
    evaluate_generated_backs,
    evaluate_pdf417,
    format_report,
    parse_label,
    read_manifest,
)
from openidv.synth import back as synth_back
from openidv.synth import document as synth
from tests.conftest import shared_path


def aamva_v10(family: str = "SAMPLE", given: str = "ALEX", number: str = "D12345678") -> str:
    """A small AAMVA v10 record built here by hand (header, one-entry directory, DL subfile)."""
    elements = [
        ("DCA", "D"),
        ("DCB", "NONE"),
        ("DCD", "NONE"),
        ("DBA", "01152030"),
        ("DCS", family),
        ("DAC", given),
        ("DAD", "JORDAN"),
        ("DBD", "01152022"),
        ("DBB", "01151985"),
        ("DBC", "1"),
        ("DAY", "BRO"),
        ("DAU", "070 IN"),
        ("DAG", "123 MAIN ST"),
        ("DAI", "RICHMOND"),
        ("DAJ", "VA"),
        ("DAK", "232190000  "),
        ("DAQ", number),
        ("DCF", "0123456789ABCDEF"),
        ("DCG", "USA"),
        ("DDE", "N"),
        ("DDF", "N"),
        ("DDG", "N"),
    ]
    body = "DL" + "\n".join(k + v for k, v in elements) + "\r"
    header = "@\n\x1e\rANSI 636000100001"
    return f"{header}DL{len(header) + 10:04d}{len(body):04d}{body}"


PAYLOAD = aamva_v10()


@pytest.fixture(scope="module")
def flat_back() -> np.ndarray:
    return synth_back.render_dl_back(PAYLOAD, np.random.default_rng(5))


def _photo(card: np.ndarray, seed: int, **kw: Any) -> np.ndarray:
    return synth.photograph(card, np.random.default_rng(seed), **kw)


# --- generated backs -----------------------------------------------------------------------------


def test_flat_back_decodes_with_control_characters(flat_back: np.ndarray) -> None:
    r = decode_pdf417(flat_back)
    assert r.found and r.reason is None
    assert r.text == PAYLOAD and r.raw_bytes == PAYLOAD.encode("ascii")
    assert "\x1e" in r.text and "\r" in r.text and "\n" in r.text  # AAMVA separators survive
    assert r.strategy == "zxing" and r.attempts == ["zxing"]
    assert r.ec_level is not None
    assert r.position is not None
    xs = [p[0] for p in r.position]
    ys = [p[1] for p in r.position]
    # The symbol is centred on the card horizontally and spans most of its width.
    assert 400 < np.mean(xs) < 610 and 150 < np.mean(ys) < 500
    assert max(xs) - min(xs) > 500


@pytest.mark.parametrize(
    ("tilt", "blur", "quality", "fraction", "seed"),
    [
        (0.0, 0.5, 95, 0.8, 1),
        (10.0, 0.8, 80, 0.7, 2),
        (20.0, 1.0, 60, 0.6, 3),
        (30.0, 1.2, 50, 0.75, 4),
        (30.0, 1.5, 40, 0.55, 7),
    ],
)
def test_photographed_backs_decode(
    flat_back: np.ndarray, tilt: float, blur: float, quality: int, fraction: float, seed: int
) -> None:
    photo = _photo(flat_back, seed, max_tilt_deg=tilt, blur_sigma=blur, jpeg_quality=quality, card_fraction=fraction)
    r = decode_pdf417(photo, budget_ms=5000, expect_aamva=True)
    assert r.found, r.to_dict()
    assert r.text == PAYLOAD
    assert r.attempts[-1] == r.strategy and r.strategy in DEFAULT_CHAIN
    assert set(r.timings_ms) >= set(r.attempts) | {"total"}


def test_generated_backs_rate_and_baseline() -> None:
    """The acceptance figure on a small fixed-seed set: >= 39/40 correct, no misreads, better than zxing."""
    result = evaluate_generated_backs(40, seed=2024, max_tilt_deg=30.0, budget_ms=5000)
    ours, base = result.engines["openidv"], result.engines["zxing"]
    assert ours.n == 40
    assert ours.correct >= 39, format_report(result)
    assert ours.wrong == 0
    assert ours.correct > base.correct
    d = result.to_dict()
    assert set(d["engines"]["openidv"]) >= {"n", "decoded", "correct", "ms_per_image", "items"}
    assert json.loads(json.dumps(d))["engines"]["zxing"]["n"] == 40
    assert "generated US DL backs" in format_report(result)


def test_region_finder_locates_the_symbol(flat_back: np.ndarray) -> None:
    photo = _photo(flat_back, 11, max_tilt_deg=25, card_fraction=0.7)
    gray = cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)
    regions = find_regions(gray)
    assert regions
    warped, back = rectify(gray, regions[0].quad, 1000)
    assert warped.shape[1] > 1000 and back.shape == (3, 3)
    assert looks_like_pdf417(warped)
    # Forced onto the region strategies, the position maps back into the photo.
    r = decode_pdf417(photo, budget_ms=5000, strategies=["region_sharpened"])
    assert r.found and r.text == PAYLOAD and r.position is not None
    cx, cy = np.mean(regions[0].quad, axis=0)
    px, py = np.mean(np.array(r.position), axis=0)
    assert abs(px - cx) < 30 and abs(py - cy) < 30


@pytest.mark.parametrize("seed", [4, 7, 10])
def test_rectified_card_photos_decode(flat_back: np.ndarray, seed: int) -> None:
    """A blurred, low-quality photo warped back to the card's 1011 x 638 px, as the document engine
    reads backs: the symbol's 3 px modules are too wide for the default region finder, whose blobs
    break at the wide spaces between codeword columns; ``region_coarse`` still finds it whole."""
    photo, corners = synth.photograph_with_corners(
        flat_back, np.random.default_rng(seed), max_tilt_deg=20, blur_sigma=1.4, jpeg_quality=40, card_fraction=0.62
    )
    h, w = flat_back.shape[:2]
    to_card = cv2.getPerspectiveTransform(corners, np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) - 0.5)
    card = cv2.warpPerspective(photo, to_card, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    assert not decode_pdf417(card, budget_ms=5000, strategies=["zxing", "region_sharpened"]).found
    r = decode_pdf417(card, budget_ms=5000, expect_aamva=True)
    assert r.found and r.text == PAYLOAD, r.to_dict()
    assert r.strategy == "region_coarse"


# --- failures and reasons -----------------------------------------------------------------------


def test_blank_image_has_no_barcode() -> None:
    r = decode_pdf417(np.full((480, 640, 3), 200, np.uint8))
    assert not r.found and r.text is None and r.position is None
    assert r.reason == REASON_NO_BARCODE and not r.symbol_seen
    assert r.attempts == list(DEFAULT_CHAIN)


def test_photos_without_barcode(astronaut: np.ndarray) -> None:
    front = synth.render_id_front(np.full((355, 285, 3), 200, np.uint8), np.random.default_rng(3), ghost=False)
    for image in (astronaut, _photo(front, 3, max_tilt_deg=15)):
        r = decode_pdf417(image)
        assert not r.found
        assert r.reason == REASON_NO_BARCODE, r.to_dict()


def test_covered_barcode_is_unreadable(flat_back: np.ndarray) -> None:
    gray = cv2.cvtColor(flat_back, cv2.COLOR_RGB2GRAY)
    x0, y0, x1, y1 = _symbol_bbox(gray)
    width = x1 - x0
    # A sticker over 45 % of the data columns, from top to bottom: beyond error correction.
    damaged = synth_back.cover(flat_back, (x0 + int(0.3 * width), y0 - 5, int(0.45 * width), y1 - y0 + 10))
    r = decode_pdf417(_photo(damaged, 5, max_tilt_deg=10, card_fraction=0.8), budget_ms=5000)
    assert not r.found
    assert r.reason == REASON_UNREADABLE, r.to_dict()
    assert r.symbol_seen


def test_small_damage_is_corrected(flat_back: np.ndarray) -> None:
    gray = cv2.cvtColor(flat_back, cv2.COLOR_RGB2GRAY)
    x0, y0, x1, _ = _symbol_bbox(gray)
    damaged = synth_back.cover(flat_back, (x0 + (x1 - x0) // 2, y0 + 10, 30, 40), colour=(20, 20, 20))
    r = decode_pdf417(_photo(damaged, 6, max_tilt_deg=10, card_fraction=0.8), budget_ms=5000)
    assert r.found and r.text == PAYLOAD


def test_expect_aamva_sets_aside_other_payloads() -> None:
    card = synth_back.render_dl_back("HELLO PDF417 WORLD 1234567890", np.random.default_rng(1))
    plain = decode_pdf417(card)
    assert plain.found and plain.text == "HELLO PDF417 WORLD 1234567890"
    strict = decode_pdf417(card, expect_aamva=True)
    assert not strict.found and strict.text is None
    assert strict.reason == REASON_NOT_AAMVA and strict.rejected >= 1
    assert looks_like_aamva(PAYLOAD.encode()) and not looks_like_aamva(b"HELLO")


def test_huge_and_small_images(flat_back: np.ndarray) -> None:
    huge = _photo(flat_back, 8, frame=(4000, 3000), max_tilt_deg=15, card_fraction=0.6)
    r = decode_pdf417(huge, budget_ms=5000)
    assert r.found and r.text == PAYLOAD
    assert r.position is not None and max(p[0] for p in r.position) > 1500  # input-pixel coordinates
    small = _photo(flat_back, 9, frame=(800, 600), max_tilt_deg=10, card_fraction=0.9, blur_sigma=0.5)
    r = decode_pdf417(small, budget_ms=5000)
    assert r.found and r.text == PAYLOAD
    # Far too small to hold 300 modules across: a clean negative, not an exception.
    tiny = _photo(flat_back, 10, frame=(240, 180), max_tilt_deg=10, card_fraction=0.8)
    r = decode_pdf417(tiny)
    assert not r.found and r.reason in (REASON_NO_BARCODE, REASON_UNREADABLE)
    r = decode_pdf417(np.zeros((16, 16), np.uint8))
    assert not r.found and r.reason == REASON_NO_BARCODE


def test_bad_input_raises_typed_errors() -> None:
    with pytest.raises(ImageTooSmallError):
        decode_pdf417(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(UnsupportedImageError):
        decode_pdf417(np.zeros((50, 50, 2), np.uint8))
    with pytest.raises(UnsupportedImageError):
        decode_pdf417(np.zeros((50, 50, 3), np.int32))
    with pytest.raises(ValueError, match="unknown PDF417 strategies"):
        decode_pdf417(np.zeros((50, 50, 3), np.uint8), strategies=["nope"])


def test_budget_stops_the_chain(flat_back: np.ndarray) -> None:
    blank = np.full((600, 800, 3), 180, np.uint8)
    r = decode_pdf417(blank, budget_ms=0.0)
    assert r.attempts == ["zxing"] and r.budget_exhausted
    assert r.reason == REASON_NO_BARCODE  # the structural check still runs


# --- synthetic backs -----------------------------------------------------------------------------


def test_render_dl_back_format(flat_back: np.ndarray) -> None:
    assert flat_back.shape == (synth.ID1_PX[1], synth.ID1_PX[0], 3) and flat_back.dtype == np.uint8
    layout = synth_back.choose_layout(PAYLOAD)
    assert layout.module_px == 3 and layout.width_px <= synth.ID1_PX[0] - 2 * synth_back.SYMBOL_MARGIN_PX
    again = synth_back.render_dl_back(PAYLOAD, np.random.default_rng(5))
    assert np.array_equal(again, flat_back)  # seeded
    forced = synth_back.render_dl_back(PAYLOAD, np.random.default_rng(5), columns=8, security_level=3)
    assert decode_pdf417(forced).text == PAYLOAD
    with pytest.raises(ValueError):
        synth_back.render_dl_back("X" * 3000, np.random.default_rng(0))


def test_random_payloads_are_well_formed() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        p = synth_back.random_aamva_payload(rng)
        assert p.startswith("@\n\x1e\rANSI ") and p.endswith("\r")
        assert p[15:17] == "10"  # AAMVA version
        offset, length = int(p[23:27]), int(p[27:31])
        assert p[21:23] == "DL" and p[offset : offset + 2] == "DL"
        assert offset + length == len(p)
        assert "\nDAQ" in p and "\nDCS" in p and "\nDBB" in p


def test_camera_effects() -> None:
    rng = np.random.default_rng(0)
    img = np.full((100, 120, 3), 100, np.uint8)
    glare = synth_back.add_glare(img, rng, strength=0.8)
    assert glare.shape == img.shape and glare.dtype == np.uint8 and glare.max() > 200
    lit = synth_back.add_uneven_lighting(img, rng, strength=0.5)
    assert lit.min() < 60 and lit.max() >= 99
    stripes = np.zeros((60, 60, 3), np.uint8)
    stripes[:, ::4] = 255
    moved = synth_back.add_motion_blur(stripes, rng, length_px=7)
    assert moved.shape == stripes.shape and moved.std() < stripes.std()


# --- evaluation harness -----------------------------------------------------------------------------


def test_labels_and_manifest(tmp_path: Path) -> None:
    assert parse_label('expected_text="A B"').text == "A B"
    assert parse_label("expected_bytes_hex=00ff").data == b"\x00\xff"
    with pytest.raises(DataFormatError):
        parse_label("nothing")
    with pytest.raises(DataFormatError):
        parse_label("expected_bytes_hex=zz")
    bad = tmp_path / "bad.tsv"
    bad.write_text("file\tother\nx.png\t1\n")
    with pytest.raises(DataFormatError):
        read_manifest(bad)


def test_evaluate_manifest_on_generated_files(tmp_path: Path, flat_back: np.ndarray) -> None:
    tilted = _photo(flat_back, 4, max_tilt_deg=30, blur_sigma=1.2, card_fraction=0.7)
    Image.fromarray(flat_back).save(tmp_path / "flat.png")
    Image.fromarray(tilted).save(tmp_path / "tilted.png")
    Image.fromarray(np.full((200, 300, 3), 220, np.uint8)).save(tmp_path / "blank.png")
    (tmp_path / "notimage.png").write_bytes(b"not an image")
    label = "expected_bytes_hex=" + PAYLOAD.encode().hex()
    rows = [("flat.png", label), ("tilted.png", label), ("blank.png", label), ("notimage.png", label)]
    manifest = tmp_path / "MANIFEST.tsv"
    manifest.write_text("file\tlabel\n" + "".join(f"{f}\t{lab}\n" for f, lab in rows))
    ours = evaluate_pdf417(manifest, tmp_path, engine="openidv", budget_ms=5000)
    base = evaluate_pdf417(manifest, tmp_path, engine="zxing")
    assert ours.n == base.n == 4
    assert ours.correct >= 2 and ours.correct >= base.correct
    d = ours.to_dict()
    assert {"n", "decoded", "correct", "ms_per_image", "items"} <= set(d)
    by_file = {i["file"]: i for i in d["items"]}
    assert by_file["blank.png"]["reason"] == REASON_NO_BARCODE
    assert by_file["notimage.png"]["reason"] == "not_an_image"
    assert "not decoded: blank.png" in format_report(ours)
    with pytest.raises(ValueError):
        evaluate_pdf417(manifest, tmp_path, engine="other")


def test_shared_zxing_pdf417_more_than_plain_zxing() -> None:
    folder = shared_path("zxing_pdf417")
    ours = evaluate_pdf417(folder / "MANIFEST.tsv", folder, engine="openidv")
    base = evaluate_pdf417(folder / "MANIFEST.tsv", folder, engine="zxing")
    assert ours.correct > base.correct, (format_report(ours), format_report(base))
    assert ours.wrong == 0


def _symbol_bbox(gray: np.ndarray) -> tuple[int, int, int, int]:
    """Bounding box (x0, y0, x1, y1) of the black bars on a flat generated back."""
    dark = (gray < 30).astype(np.uint8)  # symbol ink is 15; text and stripes are lighter
    _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(dark, np.ones((9, 9), np.uint8)))
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, w, h = (int(v) for v in stats[biggest, :4])
    return x + 4, y + 4, x + w - 4, y + h - 4
