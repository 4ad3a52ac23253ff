"""Running the image-integrity checks of :mod:`openidv.document.integrity` on analysed sides.

The checks need regions (the portrait, the printed values) in the coordinates of the
stored image, while the engine finds them on the rectified, upright document: this
module maps them back through the rotation and the rectifying homography.
"""

from __future__ import annotations

import io
from dataclasses import replace

import cv2
import numpy as np
from PIL import Image

from openidv.checks import CheckResult, Status
from openidv.document import integrity, portrait_border
from openidv.document.codes import DocumentFormat, FieldName, Side
from openidv.document.normalize import normalize_document_number
from openidv.document.side import SideAnalysis
from openidv.document.types import FieldSource, FieldValue
from openidv.imaging import luma


def integrity_checks(sides: list[SideAnalysis], fields: list[FieldValue]) -> list[CheckResult]:
    """Metadata, compression-consistency, copy-move, recapture, photocopy, screenshot, portrait-border, specimen checks.

    Sides without a portrait get the metadata, compression and screenshot checks only.
    Each side's checks are prefixed with its role (``front_``, ``back_``); the specimen
    check runs once over all fields.
    """
    out: list[CheckResult] = []
    # A document read through an MRZ may be a passport page, whose periodic security print the screen
    # and photocopy cues were not calibrated on; one read through a PDF417 barcode is an ID-1 card.
    may_be_passport = any(f.source is FieldSource.MRZ for f in fields)
    # A barcode read and no MRZ: an ID-1 card, even when a side's outline has a passport page's shape
    # (the rectangle of a screen showing the card, found instead of the card's own edges). The screen
    # check's shared-lattice cue trusts the outline to separate document from surroundings: a verdict
    # on such cards only, a review signal elsewhere (a page whose outline was missed has print around).
    card = not may_be_passport and any(f.source is FieldSource.BARCODE for f in fields)
    for side in sides:
        if side.rgb is None or side.data is None:
            continue
        orientation = _exif_orientation(side.data)
        sh, sw = side.rgb.shape[:2]
        if orientation in (5, 6, 7, 8):
            sw, sh = sh, sw
        regions = {
            name: integrity.upright_box_to_stored(box, orientation, sw, sh) for name, box in side_regions(side).items()
        }
        stored = side.rgb if orientation == 1 else None  # without EXIF rotation: the stored pixels, decoded once
        outline = None
        if side.locate is not None and side.locate.quad is not None:
            outline = np.array(
                [
                    integrity.upright_box_to_stored((x, y, 0, 0), orientation, sw, sh)[:2]
                    for x, y in side.locate.quad.corners
                ],
                dtype=np.float64,
            )
        # the rectified document only with its outline: a front photo taken as the card itself
        # (engine._photo_as_card) is the photo resampled, whose grids the screen cue must not see
        document = side.rectified if outline is not None else None
        if side.faces:
            results = integrity.integrity_checks(side.data, stored, regions=regions, document=document, outline=outline)
            results.append(_portrait_border(side))
            # A side whose outline was not found (format "unknown"; e.g. the card shown on a screen whose
            # edges the frame cuts) is judged on the photo's centre: still an ID-1 card unless an MRZ says
            # it may be a passport page.
            if not card and (
                side.format == DocumentFormat.TD3 or (side.format != DocumentFormat.ID1 and may_be_passport)
            ):
                results = [_advisory(r) if r.name in _ID1_ONLY else r for r in results]
            elif not card:
                why = "the document's outline is not confirmed by a barcode"
                results = [_advisory(r, why) if r.data.get("cue") == "shared_lattice" else r for r in results]
            results = [_real_print_advisory(r) for r in results]
        else:
            # A side without a portrait (a licence back) is mostly grey and carries a periodic barcode:
            # the colour (photocopy), lattice (screen) and self-similarity (copy-move) cues do not apply.
            results = [
                integrity.editing_software_metadata(side.data),
                integrity.error_level_consistency(side.data, regions, rgb=stored),
                integrity.screenshot(side.data, stored),
            ]
            # A front on which neither a portrait nor a barcode was found may be a card shown on a screen
            # whose moire hides the face and the text: the screen cue still applies to it, as a verdict
            # when the back's barcode says the document is an ID-1 card, else as a review signal (the
            # back of a real TD1 card, or a page not recognised, carries periodic security print).
            if side.role == Side.FRONT and (side.barcode is None or not side.barcode.symbol_seen):
                pixels = stored if stored is not None else integrity.decode_stored(side.data)
                if pixels is not None:
                    screen = integrity.screen_recapture(pixels, document, outline=outline)
                    screen = _real_print_advisory(screen)
                    results.append(screen if card else _advisory(screen, "no portrait and no barcode read"))
        out += [_renamed(f"{side.role}_", r) for r in results]
    out.append(integrity.specimen(fields, printed=[line.text for side in sides for line in side.ocr_lines]))
    return out


#: Checks calibrated on ID-1 card photos only: on passport pages the security print is
#: periodic and pale, so their failures there are review signals, not verdicts.
_ID1_ONLY = frozenset({"screen_recapture", "photocopy", "portrait_border"})


def _real_print_advisory(result: CheckResult) -> CheckResult:
    """Failures of the screen check that real genuine print also gives, as review signals.

    Measured on the real genuine images of ``../shared/data`` (26 US licence fronts, 8 passport
    pages, 1 licence back): every screen-check failure there came from a spectrum of fewer than
    :data:`~openidv.document.integrity.SCREEN_MIN_TILES` tiles (scans 240-700 px wide; white noise
    alone reaches the thresholds there) or from the square-lattice cue (a licence front at 1.58,
    an infrared passport scan at 2.21, against at most 1.36 on generated genuine cards): printed
    halftone screens are square lattices too. Those failures send a case to review; they do not
    fail the document.
    """
    if result.name != "screen_recapture" or result.status is not Status.FAIL:
        return result
    if result.data.get("few_tiles"):
        return _advisory(result, "too few 128 px tiles for a calibrated spectrum")
    if result.data.get("cue") == "square_lattice":
        return _advisory(result, "printed halftone forms square lattices too")
    return result


def _portrait_border(side: SideAnalysis) -> CheckResult:
    """The portrait border's sharpness against the outline's, measured on the input image."""
    if side.rgb is None or side.rectified is None or side.locate is None or side.locate.quad is None:
        return CheckResult("portrait_border", Status.INCONCLUSIVE, "no_outline", None, "the document was not rectified")
    b = side.faces[0].box
    return portrait_border.portrait_border(
        luma(side.rgb),
        luma(side.rectified),
        (b.x, b.y, b.width, b.height),
        lambda pts: to_input_coords(side, pts),
        np.asarray(side.locate.quad.corners, np.float64),
    )


def _advisory(result: CheckResult, why: str = "not calibrated for this format") -> CheckResult:
    if result.status is not Status.FAIL:
        return result
    return replace(result, status=Status.INCONCLUSIVE, detail=f"review signal ({why}): {result.detail}")


def _exif_orientation(data: bytes) -> int:
    """The EXIF Orientation tag (1-8), 1 when absent or unreadable."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            value = im.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError):
        return 1
    return int(value) if isinstance(value, int) and 1 <= value <= 8 else 1


def side_regions(side: SideAnalysis) -> dict[str, tuple[int, int, int, int]]:
    """Portrait and printed-value boxes (x, y, w, h) in input-image pixels."""
    boxes: dict[str, np.ndarray] = {}
    if side.faces:
        b = side.faces[0].box
        boxes["portrait"] = np.array(
            [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]], np.float64
        )
    for f in side.printed:
        # the issuer's name is header print, not a holder's value: its region is not compared
        if f.source is not FieldSource.PRINTED or f.name == FieldName.ISSUING_STATE:
            continue
        line = _line_with_value(side, f)
        if line is not None:
            boxes[f.name] = line.astype(np.float64)
    out: dict[str, tuple[int, int, int, int]] = {}
    assert side.rgb is not None
    h, w = side.rgb.shape[:2]
    for name, pts in boxes.items():
        mapped = to_input_coords(side, pts)
        x0, y0 = np.clip(mapped.min(axis=0), 0, [w - 1, h - 1])
        x1, y1 = np.clip(mapped.max(axis=0), 0, [w, h])
        if x1 - x0 >= 8 and y1 - y0 >= 8:
            out[name] = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
    return out


def to_input_coords(side: SideAnalysis, points: np.ndarray) -> np.ndarray:
    """Map (N, 2) points on the upright working image back to the input image."""
    if side.rectified is None or side.homography is None:
        return points
    h, w = side.rectified.shape[:2]
    pts = points.astype(np.float64).copy()
    # Undo the clockwise rotation applied after rectification.
    for _ in range(side.rotation // 90):
        # a point (x, y) of an image rotated 90 degrees clockwise came from (y, H - 1 - x) of the original,
        # where H is the original's height = the rotated image's width
        pts = np.stack([pts[:, 1], w - 1 - pts[:, 0]], axis=1)
        h, w = w, h
    inverse = np.linalg.inv(side.homography)
    mapped = cv2.perspectiveTransform(pts[None].astype(np.float64), inverse)[0]
    return np.asarray(mapped)


def _line_with_value(side: SideAnalysis, f: FieldValue) -> np.ndarray | None:
    """The box of the value's characters on the first OCR line that holds it (see :func:`value_quad`)."""
    target = normalize_document_number(f.raw or f.value)
    for line in side.ocr_lines:
        if target and target in normalize_document_number(line.text):
            return value_quad(line.box, line.text, target)
    return None


#: A value's part of its line is used from this many characters on: shorter values (a sex ``F``)
#: also match inside other words, and a region of one or two glyphs holds too few 8x8 blocks.
VALUE_SPAN_MIN_CHARS = 4


def value_quad(box: np.ndarray, text: str, target: str) -> np.ndarray:
    """The part of a text line's ``box`` ((4, 2) corners, clockwise from top-left) that holds ``target``.

    An OCR line often holds the label as well as the value (``ISSUED 03/01/2007``); the label
    and the blank paper between them are not the value's print, and a region mostly of blank
    paper reads no noise where the JPEG quantised it flat. The value's characters are located
    in ``text`` (``target``: normalised as :func:`normalize_document_number` does) and the box
    is cut along its length in proportion to the character positions (every character taken
    as equally wide). Values shorter than :data:`VALUE_SPAN_MIN_CHARS` keep the whole line.
    """
    if len(target) < VALUE_SPAN_MIN_CHARS:
        return box
    kept: list[int] = []  # the index in ``text`` of each character of its normalised form
    normalised = ""
    for i, ch in enumerate(text):
        n = normalize_document_number(ch)
        kept += [i] * len(n)
        normalised += n
    start = normalised.find(target)
    if start < 0:
        return box
    a, b = kept[start] / len(text), (kept[start + len(target) - 1] + 1) / len(text)
    tl, tr, br, bl = np.asarray(box, np.float64)
    return np.array([tl + a * (tr - tl), tl + b * (tr - tl), bl + b * (br - bl), bl + a * (br - bl)], np.float64)


def _renamed(prefix: str, result: CheckResult) -> CheckResult:
    return replace(result, name=prefix + result.name)
