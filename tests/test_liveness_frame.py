"""Frame analysis of the liveness engine: mesh measures, head pose signs, guidance, timing.

Frames are generated: scikit-image's astronaut photograph re-posed in 3-D with its own
face mesh (:mod:`openidv.synth.liveness`). Angles given to the generator are rendered
orthographically; the mesh reads them somewhat short (see ``openidv.liveness.frame``).
"""

from __future__ import annotations

import math
import os
import statistics
import time

import cv2
import numpy as np
import pytest
from skimage import data

from openidv.errors import CorruptImageError, EmptyImageError, NotAnImageError
from openidv.imaging import encode_jpeg
from openidv.liveness.frame import (
    _PNP_IDS,
    _PNP_MODEL,
    GUIDANCE_CLOSER,
    GUIDANCE_DARK,
    GUIDANCE_MANY_FACES,
    GUIDANCE_NO_FACE,
    GUIDANCE_STILL,
    FrameAnalyzer,
    decode_frame,
    frame_hash,
    head_pose,
    head_pose_pnp,
    mouth_corner_lift,
)
from openidv.liveness.types import FrameAnalysis
from openidv.synth import liveness as synth
from tests.conftest import shared_path

#: Poses the tests use, as generator input (degrees, ratios).
POSES: dict[str, synth.Pose] = {
    "neutral": synth.Pose(),
    "left": synth.Pose(yaw=35.0),
    "right": synth.Pose(yaw=-35.0),
    "up": synth.Pose(pitch=25.0),
    "blink": synth.Pose(blink=1.0),
    "smile": synth.Pose(smile=1.0),
    "closer": synth.Pose(zoom=1.45),
}


@pytest.fixture(scope="session")
def rendered() -> dict[str, np.ndarray]:
    """Clean 640x480 renders of the astronaut in each of :data:`POSES`."""
    rng = np.random.default_rng(7)
    subject = synth.prepare_subject(data.astronaut(), rng, face_frac=(0.34, 0.34))
    return {name: synth.render(subject, pose) for name, pose in POSES.items()}


def noisy(frame: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """A camera-like copy: Gaussian sensor noise, so repeated frames are not identical."""
    out = frame.astype(np.int16) + rng.normal(0.0, sigma, frame.shape).astype(np.int16)
    return np.clip(out, 0, 255).astype(np.uint8)


def analyse_all(frames: list[np.ndarray]) -> list[FrameAnalysis]:
    with FrameAnalyzer() as analyzer:
        return [analyzer.analyse(f, i / 15.0) for i, f in enumerate(frames)]


# --------------------------------------------------------------------------- geometry helpers


def _rotation(yaw: float, pitch: float, roll: float) -> np.ndarray:
    """Rotation (template -> image axes) for the module's sign conventions.

    Roll first (about the face's own axis), then pitch, then yaw, so the face's normal
    has exactly this yaw and pitch; the eye line's angle in the image is the roll up to
    ~1 degree for these small combined angles.
    """
    y, p, r = (math.radians(v) for v in (yaw, pitch, roll))
    # yaw: the nose (z = -d) moves to +x; pitch: the nose moves up (-y); roll: clockwise in the image
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), math.sin(p)], [0, -math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    return np.asarray(ry @ rx @ rz, dtype=np.float64)


@pytest.mark.parametrize(("yaw", "pitch", "roll"), [(0, 0, 0), (25, 0, 0), (-30, 0, 0), (0, 15, 0), (10, -8, 12)])
def test_head_pose_recovers_known_rotations(yaw: float, pitch: float, roll: float) -> None:
    rot = _rotation(yaw, pitch, roll)
    pts = (_PNP_MODEL @ rot.T) * 2.5 + np.array([320.0, 240.0, 0.0])  # 2.5 px per mm, frame centre
    landmarks = np.zeros((478, 3), np.float32)
    landmarks[_PNP_IDS] = pts
    got = head_pose(landmarks)
    assert got == pytest.approx((yaw, pitch, roll), abs=1.0)
    # the solvePnP alternative on a perspective projection of the same head 500 mm away
    cam = _PNP_MODEL @ rot.T + np.array([0.0, 0.0, 500.0])
    proj = np.zeros((478, 3), np.float32)
    proj[_PNP_IDS, :2] = 640.0 * cam[:, :2] / cam[:, 2:3] + np.array([320.0, 240.0])
    assert head_pose_pnp(proj, 640, 480) == pytest.approx((yaw, pitch, roll), abs=1.5)


def test_head_pose_degenerate_points_give_zeros() -> None:
    assert head_pose(np.zeros((478, 3), np.float32)) == (0.0, 0.0, 0.0)
    assert head_pose_pnp(np.full((478, 3), np.nan, np.float32), 640, 480) == (0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- decoding


def test_decode_frame_round_trip_and_typed_errors(rendered: dict[str, np.ndarray]) -> None:
    jpeg = encode_jpeg(rendered["neutral"], 90)
    rgb = decode_frame(jpeg)
    assert rgb.shape == (480, 640, 3) and rgb.dtype == np.uint8
    with pytest.raises(CorruptImageError):
        decode_frame(jpeg[: len(jpeg) // 3])
    with pytest.raises(EmptyImageError):
        decode_frame(b"")
    with pytest.raises(NotAnImageError):
        decode_frame(b"this is not a jpeg at all" * 10)


# --------------------------------------------------------------------------- measures


def test_neutral_frame_fills_every_field(rendered: dict[str, np.ndarray]) -> None:
    frame = rendered["neutral"]
    a = analyse_all([frame])[0]
    assert a.face_found and a.n_faces == 1
    assert a.width == 640 and a.height == 480 and a.timestamp == 0.0
    assert a.landmarks is not None and a.landmarks.shape == (478, 3) and a.landmarks.dtype == np.float32
    x, y, w, h = a.box or (0, 0, 0, 0)
    assert x >= 0 and y >= 0 and x + w <= 640 and y + h <= 480 and w > 100
    assert abs(a.yaw) < 12 and abs(a.pitch) < 15 and abs(a.roll) < 10
    assert 0.2 < a.ear < 0.45
    assert 0.8 < a.smile < 1.3
    assert 0.25 < a.face_width_frac < 0.45
    assert 60 < a.brightness < 220
    assert a.sharpness > 30
    assert a.frame_hash == frame_hash(frame.copy()) and len(a.frame_hash) == 32
    assert a.frame_hash != frame_hash(rendered["left"])
    assert a.guidance == ""


def test_head_turns_and_look_up_have_the_documented_signs(rendered: dict[str, np.ndarray]) -> None:
    # in sequence, through frontal between the poses; each pose twice, as a tracked head
    # holds it (a pose jump in one frame leaves the tracker's region of interest behind)
    order = ("neutral", "left", "neutral", "right", "neutral", "up")
    seq = analyse_all([rendered[k] for k in order for _ in range(2)])
    neutral, left, right, up = seq[1], seq[3], seq[7], seq[11]
    # subject turns to their left = the image's right = positive yaw
    assert left.yaw - neutral.yaw > 15
    assert right.yaw - neutral.yaw < -15
    assert up.pitch - neutral.pitch > 12
    assert abs(up.yaw - neutral.yaw) < 8
    assert abs(left.pitch - neutral.pitch) < 8


def test_roll_sign_is_clockwise_positive(rendered: dict[str, np.ndarray]) -> None:
    frame = rendered["neutral"]
    # rotating the image content clockwise on screen = a negative angle for cv2 (counter-clockwise positive)
    m = cv2.getRotationMatrix2D((320, 240), -15, 1.0)
    turned = cv2.warpAffine(frame, m, (640, 480), borderMode=cv2.BORDER_REFLECT101)
    base, rolled = analyse_all([frame, turned])
    assert rolled.roll - base.roll == pytest.approx(15, abs=4)


def test_blink_smile_and_closer_move_their_measures(rendered: dict[str, np.ndarray]) -> None:
    seq = analyse_all([rendered[k] for k in ("neutral", "blink", "smile", "closer") for _ in range(2)])
    neutral, blink, smile, closer = seq[1], seq[3], seq[5], seq[7]
    assert blink.ear < 0.6 * neutral.ear
    assert smile.smile > 1.15 * neutral.smile
    assert neutral.landmarks is not None and smile.landmarks is not None
    assert mouth_corner_lift(smile.landmarks) > mouth_corner_lift(neutral.landmarks)
    assert closer.face_width_frac > 1.3 * neutral.face_width_frac


def test_closed_eye_is_covered_by_lid_skin() -> None:
    """A rendered blink covers the eye opening with eyelid skin (not stretched lashes), and the
    mesh then reads a closed eye: EAR at most a fifth of the open one (real closed eyes read
    ~0.05-0.1 against ~0.3 open; the warp alone left ~0.25 of the open EAR on this face)."""
    rng = np.random.default_rng(7)
    subject = synth.prepare_subject(data.astronaut(), rng, face_frac=(0.34, 0.34))
    open_, closed = (synth.render(subject, synth.Pose(blink=b)) for b in (0.0, 1.0))
    # inside the open eye's upper half (iris, sclera, lashes) the closed frame shows smooth lid skin
    mesh = subject.mesh
    for up, low in ((159, 145), (386, 374)):
        x, y0, y1 = int(mesh[up, 0]), int(mesh[up, 1]), int((mesh[up, 1] + mesh[low, 1]) / 2)
        patch_open = open_[y0:y1, x - 6 : x + 7].astype(np.float32)
        patch_closed = closed[y0:y1, x - 6 : x + 7].astype(np.float32)
        assert patch_closed.std() < 0.6 * patch_open.std()  # the warp alone: 0.7-0.8
    neutral, blink = analyse_all([open_, open_, closed, closed])[1::2]
    assert blink.ear < 0.2 * neutral.ear


# --------------------------------------------------------------------------- guidance


def test_two_faces_ask_for_one(rendered: dict[str, np.ndarray]) -> None:
    face = rendered["neutral"][60:420, 140:500]  # 360x360 around the face
    half = cv2.resize(face, (320, 320), interpolation=cv2.INTER_AREA)
    two = np.full((480, 640, 3), 128, np.uint8)
    two[80:400, :320] = half
    two[80:400, 320:] = half
    a = analyse_all([two])[0]
    assert a.face_found and a.n_faces == 2
    assert a.guidance == GUIDANCE_MANY_FACES


def test_an_out_of_focus_face_in_the_background_is_not_a_second_face(rendered: dict[str, np.ndarray]) -> None:
    face = rendered["neutral"][60:420, 140:500]
    half = cv2.resize(face, (320, 320), interpolation=cv2.INTER_AREA)
    scene = np.full((480, 640, 3), 128, np.uint8)
    scene[80:400, :320] = half
    scene[80:400, 320:] = cv2.GaussianBlur(half, (0, 0), 8.0)  # a bystander far out of focus
    with FrameAnalyzer() as analyzer:
        meshes = analyzer.tracker.process(scene).multi_face_landmarks or []
        assert len(meshes) == 2  # the mesh does find it ...
    a = analyse_all([scene])[0]
    assert a.face_found and a.n_faces == 1  # ... but it is not presented to the camera
    assert a.guidance != GUIDANCE_MANY_FACES


def test_dark_frame_asks_for_light(rendered: dict[str, np.ndarray]) -> None:
    dark = (rendered["neutral"].astype(np.float32) * 0.12).astype(np.uint8)
    black = np.zeros((480, 640, 3), np.uint8)
    for a in analyse_all([dark, black]):
        assert a.guidance == GUIDANCE_DARK


def test_no_face_small_face_and_blur(rendered: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(3)
    empty = rng.integers(90, 160, (480, 640, 3), dtype=np.uint8)
    small = np.full((480, 640, 3), 120, np.uint8)
    small[120:360, 160:480] = cv2.resize(rendered["neutral"], (320, 240), interpolation=cv2.INTER_AREA)
    blurred = cv2.GaussianBlur(rendered["neutral"], (0, 0), 6)
    nothing = analyse_all([empty])[0]
    assert not nothing.face_found and nothing.n_faces == 0 and nothing.landmarks is None
    assert nothing.guidance == GUIDANCE_NO_FACE
    far = analyse_all([small])[0]
    assert far.face_found and far.guidance == GUIDANCE_CLOSER
    shaky = analyse_all([blurred])[0]
    assert shaky.face_found and shaky.guidance == GUIDANCE_STILL


def test_large_frames_are_analysed_in_their_own_pixels(rendered: dict[str, np.ndarray]) -> None:
    big = cv2.resize(rendered["neutral"], (1920, 1440), interpolation=cv2.INTER_CUBIC)
    small, large = analyse_all([rendered["neutral"]])[0], analyse_all([big])[0]
    assert large.width == 1920 and large.face_found
    assert large.landmarks is not None and small.landmarks is not None
    assert np.abs(large.landmarks[:, :2] / 3.0 - small.landmarks[:, :2]).mean() < 3.0


# --------------------------------------------------------------------------- timing


def test_analyse_time_per_640x480_frame(rendered: dict[str, np.ndarray]) -> None:
    """Median wall time of ``analyse`` on a tracked sequence (reported; target 30 ms on one core)."""
    rng = np.random.default_rng(5)
    frames = [noisy(rendered[k], rng) for k in ("neutral", "left", "neutral", "right", "neutral", "blink") * 6]
    with FrameAnalyzer() as analyzer:
        analyzer.analyse(frames[0], 0.0)  # graph start-up is not per-frame work
        times = []
        for i, f in enumerate(frames):
            t0 = time.perf_counter()
            analyzer.analyse(f, i / 15.0)
            times.append((time.perf_counter() - t0) * 1000.0)
    median = statistics.median(times)
    print(f"\nanalyse(): median {median:.1f} ms, max {max(times):.1f} ms over {len(times)} frames "
          f"(OPENIDV_ONNX_THREADS={os.environ.get('OPENIDV_ONNX_THREADS', 'unset')})")  # fmt: skip
    assert median < 150.0  # generous: shared CI machines; the 30 ms target is measured on an idle core


# --------------------------------------------------------------------------- real video (shared data)


def test_hamilton_clip_gives_faces_and_plausible_poses() -> None:
    path = shared_path("video", "short_hamilton_clip.mp4")
    cap = cv2.VideoCapture(str(path))
    frames: list[np.ndarray] = []
    while len(frames) < 140:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
    cap.release()
    # the stage close-ups (1.5-4.5 s) show one performer talking
    analyses = analyse_all(frames[45:135])
    found = [a for a in analyses if a.face_found]
    assert len(found) >= 0.6 * len(analyses)
    for a in found:
        assert -70 < a.yaw < 70 and -45 < a.pitch < 45 and -45 < a.roll < 45
        assert 0.05 < a.ear < 0.6
        assert a.n_faces == 1
