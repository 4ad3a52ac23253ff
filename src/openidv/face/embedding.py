"""Alignment and embedding: dlib 5-point predictor + dlib ResNet 128-d descriptor (run through ONNX).

dlib's 5-point predictor expects a box like its own HOG detector's. That box is
derived from the detector's landmarks: measured on the shared face photos, the HOG
box is centred at ``E + 0.51 (M - E)`` and about 2.37 times the eye-to-mouth
distance wide, where E and M are the midpoints of the eyes and of the mouth corners
(126 faces; see ``docs/architecture.md``). The predictor's landmarks then drive
``dlib.get_face_chip`` (150x150, padding 0.25) and the descriptor is computed on that
chip and, by default, on its mirror image; the two are averaged (on the shared face
pairs this lowered FNMR at FMR 1e-3 from 3.6% to 3.0%). The descriptor network is dlib's,
converted to ONNX at load (:mod:`openidv.face.descriptor`); chip and mirror go through it
as one batch of 2. Embeddings are returned in memory only.
"""

from __future__ import annotations

import numpy as np

from openidv.face.types import DetectedFace, FaceEmbedding
from openidv.imaging import ImageInput, load_rgb
from openidv.models import get_model

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def dlib_box(face: DetectedFace) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the dlib-style box for ``face``, in pixels."""
    le, re, _, ml, mr = face.landmarks.astype(np.float64)
    eyes, mouth = (le + re) / 2.0, (ml + mr) / 2.0
    d_eye_mouth = float(np.hypot(*(mouth - eyes)))
    d_eyes = float(np.hypot(*(re - le)))
    size = 1.185 * (d_eye_mouth + d_eyes)
    if size < 4.0:  # degenerate landmarks: fall back to the detector's own box
        size = min(face.box.width, face.box.height)
        cx, cy = face.box.center
    else:
        cx, cy = eyes + 0.51 * (mouth - eyes)
    half = size / 2.0
    return round(cx - half), round(cy - half), round(cx + half), round(cy + half)


def embed(image: ImageInput, face: DetectedFace, *, mirror: bool = True) -> FaceEmbedding:
    """Align ``face`` (found in ``image``) to a 150x150 chip and compute its descriptor.

    With ``mirror`` the descriptor is the mean of the chip's and its left-right
    mirror's, computed as one batch of 2. The returned vector has shape (128,), dtype float64.
    """
    chip = align(image, face)
    return FaceEmbedding(chip=chip, vector=describe(chip, mirror=mirror), face=face)


def align(image: ImageInput, face: DetectedFace) -> np.ndarray:
    """The (150, 150, 3) uint8 RGB chip of ``face``: dlib 5-point shape in the landmark-derived box,
    then ``dlib.get_face_chip`` (padding 0.25)."""
    import dlib

    rgb = load_rgb(image)
    rect = dlib.rectangle(*dlib_box(face))
    shape = get_model("dlib_shape5")(rgb, rect)
    return np.asarray(dlib.get_face_chip(rgb, shape, size=CHIP_SIZE, padding=CHIP_PADDING), dtype=np.uint8)


def describe(chip: np.ndarray, *, mirror: bool = True) -> np.ndarray:
    """The (128,) float64 descriptor of an aligned chip; with ``mirror``, the mean of the chip's and
    its mirror's, run as one batch of 2."""
    chips = np.stack([chip, chip[:, ::-1]]) if mirror else chip[None]
    return np.asarray(get_model("dlib_resnet")(chips).mean(axis=0), dtype=np.float64)
