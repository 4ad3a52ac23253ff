"""The regression behind the screen-light check: a face's log response to the issued colours,
one slope shared by the three channels, nuisance (level, drift, per-frame common term) removed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

#: Floor of a channel's residual standard deviation (log units) when weighting channels (JPEG and
#: sensor noise on a box mean of a few hundred pixels stay above ~0.2 %).
LIGHT_NOISE_FLOOR = 0.002


@dataclass(frozen=True)
class LightFit:
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


def pooled_fit(
    y: np.ndarray, lights: np.ndarray, times: np.ndarray | None = None, channels: np.ndarray | None = None
) -> LightFit:
    """:func:`_fit_once` with and without the per-frame common term; the more precise fit
    (smaller standard error: chosen on precision, not on the slope, so that a
    non-response does not gain significance by the choice)."""
    with_frames = _fit_once(y, lights, times, channels, frame_terms=True)
    without = _fit_once(y, lights, times, channels, frame_terms=False)
    return with_frames if with_frames.se <= without.se else without


def _fit_once(
    y: np.ndarray, lights: np.ndarray, times: np.ndarray | None, channels: np.ndarray | None, *, frame_terms: bool
) -> LightFit:
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
        return LightFit(0.0, 0.0, float("inf"), (0.0, 0.0, 0.0), (float("inf"),) * 3)
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
            return LightFit(0.0, 0.0, float("inf"), (0.0, 0.0, 0.0), (float("inf"),) * 3)
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
    return LightFit(
        beta,
        float(corr),
        se,
        (float(slopes[0]), float(slopes[1]), float(slopes[2])),
        (float(ses[0]), float(ses[1]), float(ses[2])),
    )


def linear_log(v: np.ndarray) -> np.ndarray:
    """log of linear light from gamma-encoded 0-255 means (display gamma 2.2; a floor keeps black finite)."""
    return np.asarray(2.2 * np.log(np.maximum(v, 2.0) / 255.0), dtype=np.float64)
