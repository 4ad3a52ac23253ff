"""Injection and replay: is this a camera stream captured now, for this session (timing, duplicate and
frozen frames, the challenges' order, windows and visibility)?"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import check_result, face_crop, step_windows, usable_indices
from openidv.liveness.types import Challenge, ChallengeStep, FrameAnalysis

#: Plausible client frame rates and timing.
MIN_FPS, MAX_FPS = 5.0, 60.0
MAX_GAP_S = 1.0
#: Exact-duplicate frames: fail above this fraction, or on a run of this many identical frames.
MAX_DUPLICATE_FRACTION = 0.15
MAX_DUPLICATE_RUN = 3
#: Frozen frames: mean absolute grey difference of the face crop below this, for this many pairs in a row.
FROZEN_DIFF = 0.35
FROZEN_RUN = 6


def _face_gray(frame: np.ndarray, a: FrameAnalysis) -> np.ndarray:
    crop = face_crop(frame, a, 1.0) if a.box is not None else None
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


NAME = "injection_replay"
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
    n = len(analyses)
    if not _NONCE.match(nonce or ""):
        return check_result(NAME, Status.FAIL, "bad_nonce", 0.0, "missing or weak session nonce")
    if n < 3:
        return check_result(NAME, Status.INCONCLUSIVE, "too_few_frames", None, f"{n} frames")
    ts = np.array([a.timestamp for a in analyses], dtype=np.float64)
    data: dict[str, object] = {"n_frames": n}
    failed = (
        _timing_failure(ts, data)
        or _duplicate_failure(frames, analyses, data)
        or _frozen_failure(frames, analyses, frozen_from, data)
    )
    if failed is not None:
        return failed
    if not steps:
        return check_result(NAME, Status.INCONCLUSIVE, "no_challenges", None, "no challenge was issued", **data)
    failed = _challenge_failure(analyses, steps, ts, data)
    if failed is not None:
        return failed
    return check_result(NAME, Status.PASS, "consistent", 1.0, "timing, frames and challenge order consistent", **data)


def _timing_failure(ts: np.ndarray, data: dict[str, object]) -> CheckResult | None:
    """``timestamps_not_monotonic`` or ``implausible_frame_rate`` from the client timestamps ``ts``
    (s, one per frame); adds the frame rate (fps), largest gap (s) and jitter to ``data``."""
    dt = np.diff(ts)
    if not np.all(np.isfinite(ts)) or np.any(dt <= 0):
        return check_result(
            NAME, Status.FAIL, "timestamps_not_monotonic", 0.0, "client timestamps do not increase", **data
        )
    fps = 1.0 / float(np.median(dt))
    jitter = float(np.percentile(dt, 90) / max(np.percentile(dt, 10), 1e-6))
    data.update(fps=fps, max_gap_s=float(dt.max()), jitter=jitter)
    if not MIN_FPS <= fps <= MAX_FPS or dt.max() > MAX_GAP_S or jitter > 6.0:
        return check_result(
            NAME, Status.FAIL, "implausible_frame_rate", 0.0, f"{fps:.1f} fps, gap {dt.max():.2f} s", **data
        )
    return None


def _duplicate_failure(
    frames: Sequence[np.ndarray], analyses: Sequence[FrameAnalysis], data: dict[str, object]
) -> CheckResult | None:
    """``duplicate_frames``: identical consecutive frames (by hash, or by pixels when no frame has a
    hash and every frame's pixels are there); adds their fraction and longest run to ``data``."""
    n = len(analyses)
    hashes = [a.frame_hash for a in analyses]
    dup = [bool(h) and h == p for p, h in itertools.pairwise(hashes)]
    if len(frames) == n and not any(hashes):
        dup = [bool(np.array_equal(a, b)) for a, b in itertools.pairwise(frames)]
    dup_frac = float(np.mean(dup)) if dup else 0.0
    dup_run = _longest_run(dup) + 1 if any(dup) else 1
    data.update(duplicate_fraction=dup_frac, duplicate_run=dup_run)
    if dup_frac > MAX_DUPLICATE_FRACTION or dup_run >= MAX_DUPLICATE_RUN:
        return check_result(NAME, Status.FAIL, "duplicate_frames", 0.0, "repeated identical frames", **data)
    return None


def _frozen_failure(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    frozen_from: tuple[Sequence[np.ndarray], Sequence[FrameAnalysis]] | None,
    data: dict[str, object],
) -> CheckResult | None:
    """``frozen_frames``: the face crop does not change for :data:`FROZEN_RUN` pairs in a row, over
    ``frames`` when there is one per analysis, else over ``frozen_from`` (the frames kept and their
    analyses); adds the longest frozen run and the median difference (grey levels) to ``data``."""
    pix, pix_an = (frames, analyses) if len(frames) == len(analyses) else (frozen_from or ([], []))
    if len(pix) == len(pix_an) and len(pix) >= 2:
        grays = [_face_gray(f, a) for f, a in zip(pix, pix_an, strict=True)]
        diffs = [float(np.mean(np.abs(a - b))) for a, b in itertools.pairwise(grays)]
        frozen_run = _longest_run([d < FROZEN_DIFF for d in diffs])
        data.update(frozen_run=frozen_run, median_diff=float(np.median(diffs)))
        if frozen_run >= FROZEN_RUN:
            return check_result(NAME, Status.FAIL, "frozen_frames", 0.0, "the image does not change", **data)
    return None


def _challenge_failure(
    analyses: Sequence[FrameAnalysis], steps: Sequence[ChallengeStep], ts: np.ndarray, data: dict[str, object]
) -> CheckResult | None:
    """``challenge_not_met``, ``challenge_order``, ``challenge_out_of_window`` or
    ``challenge_not_shown`` for the issued ``steps`` (``ts``: the frames' client times, s)."""
    met = [s.met_at for s in steps]
    if any(m is None for m in met):
        return check_result(NAME, Status.FAIL, "challenge_not_met", 0.2, "not every challenge was met", **data)
    met_f = [float(m) for m in met if m is not None]
    if any(b < a for a, b in itertools.pairwise(met_f)):
        return check_result(NAME, Status.FAIL, "challenge_order", 0.0, "challenges met out of order", **data)
    for step, start, _end in step_windows(steps, float(ts[0])):
        assert step.met_at is not None
        if step.met_at - start > step.window_s + 1e-6 or not np.any(np.abs(ts - step.met_at) < 1e-6):
            return check_result(
                NAME, Status.FAIL, "challenge_out_of_window", 0.0, f"{step.challenge.value} late", **data
            )
    idx = usable_indices(analyses)
    if len(idx) >= 3:
        base = _neutral_base(analyses, idx, met_f[0])
        for step in steps:
            j = int(np.argmin(np.abs(ts - float(step.met_at or 0.0))))
            if not _met_frame_shows(analyses[j], step.challenge, base):
                return check_result(
                    NAME, Status.FAIL, "challenge_not_shown", 0.1, f"{step.challenge.value} not visible", **data
                )
    return None


def _neutral_base(analyses: Sequence[FrameAnalysis], idx: list[int], first_met: float) -> dict[str, float]:
    """The session's neutral pose (yaw, pitch degrees; face width fraction: medians over the usable
    frames ``idx`` up to the first met step, client time ``first_met`` s) and its open-eye EAR and
    resting smile (75th and 25th percentiles over all of ``idx``)."""
    neutral = [i for i in idx if analyses[i].timestamp <= first_met] or idx
    return {
        "yaw": float(np.median([analyses[i].yaw for i in neutral])),
        "pitch": float(np.median([analyses[i].pitch for i in neutral])),
        "width": float(np.median([analyses[i].face_width_frac for i in neutral])),
        "ear": float(np.percentile([analyses[i].ear for i in idx], 75)),
        "smile": float(np.percentile([analyses[i].smile for i in idx], 25)),
    }
