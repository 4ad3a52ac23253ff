"""Remote photoplethysmography: the pulse in the skin's colour. Advisory: it never decides alone."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import check_result, sigmoid, usable_indices
from openidv.liveness.types import FrameAnalysis

#: Mesh landmarks bounding the skin regions whose mean colour carries the pulse.
FOREHEAD = (10, 109, 67, 103, 338, 297, 332, 151, 108, 69, 337, 299)
LEFT_CHEEK = (50, 101, 36, 205, 187, 123, 117, 118)
RIGHT_CHEEK = (280, 330, 266, 425, 411, 352, 346, 347)


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
    idx = usable_indices(analyses)
    if len(idx) < 10:
        return check_result(name, Status.INCONCLUSIVE, "too_short", None, "too few frames with a face")
    ts = np.array([analyses[i].timestamp for i in idx])
    duration = float(ts[-1] - ts[0])
    fps = (len(idx) - 1) / duration if duration > 0 else 0.0
    if duration < 5.0 or fps < 8.0:
        return check_result(name, Status.INCONCLUSIVE, "too_short", None, f"{duration:.1f} s at {fps:.1f} fps")
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
        return check_result(name, Status.INCONCLUSIVE, "too_short", None, "skin regions not measurable")
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
        return check_result(name, Status.INCONCLUSIVE, "weak_pulse", 0.0, "no signal")
    peak = float(f[band][np.argmax(spec[band])])
    near = (np.abs(f - peak) <= 0.1) | (np.abs(f - 2 * peak) <= 0.1)
    sig_p = float(spec[band & near].sum())
    noise = float(spec[band & ~near].sum()) + 1e-12
    snr = 10 * np.log10(sig_p / noise)
    score = sigmoid((snr - 0.0) / 2.0)
    data = {"snr_db": float(snr), "bpm": peak * 60, "duration_s": duration}
    if snr >= 3.0:
        return check_result(name, Status.PASS, "pulse", score, f"pulse at {peak * 60:.0f} bpm", **data)
    return check_result(name, Status.INCONCLUSIVE, "weak_pulse", score, "no clear pulse (advisory)", **data)
