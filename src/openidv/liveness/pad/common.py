"""What the presentation-attack checks share: the result builder, the usable frames, sampling, crops.

Frames are RGB ``uint8`` (H, W, 3); landmarks are in frame pixels, origin top-left.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.types import ChallengeStep, FrameAnalysis

#: Frames sampled for the image cues.
CUE_FRAMES = 12
#: Fraction of sampled frames that must show a cue before the sequence is flagged.
CUE_FRACTION = 0.3


def check_result(
    name: str, status: Status, reason: str, score: float | None, detail: str, **data: object
) -> CheckResult:
    """A check's result with its score clipped to [0, 1] and the float measurements in ``data`` rounded
    to 4 decimals."""
    clean = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in data.items()}
    return CheckResult(name, status, reason, None if score is None else float(np.clip(score, 0, 1)), detail, clean)


def sigmoid(x: float) -> float:
    """The logistic function of ``x`` (clipped to +-50), in (0, 1)."""
    return float(1.0 / (1.0 + np.exp(-np.clip(x, -50, 50))))


def usable_indices(analyses: Sequence[FrameAnalysis]) -> list[int]:
    """Positions of the frames with a face and its full mesh (468 landmarks or more)."""
    return [i for i, a in enumerate(analyses) if a.face_found and a.landmarks is not None and len(a.landmarks) >= 468]


def interocular(lm: np.ndarray) -> float:
    """Distance between the outer eye corners (mesh points 33 and 263), px."""
    return float(np.linalg.norm(lm[33, :2] - lm[263, :2]))


def median_or_zero(values: list[float]) -> float:
    """The median of ``values``; 0 when there are none."""
    return float(np.median(values)) if values else 0.0


def spread_sample(idx: list[int], k: int = 8) -> list[int]:
    """Up to ``k`` of ``idx``, evenly spread from the first to the last."""
    if len(idx) <= k:
        return idx
    return [idx[round(j)] for j in np.linspace(0, len(idx) - 1, k)]


def face_crop(frame: np.ndarray, a: FrameAnalysis, frac: float = 0.6) -> np.ndarray | None:
    """The square centred on the face box, ``frac`` x its smaller side, clipped to the frame (px);
    None without a box or when less than 32 px remain either way."""
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


def step_windows(steps: Sequence[ChallengeStep], t0: float) -> list[tuple[ChallengeStep, float, float]]:
    """(step, start, end) per step: a step starts when the previous one was met (or at ``t0``)."""
    out = []
    start = t0
    for step in steps:
        end = step.met_at if step.met_at is not None else start + step.window_s
        out.append((step, start, end))
        start = step.met_at if step.met_at is not None else start + step.window_s
    return out
