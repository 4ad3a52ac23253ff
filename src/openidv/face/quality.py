"""Quality measures of a detected face: size, sharpness, exposure and approximate pose."""

from __future__ import annotations

import math

import cv2
import numpy as np

from openidv.face.types import Box, FaceQuality

#: Width in pixels the face crop is resized to before measuring sharpness, so the
#: measure does not depend on the face's size in the image.
SHARPNESS_WIDTH = 112


def face_quality(rgb: np.ndarray, box: Box, landmarks: np.ndarray) -> FaceQuality:
    """Measure a face given its box and 5 landmarks (see :mod:`openidv.face.types`)."""
    gray = _face_crop_gray(rgb, box)
    if gray.size:
        small = cv2.resize(
            gray,
            (SHARPNESS_WIDTH, max(1, round(gray.shape[0] * SHARPNESS_WIDTH / gray.shape[1]))),
            interpolation=cv2.INTER_AREA if gray.shape[1] > SHARPNESS_WIDTH else cv2.INTER_CUBIC,
        )
        sharpness = float(cv2.Laplacian(small, cv2.CV_64F).var())
        brightness, contrast = float(gray.mean()), float(gray.std())
    else:
        sharpness = brightness = contrast = 0.0
    yaw, pitch, roll = estimate_pose(landmarks)
    le, re = landmarks[0], landmarks[1]
    return FaceQuality(
        face_width_px=box.width,
        face_height_px=box.height,
        interocular_px=float(np.hypot(*(re - le))),
        sharpness=sharpness,
        brightness=brightness,
        contrast=contrast,
        yaw_deg=yaw,
        pitch_deg=pitch,
        roll_deg=roll,
    )


def estimate_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """Approximate (yaw, pitch, roll) in degrees from 5 landmarks.

    Roll is the angle of the eye line. Yaw and pitch come from where the nose tip lies
    relative to the eyes and mouth after removing roll: on a frontal face the nose
    sits midway between the eyes horizontally and at about 0.55 of the eye-to-mouth
    distance vertically. The mapping to degrees assumes the nose tip stands about
    0.6 inter-ocular distances in front of the eye plane (a typical adult head);
    treat the result as +-10 degrees.
    """
    le, re, nose, ml, mr = (np.asarray(p, dtype=np.float64) for p in landmarks)
    dx, dy = re - le
    roll = math.degrees(math.atan2(dy, dx))
    iod = math.hypot(dx, dy)
    if iod < 1e-6:
        return 0.0, 0.0, roll
    c, s = math.cos(math.radians(-roll)), math.sin(math.radians(-roll))
    rot = np.array([[c, -s], [s, c]])
    eyes_mid = (le + re) / 2.0
    mouth_mid = (ml + mr) / 2.0
    n = rot @ (nose - eyes_mid)
    m = rot @ (mouth_mid - eyes_mid)
    depth = 0.6 * iod
    yaw = math.degrees(math.asin(float(np.clip(n[0] / depth, -1.0, 1.0))))
    eye_mouth = max(m[1], 1e-6)
    pitch = math.degrees(math.asin(float(np.clip((0.55 * eye_mouth - n[1]) / depth, -1.0, 1.0))))
    return yaw, pitch, roll


def _face_crop_gray(rgb: np.ndarray, box: Box) -> np.ndarray:
    h, w = rgb.shape[:2]
    x0, y0 = max(0, int(box.x)), max(0, int(box.y))
    x1, y1 = min(w, math.ceil(box.x + box.width)), min(h, math.ceil(box.y + box.height))
    if x1 <= x0 or y1 <= y0:
        return np.zeros((0, 0), np.uint8)
    return cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
