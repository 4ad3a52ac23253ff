"""The liveness evaluation harness (openidv.eval.liveness): counting, report, plot, one real session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openidv.eval import liveness as ev
from openidv.liveness.types import Challenge, Decision
from openidv.synth import attacks
from openidv.synth import liveness as synth


def _outcome(kind: str, decision: Decision, fails: tuple[str, ...] = ()) -> ev.SessionOutcome:
    checks = {c: ("fail" if c in fails else "pass", "x") for c in ("planarity", "injection_replay")}
    return ev.SessionOutcome(kind, decision, checks, 50, 20.0, 5.0)


def test_summary_counts_apcer_and_bpcer(tmp_path: Path) -> None:
    outcomes = [_outcome("live", Decision.LIVE)] * 19 + [_outcome("live", Decision.INCONCLUSIVE)]
    outcomes += [_outcome("screen_replay", Decision.LIVE)] + [
        _outcome("screen_replay", Decision.NOT_LIVE, ("planarity",))
    ] * 3
    outcomes += [_outcome("static_photo", Decision.NOT_LIVE, ("injection_replay",))] * 2
    res = ev._summarise(outcomes, 7, {})
    d = res.to_dict()
    assert {"bpcer", "apcer", "n_live", "n_attack", "ms_per_frame"} <= set(d)
    assert d["bpcer"] == 0.05 and d["n_live"] == 20
    assert d["apcer"]["screen_replay"] == 0.25 and d["n_attack"]["screen_replay"] == 4
    assert d["apcer"]["static_photo"] == 0.0
    assert set(d["apcer"]) == set(attacks.ATTACKS)
    assert res.check_fail_rates["screen_replay"]["planarity"] == 0.75
    text = ev.format_report(res)
    assert "SYNTHETIC" in text and "screen_replay" in text
    out = tmp_path / "liveness.png"
    ev.plot(res, out)
    assert out.stat().st_size > 1000


@pytest.fixture(scope="module")
def subject(astronaut: np.ndarray) -> synth.Subject:
    return synth.prepare_subject(astronaut, np.random.default_rng(0))


def test_static_photo_session_is_not_live(subject: synth.Subject) -> None:
    from openidv.liveness.session import start_session

    rng = np.random.default_rng(4)
    session = start_session(now=1_000.0, rng=rng, challenges=[Challenge.TURN_LEFT, Challenge.BLINK, Challenge.SMILE])
    seq = attacks.static_photo(subject, [s.challenge for s in session.steps], rng, 8.0)
    report, _ = ev.run_session(seq, session)
    assert report.decision is Decision.NOT_LIVE
    outcome = ev._outcome("static_photo", report)
    assert outcome.checks["blink_smile"][0] == "fail"
    assert outcome.checks["planarity"] == ("inconclusive", "no_head_turn")


def test_wilson_interval() -> None:
    lo, hi = ev.wilson(0, 20)
    assert lo == 0.0 and 0.16 < hi < 0.17  # the "rule of three" neighbourhood: 0 of 20 still allows ~16 %
    lo, hi = ev.wilson(5, 20)
    assert 0.11 < lo < 0.12 and 0.46 < hi < 0.47
    assert all(np.isnan(v) for v in ev.wilson(0, 0))


def test_summary_intervals_and_check_stats() -> None:
    live = [_outcome("live", Decision.LIVE) for _ in range(10)]
    for k, o in enumerate(live):
        o.stats["planarity.nose_residual_iod"] = 0.1 * (k + 1)
    res = ev._summarise([*live, _outcome("screen_replay", Decision.LIVE)], 3, {})
    assert res.intervals["live"][0] == 0.0 and res.intervals["screen_replay"][1] == 1.0
    assert res.check_stats["live"]["planarity.nose_residual_iod"] == [0.1, 0.55, 1.0]
    text = ev.format_report(res)
    assert "95% Wilson" in text and "nose_residual_iod" in text
    assert res.to_dict()["intervals_95"]["live"][0] == 0.0


def test_screen_strata_counted_and_reported() -> None:
    rows = [_outcome("screen_replay", Decision.LIVE), _outcome("screen_replay", Decision.NOT_LIVE)]
    rows += [_outcome("screen_replay", Decision.NOT_LIVE) for _ in range(3)]
    for o, stratum in zip(rows, ["no_visible_cue", "no_visible_cue", "lattice", "lattice+pwm", "bezel"], strict=True):
        o.stratum = stratum
    res = ev._summarise([_outcome("live", Decision.LIVE), *rows], 5, {})
    assert res.screen_strata == {"bezel": (0, 1), "lattice": (0, 1), "lattice+pwm": (0, 1), "no_visible_cue": (1, 2)}
    assert res.to_dict()["screen_strata"]["no_visible_cue"] == {"accepted": 1, "n": 2}
    assert "no_visible_cue" in ev.format_report(res)


def test_screen_setup_names_its_visible_cues() -> None:
    import dataclasses

    base = attacks.screen_setup(np.random.default_rng(0))
    fine = dataclasses.replace(base, density=3.4, sensor_scale=1.0, coverage=1.2, pwm_depth=0.0)
    assert fine.lattice_amplitude < 1e-3 and fine.visible_cues == ()
    coarse = dataclasses.replace(fine, density=1.2, sensor_scale=2.25)  # 0.53 cycles per sensor pixel
    assert coarse.lattice_amplitude > 0.1 and coarse.visible_cues == ("lattice",)
    framed = dataclasses.replace(fine, coverage=0.7, pwm_depth=0.1)
    assert framed.visible_cues == ("pwm", "bezel")


def test_room_bands_and_light_setup_physics() -> None:
    assert ev.room_band(80.0) == "room_80-200lux" and ev.room_band(199.9) == "room_80-200lux"
    assert ev.room_band(200.0) == "room_200-500lux" and ev.room_band(999.0) == "room_500-1000lux"
    assert ev.room_band(1400.0) == "room_1000-1500lux" and ev.room_band(float("nan")) == "room_unknown"
    # E = L x A x fill / d^2: a 600-nit phone at 0.3 m lights the face with ~33 lux
    assert synth.screen_illuminance(600.0, 0.007, 0.3) == pytest.approx(600 * 0.007 * synth.SCREEN_FILL / 0.09)
    rng = np.random.default_rng(0)
    setups = [synth.light_setup(rng) for _ in range(2000)]
    for s in setups:
        assert s.strength == pytest.approx(s.e_screen_lux / s.e_room_lux)
        assert 80.0 <= s.e_room_lux <= 1500.0 and 16.0 <= s.e_screen_lux <= 88.0
        assert s.d_background >= s.d_face + 0.4 - 1e-9
    bright = np.mean([s.e_room_lux >= 500.0 for s in setups])
    assert abs(bright - synth.BRIGHT_ROOM_SHARE) < 0.04
    assert abs(np.mean([s.device == "phone" for s in setups]) - synth.PHONE_SHARE) < 0.04
