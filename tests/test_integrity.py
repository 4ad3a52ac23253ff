"""Image-integrity checks on generated genuine document photos and generated manipulations."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from openidv.checks import Status
from openidv.document import integrity, synth, tamper
from openidv.document.types import FieldSource, FieldValue
from tests.conftest import encode

GOOD_FIELDS = synth.CardFields(family_name="RIVERA", given_names="DANA LEE", number="T4802957")


@pytest.fixture(scope="module")
def other_portrait(cameraman: np.ndarray) -> np.ndarray:
    """A second person's portrait (grey cameraman photo), for portrait swaps."""
    rgb = np.repeat(cameraman[:, :, None], 3, axis=2)
    return synth.portrait_crop(rgb, (190, 60, 110, 130))


@pytest.fixture(scope="module")
def double_compressed(astronaut_portrait: np.ndarray) -> list[tamper.GenuineSample]:
    """Genuine photos: camera JPEG 50-75, browser re-encode 85-92 (the case compression checks can judge)."""
    rng = np.random.default_rng(101)
    return [
        tamper.genuine_sample(
            astronaut_portrait, rng, GOOD_FIELDS, camera_quality=(50, 75), browser_reencode_probability=1.0
        )
        for _ in range(4)
    ]


@pytest.fixture(scope="module")
def varied(astronaut_portrait: np.ndarray) -> list[tamper.GenuineSample]:
    """Genuine photos across the whole range of camera conditions."""
    rng = np.random.default_rng(202)
    return [tamper.genuine_sample(astronaut_portrait, rng, GOOD_FIELDS) for _ in range(6)]


def _png(image: np.ndarray) -> bytes:
    return encode(image, "PNG")


# --------------------------------------------------------------------------- editing software


def test_editing_software_found_in_exif(varied: list[tamper.GenuineSample]) -> None:
    data = tamper.with_editing_metadata(varied[0].data, "Adobe Photoshop 25.0 (Windows)")
    r = integrity.editing_software_metadata(data)
    assert r.status is Status.FAIL and r.reason == "editing_software"
    assert r.data["editor"] == "photoshop" and r.data["where"] == "exif_software"
    # the pixels are untouched
    assert np.array_equal(tamper.decode(data), tamper.decode(varied[0].data))


def test_editing_software_other_places() -> None:
    pixels = np.random.default_rng(1).integers(0, 255, (80, 96, 3)).astype(np.uint8)
    gimp = encode(pixels, "JPEG", quality=90, comment=b"Created with GIMP")
    assert integrity.editing_software_metadata(gimp).status is Status.FAIL
    xmp = b'<x:xmpmeta><rdf:Description xmp:CreatorTool="Snapseed 2.0"/></x:xmpmeta>'
    plain = encode(pixels, "JPEG", quality=90)
    segment = b"\xff\xe1" + (len(xmp) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    r = integrity.editing_software_metadata(plain[:2] + segment + plain[2:])
    assert r.status is Status.FAIL and r.data["where"] == "xmp_tool" and r.data["editor"] == "snapseed"
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "GIMP 2.10.34")
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", pnginfo=info)
    assert integrity.editing_software_metadata(buf.getvalue()).status is Status.FAIL


def test_editing_software_camera_and_absent(varied: list[tamper.GenuineSample]) -> None:
    camera = tamper.with_exif_tags(varied[0].data, {0x010F: "Apple", 0x0110: "iPhone 14", 0x0131: "17.1.2"})
    r = integrity.editing_software_metadata(camera)
    assert r.status is Status.PASS and r.reason == "camera_metadata"
    r = integrity.editing_software_metadata(varied[0].data)
    assert r.status is Status.INCONCLUSIVE and r.reason == "no_metadata"
    # iPhone XMP declares the photoshop namespace: that is not an edit
    xmp = b'<x:xmpmeta xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"><photoshop:DateCreated>2024</photoshop:DateCreated></x:xmpmeta>'
    segment = b"\xff\xe1" + (len(xmp) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    r = integrity.editing_software_metadata(camera[:2] + segment + camera[2:])
    assert r.status is Status.PASS


# --------------------------------------------------------------------------- specimen


def _fields(**values: str) -> list[FieldValue]:
    return [FieldValue(k, v, FieldSource.PRINTED) for k, v in values.items()]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"family_name": "SAMPLE", "given_names": "MICHAEL JOHN", "document_number": "T4802957"}, "family_name"),
        ({"family_name": "MUSTERMANN", "given_names": "ERIKA"}, "family_name"),
        ({"family_name": "DOE", "given_names": "JANE", "document_number": "X7301928"}, "family_name"),
        ({"family_name": "RIVERA", "document_number": "D1234567"}, "document_number"),
        ({"family_name": "RIVERA", "document_number": "L898902C3"}, "document_number"),
        ({"family_name": "RIVERA", "document_number": "A0000000"}, "document_number"),
        ({"family_name": "RIVERA", "document_number": "987654321"}, "document_number"),
        ({"family_name": "TRAVELER", "given_names": "HAPPY", "nationality": "UTO"}, "nationality"),
    ],
)
def test_specimen_fails_and_names_the_field(values: dict[str, str], field: str) -> None:
    r = integrity.specimen(_fields(**values))
    assert r.status is Status.FAIL and r.reason == "specimen_document"
    assert field in [m["field"] for m in r.data["matches"]]


def test_specimen_passes_real_looking_values() -> None:
    fields = _fields(family_name="DOE", given_names="MARGARET", document_number="T4802957", birth_date="1988-03-22")
    r = integrity.specimen(fields)
    assert r.status is Status.PASS
    assert integrity.specimen([]).status is Status.INCONCLUSIVE


# --------------------------------------------------------------------------- compression consistency


def test_compression_genuine_consistent(double_compressed: list[tamper.GenuineSample]) -> None:
    for g in double_compressed:
        r = integrity.error_level_consistency(g.data, g.regions)
        assert r.status is Status.PASS, r.to_dict()


def test_compression_finds_pasted_text_and_portrait(
    double_compressed: list[tamper.GenuineSample], other_portrait: np.ndarray
) -> None:
    rng = np.random.default_rng(7)
    for g in double_compressed:
        box = g.regions["birth_date"]
        patch = tamper.retyped_text_patch(g.photo, box, "03/22/1979", rng)
        data = tamper.paste_patch(g.photo, box, patch, rng, patch_quality=80, quality=90)
        r = integrity.error_level_consistency(data, g.regions)
        assert r.status is Status.FAIL and r.data["suspicious"] == ["birth_date"], r.to_dict()
        box = g.regions["portrait"]
        data = tamper.paste_patch(g.photo, box, other_portrait, rng, 90, quality=88, mask=g.masks["portrait"])
        r = integrity.error_level_consistency(data, g.regions)
        assert r.status is Status.FAIL and "portrait" in r.data["suspicious"], r.to_dict()


def test_compression_never_fails_genuine_across_conditions(varied: list[tamper.GenuineSample]) -> None:
    for g in varied:
        assert integrity.error_level_consistency(g.data, g.regions).status is not Status.FAIL


def test_compression_inconclusive_inputs(varied: list[tamper.GenuineSample]) -> None:
    g = varied[0]
    assert integrity.error_level_consistency(b"", g.regions).reason == "empty"
    assert integrity.error_level_consistency(_png(g.rgb), g.regions).reason == "not_jpeg"
    assert integrity.error_level_consistency(b"\xff\xd8garbage", g.regions).status is Status.INCONCLUSIVE
    tiny = encode(np.full((20, 20, 3), 128, np.uint8), "JPEG")
    assert integrity.error_level_consistency(tiny, None).reason == "unreadable_image"
    outside = {"portrait": (5000, 5000, 50, 50)}
    assert integrity.error_level_consistency(g.data, outside).reason == "no_usable_region"
    # a single compression at a middle quality leaves nothing to compare
    photo = synth.photograph(g.card, np.random.default_rng(4), jpeg_quality=100)
    once = tamper.encode_jpeg(photo, 75)
    r = integrity.error_level_consistency(once, {"portrait": (300, 200, 300, 300)})
    assert r.status is Status.INCONCLUSIVE and r.reason == "no_compression_trace"


def _prior_steps_by_scan(k2: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Reference for ``integrity._estimate_prior_steps``: the candidate steps tried one by one."""
    steps = np.zeros(k2.shape[1])
    for j in range(k2.shape[1]):
        q2 = float(final[j])
        hist = np.bincount(np.abs(k2[:, j]).astype(np.int64), minlength=2)[1:].astype(np.float64)
        total = hist.sum()
        if total < 100:
            continue
        n = np.arange(1, hist.size + 1, dtype=np.float64)
        mean = float((hist * n).sum() / total)
        r = max(0.0, 1.0 - 1.0 / mean)
        model = total * (1.0 - r) * r ** (n - 1.0)
        for step in range(int(np.ceil(1.5 * q2)), 121):
            reach = np.zeros(hist.size, bool)
            idx = np.round(np.arange(1, int(hist.size * q2 / step) + 2) * step / q2).astype(np.int64) - 1
            reach[idx[(idx >= 0) & (idx < hist.size)]] = True
            if float(model[~reach].sum()) < 30:
                break
            if float(hist[~reach].sum()) < 0.3 * float(model[~reach].sum()):
                steps[j] = step
    return steps


def test_prior_quantisation_steps_are_recovered(astronaut_portrait: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    photo = synth.photograph(synth.render_id_front(astronaut_portrait, rng), rng, jpeg_quality=100)
    once = tamper.encode_jpeg(photo, 60)
    twice = tamper.encode_jpeg(tamper.decode(once), 90)
    table = integrity.parse_container(twice).luma_table
    assert table is not None
    maps = integrity._block_maps(integrity._luma(tamper.decode(twice)), table)
    q1 = integrity.ijg_table(60)[integrity._GHOST_COEFS]
    # The low frequencies betray the camera's quality-60 table exactly (measured: 8 of the first 9 found, all exact).
    found = maps.prior_steps[:9] > 0
    assert found.sum() >= 6
    assert np.array_equal(maps.prior_steps[:9][found], q1[:9][found])
    # The vectorised estimate is the one-step-at-a-time scan.
    y = integrity._luma(tamper.decode(twice))
    h8, w8 = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    blocks = (y[:h8, :w8] - 128.0).reshape(h8 // 8, 8, w8 // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    final = np.maximum(table[integrity._GHOST_COEFS], 1.0)
    k2 = np.round((blocks @ integrity._GHOST_BASIS) / final.astype(np.float32))
    assert np.array_equal(integrity._estimate_prior_steps(k2, final), _prior_steps_by_scan(k2, final))
    # A single compression leaves no earlier lattice.
    single = integrity.parse_container(once).luma_table
    assert single is not None
    assert not integrity._block_maps(integrity._luma(tamper.decode(once)), single).prior_steps.any()


def test_compression_check_reuses_given_pixels(
    double_compressed: list[tamper.GenuineSample], monkeypatch: pytest.MonkeyPatch
) -> None:
    g = double_compressed[0]
    regions = {"portrait": g.regions["portrait"]}
    decoded_here = integrity.error_level_consistency(g.data, regions)
    decodes: list[int] = []
    decode = integrity._decode_stored
    monkeypatch.setattr(integrity, "_decode_stored", lambda data: decodes.append(1) or decode(data))
    given = integrity.error_level_consistency(g.data, regions, rgb=g.rgb)
    assert given.to_dict() == decoded_here.to_dict()
    assert decodes == []  # the given pixels were used, the file was not decoded again
    # pixels of another size are not the file's: it is decoded instead
    wrong = integrity.error_level_consistency(g.data, regions, rgb=g.rgb[:-8])
    assert wrong.to_dict() == decoded_here.to_dict()
    assert decodes == [1]


# --------------------------------------------------------------------------- copy-move


def test_copy_move_detects_copied_date(double_compressed: list[tamper.GenuineSample]) -> None:
    g = double_compressed[0]
    src, dst = g.regions["issue_date"], g.regions["birth_date"]
    data = tamper.copy_move(g.photo, src, (dst[0], dst[1]), quality=90)
    r = integrity.copy_move(tamper.decode(data))
    assert r.status is Status.FAIL, r.to_dict()
    boxes = [r.data["source_box"], r.data["copy_box"]]
    # one of the reported boxes overlaps the pasted destination
    assert any(abs(b[0] - dst[0]) < 40 and abs(b[1] - dst[1]) < 40 for b in boxes)


def test_copy_move_genuine_fixture_passes(card_photo: np.ndarray) -> None:
    assert integrity.copy_move(card_photo).status is Status.PASS


# --------------------------------------------------------------------------- recapture, photocopy, screenshot


def test_photocopy(varied: list[tamper.GenuineSample]) -> None:
    rng = np.random.default_rng(3)
    for g in varied[:3]:
        assert integrity.photocopy(g.rgb).status is Status.PASS
        copy = tamper.decode(tamper.photocopy(g.photo, rng))
        r = integrity.photocopy(copy)
        assert r.status is Status.FAIL and r.reason == "greyscale_document"


def test_screen_recapture(varied: list[tamper.GenuineSample]) -> None:
    rng = np.random.default_rng(5)
    for g in varied:
        assert integrity.screen_recapture(g.rgb).status is Status.PASS
    shots = [integrity.screen_recapture(tamper.decode(tamper.screen_recapture(g.photo, rng))) for g in varied]
    assert sum(r.status is Status.FAIL for r in shots) >= 3, [r.data for r in shots]


def _with_colour_pattern(
    rgb: np.ndarray, amplitude: float, phases_deg: tuple[float, float, float], gains: tuple[float, float, float]
) -> np.ndarray:
    """``rgb`` plus a low-frequency stripe pattern (10/128, 3/128 cycle/px) in each channel with its
    own gain and phase, uploaded as JPEG at quality 90 and decoded."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    theta = 2 * np.pi * (10 / 128 * xx + 3 / 128 * yy)
    out = rgb.astype(np.float32)
    for c in range(3):
        out[..., c] += amplitude * gains[c] * np.cos(theta + np.deg2rad(phases_deg[c]))
    return tamper.decode(tamper.encode_jpeg(np.clip(np.round(out), 0, 255).astype(np.uint8), 90))


def test_weak_colour_moire_from_screen_subpixels_fails_but_ink_of_the_same_strength_passes(
    varied: list[tamper.GenuineSample],
) -> None:
    card = varied[0].rgb
    # R, G, B side by side a third of a pixel apart: the moire's colours are 120 degrees out of phase;
    # too weak for the lattice peak threshold, caught by its phase
    screen = integrity.screen_recapture(_with_colour_pattern(card, 0.9, (0, 120, 240), (1, 1, 1)))
    assert max(screen.data["peaks"].values()) <= integrity.SCREEN_PEAK_THRESHOLD, screen.data
    assert screen.status is Status.FAIL and "sub-pixels" in screen.detail, screen.data
    assert screen.data["subpixel_moire"] > integrity.SCREEN_SUBPIXEL_THRESHOLD
    # a reddish ink darkening the channels together, with stronger chroma peaks: in phase, passes
    ink = integrity.screen_recapture(_with_colour_pattern(card, 4.0, (0, 0, 0), (1.0, 0.6, 0.2)))
    assert max(ink.data["peaks"].values()) > 1.5 and ink.data["subpixel_moire"] == 0.0, ink.data
    assert ink.status is Status.PASS, ink.data


def test_screenshot(varied: list[tamper.GenuineSample]) -> None:
    g = varied[0]
    png = tamper.screenshot(g.card)
    r = integrity.screenshot(png)
    assert r.status is Status.FAIL and r.data["screen_size"] and r.data["format"] == "png"
    jpeg = tamper.screenshot(g.card, screen=(1366, 768), fmt="JPEG")
    assert integrity.screenshot(jpeg).status is Status.FAIL
    for s in varied:
        assert integrity.screenshot(s.data).status is not Status.FAIL


# --------------------------------------------------------------------------- bad inputs and the whole set


@pytest.mark.parametrize("data", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n"])
def test_bad_bytes_are_inconclusive(data: bytes) -> None:
    for r in integrity.integrity_checks(data):
        assert r.status is Status.INCONCLUSIVE, r.to_dict()


def test_tiny_and_bad_arrays_are_inconclusive() -> None:
    tiny = np.full((20, 20, 3), 90, np.uint8)
    for fn in (integrity.copy_move, integrity.screen_recapture, integrity.photocopy):
        assert fn(tiny).status is Status.INCONCLUSIVE
        assert fn(np.zeros((0, 3), np.uint8)).status is Status.INCONCLUSIVE
    assert integrity.screenshot(_png(tiny)).status is Status.INCONCLUSIVE


def test_genuine_photo_passes_every_check(astronaut_portrait: np.ndarray) -> None:
    rng = np.random.default_rng(303)
    g = tamper.genuine_sample(
        astronaut_portrait, rng, GOOD_FIELDS, camera_quality=(70, 70), browser_reencode_probability=1.0
    )
    data = tamper.with_exif_tags(g.data, {0x010F: "Google", 0x0110: "Pixel 7"})
    fields = _fields(family_name="RIVERA", given_names="DANA LEE", document_number="T4802957")
    results = integrity.integrity_checks(data, regions=g.regions, fields=fields)
    assert {r.name for r in results} == {
        "editing_software",
        "compression_consistency",
        "copy_move",
        "screen_recapture",
        "photocopy",
        "screenshot",
        "specimen",
    }
    for r in results:
        assert r.status is Status.PASS, r.to_dict()
        assert r.score is not None and 0.5 <= r.score <= 1.0


def test_upright_box_mapping() -> None:
    # a 100x50 stored image shown rotated 90 degrees clockwise (orientation 6) is 50x100 upright
    assert integrity.upright_box_to_stored((0, 0, 10, 20), 1, 100, 50) == (0, 0, 10, 20)
    assert integrity.upright_box_to_stored((0, 0, 10, 20), 3, 100, 50) == (90, 30, 10, 20)
    assert integrity.upright_box_to_stored((0, 0, 10, 20), 6, 100, 50) == (0, 40, 20, 10)


# --------------------------------------------------------------------------- shifted JPEG grid


@pytest.fixture(scope="module")
def single_compressed(astronaut_portrait: np.ndarray) -> list[tamper.GenuineSample]:
    """Genuine photos whose camera JPEG (88-95) is uploaded as is: no earlier compression to compare against."""
    rng = np.random.default_rng(303)
    return [
        tamper.genuine_sample(
            astronaut_portrait, rng, GOOD_FIELDS, camera_quality=(88, 95), browser_reencode_probability=0.0
        )
        for _ in range(3)
    ]


def test_shifted_grid_quiet_on_genuine_portraits(
    single_compressed: list[tamper.GenuineSample], double_compressed: list[tamper.GenuineSample]
) -> None:
    for g in single_compressed + double_compressed:
        grid = integrity.shifted_grid_lattice(integrity._luma(g.rgb), g.regions["portrait"])
        assert grid is not None and not grid.suspicious, grid
        assert grid.aligned_z > integrity.SHIFTED_GRID_THRESHOLD  # the file's own grid is there, and found


def test_shifted_grid_finds_pasted_jpeg_portrait(
    single_compressed: list[tamper.GenuineSample], other_portrait: np.ndarray
) -> None:
    rng = np.random.default_rng(11)
    for g in single_compressed:
        box = g.regions["portrait"]
        data = tamper.paste_patch(g.photo, box, other_portrait, rng, 65, quality=90, mask=g.masks["portrait"])
        grid = integrity.shifted_grid_lattice(integrity._luma(tamper.decode(data)), box)
        assert grid is not None and grid.suspicious and grid.offset != (0, 0), grid
        r = integrity.error_level_consistency(data, {"portrait": box})
        assert r.status is Status.FAIL and r.data["suspicious"] == ["portrait"], r.to_dict()
        assert r.data["regions"][0]["shifted_grid"]["offset"] == list(grid.offset)


def test_shifted_grid_small_region_not_tested(single_compressed: list[tamper.GenuineSample]) -> None:
    assert integrity.shifted_grid_lattice(integrity._luma(single_compressed[0].rgb), (10, 10, 40, 200)) is None


def test_screen_shown_card_without_outline_is_judged_as_a_card_unless_an_mrz_was_read() -> None:
    """A licence shown on a screen whose edges the frame cuts (a generated case, seed fixed): the
    locator refuses the outline (format "unknown") and the screen check reads the photo's centre. Its
    failure stands for a document read through a barcode (an ID-1 card); with an MRZ (maybe a passport
    page's periodic print) it is a review signal."""
    from datetime import date

    from openidv.document import forgery
    from openidv.document.engine import analyse_side
    from openidv.document.integrity_pipeline import integrity_checks
    from openidv.eval.forgery import default_portraits

    doc = forgery.generate("screen_recapture", np.random.default_rng(1180041), default_portraits(), date(2026, 6, 1))
    side = analyse_side(doc.front, "front")
    assert side.format == "unknown" and side.faces, (side.format, len(side.faces))
    barcode = [FieldValue("birth_date", "1990-01-02", FieldSource.BARCODE)]
    mrz = [FieldValue("birth_date", "1990-01-02", FieldSource.MRZ)]
    as_card = {c.name: c for c in integrity_checks([side], barcode)}["front_screen_recapture"]
    as_maybe_passport = {c.name: c for c in integrity_checks([side], mrz)}["front_screen_recapture"]
    assert as_card.status is Status.FAIL and as_card.reason == "screen_pattern", as_card
    assert as_maybe_passport.status is Status.INCONCLUSIVE and as_maybe_passport.data.get("advisory"), as_maybe_passport
