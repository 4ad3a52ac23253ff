"""Orienting a rectified document: text cues, a face cue, the candidate rotations and :func:`upright`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from openidv.document.geometry.quad import ROTATIONS
from openidv.imaging import as_rgb


@dataclass(frozen=True)
class OrientationCues:
    """Per-rotation evidence used by :func:`orientation_candidates` (log-odds units).

    ``face``: an upright face (eyes above the mouth) found at that rotation, weighted
    by the detector's confidence; ``text_alignment``: left-aligned text edges vs ragged
    right edges (+) or the mirror (-); ``mrz``: long dense text lines at the bottom (+)
    or top (-); ``shape``: a landscape image turned 90/270 would become portrait;
    ``text_direction``: text-line blobs run horizontally (+) or vertically (-).
    """

    face: dict[int, float]
    text_alignment: dict[int, float]
    mrz: dict[int, float]
    shape: dict[int, float]
    text_direction: dict[int, float]

    def total(self) -> dict[int, float]:
        return {
            r: self.face[r] + self.text_alignment[r] + self.mrz[r] + self.shape[r] + self.text_direction[r]
            for r in ROTATIONS
        }


def rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    """Rotate by 0/90/180/270 degrees clockwise."""
    if degrees not in ROTATIONS:
        raise ValueError(f"rotation must be one of {ROTATIONS}, got {degrees}")
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90)))


def orientation_cues(rectified: np.ndarray, *, use_face: bool = True) -> OrientationCues:
    """Evidence for each clockwise rotation that would make ``rectified`` upright."""
    image = as_rgb(rectified)
    height, width = image.shape[:2]
    landscape = width >= 1.15 * height
    shape = {r: (-2.5 if landscape and r in (90, 270) else 0.0) for r in ROTATIONS}

    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    scale = 1011.0 / max(height, width)
    if abs(scale - 1.0) > 0.05:
        gray = cv2.resize(gray, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    text0 = _text_features(gray)
    text90 = _text_features(np.ascontiguousarray(np.rot90(gray, k=-1)))
    align = {0: text0[0], 180: -text0[0], 90: text90[0], 270: -text90[0]}
    mrz = {0: text0[1], 180: -text0[1], 90: text90[1], 270: -text90[1]}
    horiz = text0[2] - text90[2]
    direction = {0: horiz, 180: horiz, 90: -horiz, 270: -horiz}
    face = dict.fromkeys(ROTATIONS, 0.0)
    if use_face:
        face = _face_cue(image)
    return OrientationCues(face, align, mrz, shape, direction)


def orientation_candidates(rectified: np.ndarray, *, use_face: bool = True) -> list[tuple[int, float]]:
    """Clockwise rotations (0/90/180/270) that may make ``rectified`` upright, best first.

    Scores are probabilities (softmax of the summed cue log-odds, they add up to 1).
    Cues need no OCR model: an upright face (``openidv.face.detect``), left-aligned
    text, an MRZ band at the bottom, horizontal text lines and the landscape shape.
    With no usable cue, 0 and 180 tie. Measured on generated ID-1 fronts: see
    ``tests/test_geometry.py``.
    """
    totals = orientation_cues(rectified, use_face=use_face).total()
    peak = max(totals.values())
    exp = {r: math.exp(v - peak) for r, v in totals.items()}
    norm = sum(exp.values())
    return sorted(((r, exp[r] / norm) for r in ROTATIONS), key=lambda rs: (-rs[1], rs[0]))


def upright(rectified: np.ndarray, *, use_face: bool = True) -> tuple[np.ndarray, int]:
    """``rectified`` turned by the best rotation, and that rotation (degrees clockwise)."""
    best = orientation_candidates(rectified, use_face=use_face)[0][0]
    return rotate(as_rgb(rectified), best), best


def _text_features(gray: np.ndarray) -> tuple[float, float, float]:
    """(alignment log-odds, MRZ-at-bottom log-odds, horizontal text-blob count) of a gray card at ~1011 px."""
    height, width = gray.shape
    ink = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 18)
    ink[gray >= 120] = 0  # printed text is dark; security patterns and tints are not
    ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    words = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 17), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(words)
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if 10 <= h <= 70 and w >= 2.5 * h and area >= 0.25 * w * h and w < 0.97 * width:
            density = float(np.count_nonzero(ink[y : y + h, x : x + w])) / (w * h)
            if 0.12 <= density <= 0.7:  # glyphs, not a solid bar or a band's rim
                boxes.append((x, y, w, h))
    if not boxes:
        return 0.0, 0.0, 0.0
    arr = np.array(boxes, dtype=np.float64)
    lefts, rights = arr[:, 0], arr[:, 0] + arr[:, 2]

    def aligned(edges: np.ndarray) -> float:
        # Largest number of blobs sharing an edge position (within 4 px), summed over columns of >= 3.
        edges = np.sort(edges)
        total, i = 0, 0
        while i < len(edges):
            j = i
            while j + 1 < len(edges) and edges[j + 1] - edges[i] <= 4.0:
                j += 1
            count = j - i + 1
            if count >= 3:
                total += count
            i = j + 1
        return float(total)

    a_left, a_right = aligned(lefts), aligned(rights)
    alignment = 0.0
    if a_left + a_right >= 3:
        alignment = (a_left - a_right) / (a_left + a_right + 2.0)
    # An MRZ: 2 or 3 text lines of about the same length spanning most of the width, near an edge.
    rows = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((7, 35), np.uint8))  # joins MRZ '<' fillers
    n_rows, _, row_stats, _ = cv2.connectedComponentsWithStats(rows)
    long = []
    for i in range(1, n_rows):
        x, y, w, h, _ = (int(v) for v in row_stats[i])
        if w >= 0.75 * width and 10 <= h <= 80:
            density = float(np.count_nonzero(ink[y : y + h, x : x + w])) / (w * h)
            if 0.08 <= density <= 0.7:
                long.append((x, y, w, h))
    long_lines = np.array(long, dtype=np.float64).reshape(-1, 4)
    mrz = 0.0
    if len(long_lines) >= 2 and long_lines[:, 2].min() >= 0.88 * long_lines[:, 2].max():
        centres = long_lines[:, 1] + long_lines[:, 3] / 2.0
        bottom = int(np.sum(centres > 0.65 * height))
        top = int(np.sum(centres < 0.35 * height))
        if bottom >= 2 and top == 0:
            mrz = 2.0
        elif top >= 2 and bottom == 0:
            mrz = -2.0
    return alignment, mrz, float(min(len(boxes), 20)) * 0.1


def _face_cue(image: np.ndarray) -> dict[int, float]:
    from openidv.face.detection import DetectorConfig, detect  # the face engine is heavy: import on use

    config = DetectorConfig(hog_fallback=False, max_upscale=1.0)
    height, width = image.shape[:2]
    scale = min(1.0, 640.0 / max(height, width))
    small = cv2.resize(image, (round(width * scale), round(height * scale)), interpolation=cv2.INTER_AREA)
    min_side = 0.08 * min(small.shape[:2])
    out = dict.fromkeys(ROTATIONS, 0.0)

    def run(rotation: int) -> None:
        best = 0.0
        for face in detect(rotate(small, rotation), config):
            if face.box.width < min_side:
                continue
            lm = face.landmarks.astype(np.float64)
            eyes, mouth = lm[0:2].mean(axis=0), lm[3:5].mean(axis=0)
            v = mouth - eyes
            if np.hypot(*v) < 1e-6 or v[1] / np.hypot(*v) < math.cos(math.radians(40)):
                continue
            if lm[0, 0] >= lm[1, 0]:
                continue
            best = max(best, float(face.score))
        out[rotation] = 4.0 * best

    run(0)
    run(180)
    if max(out.values()) == 0.0:
        run(90)
        run(270)
    return out
