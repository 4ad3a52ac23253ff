"""Image-integrity checks on generated genuine document photos and generated manipulations."""

from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from openidv.checks import Status
from openidv.document import integrity
from openidv.document.codes import is_review_signal
from openidv.document.integrity import compression, duplication, jpeg_lattice, screen_moire
from openidv.document.types import FieldSource, FieldValue
from openidv.imaging import luma
from openidv.synth import document as synth
from openidv.synth import tamper
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
    assert r.status is Status.INCONCLUSIVE and r.reason == "editing_software"
    assert is_review_signal(f"front_{r.name}", r.status, r.reason)
    assert r.data["editor"] == "photoshop" and r.data["where"] == "exif_software"
    # the pixels are untouched
    assert np.array_equal(tamper.decode(data), tamper.decode(varied[0].data))


def test_editing_software_other_places() -> None:
    pixels = np.random.default_rng(1).integers(0, 255, (80, 96, 3)).astype(np.uint8)
    gimp = encode(pixels, "JPEG", quality=90, comment=b"Created with GIMP")
    assert integrity.editing_software_metadata(gimp).reason == "editing_software"
    xmp = b'<x:xmpmeta><rdf:Description xmp:CreatorTool="Snapseed 2.0"/></x:xmpmeta>'
    plain = encode(pixels, "JPEG", quality=90)
    segment = b"\xff\xe1" + (len(xmp) + 31).to_bytes(2, "big") + b"http://ns.adobe.com/xap/1.0/\x00" + xmp
    r = integrity.editing_software_metadata(plain[:2] + segment + plain[2:])
    assert r.reason == "editing_software" and r.data["where"] == "xmp_tool" and r.data["editor"] == "snapseed"
    from PIL.PngImagePlugin import PngInfo

    info = PngInfo()
    info.add_text("Software", "GIMP 2.10.34")
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", pnginfo=info)
    assert integrity.editing_software_metadata(buf.getvalue()).reason == "editing_software"


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


def test_specimen_stamp_anywhere_in_the_printed_text_fails_common_words_there_do_not() -> None:
    fields = _fields(family_name="RIVERA", given_names="DANA LEE", document_number="T4802957")
    for stamp in ("SPECIMEN", "Spécimen", "specimen / SPECIMEN"):
        r = integrity.specimen(fields, printed=["Surname/Nom", stamp])
        assert r.status is Status.FAIL and r.data["matches"][0]["field"] == "printed_text", (stamp, r.to_dict())
    # printed on genuine licences, or a real street: only names carry SAMPLE / VOID / NOT VALID
    genuine = ["NOT VALID FOR FEDERAL PURPOSES", "1200 W SAMPLE RD", "VOID IF ALTERED", "TEST REQUIRED"]
    assert integrity.specimen(fields, printed=genuine).status is Status.PASS
    street = _fields(family_name="RIVERA", address_street="1200 W SAMPLE RD")
    assert integrity.specimen(street).status is Status.PASS


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
    """Reference for ``jpeg_lattice._estimate_prior_steps``: the candidate steps tried one by one."""
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
    maps = jpeg_lattice.block_maps(luma(tamper.decode(twice)), table)
    q1 = integrity.ijg_table(60)[jpeg_lattice._GHOST_COEFS]
    # The low frequencies betray the camera's quality-60 table exactly (measured: 8 of the first 9 found, all exact).
    found = maps.prior_steps[:9] > 0
    assert found.sum() >= 6
    assert np.array_equal(maps.prior_steps[:9][found], q1[:9][found])
    # The vectorised estimate is the one-step-at-a-time scan.
    y = luma(tamper.decode(twice))
    h8, w8 = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    blocks = (y[:h8, :w8] - 128.0).reshape(h8 // 8, 8, w8 // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    final = np.maximum(table[jpeg_lattice._GHOST_COEFS], 1.0)
    k2 = np.round((blocks @ jpeg_lattice._GHOST_BASIS) / final.astype(np.float32))
    assert np.array_equal(jpeg_lattice._estimate_prior_steps(k2, final), _prior_steps_by_scan(k2, final))
    # A single compression leaves no earlier lattice.
    single = integrity.parse_container(once).luma_table
    assert single is not None
    assert not jpeg_lattice.block_maps(luma(tamper.decode(once)), single).prior_steps.any()


def test_compression_check_reuses_given_pixels(
    double_compressed: list[tamper.GenuineSample], monkeypatch: pytest.MonkeyPatch
) -> None:
    g = double_compressed[0]
    regions = {"portrait": g.regions["portrait"]}
    decoded_here = integrity.error_level_consistency(g.data, regions)
    decodes: list[int] = []
    decode = integrity.decode_stored
    monkeypatch.setattr(compression, "decode_stored", lambda data: decodes.append(1) or decode(data))
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
    return _uploaded(out)


def _uploaded(image: np.ndarray) -> np.ndarray:
    """A float image rounded, clipped to 0-255, uploaded as JPEG at quality 90 and decoded."""
    return tamper.decode(tamper.encode_jpeg(np.clip(np.round(image), 0, 255).astype(np.uint8), 90))


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


def _with_grey_lattice(rgb: np.ndarray, amplitude: float, vectors: list[tuple[int, int]]) -> np.ndarray:
    """``rgb`` plus grey sinusoids at the frequency ``vectors`` (kx, ky in cycles per 128 px),
    uploaded as JPEG at quality 90 and decoded."""
    h, w = rgb.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    out = rgb.astype(np.float32)
    for kx, ky in vectors:
        out += amplitude * np.cos(2 * np.pi * (kx * xx + ky * yy) / 128)[..., None]
    return _uploaded(out)


def test_square_lattice_pairs_only_equal_perpendicular_peaks() -> None:
    base = np.zeros((128, 128), np.float32)

    def with_peaks(*peaks: tuple[int, int, float]) -> np.ndarray:
        m = base.copy()
        for kx, ky, value in peaks:  # the map is symmetric: (ky, kx) and (-ky, -kx)
            m[64 + ky, 64 + kx] = m[64 - ky, 64 - kx] = value
        return m

    assert screen_moire._square_lattice(with_peaks((37, 14, 2.0), (-14, 37, 1.6))) == pytest.approx(1.6)
    assert screen_moire._square_lattice(with_peaks((37, 14, 2.0), (-20, 35, 1.6))) == 0.0  # 9 degrees off
    assert screen_moire._square_lattice(with_peaks((37, 14, 2.0), (-11, 29, 1.6))) == 0.0  # 21 % shorter
    assert screen_moire._square_lattice(with_peaks((37, 14, 2.0), (-14, 37, 0.6))) == 0.0  # below the floor
    assert screen_moire._square_lattice(with_peaks((37, 14, 2.0))) == 0.0


def test_faint_square_lattice_fails_a_single_or_oblong_pattern_of_the_same_strength_passes(
    varied: list[tamper.GenuineSample],
) -> None:
    card = varied[5].rgb
    # a screen's pixel grid aliases into two equal, perpendicular moire vectors, each too weak alone
    square = integrity.screen_recapture(_with_grey_lattice(card, 0.7, [(37, 14), (-14, 37)]))
    assert square.data["peaks"]["luma"] < integrity.SCREEN_PEAK_THRESHOLD, square.data
    assert square.status is Status.FAIL and square.data.get("cue") == "square_lattice", square.data
    for vectors in ([(37, 14)], [(37, 14), (-11, 29)]):  # one pattern; two of unequal lengths (print)
        other = integrity.screen_recapture(_with_grey_lattice(card, 0.7, vectors))
        assert other.status is Status.PASS, (vectors, other.data)
        assert other.data["square_lattice"] <= integrity.SCREEN_SQUARE_THRESHOLD


def test_chroma_peak_needs_more_prominence_than_a_luminance_peak(varied: list[tamper.GenuineSample]) -> None:
    # tinted background print reaches chroma prominences that a luminance lattice would fail at
    ink = integrity.screen_recapture(_with_colour_pattern(varied[0].rgb, 5.0, (0, 0, 0), (1.0, 0.6, 0.2)))
    assert integrity.SCREEN_PEAK_THRESHOLD < ink.data["peaks"]["red_green"] < integrity.SCREEN_CHROMA_PEAK_THRESHOLD
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
        grid = integrity.shifted_grid_lattice(luma(g.rgb), g.regions["portrait"])
        assert grid is not None and not grid.suspicious, grid
        assert grid.aligned_z > integrity.SHIFTED_GRID_THRESHOLD  # the file's own grid is there, and found


def test_shifted_grid_finds_pasted_jpeg_portrait(
    single_compressed: list[tamper.GenuineSample], other_portrait: np.ndarray
) -> None:
    rng = np.random.default_rng(11)
    for g in single_compressed:
        box = g.regions["portrait"]
        data = tamper.paste_patch(g.photo, box, other_portrait, rng, 65, quality=90, mask=g.masks["portrait"])
        grid = integrity.shifted_grid_lattice(luma(tamper.decode(data)), box)
        assert grid is not None and grid.suspicious and grid.offset != (0, 0), grid
        r = integrity.error_level_consistency(data, {"portrait": box})
        assert r.status is Status.FAIL and r.data["suspicious"] == ["portrait"], r.to_dict()
        assert r.data["regions"][0]["shifted_grid"]["offset"] == list(grid.offset)


def test_shifted_grid_small_region_not_tested(single_compressed: list[tamper.GenuineSample]) -> None:
    assert integrity.shifted_grid_lattice(luma(single_compressed[0].rgb), (10, 10, 40, 200)) is None


def test_screen_shown_card_without_outline_is_judged_as_a_card_unless_an_mrz_was_read() -> None:
    """A licence shown on a screen whose edges the frame cuts (a generated case, seed fixed): the
    locator refuses the outline (format "unknown") and the screen check reads the photo's centre. Its
    failure stands for a document read through a barcode (an ID-1 card); with an MRZ (maybe a passport
    page's periodic print) it is a review signal."""
    from datetime import date

    from openidv.document.engine import analyse_side
    from openidv.document.integrity_pipeline import integrity_checks
    from openidv.eval.forgery import default_portraits
    from openidv.synth import forgery

    doc = forgery.generate("screen_recapture", np.random.default_rng(1180041), default_portraits(), date(2026, 6, 1))
    side = analyse_side(doc.front, "front")
    assert side.format == "unknown" and side.faces, (side.format, len(side.faces))
    barcode = [FieldValue("birth_date", "1990-01-02", FieldSource.BARCODE)]
    mrz = [FieldValue("birth_date", "1990-01-02", FieldSource.MRZ)]
    as_card = {c.name: c for c in integrity_checks([side], barcode)}["front_screen_recapture"]
    as_maybe_passport = {c.name: c for c in integrity_checks([side], mrz)}["front_screen_recapture"]
    assert as_card.status is Status.FAIL and as_card.reason == "screen_pattern", as_card
    passport = as_maybe_passport
    assert is_review_signal(passport.name, passport.status, passport.reason), passport


def _grating_photo(everywhere: bool, amplitude: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """A 640 px textured photo with a card-sized bright area and a faint periodic pattern (0.12, 0.03 cycle/px):
    over the whole photo (as a screen's lattice) or only on the card (as print)."""
    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:640, 0:640].astype(np.float32)
    base = 90 + cv2.GaussianBlur(rng.normal(0, 20, (640, 640)).astype(np.float32), (0, 0), 6)
    outline = np.array([[150, 170], [490, 170], [490, 470], [150, 470]], np.float64)
    inside = np.zeros((640, 640), np.uint8)
    cv2.fillPoly(inside, [outline.astype(np.int32).reshape(-1, 1, 2)], 1)
    base = base + 80 * inside
    grating = amplitude * np.cos(2 * np.pi * (0.12 * xx + 0.03 * yy))
    base = base + (grating if everywhere else grating * inside)
    base = base + rng.normal(0, 2.0, base.shape)
    return np.clip(np.dstack([base] * 3), 0, 255).astype(np.uint8), outline


def test_screen_pattern_crossing_the_document_edge_fails_print_does_not() -> None:
    """A periodic pattern too faint for the lattice threshold fails when it also covers the
    surroundings (it is in the imaging path), not when it is printed on the document only."""
    screen, outline = _grating_photo(everywhere=True)
    r = integrity.screen_recapture(screen, outline=outline)
    assert r.data["peaks"]["luma"] < integrity.SCREEN_PEAK_THRESHOLD, r.to_dict()
    assert r.status is Status.FAIL and r.data["shared_lattice"] > integrity.SCREEN_SHARED_THRESHOLD, r.to_dict()
    printed, outline = _grating_photo(everywhere=False)
    r = integrity.screen_recapture(printed, outline=outline)
    assert r.status is Status.PASS and r.data["shared_lattice"] < 0.7, r.to_dict()
    assert r.data["outside_tiles"] >= integrity.SCREEN_MIN_OUTSIDE_TILES


def test_screen_shown_card_whose_face_and_text_the_moire_hides_still_gets_the_screen_check() -> None:
    """Generated cases, seeds fixed: a licence shown on a screen whose moire hides the portrait and
    the printed text (the front is not recognised), and one whose located outline is the screen's
    rectangle (a passport page's shape) while the back's barcode says it is a card."""
    from datetime import date

    from openidv.document.engine import analyse_document, analyse_side
    from openidv.document.integrity_pipeline import integrity_checks
    from openidv.eval.forgery import default_portraits
    from openidv.synth import forgery

    portraits = default_portraits()
    for seed in (5980194, 5980250):
        doc = forgery.generate("screen_recapture", np.random.default_rng(seed), portraits, date(2026, 6, 1))
        report = analyse_document(doc.front, doc.back, today=date(2026, 6, 1))
        check = {c.name: c for c in report.checks}["front_screen_recapture"]
        assert check.status is Status.FAIL and check.reason == "screen_pattern", (seed, check)
    # Without the barcode's word that it is a card, the front without a portrait is only a review signal
    # (the back of a real TD1 card, or an unrecognised page, carries periodic security print).
    doc = forgery.generate("screen_recapture", np.random.default_rng(5980194), portraits, date(2026, 6, 1))
    side = analyse_side(doc.front, "front")
    # The moire hid this portrait from the detector at 1024 px; at 512 px (the engine's first pass now)
    # it is found. The branch for a front without a portrait is what is tested here: the portrait is
    # taken away, as on the fronts whose moire still hides it.
    side.faces = []
    alone = {c.name: c for c in integrity_checks([side], [])}["front_screen_recapture"]
    assert is_review_signal(alone.name, alone.status, alone.reason), alone


def _block_maps_with_noise(noise: np.ndarray) -> jpeg_lattice.BlockMaps:
    """Block statistics with the given per-block noise (grey levels), uniform activity, no lattice."""
    zeros = np.zeros(noise.shape, np.float32)
    return jpeg_lattice.BlockMaps(zeros, zeros, np.zeros(27), noise.astype(np.float32), zeros + 1.0)


def test_printed_value_noise_is_compared_with_its_peers_not_only_the_band() -> None:
    # four value rows (6 x 20 blocks) at 0.7 grey levels; the band between them reads 1.2 (glyph
    # edges, print texture): a genuine row at 0.6 is not suspicious, a rendered one at 0.05 is
    rows = {f"row{i}": (80, 80 + 80 * i, 160, 48) for i in range(4)}
    for level, suspicious in ((0.6, False), (0.05, True)):
        noise = np.full((60, 60), 1.2)
        for i, (x, y, w, h) in enumerate(rows.values()):
            noise[y // 8 : (y + h) // 8, x // 8 : (x + w) // 8] = level if i == 1 else 0.7
        maps = _block_maps_with_noise(noise)
        peers = compression._peer_noise(maps, {"portrait": (320, 320, 96, 96), **rows})
        assert "portrait" not in peers and peers["row1"] == pytest.approx(0.7)
        ev = compression._region_evidence(maps, "row1", rows["row1"], 0.0, 0.0, peers["row1"])
        assert ev.noise_ring == pytest.approx(1.2) and ev.noise_reference == pytest.approx(0.7)
        assert ev.suspicious is suspicious, ev.to_dict()
        # the band alone would have called the genuine row suspicious (0.6 < 0.55 * 1.2)
        assert compression._region_evidence(maps, "row1", rows["row1"], 0.0, 0.0).suspicious


def test_tile_lattice_needs_coefficients_in_most_blocks() -> None:
    def tile(samples: int) -> integrity.RegionEvidence:
        ev = integrity.RegionEvidence("tile_0_0", (0, 0, 96, 96), 20, 0.1, 0.7, 0.6, None, None, True, "lacks")
        return compression._tile_rule(replace(ev, ghost_samples=samples))

    assert not tile(60).suspicious  # a flat background tile: a few +-1 rounding coefficients
    assert tile(600).suspicious


def test_screen_spectrum_of_few_tiles_is_marked_and_white_noise_over_enough_tiles_passes() -> None:
    """White noise has no lattice: over enough tiles it passes; over a few its spectrum is too noisy to trust."""
    rng = np.random.default_rng(3)
    small = integrity.screen_recapture(rng.normal(128, 20, (320, 320, 3)).clip(0, 255).astype(np.uint8))
    assert small.data["tiles"] < integrity.SCREEN_MIN_TILES and small.data.get("few_tiles"), small.data
    assert small.status is Status.PASS, small.data  # its thresholds are raised to the noise floor
    assert screen_moire._noise_floor(small.data["tiles"]) > integrity.SCREEN_SUBPIXEL_THRESHOLD
    assert screen_moire._noise_floor(integrity.SCREEN_MIN_TILES) < integrity.SCREEN_SUBPIXEL_THRESHOLD
    large = integrity.screen_recapture(rng.normal(128, 20, (768, 768, 3)).clip(0, 255).astype(np.uint8))
    assert large.data["tiles"] >= integrity.SCREEN_MIN_TILES and "few_tiles" not in large.data, large.data
    assert large.status is Status.PASS, large.data


def test_screen_failures_real_print_also_gives_are_review_signals() -> None:
    from openidv.checks import CheckResult
    from openidv.document.integrity_pipeline import _real_print_advisory

    def failed(**data: object) -> CheckResult:
        return CheckResult("screen_recapture", Status.FAIL, "screen_pattern", 0.3, "", {"tiles": 64, **data})

    for result in (failed(tiles=10, few_tiles=True, cue="lattice_peak"), failed(cue="square_lattice")):
        signal = _real_print_advisory(result)
        assert is_review_signal(f"front_{signal.name}", signal.status, signal.reason), signal
        assert signal.reason == "screen_pattern"
    for cue in ("lattice_peak", "subpixel_moire", "shared_lattice"):
        assert _real_print_advisory(failed(cue=cue)).status is Status.FAIL


def test_copy_move_period_of_repeated_print_is_found_and_texture_has_none() -> None:
    """A row of '<' fillers repeats every glyph: a shift of a whole number of glyphs matches it, so the
    matches one period short of the shift are removed as repeated print, not a clone."""
    xx = np.arange(400, dtype=np.float32)
    fillers = np.tile(128 + 60 * np.cos(2 * np.pi * xx / 12.0), (40, 1)).astype(np.float32)
    mask = np.zeros_like(fillers, bool)
    mask[5:35, 10:150] = True
    assert duplication._period_along(fillers, mask, 156, 0) == (12, 0)
    assert duplication._period_along(fillers.T.copy(), mask.T.copy(), 0, 156) == (0, 12)
    texture = np.random.default_rng(2).normal(128, 30, (40, 400)).astype(np.float32)
    assert duplication._period_along(texture, mask, 156, 0) is None
