"""The screen-light step: protocol (colours per Progress), the check on generated measurements,
and closed-loop sessions (live face answers the colours, a screen replay does not)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from openidv.checks import Severity, Status
from openidv.decision.severity import severity_of
from openidv.eval.liveness import run_lit_session
from openidv.liveness.pad import LIGHT_MIN_T, LIGHT_PASS, screen_light_response, sequence_checks
from openidv.liveness.session import INSTRUCTIONS, LIGHT_PALETTE, add_frame, draw_colours, finish, start_session
from openidv.liveness.types import Challenge, LightRecord, LightSample
from openidv.synth import attacks
from openidv.synth import liveness as synth
from tests.test_liveness_frame import noisy, rendered  # noqa: F401  (the fixture is shared)

CHECK = "screen_light_response"


# --------------------------------------------------------------------------- the check on generated measurements


def _record(
    rng: np.random.Generator,
    *,
    face_resp: float | list[float],
    sur_resp: float = 0.0,
    additive: float = 0.0,
    lag: int = 0,
    n_colours: int = 6,
    per_colour: int = 3,
    colours: list[str] | None = None,
    shown: list[str] | None = None,
    noise: float = 0.15,
    sur_base: np.ndarray | None = None,
    drift: float = 0.0,
    channel_gain: tuple[float, float, float] = (1.0, 1.0, 1.0),
    shake: float = 0.0,
    face_base: np.ndarray | None = None,
) -> LightRecord:
    """Region means (gamma-encoded) of a face (5 regions) and surround (3 boxes) under a colour schedule.

    ``face_resp``: relative response in linear light per unit primary (one value, or one per face
    region); ``sur_resp`` the same for the surround; ``additive``: a reflection added in linear
    light to face and surround alike (fraction of white). The camera applies random per-frame
    channel gains (auto white balance drifting) and noise. ``shown`` is the schedule the face
    actually answers (another session's colours), default the issued one. ``noise``: grey levels
    of noise on each region mean; ``sur_base``: the surround's linear levels (3, 3); ``drift``: the
    face's relative level change per frame (the head settling); ``channel_gain`` multiplies the
    response per colour channel; ``shake``: standard deviation of the face's relative level change
    per frame, the same in every channel (the head moving under the room's light); ``face_base``:
    the face regions' linear levels (5, 3).
    """
    issued = colours or draw_colours([float(v) for v in rng.random(n_colours)], n_colours)
    answered = shown or issued
    face_base = rng.uniform(0.15, 0.45, size=(5, 3)) if face_base is None else face_base
    sur_base = rng.uniform(0.05, 0.6, size=(3, 3)) if sur_base is None else sur_base
    resp = np.broadcast_to(np.asarray(face_resp, dtype=np.float64), (5,))[:, None] * np.asarray(channel_gain)
    samples = []
    told = [-1] * 3 + [k for k in range(len(issued)) for _ in range(per_colour)] + [-1]
    gain = np.ones(3)
    for index, colour_idx in enumerate(told):
        eff_idx = told[index - lag] if index - lag >= 0 else -1
        drive = synth.hex_colour(answered[eff_idx]) if eff_idx >= 0 else np.zeros(3)
        gain = gain * np.exp(rng.normal(0, 0.01, 3))
        moved = (1 + drift * index) * (np.exp(rng.normal(0, shake)) if shake else 1.0)
        face = gain * (face_base * moved * (1 + resp * drive) + additive * drive)
        sur = gain * (sur_base * (1 + sur_resp * drive) + additive * drive)
        enc = [255 * np.clip(x, 0, 1) ** (1 / 2.2) + rng.normal(0, noise, x.shape) for x in (face, sur)]
        if index >= 3:
            samples.append(LightSample(index, 10 + index / 10, colour_idx, enc[0], enc[1]))
    return LightRecord(tuple(issued), tuple(samples), True)


def test_live_response_passes_and_reports_its_measurements() -> None:
    res = screen_light_response(_record(np.random.default_rng(0), face_resp=0.08, sur_resp=0.004))
    assert res.status is Status.PASS and res.reason == "light_response_ok", res.detail
    assert 0.05 < res.data["face_local_response"] < 0.11 and res.data["correlation"] > 0.8
    assert res.data["lag"] == 0 and res.data["face_wide_fraction"] == 1.0 and res.score is not None
    assert res.score >= 0.5


def test_one_frame_camera_lag_is_tolerated() -> None:
    res = screen_light_response(_record(np.random.default_rng(1), face_resp=0.06, lag=1))
    assert res.status is Status.PASS and res.data["lag"] == 1


def test_a_moving_head_does_not_hide_a_small_response() -> None:
    # the head's movements change the face's level by 3 % a frame in every channel alike; the
    # screen adds 2 % in its own colour: the per-frame common term takes the movement out
    for seed in range(5):
        res = screen_light_response(_record(np.random.default_rng(200 + seed), face_resp=0.02, shake=0.03))
        assert res.status is Status.PASS, res.data
        assert res.data["response_t"] > 8 and 0.012 < res.data["face_local_response"] < 0.03, res.data


def test_clipped_and_black_channels_are_left_out() -> None:
    rng = np.random.default_rng(210)
    face = rng.uniform(0.15, 0.45, size=(5, 3))
    face[2, 0] = 0.97  # a red cheek at the top of the range: it clips when the screen adds red
    res = screen_light_response(_record(rng, face_resp=0.06, face_base=face))
    assert res.status is Status.PASS and res.data["channels_measured"] == "GB", res.data
    surround = rng.uniform(0.2, 0.6, size=(3, 3))
    surround[:, 2] = 1e-5  # a background without blue: its mean is a few grey levels of noise
    res = screen_light_response(_record(rng, face_resp=0.06, sur_base=surround))
    assert res.status is Status.PASS and res.data["channels_measured"] == "RG", res.data


def test_no_response_fails() -> None:
    res = screen_light_response(_record(np.random.default_rng(2), face_resp=0.0))
    assert res.status is Status.FAIL and res.reason == "no_light_response"
    assert res.score is not None and res.score < 0.5


def test_response_to_another_sessions_colours_fails() -> None:
    rng = np.random.default_rng(3)
    issued = ["#ff0000", "#00ffff", "#ff00ff", "#00ff00", "#0000ff", "#ffff00"]
    other = ["#00ffff", "#ff0000", "#00ff00", "#ff00ff", "#ffff00", "#0000ff"]  # every channel flipped
    res = screen_light_response(_record(rng, face_resp=0.1, colours=issued, shown=other))
    assert res.status is Status.FAIL and res.reason == "no_light_response"


def test_response_shared_with_the_surroundings_fails() -> None:
    # a reflection on the replay screen's glass: the same light added to the face and its surroundings
    res = screen_light_response(_record(np.random.default_rng(4), face_resp=0.0, additive=0.03))
    assert res.status is Status.FAIL and res.reason == "light_response_not_face_local", res.data
    # a flat object lit as a whole: face and surround respond alike
    res = screen_light_response(_record(np.random.default_rng(5), face_resp=0.08, sur_resp=0.08))
    assert res.status is Status.FAIL and res.reason == "light_response_not_face_local", res.data


def test_glare_patch_on_part_of_the_face_fails() -> None:
    res = screen_light_response(_record(np.random.default_rng(6), face_resp=[0.0, 0.0, 0.2, 0.0, 0.0]))
    assert res.status is Status.FAIL and res.reason == "light_response_not_face_local"
    assert res.data["face_wide_fraction"] <= 0.4


def test_weak_response_is_inconclusive() -> None:
    res = screen_light_response(_record(np.random.default_rng(7), face_resp=0.6 * LIGHT_PASS))
    assert res.status is Status.INCONCLUSIVE and res.reason == "weak_light_response"


def test_weak_response_tells_the_user_to_move_away_from_bright_light_and_never_passes() -> None:
    weak = 0
    for seed in range(12):
        rng = np.random.default_rng(100 + seed)
        res = screen_light_response(_record(rng, face_resp=float(rng.uniform(0.4, 0.7)) * LIGHT_PASS, noise=0.3))
        assert res.status is not Status.PASS and res.score is not None and res.score < 0.5, res.data
        if res.reason == "weak_light_response":
            weak += 1
            assert res.status is Status.INCONCLUSIVE and res.data["advice"] == "move_away_from_bright_light"
            assert "bright light" in res.detail and "window" in res.detail
    # the harness's auto-white-balance wander can make the surround look as if it responded, rarely
    assert weak >= 10


def test_a_response_above_the_floor_must_be_significant() -> None:
    # the same amplitude passes when the measurements are clean and is only "weak" when noise swamps it
    clean = screen_light_response(_record(np.random.default_rng(20), face_resp=1.5 * LIGHT_PASS))
    assert clean.status is Status.PASS and clean.data["response_t"] >= LIGHT_MIN_T, clean.data
    noisy_ = screen_light_response(_record(np.random.default_rng(20), face_resp=1.5 * LIGHT_PASS, noise=3.0))
    assert noisy_.data["face_local_response"] >= LIGHT_PASS * 0.5
    assert noisy_.status is not Status.PASS and noisy_.data["response_t"] < LIGHT_MIN_T, noisy_.data


def test_channels_must_agree() -> None:
    # a significant pooled "response" made of red and green rising while blue darkens is not light on skin
    res = screen_light_response(_record(np.random.default_rng(23), face_resp=0.06, channel_gain=(1.0, 1.0, -0.5)))
    assert res.data["response_t"] >= LIGHT_MIN_T and res.data["face_local_response"] >= LIGHT_PASS, res.data
    assert res.data["channels_agree"] is False
    assert res.status is Status.INCONCLUSIVE and res.reason == "inconsistent_light_response"
    same = screen_light_response(_record(np.random.default_rng(23), face_resp=0.06))
    assert same.status is Status.PASS and same.data["channels_agree"] is True


def test_a_nearly_black_surround_channel_does_not_hide_the_face_response() -> None:
    # background with no red in it: its red mean is a few grey levels, very noisy in logs
    sur = np.array([[0.0004, 0.3, 0.5], [0.0005, 0.25, 0.45], [0.0003, 0.2, 0.4]])
    res = screen_light_response(_record(np.random.default_rng(22), face_resp=0.03, sur_base=sur, noise=1.0))
    assert res.status is Status.PASS, res.data


def test_slow_drift_is_neither_a_response_nor_hides_one() -> None:
    live = screen_light_response(_record(np.random.default_rng(23), face_resp=0.03, drift=0.006))
    assert live.status is Status.PASS, live.data
    none = screen_light_response(_record(np.random.default_rng(23), face_resp=0.0, drift=0.006))
    assert none.status is Status.FAIL and none.reason == "no_light_response", none.data


def test_missing_or_short_light_step_is_inconclusive() -> None:
    res = screen_light_response(LightRecord(("#ff0000", "#00ff00"), (), False))
    assert res.status is Status.INCONCLUSIVE and res.reason == "light_step_missing"
    rec = _record(np.random.default_rng(8), face_resp=0.1)
    res = screen_light_response(LightRecord(rec.colours, rec.samples[:5], True))
    assert res.status is Status.INCONCLUSIVE and res.reason == "too_few_light_frames"


def test_sequence_checks_include_the_light_check_only_when_given() -> None:
    rec = _record(np.random.default_rng(9), face_resp=0.1)
    without = sequence_checks([], [], [], nonce="n" * 22)
    assert CHECK not in {c.name for c in without}
    with_light = sequence_checks([], [], [], nonce="n" * 22, light=rec)
    light = [c for c in with_light if c.name == CHECK]
    assert len(light) == 1 and light[0].status is Status.PASS
    assert severity_of(light[0].name, light[0].reason) is Severity.REVIEW


# --------------------------------------------------------------------------- protocol


def test_colours_are_random_per_session_and_fixed_by_the_rng() -> None:
    a = start_session(now=0.0, rng=np.random.default_rng(5), screen_light=True)
    b = start_session(now=0.0, rng=np.random.default_rng(5), screen_light=True)
    assert a.light_colours == b.light_colours and len(a.light_colours) == 6
    assert all(c in LIGHT_PALETTE for c in a.light_colours)
    assert all(x != y for x, y in zip(a.light_colours, a.light_colours[1:], strict=False))
    draws = {
        tuple(start_session(now=0.0, rng=np.random.default_rng(s), screen_light=True).light_colours) for s in range(20)
    }
    assert len(draws) > 15
    # the challenges drawn are those of a session without the light step, which comes first
    plain = start_session(now=0.0, rng=np.random.default_rng(5))
    assert [s.challenge for s in a.steps] == [Challenge.SCREEN_LIGHT, *(s.challenge for s in plain.steps)]
    assert plain.light_colours == [] and not plain.screen_light
    assert INSTRUCTIONS[Challenge.SCREEN_LIGHT] == "hold still while the screen changes colour"
    with pytest.raises(ValueError):
        start_session(now=0.0, challenges=[Challenge.SCREEN_LIGHT, Challenge.BLINK])


def test_every_channel_is_lit_and_dark_at_least_twice_in_a_schedule() -> None:
    rng = np.random.default_rng(9)
    schedules = {tuple(draw_colours([float(v) for v in rng.random(6)], 6)) for _ in range(3000)}
    for colours in schedules:
        lit = np.array([synth.hex_colour(c) > 0.5 for c in colours])  # (6, 3)
        assert (lit.sum(axis=0) >= 2).all() and ((~lit).sum(axis=0) >= 2).all(), colours
        assert all(x != y for x, y in itertools.pairwise(colours))
    assert len(schedules) > 1500  # still thousands of schedules to guess from
    # every palette colour is used in every position
    assert all({s[k] for s in schedules} == set(LIGHT_PALETTE) for k in range(6))


def test_progress_carries_the_colour_only_during_the_step(rendered: dict[str, np.ndarray]) -> None:  # noqa: F811
    rng = np.random.default_rng(0)
    session = start_session(now=0.0, rng=np.random.default_rng(3), challenges=[Challenge.BLINK], screen_light=True)
    progress = []
    for i in range(3 + 18 + 3):
        progress.append(add_frame(session, noisy(rendered["neutral"], rng), 50.0 + i / 10, now=i / 10))
    colours = [p.screen_colour for p in progress]
    assert colours[:2] == [None, None]  # baseline
    # the baseline's last frame asks for the first colour; each colour is asked for 3 frames
    expected = [c for c in session.light_colours for _ in range(3)]
    assert colours[2 : 2 + 18] == expected
    assert progress[2].current is Challenge.SCREEN_LIGHT
    assert all(c is None for c in colours[20:]) and progress[20].current is Challenge.BLINK
    assert session.steps[0].met_at is not None and session.completed == [Challenge.SCREEN_LIGHT]
    # every frame of the step (and the one after it) was measured, with the colour asked for before it
    told = [s.colour for s in session.light_samples]
    assert told == [k for k in range(6) for _ in range(3)] + [-1]
    report = finish(session, now=5.0)
    light = next(c for c in report.checks if c.name == CHECK)
    # the same still frame under every colour: nothing responds
    assert light.status is Status.FAIL and light.reason == "no_light_response"


def test_session_without_screen_light_has_no_colour_and_no_check(rendered: dict[str, np.ndarray]) -> None:  # noqa: F811
    rng = np.random.default_rng(1)
    session = start_session(now=0.0, rng=np.random.default_rng(3), challenges=[Challenge.BLINK])
    progress = [add_frame(session, noisy(rendered["neutral"], rng), 50.0 + i / 10, now=i / 10) for i in range(6)]
    assert all(p.screen_colour is None for p in progress)
    report = finish(session, now=1.0)
    assert CHECK not in {c.name for c in report.checks}


# --------------------------------------------------------------------------- closed loop


@pytest.fixture(scope="module")
def subject(astronaut: np.ndarray) -> synth.Subject:
    return synth.prepare_subject(astronaut, np.random.default_rng(0))


def _light_check(seq: synth.LitSequence, rng_seed: int) -> tuple[Status, str, dict[str, object]]:
    session = start_session(
        now=1_000.0, rng=np.random.default_rng(rng_seed), challenges=[Challenge.BLINK], screen_light=True
    )
    report, _ = run_lit_session(seq, session)
    check = next(c for c in report.checks if c.name == CHECK)
    return check.status, check.reason, check.data


def test_closed_loop_live_face_answers_the_colours(subject: synth.Subject) -> None:
    rng = np.random.default_rng(11)
    light = synth.LightSetup(strength=0.08, d_face=0.3, d_background=1.5, lag=1, awb_tau_s=0.6)
    seq = synth.live_scene(subject, [Challenge.SCREEN_LIGHT, Challenge.BLINK], rng, 10.0, light=light)
    status, reason, data = _light_check(seq, 21)
    assert (status, reason) == (Status.PASS, "light_response_ok"), data
    assert data["lag"] == 1


def test_closed_loop_screen_replay_does_not(subject: synth.Subject) -> None:
    rng = np.random.default_rng(12)
    seq = attacks.screen_replay_scene(subject, [Challenge.SCREEN_LIGHT, Challenge.BLINK], rng, 10.0)
    status, reason, data = _light_check(seq, 22)
    assert status is Status.FAIL and reason in ("no_light_response", "light_response_not_face_local"), data
