"""Verification metrics over pair distances (lower distance = more alike).

Decision rule everywhere: a pair is accepted as the same person when
``distance <= threshold``.

* FMR(t): share of impostor (different-person) pairs accepted;
* FNMR(t): share of genuine (same-person) pairs rejected;
* EER: the rate where FMR and FNMR are equal (linear interpolation between the two
  thresholds where they cross);
* AUC: probability that a random impostor pair is farther apart than a random
  genuine pair (ties count one half), i.e. the area under the ROC curve.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OperatingPoint:
    target_fmr: float
    threshold: float  #: accept when distance <= threshold
    fmr: float  #: FMR measured at that threshold
    fnmr: float
    n_impostor: int
    resolvable: bool  #: False when the impostor set is too small to measure target_fmr


def _split(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(distances, dtype=np.float64)
    s = np.asarray(same, dtype=bool)
    if d.shape != s.shape:
        raise ValueError("distances and labels differ in length")
    return np.sort(d[s]), np.sort(d[~s])


def rates_at(threshold: float, genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    """(FMR, FNMR) at ``threshold`` for sorted genuine and impostor distances."""
    fmr = np.searchsorted(impostor, threshold, side="right") / max(len(impostor), 1)
    fnmr = 1.0 - np.searchsorted(genuine, threshold, side="right") / max(len(genuine), 1)
    return float(fmr), float(fnmr)


def auc(distances: np.ndarray, same: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U statistic)."""
    gen, imp = _split(distances, same)
    if len(gen) == 0 or len(imp) == 0:
        return math.nan
    below = np.searchsorted(imp, gen, side="left")  # impostors strictly closer than each genuine
    ties = np.searchsorted(imp, gen, side="right") - below
    farther = len(imp) - below - ties
    return float((farther.sum() + 0.5 * ties.sum()) / (len(gen) * len(imp)))


def eer(distances: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """(EER, threshold at the EER)."""
    gen, imp = _split(distances, same)
    if len(gen) == 0 or len(imp) == 0:
        return math.nan, math.nan
    thresholds = np.unique(np.concatenate([gen, imp, [gen[0] - 1e-9, imp[0] - 1e-9]]))
    fmr = np.searchsorted(imp, thresholds, side="right") / len(imp)
    fnmr = 1.0 - np.searchsorted(gen, thresholds, side="right") / len(gen)
    diff = fmr - fnmr  # increases with the threshold
    i = int(np.searchsorted(diff, 0.0, side="left"))
    if i == 0:
        return float(fnmr[0]), float(thresholds[0])
    if i >= len(thresholds):
        return float(fmr[-1]), float(thresholds[-1])
    # Crossing between thresholds[i-1] and thresholds[i]: interpolate the rates.
    d0, d1 = diff[i - 1], diff[i]
    w = 0.0 if d1 == d0 else -d0 / (d1 - d0)
    e0 = (fmr[i - 1] + fnmr[i - 1]) / 2.0
    e1 = (fmr[i] + fnmr[i]) / 2.0
    rate = e0 + w * (e1 - e0)
    return float(rate), float(thresholds[i - 1] + w * (thresholds[i] - thresholds[i - 1]))


def threshold_at_fmr(impostor_distances: np.ndarray, target_fmr: float) -> tuple[float, bool]:
    """Largest threshold whose FMR is at most ``target_fmr``, and whether it is resolvable.

    With n impostor pairs, at most ``floor(target_fmr * n)`` may be accepted. When that
    is zero the threshold sits just below the closest impostor, and the estimate is
    only an upper bound on FMR of 1/n: ``resolvable`` is False when ``target_fmr * n < 1``.
    """
    imp = np.sort(np.asarray(impostor_distances, dtype=np.float64))
    if len(imp) == 0:
        return math.nan, False
    k = math.floor(target_fmr * len(imp) + 1e-9)
    resolvable = target_fmr * len(imp) >= 1.0
    if k >= len(imp):
        return float(imp[-1]), resolvable
    return float(np.nextafter(imp[k], -np.inf)), resolvable


def operating_point(distances: np.ndarray, same: np.ndarray, target_fmr: float) -> OperatingPoint:
    """Empirical threshold for ``target_fmr`` and the FNMR it gives on the same pairs."""
    gen, imp = _split(distances, same)
    t, ok = threshold_at_fmr(imp, target_fmr)
    fmr, fnmr = rates_at(t, gen, imp) if not math.isnan(t) else (math.nan, math.nan)
    return OperatingPoint(target_fmr, t, fmr, fnmr, len(imp), ok)


def det_curve(distances: np.ndarray, same: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FMR, FNMR) at every distinct distance, for DET plots."""
    gen, imp = _split(distances, same)
    thresholds = np.unique(np.concatenate([gen, imp]))
    fmr = np.searchsorted(imp, thresholds, side="right") / max(len(imp), 1)
    fnmr = 1.0 - np.searchsorted(gen, thresholds, side="right") / max(len(gen), 1)
    return thresholds, fmr, fnmr


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval for a proportion k/n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)
