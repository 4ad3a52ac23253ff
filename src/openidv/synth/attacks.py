"""Presentation and injection attacks generated from real photos, each as a camera sequence.

Every generator takes a :class:`~openidv.synth.liveness.Subject` (a real photo placed in
a frame, see :func:`~openidv.synth.liveness.prepare_subject`), the challenges the session
issued, a ``numpy.random.Generator`` and a frame rate, and returns (RGB frame 640 x 480,
client timestamp s) pairs like :func:`~openidv.synth.liveness.live_sequence`.

* ``static_photo``: a still of the face, not moving (photo on a stand, or one image
  injected through a virtual camera); only sensor noise changes.
* ``printed_photo``: the face printed on paper (tone range of paper, halftone dots, paper
  grain, white margin) held by hand: the sheet turns, tilts and comes closer to fake
  the challenges (one plane-to-image homography per frame), background visible around it.
* ``screen_replay``: a live recording performing the right challenges, shown on a phone,
  tablet or monitor filmed by the camera (:class:`ScreenSetup`): a pixel pitch and viewing
  distance that give visible moire for some screens and none for fine-pitch ones, the
  screen's black level, contrast, gamma and white point, optional glare and PWM flicker
  bands, the bezel in frame or not, hand shake.
* ``replayed_session``: a genuine-looking live sequence recorded for other challenges
  (another order), injected into this session.
* ``duplicated_frames``: a live sequence for the right challenges whose frames are
  repeated (doubled to fake a frame rate) or frozen (a stretch of one frame).

Screen light (closed loop, see :mod:`openidv.synth.liveness`): each attack also exists as a
:class:`~openidv.synth.liveness.LitSequence` (:data:`SCENES`) whose frames are made when fed,
under the colour the capture page shows then; the functions in :data:`ATTACKS` are the
same sequences with the screen showing nothing special. How each answers the light:

* ``static_photo``: half are one image injected through a virtual camera (no response at
  all); half a photo on a stand filling the view (paper at the face's distance: the whole
  frame responds alike, ``s`` as for a face);
* ``printed_photo``: the sheet reflects diffusely like skin (``s`` x cos of its tilt,
  uniform over the sheet: face, printed surroundings and margin alike); the room behind
  gets ``s (d_sheet / d_bg)^2``;
* ``screen_replay``: the recording does not respond. The replay screen's glass reflects the
  flashing display: with probability 0.7 a specular patch (Gaussian, sigma 5-30 % of the
  frame width, at a random place, peak reflectance 0.5-4 % of the display's white), else
  a matte screen's uniform veil (0.05-0.3 %), over the screen area only: shown face and
  shown surroundings alike; the room around the screen gets the inverse-square share;
* ``replayed_session`` / ``duplicated_frames``: recordings injected instead of the camera:
  they were filmed in an earlier session, under that session's colours (a random
  schedule of the same palette), and do not respond to this one's.

Their other properties are unchanged. The light setup is drawn from each generator's
random stream too, so a seed makes other sequences than before the screen light existed
(the calibration seeds quoted in :mod:`openidv.liveness.pad` refer to the earlier ones).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from openidv.liveness.session import LIGHT_PALETTE
from openidv.liveness.types import DRAWABLE_CHALLENGES, Challenge
from openidv.synth import liveness as synth

Sequence_ = list[tuple[np.ndarray, float]]
AttackFn = Callable[[synth.Subject, Sequence[Challenge], np.random.Generator, float], Sequence_]

_FOCAL = 560.0  #: camera focal length, px (about 60 degrees across 640 px)


SceneFn = Callable[[synth.Subject, Sequence[Challenge], np.random.Generator, float], synth.LitSequence]


def _other_colours(rng: np.random.Generator, n: int = 6) -> list[str]:
    out: list[str] = []
    for _ in range(n):
        choices = [c for c in LIGHT_PALETTE if not out or c != out[-1]]
        out.append(choices[int(rng.integers(len(choices)))])
    return out


def static_photo_scene(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> synth.LitSequence:
    """A still face: the same neutral frame each time, with fresh sensor noise and JPEG.

    Screen light: injected image (no response) or a photo on a stand filling the view (all of it responds)."""
    extra = synth.LIGHT_HOLD_FRAMES if Challenge.SCREEN_LIGHT in challenges else 0
    n = max(30, round(fps * (1.0 + 1.6 * len(challenges)))) + extra
    ts = synth.timestamps(n, rng, fps)
    sigma = rng.uniform(1.5, 3.5)
    quality = int(rng.integers(75, 93))
    light = synth.light_setup(rng)
    injected = bool(rng.random() < 0.5)
    fh, fw = subject.base.shape[:2]
    resp = None if injected else np.full((fh, fw), light.strength, np.float32)
    frames = [synth.SceneFrame(subject.base, float(t), response=resp) for t in ts]
    info: dict[str, float | str] = {"variant": "injected" if injected else "photo_on_stand"}
    return synth.LitSequence(frames, rng, noise_sigma=sigma, jpeg_quality=quality, light=light, info=info)


def static_photo(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A still face: the same neutral frame each time, with fresh sensor noise and JPEG."""
    return static_photo_scene(subject, challenges, rng, fps).unlit()


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
    return printed_photo_scene(subject, challenges, rng, fps).unlit()


def printed_photo_scene(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> synth.LitSequence:
    """:func:`printed_photo` in closed loop: the sheet reflects the screen's light like skin."""
    sheet = print_image(subject, rng)
    sh, sw = sheet.shape[:2]
    fw, fh = synth.FRAME_SIZE
    width_px = rng.uniform(0.5, 0.7) * fw
    background = _background(rng)
    motion = _hand_motion(challenges, rng, fps)
    ts = synth.timestamps(len(motion), rng, fps)
    sigma, quality = rng.uniform(1.5, 3.5), int(rng.integers(75, 93))
    blur = rng.uniform(0.4, 0.9)
    light = synth.light_setup(rng)
    out: list[synth.SceneFrame] = []
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
        tilt = float(np.cos(np.deg2rad(m["yaw"])) * np.cos(np.deg2rad(m["pitch"])))
        on_sheet = mask.astype(np.float32) / 255.0
        resp = light.strength * tilt * on_sheet + light.background_strength * (1.0 - on_sheet)
        out.append(synth.SceneFrame(frame, float(t), response=resp.astype(np.float32)))
    return synth.LitSequence(out, rng, noise_sigma=sigma, jpeg_quality=quality, light=light)


def _lattice_mtf(freq: float, optics_sigma: float) -> float:
    """Contrast transfer of the camera at ``freq`` cycles per sensor pixel: the lens (Gaussian
    point spread of ``optics_sigma`` sensor px) times the photosite's box aperture (a sinc)."""
    return float(abs(np.sinc(freq)) * np.exp(-2.0 * np.pi**2 * optics_sigma**2 * freq**2))


@dataclass(frozen=True)
class ScreenSetup:
    """How one screen-replay attack is set up (drawn at random by :func:`screen_setup`).

    ``density``: display pixels per camera pixel across the screen (a phone at arm's length
    or a monitor at 50 cm: about 0.8-3.5; below 1 the display's pixels are larger than the
    camera's). ``coverage``: the shown video's width / the camera frame's width (the bezel
    is in frame only when the screen, bezel included, is narrower than the frame).
    """

    density: float
    coverage: float
    optics_sigma: float  #: camera lens blur, sensor pixels
    sensor_scale: float  #: sensor pixels per output pixel (a 720p / 1080p sensor scaled to 640 x 480 by the ISP)
    black: float  #: light from a black screen pixel (backlight leak + room reflection), grey levels
    contrast: float  #: screen white / camera white
    gamma: float  #: display gamma over the recording's (1 = same)
    tint: tuple[float, float, float]  #: white point of the screen, RGB gains
    bezel_frac: float  #: bezel width / screen width
    bezel_level: float  #: bezel grey level
    glare: float  #: peak of the reflection blob, grey levels (0: none)
    pwm_depth: float  #: relative depth of rolling-shutter flicker bands (0: DC-dimmed backlight)
    pwm_period: float  #: band period, rows
    pwm_drift: float  #: band phase drift per frame, periods

    @property
    def bezel_in_frame(self) -> bool:
        return self.coverage * (1.0 + 2.0 * self.bezel_frac) < 0.98

    @property
    def lattice_amplitude(self) -> float:
        """Relative modulation of the sub-pixel stripes that reaches the sensor (0: none)."""
        return 1.65 * _lattice_mtf(self.density / self.sensor_scale, self.optics_sigma)

    @property
    def visible_cues(self) -> tuple[str, ...]:
        """The physical screen cues this setup puts in the image: ``lattice`` (stripes modulated
        by at least 1 % at the sensor), ``pwm`` (flicker bands), ``bezel`` (device edge in
        frame). Empty for a fine-pitch, DC-dimmed screen that fills the view: only its tone
        curve, glare and the second pass through a camera then differ from a live capture."""
        cues = []
        if self.lattice_amplitude >= 0.01:
            cues.append("lattice")
        if self.pwm_depth > 0:
            cues.append("pwm")
        if self.bezel_in_frame:
            cues.append("bezel")
        return tuple(cues)


def screen_setup(rng: np.random.Generator) -> ScreenSetup:
    """A random but physically plausible phone / tablet / monitor replay setup."""
    return ScreenSetup(
        density=float(np.exp(rng.uniform(np.log(0.8), np.log(3.5)))),
        coverage=float(rng.uniform(0.65, 1.35)),
        optics_sigma=float(rng.uniform(0.3, 0.6)),
        sensor_scale=float(rng.choice([1.0, 1.5, 2.25, 3.0])),
        black=float(rng.uniform(4.0, 26.0)),
        contrast=float(rng.uniform(0.75, 0.98)),
        gamma=float(rng.uniform(0.9, 1.15)),
        tint=(float(rng.uniform(0.92, 1.02)), 1.0, float(rng.uniform(0.98, 1.10))),
        bezel_frac=float(rng.uniform(0.02, 0.08)),
        bezel_level=float(rng.choice([rng.uniform(5, 45), rng.uniform(120, 200)], p=[0.8, 0.2])),
        glare=float(rng.uniform(0, 30) if rng.random() < 0.7 else 0.0),
        pwm_depth=float(rng.uniform(0.03, 0.15) if rng.random() < 0.4 else 0.0),
        pwm_period=float(rng.uniform(12, 80)),
        pwm_drift=float(rng.uniform(0.1, 0.45)),
    )


def screen_replay(
    subject: synth.Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    setup: ScreenSetup | None = None,
) -> Sequence_:
    """:func:`screen_replay_scene` with the capture screen showing nothing special."""
    return screen_replay_scene(subject, challenges, rng, fps, setup=setup).unlit()


def screen_replay_scene(
    subject: synth.Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    setup: ScreenSetup | None = None,
) -> synth.LitSequence:
    """A live recording of the right challenges replayed on a phone, tablet or monitor held
    in front of the camera.

    The recording is itself a camera sequence (noise, JPEG). The screen shows it at
    ``density`` display pixels per camera pixel (below 1 the shown image is blocky),
    with the screen's black level, contrast, gamma and white point. The hand holding the
    screen shakes (one plane homography per frame). The display's sub-pixel lattice (red,
    green, blue stripes with period 1 display pixel, and the dark rows between pixel rows)
    is attenuated by the camera's transfer function at its frequency (lens blur times the
    pixel aperture, :func:`_lattice_mtf`) and then point-sampled at the camera's pixel
    centres, so it aliases into moire exactly where the geometry puts it and fades away
    for fine-pitch screens. A fixed reflection (glare) blob, rolling-shutter bands of a
    PWM-dimmed backlight (for some screens), the bezel (when in frame) and the room
    around it complete the frame, which then gets the camera's noise and JPEG.

    Screen light: the shown recording does not respond; the glass reflects the capture
    display's colour (specular patch or matte veil, see the module docstring) over the
    screen area, the shown face and its shown surroundings alike.
    """
    s = setup if setup is not None else screen_setup(rng)
    recording = synth.live_sequence(subject, challenges, rng, fps)
    fw, fh = synth.FRAME_SIZE
    background = _background(rng)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    glare_c = rng.uniform(0.2, 0.8, size=2) * [fw, fh]
    glare = s.glare * np.exp(
        -((xx - glare_c[0]) ** 2 + (yy - glare_c[1]) ** 2) / (2 * (rng.uniform(0.1, 0.3) * fw) ** 2)
    )
    shake = synth.script([], rng, fps)
    sigma, quality = rng.uniform(1.5, 3.5), int(rng.integers(75, 93))
    display = _Display(s, _sensor_sites(s), float(rng.uniform(0, 1)), glare, yy)
    light = synth.light_setup(rng)
    refl, variant = _glass_reflection(rng, xx, yy)
    out: list[synth.SceneFrame] = []
    for k, (frame, t) in enumerate(recording):
        img, mask = display.frame(frame, shake[k % len(shake)], k, background)
        on_screen = mask.astype(np.float32)
        out.append(
            synth.SceneFrame(
                img,
                float(t),
                response=(light.background_strength * (1.0 - on_screen)).astype(np.float32),
                reflection=refl * on_screen,
            )
        )
    # what the screen puts into the camera image (the eval's strata)
    info: dict[str, float | str] = {"reflection": variant, "cues": "+".join(s.visible_cues) or "no_visible_cue"}
    return synth.LitSequence(out, rng, noise_sigma=sigma, jpeg_quality=quality, light=light, info=info)


def _sensor_sites(s: ScreenSetup) -> list[tuple[np.ndarray, np.ndarray]]:
    """Where the sensor samples each colour, in output-pixel coordinates (x, y), per R, G, B.

    The lattice is sampled by the sensor, whose pixels are 1/sensor_scale of an output pixel;
    the ISP then bins down to the output: an alias near 0 cycles/sensor px survives as moire.
    Bayer mosaic: red is sampled on even rows and columns, blue on odd ones (every 2 sensor
    pixels: the chroma aliases at half the frequency), green on every pixel (approximation);
    nearest-site demosaicing.
    """
    fw, fh = synth.FRAME_SIZE
    sw, shh = round(fw * s.sensor_scale), round(fh * s.sensor_scale)
    iy, ix = np.mgrid[0:shh, 0:sw]
    sites = []
    for off in (0, None, 1):
        cx_, cy_ = (ix, iy) if off is None else ((ix // 2) * 2 + off, (iy // 2) * 2 + off)
        inv_scale = np.float32(1.0 / s.sensor_scale)
        sites.append(
            ((cx_.astype(np.float32) + 0.5) * inv_scale - 0.5, (cy_.astype(np.float32) + 0.5) * inv_scale - 0.5)
        )
    return sites


def _glass_reflection(rng: np.random.Generator, xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, str]:
    """The capture display's light reflected by the replay screen's glass, as a fraction of it
    per camera pixel: a specular blob (70 %) or a matte anti-glare veil."""
    fw, fh = synth.FRAME_SIZE
    if rng.random() < 0.7:  # specular: the capture display mirrored in the glass
        centre = rng.uniform(0.15, 0.85, size=2) * [fw, fh]
        spread = rng.uniform(0.05, 0.30) * fw
        refl = rng.uniform(0.005, 0.04) * np.exp(-((xx - centre[0]) ** 2 + (yy - centre[1]) ** 2) / (2 * spread**2))
        variant = "specular"
    else:  # matte anti-glare screen: a weak uniform veil
        refl = np.full((fh, fw), rng.uniform(0.0005, 0.003), np.float32)
        variant = "matte"
    return refl.astype(np.float32), variant


@dataclass(frozen=True)
class _Display:
    """One replay screen filmed by the camera: turns each recorded frame into the camera's view.

    ``sites``: :func:`_sensor_sites`; ``pwm_phase``: the flicker bands' phase at frame 0, in
    periods; ``glare``: the fixed reflection blob, grey levels per camera pixel; ``rows``: the
    camera pixel rows (``yy`` of the frame grid).
    """

    setup: ScreenSetup
    sites: list[tuple[np.ndarray, np.ndarray]]
    pwm_phase: float
    glare: np.ndarray
    rows: np.ndarray

    @property
    def screen_w(self) -> int:
        """The display's width in its own pixels (the recording is resampled to it)."""
        return max(16, round(self.setup.density * self.setup.coverage * synth.FRAME_SIZE[0]))

    def device(self, frame: np.ndarray) -> tuple[np.ndarray, int]:
        """The screen showing ``frame`` inside its bezel (float grey levels), and the bezel width in px."""
        s, (fw, fh) = self.setup, synth.FRAME_SIZE
        shown = frame
        if s.density < 1.0:  # display pixels bigger than the camera's: the shown image is blocky
            small = cv2.resize(frame, (self.screen_w, round(fh * self.screen_w / fw)), interpolation=cv2.INTER_AREA)
            shown = cv2.resize(small, (fw, fh), interpolation=cv2.INTER_NEAREST)
        tint = np.asarray(s.tint, dtype=np.float32)
        emitted = s.black + s.contrast * 255.0 * (shown.astype(np.float32) / 255.0) ** s.gamma * tint
        border = round(s.bezel_frac * fw)
        device = np.full((fh + 2 * border, fw + 2 * border, 3), s.bezel_level, np.float32)
        device[border : border + fh, border : border + fw] = emitted
        return device, border

    def lattice(self, h: np.ndarray, border: int) -> np.ndarray:
        """The sub-pixel stripes and black matrix as the camera samples them through homography
        ``h`` (display -> camera): a per-pixel, per-colour gain around 1."""
        fw, fh = synth.FRAME_SIZE
        mtf = _lattice_mtf(self.setup.density / self.setup.sensor_scale, self.setup.optics_sigma)
        a_col = 1.65 * mtf  # RGB stripes: duty 1/3, fundamental 2 sin(pi/3)/(pi/3) of the mean
        a_row = 0.6 * mtf  # black matrix between pixel rows
        if a_col <= 1e-3:
            return np.ones((fh, fw, 3), np.float32)
        inv = np.linalg.inv(h)  # display coordinates (in display pixels) of every camera pixel centre
        planes = []
        for c, (sx, sy) in enumerate(self.sites):
            m = inv.astype(np.float32)
            den = m[2, 0] * sx + m[2, 1] * sy + m[2, 2]
            u = ((m[0, 0] * sx + m[0, 1] * sy + m[0, 2]) / den - border) * np.float32(self.screen_w / fw)
            v = ((m[1, 0] * sx + m[1, 1] * sy + m[1, 2]) / den - border) * np.float32(self.screen_w / fw)
            two_pi = np.float32(2 * np.pi)
            col = 1.0 + np.float32(a_col) * np.cos(two_pi * (u - np.float32(c / 3.0)))
            planes.append(col * (1.0 + np.float32(a_row) * np.cos(two_pi * v)))
        fine = np.stack(planes, axis=2)
        return cv2.resize(fine.astype(np.float32), (fw, fh), interpolation=cv2.INTER_AREA)

    def frame(self, frame: np.ndarray, p: synth.Pose, k: int, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Camera frame ``k`` (uint8 RGB) of the screen showing ``frame``, held with pose ``p``
        (a :func:`synth.script` step) in front of ``background``, and the mask of the screen."""
        s, (fw, fh) = self.setup, synth.FRAME_SIZE
        device, border = self.device(frame)
        width_px = s.coverage * fw * device.shape[1] / fw
        centre = (fw / 2 + 2 * p.shift[0], fh / 2 + 2 * p.shift[1])
        h = _plane_homography((device.shape[1], device.shape[0]), (fw, fh), width_px, p.yaw, p.pitch, p.roll, centre)
        warped = cv2.warpPerspective(device, h, (fw, fh), flags=cv2.INTER_LINEAR)
        warped = cv2.GaussianBlur(warped, (0, 0), s.optics_sigma)
        mask = cv2.warpPerspective(np.full(device.shape[:2], 255, np.uint8), h, (fw, fh)) > 127
        screen = np.minimum(warped * self.lattice(h, border).astype(np.float32), 255.0) + self.glare[..., None]
        if s.pwm_depth > 0:  # rolling shutter over a PWM backlight: bands that drift frame to frame
            phase = self.pwm_phase + k * s.pwm_drift
            rows = self.rows[:, :1]
            bands = 1.0 - s.pwm_depth * (0.5 + 0.5 * np.sign(np.sin(2 * np.pi * (rows / s.pwm_period + phase))))
            screen = screen * cv2.GaussianBlur(bands, (1, 0), sigmaX=0, sigmaY=2.0)[..., None]
        img = np.where(mask[..., None], screen, background)
        return np.clip(img, 0, 255).astype(np.uint8), mask


def other_order(challenges: Sequence[Challenge], rng: np.random.Generator) -> list[Challenge]:
    """A challenge list different from ``challenges``: another order of the same, or other challenges."""
    if Challenge.SCREEN_LIGHT in challenges:  # every session starts with the light step
        rest = [c for c in challenges if c is not Challenge.SCREEN_LIGHT]
        return [Challenge.SCREEN_LIGHT, *other_order(rest, rng)] if rest else list(challenges)
    items = list(challenges)
    for _ in range(20):
        if len(set(items)) > 1:
            cand = [items[i] for i in rng.permutation(len(items))]
        else:
            pool = [c for c in DRAWABLE_CHALLENGES if c not in items]
            cand = [pool[int(rng.integers(len(pool)))], *items[1:]]
        if cand != items:
            return cand
    return list(reversed(items)) if len(items) > 1 else [c for c in DRAWABLE_CHALLENGES if c not in items][:1]


def _recorded(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float
) -> list[synth.SceneFrame]:
    """A live capture filmed earlier (under an earlier session's colours when it had the light step)."""
    scene = synth.live_scene(subject, challenges, rng, fps)
    if Challenge.SCREEN_LIGHT not in challenges:
        return synth.shot_under(scene, [], 0)
    return synth.shot_under(scene, _other_colours(rng), int(rng.integers(4, 10)))


def replayed_session_scene(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> synth.LitSequence:
    """A live sequence recorded for another session (other challenge order, other colours), injected here."""
    frames = _recorded(subject, other_order(challenges, rng), rng, fps)
    return synth.LitSequence(frames, rng, noise_sigma=0.0, jpeg_quality=90)


def replayed_session(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A live sequence recorded for another session (other challenge order), replayed here."""
    return replayed_session_scene(subject, challenges, rng, fps).unlit()


def duplicated_frames(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> Sequence_:
    """A live sequence for the right challenges with frames repeated: every frame twice (at
    twice the frame rate) or a frozen stretch of 0.6-1.2 s, with fresh plausible timestamps."""
    return duplicated_frames_scene(subject, challenges, rng, fps).unlit()


def duplicated_frames_scene(
    subject: synth.Subject, challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0
) -> synth.LitSequence:
    """:func:`duplicated_frames` as an injected recording (filmed under an earlier session's colours)."""
    frames = [f.image for f in _recorded(subject, challenges, rng, fps)]
    if rng.random() < 0.5:
        frames = [f for f in frames for _ in range(2)]
        rate = 2 * fps
    else:
        at = int(rng.integers(len(frames) // 4, len(frames) // 2))
        hold = max(6, round(rng.uniform(0.6, 1.2) * fps))
        frames = frames[:at] + [frames[at]] * hold + frames[at + 1 :]
        rate = fps
    ts = synth.timestamps(len(frames), rng, rate)
    scene = [synth.SceneFrame(f, float(t), final=True) for f, t in zip(frames, ts, strict=True)]
    return synth.LitSequence(scene, rng, noise_sigma=0.0, jpeg_quality=90)


#: attack type -> generator
ATTACKS: dict[str, AttackFn] = {
    "static_photo": static_photo,
    "printed_photo": printed_photo,
    "screen_replay": screen_replay,
    "replayed_session": replayed_session,
    "duplicated_frames": duplicated_frames,
}

#: attack type -> closed-loop generator (frames made when fed, under the screen's colour)
SCENES: dict[str, SceneFn] = {
    "static_photo": static_photo_scene,
    "printed_photo": printed_photo_scene,
    "screen_replay": screen_replay_scene,
    "replayed_session": replayed_session_scene,
    "duplicated_frames": duplicated_frames_scene,
}
