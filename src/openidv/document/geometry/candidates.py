"""Candidate document outlines: from edge maps and from colour regions, as convex-hull quadrilaterals."""

from __future__ import annotations

import cv2
import numpy as np

from openidv.document.geometry.quad import LocatorConfig, order_corners, polygon_area
from openidv.document.geometry.refine import intersect_lines
from openidv.document.geometry.score import EdgeGradient


def edge_candidates(
    lab: np.ndarray, config: LocatorConfig
) -> tuple[np.ndarray, list[np.ndarray], list[tuple[str, np.ndarray]]]:
    wh, ww = lab.shape[:2]
    min_area = config.min_candidate_fraction * ww * wh
    union: np.ndarray = np.zeros((wh, ww), np.uint8)
    out: list[tuple[str, np.ndarray]] = []
    all_maps: list[np.ndarray] = []
    for sigma in (1.2, 2.5):
        grad = EdgeGradient.of(cv2.GaussianBlur(lab, (0, 0), sigma))
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


def region_candidates(lab: np.ndarray, config: LocatorConfig) -> list[tuple[str, np.ndarray]]:
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
            if abs(polygon_area(quad)) >= 0.85 * area:
                out.append(order_corners(quad))
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
    corners = [intersect_lines(lines[i - 1], lines[i]) for i in range(4)]
    if any(c is None for c in corners):
        return None
    quad = np.array(corners, dtype=np.float64)
    if not low * hull_area <= abs(polygon_area(quad)) <= 1.2 * hull_area:
        return None
    return order_corners(quad)
