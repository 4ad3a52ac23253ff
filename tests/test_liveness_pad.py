"""Presentation-attack and injection checks (openidv.liveness.pad) on generated sequences."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from openidv.checks import Severity, Status
from openidv.decision.severity import severity_of
from openidv.liveness import pad
from openidv.liveness.types import Challenge, ChallengeStep, FrameAnalysis
from openidv.synth import attacks
from openidv.synth import liveness as synth

NONCE = "nonce-abcdefghijklmnop"


def _analysis(ts: float, lm: np.ndarray | None = None, *, yaw: float = 0.0, ear: float = 0.3, smile: float = 1.0,
              pitch: float = 0.0, width: float = 0.35, frame_hash: str = "") -> FrameAnalysis:  # fmt: skip
    box = None
    if lm is not None:
        x0, y0 = lm[:, :2].min(axis=0)
        x1, y1 = lm[:, :2].max(axis=0)
        box = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
    return FrameAnalysis(
        timestamp=ts, width=640, height=480, n_faces=1 if lm is not None else 0, face_found=lm is not None,
        landmarks=lm, box=box, yaw=yaw, pitch=pitch, ear=ear, smile=smile, face_width_frac=width,
        frame_hash=frame_hash or hashlib.sha1(str(ts).encode()).hexdigest(),
    )  # fmt: skip


@pytest.fixture(scope="module")
def subject(astronaut: np.ndarray) -> synth.Subject:
    return synth.prepare_subject(astronaut, np.random.default_rng(0))


# ----------------------------------------------------------------------------- planarity


def _turn_analyses(subject: synth.Subject, flat: bool) -> list[FrameAnalysis]:
    """A head turn 0 -> 30 degrees: the mesh rotated in 3-D (live) or the frontal mesh moved
    by the homography of a turned plane (flat), with 0.4 px landmark noise."""
    rng = np.random.default_rng(1)
    front = synth.pose_points(subject, synth.Pose())
    out = []
    for k, yaw in enumerate(np.linspace(0, 30, 10)):
        if flat:
            h = attacks._plane_homography((640, 480), (640, 480), 640, yaw, 0, 0, (320, 240))
            pts = cv2.perspectiveTransform(front[None, :, :2].astype(np.float64), h)[0]
            lm = np.column_stack([pts, front[:, 2]])
        else:
            lm = synth.pose_points(subject, synth.Pose(yaw=float(yaw)))
        lm = lm + np.column_stack([rng.normal(0, 0.4, (len(lm), 2)), np.zeros(len(lm))])
        out.append(_analysis(10 + k / 10, lm.astype(np.float32), yaw=float(yaw)))
    return out


def _analyse_frames(frames: list[np.ndarray]) -> list[FrameAnalysis]:
    from openidv.liveness.frame import FrameAnalyzer

    with FrameAnalyzer() as analyzer:
        return [analyzer.analyse(f, 10 + k / 10) for k, f in enumerate(frames)]


def test_image_parallax_tells_a_turned_photo_from_a_turning_head(subject: synth.Subject) -> None:
    rng = np.random.default_rng(5)
    # a live head turning left then right (rendered from the photo's 3-D mesh)
    seq = synth.live_scene(subject, [Challenge.TURN_LEFT, Challenge.TURN_RIGHT], rng, 10.0)
    head = [f for f, _ in seq.unlit()]
    live = pad.planarity(_analyse_frames(head), head)
    assert live.status is Status.PASS and live.data["method"] == "image", live.data
    assert live.data["texture_residual_iod"] > 2 * pad.PARALLAX_THRESHOLD
    # the same face as a flat photo turned by hand about its vertical axis, +-65 degrees, held close
    # (the mesh reads a flat face turned that far as ~12 degrees of yaw)
    yaws = np.concatenate([np.zeros(5), np.linspace(0, 65, 8), np.linspace(65, 0, 6), np.linspace(0, -65, 8)])
    base = synth.render(subject, synth.Pose())
    photo = [
        synth.camera(cv2.warpPerspective(base, attacks._plane_homography((640, 480), (640, 480), 900, float(y), 0, 0,
                                                                        (320, 240)), (640, 480)), rng)
        for y in yaws
    ]  # fmt: skip
    flat = pad.planarity(_analyse_frames(photo), photo)
    assert flat.status is Status.FAIL and flat.reason == "planar_motion" and flat.data["method"] == "image", flat.data
    assert flat.data["texture_residual_iod"] < pad.PARALLAX_THRESHOLD / 2
    # the mesh is fooled on the same frames: its model of a face puts a nose in front of the photo too
    assert flat.data["nose_residual_iod"] > pad.PLANARITY_THRESHOLD


def test_planarity_separates_head_from_plane(subject: synth.Subject) -> None:
    live = pad.planarity(_turn_analyses(subject, flat=False))
    flat = pad.planarity(_turn_analyses(subject, flat=True))
    assert live.status is Status.PASS and live.reason == "parallax"
    assert flat.status is Status.FAIL and flat.reason == "planar_motion"
    assert live.data["nose_residual_iod"] > 2 * flat.data["nose_residual_iod"]
    assert live.score is not None and flat.score is not None and live.score > 0.9 > 0.1 > flat.score


def test_planarity_inconclusive_without_turn(subject: synth.Subject) -> None:
    lm = synth.pose_points(subject, synth.Pose()).astype(np.float32)
    still = [_analysis(1 + k / 10, lm, yaw=0.5 * (k % 2)) for k in range(10)]
    assert pad.planarity(still).reason == "no_head_turn"
    assert pad.planarity([_analysis(1.0), _analysis(1.1)]).status is Status.INCONCLUSIVE


# ----------------------------------------------------------------------------- blink / smile


def test_blink_smile_requested_and_seen() -> None:
    lm = np.zeros((478, 3), np.float32)
    ears = [0.3] * 10 + [0.1, 0.08] + [0.3] * 10
    smiles = [1.0] * 14 + [1.3] * 4 + [1.0] * 4
    frames = [_analysis(1 + k / 10, lm, ear=e, smile=s) for k, (e, s) in enumerate(zip(ears, smiles, strict=True))]
    steps = [ChallengeStep(Challenge.BLINK, 8.0, 2.2), ChallengeStep(Challenge.SMILE, 8.0, 2.5)]
    assert pad.blink_smile_performed(frames, steps).status is Status.PASS
    still = [_analysis(1 + k / 10, lm) for k in range(22)]
    res = pad.blink_smile_performed(still, steps)
    assert res.status is Status.FAIL and res.reason == "blink_not_performed" and res.score == 0.0
    assert pad.blink_smile_performed(still, [ChallengeStep(Challenge.TURN_LEFT, 8.0, 2.0)]).reason == "not_requested"


# ----------------------------------------------------------------------------- injection / replay


def _timeline(ts: list[float], hashes: list[str] | None = None) -> list[FrameAnalysis]:
    lm = np.zeros((478, 3), np.float32)
    return [_analysis(t, lm, frame_hash=(hashes[i] if hashes else "")) for i, t in enumerate(ts)]


def test_blink_reference_ignores_turned_frames() -> None:
    """A turned head reads a wider-open eye (its width is foreshortened): the open-eye
    reference must come from the frontal frames, or a blink whose eyes reopen to the
    frontal EAR never counts as recovered."""
    lm = np.zeros((478, 3), np.float32)
    # 10 frontal frames (EAR 0.26), 30 frames turned by 30 degrees (EAR 0.33), then a blink and reopening
    yaws = [0.0] * 10 + [30.0] * 30 + [0.0] * 10
    ears = [0.26] * 10 + [0.33] * 30 + [0.26] * 4 + [0.06, 0.05] + [0.25, 0.26, 0.26, 0.26]
    an = [_analysis(10 + k / 10, lm, yaw=y, ear=e) for k, (y, e) in enumerate(zip(yaws, ears, strict=True))]
    steps = [ChallengeStep(Challenge.TURN_LEFT, 8.0, 11.5), ChallengeStep(Challenge.BLINK, 8.0, 14.5)]
    res = pad.blink_smile_performed(an, steps)
    assert res.status is Status.PASS, res
    assert res.data["ear_open"] == pytest.approx(0.26, abs=0.005)
    # the same sequence without the reopening fails
    an_closed = [*an[:44], *(_analysis(10 + k / 10, lm, ear=0.05) for k in range(44, 50))]
    assert pad.blink_smile_performed(an_closed, steps).status is Status.FAIL


def test_injection_timing_and_duplicates() -> None:
    good = [10 + k / 15 for k in range(40)]
    steps = [ChallengeStep(Challenge.BLINK, 8.0, good[20])]
    blink = _timeline(good)
    blink[20] = _analysis(good[20], np.zeros((478, 3), np.float32), ear=0.1)
    assert pad.injection_replay([], blink, steps, nonce=NONCE).status is Status.PASS
    assert pad.injection_replay([], _timeline(good), steps, nonce=NONCE).reason == "challenge_not_shown"
    back = [*good[:10], good[5], *good[11:]]
    assert pad.injection_replay([], _timeline(back), steps, nonce=NONCE).reason == "timestamps_not_monotonic"
    fast = [10 + k / 200 for k in range(40)]
    assert pad.injection_replay([], _timeline(fast), steps, nonce=NONCE).reason == "implausible_frame_rate"
    hashes = [f"h{k // 2}" for k in range(40)]
    assert pad.injection_replay([], _timeline(good, hashes), steps, nonce=NONCE).reason == "duplicate_frames"
    assert pad.injection_replay([], _timeline(good), steps, nonce="short").reason == "bad_nonce"
    assert pad.injection_replay([], _timeline(good[:2]), steps, nonce=NONCE).status is Status.INCONCLUSIVE


def test_injection_order_window_and_evidence() -> None:
    lm = np.zeros((478, 3), np.float32)
    ts = [10 + k / 10 for k in range(60)]
    yaws = [0.0] * 20 + [30.0] * 5 + [0.0] * 15 + [-30.0] * 5 + [0.0] * 15
    timeline = [_analysis(t, lm, yaw=y) for t, y in zip(ts, yaws, strict=True)]
    steps = [ChallengeStep(Challenge.TURN_LEFT, 8.0, ts[21]), ChallengeStep(Challenge.TURN_RIGHT, 8.0, ts[41])]
    res = pad.injection_replay([], timeline, steps, nonce=NONCE)
    assert res.status is Status.PASS, res
    swapped = [ChallengeStep(Challenge.TURN_LEFT, 8.0, ts[41]), ChallengeStep(Challenge.TURN_RIGHT, 8.0, ts[21])]
    assert pad.injection_replay([], timeline, swapped, nonce=NONCE).reason == "challenge_order"
    wrong = [ChallengeStep(Challenge.TURN_RIGHT, 8.0, ts[21]), ChallengeStep(Challenge.TURN_LEFT, 8.0, ts[41])]
    assert pad.injection_replay([], timeline, wrong, nonce=NONCE).reason == "challenge_not_shown"
    late = [ChallengeStep(Challenge.TURN_LEFT, 1.0, ts[21]), ChallengeStep(Challenge.TURN_RIGHT, 8.0, ts[41])]
    assert pad.injection_replay([], timeline, late, nonce=NONCE).reason == "challenge_out_of_window"
    unmet = [ChallengeStep(Challenge.TURN_LEFT, 8.0, ts[21]), ChallengeStep(Challenge.TURN_RIGHT, 8.0, None)]
    assert pad.injection_replay([], timeline, unmet, nonce=NONCE).reason == "challenge_not_met"


# ----------------------------------------------------------------------------- image cues on rendered sequences


@pytest.fixture(scope="module")
def sequences(subject: synth.Subject) -> dict[str, tuple[list[np.ndarray], list[FrameAnalysis]]]:
    from openidv.liveness.frame import FrameAnalyzer

    out = {}
    ch = [Challenge.TURN_LEFT, Challenge.BLINK]
    gens = {
        "live": lambda r: synth.live_sequence(subject, ch, r, 8.0),
        "print": lambda r: attacks.printed_photo(subject, ch, r, 8.0),
        "static": lambda r: attacks.static_photo(subject, ch, r, 8.0),
    }
    for name, gen in gens.items():
        seq = gen(np.random.default_rng(3))
        with FrameAnalyzer() as analyzer:
            analyses = [analyzer.analyse(f, t) for f, t in seq]
        out[name] = ([f for f, _ in seq], analyses)
    return out


def test_live_sequence_passes_image_checks(sequences: dict[str, tuple[list[np.ndarray], list[FrameAnalysis]]]) -> None:
    frames, analyses = sequences["live"]
    assert pad.planarity(analyses).status is Status.PASS
    assert pad.screen_replay(frames, analyses).status is Status.PASS
    assert pad.print_attack(frames, analyses).status is Status.PASS
    screen = pad.screen_replay(frames, analyses)
    assert screen.data["lattice_peak_median"] < pad.LATTICE_PEAK and screen.data["banding_median"] < pad.BANDING_RATIO
    r = pad.rppg(frames, analyses)
    assert r.status is not Status.FAIL and severity_of(r.name, r.reason) is Severity.ADVISORY


def test_print_attack_caught(sequences: dict[str, tuple[list[np.ndarray], list[FrameAnalysis]]]) -> None:
    frames, analyses = sequences["print"]
    res = pad.print_attack(frames, analyses)
    assert res.status is Status.FAIL and res.reason in {"sheet_edges", "flat_tone", "halftone"}


def test_static_photo_no_turn_no_blink(sequences: dict[str, tuple[list[np.ndarray], list[FrameAnalysis]]]) -> None:
    frames, analyses = sequences["static"]
    assert pad.planarity(analyses).reason == "no_head_turn"
    steps = [ChallengeStep(Challenge.TURN_LEFT, 8.0, None), ChallengeStep(Challenge.BLINK, 8.0, None)]
    assert pad.blink_smile_performed(analyses, steps).status is Status.FAIL
    checks = pad.sequence_checks(frames, analyses, steps, nonce=NONCE)
    assert {c.name for c in checks} == {
        "planarity",
        "blink_smile",
        "screen_replay",
        "print_attack",
        "rppg",
        "injection_replay",
    }
    assert next(c for c in checks if c.name == "injection_replay").status is Status.FAIL


def test_frozen_and_duplicated_frames(sequences: dict[str, tuple[list[np.ndarray], list[FrameAnalysis]]]) -> None:
    frames, analyses = sequences["live"]
    frozen = [frames[0]] * 10
    ts = [5 + k / 10 for k in range(10)]
    an = [FrameAnalysis(**{**analyses[0].__dict__, "timestamp": t, "frame_hash": f"x{t}"}) for t in ts]
    res = pad.injection_replay(frozen, an, [ChallengeStep(Challenge.BLINK, 8.0, None)], nonce=NONCE)
    assert res.reason == "frozen_frames"


def test_sequence_checks_handle_empty_and_odd_input() -> None:
    checks = pad.sequence_checks([], [], [], nonce=NONCE)
    assert all(c.status is not Status.PASS for c in checks)
    assert len(checks) == 6


# ----------------------------------------------------------------------------- screen cues


def test_lattice_peak_sees_a_lattice_not_noise() -> None:
    rng = np.random.default_rng(2)
    skin = cv2.GaussianBlur(rng.normal(150, 20, (160, 160, 3)).astype(np.float32), (0, 0), 1.2)
    noisy = np.clip(skin + rng.normal(0, 2.5, skin.shape), 0, 255).astype(np.uint8)
    yy, xx = np.mgrid[0:160, 0:160].astype(np.float32)
    beat = np.stack([np.cos(2 * np.pi * (0.23 * xx + 0.05 * yy - c / 3)) for c in range(3)], axis=2)
    moire = np.clip(skin * (1 + 0.05 * beat) + rng.normal(0, 2.5, skin.shape), 0, 255).astype(np.uint8)
    assert pad.lattice_peak(noisy) < pad.LATTICE_PEAK < pad.lattice_peak(moire)
    assert pad.lattice_peak(noisy[:20, :20]) == 0.0  # too small to judge


def test_row_banding_sees_drifting_bands() -> None:
    rng = np.random.default_rng(3)
    scene = cv2.GaussianBlur(rng.uniform(40, 200, (480, 640)).astype(np.float32), (0, 0), 8)
    rows = np.arange(480, dtype=np.float32)[:, None]

    def frame(phase: float, depth: float) -> np.ndarray:
        bands = 1 - depth * (np.sin(2 * np.pi * (rows / 31.0 + phase)) > 0)
        img = scene * bands + rng.normal(0, 2.5, scene.shape)
        return np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, axis=2)

    assert pad.row_banding(frame(0.0, 0.0), frame(0.3, 0.0)) < pad.BANDING_RATIO
    assert pad.row_banding(frame(0.0, 0.08), frame(0.3, 0.08)) > pad.BANDING_RATIO
    assert pad.row_banding(frame(0.0, 0.0), frame(0.0, 0.0)[:100]) == 0.0  # shapes differ


def _analysed(seq: list[tuple[np.ndarray, float]]) -> tuple[list[np.ndarray], list[FrameAnalysis]]:
    from openidv.liveness.frame import FrameAnalyzer

    with FrameAnalyzer() as analyzer:
        analyses = [analyzer.analyse(f, t) for f, t in seq]
    return [f for f, _ in seq], analyses


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"density": 1.2, "sensor_scale": 2.25, "coverage": 1.2, "pwm_depth": 0.0}, "moire"),
        ({"density": 3.4, "sensor_scale": 1.0, "coverage": 1.2, "pwm_depth": 0.1, "pwm_period": 30.0}, "flicker_bands"),
        (
            {"density": 3.4, "sensor_scale": 1.0, "coverage": 0.7, "pwm_depth": 0.0, "bezel_level": 15.0},
            "device_border",
        ),
    ],
)
def test_screen_replay_cues(subject: synth.Subject, change: dict[str, float], reason: str) -> None:
    import dataclasses

    rng = np.random.default_rng(5)
    setup = dataclasses.replace(attacks.screen_setup(rng), **change)  # type: ignore[arg-type]
    frames, analyses = _analysed(attacks.screen_replay(subject, [Challenge.BLINK], rng, 6.0, setup=setup))
    res = pad.screen_replay(frames, analyses)
    assert res.status is Status.FAIL and res.reason == reason, res
    assert {"lattice_peak_median", "banding_median", "border_fraction", "cue_scores"} <= set(res.data)
    assert res.score is not None and res.score < 0.5


def test_silent_face_stills_real_data() -> None:
    """The three real Silent-Face stills (../shared/data; skipped when absent): the live one
    passes the screen and print cues, the printed one fails on its flat tone range. (The screen
    sample shows none of the screen cues in a single still: no flicker pair, no bezel, and its
    lattice is below the camera's resolution; it is a documented miss, not asserted here.)"""
    from openidv.liveness.frame import FrameAnalyzer
    from tests.conftest import shared_path

    folder = shared_path("silent_face_anti_spoofing", "images", "sample")
    results = {}
    for name in ("image_T1.jpg", "image_F1.jpg"):
        bgr = cv2.imread(str(folder / name), cv2.IMREAD_COLOR)
        assert bgr is not None
        rgb = np.ascontiguousarray(bgr[:, :, ::-1])
        with FrameAnalyzer() as analyzer:
            a = analyzer.analyse(rgb, 0.0)
        assert a.face_found
        results[name] = (pad.screen_replay([rgb, rgb], [a, a]), pad.print_attack([rgb, rgb], [a, a]))
    live_screen, live_print = results["image_T1.jpg"]
    assert live_screen.status is Status.PASS and live_print.status is Status.PASS
    assert live_screen.data["lattice_peak_median"] < pad.LATTICE_PEAK - 0.5
    assert results["image_F1.jpg"][1].status is Status.FAIL
