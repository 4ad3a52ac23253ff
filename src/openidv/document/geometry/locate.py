"""Locating the document in a photo (:func:`locate_document`): candidates, scores, cropped cards, the outer outline."""

from __future__ import annotations

import itertools
import math
import time

import cv2
import numpy as np

from openidv.document.geometry.candidates import edge_candidates, region_candidates
from openidv.document.geometry.quad import (
    DEFAULT_LOCATOR,
    Candidate,
    DocumentQuad,
    LocateResult,
    LocatorConfig,
    make_quad,
    order_corners,
    polygon_area,
    side_lengths,
)
from openidv.document.geometry.refine import refine_quad
from openidv.document.geometry.score import (
    EdgeGradient,
    combine_score,
    corners_outside,
    quad_touches_frame,
    score_many,
    score_parts,
    segment_on_frame_edge,
    side_supports,
)
from openidv.imaging import DEFAULT_MAX_PIXELS, as_rgb


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
    grad = EdgeGradient.of(cv2.GaussianBlur(lab, (0, 0), 1.0))
    if float(np.percentile(grad.magnitude, 99.5)) < config.flat_gradient:
        return LocateResult(None, "low_contrast", None, work_scale=scale, elapsed_ms=_ms(start))

    edges, edges_all, polygons = edge_candidates(lab, config)
    scored = _scored(polygons, grad, lab, scale, config)
    best_edge = max(scored, key=lambda c: c.score, default=None)
    if best_edge is None or best_edge.score < config.regions_below or best_edge.touches_border:
        # Colour regions find outlines whose edges are weak (a pale card on a pale table); a clear,
        # complete outline from the edges makes them unnecessary.
        scored += _scored(region_candidates(lab, config), grad, lab, scale, config)
    scored.sort(key=lambda c: c.score, reverse=True)
    scored = _dedupe(scored, scale)
    wh, ww = work.shape[:2]

    def result(quad: DocumentQuad | None, reason: str, best: DocumentQuad | None) -> LocateResult:
        return LocateResult(quad, reason, best, scored[:40], edges, scale, _ms(start))

    if scored and scored[0].score >= config.accept_score:
        top = _prefer_outer(scored, scale)
        corners = refine_quad(image, top.corners, scale) if config.refine else top.corners
        corners = order_corners(corners)
        parts = score_parts(corners * scale, grad, lab, ww, wh)
        confidence = combine_score(parts) if parts is not None else top.score
        quad = make_quad(corners, confidence)
        cropped = top.touches_border or corners_outside(corners, width, height, 1.0)
        if cropped or _within_cropped(corners * scale, _cropped_regions(edges_all, lab, grad)):
            return result(None, "document_cropped", quad)
        long_side = max(side_lengths(corners))
        if quad.area < config.min_area_fraction * width * height or long_side < config.min_long_side_px:
            return result(None, "document_too_small", quad)
        return result(quad, "ok", quad)
    best = make_quad(scored[0].corners, scored[0].score) if scored else None
    if _cropped_regions(edges_all, lab, grad):
        return result(None, "document_cropped", best)
    if scored and scored[0].parts["contrast"] < 6.0 and scored[0].parts["edge"] < 0.5:
        return result(None, "low_contrast", best)
    return result(None, "no_document", best)


def _scored(
    polygons: list[tuple[str, np.ndarray]], grad: EdgeGradient, lab: np.ndarray, scale: float, config: LocatorConfig
) -> list[Candidate]:
    """Work-scale candidate quads scored (:func:`score_many`), in input pixels; each distinct quad once
    (the same quad often comes from several thresholds: the first source names it)."""
    wh, ww = lab.shape[:2]
    unique: dict[bytes, tuple[str, np.ndarray]] = {}
    for source, polygon in polygons:
        unique.setdefault(np.ascontiguousarray(polygon, np.float64).tobytes(), (source, polygon))
    sources = [source for source, _ in unique.values()]
    quads = [polygon for _, polygon in unique.values()]
    touching = [quad_touches_frame(polygon, ww, wh, config.border_margin) for polygon in quads]
    scored: list[Candidate] = []
    for source, polygon, touches, parts in zip(
        sources, quads, touching, score_many(quads, touching, grad, lab, ww, wh), strict=True
    ):
        if parts is not None:
            scored.append(Candidate(polygon / scale, source, combine_score(parts), parts, touches))
    return scored


def _within_cropped(quad: np.ndarray, regions: list[np.ndarray]) -> bool:
    """Whether ``quad`` is only part of a larger region that the frame cuts (work pixels)."""
    area = abs(polygon_area(quad))
    for region in regions:
        poly = region.astype(np.float32).reshape(-1, 1, 2)
        if abs(polygon_area(region)) < 1.15 * area:
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


def _cropped_regions(edges: list[np.ndarray], lab: np.ndarray, grad: EdgeGradient) -> list[np.ndarray]:
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


def _is_cropped_card(poly: np.ndarray, grad: EdgeGradient, lab: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    perimeter = sum(float(np.hypot(*(poly[(i + 1) % len(poly)] - poly[i]))) for i in range(len(poly)))
    inner: list[tuple[np.ndarray, np.ndarray, float]] = []
    n_border = 0
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        on_border = segment_on_frame_edge(p, q, ww, wh, margin)
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
    supports, _ = side_supports(ends[:, 0], ends[:, 1], centres, grad, lab, ww, wh)
    return float(np.average(supports, weights=lengths)) >= 0.85 and float(supports.min()) >= 0.7


def _dedupe(cands: list[Candidate], scale: float) -> list[Candidate]:
    kept: list[Candidate] = []
    for c in cands:
        if any(np.max(np.abs(c.corners - k.corners)) * scale < 3.0 for k in kept):
            continue
        kept.append(c)
    return kept


def _ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0
