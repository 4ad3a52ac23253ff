"""Live-like camera sequences generated from real still photographs, for tests and evaluation.

There is no real video of a person turning their head, blinking or smiling on request,
so the active-challenge live sequences are synthetic: a real photograph's face is
re-posed in 3-D with its own mediapipe face mesh and re-rendered frame by frame.

The face model (mesh, pose, rendering, camera) is :mod:`openidv.synth.face_model`.

Timestamps are client-like (seconds, arbitrary origin) at the requested frame rate with
a few per cent jitter. All randomness comes from the ``numpy.random.Generator`` passed in.

Screen light (closed loop). A session with the screen-light step tells the client, with
each :class:`~openidv.liveness.types.Progress`, the colour to show before its next frame,
so a sequence cannot be rendered in advance: :func:`live_scene` returns a
:class:`LitSequence` of clean frames (before the camera) and :meth:`LitSequence.shoot`
makes each camera frame when it is fed, under the colour the screen shows then:

* the light is added in linear light (display gamma 2.2): the face gets
  ``1 + s x shading x colour`` times its radiance, with ``s = E_screen / E_room`` per camera
  channel (see below); ``shading`` is 1 at the face's centre falling to ~0.45 at its outline
  (the cheeks' sides turn away from the screen), with a soft edge of ~8 % of the face width;
* E_screen, the display's illuminance on the face, is ``L x A x f / d^2`` (a small
  Lambertian source seen on axis): L the luminance of the display's white at full drive,
  A its area, f the share of the screen the colour fills (the page keeps the camera
  preview visible: f = 0.7), d the screen-to-face distance. A saturated colour drives one
  or two primaries at full level; after the camera's white balance a primary adds to its
  own channel the same relative amount as full white adds to every channel (display
  primaries roughly match the camera's channels), so per channel ``s = E_screen / E_room``
  with E_screen computed for white. Device (drawn per session): a phone with probability
  0.7 (L uniform 400-800 nits, A = 0.007 m^2, d uniform 0.25-0.35 m: E_screen 16-63 lux),
  else a laptop (L uniform 250-400 nits, A = 0.05 m^2, d uniform 0.4-0.6 m: 24-88 lux);
* E_room, the room light on the face (vertical illuminance at the face): with probability
  0.8 log-uniform 80-500 lux (indoors, evening lamps to a lit office), else log-uniform
  500-1500 lux (a bright room, near a window in daylight); s then spans ~0.01-1.1
  (median ~0.1). Above ~1000 lux s falls to 0.01-0.09: the bright-room tail the
  screen-light check can only call inconclusive, reported apart (room-light bands) by
  :func:`openidv.eval.liveness.evaluate_liveness`;
* everything else in the photo is background at distance d_bg (0.8-3 m, at least 0.4 m
  behind the face; the face at d_face as above) and gets ``s x (d_face / d_bg)^2``;
* the camera adapts its per-channel gains towards the unlit scene's grey-world means
  (auto white balance and exposure) with a time constant of 0.3-1.5 s, partly cancelling
  the colour change of the frame as a whole;
* the camera shows the screen's colour with a lag of 0 or 1 frame (drawn per sequence);
* then noise and JPEG as for every frame (:func:`camera`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from openidv.liveness.pad import hex_rgb
from openidv.liveness.types import Challenge

# the face model's names stay importable from here, where the sequences are made ("X as X": re-exported)
from openidv.synth.face_model import FACE_OVAL as FACE_OVAL
from openidv.synth.face_model import FRAME_SIZE as FRAME_SIZE
from openidv.synth.face_model import NoFaceInPhotoError as NoFaceInPhotoError
from openidv.synth.face_model import Pose as Pose
from openidv.synth.face_model import Subject as Subject
from openidv.synth.face_model import camera as camera
from openidv.synth.face_model import camera_matrix
from openidv.synth.face_model import pose_points as pose_points
from openidv.synth.face_model import prepare_subject as prepare_subject
from openidv.synth.face_model import render as render

#: Frames the person holds still for the screen-light step in a script: 6 colours x 3 frames,
#: plus margin for a one-frame camera lag and a frame without a face.
LIGHT_HOLD_FRAMES = 22
GAMMA = 2.2


def _ramp(n_in: int, n_hold: int, n_out: int) -> np.ndarray:
    up = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_in + 1)[1:])
    down = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n_out + 1)[1:])
    return np.concatenate([up, np.ones(n_hold), down])


def script(challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0) -> list[Pose]:
    """The per-frame poses of a person performing ``challenges`` in order, with natural sway.

    Each challenge: a reaction delay (0.3-0.6 s), the action (ramp in, hold, ramp out),
    then a neutral pause; turns reach 32-42 degrees, looking up 18-25 degrees, a
    "move closer" zooms by 1.35-1.5, a blink keeps the eyes closed 2-4 frames.
    """

    def frames(seconds: float) -> int:
        return max(1, round(seconds * fps))

    channels: list[dict[str, float]] = [{} for _ in range(frames(rng.uniform(0.6, 1.0)))]
    for ch in challenges:
        if ch is Challenge.SCREEN_LIGHT:  # hold still while the screen changes colour
            channels += [{} for _ in range(LIGHT_HOLD_FRAMES)]
            continue
        channels += [{} for _ in range(frames(rng.uniform(0.3, 0.6)))]
        if ch is Challenge.BLINK:
            closed = int(rng.integers(2, 5))
            profile = np.concatenate([[0.5], np.ones(closed), [0.5]])
            key, amp = "blink", 1.0
        else:
            n_in, n_hold, n_out = (
                frames(rng.uniform(0.3, 0.5)),
                frames(rng.uniform(0.6, 0.9)),
                frames(rng.uniform(0.3, 0.5)),
            )
            profile = _ramp(n_in, n_hold, n_out)
            key, amp = {
                Challenge.TURN_LEFT: ("yaw", rng.uniform(32, 42)),
                Challenge.TURN_RIGHT: ("yaw", -rng.uniform(32, 42)),
                Challenge.LOOK_UP: ("pitch", rng.uniform(18, 25)),
                Challenge.SMILE: ("smile", rng.uniform(0.85, 1.0)),
                Challenge.MOVE_CLOSER: ("zoom", rng.uniform(0.35, 0.5)),
            }[ch]
        channels += [{key: float(amp * p)} for p in profile]
        channels += [{} for _ in range(frames(rng.uniform(0.3, 0.5)))]
    n = len(channels)

    # natural sway: smoothed random walks
    def walk(scale: float) -> np.ndarray:
        raw = np.cumsum(rng.normal(0, 1, n)).reshape(1, -1).astype(np.float64)
        v = np.asarray(cv2.GaussianBlur(raw, (0, 0), max(fps / 5, 1)), dtype=np.float64).ravel()
        v -= v.mean()
        peak = float(np.abs(v).max()) or 1.0
        return v / peak * scale

    sway_yaw, sway_pitch, sway_roll = walk(2.0), walk(1.5), walk(1.5)
    shake_x, shake_y = walk(3.0), walk(3.0)
    poses = []
    for i, c in enumerate(channels):
        poses.append(
            Pose(
                yaw=c.get("yaw", 0.0) + float(sway_yaw[i]),
                pitch=c.get("pitch", 0.0) + float(sway_pitch[i]),
                blink=c.get("blink", 0.0),
                smile=c.get("smile", 0.0),
                zoom=1.0 + c.get("zoom", 0.0),
                shift=(float(shake_x[i]), float(shake_y[i])),
                roll=float(sway_roll[i]),
            )
        )
    return poses


def timestamps(n: int, rng: np.random.Generator, fps: float = 15.0, *, jitter: float = 0.05) -> np.ndarray:
    """``n`` strictly increasing client timestamps (s) at ``fps`` with relative jitter ``jitter``."""
    start = rng.uniform(1.0, 100.0)
    steps = np.clip(1.0 + rng.normal(0.0, jitter, n), 0.7, 1.3) / fps
    return start + np.concatenate([[0.0], np.cumsum(steps[1:])])


def live_sequence(
    photo: np.ndarray | Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    noise_sigma: float | None = None,
    jpeg_quality: int | None = None,
) -> list[tuple[np.ndarray, float]]:
    """A live-like sequence of ``photo``'s face performing ``challenges`` in order.

    Returns (RGB frame 640 x 480, client timestamp s) pairs. ``photo`` is a real
    photograph (or a :class:`Subject` already prepared from one). Noise sigma defaults to
    a random 1.5-3.5 grey levels, JPEG quality to a random 75-92. The screen shows
    nothing special (:meth:`LitSequence.unlit` of :func:`live_scene`).
    """
    return live_scene(photo, challenges, rng, fps, noise_sigma=noise_sigma, jpeg_quality=jpeg_quality).unlit()


# ----------------------------------------------------------------------------- screen light (closed loop)


def hex_colour(colour: str | None) -> np.ndarray:
    """ "#rrggbb" -> RGB drive in [0, 1] (float64, (3,)); None -> zeros (no extra light)."""
    return hex_rgb(colour) if colour else np.zeros(3)


#: Share of the screen the capture page fills with the colour (the camera preview stays visible).
SCREEN_FILL = 0.7
#: Probability that the capture device is a phone (else a laptop), and the room light's bright-tail share.
PHONE_SHARE = 0.7
BRIGHT_ROOM_SHARE = 0.2


@dataclass(frozen=True)
class LightSetup:
    """How the user's screen lights the scene (drawn by :func:`light_setup`)."""

    strength: float  #: s = E_screen / E_room: relative radiance added on a surface facing the screen
    d_face: float  #: m, screen to face (or to the presented object)
    d_background: float  #: m, screen to the room behind
    lag: int  #: frames by which the camera shows the screen's colour late (0 or 1)
    awb_tau_s: float  #: time constant of the camera's auto white balance / exposure, s
    e_screen_lux: float = float("nan")  #: the display's illuminance on the face (white at full drive), lux
    e_room_lux: float = float("nan")  #: the room light on the face, lux
    device: str = ""  #: "phone" or "laptop"

    @property
    def background_strength(self) -> float:
        """Inverse square: the background gets (d_face / d_bg)^2 of the face's light."""
        return self.strength * (self.d_face / self.d_background) ** 2


def screen_illuminance(luminance_nits: float, area_m2: float, distance_m: float, fill: float = SCREEN_FILL) -> float:
    """E = L x A x fill / d^2 (lux): a small Lambertian source of luminance L (cd/m^2) on axis."""
    return float(luminance_nits * area_m2 * fill / distance_m**2)


def light_setup(rng: np.random.Generator) -> LightSetup:
    """A random, physically plausible screen / room / camera combination (ranges in the module docstring).

    Takes five uniform draws and one integer from ``rng`` (a branch and the value within it
    share one uniform), so the draws that follow in a generator do not depend on the branch.
    """
    u_dev, u_room, u_dist, u_bg = (float(v) for v in rng.uniform(0.0, 1.0, 4))
    if u_dev < PHONE_SHARE:
        device, d_face = "phone", 0.25 + 0.10 * u_dist
        e_screen = screen_illuminance(400.0 + 400.0 * u_dev / PHONE_SHARE, 0.007, d_face)
    else:
        device, d_face = "laptop", 0.4 + 0.2 * u_dist
        e_screen = screen_illuminance(250.0 + 150.0 * (u_dev - PHONE_SHARE) / (1 - PHONE_SHARE), 0.05, d_face)
    if u_room < BRIGHT_ROOM_SHARE:
        lo, hi, frac = 500.0, 1500.0, u_room / BRIGHT_ROOM_SHARE
    else:
        lo, hi, frac = 80.0, 500.0, (u_room - BRIGHT_ROOM_SHARE) / (1 - BRIGHT_ROOM_SHARE)
    e_room = float(np.exp(np.log(lo) + frac * np.log(hi / lo)))
    bg_lo = max(0.8, d_face + 0.4)
    return LightSetup(
        strength=float(e_screen / e_room),
        d_face=d_face,
        d_background=bg_lo + (3.0 - bg_lo) * u_bg,
        lag=int(rng.integers(0, 2)),
        awb_tau_s=float(rng.uniform(0.3, 1.5)),
        e_screen_lux=e_screen,
        e_room_lux=e_room,
        device=device,
    )


@dataclass(frozen=True, eq=False)
class SceneFrame:
    """One frame before the camera, with how it answers the screen's light.

    ``image`` RGB uint8 (H, W, 3), gamma-encoded. ``response`` (H, W) float32: relative
    radiance added per unit of a display primary (multiplies the linear pixel), or None;
    ``reflection`` (H, W) float32: linear light added per unit primary as a fraction of
    white (a reflection on glass), or None. ``final``: the image already went through a
    camera (an injected recording): shown as it is.
    """

    image: np.ndarray = field(repr=False)
    timestamp: float
    response: np.ndarray | None = field(default=None, repr=False)
    reflection: np.ndarray | None = field(default=None, repr=False)
    final: bool = False


class LitSequence:
    """Frames made when fed, under the screen colour of the moment (closed loop; see the module docstring).

    Call :meth:`shoot` once per frame, in order, with the colour the last
    :class:`~openidv.liveness.types.Progress` asked for (None: the page's normal content).
    """

    def __init__(
        self,
        frames: list[SceneFrame],
        rng: np.random.Generator,
        *,
        noise_sigma: float,
        jpeg_quality: int,
        light: LightSetup | None = None,
        info: dict[str, float | str] | None = None,
    ) -> None:
        self.frames = frames
        self.rng = rng
        self.noise_sigma = noise_sigma
        self.jpeg_quality = jpeg_quality
        self.light = light
        self.info = dict(info or {})
        self._requested: list[str | None] = []
        self._gain = np.ones(3)
        self._last_ts: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def timestamps(self) -> list[float]:
        return [f.timestamp for f in self.frames]

    def shoot(self, i: int, requested: str | None = None) -> np.ndarray:
        """Camera frame ``i`` (RGB uint8) while the screen was asked to show ``requested``."""
        self._requested.append(requested)
        sf = self.frames[i]
        if sf.final:
            return sf.image
        lag = self.light.lag if self.light is not None else 0
        shown = self._requested[-1 - lag] if len(self._requested) > lag else None
        drive = hex_colour(shown)
        dt = sf.timestamp - self._last_ts if self._last_ts is not None else 0.0
        self._last_ts = sf.timestamp
        adapting = not np.allclose(self._gain, 1.0, atol=1e-4)
        if not drive.any() and not adapting:
            return camera(sf.image, self.rng, noise_sigma=self.noise_sigma, jpeg_quality=self.jpeg_quality)
        lin = (sf.image.astype(np.float32) / 255.0) ** GAMMA
        ref = lin[::8, ::8].reshape(-1, 3).mean(axis=0).astype(np.float64) + 1e-6
        lit = lin
        if drive.any():
            d = drive.astype(np.float32)
            if sf.response is not None:
                lit = lit * (1.0 + sf.response[..., None] * d)
            if sf.reflection is not None:
                lit = lit + sf.reflection[..., None] * d
        # auto white balance / exposure: gains drift towards the unlit scene's grey-world means
        now = lit[::8, ::8].reshape(-1, 3).mean(axis=0).astype(np.float64) + 1e-6
        tau = self.light.awb_tau_s if self.light is not None else 0.8
        alpha = 1.0 - np.exp(-max(dt, 0.0) / max(tau, 1e-3))
        self._gain = self._gain + alpha * (ref / now - self._gain)
        lit = lit * self._gain.astype(np.float32)
        img = 255.0 * np.clip(lit, 0.0, 1.0) ** (1.0 / GAMMA)
        return camera(img, self.rng, noise_sigma=self.noise_sigma, jpeg_quality=self.jpeg_quality)

    def unlit(self) -> list[tuple[np.ndarray, float]]:
        """Every frame with the screen showing nothing special (open loop), with its timestamp."""
        return [(self.shoot(i, None), f.timestamp) for i, f in enumerate(self.frames)]


def shot_under(seq: LitSequence, colours: Sequence[str], start: int, per_colour: int = 3) -> list[SceneFrame]:
    """``seq`` filmed under another session's colour schedule (``per_colour`` frames each from
    frame ``start``): the recording an attacker could replay; returned as final frames."""
    out = []
    for i, f in enumerate(seq.frames):
        k = (i - start) // per_colour
        colour = colours[k] if i >= start and k < len(colours) else None
        out.append(SceneFrame(seq.shoot(i, colour), f.timestamp, final=True))
    return out


def face_light_map(points: np.ndarray, size: tuple[int, int], strength: float, background: float) -> np.ndarray:
    """(H, W) float32 relative response: ``strength`` x shading on the face, ``background`` elsewhere.

    ``points`` are the frame's (478, 2+) mesh points (px). The face is the polygon of the
    face-oval landmarks with a soft edge (Gaussian, ~8 % of the face width); shading is
    ``1 - 0.55 r^2`` with r the normalised elliptical distance from the oval's centre (the
    face's sides turn away from a screen in front of it).
    """
    w, h = size
    q = 4  # computed at quarter resolution
    small = np.zeros((h // q, w // q), np.float32)
    oval = points[list(FACE_OVAL), :2] / q
    cv2.fillPoly(small, [np.round(oval).astype(np.int32)], 1.0)
    fw = float(np.ptp(oval[:, 0])) or 1.0
    fh = float(np.ptp(oval[:, 1])) or 1.0
    mask = cv2.GaussianBlur(small, (0, 0), max(0.08 * fw, 0.5))
    cx, cy = oval.mean(axis=0)
    yy, xx = np.mgrid[0 : h // q, 0 : w // q].astype(np.float32)
    r2 = ((xx - cx) / (0.5 * fw)) ** 2 + ((yy - cy) / (0.5 * fh)) ** 2
    shading = np.clip(1.0 - 0.55 * r2, 0.3, 1.0)
    resp = strength * mask * shading + background * (1.0 - mask)
    return np.asarray(cv2.resize(resp, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def posed_points(subject: Subject, pose: Pose) -> np.ndarray:
    """Landmarks (478, 3) of ``subject`` in ``pose`` after the camera transform of :func:`render` (px)."""
    pts = pose_points(subject, pose)
    cam = camera_matrix(subject, pose)
    out = pts.copy()
    out[:, :2] = pts[:, :2] @ cam[:, :2].T + cam[:, 2]
    return out


def live_scene(
    photo: np.ndarray | Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    noise_sigma: float | None = None,
    jpeg_quality: int | None = None,
    light: LightSetup | None = None,
) -> LitSequence:
    """:func:`live_sequence` as a closed-loop :class:`LitSequence`: the face answers the screen's light."""
    subject = photo if isinstance(photo, Subject) else prepare_subject(photo, rng)
    poses = script(challenges, rng, fps)
    ts = timestamps(len(poses), rng, fps)
    sigma = rng.uniform(1.5, 3.5) if noise_sigma is None else noise_sigma
    quality = int(rng.integers(75, 93)) if jpeg_quality is None else jpeg_quality
    setup = light if light is not None else light_setup(rng)
    h, w = subject.base.shape[:2]
    frames = [
        SceneFrame(
            render(subject, p),
            float(t),
            response=face_light_map(posed_points(subject, p), (w, h), setup.strength, setup.background_strength),
        )
        for p, t in zip(poses, ts, strict=True)
    ]
    info: dict[str, float | str] = {
        "strength": setup.strength,
        "lag": setup.lag,
        "e_room_lux": setup.e_room_lux,
        "e_screen_lux": setup.e_screen_lux,
        "device": setup.device,
    }
    return LitSequence(frames, rng, noise_sigma=sigma, jpeg_quality=quality, light=setup, info=info)
