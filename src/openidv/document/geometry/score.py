"""Scoring candidate outlines: edge support along each side (image gradients), shape terms, borders."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from openidv.document.geometry.quad import FORMAT_ASPECTS, corner_angles, polygon_area, side_lengths


@dataclass(frozen=True)
class EdgeGradient:
    """Colour gradient of a Lab image: per pixel the channel with the largest Scharr response."""

    gx: np.ndarray
    gy: np.ndarray
    magnitude: np.ndarray

    @staticmethod
    def of(lab: np.ndarray) -> EdgeGradient:
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
        return EdgeGradient(gx1, gy1, np.sqrt(best))


def score_parts(
    quad: np.ndarray, grad: EdgeGradient, lab: np.ndarray, ww: int, wh: int, *, skip_border: bool = False
) -> dict[str, float] | None:
    """Score terms of a work-scale quad; ``None`` when it is not a convex quadrilateral.

    With ``skip_border``, sides lying on the frame (a cropped card) are left out of the
    edge terms; at least two sides must remain.
    """
    return score_many([quad], [skip_border], grad, lab, ww, wh)[0]


def score_many(
    quads: list[np.ndarray], skip_border: list[bool], grad: EdgeGradient, lab: np.ndarray, ww: int, wh: int
) -> list[dict[str, float] | None]:
    """:func:`score_parts` of many work-scale quads, their sides sampled in one batch."""
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
            if skip_border[n] and segment_on_frame_edge(p, q, ww, wh, 2.0):
                continue
            sides.append((p, q, centre))
            owners.append(n)
    out: list[dict[str, float] | None] = [None] * len(quads)
    if not sides:
        return out
    arr = np.array(sides, dtype=np.float64)  # (S, 3, 2): p, q, centre
    supports, contrasts = side_supports(arr[:, 0], arr[:, 1], arr[:, 2], grad, lab, ww, wh)
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
    area = abs(polygon_area(quad))
    if area < 16.0:
        return None
    angles = corner_angles(quad)
    if min(angles) < 35.0 or max(angles) > 145.0:
        return None
    sides = side_lengths(quad)
    long_pair = (sides[0] + sides[2]) / 2.0
    short_pair = (sides[1] + sides[3]) / 2.0
    aspect = max(long_pair, short_pair) / max(1e-6, min(long_pair, short_pair))
    aspect_score = max(math.exp(-(math.log(aspect / a) ** 2) / (2 * 0.12**2)) for a in FORMAT_ASPECTS.values())
    angle_score = math.exp(-((max(abs(a - 90.0) for a in angles) / 30.0) ** 2))
    return area, aspect, aspect_score, angle_score


def combine_score(parts: dict[str, float]) -> float:
    edge = 0.7 * parts["edge"] + 0.3 * parts["edge_min"]
    size = 0.85 + 0.15 * min(1.0, parts["area_fraction"] / 0.25)
    score = edge * (0.35 + 0.65 * parts["aspect"]) * (0.6 + 0.4 * parts["angles"]) * size
    return float(np.clip(score, 0.0, 1.0))


def side_support(
    p: np.ndarray, q: np.ndarray, centre: np.ndarray, grad: EdgeGradient, lab: np.ndarray, ww: int, wh: int
) -> tuple[float, float]:
    """Fraction of a side's samples on an edge parallel to it, and the median Lab contrast across it.

    An edge sample counts when the gradient across the side beats 3 and 1.5 times the
    strongest gradient 6-9 px outside the shape (``centre`` is inside it): an outline
    drawn through texture (noise, cloth, grass) does not stand out of it.
    """
    support, contrast = side_supports(p[None, :], q[None, :], centre[None, :], grad, lab, ww, wh)
    return float(support[0]), float(contrast[0])


#: Offsets (work pixels, along the inward normal) where a side's edge is looked for, and where the
#: texture it must stand out of is measured (outside the shape).
_EDGE_OFFSETS = (-2.0, -1.0, 0.0, 1.0, 2.0)
_TEXTURE_OFFSETS = (-9.0, -6.0)
_MAX_SIDE_SAMPLES = 120


def side_supports(
    p: np.ndarray, q: np.ndarray, centre: np.ndarray, grad: EdgeGradient, lab: np.ndarray, ww: int, wh: int
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`side_support` of ``S`` sides at once: ``p``, ``q``, ``centre`` are (S, 2) work pixels.

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


def segment_on_frame_edge(p: np.ndarray, q: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    """Whether the segment p-q lies along one edge of a ``ww`` x ``wh`` frame."""
    return bool(
        (p[0] <= margin and q[0] <= margin)
        or (p[1] <= margin and q[1] <= margin)
        or (p[0] >= ww - 1 - margin and q[0] >= ww - 1 - margin)
        or (p[1] >= wh - 1 - margin and q[1] >= wh - 1 - margin)
    )


def quad_touches_frame(quad: np.ndarray, ww: int, wh: int, margin: float) -> bool:
    return corners_outside(quad, ww, wh, margin)


def corners_outside(corners: np.ndarray, width: int, height: int, margin: float) -> bool:
    xs, ys = corners[:, 0], corners[:, 1]
    return bool(
        np.any(xs <= margin)
        or np.any(ys <= margin)
        or np.any(xs >= width - 1 - margin)
        or np.any(ys >= height - 1 - margin)
    )
