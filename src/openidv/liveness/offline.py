"""Liveness over pre-recorded frames: the shell side of ``openidv liveness VIDEO_OR_FRAMES_DIR``.

This module reads files (a video through :class:`cv2.VideoCapture`, or a folder of
images); the session itself (:mod:`openidv.liveness.session`) stays pure. Offline, the
video's own timestamps are both the client time and the server time, so windows are
measured in video seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from openidv.errors import DataFormatError, ImageError
from openidv.imaging import decode_image
from openidv.liveness.session import DEFAULT_SESSION_CONFIG, SessionConfig, add_frame, finish, start_session
from openidv.liveness.types import DRAWABLE_CHALLENGES, Challenge, LivenessReport

#: Frame rate assumed for a folder of images when none is given.
DEFAULT_FOLDER_FPS = 15.0
IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})

#: Short names accepted by :func:`parse_challenges` (``left,blink,right``).
CHALLENGE_ALIASES: dict[str, Challenge] = {
    "left": Challenge.TURN_LEFT,
    "right": Challenge.TURN_RIGHT,
    "up": Challenge.LOOK_UP,
    "blink": Challenge.BLINK,
    "smile": Challenge.SMILE,
    "closer": Challenge.MOVE_CLOSER,
    **{c.value: c for c in DRAWABLE_CHALLENGES},  # a recorded video cannot answer the screen light
}


def parse_challenges(text: str) -> list[Challenge]:
    """``"left,blink,right"`` -> challenges (full names such as ``turn_left`` work too).

    Raises ``ValueError`` naming the accepted names on an unknown or repeated one.
    """
    out: list[Challenge] = []
    for part in (p.strip().lower().replace("-", "_") for p in text.split(",")):
        if not part:
            continue
        if part not in CHALLENGE_ALIASES:
            raise ValueError(f"unknown challenge {part!r}; use {', '.join(sorted(CHALLENGE_ALIASES))}")
        ch = CHALLENGE_ALIASES[part]
        if ch in out:
            raise ValueError(f"challenge {ch.value!r} is given twice")
        out.append(ch)
    if not out:
        raise ValueError("no challenge given")
    return out


def iter_frames(path: Path, fps: float | None = None) -> Iterator[tuple[np.ndarray, float]]:
    """Yield (RGB frame, timestamp s) from a video file or a folder of images.

    A video's timestamps are frame index / its frame rate (``fps`` overrides it; 30 when
    the container does not say). A folder's images are taken in name order at ``fps``
    (default 15). Raises :class:`DataFormatError` for a missing path, an unreadable video
    or an empty folder, and :class:`openidv.errors.ImageError` for an unreadable image.
    """
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise DataFormatError(f"{path} holds no image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        rate = fps or DEFAULT_FOLDER_FPS
        for i, file in enumerate(files):
            try:
                rgb = decode_image(file.read_bytes())
            except ImageError as exc:
                raise type(exc)(f"{file}: {exc.message}") from exc
            yield rgb, i / rate
        return
    if not path.is_file():
        raise DataFormatError(f"{path} is neither a video file nor a folder of images")
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise DataFormatError(f"{path} cannot be opened as a video")
        native = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        rate = fps or (native if np.isfinite(native) and native > 0 else 30.0)
        i = 0
        while True:
            ok, bgr = cap.read()
            if not ok or bgr is None:
                break
            yield np.ascontiguousarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)), i / rate
            i += 1
        if i == 0:
            raise DataFormatError(f"{path} holds no readable video frame")
    finally:
        cap.release()


def load_frames(path: Path, fps: float | None = None) -> list[tuple[np.ndarray, float]]:
    """All frames of a video or image folder as (RGB, timestamp s); see :func:`iter_frames`."""
    return list(iter_frames(path, fps))


def run_offline(
    frames: Iterable[tuple[np.ndarray, float]],
    challenges: list[Challenge],
    *,
    seed: int | None = None,
    config: SessionConfig = DEFAULT_SESSION_CONFIG,
) -> LivenessReport:
    """Run one session with the fixed ``challenges`` over pre-recorded (RGB, timestamp s) frames.

    The recording must show the challenges in the given order, each within the window
    (``config.window_s``, video seconds) after the previous one. Frames are fed until they
    run out or the session ends (a missed window); then the session is finished. ``seed``
    makes the session id and nonce reproducible (they are random otherwise).
    """
    rng = np.random.default_rng(seed) if seed is not None else None
    session = None
    last = 0.0
    for rgb, ts in frames:
        if session is None:
            # the video clock is the only clock: the session never expires before the frames run out
            session = start_session(now=float(ts), rng=rng, challenges=challenges, ttl_s=float("inf"), config=config)
        last = float(ts)
        progress = add_frame(session, rgb, last, now=last)
        if progress.expired:
            break
    if session is None:
        session = start_session(now=0.0, rng=rng, challenges=challenges, ttl_s=float("inf"), config=config)
    return finish(session, now=last)
