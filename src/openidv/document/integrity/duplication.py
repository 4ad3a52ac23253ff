"""Copy-move: a region duplicated elsewhere in the same image (clone stamp, copied field).

Images are RGB ``uint8`` ``(H, W, 3)``; boxes ``(x, y, width, height)`` and shifts
``(dx, dy)`` in pixels, origin top-left, x right, y down.
"""

from __future__ import annotations

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import inconclusive, valid_rgb
from openidv.document.types import check

#: Shifted pixels are "the same" when their 7x7-mean absolute difference is below
#: ``COPY_DIFF_BASE + COPY_DIFF_RELATIVE * local contrast`` (grey levels).
COPY_DIFF_BASE = 2.0
COPY_DIFF_RELATIVE = 0.06
#: Local contrast (standard deviation over 9x9 px, grey levels) a copied area must have: structure, not noise.
COPY_MIN_TEXTURE = 10.0
#: Smallest copied area reported, in pixels (after any downscale to 1600 px). Genuine generated
#: licence fronts whose camera JPEG had erased the sensor noise matched repeated header letters
#: over 917-1137 px (3 of 200 at 900); a printed value copied over another matched over
#: 2127-6964 px (18 cases). A single cloned glyph (about 26x40 px) is below it.
COPY_MIN_AREA = 1600
_COPY_MIN_SHIFT = 24
#: ORB keypoints self-matched; the brute-force matching costs grow with their square. 1500 found
#: the same 36 of 40 dates copied over another date as 2500 did (generated photos, camera JPEG
#: 40-95), flagged none of the 40 genuine ones, and took 66 instead of 93 ms on one core.
COPY_FEATURES = 1500


def copy_move(rgb: np.ndarray) -> CheckResult:
    """Find a region duplicated elsewhere in the same image (clone stamp, copied field).

    Physics: a copy-moved region carries the *same* pixels, sensor noise included, at
    a constant offset; only the final JPEG (on a different 8x8 phase) perturbs them by
    a grey level or two. Genuinely repeated content (the same glyphs in three dates,
    a periodic guilloche, the ghost portrait, which is a scaled copy) is printed and
    photographed twice, so it differs by independent sensor noise, sub-pixel
    resampling and perspective.

    Method: ORB keypoints at one scale, self-matched (Hamming distance <= 40, at least
    24 px apart); offsets are binned (4 px) and the three largest bins with 5 or more
    pairs are candidate shifts. Each is refined to the integer shift (+-2 px) that makes
    15x15 patches around its keypoints most alike, then verified densely: pixels where the
    7x7-mean absolute difference is below ``COPY_DIFF_BASE + COPY_DIFF_RELATIVE x contrast``
    and the local contrast (9x9 standard deviation) is at least :data:`COPY_MIN_TEXTURE`;
    the largest connected area of such pixels must
    reach :data:`COPY_MIN_AREA` after removing what still matches 3 px further in any
    direction (straight edges, gradients and fine periodic patterns) and strips thinner
    than 9 px. ``fail`` / ``copy_move`` reports source and destination
    boxes (in the given image's pixels); ``pass`` / ``no_duplicate``; ``inconclusive``
    for images under 64 px or without texture (``no_texture``).
    """
    name = "copy_move"
    arr = valid_rgb(rgb)
    if arr is None:
        return inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    scale = min(1.0, 1600.0 / max(arr.shape[:2]))
    gray = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    candidates = _candidate_shifts(gray)
    if candidates is None:
        return inconclusive(name, "no_texture", "too few keypoints to compare regions")
    y = gray.astype(np.float32)
    mean = cv2.blur(y, (9, 9))
    texture = np.sqrt(np.maximum(cv2.blur(y * y, (9, 9)) - mean * mean, 0.0))
    best = _best_shift(y, texture, candidates)
    if best is None or best[0] < COPY_MIN_AREA:
        area = 0 if best is None else best[0]
        return check(
            name,
            Status.PASS,
            "no_duplicate",
            1.0 if area < COPY_MIN_AREA / 2 else 0.7,
            "no duplicated textured region found",
            largest_area_px=int(area / scale / scale),
            candidates=len(candidates),
        )
    _, (dx, dy), mask = best
    n_cc, labels, stats, _ = cv2.connectedComponentsWithStats(_unique_match(y, texture, mask, dx, dy), connectivity=8)
    area = int(stats[1:, cv2.CC_STAT_AREA].max()) if n_cc > 1 else 0
    if area < COPY_MIN_AREA:
        return check(
            name,
            Status.PASS,
            "no_duplicate",
            0.7,
            "only edge-like or periodic self-similarity found",
            largest_area_px=int(area / scale / scale),
            candidates=len(candidates),
        )
    return _copy_found(labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), area, (dx, dy), scale)


#: One candidate shift: the matched keypoint pairs in one 4-px offset bin, as (dx, dy, source x, source y) px.
CandidatePairs = list[tuple[float, float, float, float]]


def _candidate_shifts(gray: np.ndarray) -> list[CandidatePairs] | None:
    """The three largest bins of keypoint offsets with 5 or more pairs; ``None`` without texture.

    ORB keypoints at one scale on ``gray`` (uint8), self-matched (Hamming distance <= 40, at
    least :data:`_COPY_MIN_SHIFT` px apart); offsets point right (or down) and are binned by 4 px.
    """
    orb = cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=COPY_FEATURES, scaleFactor=1.2, nlevels=1, edgeThreshold=15, patchSize=15, fastThreshold=8
    )
    keypoints, desc = orb.detectAndCompute(gray, None)
    if desc is None or len(keypoints) < 20:
        return None
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, desc, k=4)
    pts = np.array([kp.pt for kp in keypoints], np.float32)
    bins: dict[tuple[int, int], CandidatePairs] = {}
    pairs_all = np.array(
        [(m.queryIdx, m.trainIdx, m.distance) for group in matches for m in group[1:]], np.float64
    ).reshape(-1, 3)
    query, train = pairs_all[:, 0].astype(np.int64), pairs_all[:, 1].astype(np.int64)
    keep = (pairs_all[:, 2] <= 40) & (query < train)
    query, train = query[keep], train[keep]
    first, second = pts[query], pts[train]
    delta = (second - first).astype(np.float64)  # float32 differences, as the keypoints are stored
    forward = (delta[:, 0] > 0) | ((delta[:, 0] == 0) & (delta[:, 1] > 0))  # offsets point right (or down)
    origin = np.where(forward[:, None], first, second).astype(np.float64)
    offset = np.where(forward[:, None], delta, -delta)
    far = (offset * offset).sum(axis=1) >= _COPY_MIN_SHIFT**2
    keys = np.round(offset / 4).astype(np.int64)
    for i in np.flatnonzero(far).tolist():
        bins.setdefault((int(keys[i, 0]), int(keys[i, 1])), []).append(
            (float(offset[i, 0]), float(offset[i, 1]), float(origin[i, 0]), float(origin[i, 1]))
        )
    return [c for c in sorted(bins.values(), key=len, reverse=True)[:3] if len(c) >= 5]


def _best_shift(
    y: np.ndarray, texture: np.ndarray, candidates: list[CandidatePairs]
) -> tuple[int, tuple[int, int], np.ndarray] | None:
    """The candidate whose refined shift (dx, dy) px matches the largest area: (area px, shift, source mask)."""
    best: tuple[int, tuple[int, int], np.ndarray] | None = None
    for offsets in candidates:
        pairs = np.array(offsets)
        median = np.median(pairs[:, :2], axis=0)
        shift = _refine_shift(y, pairs[:, 2:], (int(np.rint(median[0])), int(np.rint(median[1]))))
        area, mask = _verify_shift(y, texture, *shift, at_least=0 if best is None else best[0])
        if best is None or area > best[0]:
            best = (area, shift, mask)
    return best


def _unique_match(y: np.ndarray, texture: np.ndarray, mask: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """The part of ``mask`` (bool, source pixels) that matches at (dx, dy) only, as uint8, strips under 9 px removed.

    Aperture test: a true copy matches at one shift only; a straight edge or a smooth gradient
    along the shift direction still matches 3 px further on. Keep only what is lost when moved.
    Periodic print (an MRZ's run of '<' fillers, a guilloche row) repeats at its own period p too: a
    region whose content recurs every p px along the shift also matches p px short of it or past it.
    ``mask`` is updated in place.
    """
    period = _period_along(y, mask, dx, dy)
    steps = [(3, 0), (-3, 0), (0, 3), (0, -3)]
    if period is not None:
        steps += [(period[0], period[1]), (-period[0], -period[1])]
    for ex, ey in steps:
        _, moved = _verify_shift(y, texture, dx + ex, dy + ey)
        mask &= ~cv2.dilate(moved.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # Strips thinner than 9 px (an edge matched along itself) are not copied areas.
    return np.asarray(cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((9, 9), np.uint8)))


def _copy_found(mask: np.ndarray, area: int, shift: tuple[int, int], scale: float) -> CheckResult:
    """``fail`` / ``copy_move`` for the copied ``mask`` (its ``area`` px) at ``shift`` px, both on the
    image downscaled by ``scale``; boxes and offsets reported in the given image's pixels."""
    dx, dy = shift
    ys, xs = np.nonzero(mask)
    inv = 1.0 / scale
    src = (
        int(xs.min() * inv),
        int(ys.min() * inv),
        int((xs.max() - xs.min() + 1) * inv),
        int((ys.max() - ys.min() + 1) * inv),
    )
    dst = (int(src[0] + dx * inv), int(src[1] + dy * inv), src[2], src[3])
    return check(
        "copy_move",
        Status.FAIL,
        "copy_move",
        float(np.clip(0.4 * COPY_MIN_AREA / area, 0.0, 0.4)),
        f"a {src[2]}x{src[3]} px region is duplicated at offset ({int(dx * inv)}, {int(dy * inv)})",
        source_box=list(src),
        copy_box=list(dst),
        area_px=int(area * inv * inv),
    )


#: Normalised autocorrelation above which a matched region counts as periodic along the shift.
COPY_PERIODIC_CORRELATION = 0.8


def _period_along(y: np.ndarray, mask: np.ndarray, dx: int, dy: int) -> tuple[int, int] | None:
    """The repeat (px, along the shift's main axis) of the matched source region, if it is periodic.

    ``mask``: the region's pixels in ``y``; the shift (``dx``, ``dy``) is mostly horizontal or
    mostly vertical. Lags of 4 px up to half the shift (at most 64) are tried on the region's
    bounding box; the one with the highest normalised autocorrelation, if above
    :data:`COPY_PERIODIC_CORRELATION`, is the period, returned as an (x, y) step.
    """
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    patch = y[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float64)
    horizontal = abs(dx) >= abs(dy)
    if not horizontal:
        patch = patch.T
    longest = min(64, max(abs(dx), abs(dy)) // 2, patch.shape[1] // 2)
    best_lag, best = 0, COPY_PERIODIC_CORRELATION
    for lag in range(4, longest + 1):
        a, b = patch[:, :-lag] - patch[:, :-lag].mean(), patch[:, lag:] - patch[:, lag:].mean()
        denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
        correlation = float((a * b).sum()) / denominator if denominator > 0 else 0.0
        if correlation > best + 1e-6:
            best_lag, best = lag, correlation
    if best_lag == 0:
        return None
    return (best_lag, 0) if horizontal else (0, best_lag)


def _refine_shift(y: np.ndarray, pts: np.ndarray, guess: tuple[int, int]) -> tuple[int, int]:
    """The integer shift within +-2 px of ``guess`` with the smallest mean absolute difference around ``pts``.

    ``pts`` (n, 2) are the source points (x, y) of the matched pairs.
    """
    h, w = y.shape
    gx, gy = guess
    inside = (
        (pts[:, 0] >= 10 + max(0, -gx) + 2)
        & (pts[:, 0] < w - 10 - max(0, gx) - 2)
        & (pts[:, 1] >= 10 + max(0, -gy) + 2)
        & (pts[:, 1] < h - 10 - max(0, gy) - 2)
    )
    chosen = pts[inside][:40].astype(int)
    if chosen.size == 0:
        return guess
    # 15x15 patches around the points (n, 15, 15), and the same patches shifted, gathered at once.
    grid = np.arange(-7, 8)
    rows = chosen[:, 1][:, None, None] + grid[None, :, None]
    cols = chosen[:, 0][:, None, None] + grid[None, None, :]
    patches = y[rows, cols]
    best, best_cost = guess, np.inf
    for dx in range(gx - 2, gx + 3):
        for dy in range(gy - 2, gy + 3):
            cost = float(np.abs(patches - y[rows + dy, cols + dx]).mean(axis=(1, 2)).astype(np.float64).sum())
            if cost < best_cost:
                best, best_cost = (dx, dy), cost
    return best


def _verify_shift(y: np.ndarray, texture: np.ndarray, dx: int, dy: int, *, at_least: int = 0) -> tuple[int, np.ndarray]:
    """Largest connected area where ``y`` and ``y`` shifted by (dx, dy) agree on textured pixels; its source mask.

    When no more than ``at_least`` pixels agree in all, the largest area cannot exceed
    ``at_least`` either: (0, empty mask) is returned without labelling the components.
    """
    h, w = y.shape
    x0, x1 = max(0, -dx), min(w, w - dx)
    y0, y1 = max(0, -dy), min(h, h - dy)
    mask = np.zeros((h, w), bool)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0, mask
    a = y[y0:y1, x0:x1]
    b = y[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
    diff = cv2.blur(cv2.absdiff(a, b), (7, 7))
    tex = cv2.min(texture[y0:y1, x0:x1], texture[y0 + dy : y1 + dy, x0 + dx : x1 + dx])
    limit = tex * np.float32(COPY_DIFF_RELATIVE)
    limit += np.float32(COPY_DIFF_BASE)
    agree = ((diff < limit) & (tex >= COPY_MIN_TEXTURE)).view(np.uint8)
    same = cv2.morphologyEx(agree, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    # Label only the bounding box of the agreeing pixels (the components are the same, found faster).
    bx, by, bw, bh = cv2.boundingRect(same)
    if bw == 0 or bh == 0 or int(cv2.countNonZero(same)) <= at_least:
        return 0, mask  # nothing, or too little to beat ``at_least``
    n, labels, stats, _ = cv2.connectedComponentsWithStats(same[by : by + bh, bx : bx + bw], connectivity=8)
    if n <= 1:
        return 0, mask
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask[y0 + by : y0 + by + bh, x0 + bx : x0 + bx + bw] = labels == k
    return int(stats[k, cv2.CC_STAT_AREA]), mask
