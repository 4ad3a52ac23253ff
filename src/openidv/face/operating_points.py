"""Decision thresholds on the dlib descriptor distance, per target false-match rate.

A pair is the same person when ``distance <= threshold``. How each value was derived
(data, number of impostor pairs, and where the data is too small) is documented in
``docs/face-operating-points.md`` and reproduced by ``bench/derive_thresholds.py``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Threshold:
    target_fmr: float
    distance: float
    basis: str  #: "empirical" or "extrapolated"


#: Keyed by the target false-match rate written as in the CLI ("1e-2", "1e-3", "1e-4").
OPERATING_POINTS: dict[str, Threshold] = {
    "1e-2": Threshold(1e-2, 0.63, "empirical"),
    "1e-3": Threshold(1e-3, 0.52, "empirical"),
    "1e-4": Threshold(1e-4, 0.42, "extrapolated"),
}

DEFAULT_OPERATING_POINT = "1e-3"

#: Width of the logistic that maps distance to a [0, 1] similarity score; the score
#: is 0.5 at the default operating point's threshold.
SCORE_SCALE = 0.05


def threshold_for(name: str) -> Threshold:
    try:
        return OPERATING_POINTS[name]
    except KeyError:
        raise ValueError(f"unknown operating point {name!r}; choose one of {', '.join(OPERATING_POINTS)}") from None
