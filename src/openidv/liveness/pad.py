"""Presentation-attack and injection checks over a whole liveness sequence.

Every check is a pure function of the session's frames (RGB ``uint8`` (H, W, 3), in
order), their :class:`~openidv.liveness.types.FrameAnalysis` (landmarks in frame pixels,
origin top-left) and the issued :class:`~openidv.liveness.types.ChallengeStep` list. Each
returns one :class:`~openidv.checks.CheckResult` with a score in [0, 1] (higher = more
likely a live person presenting now), a snake_case reason code and its measurements in
``data``; a sequence that does not allow a decision gives ``inconclusive``.

:func:`sequence_checks` runs them all; it is what the session's ``finish()`` calls.
rPPG never fails and never decides (``advisory`` in :mod:`openidv.decision.severity`).
Thresholds were calibrated on the project's generated sequences (see
``openidv.eval.liveness``), not on real attack data, which does not exist here.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.types import Challenge, ChallengeStep, FrameAnalysis, LightRecord

FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
EYE_CORNERS = (33, 133, 362, 263)
#: Nose tip, columella, bridge and wings: the points that stand out of the face plane.
NOSE = (1, 2, 4, 5, 19, 94, 195, 197, 98, 327)
FOREHEAD = (10, 109, 67, 103, 338, 297, 332, 151, 108, 69, 337, 299)
LEFT_CHEEK = (50, 101, 36, 205, 187, 123, 117, 118)
RIGHT_CHEEK = (280, 330, 266, 425, 411, 352, 346, 347)

# ----------------------------------------------------------------------------- thresholds
#: Head-turn range (degrees of yaw) needed before planarity can be judged.
PLANARITY_MIN_YAW_RANGE = 15.0
#: Mesh fallback of :func:`planarity` (no pixels): nose residual after the best face-outline
#: homography, / inter-ocular distance: below = flat. Landmarks that truly moved by a homography
#: leave only their noise (0.005 with 0.4 px noise), live renders gave 0.04-1.2 (median 0.35);
#: but the mesh's own landmarks on a flat photo turned +-55 degrees gave 0.07-0.28 (its face
#: model adds a nose), which is why the tracked texture decides when the pixels are there.
PLANARITY_THRESHOLD = 0.05
#: Relative EAR dip for a blink (EAR < (1 - BLINK_DIP) x open EAR) and recovery level.
BLINK_DIP = 0.35
BLINK_RECOVER = 0.85
#: Relative mouth-width increase that counts as a smile.
SMILE_GAIN = 0.08
#: Frames within this many degrees (yaw and pitch) of the neutral pose give the open-eye
#: and resting-mouth references of the blink/smile check.
FRONTAL_DEG = 10.0
#: The first frames with a face, whose median pose is the session's neutral (frontal) pose.
NEUTRAL_FRAMES = 5
#: Spectral peak ratio (peak / local median of the high-pass spectrum) above which a frame shows moire.
MOIRE_PEAK = 6.0
#: Screen moire: median over the sampled frames of :func:`lattice_peak` above this. A noise-like
#: spectrum's median-of-12 statistic stays at 3.5-4.1 (calibration seeds 1000-1029: live at most 4.1;
#: eval seeds 1 and 2, 40 live sessions each: at most 3.92 and 3.97; real live video and stills: 3.0-3.4),
#: screens with visible moire 5-19. 4.6 (was 6.0) keeps 0.5 above the live maximum and catches the
#: weak aliasing of pitches just past the sensor's sampling rate (e.g. 5.1 at 0.95 cycles/sensor px).
LATTICE_PEAK = 4.6
#: Face regions for the moire and halftone cues, each a mesh landmark pair whose midpoint centres a
#: square window :data:`LATTICE_REGION_SIDE` x the face box's width: the brow (glabella to lower
#: forehead), the part of a face that masks, scarves and beards never cover and glasses only at their
#: bridge. A display's lattice covers the whole shown face, while a fabric mask's fine weave aliases
#: into the same narrow peak as a display over the lower face only (simulated weaves of 2.6-4.5 px on
#: the 3 real live videos: whole-face crop 5-22, brow 3.1-3.7). Requiring the lower face as well lost
#: generated screen replays whose lower face was dark (brow 7.95, lower face 3.76).
LATTICE_REGIONS: tuple[tuple[int, int], ...] = ((168, 9),)
LATTICE_REGION_SIDE = 0.35
#: Screen moire on the regions: median over the sampled frames of the lowest region peak above this.
#: The same figure as the whole crop's (:data:`LATTICE_PEAK`): on a large face both windows are
#: 128 px and the noise statistic is the same (brow of real live videos 3.1-3.8 with or without
#: simulated masks and glasses; generated live sessions at most 3.7; generated screen replays with a
#: lattice 4.3-12.9, the weakest of which the whole crop had caught at 4.9).
LATTICE_REGION_PEAK = LATTICE_PEAK
#: Flicker bands: median over consecutive frame pairs of :func:`row_banding` above this
#: (calibration seeds 1000-1029, sampled frames only: live at most 14.1 (an overestimate: that harness
#: paired some frames with blanks), PWM-dimmed screens 27-47; held-out seed 2 sessions: live at most 3.6).
BANDING_RATIO = 22.0
#: Frames sampled for the image cues.
CUE_FRAMES = 12
#: Fraction of sampled frames that must show a cue before the sequence is flagged.
CUE_FRACTION = 0.3
#: Plausible client frame rates and timing.
MIN_FPS, MAX_FPS = 5.0, 60.0
MAX_GAP_S = 1.0
#: Exact-duplicate frames: fail above this fraction, or on a run of this many identical frames.
MAX_DUPLICATE_FRACTION = 0.15
MAX_DUPLICATE_RUN = 3
#: Frozen frames: mean absolute grey difference of the face crop below this, for this many pairs in a row.
FROZEN_DIFF = 0.35
FROZEN_RUN = 6


def _result(name: str, status: Status, reason: str, score: float | None, detail: str, **data: object) -> CheckResult:
    clean = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}
    return CheckResult(name, status, reason, None if score is None else float(np.clip(score, 0, 1)), detail, clean)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


def _usable(analyses: Sequence[FrameAnalysis]) -> list[int]:
    return [i for i, a in enumerate(analyses) if a.face_found and a.landmarks is not None and len(a.landmarks) >= 468]


def _iod(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[33, :2] - lm[263, :2]))


# ----------------------------------------------------------------------------- planarity


#: Image parallax: 80th percentile of the tracked face points' distances from the best homography,
#: / inter-ocular distance, below which the face moved like a plane. Measured with the mesh's
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
        iod = _iod(np.asarray(last.landmarks))
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
        iod = _iod(lm)
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
    idx = _usable(analyses)
    if len(idx) < 3:
        return _result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    yaws = np.array([analyses[i].yaw for i in idx])
    yaw_range = float(yaws.max() - yaws.min())
    if yaw_range < PLANARITY_MIN_YAW_RANGE:
        return _result(
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
        return _result(name, Status.INCONCLUSIVE, "no_head_turn", None, detail, yaw_range=yaw_range)
    score = _sigmoid((stat - threshold) / (0.2 * threshold))
    if stat < threshold:
        return _result(name, Status.FAIL, "planar_motion", score, "the face moved like a flat surface", **data)
    return _result(name, Status.PASS, "parallax", score, "the face's surface moved in depth, unlike a plane", **data)


def _step_windows(steps: Sequence[ChallengeStep], t0: float) -> list[tuple[ChallengeStep, float, float]]:
    """(step, start, end) per step: a step starts when the previous one was met (or at ``t0``)."""
    out = []
    start = t0
    for step in steps:
        end = step.met_at if step.met_at is not None else start + step.window_s
        out.append((step, start, end))
        start = step.met_at if step.met_at is not None else start + step.window_s
    return out


def blink_smile_performed(analyses: Sequence[FrameAnalysis], steps: Sequence[ChallengeStep]) -> CheckResult:
    """Blink and smile performed when requested.

    Physics: a printed photo or a still image cannot close its eyes or widen its mouth.
    A blink is an eye-aspect-ratio (EAR) dip below ``(1 - BLINK_DIP)`` of the open-eye EAR
    (the 75th percentile over the near-frontal frames, within :data:`FRONTAL_DEG` of the
    neutral pose of the first :data:`NEUTRAL_FRAMES` frames: turned frames read a higher EAR)
    within the step's time window, followed by a recovery above ``BLINK_RECOVER`` of it
    within 1.5 s; a smile is a mouth width / inter-ocular distance ratio at least
    ``SMILE_GAIN`` above the 25th percentile of the near-frontal frames within the window.
    ``not_requested`` (inconclusive) when neither was issued.
    """
    name = "blink_smile"
    wanted = [s for s in steps if s.challenge in (Challenge.BLINK, Challenge.SMILE)]
    if not wanted:
        return _result(name, Status.INCONCLUSIVE, "not_requested", None, "no blink or smile was requested")
    idx = _usable(analyses)
    if len(idx) < 5:
        return _result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    ts = np.array([analyses[i].timestamp for i in idx])
    ear = np.array([analyses[i].ear for i in idx])
    smile = np.array([analyses[i].smile for i in idx])
    # references from near-frontal frames only: a turned head foreshortens the eye's width, which
    # raises its EAR by 15-30 %, and a 75th percentile over a session with long turns would then
    # stand for a turned open eye, above what the frontal eye ever reaches when it reopens
    yaw = np.array([analyses[i].yaw for i in idx])
    pitch = np.array([analyses[i].pitch for i in idx])
    # the neutral pose: the session's first frames (the protocol takes its frontal baseline there)
    yaw0, pitch0 = float(np.median(yaw[:NEUTRAL_FRAMES])), float(np.median(pitch[:NEUTRAL_FRAMES]))
    frontal = (np.abs(yaw - yaw0) <= FRONTAL_DEG) & (np.abs(pitch - pitch0) <= FRONTAL_DEG)
    ref = frontal if frontal.sum() >= 3 else np.ones(len(idx), bool)
    ear_open = float(np.percentile(ear[ref], 75))
    smile_rest = float(np.percentile(smile[ref], 25))
    results: dict[str, bool] = {}
    for step, start, end in _step_windows(steps, float(ts[0])):
        if step.challenge not in (Challenge.BLINK, Challenge.SMILE):
            continue
        inside = (ts >= start - 1e-6) & (ts <= end + 0.25)
        key = f"{step.challenge.value}_{len(results)}"
        if step.challenge is Challenge.BLINK:
            ok = False
            for j in np.flatnonzero(inside & (ear < (1 - BLINK_DIP) * ear_open)):
                after = (ts > ts[j]) & (ts <= ts[j] + 1.5)
                if np.any(ear[after] > BLINK_RECOVER * ear_open):
                    ok = True
                    break
        else:
            ok = bool(np.any(smile[inside] > smile_rest * (1 + SMILE_GAIN)))
        results[key] = ok
    done = sum(results.values())
    score = done / len(results)
    data = {"performed": results, "ear_open": ear_open, "smile_rest": smile_rest}
    if done < len(results):
        missing = [k.rsplit("_", 1)[0] for k, v in results.items() if not v]
        return _result(name, Status.FAIL, f"{missing[0]}_not_performed", score, "requested action not seen", **data)
    return _result(name, Status.PASS, "performed", score, "requested blink/smile seen in its window", **data)


# ----------------------------------------------------------------------------- image cues


def _sample(idx: list[int], k: int = 8) -> list[int]:
    if len(idx) <= k:
        return idx
    return [idx[round(j)] for j in np.linspace(0, len(idx) - 1, k)]


def _face_crop(frame: np.ndarray, a: FrameAnalysis, frac: float = 0.6) -> np.ndarray | None:
    if a.box is None:
        return None
    x, y, w, h = a.box
    cx, cy = x + w / 2, y + h / 2
    s = frac * min(w, h)
    x0, y0 = int(max(cx - s / 2, 0)), int(max(cy - s / 2, 0))
    x1, y1 = int(min(cx + s / 2, frame.shape[1])), int(min(cy + s / 2, frame.shape[0]))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return None
    return frame[y0:y1, x0:x1]


def spectral_peak(crop: np.ndarray) -> float:
    """Strongest isolated peak of the high-pass spectrum of ``crop`` (RGB), as a ratio to
    its local median, over luma and red-minus-blue chroma; JPEG's 8-pixel block
    frequencies and the axes are excluded.

    Physics: skin photographed directly has a smooth, decaying spectrum; a screen's pixel
    grid or a print's halftone screen, resampled by the camera's sensor grid, aliases into
    moire: strong narrow peaks at frequencies unrelated to the 8 px JPEG grid, and
    coloured (the sub-pixels are red, green, blue), so they also show in chroma.
    """
    f = crop.astype(np.float32)
    n = min(f.shape[0], f.shape[1], 192)
    f = f[:n, :n]
    luma = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    chroma = f[..., 0] - f[..., 2]
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    band = _jpeg_free_band(n)
    best = 0.0
    for chan in (luma, chroma):
        hp = chan - cv2.GaussianBlur(chan, (0, 0), 3.0)
        mag = np.abs(np.fft.fftshift(np.fft.fft2(hp * win))).astype(np.float32)
        local = cv2.medianBlur(mag, 5) + 1e-3 * float(mag.mean() + 1e-6)
        ratio = mag / local
        if band.any():
            best = max(best, float(ratio[band].max()))
    return best


def _jpeg_free_band(n: int) -> np.ndarray:
    """Boolean (n, n) mask of the fftshifted spectrum: radius 0.06-0.49 cycles/px, away from the
    axes and from the 8-pixel JPEG block frequencies k/8 (+-1.5 bins)."""
    freqs = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(freqs, freqs, indexing="ij")
    radius = np.hypot(fx, fy)
    band = (radius > 0.06) & (radius < 0.49)
    bin_w = 1.5 / n
    for k in range(-4, 5):
        band &= np.abs(fx - k / 8) > bin_w
        band &= np.abs(fy - k / 8) > bin_w
    return np.asarray(band)


def _square(frame: np.ndarray, centre: np.ndarray, side: float) -> np.ndarray | None:
    """The ``side`` x ``side`` px window of ``frame`` centred at ``centre`` (x, y px), clipped to the
    frame; None when less than 32 px remain either way."""
    cx, cy = float(centre[0]), float(centre[1])
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    x1, y1 = int(min(cx + side / 2, frame.shape[1])), int(min(cy + side / 2, frame.shape[0]))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return None
    return frame[y0:y1, x0:x1]


def region_windows(frame: np.ndarray, a: FrameAnalysis) -> list[np.ndarray] | None:
    """The :data:`LATTICE_REGIONS` windows of one frame's face; None when the face has no landmarks
    or is too small for them (a window under 32 px)."""
    if a.landmarks is None or a.box is None:
        return None
    side = LATTICE_REGION_SIDE * a.box[2]
    windows = []
    for i, j in LATTICE_REGIONS:
        window = _square(frame, (a.landmarks[i, :2] + a.landmarks[j, :2]) / 2.0, side)
        if window is None:
            return None
        windows.append(window)
    return windows


def _all_regions_value(values: list[float], whole: list[float], region_limit: float, whole_limit: float) -> float:
    """A periodic-texture statistic in units of its threshold: the median over frames of the lowest
    region peak over ``region_limit`` when most frames have region windows, else the median of the
    whole-crop peaks over ``whole_limit`` (faces too small for the regions). Above 1: the cue is shown."""
    finite = [v for v in values if np.isfinite(v)]
    if finite and 2 * len(finite) >= len(values):
        return _median(finite) / region_limit
    return _median(whole) / whole_limit


def lattice_peak(crop: np.ndarray, n: int = 128) -> float:
    """Strongest isolated spectral peak in the centred ``n`` x ``n`` window of ``crop`` (RGB,
    not resampled), as a ratio to its local median, over luma and two chroma channels
    (red - blue, green - (red + blue) / 2); JPEG block frequencies and the axes excluded.

    Physics: a display's sub-pixel lattice (red, green, blue stripes, one period per display
    pixel, and dark rows between pixel rows) is sampled by the camera's sensor; where its
    frequency falls near a multiple of the sensor's (or, in chroma, of the Bayer mosaic's
    half-rate) sampling frequency, it aliases into a low-frequency beat: moire, a narrow
    and usually coloured peak. Skin photographed directly has a smooth, decaying spectrum.
    A noise-like spectrum gives ratios of about 3.5-4.5 (the maximum of ~10^4 Rayleigh
    magnitudes over their median); a visible lattice gives 6 to > 20.
    """
    n = min(n, crop.shape[0], crop.shape[1]) // 2 * 2
    if n < 32:
        return 0.0
    h, w = crop.shape[:2]
    y0, x0 = (h - n) // 2, (w - n) // 2
    f = crop[y0 : y0 + n, x0 : x0 + n].astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    band = _jpeg_free_band(n)
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    best = 0.0
    for chan in (0.299 * r + 0.587 * g + 0.114 * b, r - b, g - 0.5 * (r + b)):
        hp = chan - cv2.GaussianBlur(chan, (0, 0), 3.0)
        mag = np.abs(np.fft.fftshift(np.fft.fft2(hp * win))).astype(np.float32)
        local = cv2.medianBlur(mag, 5) + 1e-3 * float(mag.mean() + 1e-6)
        best = max(best, float((mag / local)[band].max()))
    return best


def row_banding(frame0: np.ndarray, frame1: np.ndarray) -> float:
    """Horizontal flicker bands between two consecutive frames: the peak of the row-profile
    spectrum of their log-luma difference over its median, for periods of 10-120 rows.

    Physics: a screen whose backlight is dimmed by pulse-width modulation (hundreds of Hz)
    is lit only part of the time; a rolling-shutter camera exposes its rows one after the
    other, so the rows that were exposed while the backlight was off are darker: periodic
    horizontal bands, which drift from frame to frame (the PWM and frame rates are not
    locked). Room light on a real face (mains flicker at 100/120 Hz gives bands of hundreds
    of rows at webcam exposures) and the face's own motion give no narrow peak in this
    range. The row profile is the median over each row (robust to the moving face), high-passed.
    """
    if frame0.shape != frame1.shape or frame0.shape[0] < 64:
        return 0.0
    l0 = np.log1p(cv2.cvtColor(frame0, cv2.COLOR_RGB2GRAY).astype(np.float32))
    l1 = np.log1p(cv2.cvtColor(frame1, cv2.COLOR_RGB2GRAY).astype(np.float32))
    p = np.median(l1 - l0, axis=1).astype(np.float64)
    p = p - np.asarray(cv2.GaussianBlur(p.reshape(-1, 1), (1, 0), sigmaX=0, sigmaY=30), dtype=np.float64).ravel()
    mag = np.abs(np.fft.rfft(p * np.hanning(len(p))))
    freq = np.fft.rfftfreq(len(p))
    band = (freq >= 1 / 120) & (freq <= 1 / 10)  # shorter periods: the JPEG 8-row grid
    if band.sum() < 5:
        return 0.0
    return float(mag[band].max() / (np.median(mag[band]) + 1e-12))


def screen_tone(frame: np.ndarray, crop: np.ndarray) -> tuple[float, float]:
    """(frame luma 0.5th percentile, mean HSV saturation of the face crop 0-1).

    Physics: a screen in a lit room never shows black (backlight leak plus reflected room
    light lift it), and its limited gamut and the second pass through a camera desaturate
    skin. Reported only: a dim room, a pale subject or a camera's own processing do the same.
    """
    luma = cv2.cvtColor(frame[::4, ::4], cv2.COLOR_RGB2GRAY)
    sat = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32) / 255.0
    return float(np.percentile(luma, 0.5)), float(sat.mean())


def enclosing_edges(frame: np.ndarray, a: FrameAnalysis) -> int:
    """How many sides (0-4) of the face have a long straight edge beyond them, roughly
    parallel to that side: the frame of a screen (bezel) or the edge of a held sheet.

    Physics: a face shown on a device or paper is surrounded by the medium's straight
    border, which moves with the face; a head in a room is not enclosed on 3-4 sides.
    """
    if a.box is None:
        return 0
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.2), 40, 110)
    h, w = gray.shape
    min_len = 0.22 * min(h, w)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 60, minLineLength=min_len, maxLineGap=6)
    if lines is None:
        return 0
    x, y, bw, bh = a.box
    margin = 0.15 * bw
    left, right, top, bottom = x - margin, x + bw + margin, y - margin, y + bh + margin
    cx, cy = x + bw / 2, y + bh / 2
    sides = set()
    for x1, y1, x2, y2 in lines[:, 0, :].astype(float):
        ang = abs(np.degrees(np.arctan2(y2 - y1, x2 - x1))) % 180
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        vertical = 65 < ang < 115
        horizontal = ang < 25 or ang > 155
        if vertical and min(y1, y2) < cy < max(y1, y2) + 0.5 * bh:
            if mx < left:
                sides.add("left")
            elif mx > right:
                sides.add("right")
        if horizontal and min(x1, x2) < cx + 0.5 * bw and max(x1, x2) > cx - 0.5 * bw:
            if my < top:
                sides.add("top")
            elif my > bottom:
                sides.add("bottom")
    return len(sides)


def tone_stats(crop: np.ndarray) -> tuple[float, float, float]:
    """(luma 1st percentile, luma dynamic range p99.5 - p1, fraction of near-white specular pixels)."""
    luma = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    p1, p995 = np.percentile(luma, [1, 99.5])
    spec = float(np.mean(luma > 0.97 * 255))
    return float(p1), float(p995 - p1), spec


def _image_cues(frames: Sequence[np.ndarray], analyses: Sequence[FrameAnalysis]) -> dict[str, list[float]]:
    """Per-frame image cues over up to :data:`CUE_FRAMES` frames spread over the sequence."""
    cues: dict[str, list[float]] = {
        k: []
        for k in (
            *("peak", "peak_regions", "lattice", "regions", "banding", "edges"),
            *("black", "range", "specular", "frame_black", "sat"),
        )
    }
    usable = set(_usable(analyses))
    for i in _sample(sorted(usable), CUE_FRAMES):
        if i >= len(frames):
            continue
        frame = frames[i]
        crop = _face_crop(frame, analyses[i])
        if crop is None:
            continue
        cues["peak"].append(spectral_peak(crop))
        cues["lattice"].append(lattice_peak(crop))
        windows = region_windows(frame, analyses[i])
        cues["regions"].append(min(lattice_peak(w) for w in windows) if windows else float("nan"))
        cues["peak_regions"].append(min(spectral_peak(w) for w in windows) if windows else float("nan"))
        if i + 1 < len(frames) and i + 1 < len(analyses):
            cues["banding"].append(row_banding(frame, frames[i + 1]))
        cues["edges"].append(float(enclosing_edges(frame, analyses[i])))
        full = _face_crop(frame, analyses[i], 1.0)
        black, rng_, spec = tone_stats(full if full is not None else crop)
        cues["black"].append(black)
        cues["range"].append(rng_)
        cues["specular"].append(spec)
        frame_black, sat = screen_tone(frame, crop)
        cues["frame_black"].append(frame_black)
        cues["sat"].append(sat)
    return cues


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else 0.0


def screen_replay(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    *,
    cues: dict[str, list[float]] | None = None,
) -> CheckResult:
    """Screen-replay cues over up to :data:`CUE_FRAMES` frames spread over the sequence.

    A screen replay of a live recording performs the right challenges with a real head's
    3-D motion, so only what the screen adds to the image can reveal it. Each cue is a
    sequence statistic (robust to a few odd frames) and is reported in ``data``:

    * ``moire``: the median over frames of :func:`lattice_peak` (display sub-pixel lattice
      aliased by the sensor) on the brow (:data:`LATTICE_REGIONS`) above
      :data:`LATTICE_REGION_PEAK`: a screen's lattice covers the whole face, a fabric mask's
      weave only its lower part; faces too small for the brow window use the whole face
      crop against :data:`LATTICE_PEAK`. ``lattice_frac`` is the fraction of
      frames whose whole crop is above :data:`LATTICE_PEAK` (reported);
    * ``flicker_bands``: the median over consecutive frame pairs of :func:`row_banding`
      (rolling-shutter bands of a PWM-dimmed backlight, drifting between frames) above
      :data:`BANDING_RATIO`;
    * ``device_border``: a long straight edge on at least 3 sides of the face
      (:func:`enclosing_edges`: the bezel or the screen's edge) in at least
      :data:`CUE_FRACTION` of the frames.

    Reported, not decisive (a dim room or a pale face do the same): the frame's black level
    and the face's saturation (:func:`screen_tone`). A screen with a fine pixel pitch
    (no aliasing), a DC-dimmed backlight and its edges outside the frame shows none of the
    decisive cues: this check then passes, and the other checks must catch the attack.
    The score is the lowest of the per-cue scores (a sigmoid of each statistic against its
    threshold).
    """
    name = "screen_replay"
    cues = cues if cues is not None else _image_cues(frames, analyses)
    n = len(cues["lattice"])
    if n < 2:
        return _result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    lattice = _median(cues["lattice"])
    lattice_frac = float(np.mean(np.array(cues["lattice"]) > LATTICE_PEAK))
    banding = _median(cues["banding"])
    border = float(np.mean(np.array(cues["edges"]) >= 3))
    moire = _all_regions_value(cues["regions"], cues["lattice"], LATTICE_REGION_PEAK, LATTICE_PEAK)
    data: dict[str, object] = {
        "lattice_peak_median": lattice,
        "region_peak_median": _median([v for v in cues["regions"] if np.isfinite(v)]),
        "moire_over_threshold": moire,
        "lattice_fraction": lattice_frac,
        "banding_median": banding,
        "border_fraction": border,
        "peak_median": _median(cues["peak"]),
        "frame_black_median": _median(cues["frame_black"]),
        "face_saturation_median": _median(cues["sat"]),
        "n_frames": n,
        "n_pairs": len(cues["banding"]),
    }
    scores = {
        "moire": 1.0 - _sigmoid((moire - 1.0) / 0.11),  # 0.5 at the threshold, 0.12 at +0.5 on 4.6
        "flicker_bands": 1.0 - _sigmoid((np.log(max(banding, 1e-6)) - np.log(BANDING_RATIO)) / 0.2),
        "device_border": 1.0 - border,
    }
    score = min(scores.values())
    data["cue_scores"] = {k: round(v, 4) for k, v in scores.items()}
    if moire > 1.0:
        return _result(name, Status.FAIL, "moire", score, "display pixel lattice aliased in the face", **data)
    if banding > BANDING_RATIO:
        return _result(name, Status.FAIL, "flicker_bands", score, "drifting rolling-shutter bands", **data)
    if border >= CUE_FRACTION:
        return _result(name, Status.FAIL, "device_border", score, "straight edges enclose the face", **data)
    return _result(name, Status.PASS, "no_screen_cues", score, "no moire, flicker bands or border", **data)


def print_attack(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    *,
    cues: dict[str, list[float]] | None = None,
) -> CheckResult:
    """Print cues in up to 8 frames spread over the sequence.

    * paper edges: a long straight edge on at least 3 sides of the face, moving with it
      (``sheet_edges``);
    * dynamic range: paper reflects 3-90 % of the light, so a print's darkest and
      brightest face pixels are at most ~25:1 apart, and it has no specular highlights
      (the skin's oily glints): a face crop whose luma range (p99.5 - p1) stays below 150
      grey levels with black level above 25 and no near-white pixel, in at least
      :data:`CUE_FRACTION` of frames (``flat_tone``);
    * halftone / paper texture: the same spectral peaks as moire (``halftone``), on the brow
      (:data:`LATTICE_REGIONS`) when the face is large enough for it.
    """
    name = "print_attack"
    cues = cues if cues is not None else _image_cues(frames, analyses)
    n = len(cues["peak"])
    if n < 2:
        return _result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    sheet = float(np.mean(np.array(cues["edges"]) >= 3))
    flat = float(
        np.mean((np.array(cues["range"]) < 150) & (np.array(cues["black"]) > 25) & (np.array(cues["specular"]) < 1e-4))
    )
    # on the brow when the face is large enough, as for moire (a fabric mask is not a print)
    peaks = [r if np.isfinite(r) else p for r, p in zip(cues["peak_regions"], cues["peak"], strict=True)]
    halftone = float(np.mean(np.array(peaks) > MOIRE_PEAK))
    data = {
        "sheet_fraction": sheet,
        "flat_tone_fraction": flat,
        "halftone_fraction": halftone,
        "range_median": float(np.median(cues["range"])),
        "black_level_median": float(np.median(cues["black"])),
        "n_frames": n,
    }
    score = 1.0 - max(sheet, flat, halftone)
    if sheet >= CUE_FRACTION:
        return _result(name, Status.FAIL, "sheet_edges", score, "straight sheet edges enclose the face", **data)
    if flat >= 0.6:
        return _result(name, Status.FAIL, "flat_tone", score, "compressed tone range without highlights", **data)
    if halftone >= CUE_FRACTION:
        return _result(name, Status.FAIL, "halftone", score, "periodic print texture in the face", **data)
    return _result(name, Status.PASS, "no_print_cues", score, "no sheet edges, tone range of a live scene", **data)


# ----------------------------------------------------------------------------- rPPG


def _region_mean(frame: np.ndarray, lm: np.ndarray, idx: Sequence[int]) -> np.ndarray | None:
    pts = lm[list(idx), :2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, frame.shape[1]), min(y1, frame.shape[0])
    if x1 - x0 < 3 or y1 - y0 < 3:
        return None
    return np.asarray(frame[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0), dtype=np.float64)


def rppg(frames: Sequence[np.ndarray], analyses: Sequence[FrameAnalysis]) -> CheckResult:
    """Remote photoplethysmography (POS, Wang et al. 2017) over forehead and cheeks. Advisory.

    Physics: blood volume in the skin changes with each heartbeat and modulates its
    colour (mostly green) by ~0.1-1 %; POS projects the temporally normalised RGB onto a
    plane orthogonal to the skin tone to cancel motion and light changes, and the pulse
    shows as a spectral peak between 0.7 and 3 Hz (42-180 bpm). The SNR is the power within
    +-0.1 Hz of the peak (and its first harmonic) over the rest of the 0.7-3 Hz band, in dB.

    Needs >= 5 s at >= 8 fps. It never fails (a print, a screen and also compressed,
    head-turning live video all give weak pulses); it passes only with a strong pulse
    (SNR >= 3 dB) and is otherwise ``weak_pulse`` (inconclusive). Listed in
    :mod:`openidv.decision.severity` as ``advisory``: it must not decide the session.
    """
    name = "rppg"
    idx = _usable(analyses)
    if len(idx) < 10:
        return _result(name, Status.INCONCLUSIVE, "too_short", None, "too few frames with a face")
    ts = np.array([analyses[i].timestamp for i in idx])
    duration = float(ts[-1] - ts[0])
    fps = (len(idx) - 1) / duration if duration > 0 else 0.0
    if duration < 5.0 or fps < 8.0:
        return _result(name, Status.INCONCLUSIVE, "too_short", None, f"{duration:.1f} s at {fps:.1f} fps")
    rgb = []
    keep = []
    for k, i in enumerate(idx):
        if i >= len(frames):
            continue
        lm = np.asarray(analyses[i].landmarks)
        parts = [_region_mean(frames[i], lm, r) for r in (FOREHEAD, LEFT_CHEEK, RIGHT_CHEEK)]
        vals = [p for p in parts if p is not None]
        if vals:
            rgb.append(np.mean(vals, axis=0))
            keep.append(k)
    if len(rgb) < 10:
        return _result(name, Status.INCONCLUSIVE, "too_short", None, "skin regions not measurable")
    sig = np.array(rgb)
    t = ts[keep]
    grid = np.arange(t[0], t[-1], 1.0 / 20.0)  # resample at 20 Hz
    c = np.stack([np.interp(grid, t, sig[:, j]) for j in range(3)], axis=1)
    win = int(1.6 * 20)
    pulse = np.zeros(len(grid))
    proj = np.array([[0.0, 1.0, -1.0], [-2.0, 1.0, 1.0]])
    for s in range(0, len(grid) - win + 1):
        block = c[s : s + win]
        cn = block / (block.mean(axis=0) + 1e-6)
        xy = cn @ proj.T
        h = xy[:, 0] + (xy[:, 0].std() / (xy[:, 1].std() + 1e-9)) * xy[:, 1]
        pulse[s : s + win] += h - h.mean()
    pulse = pulse - pulse.mean()
    spec = np.abs(np.fft.rfft(pulse * np.hanning(len(pulse)), n=4096)) ** 2
    f = np.fft.rfftfreq(4096, 1.0 / 20.0)
    band = (f >= 0.7) & (f <= 3.0)
    if not band.any() or spec[band].sum() <= 0:
        return _result(name, Status.INCONCLUSIVE, "weak_pulse", 0.0, "no signal")
    peak = float(f[band][np.argmax(spec[band])])
    near = (np.abs(f - peak) <= 0.1) | (np.abs(f - 2 * peak) <= 0.1)
    sig_p = float(spec[band & near].sum())
    noise = float(spec[band & ~near].sum()) + 1e-12
    snr = 10 * np.log10(sig_p / noise)
    score = _sigmoid((snr - 0.0) / 2.0)
    data = {"snr_db": float(snr), "bpm": peak * 60, "duration_s": duration}
    if snr >= 3.0:
        return _result(name, Status.PASS, "pulse", score, f"pulse at {peak * 60:.0f} bpm", **data)
    return _result(name, Status.INCONCLUSIVE, "weak_pulse", score, "no clear pulse (advisory)", **data)


# ----------------------------------------------------------------------------- injection / replay


def _face_gray(frame: np.ndarray, a: FrameAnalysis) -> np.ndarray:
    crop = _face_crop(frame, a, 1.0) if a.box is not None else None
    img = crop if crop is not None else frame
    return cv2.resize(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32)


def _longest_run(flags: Sequence[bool]) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def _met_frame_shows(a: FrameAnalysis, challenge: Challenge, base: dict[str, float]) -> bool:
    """Whether the frame at which a step was met actually shows the action (loose bounds)."""
    if not a.face_found:
        return False
    if challenge is Challenge.TURN_LEFT:
        return a.yaw - base["yaw"] >= 8.0
    if challenge is Challenge.TURN_RIGHT:
        return a.yaw - base["yaw"] <= -8.0
    if challenge is Challenge.LOOK_UP:
        return a.pitch - base["pitch"] >= 5.0
    if challenge is Challenge.MOVE_CLOSER:
        return a.face_width_frac >= 1.08 * base["width"]
    if challenge is Challenge.BLINK:
        return a.ear <= 0.85 * base["ear"]
    if challenge is Challenge.SCREEN_LIGHT:
        return True  # holding still: nothing to re-check in the pose (the light check judges the step)
    return a.smile >= 1.03 * base["smile"]


_NONCE = re.compile(r"^[A-Za-z0-9_\-]{16,}$")


def injection_replay(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    steps: Sequence[ChallengeStep],
    *,
    nonce: str,
    frozen_from: tuple[Sequence[np.ndarray], Sequence[FrameAnalysis]] | None = None,
) -> CheckResult:
    """Injection and replay: is this a camera stream captured now, for this session?

    What is checked (first failure gives the reason):

    * ``bad_nonce``: the session nonce is missing or shorter than 16 URL-safe characters.
      The nonce is what makes the challenge sequence unpredictable; the frames are bound
      to the session because they arrive on its id and must perform its challenges, in
      its order, inside its windows (a sequence recorded for another session fails
      below). Nothing in a raw frame can carry the nonce, so an echo cannot be checked here.
    * ``timestamps_not_monotonic``: client timestamps must strictly increase;
    * ``implausible_frame_rate``: median rate outside 5-60 fps, or a gap > 1 s, or
      jitter (90th / 10th percentile of intervals) above 6;
    * ``duplicate_frames``: identical frame hashes for more than 15 % of frames or in
      runs of 3 or more (a camera's sensor noise makes consecutive frames differ);
    * ``frozen_frames``: the face crop's mean absolute difference below 0.35 grey levels
      for 6 consecutive pairs (a still re-encoded without noise);
    * ``challenge_order``: steps met out of the issued order (met times not increasing);
    * ``challenge_out_of_window``: a step met after its window, or at a time that is not
      one of the frames' timestamps;
    * ``challenge_not_shown``: the frame at which a step was met does not show the action
      relative to the session's neutral pose (an independent re-check of the protocol);
    * ``challenge_not_met``: some step was never met.
    """
    name = "injection_replay"
    n = len(analyses)
    if not _NONCE.match(nonce or ""):
        return _result(name, Status.FAIL, "bad_nonce", 0.0, "missing or weak session nonce")
    if n < 3:
        return _result(name, Status.INCONCLUSIVE, "too_few_frames", None, f"{n} frames")
    ts = np.array([a.timestamp for a in analyses], dtype=np.float64)
    dt = np.diff(ts)
    data: dict[str, object] = {"n_frames": n}
    if not np.all(np.isfinite(ts)) or np.any(dt <= 0):
        return _result(name, Status.FAIL, "timestamps_not_monotonic", 0.0, "client timestamps do not increase", **data)
    fps = 1.0 / float(np.median(dt))
    jitter = float(np.percentile(dt, 90) / max(np.percentile(dt, 10), 1e-6))
    data.update(fps=fps, max_gap_s=float(dt.max()), jitter=jitter)
    if not MIN_FPS <= fps <= MAX_FPS or dt.max() > MAX_GAP_S or jitter > 6.0:
        return _result(name, Status.FAIL, "implausible_frame_rate", 0.0, f"{fps:.1f} fps, gap {dt.max():.2f} s", **data)
    hashes = [a.frame_hash for a in analyses]
    dup = [bool(h) and h == p for p, h in itertools.pairwise(hashes)]
    if len(frames) == n and not any(hashes):
        dup = [bool(np.array_equal(a, b)) for a, b in itertools.pairwise(frames)]
    dup_frac = float(np.mean(dup)) if dup else 0.0
    dup_run = _longest_run(dup) + 1 if any(dup) else 1
    data.update(duplicate_fraction=dup_frac, duplicate_run=dup_run)
    if dup_frac > MAX_DUPLICATE_FRACTION or dup_run >= MAX_DUPLICATE_RUN:
        return _result(name, Status.FAIL, "duplicate_frames", 0.0, "repeated identical frames", **data)
    pix, pix_an = (frames, analyses) if len(frames) == n else (frozen_from or ([], []))
    if len(pix) == len(pix_an) and len(pix) >= 2:
        grays = [_face_gray(f, a) for f, a in zip(pix, pix_an, strict=True)]
        diffs = [float(np.mean(np.abs(a - b))) for a, b in itertools.pairwise(grays)]
        frozen_run = _longest_run([d < FROZEN_DIFF for d in diffs])
        data.update(frozen_run=frozen_run, median_diff=float(np.median(diffs)))
        if frozen_run >= FROZEN_RUN:
            return _result(name, Status.FAIL, "frozen_frames", 0.0, "the image does not change", **data)
    if not steps:
        return _result(name, Status.INCONCLUSIVE, "no_challenges", None, "no challenge was issued", **data)
    met = [s.met_at for s in steps]
    if any(m is None for m in met):
        return _result(name, Status.FAIL, "challenge_not_met", 0.2, "not every challenge was met", **data)
    met_f = [float(m) for m in met if m is not None]
    if any(b < a for a, b in itertools.pairwise(met_f)):
        return _result(name, Status.FAIL, "challenge_order", 0.0, "challenges met out of order", **data)
    for step, start, _end in _step_windows(steps, float(ts[0])):
        assert step.met_at is not None
        if step.met_at - start > step.window_s + 1e-6 or not np.any(np.abs(ts - step.met_at) < 1e-6):
            return _result(name, Status.FAIL, "challenge_out_of_window", 0.0, f"{step.challenge.value} late", **data)
    idx = _usable(analyses)
    if len(idx) >= 3:
        neutral = [i for i in idx if analyses[i].timestamp <= met_f[0]] or idx
        base = {
            "yaw": float(np.median([analyses[i].yaw for i in neutral])),
            "pitch": float(np.median([analyses[i].pitch for i in neutral])),
            "width": float(np.median([analyses[i].face_width_frac for i in neutral])),
            "ear": float(np.percentile([analyses[i].ear for i in idx], 75)),
            "smile": float(np.percentile([analyses[i].smile for i in idx], 25)),
        }
        for step in steps:
            j = int(np.argmin(np.abs(ts - float(step.met_at or 0.0))))
            if not _met_frame_shows(analyses[j], step.challenge, base):
                return _result(
                    name, Status.FAIL, "challenge_not_shown", 0.1, f"{step.challenge.value} not visible", **data
                )
    return _result(name, Status.PASS, "consistent", 1.0, "timing, frames and challenge order consistent", **data)


# ----------------------------------------------------------------------------- screen light

#: Amplitude floor of a pass: face-local response (relative radiance change per unit of a display
#: primary, linear light, face over surround). Physical reason: a flat screen's matte veil (0.05-0.3 %
#: of the capture display's white, added in linear light) raises a dark shown face (linear level
#: ~0.1) by up to ~3 % but its brighter shown surroundings less, leaving up to ~1 % "face-local"
#: that the shared-surround test cannot see when the surround is 3-4 x brighter; a live face lit by
#: a phone at arm's length (16-63 lux) in a room up to ~1500 lux answers with >= ~0.6 %. Above the
#: floor a pass needs significance, not amplitude: :data:`LIGHT_MIN_T`.
LIGHT_PASS = 0.01
#: Below this the response is absent (a face in any room lit by a screen at arm's length answers more).
LIGHT_NONE = 0.004
#: Significance of the response: slope / standard error (nuisance: per-channel level and slow drift).
LIGHT_MIN_T = 5.0
#: Pooled correlation between the face-local log response and the issued colours needed to pass.
LIGHT_MIN_CORR = 0.5
#: A face region "responds" when its own face-local response is at least this fraction of the face's.
LIGHT_REGION_FRACTION = 0.35
#: Fraction of the face regions that must respond (the light reaches the whole face, not a glare patch).
LIGHT_FACE_WIDE = 0.6
#: The surround's raw (gain-affected) response above this fraction of the face's raw response is shared.
LIGHT_SHARED_RATIO = 0.5
#: Samples needed at the chosen lag, and the fraction of issued colours they must cover.
LIGHT_MIN_SAMPLES = 8
LIGHT_MIN_COVER = 0.6
#: Floor of a channel's residual standard deviation (log units) when weighting channels (JPEG and
#: sensor noise on a box mean of a few hundred pixels stay above ~0.2 %).
LIGHT_NOISE_FLOOR = 0.002
#: A colour channel is measured only between these encoded levels (0-255): above, a face region
#: clips when the screen adds light (a bright red cheek); below, the surround's mean is a few
#: grey levels whose logarithm is mostly quantisation noise (a saturated blue background).
LIGHT_CLIP_LEVEL = 245.0
LIGHT_DARK_LEVEL = 8.0


def hex_rgb(colour: str) -> np.ndarray:
    """ "#rrggbb" -> RGB drive in [0, 1] (float64, (3,))."""
    c = colour.lstrip("#")
    return np.array([int(c[i : i + 2], 16) / 255.0 for i in (0, 2, 4)], dtype=np.float64)


@dataclass(frozen=True)
class _Fit:
    slope: float  #: pooled response per unit primary (log units)
    corr: float  #: weighted correlation of the de-trended response and the issued colours
    se: float  #: standard error of ``slope``
    channel_slopes: tuple[float, float, float]
    channel_se: tuple[float, float, float]

    @property
    def t(self) -> float:
        return self.slope / self.se if self.se > 0 and np.isfinite(self.se) else 0.0


def _weighted_residualiser(nuisance: np.ndarray, sw: np.ndarray) -> tuple[Callable[[np.ndarray], np.ndarray], int]:
    """(v -> the part of ``sw * v`` orthogonal to the columns of ``sw * nuisance``, their rank).

    Weighted least squares by Frisch-Waugh-Lovell: ``sw`` (m,) are the square roots of the
    row weights, ``nuisance`` (m, p) may be rank-deficient, ``v`` is (m,) or (m, q).
    """
    u, s, _ = np.linalg.svd(nuisance * sw[:, None], full_matrices=False)
    basis = u[:, s > 1e-10 * (s.max() if s.size else 1.0)]

    def resid(v: np.ndarray) -> np.ndarray:
        wv = v * (sw[:, None] if v.ndim == 2 else sw)
        return np.asarray(wv - basis @ (basis.T @ wv), dtype=np.float64)

    return resid, int(basis.shape[1])


def _pooled_fit(
    y: np.ndarray, lights: np.ndarray, times: np.ndarray | None = None, channels: np.ndarray | None = None
) -> _Fit:
    """:func:`_fit_once` with and without the per-frame common term; the more precise fit
    (smaller standard error: chosen on precision, not on the slope, so that a
    non-response does not gain significance by the choice)."""
    with_frames = _fit_once(y, lights, times, channels, frame_terms=True)
    without = _fit_once(y, lights, times, channels, frame_terms=False)
    return with_frames if with_frames.se <= without.se else without


def _fit_once(
    y: np.ndarray, lights: np.ndarray, times: np.ndarray | None, channels: np.ndarray | None, *, frame_terms: bool
) -> _Fit:
    """Response of ``y`` (n, 3) to ``lights`` (n, 3): one slope shared by the three channels.

    Model (logs, frame n, channel c): ``y[n, c] = a_c + d_c(t_n) + m_n + slope * lights[n, c] + e``.
    Nuisance: per channel a level ``a_c`` and, with ``times`` (n,), a linear and quadratic
    drift ``d_c`` (the head settling, the camera's exposure creeping); per frame a term
    ``m_n`` common to the three channels. The head's small movements change the shading
    and what the boxes cover, which moves all channels alike (achromatic), while the
    saturated colours move them differently, so ``m_n`` takes most of a moving head's
    noise out of the fit at the cost of one of three observations per frame (t x 2-5 on
    generated sessions). The channels are weighted by the inverse of their residual
    variance (a channel that is nearly black in the surround is noisy in logs and must
    not swamp the others), floored at :data:`LIGHT_NOISE_FLOOR`: equal weights first, then
    weights from the previous fit's residuals, twice.
    ``channels`` (3,) bool keeps only the measurable channels (default all); a channel left
    out gets an infinite standard error. With one channel left there is no frame term.
    """
    n = y.shape[0]
    cols = [np.ones(n)]
    if times is not None and n >= 8:
        tt = (times - times.mean()) / max(float(np.ptp(times)), 1e-6)
        cols += [tt, tt * tt - float(np.mean(tt * tt))]
    z = np.stack(cols, axis=1)
    k = z.shape[1]
    keep = np.ones(3, dtype=bool) if channels is None else np.asarray(channels, dtype=bool)
    if not keep.any():
        return _Fit(0.0, 0.0, float("inf"), (0.0, 0.0, 0.0), (float("inf"),) * 3)
    n_frame = n if frame_terms and keep.sum() >= 2 else 0  # one channel alone: the frame term takes it all
    nuisance = np.zeros((3 * n, 3 * k + n_frame))
    per_channel = np.zeros((3 * n, 3))
    for c in range(3):
        rows = slice(c * n, (c + 1) * n)
        nuisance[rows, c * k : (c + 1) * k] = z
        if n_frame:
            nuisance[rows, 3 * k :] = np.eye(n)
        per_channel[rows, c] = lights[:, c]
    yv = np.nan_to_num(y.T.ravel().astype(np.float64))
    lv = lights.T.ravel().astype(np.float64)
    m = int(keep.sum()) * n  # rows that count
    var = np.ones(3)
    for _ in range(3):
        sw = np.repeat(np.where(keep, 1.0 / np.sqrt(var), 0.0), n)
        resid, rank = _weighted_residualiser(nuisance, sw)
        yr, lr = resid(yv), resid(lv)
        sxx = float(lr @ lr)
        if sxx <= 1e-9:
            return _Fit(0.0, 0.0, float("inf"), (0.0, 0.0, 0.0), (float("inf"),) * 3)
        beta = float(lr @ yr) / sxx
        dof = max(1, m - rank - 1)
        res = np.divide(yr - beta * lr, sw, out=np.zeros_like(yr), where=sw > 0)  # back to log units
        per_row = dof / max(1, int(keep.sum()))
        var = np.maximum((res.reshape(3, n) ** 2).sum(axis=1) / per_row, LIGHT_NOISE_FLOOR**2)
    syy = float(yr @ yr)
    corr = float(lr @ yr) / np.sqrt(sxx * syy) if syy > 1e-18 else 0.0
    se = float(np.sqrt(float(((yr - beta * lr) ** 2).sum()) / dof / sxx))
    pc = resid(per_channel)
    gram = pc.T @ pc
    measurable = np.diag(gram) > 1e-6 * max(float(np.trace(gram)), 1e-12)
    slopes, ses = np.zeros(3), np.full(3, np.inf)
    if measurable.any():
        g = gram[np.ix_(measurable, measurable)]
        inv = np.linalg.pinv(g)
        coef = inv @ (pc[:, measurable].T @ yr)
        res_c = yr - pc[:, measurable] @ coef
        s2 = float(res_c @ res_c) / max(1, m - rank - int(measurable.sum()))
        slopes[measurable] = coef
        ses[measurable] = np.sqrt(np.maximum(np.diag(inv) * s2, 0.0))
    return _Fit(
        beta,
        float(corr),
        se,
        (float(slopes[0]), float(slopes[1]), float(slopes[2])),
        (float(ses[0]), float(ses[1]), float(ses[2])),
    )


def _linear_log(v: np.ndarray) -> np.ndarray:
    """log of linear light from gamma-encoded 0-255 means (display gamma 2.2; a floor keeps black finite)."""
    return np.asarray(2.2 * np.log(np.maximum(v, 2.0) / 255.0), dtype=np.float64)


def screen_light_response(light: LightRecord) -> CheckResult:
    """Does the face reflect the colours the capture page flashed, and only the face?

    Physics. The user's display lights the face with E = L x A x fill / d^2: a phone
    (400-800 nits, 0.007 m^2, 70 % of it coloured, 25-35 cm) gives ~16-63 lux, a laptop
    (250-400 nits, 0.05 m^2, 40-60 cm) ~24-88 lux, i.e. ~10-100 % of the face's radiance
    in a room of 80-500 lux, and only ~1-9 % above 1000 lux (a window in daylight), in the
    displayed colour (:mod:`openidv.synth.liveness` states the distributions simulated).
    The face-local response measured is ~0.5-0.6 x that ratio (the boxes sit where the
    face turns partly away from the screen; the camera's gains take a little back).
    Skin is close to Lambertian,
    so the relative change of each colour channel, (E_screen,c / E_room,c) x cos(angle to
    the screen), does not depend on the skin's colour: we measure relative changes (logs of
    linear light). The background, 1-3 m away, gets (d_face / d_bg)^2 of it (inverse
    square): almost nothing. A screen replay shows a face recorded earlier whose light
    does not follow the colours; only the replay screen's glass reflects a little of the
    flashing display (a specular patch of 0.5-4 % where the mirror geometry puts it, or a
    weak uniform veil from a matte screen), and it falls on the shown face and the shown
    surroundings alike because they lie on one plane. A recording injected instead of the
    camera does not respond at all; a recording of another session responds to that
    session's colours, which do not correlate with these.

    Camera gains (auto white balance, auto exposure) multiply the whole frame per channel:
    in logs they add the same term to face and surround, so the face-local response is the
    slope of log(face) - log(surround) against the issued colour (each channel on or off),
    pooled over channels, per channel intercepts. ``colour`` of a sample is the colour the
    client was asked to show before that frame; a slow camera shows it one frame late, so
    lag 0 and lag 1 are both fitted and the one with the more significant response (of the
    face-local or of the face as seen, gains included) is kept.

    Evidence, not amplitude. The response is fitted after removing each channel's level and
    slow drift (linear + quadratic in time: the head settling, exposure creeping) and each
    frame's term common to the three channels (the head's small movements brighten or darken
    all channels alike; the saturated colours do not), the channels pooled with
    inverse-variance weights (:func:`_pooled_fit`); its significance is
    ``t = slope / standard error``. A channel is measured only where it neither clips on the
    face nor sinks into black in the surround (:data:`LIGHT_CLIP_LEVEL`,
    :data:`LIGHT_DARK_LEVEL`). A live face in an ordinary room answers with t ~ 15-300; in a
    bright room the response shrinks towards the noise and only significance can tell it
    from nothing.

    Decision (measurements in ``data``):

    * ``light_response_ok`` (pass): face-local response >= :data:`LIGHT_PASS` (the
      physical floor, see there), t >= :data:`LIGHT_MIN_T`, correlation >=
      :data:`LIGHT_MIN_CORR`, the channels agree (none responds significantly negatively,
      at least two of the measurable ones positively), at least :data:`LIGHT_FACE_WIDE` of
      the face regions respond, and the surround's raw response is below
      :data:`LIGHT_SHARED_RATIO` of the face's;
    * ``light_response_not_face_local`` (fail): a significant response that tracks the
      colours but is confined to a patch of the face (glare) or shared by the surround
      (reflection on a flat screen, a photo with its background);
    * ``no_light_response`` (fail): face-local response below :data:`LIGHT_NONE`, or no
      evidence of any response (t < 2): nothing reflects this session's colours (a face that
      answers another session's colours leaves large residuals, so a noisy fit is no excuse);
    * ``weak_light_response`` (inconclusive, never pass): some response, but too weak or too
      noisy to be sure (below the floor, t below :data:`LIGHT_MIN_T`, correlation below
      :data:`LIGHT_MIN_CORR`, or channels that disagree). Almost always a bright room (above
      ~1000 lux a phone's light adds ~1-5 %) or a moving face: the detail tells the user to
      move away from bright light or a window, face the screen, hold still and retry
      (``data["advice"] = "move_away_from_bright_light"``);
    * ``inconsistent_light_response`` (inconclusive): a significant response whose channels
      disagree (one darkens under its own light): not light on skin, but no proof of an attack;
    * ``too_few_light_frames`` / ``light_step_missing`` (inconclusive): not enough frames
      under the colours, or the step was never completed.

    Lag consistency is not required: with 3 frames per colour the lag-0 and lag-1 schedules
    share 2/3 of their frames, so the wrong lag also correlates and cannot confirm the right one.

    A printed photo is paper: it reflects the screen's light diffusely like skin, so its
    face responds; where the print's own surroundings (margin, printed background) are
    measured as the surround the response is shared and it fails, otherwise it passes this
    check, and the print checks (sheet edges, halftone, blink/smile, planarity) stop it.
    """
    name = "screen_light_response"
    n_col = len(light.colours)
    data: dict[str, object] = {"n_colours": n_col, "n_samples": len(light.samples), "step_met": light.step_met}
    if not light.samples or n_col < 2:
        detail = "the screen-light step produced no measurable frame"
        return _result(name, Status.INCONCLUSIVE, "light_step_missing", None, detail, **data)
    by_index = {smp.index: smp.colour for smp in light.samples}
    palette = [hex_rgb(c) for c in light.colours]
    best: dict[str, object] | None = None
    best_key = -np.inf
    for lag in (0, 1):
        rows = []
        for smp in light.samples:
            eff = smp.colour if lag == 0 else by_index.get(smp.index - 1, -1)
            if 0 <= eff < n_col:
                rows.append((smp, eff))
        if len(rows) < LIGHT_MIN_SAMPLES or len({e for _, e in rows}) < LIGHT_MIN_COVER * n_col:
            continue
        face = np.stack([r[0].face for r in rows])  # (n, 5, 3)
        sur = np.stack([r[0].surround for r in rows])  # (n, k, 3)
        face_ok = ~np.isnan(face).any(axis=(0, 2))
        sur_ok = ~np.isnan(sur).any(axis=(0, 2))
        if face_ok.sum() < 3 or not sur_ok.any():
            continue
        lights = np.stack([palette[e] for _, e in rows])
        times = np.array([r[0].timestamp for r in rows], dtype=np.float64)
        lf = _linear_log(face[:, face_ok])  # (n, r, 3)
        ls = _linear_log(sur[:, sur_ok])
        face_log = np.log(np.exp(lf).mean(axis=1))
        sur_log = np.log(np.exp(ls).mean(axis=1))
        sur_mean = np.mean(sur[:, sur_ok], axis=1)  # (n, 3) encoded levels, box means averaged
        channels = (np.max(face[:, face_ok], axis=(0, 1)) <= LIGHT_CLIP_LEVEL) & (
            np.min(sur_mean, axis=0) >= LIGHT_DARK_LEVEL
        )
        fit = _pooled_fit(face_log - sur_log, lights, times, channels)
        beta = fit.slope
        regions = [_pooled_fit(lf[:, k] - sur_log, lights, times, channels).slope for k in range(lf.shape[1])]
        raw_fit = _pooled_fit(face_log, lights, times, channels)
        face_raw = raw_fit.slope
        sur_fit = _pooled_fit(sur_log, lights, times, channels)
        measurable = [k for k in range(3) if np.isfinite(fit.channel_se[k])]
        positive = sum(1 for k in measurable if fit.channel_slopes[k] > 0)
        negative = sum(1 for k in measurable if fit.channel_slopes[k] < -2.0 * fit.channel_se[k])
        cand: dict[str, object] = {
            "lag": lag,
            "face_local_response": beta,
            "correlation": fit.corr,
            "response_se": fit.se,
            "response_t": fit.t,
            "channel_responses": [round(float(v), 4) for v in fit.channel_slopes],
            "channels_agree": len(measurable) >= 2 and negative == 0 and positive >= 2,
            "face_raw_response": face_raw,
            "surround_raw_response": sur_fit.slope,
            "surround_correlation": sur_fit.corr,
            "surround_t": sur_fit.t,
            "region_responses": [round(float(r), 4) for r in regions],
            "face_wide_fraction": float(np.mean([r >= LIGHT_REGION_FRACTION * beta for r in regions]))
            if beta > 0
            else 0.0,
            "n_used": len(rows),
            "channels_measured": "".join(c for c, ok in zip("RGB", channels, strict=True) if ok),
            "colours_covered": len({e for _, e in rows}),
        }
        # the camera's lag shows in whatever responds: the face as the camera sees it (gains included)
        key = max(fit.t, raw_fit.t)
        if best is None or key > best_key:
            best, best_key = cand, key
    if best is None:
        detail = "too few frames with the face and its surroundings under the issued colours"
        reason = "too_few_light_frames" if light.step_met else "light_step_missing"
        return _result(name, Status.INCONCLUSIVE, reason, None, detail, **data)
    data.update(best)
    beta = float(best["face_local_response"])  # type: ignore[arg-type]
    corr = float(best["correlation"])  # type: ignore[arg-type]
    t = float(best["response_t"])  # type: ignore[arg-type]
    wide = float(best["face_wide_fraction"])  # type: ignore[arg-type]
    face_raw = float(best["face_raw_response"])  # type: ignore[arg-type]
    sur_raw = float(best["surround_raw_response"])  # type: ignore[arg-type]
    sur_corr = float(best["surround_correlation"])  # type: ignore[arg-type]
    sur_t = float(best["surround_t"])  # type: ignore[arg-type]
    agree = bool(best["channels_agree"])
    shared = face_raw > LIGHT_NONE and sur_raw >= LIGHT_SHARED_RATIO * face_raw
    score = (
        _sigmoid((t - LIGHT_MIN_T) / 1.5)
        * _sigmoid((beta - LIGHT_PASS) / (0.25 * LIGHT_PASS))
        * float(np.clip(corr / LIGHT_MIN_CORR, 0, 1))
    )
    significant = t >= LIGHT_MIN_T and corr >= LIGHT_MIN_CORR and agree
    if significant and beta >= LIGHT_PASS:
        if wide >= LIGHT_FACE_WIDE and not shared:
            detail = f"the face reflects the issued colours ({100 * beta:.1f} %, t = {t:.0f}), its surroundings do not"
            return _result(name, Status.PASS, "light_response_ok", max(score, 0.5), detail, **data)
        why = "shared by the surroundings" if shared else f"confined to {wide:.0%} of the face"
        detail = f"a response to the colours ({100 * beta:.1f} %) {why}: a reflection on a flat surface"
        return _result(name, Status.FAIL, "light_response_not_face_local", min(score, 0.2), detail, **data)
    if shared and sur_raw >= LIGHT_PASS and sur_corr >= LIGHT_MIN_CORR and sur_t >= LIGHT_MIN_T:
        detail = "the face and its surroundings respond alike: a reflection on a flat surface"
        return _result(name, Status.FAIL, "light_response_not_face_local", min(score, 0.2), detail, **data)
    if t >= LIGHT_MIN_T and corr >= LIGHT_MIN_CORR and beta >= LIGHT_PASS and not agree:
        detail = "the colour channels answer the screen inconsistently (one against its own light): hold still, retry"
        return _result(name, Status.INCONCLUSIVE, "inconsistent_light_response", min(score, 0.3), detail, **data)
    if beta >= LIGHT_NONE and t >= 2.0 and corr > 0:
        data["advice"] = "move_away_from_bright_light"
        detail = (
            f"the screen's light on the face is too weak to judge ({100 * beta:.1f} %, t = {t:.1f}): "
            "the room is probably too bright; move away from bright light or a window, face the screen, "
            "hold still and try again"
        )
        return _result(name, Status.INCONCLUSIVE, "weak_light_response", min(score, 0.49), detail, **data)
    detail = f"the face does not reflect the issued colours (response {100 * beta:.1f} %, t = {t:.1f})"
    return _result(name, Status.FAIL, "no_light_response", min(score, 0.2), detail, **data)


# ----------------------------------------------------------------------------- all checks

_CheckFn = Callable[[], CheckResult]


def sequence_checks(
    frames: list[np.ndarray],
    analyses: list[FrameAnalysis],
    steps: list[ChallengeStep],
    *,
    nonce: str,
    timeline: list[FrameAnalysis] | None = None,
    light: LightRecord | None = None,
) -> list[CheckResult]:
    """Run every presentation-attack and injection check over one session.

    ``frames`` are the session's RGB frames in order, ``analyses`` the matching
    :class:`FrameAnalysis`, ``steps`` the issued challenges with the client time each
    was met (or None), ``nonce`` the session nonce. ``timeline``, when the session kept
    the pixels of only some frames, is the analysis of *every* frame received, in order:
    the timing, duplicate, challenge and blink/smile checks then use it (a thinned
    sequence would hide duplicated frames and short blinks). A check that raises on
    malformed input becomes ``inconclusive`` with reason ``check_error``. ``light``, for a
    session started with the screen-light step, adds :func:`screen_light_response`
    (mandatory); without it that check is absent.
    """
    full = list(timeline) if timeline is not None and len(timeline) >= len(analyses) else list(analyses)
    pixels_for_all = len(full) == len(frames)
    cue_cache: dict[str, dict[str, list[float]]] = {}

    def cues() -> dict[str, list[float]]:
        if "c" not in cue_cache:
            cue_cache["c"] = _image_cues(frames, analyses)
        return cue_cache["c"]

    checks: list[tuple[str, _CheckFn]] = [
        ("planarity", lambda: planarity(full, frames if pixels_for_all else None)),
        ("blink_smile", lambda: blink_smile_performed(full, steps)),
        ("screen_replay", lambda: screen_replay(frames, analyses, cues=cues())),
        ("print_attack", lambda: print_attack(frames, analyses, cues=cues())),
        ("rppg", lambda: rppg(frames, analyses)),
        (
            "injection_replay",
            lambda: injection_replay(
                frames if pixels_for_all else [], full, steps, nonce=nonce, frozen_from=(frames, analyses)
            ),
        ),
    ]
    if light is not None:
        record = light
        checks.append(("screen_light_response", lambda: screen_light_response(record)))
    out = []
    for name, fn in checks:
        try:
            out.append(fn())
        except (ValueError, TypeError, IndexError, cv2.error, np.linalg.LinAlgError, FloatingPointError) as exc:
            out.append(_result(name, Status.INCONCLUSIVE, "check_error", None, f"{type(exc).__name__}: {exc}"))
    return out
