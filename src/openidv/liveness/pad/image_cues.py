"""Per-frame image cues of a screen or a print: spectral peaks (moire, halftone), flicker bands,
straight edges around the face, tone range. Measured once per session on up to
:data:`~openidv.liveness.pad.common.CUE_FRAMES` frames and shared by the screen-replay and print checks.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from openidv.liveness.pad.common import CUE_FRAMES, face_crop, spread_sample, usable_indices
from openidv.liveness.types import FrameAnalysis

#: Face regions for the moire and halftone cues, each a mesh landmark pair whose midpoint centres a
#: square window :data:`LATTICE_REGION_SIDE` x the face box's width: the brow (glabella to lower
#: forehead), the part of a face that masks, scarves and beards never cover and glasses only at their
#: bridge. A display's lattice covers the whole shown face, while a fabric mask's fine weave aliases
#: into the same narrow peak as a display over the lower face only (simulated weaves of 2.6-4.5 px on
#: the 3 real live videos: whole-face crop 5-22, brow 3.1-3.7). Requiring the lower face as well lost
#: generated screen replays whose lower face was dark (brow 7.95, lower face 3.76).
LATTICE_REGIONS: tuple[tuple[int, int], ...] = ((168, 9),)
LATTICE_REGION_SIDE = 0.35


def spectral_peak(crop: np.ndarray) -> float:
    """Strongest isolated peak of the high-pass spectrum of ``crop`` (RGB), as a ratio to
    its local median, over luma and red-minus-blue chroma; JPEG's 8-pixel block
    frequencies and the axes are excluded.

    Physics: skin photographed directly has a smooth, decaying spectrum; a screen's pixel
    grid or a print's halftone screen, resampled by the camera's sensor grid, aliases into
    moire: strong narrow peaks at frequencies unrelated to the 8 px JPEG grid, and
    coloured (the sub-pixels are red, green, blue), so they also show in chroma.
    """
    f = crop.astype(np.float32)
    n = min(f.shape[0], f.shape[1], 192)
    f = f[:n, :n]
    luma = 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]
    chroma = f[..., 0] - f[..., 2]
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    band = _jpeg_free_band(n)
    best = 0.0
    for chan in (luma, chroma):
        hp = chan - cv2.GaussianBlur(chan, (0, 0), 3.0)
        mag = np.abs(np.fft.fftshift(np.fft.fft2(hp * win))).astype(np.float32)
        local = cv2.medianBlur(mag, 5) + 1e-3 * float(mag.mean() + 1e-6)
        ratio = mag / local
        if band.any():
            best = max(best, float(ratio[band].max()))
    return best


def _jpeg_free_band(n: int) -> np.ndarray:
    """Boolean (n, n) mask of the fftshifted spectrum: radius 0.06-0.49 cycles/px, away from the
    axes and from the 8-pixel JPEG block frequencies k/8 (+-1.5 bins)."""
    freqs = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(freqs, freqs, indexing="ij")
    radius = np.hypot(fx, fy)
    band = (radius > 0.06) & (radius < 0.49)
    bin_w = 1.5 / n
    for k in range(-4, 5):
        band &= np.abs(fx - k / 8) > bin_w
        band &= np.abs(fy - k / 8) > bin_w
    return np.asarray(band)


def _square(frame: np.ndarray, centre: np.ndarray, side: float) -> np.ndarray | None:
    """The ``side`` x ``side`` px window of ``frame`` centred at ``centre`` (x, y px), clipped to the
    frame; None when less than 32 px remain either way."""
    cx, cy = float(centre[0]), float(centre[1])
    x0, y0 = int(max(cx - side / 2, 0)), int(max(cy - side / 2, 0))
    x1, y1 = int(min(cx + side / 2, frame.shape[1])), int(min(cy + side / 2, frame.shape[0]))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return None
    return frame[y0:y1, x0:x1]


def region_windows(frame: np.ndarray, a: FrameAnalysis) -> list[np.ndarray] | None:
    """The :data:`LATTICE_REGIONS` windows of one frame's face; None when the face has no landmarks
    or is too small for them (a window under 32 px)."""
    if a.landmarks is None or a.box is None:
        return None
    side = LATTICE_REGION_SIDE * a.box[2]
    windows = []
    for i, j in LATTICE_REGIONS:
        window = _square(frame, (a.landmarks[i, :2] + a.landmarks[j, :2]) / 2.0, side)
        if window is None:
            return None
        windows.append(window)
    return windows


def lattice_peak(crop: np.ndarray, n: int = 128) -> float:
    """Strongest isolated spectral peak in the centred ``n`` x ``n`` window of ``crop`` (RGB,
    not resampled), as a ratio to its local median, over luma and two chroma channels
    (red - blue, green - (red + blue) / 2); JPEG block frequencies and the axes excluded.

    Physics: a display's sub-pixel lattice (red, green, blue stripes, one period per display
    pixel, and dark rows between pixel rows) is sampled by the camera's sensor; where its
    frequency falls near a multiple of the sensor's (or, in chroma, of the Bayer mosaic's
    half-rate) sampling frequency, it aliases into a low-frequency beat: moire, a narrow
    and usually coloured peak. Skin photographed directly has a smooth, decaying spectrum.
    A noise-like spectrum gives ratios of about 3.5-4.5 (the maximum of ~10^4 Rayleigh
    magnitudes over their median); a visible lattice gives 6 to > 20.
    """
    n = min(n, crop.shape[0], crop.shape[1]) // 2 * 2
    if n < 32:
        return 0.0
    h, w = crop.shape[:2]
    y0, x0 = (h - n) // 2, (w - n) // 2
    f = crop[y0 : y0 + n, x0 : x0 + n].astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    band = _jpeg_free_band(n)
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    best = 0.0
    for chan in (0.299 * r + 0.587 * g + 0.114 * b, r - b, g - 0.5 * (r + b)):
        hp = chan - cv2.GaussianBlur(chan, (0, 0), 3.0)
        mag = np.abs(np.fft.fftshift(np.fft.fft2(hp * win))).astype(np.float32)
        local = cv2.medianBlur(mag, 5) + 1e-3 * float(mag.mean() + 1e-6)
        best = max(best, float((mag / local)[band].max()))
    return best


def row_banding(frame0: np.ndarray, frame1: np.ndarray) -> float:
    """Horizontal flicker bands between two consecutive frames: the peak of the row-profile
    spectrum of their log-luma difference over its median, for periods of 10-120 rows.

    Physics: a screen whose backlight is dimmed by pulse-width modulation (hundreds of Hz)
    is lit only part of the time; a rolling-shutter camera exposes its rows one after the
    other, so the rows that were exposed while the backlight was off are darker: periodic
    horizontal bands, which drift from frame to frame (the PWM and frame rates are not
    locked). Room light on a real face (mains flicker at 100/120 Hz gives bands of hundreds
    of rows at webcam exposures) and the face's own motion give no narrow peak in this
    range. The row profile is the median over each row (robust to the moving face), high-passed.
    """
    if frame0.shape != frame1.shape or frame0.shape[0] < 64:
        return 0.0
    l0 = np.log1p(cv2.cvtColor(frame0, cv2.COLOR_RGB2GRAY).astype(np.float32))
    l1 = np.log1p(cv2.cvtColor(frame1, cv2.COLOR_RGB2GRAY).astype(np.float32))
    p = np.median(l1 - l0, axis=1).astype(np.float64)
    p = p - np.asarray(cv2.GaussianBlur(p.reshape(-1, 1), (1, 0), sigmaX=0, sigmaY=30), dtype=np.float64).ravel()
    mag = np.abs(np.fft.rfft(p * np.hanning(len(p))))
    freq = np.fft.rfftfreq(len(p))
    band = (freq >= 1 / 120) & (freq <= 1 / 10)  # shorter periods: the JPEG 8-row grid
    if band.sum() < 5:
        return 0.0
    return float(mag[band].max() / (np.median(mag[band]) + 1e-12))


def screen_tone(frame: np.ndarray, crop: np.ndarray) -> tuple[float, float]:
    """(frame luma 0.5th percentile, mean HSV saturation of the face crop 0-1).

    Physics: a screen in a lit room never shows black (backlight leak plus reflected room
    light lift it), and its limited gamut and the second pass through a camera desaturate
    skin. Reported only: a dim room, a pale subject or a camera's own processing do the same.
    """
    luma = cv2.cvtColor(frame[::4, ::4], cv2.COLOR_RGB2GRAY)
    sat = cv2.cvtColor(crop, cv2.COLOR_RGB2HSV)[..., 1].astype(np.float32) / 255.0
    return float(np.percentile(luma, 0.5)), float(sat.mean())


def enclosing_edges(frame: np.ndarray, a: FrameAnalysis) -> int:
    """How many sides (0-4) of the face have a long straight edge beyond them, roughly
    parallel to that side: the frame of a screen (bezel) or the edge of a held sheet.

    Physics: a face shown on a device or paper is surrounded by the medium's straight
    border, which moves with the face; a head in a room is not enclosed on 3-4 sides.
    """
    if a.box is None:
        return 0
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    edges = cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.2), 40, 110)
    h, w = gray.shape
    min_len = 0.22 * min(h, w)
    lines = cv2.HoughLinesP(edges, 1, np.pi / 180, 60, minLineLength=min_len, maxLineGap=6)
    if lines is None:
        return 0
    x, y, bw, bh = a.box
    margin = 0.15 * bw
    left, right, top, bottom = x - margin, x + bw + margin, y - margin, y + bh + margin
    cx, cy = x + bw / 2, y + bh / 2
    sides = set()
    for x1, y1, x2, y2 in lines[:, 0, :].astype(float):
        ang = abs(np.degrees(np.arctan2(y2 - y1, x2 - x1))) % 180
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        vertical = 65 < ang < 115
        horizontal = ang < 25 or ang > 155
        if vertical and min(y1, y2) < cy < max(y1, y2) + 0.5 * bh:
            if mx < left:
                sides.add("left")
            elif mx > right:
                sides.add("right")
        if horizontal and min(x1, x2) < cx + 0.5 * bw and max(x1, x2) > cx - 0.5 * bw:
            if my < top:
                sides.add("top")
            elif my > bottom:
                sides.add("bottom")
    return len(sides)


def tone_stats(crop: np.ndarray) -> tuple[float, float, float]:
    """(luma 1st percentile, luma dynamic range p99.5 - p1, fraction of near-white specular pixels)."""
    luma = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
    p1, p995 = np.percentile(luma, [1, 99.5])
    spec = float(np.mean(luma > 0.97 * 255))
    return float(p1), float(p995 - p1), spec


def collect_image_cues(frames: Sequence[np.ndarray], analyses: Sequence[FrameAnalysis]) -> dict[str, list[float]]:
    """Per-frame image cues over up to :data:`CUE_FRAMES` frames spread over the sequence."""
    cues: dict[str, list[float]] = {
        k: []
        for k in (
            *("peak", "peak_regions", "lattice", "regions", "banding", "edges"),
            *("black", "range", "specular", "frame_black", "sat"),
        )
    }
    usable = set(usable_indices(analyses))
    for i in spread_sample(sorted(usable), CUE_FRAMES):
        if i >= len(frames):
            continue
        frame = frames[i]
        crop = face_crop(frame, analyses[i])
        if crop is None:
            continue
        cues["peak"].append(spectral_peak(crop))
        cues["lattice"].append(lattice_peak(crop))
        windows = region_windows(frame, analyses[i])
        cues["regions"].append(min(lattice_peak(w) for w in windows) if windows else float("nan"))
        cues["peak_regions"].append(min(spectral_peak(w) for w in windows) if windows else float("nan"))
        if i + 1 < len(frames) and i + 1 < len(analyses):
            cues["banding"].append(row_banding(frame, frames[i + 1]))
        cues["edges"].append(float(enclosing_edges(frame, analyses[i])))
        full = face_crop(frame, analyses[i], 1.0)
        black, rng_, spec = tone_stats(full if full is not None else crop)
        cues["black"].append(black)
        cues["range"].append(rng_)
        cues["specular"].append(spec)
        frame_black, sat = screen_tone(frame, crop)
        cues["frame_black"].append(frame_black)
        cues["sat"].append(sat)
    return cues
