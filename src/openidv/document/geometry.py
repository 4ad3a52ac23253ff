"""Finding a document in a camera photo, rectifying it, and turning it upright.

Conventions
-----------
* Images are RGB ``uint8`` ``(H, W, 3)`` (anything :func:`openidv.imaging.as_rgb`
  accepts is taken), origin top-left, x to the right, y down, units pixels.
* Corner coordinates are continuous pixel coordinates in the *input* image with the
  OpenCV convention: the centre of the top-left pixel is ``(0, 0)``. A document's
  corners are the corners of its outer boundary, ordered top-left, top-right,
  bottom-right, bottom-left *as seen in the image* (the "top" side is the side whose
  direction is closest to the image's x axis; the order runs clockwise on screen).
* Rotations are clockwise, in degrees, one of 0 / 90 / 180 / 270: "rotate the
  rectified image by ``r`` degrees clockwise to make it upright".

Method (:func:`locate_document`)
--------------------------------
1. The image is reduced to about 640 px on its longer side (the *work* image).
2. Candidate quadrilaterals come from two independent sources:

   * edges: a colour gradient (Scharr on the three Lab channels, the strongest channel
     per pixel) fed to Canny at three thresholds and two smoothing levels; every closed
     contour's convex hull is reduced to four vertices (the hull absorbs fingers and
     rounded corners);
   * regions: k-means (k = 2 and 3) in Lab; every large connected region of a cluster
     gives a hull and a quadrilateral (this finds pale cards on pale tables, where
     edges are weak or broken).

3. Each candidate is scored in [0, 1] from the fraction of its perimeter backed by an
   image edge parallel to the side (the main term; the weakest side counts too), its
   aspect ratio against the known formats (ID-1 1.586, TD2/TD3 1.42), its corner
   angles, and a weak preference for larger areas.
4. The best candidate's four sides are refined on the full-resolution image: the
   colour gradient is sampled along normals to each side, the strongest edge on each
   normal is located to a sub-pixel, a line is fitted robustly (Tukey-weighted total
   least squares, so fingers, glare and rounded corners are outliers) and adjacent
   lines are intersected.

Reason codes of :class:`LocateResult`: ``ok``, ``no_document`` (no card-like
quadrilateral), ``document_cropped`` (the best card-like shape touches or leaves the
frame), ``document_too_small`` (found, but too small to read), ``low_contrast`` (the
image is almost flat: blank, or far too dark / washed out), ``image_too_small``
(shorter side under ``LocatorConfig.min_image_side`` pixels).
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from openidv.errors import OpenIDVError
from openidv.imaging import DEFAULT_MAX_PIXELS, as_rgb

#: Physical document sizes in millimetres (width, height), landscape.
FORMATS_MM: dict[str, tuple[float, float]] = {
    "id1": (85.60, 53.98),  # ISO/IEC 7810 ID-1: driving licences, ID cards, TD1
    "td2": (105.0, 74.0),  # ISO/IEC 7810 ID-2 / ICAO TD2
    "td3": (125.0, 88.0),  # ICAO TD3 passport data page
}
#: Long side / short side of each format.
FORMAT_ASPECTS: dict[str, float] = {k: w / h for k, (w, h) in FORMATS_MM.items()}
DEFAULT_DPI = 300

ROTATIONS = (0, 90, 180, 270)

Corners = np.ndarray  #: shape (4, 2), float64, (x, y) pixels, order TL, TR, BR, BL


class UnknownDocumentKindError(OpenIDVError):
    """``rectify`` was asked for a format it does not know."""

    code = "unknown_document_kind"


class BadQuadError(OpenIDVError):
    """A quadrilateral that cannot be used (wrong shape, not finite, degenerate)."""

    code = "bad_quad"


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, eq=False)
class DocumentQuad:
    """A document's outline in the input image.

    ``corners``: (4, 2) float64, input pixels (pixel centres at integers), ordered
    top-left, top-right, bottom-right, bottom-left as seen in the image.
    ``confidence``: in [0, 1], how well the outline is backed by edges and matches a
    document shape. ``aspect_ratio``: long side / short side (>= 1) from the mean
    lengths of opposite sides (perspective makes it approximate, about +-5% at 20
    degrees of skew). ``portrait``: the long sides run vertically in the image.
    """

    corners: Corners
    confidence: float
    aspect_ratio: float
    portrait: bool

    @property
    def area(self) -> float:
        """Area in square input pixels."""
        return float(abs(_polygon_area(self.corners)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners],
            "confidence": round(self.confidence, 3),
            "aspect_ratio": round(self.aspect_ratio, 3),
            "portrait": self.portrait,
        }


@dataclass(frozen=True, eq=False)
class Candidate:
    """One candidate outline considered by :func:`locate_document`, for inspection.

    ``corners`` are in input pixels (TL, TR, BR, BL as seen). ``source`` names the
    generator (``edges:<smoothing>:<threshold>`` or ``kmeans<k>``). ``parts`` holds the
    score terms: ``edge`` (fraction of the perimeter on an edge), ``edge_min`` (the
    weakest side), ``aspect``, ``angles``, ``area_fraction``, ``contrast`` (mean Lab
    difference across the outline, Lab units of OpenCV's 8-bit scale).
    """

    corners: Corners
    source: str
    score: float
    parts: dict[str, float]
    touches_border: bool


@dataclass(frozen=True, eq=False)
class LocateResult:
    """What :func:`locate_document` found, with its intermediate steps.

    ``quad`` is set only when ``reason == "ok"``. ``best`` is the best candidate even
    when it was rejected (cropped, too small), refined when it was usable.
    ``edges`` is the work-image edge map (uint8, 255 on edges) and ``work_scale`` the
    factor from input pixels to work pixels. ``candidates`` are sorted best first.
    """

    quad: DocumentQuad | None
    reason: str
    best: DocumentQuad | None
    candidates: list[Candidate] = field(default_factory=list)
    edges: np.ndarray | None = field(default=None, repr=False)
    work_scale: float = 1.0
    elapsed_ms: float = 0.0

    @property
    def found(self) -> bool:
        return self.quad is not None


@dataclass(frozen=True)
class LocatorConfig:
    work_side: int = 640  #: longer side of the work image, pixels
    min_image_side: int = 48  #: shorter input side below which nothing is attempted
    min_candidate_fraction: float = 0.01  #: smallest candidate area / image area considered
    min_area_fraction: float = 0.04  #: document area / image area below which: document_too_small
    min_long_side_px: float = 200.0  #: document long side (input px) below which: document_too_small
    accept_score: float = 0.55  #: candidate score needed to call it a document
    border_margin: float = 0.3  #: a corner within this many work pixels of the frame edge touches it
    flat_gradient: float = 4.0  #: 99.5th percentile of the gradient below which the image is flat
    refine: bool = True  #: refine the corners on the full-resolution image
    #: colour-region candidates are searched only when no edge candidate scores this much
    regions_below: float = 0.85


DEFAULT_LOCATOR = LocatorConfig()


# --------------------------------------------------------------------------- locating


def find_document(rgb: np.ndarray, config: LocatorConfig = DEFAULT_LOCATOR) -> DocumentQuad | None:
    """The document's outline in a photo, or ``None`` (see :func:`locate_document` for why)."""
    return locate_document(rgb, config).quad


def locate_document(
    rgb: np.ndarray, config: LocatorConfig = DEFAULT_LOCATOR, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> LocateResult:
    """Find the one document (card or passport page) in a camera photo.

    ``rgb`` is any array :func:`openidv.imaging.as_rgb` accepts (grayscale too); an
    unusable array raises :class:`openidv.errors.ImageError`. Returns a
    :class:`LocateResult` whose ``quad`` is ``None`` with a reason code when no
    complete, large enough document is found.
    """
    start = time.perf_counter()
    image = as_rgb(rgb, max_pixels=max_pixels)
    height, width = image.shape[:2]
    if min(height, width) < config.min_image_side:
        return LocateResult(None, "image_too_small", None, elapsed_ms=_ms(start))

    scale = min(1.0, config.work_side / max(height, width))
    work = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    if scale == 1.0:
        work = image
    lab = cv2.cvtColor(work, cv2.COLOR_RGB2LAB).astype(np.float32)
    grad = _Gradient.of(cv2.GaussianBlur(lab, (0, 0), 1.0))
    if float(np.percentile(grad.magnitude, 99.5)) < config.flat_gradient:
        return LocateResult(None, "low_contrast", None, work_scale=scale, elapsed_ms=_ms(start))

    edges, edges_all, polygons = _edge_candidates(lab, config)
    scored = _scored(polygons, grad, lab, scale, config)
    best_edge = max(scored, key=lambda c: c.score, default=None)
    if best_edge is None or best_edge.score < config.regions_below or best_edge.touches_border:
        # Colour regions find outlines whose edges are weak (a pale card on a pale table); a clear,
        # complete outline from the edges makes them unnecessary.
        scored += _scored(_region_candidates(lab, config), grad, lab, scale, config)
    scored.sort(key=lambda c: c.score, reverse=True)
    scored = _dedupe(scored, scale)
    wh, ww = work.shape[:2]

    def result(quad: DocumentQuad | None, reason: str, best: DocumentQuad | None) -> LocateResult:
        return LocateResult(quad, reason, best, scored[:40], edges, scale, _ms(start))

    if scored and scored[0].score >= config.accept_score:
        top = _prefer_outer(scored, scale)
        corners = _refine(image, top.corners, scale) if config.refine else top.corners
        corners = _order_corners(corners)
        parts = _score_parts(corners * scale, grad, lab, ww, wh)
        confidence = _combine(parts) if parts is not None else top.score
        quad = _make_quad(corners, confidence)
        cropped = top.touches_border or _corners_outside(corners, width, height, 1.0)
        if cropped or _within_cropped(corners * scale, _cropped_regions(edges_all, lab, grad)):
            return result(None, "document_cropped", quad)
        long_side = max(_side_lengths(corners))
        if quad.area < config.min_area_fraction * width * height or long_side < config.min_long_side_px:
            return result(None, "document_too_small", quad)
        return result(quad, "ok", quad)
    best = _make_quad(scored[0].corners, scored[0].score) if scored else None
    if _cropped_regions(edges_all, lab, grad):
        return result(None, "document_cropped", best)
    if scored and scored[0].parts["contrast"] < 6.0 and scored[0].parts["edge"] < 0.5:
        return result(None, "low_contrast", best)
    return result(None, "no_document", best)


def _scored(
    polygons: list[tuple[str, np.ndarray]], grad: _Gradient, lab: np.ndarray, scale: float, config: LocatorConfig
) -> list[Candidate]:
    """Work-scale candidate quads scored (:func:`_score_many`), in input pixels; each distinct quad once
    (the same quad often comes from several thresholds: the first source names it)."""
    wh, ww = lab.shape[:2]
    unique: dict[bytes, tuple[str, np.ndarray]] = {}
    for source, polygon in polygons:
        unique.setdefault(np.ascontiguousarray(polygon, np.float64).tobytes(), (source, polygon))
    sources = [source for source, _ in unique.values()]
    quads = [polygon for _, polygon in unique.values()]
    touching = [_touches_border(polygon, ww, wh, config.border_margin) for polygon in quads]
    scored: list[Candidate] = []
    for source, polygon, touches, parts in zip(
        sources, quads, touching, _score_many(quads, touching, grad, lab, ww, wh), strict=True
    ):
        if parts is not None:
            scored.append(Candidate(polygon / scale, source, _combine(parts), parts, touches))
    return scored


def _within_cropped(quad: np.ndarray, regions: list[np.ndarray]) -> bool:
    """Whether ``quad`` is only part of a larger region that the frame cuts (work pixels)."""
    area = abs(_polygon_area(quad))
    for region in regions:
        poly = region.astype(np.float32).reshape(-1, 1, 2)
        if abs(_polygon_area(region)) < 1.15 * area:
            continue
        if min(cv2.pointPolygonTest(poly, (float(x), float(y)), True) for x, y in quad) >= -4.0:
            return True
    return False


def _prefer_outer(scored: list[Candidate], scale: float) -> Candidate:
    """The best candidate, or a nearly as good one enclosing it and sharing two or more of its sides.

    A card's printed bands (a header, a coloured panel) make inner rectangles that share
    sides with the card; the card's outer boundary is the one wanted.
    """
    top = scored[0]
    changed = True
    while changed:
        changed = False
        for other in scored:
            if other is top or other.score < 0.7 * scored[0].score or other.parts["edge"] < 0.85:
                continue
            if other.parts["area_fraction"] < 1.1 * top.parts["area_fraction"]:
                continue
            inner, outer = top.corners * scale, other.corners * scale
            poly = outer.astype(np.float32).reshape(-1, 1, 2)
            if min(cv2.pointPolygonTest(poly, (float(x), float(y)), True) for x, y in inner) < -4.0:
                continue
            if _shared_sides(inner, outer, 4.0) >= 2:
                top, changed = other, True
                break
    return top


def _shared_sides(inner: np.ndarray, outer: np.ndarray, tol: float) -> int:
    count = 0
    for i in range(4):
        a, b = inner[i], inner[(i + 1) % 4]
        for j in range(4):
            p, q = outer[j], outer[(j + 1) % 4]
            d = q - p
            n = np.array([-d[1], d[0]]) / max(float(np.hypot(*d)), 1e-9)
            if abs(float(np.dot(a - p, n))) <= tol and abs(float(np.dot(b - p, n))) <= tol:
                count += 1
                break
    return count


def _cropped_regions(edges: list[np.ndarray], lab: np.ndarray, grad: _Gradient) -> list[np.ndarray]:
    """Large convex regions bounded by straight, well-supported edges and the frame (work pixels).

    Such a region is a card partly outside the picture: 1 or more of its sides lie on the
    frame, 2 to 4 are long straight image edges meeting at plausible corner angles.
    """
    wh, ww = lab.shape[:2]
    margin = 2.0
    found: list[np.ndarray] = []
    for edge_map in edges:
        closed = cv2.dilate(edge_map, np.ones((3, 3), np.uint8))
        cv2.rectangle(closed, (0, 0), (ww - 1, wh - 1), 255, 1)
        contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for contour in contours:
            _, _, bw, bh = cv2.boundingRect(contour)
            if bw * bh < 0.1 * ww * wh:  # the hull lies inside the bounding box: too small
                continue
            hull = cv2.convexHull(contour)
            area = cv2.contourArea(hull)
            if not 0.1 * ww * wh <= area <= 0.9 * ww * wh:
                continue
            poly = cv2.approxPolyDP(hull, 0.006 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float64)
            if 3 <= len(poly) <= 10 and _is_cropped_card(poly, grad, lab, ww, wh, margin):
                found.append(poly)
    return found


def _is_cropped_card(poly: np.ndarray, grad: _Gradient, lab: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    perimeter = sum(float(np.hypot(*(poly[(i + 1) % len(poly)] - poly[i]))) for i in range(len(poly)))
    inner: list[tuple[np.ndarray, np.ndarray, float]] = []
    n_border = 0
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        on_border = _on_border(p, q, ww, wh, margin)
        length = float(np.hypot(*(q - p)))
        if on_border:
            n_border += 1
        elif length >= 0.02 * perimeter:
            inner.append((p, q, length))
    if n_border == 0 or not 2 <= len(inner) <= 4:
        return False
    lengths = np.array([x[2] for x in inner])
    if lengths.sum() < 0.35 * perimeter or lengths.min() < 0.08 * perimeter:
        return False
    for (p1, q1, _), (p2, q2, _) in itertools.pairwise(inner):
        if np.hypot(*(q1 - p2)) > margin * 2:
            continue  # not adjacent (a border side in between)
        d1, d2 = q1 - p1, q2 - p2
        cos = abs(float(np.dot(d1, d2))) / max(float(np.linalg.norm(d1) * np.linalg.norm(d2)), 1e-9)
        if cos > math.cos(math.radians(50)):
            return False
    ends = np.array([(p, q) for p, q, _ in inner], dtype=np.float64)
    centres = np.repeat(poly.mean(axis=0)[None, :], len(inner), axis=0)
    supports, _ = _side_supports(ends[:, 0], ends[:, 1], centres, grad, lab, ww, wh)
    return float(np.average(supports, weights=lengths)) >= 0.85 and float(supports.min()) >= 0.7


@dataclass(frozen=True)
class _Gradient:
    """Colour gradient of a Lab image: per pixel the channel with the largest Scharr response."""

    gx: np.ndarray
    gy: np.ndarray
    magnitude: np.ndarray

    @staticmethod
    def of(lab: np.ndarray) -> _Gradient:
        gx = np.asarray(cv2.Scharr(lab, cv2.CV_32F, 1, 0) / 16.0, np.float32)
        gy = np.asarray(cv2.Scharr(lab, cv2.CV_32F, 0, 1) / 16.0, np.float32)
        # Per pixel the channel with the largest squared magnitude, the first one on ties; planes are
        # contiguous copies (cv2.split), much faster to combine than strided channel views.
        gxs, gys = cv2.split(gx), cv2.split(gy)
        best = gxs[0] * gxs[0] + gys[0] * gys[0]
        gx1, gy1 = gxs[0], gys[0]
        for cx, cy in zip(gxs[1:], gys[1:], strict=True):
            mag = cx * cx + cy * cy
            better = mag > best
            best = np.where(better, mag, best)
            gx1 = np.where(better, cx, gx1)
            gy1 = np.where(better, cy, gy1)
        return _Gradient(gx1, gy1, np.sqrt(best))


def _edge_candidates(
    lab: np.ndarray, config: LocatorConfig
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[str, np.ndarray]]]:
    wh, ww = lab.shape[:2]
    min_area = config.min_candidate_fraction * ww * wh
    union: np.ndarray = np.zeros((wh, ww), np.uint8)
    out: list[tuple[str, np.ndarray]] = []
    all_maps: list[np.ndarray] = []
    for sigma in (1.2, 2.5):
        grad = _Gradient.of(cv2.GaussianBlur(lab, (0, 0), sigma))
        dx = np.clip(grad.gx * 8.0, -32000, 32000).astype(np.int16)
        dy = np.clip(grad.gy * 8.0, -32000, 32000).astype(np.int16)
        ref = float(np.percentile(grad.magnitude, 97))
        for level, factor in (("hi", 1.0), ("mid", 0.5), ("lo", 0.25)):
            high = max(ref * factor, 3.0) * 8.0
            edges = cv2.Canny(dx, dy, high * 0.4, high, L2gradient=True)
            all_maps.append(edges)
            if sigma == 1.2 and level == "mid":
                union = edges
            closed = cv2.dilate(edges, np.ones((3, 3), np.uint8))
            contours, _ = cv2.findContours(closed, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                out.extend((f"edges:{sigma}:{level}", quad) for quad in _hull_quads(contour, min_area))
    return union, all_maps, out


def _region_candidates(lab: np.ndarray, config: LocatorConfig) -> list[tuple[str, np.ndarray]]:
    wh, ww = lab.shape[:2]
    min_area = config.min_candidate_fraction * ww * wh
    small_scale = min(1.0, 160.0 / max(wh, ww))
    small = cv2.resize(
        lab, (max(1, round(ww * small_scale)), max(1, round(wh * small_scale))), interpolation=cv2.INTER_AREA
    )
    samples = small.reshape(-1, 3).astype(np.float32)
    planes = [plane.reshape(-1) for plane in cv2.split(cv2.GaussianBlur(lab, (0, 0), 2.0))]
    out: list[tuple[str, np.ndarray]] = []
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 15, 0.5)
    cv2.setRNGSeed(7)
    for k in (2, 3):
        if len(samples) < k * 4:
            continue
        best_labels = np.zeros((len(samples), 1), np.int32)
        _, _, centres = cv2.kmeans(samples, k, best_labels, criteria, 2, cv2.KMEANS_PP_CENTERS)
        # Nearest centre per pixel (the first one on ties), one cluster at a time: no (pixels, k, 3) temporary.
        nearest = np.zeros(wh * ww, np.int32)
        best = np.full(wh * ww, np.inf, np.float32)
        for c in range(k):
            d0, d1, d2 = (plane - centres[c, i] for i, plane in enumerate(planes))
            dist = d0 * d0 + d1 * d1 + d2 * d2
            closer = dist < best
            nearest[closer] = c
            best = np.where(closer, dist, best)
        labels = nearest.reshape(wh, ww)
        for cluster in range(k):
            mask = (labels == cluster).astype(np.uint8) * 255
            mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
            mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
            contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            for contour in contours:
                out.extend((f"kmeans{k}", quad) for quad in _hull_quads(contour, min_area))
    return out


def _hull_quads(contour: np.ndarray, min_area: float) -> list[np.ndarray]:
    """Quadrilaterals fitted to a contour's convex hull (work pixels, TL TR BR BL).

    Two fits: the hull simplified to 4 vertices, and the lines through the hull's 4
    longest straight runs intersected (this one restores corners that are rounded,
    cut by glare or hidden by a finger).
    """
    _, _, bw, bh = cv2.boundingRect(contour)
    if bw * bh < min_area:  # the hull lies inside the bounding box: too small
        return []
    hull = cv2.convexHull(contour)
    area = cv2.contourArea(hull)
    if area < min_area:
        return []
    perimeter = cv2.arcLength(hull, True)
    out: list[np.ndarray] = []
    for eps in (0.01, 0.02, 0.03, 0.045, 0.06, 0.08):
        approx = cv2.approxPolyDP(hull, eps * perimeter, True)
        if len(approx) == 4:
            quad = approx.reshape(4, 2).astype(np.float64)
            # The polygon must keep most of the hull's area (a triangle-ish shape does not).
            if abs(_polygon_area(quad)) >= 0.85 * area:
                out.append(_order_corners(quad))
            break
        if len(approx) < 4:
            break
    for outline, low in ((hull, 0.95), (contour, 0.7)):
        fitted = _long_runs_quad(outline, perimeter, area, low)
        if fitted is not None:
            out.append(fitted)
    return out


def _long_runs_quad(outline: np.ndarray, perimeter: float, hull_area: float, low: float) -> np.ndarray | None:
    """Intersect the lines through an outline's 4 longest straight runs (kept in outline order)."""
    fine = cv2.approxPolyDP(outline, 0.004 * perimeter, True).reshape(-1, 2).astype(np.float64)
    if len(fine) <= 4:
        return None
    lengths = np.hypot(*(np.roll(fine, -1, axis=0) - fine).T)
    keep = np.sort(np.argsort(lengths)[-4:])
    if lengths[keep].sum() < 0.5 * perimeter:
        return None
    lines = [(fine[i], fine[(i + 1) % len(fine)]) for i in keep]
    corners = [_intersect(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return None
    quad = np.array(corners, dtype=np.float64)
    if not low * hull_area <= abs(_polygon_area(quad)) <= 1.2 * hull_area:
        return None
    return _order_corners(quad)


def _score_parts(
    quad: np.ndarray, grad: _Gradient, lab: np.ndarray, ww: int, wh: int, *, skip_border: bool = False
) -> dict[str, float] | None:
    """Score terms of a work-scale quad; ``None`` when it is not a convex quadrilateral.

    With ``skip_border``, sides lying on the frame (a cropped card) are left out of the
    edge terms; at least two sides must remain.
    """
    return _score_many([quad], [skip_border], grad, lab, ww, wh)[0]


def _score_many(
    quads: list[np.ndarray], skip_border: list[bool], grad: _Gradient, lab: np.ndarray, ww: int, wh: int
) -> list[dict[str, float] | None]:
    """:func:`_score_parts` of many work-scale quads, their sides sampled in one batch."""
    shapes: list[tuple[float, float, float, float] | None] = []
    sides: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    owners: list[int] = []
    for n, quad in enumerate(quads):
        shape = _shape_terms(quad)
        shapes.append(shape)
        if shape is None:
            continue
        centre = quad.mean(axis=0)
        for i in range(4):
            p, q = quad[i], quad[(i + 1) % 4]
            if skip_border[n] and _on_border(p, q, ww, wh, 2.0):
                continue
            sides.append((p, q, centre))
            owners.append(n)
    out: list[dict[str, float] | None] = [None] * len(quads)
    if not sides:
        return out
    arr = np.array(sides, dtype=np.float64)  # (S, 3, 2): p, q, centre
    supports, contrasts = _side_supports(arr[:, 0], arr[:, 1], arr[:, 2], grad, lab, ww, wh)
    owner = np.array(owners)
    for n, shape in enumerate(shapes):
        if shape is None:
            continue
        mine = np.flatnonzero(owner == n)
        if len(mine) < 2:
            continue
        support = supports[mine]
        area, aspect, aspect_score, angle_score = shape
        out[n] = {
            "edge": float(np.mean(support)),
            "edge_min": float(support.min()),
            "aspect": aspect_score,
            "aspect_ratio": aspect,
            "angles": angle_score,
            "area_fraction": area / (ww * wh),
            "contrast": float(np.median(contrasts[mine])),
        }
    return out


def _shape_terms(quad: np.ndarray) -> tuple[float, float, float, float] | None:
    """(area, aspect ratio, aspect score, angle score) of a convex quad; ``None`` when it is not one."""
    if not np.all(np.isfinite(quad)) or not cv2.isContourConvex(quad.astype(np.float32).reshape(-1, 1, 2)):
        return None
    area = abs(_polygon_area(quad))
    if area < 16.0:
        return None
    angles = _corner_angles(quad)
    if min(angles) < 35.0 or max(angles) > 145.0:
        return None
    sides = _side_lengths(quad)
    long_pair = (sides[0] + sides[2]) / 2.0
    short_pair = (sides[1] + sides[3]) / 2.0
    aspect = max(long_pair, short_pair) / max(1e-6, min(long_pair, short_pair))
    aspect_score = max(math.exp(-(math.log(aspect / a) ** 2) / (2 * 0.12**2)) for a in FORMAT_ASPECTS.values())
    angle_score = math.exp(-((max(abs(a - 90.0) for a in angles) / 30.0) ** 2))
    return area, aspect, aspect_score, angle_score


def _combine(parts: dict[str, float]) -> float:
    edge = 0.7 * parts["edge"] + 0.3 * parts["edge_min"]
    size = 0.85 + 0.15 * min(1.0, parts["area_fraction"] / 0.25)
    score = edge * (0.35 + 0.65 * parts["aspect"]) * (0.6 + 0.4 * parts["angles"]) * size
    return float(np.clip(score, 0.0, 1.0))


def _side_support(
    p: np.ndarray, q: np.ndarray, centre: np.ndarray, grad: _Gradient, lab: np.ndarray, ww: int, wh: int
) -> tuple[float, float]:
    """Fraction of a side's samples on an edge parallel to it, and the median Lab contrast across it.

    An edge sample counts when the gradient across the side beats 3 and 1.5 times the
    strongest gradient 6-9 px outside the shape (``centre`` is inside it): an outline
    drawn through texture (noise, cloth, grass) does not stand out of it.
    """
    support, contrast = _side_supports(p[None, :], q[None, :], centre[None, :], grad, lab, ww, wh)
    return float(support[0]), float(contrast[0])


#: Offsets (work pixels, along the inward normal) where a side's edge is looked for, and where the
#: texture it must stand out of is measured (outside the shape).
_EDGE_OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_TEXTURE_OFFSETS = (-9.0, -6.0)
_MAX_SIDE_SAMPLES = 120


def _side_supports(
    p: np.ndarray, q: np.ndarray, centre: np.ndarray, grad: _Gradient, lab: np.ndarray, ww: int, wh: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_side_support` of ``S`` sides at once: ``p``, ``q``, ``centre`` are (S, 2) work pixels.

    Each side gets 12-120 samples (one per 3 px) spread over 6-94 % of its length; the
    rows are padded to the longest and the padding is masked out of the statistics.
    Returns (support, contrast), each (S,).
    """
    d = q - p
    length = np.hypot(d[:, 0], d[:, 1])
    n_samples = np.clip(length / 3.0, 12, _MAX_SIDE_SAMPLES).astype(int)
    width = int(n_samples.max())
    index = np.arange(width, dtype=np.float64)[None, :]
    step = (0.94 - 0.06) / (n_samples - 1).astype(np.float64)
    t = index * step[:, None] + 0.06  # np.linspace(0.06, 0.94, n) per row, padded
    valid = index < n_samples[:, None]
    t[np.arange(len(t)), n_samples - 1] = 0.94
    t = np.where(valid, t, 0.94)
    direction = d / np.maximum(length, 1e-6)[:, None]
    normal = np.stack([-direction[:, 1], direction[:, 0]], axis=1)
    flip = ((centre - p) * normal).sum(axis=1) < 0
    normal[flip] = -normal[flip]  # the normal points inside
    bx = p[:, 0:1] + t * d[:, 0:1]
    by = p[:, 1:2] + t * d[:, 1:2]
    nx, ny = normal[:, 0:1], normal[:, 1:2]
    dx, dy = direction[:, 0:1], direction[:, 1:2]

    def sample_at(off: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        px, py = bx + off * nx, by + off * ny
        xi = np.clip(np.round(px).astype(int), 0, ww - 1)
        yi = np.clip(np.round(py).astype(int), 0, wh - 1)
        return px, py, xi, yi

    texture = np.zeros(bx.shape)
    for off in _TEXTURE_OFFSETS:
        # Gradient away from the side: an edge must stand out of the texture around it.
        _, _, xi, yi = sample_at(off)
        texture = np.maximum(texture, grad.magnitude[yi, xi])
    best = np.zeros(bx.shape)
    for off in _EDGE_OFFSETS:
        px, py, xi, yi = sample_at(off)
        gx, gy = grad.gx[yi, xi], grad.gy[yi, xi]
        across = np.abs(gx * nx + gy * ny)
        along = np.abs(gx * dx + gy * dy)
        val = np.where(across > 1.5 * along, across, 0.0)
        inside = (px >= 0) & (px <= ww - 1) & (py >= 0) & (py <= wh - 1)
        best = np.maximum(best, np.where(inside, val, 0.0))
    on_edge = (best > np.maximum(3.0, 1.5 * np.minimum(texture, 1e6))) & valid
    support = on_edge.sum(axis=1) / n_samples
    _, _, xa, ya = sample_at(5.0)
    _, _, xb, yb = sample_at(-5.0)
    diff = np.linalg.norm(lab[ya, xa] - lab[yb, xb], axis=2)
    diff = np.where(valid, diff, np.inf)
    diff.sort(axis=1)
    rows = np.arange(len(diff))
    lo, hi = diff[rows, (n_samples - 1) // 2], diff[rows, n_samples // 2]
    contrast = (lo + hi) / 2  # the median of each row's valid samples
    return support.astype(np.float64), contrast.astype(np.float64)


def _dedupe(cands: list[Candidate], scale: float) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in cands:
        if any(np.max(np.abs(c.corners - k.corners)) * scale < 3.0 for k in kept):
            continue
        kept.append(c)
    return kept


def _on_border(p: np.ndarray, q: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    """Whether the segment p-q lies along one edge of a ``ww`` x ``wh`` frame."""
    return bool(
        (p[0] <= margin and q[0] <= margin)
        or (p[1] <= margin and q[1] <= margin)
        or (p[0] >= ww - 1 - margin and q[0] >= ww - 1 - margin)
        or (p[1] >= wh - 1 - margin and q[1] >= wh - 1 - margin)
    )


def _touches_border(quad: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    return _corners_outside(quad, ww, wh, margin)


def _corners_outside(corners: np.ndarray, width: int, height: int, margin: float) -> bool:
    xs, ys = corners[:, 0], corners[:, 1]
    return bool(
        np.any(xs <= margin)
        or np.any(ys <= margin)
        or np.any(xs >= width - 1 - margin)
        or np.any(ys >= height - 1 - margin)
    )


# --------------------------------------------------------------------------- refinement


def _refine(image: np.ndarray, corners: np.ndarray, scale: float) -> np.ndarray:
    """Refine a quad's sides on the full-resolution image and intersect them (input pixels)."""
    height, width = image.shape[:2]
    lines: list[tuple[np.ndarray, np.ndarray]] = []
    reach = max(3.0, 2.5 / scale)
    for i in range(4):
        p, q = corners[i], corners[(i + 1) % 4]
        line = (p, q)
        for radius in (reach, max(2.5, reach / 3.0)):
            fitted = _fit_side(image, line[0], line[1], radius, width, height)
            if fitted is None:
                break
            line = fitted
        lines.append(line)
    out = np.zeros((4, 2))
    for i in range(4):
        corner = _intersect(lines[(i - 1) % 4], lines[i])
        if corner is None or np.hypot(*(corner - corners[i])) > 4.0 * reach:
            return corners.copy()
        out[i] = corner
    return out


def _fit_side(
    image: np.ndarray, p: np.ndarray, q: np.ndarray, radius: float, width: int, height: int
) -> tuple[np.ndarray, np.ndarray] | None:
    length = float(np.hypot(*(q - p)))
    if length < 8:
        return None
    direction = (q - p) / length
    normal = np.array([-direction[1], direction[0]])
    n_rows = int(np.clip(length / 4.0, 16, 160))
    t = np.linspace(0.1, 0.9, n_rows)
    offsets = np.arange(-radius, radius + 0.25, 0.5)
    base = p[None, :] + t[:, None] * (q - p)[None, :]
    pts = base[:, None, :] + offsets[None, :, None] * normal[None, None, :]
    map_x = pts[..., 0].astype(np.float32)
    map_y = pts[..., 1].astype(np.float32)
    sampled = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)
    profiles = np.asarray(cv2.GaussianBlur(sampled, (3, 1), 0) if sampled.shape[1] >= 3 else sampled, np.float32)
    deriv: np.ndarray = np.zeros(profiles.shape[:2], np.float32)
    deriv[:, 1:-1] = np.sqrt((((profiles[:, 2:] - profiles[:, :-2]) / 2.0) ** 2).sum(axis=2))
    peak = np.argmax(deriv, axis=1)
    strength = deriv[np.arange(n_rows), peak]
    inside = (
        (base[:, 0] >= 0)
        & (base[:, 0] <= width - 1)
        & (base[:, 1] >= 0)
        & (base[:, 1] <= height - 1)
        & (strength > 2.0)
    )
    inside &= (peak > 0) & (peak < deriv.shape[1] - 1)
    if inside.sum() < 6:
        return None
    rows = np.nonzero(inside)[0]
    left = deriv[rows, peak[rows] - 1]
    mid = deriv[rows, peak[rows]]
    right = deriv[rows, peak[rows] + 1]
    denom = left - 2 * mid + right
    shift = np.where(np.abs(denom) > 1e-6, 0.5 * (left - right) / np.where(denom == 0, 1, denom), 0.0)
    d = offsets[peak[rows]] + np.clip(shift, -0.5, 0.5) * 0.5
    points = base[rows] + d[:, None] * normal[None, :]
    return _robust_line(points, strength[rows])


def _robust_line(points: np.ndarray, strength: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Tukey-weighted total-least-squares line through ``points``; returns two points on it."""
    weights = strength / max(float(strength.max()), 1e-6)
    centre = points.mean(axis=0)
    direction = np.array([1.0, 0.0])
    for _ in range(6):
        if weights.sum() < 1e-6:
            return None
        centre = (points * weights[:, None]).sum(axis=0) / weights.sum()
        diff = points - centre
        cov = (diff * weights[:, None]).T @ diff
        _, vecs = np.linalg.eigh(cov)
        direction = vecs[:, 1]
        normal = np.array([-direction[1], direction[0]])
        resid = diff @ normal
        scale = max(1.4826 * float(np.median(np.abs(resid))), 0.5)
        u = resid / (4.685 * scale)
        weights = np.where(np.abs(u) < 1, (1 - u * u) ** 2, 0.0) * strength
    proj = (points - centre) @ direction
    return centre + proj.min() * direction, centre + proj.max() * direction


def _intersect(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
    """Intersection of the line through ``a``'s two points with the line through ``b``'s; ``None`` if parallel.

    Homogeneous coordinates: each line is the cross product of its points (x, y, 1), the
    intersection the cross product of the lines. Written out in scalars (the same
    arithmetic as ``np.cross``, a fraction of its cost: this runs thousands of times per photo).
    """
    ax0, ay0 = float(a[0][0]), float(a[0][1])
    ax1, ay1 = float(a[1][0]), float(a[1][1])
    bx0, by0 = float(b[0][0]), float(b[0][1])
    bx1, by1 = float(b[1][0]), float(b[1][1])
    la0, la1, la2 = ay0 - ay1, ax1 - ax0, ax0 * ay1 - ay0 * ax1
    lb0, lb1, lb2 = by0 - by1, bx1 - bx0, bx0 * by1 - by0 * bx1
    x0, x1, x2 = la1 * lb2 - la2 * lb1, la2 * lb0 - la0 * lb2, la0 * lb1 - la1 * lb0
    if abs(x2) < 1e-9:
        return None
    return np.array([x0 / x2, x1 / x2], dtype=np.float64)


# --------------------------------------------------------------------------- geometry helpers


def _polygon_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _side_lengths(corners: np.ndarray) -> list[float]:
    return [float(np.hypot(*(corners[(i + 1) % 4] - corners[i]))) for i in range(4)]


def _corner_angles(quad: np.ndarray) -> list[float]:
    out = []
    for i in range(4):
        a = quad[(i - 1) % 4] - quad[i]
        b = quad[(i + 1) % 4] - quad[i]
        cos = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        out.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    return out


def _order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise on screen starting at the top-left as seen (see module docstring)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # y down: increasing angle is clockwise on screen
    best, best_i = -2.0, 0
    for i in range(4):
        v = pts[(i + 1) % 4] - pts[i]
        c = float(v[0] / max(np.hypot(*v), 1e-9))
        if c > best:
            best, best_i = c, i
    return np.roll(pts, -best_i, axis=0)


def _make_quad(corners: np.ndarray, confidence: float) -> DocumentQuad:
    corners = _order_corners(corners)
    sides = _side_lengths(corners)
    horizontal = (sides[0] + sides[2]) / 2.0
    vertical = (sides[1] + sides[3]) / 2.0
    aspect = max(horizontal, vertical) / max(1e-6, min(horizontal, vertical))
    return DocumentQuad(corners, float(np.clip(confidence, 0.0, 1.0)), float(aspect), vertical > horizontal)


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


# --------------------------------------------------------------------------- rectification


def canonical_size(kind: str, dpi: int = DEFAULT_DPI) -> tuple[int, int]:
    """(width, height) in pixels of a format at ``dpi``, landscape: ``id1`` at 300 dpi is (1011, 638)."""
    if kind not in FORMATS_MM:
        raise UnknownDocumentKindError(f"unknown document kind {kind!r}; expected one of {sorted(FORMATS_MM)}")
    w_mm, h_mm = FORMATS_MM[kind]
    return round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi)


def kind_from_aspect(aspect_ratio: float) -> str:
    """``id1`` or ``td3`` from a measured long/short ratio.

    TD2 (1.419) and TD3 (1.420) cannot be told apart by shape; ``td3`` is returned for
    both, and the MRZ line length must decide.
    """
    return "id1" if aspect_ratio >= (FORMAT_ASPECTS["id1"] + FORMAT_ASPECTS["td3"]) / 2.0 else "td3"


def rectify(
    rgb: np.ndarray, quad: DocumentQuad | np.ndarray, kind: str = "auto", *, dpi: int = DEFAULT_DPI
) -> np.ndarray:
    """Perspective-warp the document to its canonical size, landscape (long side horizontal).

    ``quad`` is a :class:`DocumentQuad` or a (4, 2) array of corners (input pixels, any
    order). ``kind`` is ``id1``, ``td2``, ``td3`` or ``auto`` (chosen from the measured
    aspect ratio, see :func:`kind_from_aspect`). The output is ``canonical_size(kind,
    dpi)``, RGB ``uint8``; the quad's outer boundary maps to the output's outer pixel
    boundary. When the document's long sides are vertical in the photo (a portrait-mode
    shot), the result is what rectifying the photo turned 90 degrees clockwise would
    give; it may then be upside down: see :func:`upright`.
    """
    image = as_rgb(rgb)
    if isinstance(quad, DocumentQuad):
        doc = quad
    else:
        arr = np.asarray(quad, dtype=np.float64)
        if arr.shape != (4, 2) or not np.all(np.isfinite(arr)):
            raise BadQuadError(f"expected 4 finite (x, y) corners, got an array of shape {arr.shape}")
        doc = _make_quad(arr, 1.0)
    if abs(_polygon_area(doc.corners)) < 16.0:
        raise BadQuadError("the quadrilateral is degenerate (area under 16 square pixels)")
    if kind == "auto":
        kind = kind_from_aspect(doc.aspect_ratio)
    out_w, out_h = canonical_size(kind, dpi)
    corners = doc.corners
    if doc.portrait:
        corners = corners[[3, 0, 1, 2]]  # the image's left side becomes the top
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32) - 0.5
    src = corners.astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)


# --------------------------------------------------------------------------- orientation


@dataclass(frozen=True)
class OrientationCues:
    """Per-rotation evidence used by :func:`orientation_candidates` (log-odds units).

    ``face``: an upright face (eyes above the mouth) found at that rotation, weighted
    by the detector's confidence; ``text_alignment``: left-aligned text edges vs ragged
    right edges (+) or the mirror (-); ``mrz``: long dense text lines at the bottom (+)
    or top (-); ``shape``: a landscape image turned 90/270 would become portrait;
    ``text_direction``: text-line blobs run horizontally (+) or vertically (-).
    """

    face: dict[int, float]
    text_alignment: dict[int, float]
    mrz: dict[int, float]
    shape: dict[int, float]
    text_direction: dict[int, float]

    def total(self) -> dict[int, float]:
        return {
            r: self.face[r] + self.text_alignment[r] + self.mrz[r] + self.shape[r] + self.text_direction[r]
            for r in ROTATIONS
        }


def rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate by 0/90/180/270 degrees clockwise."""
    if degrees not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {degrees}")
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90)))


def orientation_cues(rectified: np.ndarray, *, use_face: bool = True) -> OrientationCues:
    """Evidence for each clockwise rotation that would make ``rectified`` upright."""
    image = as_rgb(rectified)
    height, width = image.shape[:2]
    landscape = width >= 1.15 * height
    shape = {r: (-2.5 if landscape and r in (90, 270) else 0.0) for r in ROTATIONS}

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = 1011.0 / max(height, width)
    if abs(scale - 1.0) > 0.05:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    text0 = _text_features(gray)
    text90 = _text_features(np.ascontiguousarray(np.rot90(gray, k=-1)))
    align = {0: text0[0], 180: -text0[0], 90: text90[0], 270: -text90[0]}
    mrz = {0: text0[1], 180: -text0[1], 90: text90[1], 270: -text90[1]}
    horiz = text0[2] - text90[2]
    direction = {0: horiz, 180: horiz, 90: -horiz, 270: -horiz}
    face = dict.fromkeys(ROTATIONS, 0.0)
    if use_face:
        face = _face_cue(image)
    return OrientationCues(face, align, mrz, shape, direction)


def orientation_candidates(rectified: np.ndarray, *, use_face: bool = True) -> list[tuple[int, float]]:
    """Clockwise rotations (0/90/180/270) that may make ``rectified`` upright, best first.

    Scores are probabilities (softmax of the summed cue log-odds, they add up to 1).
    Cues need no OCR model: an upright face (``openidv.face.detect``), left-aligned
    text, an MRZ band at the bottom, horizontal text lines and the landscape shape.
    With no usable cue, 0 and 180 tie. Measured on generated ID-1 fronts: see
    ``tests/test_geometry.py``.
    """
    totals = orientation_cues(rectified, use_face=use_face).total()
    peak = max(totals.values())
    exp = {r: math.exp(v - peak) for r, v in totals.items()}
    norm = sum(exp.values())
    return sorted(((r, exp[r] / norm) for r in ROTATIONS), key=lambda rs: (-rs[1], rs[0]))


def upright(rectified: np.ndarray, *, use_face: bool = True) -> tuple[np.ndarray, int]:
    """``rectified`` turned by the best rotation, and that rotation (degrees clockwise)."""
    best = orientation_candidates(rectified, use_face=use_face)[0][0]
    return rotate(as_rgb(rectified), best), best


def _text_features(gray: np.ndarray) -> tuple[float, float, float]:
    """(alignment log-odds, MRZ-at-bottom log-odds, horizontal text-blob count) of a gray card at ~1011 px."""
    height, width = gray.shape
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 18)
    ink[gray >= 120] = 0  # printed text is dark; security patterns and tints are not
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    words = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 17), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(words)
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if 10 <= h <= 70 and w >= 2.5 * h and area >= 0.25 * w * h and w < 0.97 * width:
            density = float(np.count_nonzero(ink[y : y + h, x : x + w])) / (w * h)
            if 0.12 <= density <= 0.7:  # glyphs, not a solid bar or a band's rim
                boxes.append((x, y, w, h))
    if not boxes:
        return 0.0, 0.0, 0.0
    arr = np.array(boxes, dtype=np.float64)
    lefts, rights = arr[:, 0], arr[:, 0] + arr[:, 2]

    def aligned(edges: np.ndarray) -> float:
        # Largest number of blobs sharing an edge position (within 4 px), summed over columns of >= 3.
        edges = np.sort(edges)
        total, i = 0, 0
        while i < len(edges):
            j = i
            while j + 1 < len(edges) and edges[j + 1] - edges[i] <= 4.0:
                j += 1
            count = j - i + 1
            if count >= 3:
                total += count
            i = j + 1
        return float(total)

    a_left, a_right = aligned(lefts), aligned(rights)
    alignment = 0.0
    if a_left + a_right >= 3:
        alignment = (a_left - a_right) / (a_left + a_right + 2.0)
    # An MRZ: 2 or 3 text lines of about the same length spanning most of the width, near an edge.
    rows = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((7, 35), np.uint8))  # joins MRZ '<' fillers
    n_rows, _, row_stats, _ = cv2.connectedComponentsWithStats(rows)
    long = []
    for i in range(1, n_rows):
        x, y, w, h, _ = (int(v) for v in row_stats[i])
        if w >= 0.75 * width and 10 <= h <= 80:
            density = float(np.count_nonzero(ink[y : y + h, x : x + w])) / (w * h)
            if 0.08 <= density <= 0.7:
                long.append((x, y, w, h))
    long_lines = np.array(long, dtype=np.float64).reshape(-1, 4)
    mrz = 0.0
    if len(long_lines) >= 2 and long_lines[:, 2].min() >= 0.88 * long_lines[:, 2].max():
        centres = long_lines[:, 1] + long_lines[:, 3] / 2.0
        bottom = int(np.sum(centres > 0.65 * height))
        top = int(np.sum(centres < 0.35 * height))
        if bottom >= 2 and top == 0:
            mrz = 2.0
        elif top >= 2 and bottom == 0:
            mrz = -2.0
    return alignment, mrz, float(min(len(boxes), 20)) * 0.1


def _face_cue(image: np.ndarray) -> dict[int, float]:
    from openidv.face.detection import DetectorConfig, detect  # the face engine is heavy: import on use

    config = DetectorConfig(hog_fallback=False, max_upscale=1.0)
    height, width = image.shape[:2]
    scale = min(1.0, 640.0 / max(height, width))
    small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    min_side = 0.08 * min(small.shape[:2])
    out = dict.fromkeys(ROTATIONS, 0.0)

    def run(rotation: int) -> None:
        best = 0.0
        for face in detect(rotate(small, rotation), config):
            if face.box.width < min_side:
                continue
            lm = face.landmarks.astype(np.float64)
            eyes, mouth = lm[0:2].mean(axis=0), lm[3:5].mean(axis=0)
            v = mouth - eyes
            if np.hypot(*v) < 1e-6 or v[1] / np.hypot(*v) < math.cos(math.radians(40)):
                continue
            if lm[0, 0] >= lm[1, 0]:
                continue
            best = max(best, float(face.score))
        out[rotation] = 4.0 * best

    run(0)
    run(180)
    if max(out.values()) == 0.0:
        run(90)
        run(270)
    return out
