"""3-D parallax across a head turn: a print or a screen moves like a plane, a head does not."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import check_result, interocular, sigmoid, usable_indices
from openidv.liveness.types import FrameAnalysis

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
EYE_CORNERS = (33, 133, 362, 263)
#: Nose tip, columella, bridge and wings: the points that stand out of the face plane.
NOSE = (1, 2, 4, 5, 19, 94, 195, 197, 98, 327)
#: Head-turn range (degrees of yaw) needed before planarity can be judged.
PLANARITY_MIN_YAW_RANGE = 15.0
#: Mesh fallback of :func:`planarity` (no pixels): nose residual after the best face-outline
#: homography, / inter-ocular distance: below = flat. Landmarks that truly moved by a homography
#: leave only their noise (0.005 with 0.4 px noise), live renders gave 0.04-1.2 (median 0.35);
#: but the mesh's own landmarks on a flat photo turned +-55 degrees gave 0.07-0.28 (its face
#: model adds a nose), which is why the tracked texture decides when the pixels are there.
PLANARITY_THRESHOLD = 0.05
#: frames on generated sequences: flat photos turned by hand 0.012-0.015, live heads 0.10-0.58.
PARALLAX_THRESHOLD = 0.05
#: Tracked points needed at the turned frame for the image parallax.
PARALLAX_MIN_POINTS = 25
#: A turn segment: frames at least this far (degrees of yaw) from the median pose, tracked from the
#: last frame within PLANARITY_FRONTAL_DEG of it.
PLANARITY_TURN_DEG = 12.0
PLANARITY_FRONTAL_DEG = 6.0


def _turn_segments(yaws: np.ndarray) -> list[tuple[int, int]]:
    """(start, peak) positions in ``yaws``: the last near-frontal frame before each run of turned
    frames, and the most turned frame of that run."""
    d = np.abs(yaws - np.median(yaws))
    out: list[tuple[int, int]] = []
    k, n = 0, len(yaws)
    while k < n:
        if d[k] < PLANARITY_TURN_DEG:
            k += 1
            continue
        end = k
        while end + 1 < n and d[end + 1] >= PLANARITY_TURN_DEG:
            end += 1
        start = k - 1
        while start >= 0 and d[start] >= PLANARITY_FRONTAL_DEG:
            start -= 1
        if start >= 0:
            out.append((start, k + int(np.argmax(d[k : end + 1]))))
        k = end + 1
    return out


def _track_corners(
    frames: Sequence[np.ndarray], path: Sequence[int], box: tuple[float, float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """Corner points (Shi-Tomasi) inside ``box`` (x, y, w, h px) of ``frames[path[0]]`` followed by
    pyramidal Lucas-Kanade through ``frames[path[1:]]``; only tracks that pass a forward-backward
    check (1 px) at every step survive. Returns their (n, 2) positions in the first and last frame."""
    first = cv2.cvtColor(np.ascontiguousarray(frames[path[0]]), cv2.COLOR_RGB2GRAY)
    x, y, w, h = box
    mask = np.zeros_like(first)
    mask[max(0, int(y)) : max(0, int(y + h)), max(0, int(x)) : max(0, int(x + w))] = 255
    found = cv2.goodFeaturesToTrack(first, 200, 0.01, max(3.0, w / 40.0), mask=mask)
    if found is None:
        return np.zeros((0, 2), np.float32), np.zeros((0, 2), np.float32)
    start = found.reshape(-1, 2).astype(np.float32)
    cur, alive, prev = start.copy(), np.ones(len(start), bool), first
    for j in path[1:]:
        gray = cv2.cvtColor(np.ascontiguousarray(frames[j]), cv2.COLOR_RGB2GRAY)
        pts = cur.reshape(-1, 1, 2)
        nxt, st, _ = cv2.calcOpticalFlowPyrLK(prev, gray, pts, pts.copy(), winSize=(21, 21), maxLevel=3)
        back, st_back, _ = cv2.calcOpticalFlowPyrLK(gray, prev, nxt, pts.copy(), winSize=(21, 21), maxLevel=3)
        error = np.linalg.norm(back.reshape(-1, 2) - cur, axis=1)
        alive &= (st.ravel() == 1) & (st_back.ravel() == 1) & (error < 1.0)
        cur, prev = np.asarray(nxt, np.float32).reshape(-1, 2), gray
    return start[alive], cur[alive]


def _image_parallax(
    frames: Sequence[np.ndarray], analyses: Sequence[FrameAnalysis], idx: list[int], yaws: np.ndarray
) -> list[float]:
    """Per head-turn segment: how far the face's tracked texture is from moving by one homography
    (80th percentile of point residuals / inter-ocular distance)."""
    out = []
    for s, p in _turn_segments(yaws):
        path = idx[s : p + 1]
        first, last = analyses[path[0]], analyses[path[-1]]
        if first.box is None or last.landmarks is None:
            continue
        src, dst = _track_corners(frames, path, first.box)
        iod = interocular(np.asarray(last.landmarks))
        if len(src) < PARALLAX_MIN_POINTS or iod < 5:
            continue
        h, _ = cv2.findHomography(src, dst, cv2.RANSAC, 0.02 * iod)
        if h is None:
            continue
        proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
        out.append(float(np.percentile(np.linalg.norm(proj - dst, axis=1), 80)) / iod)
    return out


def _mesh_parallax(analyses: Sequence[FrameAnalysis], idx: list[int], yaws: np.ndarray) -> list[float]:
    """Per frame turned >= 12 degrees from the median pose: the nose landmarks' distance from where
    the best face-outline homography puts them (median, / inter-ocular distance)."""
    ref = idx[int(np.argmin(np.abs(yaws - np.median(yaws))))]
    ref_lm = np.asarray(analyses[ref].landmarks, dtype=np.float64)
    outer = list(FACE_OVAL) + list(EYE_CORNERS)
    src = ref_lm[outer, :2].astype(np.float32)
    src_nose = ref_lm[list(NOSE), :2]
    residuals: list[float] = []
    for i, yaw in zip(idx, yaws, strict=True):
        if abs(yaw - analyses[ref].yaw) < PLANARITY_TURN_DEG:
            continue
        lm = np.asarray(analyses[i].landmarks, dtype=np.float64)
        iod = interocular(lm)
        if iod < 5:
            continue
        dst = lm[outer, :2].astype(np.float32)
        h, mask = cv2.findHomography(src, dst, cv2.RANSAC, 0.04 * iod)
        if h is None:
            continue
        inl = mask.ravel().astype(bool)
        if inl.sum() >= 8:
            h2, _ = cv2.findHomography(src[inl], dst[inl], 0)
            if h2 is not None:
                h = h2
        proj = cv2.perspectiveTransform(src_nose.reshape(-1, 1, 2).astype(np.float64), h).reshape(-1, 2)
        err = np.linalg.norm(proj - lm[list(NOSE), :2], axis=1) / iod
        residuals.append(float(np.median(err)))
    return residuals


def planarity(analyses: Sequence[FrameAnalysis], frames: Sequence[np.ndarray] | None = None) -> CheckResult:
    """3-D parallax across a head turn.

    Physics: every point of a flat object (a print, a screen) moves between two views by
    one plane homography. A real head is not flat: the nose stands 2-3 cm in front of the
    cheeks, the ears 8-10 cm behind them, so when the head turns its surface points move
    by amounts that no single homography explains.

    With the pixels of every frame (``frames``, aligned with ``analyses``): corner points
    of the face's own texture (Shi-Tomasi, inside the mesh's face box) in the last
    near-frontal frame before each head turn are tracked (Lucas-Kanade, forward-backward
    checked) to the most turned frame; a homography is fitted (RANSAC) and the statistic
    is the 80th percentile of the points' distances from it, in inter-ocular distances,
    median over the turns (``method`` "image"). Below :data:`PARALLAX_THRESHOLD`:
    ``planar_motion`` (fail). The face mesh is not used for the measurement itself: its
    model of a face puts a nose in front of every face it sees, so a flat photo turned by
    hand (+-55 degrees) gave mesh nose residuals of 0.07-0.28, as high as live heads,
    while its tracked texture fitted one homography to 0.012-0.015.

    Without the pixels (or when no turn could be tracked) the mesh's statistic decides
    (``method`` "mesh", weaker for that reason): the nose landmarks' distance from the
    best face-outline homography, median over the frames turned >= 12 degrees, threshold
    :data:`PLANARITY_THRESHOLD`. Needs a yaw range of at least
    :data:`PLANARITY_MIN_YAW_RANGE` degrees (``no_head_turn``: inconclusive otherwise).
    """
    name = "planarity"
    idx = usable_indices(analyses)
    if len(idx) < 3:
        return check_result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    yaws = np.array([analyses[i].yaw for i in idx])
    yaw_range = float(yaws.max() - yaws.min())
    if yaw_range < PLANARITY_MIN_YAW_RANGE:
        return check_result(
            name, Status.INCONCLUSIVE, "no_head_turn", None, f"yaw range {yaw_range:.1f} deg", yaw_range=yaw_range
        )
    image = _image_parallax(frames, analyses, idx, yaws) if frames is not None and len(frames) == len(analyses) else []
    mesh = _mesh_parallax(analyses, idx, yaws)
    data: dict[str, object] = {"yaw_range": yaw_range, "n_turned": len(mesh)}
    if mesh:
        data["nose_residual_iod"] = float(np.median(mesh))
    if image:
        stat, threshold = float(np.median(image)), PARALLAX_THRESHOLD
        data.update(method="image", texture_residual_iod=stat, n_turns_tracked=len(image))
    elif len(mesh) >= 2:
        stat, threshold = float(np.median(mesh)), PLANARITY_THRESHOLD
        data["method"] = "mesh"
    else:
        detail = "fewer than 2 turned frames"
        return check_result(name, Status.INCONCLUSIVE, "no_head_turn", None, detail, yaw_range=yaw_range)
    score = sigmoid((stat - threshold) / (0.2 * threshold))
    if stat < threshold:
        return check_result(name, Status.FAIL, "planar_motion", score, "the face moved like a flat surface", **data)
    return check_result(
        name, Status.PASS, "parallax", score, "the face's surface moved in depth, unlike a plane", **data
    )
