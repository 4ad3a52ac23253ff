"""Portrait border sharpness: a portrait pasted into the photo has edges sharper than the camera allows.

Every edge printed on a card reaches the photo through the same optics: the lens
blur, the perspective resampling and the camera's JPEG spread a printed step over
the same width, whether it is the card's outline against the table or the
portrait's border against the card. A portrait pasted into the photo afterwards
(a digital swap) skips that path: its border is a hard, aliased step about one pixel
wide, while the card's outline in the same photo is two to four pixels wide.

The width of a straight edge is measured the slanted-edge way (ISO 12233): the
pixels of a short band across the edge are projected onto the edge's normal and
binned at a quarter pixel, which gives the edge spread function (ESF) without
interpolation; the width is the step's contrast divided by the steepest one-pixel
rise of the ESF (1 px for an ideal step, about 2.5 sigma for a Gaussian blur of
sigma px). Coordinates are ``(x, y)`` pixels, origin top-left, x right, y down.

Inputs: the photo's luma (input-image pixels); the upright, rectified document's
luma and the face box on it; a function mapping upright points to input pixels;
the document outline (4, 2) in input pixels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from openidv.checks import CheckResult, Status

Box = tuple[float, float, float, float]
Point = tuple[float, float]

#: A border side fails when its median width is under this fraction of the outline's median width.
BORDER_RATIO_THRESHOLD = 0.6
#: Segments (of :data:`SEGMENT_PX`) with a measurable step a border side needs to count.
MIN_SIDE_SEGMENTS = 3
#: Segments the outline needs to serve as the reference.
MIN_OUTLINE_SEGMENTS = 8
#: Stretches measured per outline side (spread along it; the median needs no more).
OUTLINE_STRETCHES = 12
SEGMENT_PX = 16.0  #: length of one measured stretch of edge, px
BAND_PX = 5.0  #: half-width of the band across the edge, px
BIN_PX = 0.25  #: ESF bin, px
MIN_CONTRAST = 25.0  #: grey levels: weaker steps on the outline are not measured
#: Grey levels: weaker steps on the portrait's border are not measured. Noise biases a faint
#: step's steepest rise up, so its width down: at 30, genuine generated cards reached 0.60
#: (N=99); at 40 their lowest ratio was 0.77, while 29 of 37 swapped portraits stayed under 0.6.
BORDER_MIN_CONTRAST = 40.0
#: px: a border step further than this from where the rectified document puts it is another line.
BORDER_MAX_OFFSET = 3.0
#: Sobel response (3x3, on the upright document) that marks a pixel as lying on a border.
_BORDER_GRADIENT = 40.0
#: A border candidate must be crossed by strong gradient over this share of its span.
_BORDER_SHARE = 0.5
#: How far from the face box a border is looked for, in face-box sizes.
_SEARCH_REACH = 0.8


@dataclass(frozen=True)
class PortraitFrame:
    """Straight portrait borders found on the upright document: side -> (start, end) points."""

    sides: dict[str, tuple[Point, Point]]
    shares: dict[str, float]  #: the share of the span crossed by a strong step, per side


def edge_widths(
    gray: np.ndarray,
    start: Point,
    end: Point,
    *,
    segment: float = SEGMENT_PX,
    band: float = BAND_PX,
    trim: float = 0.12,
    min_contrast: float = MIN_CONTRAST,
    max_offset: float | None = None,
    stretches: int | None = None,
) -> list[float]:
    """Widths (px) of the step along the straight edge ``start``-``end``, one per measurable segment.

    The edge is cut into ``segment``-long stretches (``trim`` of its length left out at
    each end, where corners are); in each, pixels within ``band`` px of the line are
    binned by their signed distance to it. The step is located at the ESF's steepest
    one-pixel rise; its contrast is the difference of the ESF's medians beyond 1.5 px on
    either side. Stretches with a contrast under ``min_contrast`` grey levels, or whose
    steepest rise runs against the contrast, or whose step lies over ``max_offset`` px from
    the line, are skipped. With ``stretches``, at most that many stretches are measured,
    spread evenly.
    """
    p0, p1 = np.asarray(start, np.float64), np.asarray(end, np.float64)
    length = float(np.linalg.norm(p1 - p0))
    if length < 3 * segment:
        return []
    u = (p1 - p0) / length
    n = np.array([-u[1], u[0]])
    bins = np.arange(-band, band + 1e-6, BIN_PX)
    step = round(1.0 / BIN_PX)  # bins per pixel
    h, w = gray.shape
    widths: list[float] = []
    usable = (1.0 - 2.0 * trim) * length
    count = int(usable // segment)
    if stretches is not None and count > stretches:  # spread the stretches evenly along the edge
        offsets = np.linspace(0.0, usable - segment, stretches)
    else:
        offsets = segment * np.arange(count, dtype=np.float64)
    for t0 in (trim * length + offsets).tolist():
        t = t0 + segment
        a, b = p0 + u * t0, p0 + u * t
        x0, x1 = int(max(0, min(a[0], b[0]) - band - 2)), int(min(w, max(a[0], b[0]) + band + 3))
        y0, y1 = int(max(0, min(a[1], b[1]) - band - 2)), int(min(h, max(a[1], b[1]) + band + 3))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1]
        dx, dy = xx - p0[0], yy - p0[1]
        along, across = dx * u[0] + dy * u[1], dx * n[0] + dy * n[1]
        inside = (along >= t - segment) & (along < t) & (np.abs(across) <= band)
        if int(inside.sum()) < 20:
            continue
        idx = np.clip(np.round((across[inside] + band) / BIN_PX).astype(int), 0, len(bins) - 1)
        counts = np.bincount(idx, minlength=len(bins))
        sums = np.bincount(idx, gray[y0:y1, x0:x1][inside], minlength=len(bins))
        filled = counts > 0
        if int(filled.sum()) < 8:
            continue
        esf = np.interp(bins, bins[filled], sums[filled] / counts[filled])
        rise = esf[step:] - esf[:-step]  # one-pixel differences, centred half a pixel in
        k = int(np.argmax(np.abs(rise)))
        centre = bins[k] + 0.5
        if max_offset is not None and abs(centre) > max_offset:
            continue
        high, low = esf[bins > centre + 1.5], esf[bins < centre - 1.5]
        if high.size < 3 or low.size < 3:
            continue
        contrast = float(np.median(high) - np.median(low))
        if abs(contrast) < min_contrast or np.sign(contrast) != np.sign(rise[k]):
            continue
        widths.append(abs(contrast) / max(abs(float(rise[k])), 1e-6))
    return widths


def find_portrait_frame(gray: np.ndarray, face: Box) -> PortraitFrame:
    """The portrait's straight borders around ``face`` (x, y, w, h) on the upright document ``gray``.

    For each side, lines parallel to the document's axes between the face box and
    :data:`_SEARCH_REACH` face sizes outside it are scored by the share of the face's
    span that a strong step crosses; of the lines within 85 % of the best share, the
    one nearest the face is the border (a header band further out is not). Sides whose
    best share is under :data:`_BORDER_SHARE` are left out (a vignetted portrait).
    """
    fx, fy, fw, fh = face
    height, width = gray.shape
    gx = np.abs(cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3))
    gy = np.abs(cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3))
    r0, r1 = int(max(0, fy)), int(min(height, fy + fh))
    c0, c1 = int(max(0, fx)), int(min(width, fx + fw))
    sides: dict[str, tuple[Point, Point]] = {}
    shares: dict[str, float] = {}
    if r1 - r0 < 8 or c1 - c0 < 8:
        return PortraitFrame(sides, shares)
    vertical = (gx[r0:r1] > _BORDER_GRADIENT).mean(axis=0)  # share per column over the face's rows
    horizontal = (gy[:, c0:c1] > _BORDER_GRADIENT).mean(axis=1)  # share per row over the face's columns
    reach_x, reach_y = _SEARCH_REACH * fw, _SEARCH_REACH * fh
    searches = {
        "left": (vertical, range(max(1, int(fx - reach_x)), c0), c0),
        "right": (vertical, range(c1, min(width - 1, int(fx + fw + reach_x))), c1),
        "top": (horizontal, range(max(1, int(fy - reach_y)), r0), r0),
        "bottom": (horizontal, range(r1, min(height - 1, int(fy + fh + reach_y))), r1),
    }
    for name, (profile, positions, near) in searches.items():
        if len(positions) == 0:
            continue
        values = profile[positions.start : positions.stop]
        best = float(values.max())
        if best < _BORDER_SHARE:
            continue
        candidates = [p for p, v in zip(positions, values, strict=True) if v >= 0.85 * best]
        pos = min(candidates, key=lambda p: abs(p - near)) + 0.5  # a step between pixel p and p+1
        shares[name] = round(best, 3)
        if name in ("left", "right"):
            sides[name] = ((pos, float(r0)), (pos, float(r1)))
        else:
            sides[name] = ((float(c0), pos), (float(c1), pos))
    return PortraitFrame(sides, shares)


def portrait_border(
    photo_gray: np.ndarray,
    document_gray: np.ndarray,
    face: Box,
    to_photo: Callable[[np.ndarray], np.ndarray],
    outline: np.ndarray | None,
) -> CheckResult:
    """Compare the sharpness of the portrait's border with the document outline's, in the photo.

    ``photo_gray``: the photo's luma; ``document_gray``: the upright rectified document's
    luma, on which ``face`` (x, y, w, h) lies; ``to_photo`` maps (N, 2) upright points to
    photo pixels; ``outline``: the document's corners (4, 2) in photo pixels, in order
    around it. Fails when one border side is under :data:`BORDER_RATIO_THRESHOLD` of
    the outline's width; the score is the smallest side ratio (capped at 1).
    """
    name = "portrait_border"
    if outline is None or np.asarray(outline).shape != (4, 2):
        return CheckResult(name, Status.INCONCLUSIVE, "no_outline", None, "the document's outline was not found")
    corners = np.asarray(outline, np.float64)
    reference: list[float] = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        reference += edge_widths(
            photo_gray, (float(a[0]), float(a[1])), (float(b[0]), float(b[1])), stretches=OUTLINE_STRETCHES
        )
    if len(reference) < MIN_OUTLINE_SEGMENTS:
        return CheckResult(
            name,
            Status.INCONCLUSIVE,
            "outline_unmeasurable",
            None,
            f"the outline shows {len(reference)} measurable stretches (need {MIN_OUTLINE_SEGMENTS})",
            {"outline_segments": len(reference)},
        )
    ref = float(np.median(reference))
    frame = find_portrait_frame(document_gray, face)
    ratios: dict[str, float] = {}
    counts: dict[str, int] = {}
    for side, (a, b) in frame.sides.items():
        ends = to_photo(np.array([a, b], np.float64))
        widths = edge_widths(
            photo_gray,
            (float(ends[0, 0]), float(ends[0, 1])),
            (float(ends[1, 0]), float(ends[1, 1])),
            min_contrast=BORDER_MIN_CONTRAST,
            max_offset=BORDER_MAX_OFFSET,
        )
        counts[side] = len(widths)
        if len(widths) >= MIN_SIDE_SEGMENTS:
            ratios[side] = round(float(np.median(widths)) / ref, 3)
    data = {"outline_width_px": round(ref, 3), "side_ratios": ratios, "side_segments": counts, "shares": frame.shares}
    if not ratios:
        return CheckResult(
            name,
            Status.INCONCLUSIVE,
            "no_portrait_border",
            None,
            "no straight, contrasted portrait border to measure",
            data,
        )
    side, low = min(ratios.items(), key=lambda kv: kv[1])
    score = min(1.0, low)
    if low < BORDER_RATIO_THRESHOLD:
        return CheckResult(
            name,
            Status.FAIL,
            "portrait_border_too_sharp",
            score,
            f"the portrait's {side} border is {low:.2f} x as wide as the document's outline "
            f"({ref:.1f} px): sharper than the camera allows, as a pasted portrait is",
            data,
        )
    return CheckResult(
        name,
        Status.PASS,
        "portrait_border_consistent",
        score,
        f"the portrait's border is as sharp as the document's outline (lowest ratio {low:.2f}, {side})",
        data,
    )
