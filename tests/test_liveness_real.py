"""Passive liveness checks on real live faces: the real videos of ../shared/data (skipped when
absent), a smaller face behind the user, and a fabric-like weave over the lower face."""

from __future__ import annotations

import csv

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness import pad
from openidv.liveness.frame import GUIDANCE_MANY_FACES
from openidv.liveness.offline import iter_frames, run_offline
from openidv.liveness.session import CHECK_SINGLE_FACE, SessionConfig, finish
from openidv.liveness.types import Challenge
from tests.conftest import shared_path
from tests.test_liveness_frame import analyse_all, rendered  # noqa: F401  (the fixture is shared)
from tests.test_liveness_session import Feeder, new_session

#: Checks that judge what the camera sees, not whether the user answered a challenge.
PASSIVE_CHECKS = frozenset(
    {"single_face", "same_person", "frame_quality", "planarity", "screen_replay", "print_attack", "rppg"}
)
#: ``injection_replay`` is passive except for its reasons about the challenges.
CHALLENGE_REASONS = frozenset(
    {"challenge_order", "challenge_out_of_window", "challenge_not_shown", "challenge_not_met"}
)


def _scene_with_smaller_face(face: np.ndarray, fraction: float) -> np.ndarray:
    """The user's face (320 px) on the left and a sharp copy ``fraction`` as wide on the right."""
    user = cv2.resize(face, (320, 320), interpolation=cv2.INTER_AREA)
    side = round(320 * fraction)
    small = cv2.resize(face, (side, side), interpolation=cv2.INTER_AREA)
    scene = np.full((480, 640, 3), 128, np.uint8)
    scene[80:400, :320] = user
    scene[120 : 120 + side, 400 : 400 + side] = small
    return scene


def test_a_smaller_face_behind_the_user_is_counted_apart(rendered: dict[str, np.ndarray]) -> None:  # noqa: F811
    face = rendered["neutral"][60:420, 140:500]
    a = analyse_all([_scene_with_smaller_face(face, 0.45)])[0]
    assert a.face_found and a.n_faces == 1 and a.n_smaller_faces == 1
    assert a.guidance != GUIDANCE_MANY_FACES


def test_a_smaller_face_makes_single_face_inconclusive_not_failed(rendered: dict[str, np.ndarray]) -> None:  # noqa: F811
    face = rendered["neutral"][60:420, 140:500]
    frames = {**rendered, "bystander": _scene_with_smaller_face(face, 0.45)}
    session = new_session([Challenge.BLINK, Challenge.TURN_LEFT])
    feeder = Feeder(session, frames)
    feeder.feed(["neutral"] * 4 + ["bystander"] * 4)
    single = next(c for c in finish(session, now=feeder.t).checks if c.name == CHECK_SINGLE_FACE)
    assert (single.status, single.reason) == (Status.INCONCLUSIVE, "smaller_face")
    assert single.data["frames_with_smaller_faces"] >= 2


def test_a_weave_over_the_lower_face_is_not_moire(rendered: dict[str, np.ndarray]) -> None:  # noqa: F811
    """A fine periodic weave (a fabric mask) under the nose aliases into a narrow peak like a
    display's lattice, but only there: the brow stays clean, so it is not a screen."""
    frame = rendered["neutral"]
    a = analyse_all([frame])[0]
    assert a.landmarks is not None
    yy, xx = np.mgrid[0 : frame.shape[0], 0 : frame.shape[1]].astype(np.float32)
    weave = 0.5 * (np.sin(2 * np.pi * xx / 3.4) + np.sin(2 * np.pi * yy / 3.4))
    masked = frame.astype(np.float32)
    below_nose = yy > a.landmarks[4, 1]
    masked[below_nose] = (np.array([60.0, 70.0, 95.0]) * (1.0 + 0.25 * weave[below_nose, None])).astype(np.float32)
    masked_frame = np.clip(masked, 0, 255).astype(np.uint8)
    crop = pad.face_crop(masked_frame, a)
    windows = pad.region_windows(masked_frame, a)
    assert crop is not None and windows is not None
    assert pad.lattice_peak(crop) > pad.LATTICE_PEAK  # the whole-face crop sees the weave ...
    assert min(pad.lattice_peak(w) for w in windows) < pad.LATTICE_REGION_PEAK  # ... the brow does not
    check = pad.screen_replay([masked_frame] * 3, [a] * 3)
    assert check.status is Status.PASS, check


def _passive_failures(report_checks: list[CheckResult]) -> dict[str, str]:
    out = {}
    for c in report_checks:
        passive = c.name in PASSIVE_CHECKS or (c.name == "injection_replay" and c.reason not in CHALLENGE_REASONS)
        if passive and c.status is Status.FAIL:
            out[c.name] = c.reason
    return out


def test_real_live_videos_fail_no_passive_check() -> None:
    """The real live recordings (webcam and phone, head turns, no challenge answered, no screen
    light) fail no passive check. Frames are thinned to at most ~15 fps; challenge windows are
    unlimited so every frame is judged."""
    root = shared_path("real_videos")
    with (root / "labels.tsv").open(newline="", encoding="utf-8") as f:
        live = [row["file"] for row in csv.DictReader(f, delimiter="\t") if row["label"] == "live"]
    assert len(live) == 3
    config = SessionConfig(window_s=1e6)
    failures = {}
    for name in live:
        frames = list(iter_frames(root / name))
        fps = 1.0 / max(frames[1][1] - frames[0][1], 1e-6)
        frames = frames[:: max(1, round(fps / 15.0))]
        report = run_offline(frames, [Challenge.TURN_LEFT, Challenge.TURN_RIGHT], seed=1, config=config)
        if failed := _passive_failures(list(report.checks)):
            failures[name] = failed
    assert failures == {}
