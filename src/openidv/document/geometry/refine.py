"""Refining a located outline: each side fitted to the strongest edge near it, corners at the lines' intersections."""

from __future__ import annotations

import cv2
import numpy as np


def refine_quad(image: np.ndarray, corners: np.ndarray, scale: float) -> np.ndarray:
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
        corner = intersect_lines(lines[(i - 1) % 4], lines[i])
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


def intersect_lines(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> np.ndarray | None:
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
