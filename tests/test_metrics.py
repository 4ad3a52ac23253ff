from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openidv.eval import metrics


def test_perfect_separation() -> None:
    d = np.array([0.1, 0.2, 0.3, 0.8, 0.9])
    s = np.array([1, 1, 1, 0, 0], bool)
    assert metrics.auc(d, s) == 1.0
    rate, t = metrics.eer(d, s)
    assert rate == 0.0 and 0.3 <= t <= 0.8


def test_hand_computed_example() -> None:
    # genuine 0.1 0.4 0.6 ; impostor 0.5 0.7 0.9
    d = np.array([0.1, 0.4, 0.6, 0.5, 0.7, 0.9])
    s = np.array([1, 1, 1, 0, 0, 0], bool)
    # impostor farther than genuine: 0.1 -> 3, 0.4 -> 3, 0.6 -> 2 : 8 of 9
    assert metrics.auc(d, s) == pytest.approx(8 / 9)
    fmr, fnmr = metrics.rates_at(0.55, np.sort(d[s]), np.sort(d[~s]))
    assert fmr == pytest.approx(1 / 3) and fnmr == pytest.approx(1 / 3)
    rate, _ = metrics.eer(d, s)
    assert rate == pytest.approx(1 / 3)


def test_threshold_at_fmr_allows_floor_of_target_times_n() -> None:
    imp = np.linspace(0.5, 1.0, 1000)
    t, ok = metrics.threshold_at_fmr(imp, 1e-2)  # 10 may be accepted
    assert ok and imp[9] <= t < imp[10]
    t, ok = metrics.threshold_at_fmr(imp, 1e-4)  # none may be accepted; not resolvable
    assert not ok and t < imp[0]


def test_operating_point_counts() -> None:
    d = np.array([0.2, 0.3, 0.75, 0.6, 0.7, 0.8, 0.9])
    s = np.array([1, 1, 1, 0, 0, 0, 0], bool)
    op = metrics.operating_point(d, s, 0.25)  # 1 of 4 impostors may pass
    assert op.fmr == pytest.approx(0.25) and op.fnmr == pytest.approx(1 / 3)
    assert 0.6 <= op.threshold < 0.7


def test_wilson_interval() -> None:
    lo, hi = metrics.wilson_interval(0, 100)
    assert lo == 0.0 and 0.03 < hi < 0.04
    assert math.isnan(metrics.wilson_interval(0, 0)[0])


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 2), min_size=1, max_size=40), st.lists(st.floats(0, 2), min_size=1, max_size=40))
def test_metric_properties(gen: list[float], imp: list[float]) -> None:
    d = np.array(gen + imp)
    s = np.array([True] * len(gen) + [False] * len(imp))
    a = metrics.auc(d, s)
    rate, _ = metrics.eer(d, s)
    assert 0.0 <= a <= 1.0
    assert 0.0 <= rate <= 1.0
    # Swapping the labels mirrors the AUC.
    assert metrics.auc(-d, s) == pytest.approx(1.0 - a)
    op = metrics.operating_point(d, s, 0.1)
    assert op.fmr <= 0.1 + 1e-12
