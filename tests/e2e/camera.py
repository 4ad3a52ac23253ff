"""What the fake camera shows: Y4M files that Chromium plays (looped) as its camera.

Chromium reads a Y4M file's I420 planes as BT.601 *limited* range (Y 16-235, Cb/Cr
16-240): a file written with full-range (JPEG) YCbCr comes out with stretched contrast
and clipped highlights, so :func:`write_y4m` converts with the limited-range matrix.
(Measured: a limited-range file reproduces RGB patches within 2 grey levels; a full-range
one turns grey 191 into 204.)

The content is generated from a real photograph that a pinned package ships
(scikit-image's astronaut, NASA, public domain) and the project's own generators:

* documents: :func:`openidv.synth.forgery.generate` (a consistent US licence front and
  back, photographed by the camera simulation, 1280 x 960);
* the face: :func:`openidv.synth.liveness.live_sequence` (the photo's face re-posed in
  3-D performing the challenges, 640 x 480), with neutral footage before and after so
  that the camera, which starts when the page opens it, shows a person waiting for the
  instructions rather than acting before the session has begun.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

import numpy as np

from openidv.imaging import decode_image
from openidv.liveness.types import Challenge
from openidv.synth import document as synth
from openidv.synth import forgery
from openidv.synth import liveness as live
from openidv.synth.forgery import SyntheticDocument

FACE_FPS = 15  #: frame rate of the face footage (the page samples about 10 frames/s)
LIGHT_HOLD_S = 5.0  #: still footage for the screen-light step (6 colours x 3 frames at 3-6 frames/s)
DOCUMENT_FPS = 5  #: a document held still: a few identical frames, looped


def rgb_to_i420(frame: np.ndarray) -> tuple[bytes, bytes, bytes]:
    """The Y, Cb, Cr planes (BT.601 limited range; chroma averaged over 2 x 2 pixels) of an RGB frame.

    ``frame``: RGB uint8 (H, W, 3) with even H and W. Returns H*W, H*W/4 and H*W/4 bytes.
    """
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 (H, W, 3) frame, got {frame.dtype} {frame.shape}")
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"frame sides must be even, got {w}x{h}")
    rgb = frame.astype(np.float32)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0
    cb = 128.0 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255.0
    cr = 128.0 + (112.0 * r - 93.786 * g - 18.214 * b) / 255.0

    def plane(p: np.ndarray) -> bytes:
        return bytes(np.clip(np.rint(p), 0, 255).astype(np.uint8).tobytes())

    def half(p: np.ndarray) -> np.ndarray:
        return np.asarray(p.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)), dtype=np.float32)

    return plane(y), plane(half(cb)), plane(half(cr))


def write_y4m(path: Path, frames: Iterable[np.ndarray], fps: int) -> int:
    """Write RGB frames (all the same even size) to a 4:2:0 Y4M file at ``fps``; returns the frame count."""
    n = 0
    size: tuple[int, int] | None = None
    with path.open("wb") as f:
        for frame in frames:
            h, w = frame.shape[:2]
            if size is None:
                size = (w, h)
                f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode("ascii"))
            elif size != (w, h):
                raise ValueError(f"frame {n} is {w}x{h}, the file is {size[0]}x{size[1]}")
            f.write(b"FRAME\n")
            for p in rgb_to_i420(frame):
                f.write(p)
            n += 1
    if n == 0:
        raise ValueError("no frames to write")
    return n


def portrait_of(photo: np.ndarray) -> np.ndarray:
    """The ID-card portrait crop of the largest face in ``photo`` (as ``openidv.demo`` makes it)."""
    from openidv.face.detection import detect

    faces = detect(photo)
    if not faces:
        raise ValueError("no face in the photo")
    b = max(faces, key=lambda f: f.box.width).box
    return np.asarray(synth.portrait_crop(photo, (b.x, b.y, b.width, b.height)), dtype=np.uint8)


def licence(photo: np.ndarray, seed: int, today: date) -> SyntheticDocument:
    """A genuine, consistent US licence (front and back camera photos) carrying ``photo``'s portrait."""
    return forgery.generate("genuine", np.random.default_rng(seed), [portrait_of(photo)], today, kind="us_dl")


def write_document(path: Path, jpeg: bytes, frames: int = 3) -> int:
    """A document held still in front of the camera: the photo, ``frames`` times."""
    image = decode_image(jpeg)
    h, w = image.shape[:2]
    image = np.ascontiguousarray(image[: h - h % 2, : w - w % 2])
    return write_y4m(path, (image for _ in range(frames)), DOCUMENT_FPS)


def face_footage(
    photo: np.ndarray,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    *,
    lead_s: float,
    tail_s: float,
) -> list[np.ndarray]:
    """Frames (RGB 640 x 480 at :data:`FACE_FPS`) of ``photo``'s face doing ``challenges`` in order.

    ``lead_s`` seconds of the person looking at the camera (natural sway, no action) come
    first, ``tail_s`` seconds of the same after the last challenge. Sensor noise and JPEG
    quality are the same throughout, as from one camera; every frame has its own noise.
    """
    subject = live.prepare_subject(photo, rng)
    sigma = float(rng.uniform(1.5, 3.5))
    quality = int(rng.integers(80, 93))

    def clip(actions: Sequence[Challenge]) -> list[np.ndarray]:
        seq = live.live_sequence(subject, actions, rng, FACE_FPS, noise_sigma=sigma, jpeg_quality=quality)
        return [frame for frame, _ in seq]

    def neutral(seconds: float) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        while len(out) < seconds * FACE_FPS:
            out += clip([])
        return out

    # The screen-light step: the person holds still while the page shows its colours (one frame
    # per server round trip plus the display's settling time, ~0.25-0.4 s each in a browser). Its
    # length follows how fast the page and the server exchange frames, which footage cannot: after
    # it the person does the challenges twice, so that a first performance that comes while the
    # step is still running is followed by one that counts.
    light = Challenge.SCREEN_LIGHT in challenges
    actions = [c for c in challenges if c is not Challenge.SCREEN_LIGHT]
    if not light:
        return neutral(lead_s) + clip(actions) + neutral(tail_s)
    return neutral(lead_s) + neutral(LIGHT_HOLD_S) + clip(actions) + clip(actions) + neutral(tail_s)
