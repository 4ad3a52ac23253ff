"""Presentation and injection attacks generated from real photos, each as a camera sequence.

Every generator takes a :class:`~openidv.liveness.synth.Subject` (a real photo placed in
a frame, see :func:`~openidv.liveness.synth.prepare_subject`), the challenges the session
issued, a ``numpy.random.Generator`` and a frame rate, and returns (RGB frame 640 x 480,
client timestamp s) pairs like :func:`~openidv.liveness.synth.live_sequence`.

* ``static_photo``: a still of the face, not moving (photo on a stand, or one image
  injected through a virtual camera); only sensor noise changes.
* ``printed_photo``: the face printed on paper (tone range of paper, halftone dots, paper
  grain, white margin) held by hand: the sheet turns, tilts and comes closer to fake
  the challenges (one plane-to-image homography per frame), background visible around it.
* ``screen_replay``: a live recording performing the right challenges, shown on a phone
  or monitor filmed by the camera: RGB sub-pixel grid resampled by the sensor (moire),
  backlight black level, reduced contrast, blue cast, glare, bezel, hand shake.
* ``replayed_session``: a genuine-looking live sequence recorded for other challenges
  (another order), injected into this session.
* ``duplicated_frames``: a live sequence for the right challenges whose frames are
  repeated (doubled to fake a frame rate) or frozen (a stretch of one frame).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from openidv.liveness import synth
from openidv.liveness.types import Challenge

Sequence_ = list[tuple[np.ndarray, float]]
AttackFn = Callable[[synth.Subject, Sequence[Challenge], np.random.Generator, float], Sequence_]

_FOCAL = 560.0  #: camera focal length, px (about 60 degrees across 640 px)


def static_photo(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A still face: the same neutral frame each time, with fresh sensor noise and JPEG."""
    n = max(30, round(fps * (1.0 + 1.6 * len(challenges))))
    ts = synth.timestamps(n, rng, fps)
    sigma = rng.uniform(1.5, 3.5)
    quality = int(rng.integers(75, 93))
    return [(synth.camera(subject.base, rng, noise_sigma=sigma, jpeg_quality=quality), float(t)) for t in ts]


def _plane_homography(
    size: tuple[int, int],
    frame: tuple[int, int],
    width_px: float,
    yaw: float,
    pitch: float,
    roll: float,
    centre: tuple[float, float],
) -> np.ndarray:
    """Homography from a flat image of ``size`` (w, h) px to the camera frame: the plane is
    rotated by yaw/pitch/roll (degrees) and placed so that it appears ``width_px`` wide
    when facing the camera, centred at ``centre`` (px); pinhole camera with ``_FOCAL``."""
    w, h = size
    scale = width_px / w
    z0 = 1000.0
    corners = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]]) * scale
    corners *= z0 / _FOCAL
    a, b, c = np.deg2rad([yaw, pitch, roll])
    ry = np.array([[np.cos(a), 0, -np.sin(a)], [0, 1, 0], [np.sin(a), 0, np.cos(a)]])
    rx = np.array([[1, 0, 0], [0, np.cos(b), np.sin(b)], [0, -np.sin(b), np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    pts = corners @ (rz @ rx @ ry).T + [0, 0, z0]
    proj = pts[:, :2] / pts[:, 2:3] * _FOCAL + np.array(centre)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    return cv2.getPerspectiveTransform(src, proj.astype(np.float32))


def _background(rng: np.random.Generator, size: tuple[int, int] = synth.FRAME_SIZE) -> np.ndarray:
    w, h = size
    colour = rng.uniform(50, 200, size=3)
    texture = cv2.GaussianBlur(rng.normal(0, 25, (h, w)).astype(np.float32), (0, 0), 6)
    grad = np.linspace(-20, 20, w, dtype=np.float32)[None, :] * rng.uniform(-1, 1)
    return np.asarray(np.clip(colour + (texture + grad)[..., None], 0, 255), dtype=np.uint8)


def _hand_motion(challenges: Sequence[Challenge], rng: np.random.Generator, fps: float) -> list[dict[str, float]]:
    """Per-frame sheet pose: the attacker turns/tilts/brings the sheet closer for each challenge."""
    poses = synth.script(challenges, rng, fps)
    out = []
    for p in poses:
        out.append(
            {
                "yaw": 0.9 * p.yaw + rng.normal(0, 0.8),
                "pitch": 0.9 * p.pitch + rng.normal(0, 0.8),
                "roll": p.roll * 1.5,
                "zoom": p.zoom,
                "dx": p.shift[0] * 2,
                "dy": p.shift[1] * 2,
            }
        )
    return out


def print_image(subject: synth.Subject, rng: np.random.Generator) -> np.ndarray:
    """The printed sheet: a head-and-shoulders crop of the subject through a paper print
    (tone range 35-225, desaturated, halftone dot screen, paper grain, white margin)."""
    oval = subject.mesh[list(synth.FACE_OVAL), :2]
    cx, cy = oval.mean(axis=0)
    fw = subject.face_width
    w, h = 1.9 * fw, 2.4 * fw
    x0, y0 = int(max(cx - w / 2, 0)), int(max(cy - 0.45 * h, 0))
    crop = subject.base[y0 : int(y0 + h), x0 : int(x0 + w)]
    # print at about 3 print pixels per camera pixel
    big = cv2.resize(crop, None, fx=3.0, fy=3.0, interpolation=cv2.INTER_CUBIC).astype(np.float32)
    lo, hi = rng.uniform(30, 45), rng.uniform(205, 228)
    toned = lo + (hi - lo) * (big / 255.0) ** rng.uniform(1.0, 1.25)
    grey = toned.mean(axis=2, keepdims=True)
    toned = grey + rng.uniform(0.7, 0.9) * (toned - grey)
    hh, ww = toned.shape[:2]
    yy, xx = np.mgrid[0:hh, 0:ww].astype(np.float32)
    period = rng.uniform(3.0, 5.0)
    theta = np.deg2rad(rng.uniform(15, 75))
    u = (xx * np.cos(theta) + yy * np.sin(theta)) * 2 * np.pi / period
    v = (-xx * np.sin(theta) + yy * np.cos(theta)) * 2 * np.pi / period
    dots = (np.cos(u) * np.cos(v)).astype(np.float32)
    toned += rng.uniform(8, 16) * dots[..., None] * (1.0 - np.abs(toned - 128) / 160)[..., :]
    grain = cv2.GaussianBlur(rng.normal(0, 1, (hh, ww)).astype(np.float32), (0, 0), 2.0)
    toned *= (1.0 + 0.03 * grain)[..., None]
    margin = int(0.06 * ww)
    paper = np.full((hh + 2 * margin, ww + 2 * margin, 3), rng.uniform(225, 245), dtype=np.float32)
    paper[margin : margin + hh, margin : margin + ww] = toned
    return np.asarray(np.clip(paper, 0, 255), dtype=np.uint8)


def printed_photo(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A printed photo held by hand in front of the camera and moved for the challenges."""
    sheet = print_image(subject, rng)
    sh, sw = sheet.shape[:2]
    fw, fh = synth.FRAME_SIZE
    width_px = rng.uniform(0.5, 0.7) * fw
    background = _background(rng)
    motion = _hand_motion(challenges, rng, fps)
    ts = synth.timestamps(len(motion), rng, fps)
    sigma, quality = rng.uniform(1.5, 3.5), int(rng.integers(75, 93))
    blur = rng.uniform(0.4, 0.9)
    out = []
    mask_src = np.full((sh, sw), 255, np.uint8)
    for m, t in zip(motion, ts, strict=True):
        h = _plane_homography(
            (sw, sh),
            (fw, fh),
            width_px * m["zoom"],
            m["yaw"],
            m["pitch"],
            m["roll"],
            (fw / 2 + m["dx"], fh * 0.52 + m["dy"]),
        )
        warped = cv2.warpPerspective(sheet, h, (fw, fh), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(mask_src, h, (fw, fh))
        frame = np.where(mask[..., None] > 127, warped, background)
        frame = cv2.GaussianBlur(frame, (0, 0), blur)
        out.append((synth.camera(frame, rng, noise_sigma=sigma, jpeg_quality=quality), float(t)))
    return out


def _screen_pixels(image: np.ndarray, screen_w: int) -> np.ndarray:
    """``image`` shown on a display ``screen_w`` pixels wide, rendered 3x3 per display pixel:
    red, green and blue sub-pixel columns and a dark row (the black matrix)."""
    h = round(image.shape[0] * screen_w / image.shape[1])
    shown = cv2.resize(image, (screen_w, h), interpolation=cv2.INTER_AREA)
    big = np.repeat(np.repeat(shown, 3, axis=0), 3, axis=1)
    mask = np.zeros((3, 3, 3), np.uint8)
    for c in range(3):
        mask[0:2, c, c] = 1
    tile = np.tile(mask, (h, screen_w, 1)).astype(np.float32)
    return big.astype(np.float32) * tile * 4.5  # lit sub-pixels are brighter: same mean light level


def screen_replay(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A live recording of the right challenges replayed on a phone or monitor held in front of the camera."""
    recording = synth.live_sequence(subject, challenges, rng, fps)
    fw, fh = synth.FRAME_SIZE
    screen_w = int(rng.integers(520, 900))
    coverage = rng.uniform(0.8, 1.15)  # shown image width / camera frame width (> 1: bezel off-frame)
    black = rng.uniform(12, 28)
    contrast = rng.uniform(0.78, 0.92)
    tint = np.array([rng.uniform(0.93, 1.0), 1.0, rng.uniform(1.0, 1.08)], dtype=np.float32)
    background = _background(rng)
    bezel = rng.uniform(10, 40)
    glare_c = rng.uniform(0.2, 0.8, size=2) * [fw, fh]
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    glare = rng.uniform(8, 30) * np.exp(-((xx - glare_c[0]) ** 2 + (yy - glare_c[1]) ** 2) / (2 * (0.25 * fw) ** 2))
    shake = synth.script([], rng, fps)
    sigma, quality = rng.uniform(1.5, 3.5), int(rng.integers(75, 93))
    optics = rng.uniform(0.25, 0.4)
    out = []
    for k, (frame, t) in enumerate(recording):
        emitted = black + contrast * frame.astype(np.float32) * tint
        pixels = _screen_pixels(np.clip(emitted, 0, 255).astype(np.uint8), screen_w)
        ph, pw = pixels.shape[:2]
        border = int(0.05 * pw)
        device = np.full((ph + 2 * border, pw + 2 * border, 3), bezel, np.float32)
        device[border : border + ph, border : border + pw] = pixels
        s = shake[k % len(shake)]
        width_px = coverage * fw * (pw + 2 * border) / pw
        # optics before the sensor samples: a blur of ``optics`` camera pixels
        per_cam_px = device.shape[1] / width_px
        device = cv2.GaussianBlur(device, (0, 0), optics * per_cam_px)
        h = _plane_homography(
            (device.shape[1], device.shape[0]),
            (fw, fh),
            width_px,
            s.yaw,
            s.pitch,
            s.roll,
            (fw / 2 + s.shift[0], fh / 2 + s.shift[1]),
        )
        warped = cv2.warpPerspective(device, h, (fw, fh), flags=cv2.INTER_LINEAR)
        mask = cv2.warpPerspective(np.full(device.shape[:2], 255, np.uint8), h, (fw, fh))
        img = np.where(mask[..., None] > 127, np.minimum(warped, 255.0) + glare[..., None], background)
        img = np.clip(img, 0, 255).astype(np.uint8)
        out.append((synth.camera(img, rng, noise_sigma=sigma, jpeg_quality=quality), float(t)))
    return out


def other_order(challenges: Sequence[Challenge], rng: np.random.Generator) -> list[Challenge]:
    """A challenge list different from ``challenges``: another order of the same, or other challenges."""
    items = list(challenges)
    for _ in range(20):
        if len(set(items)) > 1:
            cand = [items[i] for i in rng.permutation(len(items))]
        else:
            pool = [c for c in Challenge if c not in items]
            cand = [pool[int(rng.integers(len(pool)))], *items[1:]]
        if cand != items:
            return cand
    return list(reversed(items)) if len(items) > 1 else [c for c in Challenge if c not in items][:1]


def replayed_session(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A live sequence recorded for another session (other challenge order), replayed here."""
    return synth.live_sequence(subject, other_order(challenges, rng), rng, fps)


def duplicated_frames(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A live sequence for the right challenges with frames repeated: every frame twice (at
    twice the frame rate) or a frozen stretch of 0.6-1.2 s, with fresh plausible timestamps."""
    live = synth.live_sequence(subject, challenges, rng, fps)
    frames = [f for f, _ in live]
    if rng.random() < 0.5:
        frames = [f for f in frames for _ in range(2)]
        rate = 2 * fps
    else:
        at = int(rng.integers(len(frames) // 4, len(frames) // 2))
        hold = max(6, round(rng.uniform(0.6, 1.2) * fps))
        frames = frames[:at] + [frames[at]] * hold + frames[at + 1 :]
        rate = fps
    ts = synth.timestamps(len(frames), rng, rate)
    return [(f, float(t)) for f, t in zip(frames, ts, strict=True)]


#: attack type -> generator
ATTACKS: dict[str, AttackFn] = {
    "static_photo": static_photo,
    "printed_photo": printed_photo,
    "screen_replay": screen_replay,
    "replayed_session": replayed_session,
    "duplicated_frames": duplicated_frames,
}
