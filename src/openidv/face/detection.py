"""Face detection: RetinaFace-MobileNet (ONNX) with a dlib HOG fallback.

The detector runs on a copy of the image resized so its longer side is
``DetectorConfig.max_side`` pixels (small images are enlarged up to 2x). When nothing
is found and the image is larger than that, a second pass runs at
``retry_max_side`` so that small faces (a portrait on a photographed ID card) are
not lost. Boxes and landmarks are returned in the input image's pixel coordinates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np

from openidv.face.quality import face_quality
from openidv.face.types import Box, DetectedFace
from openidv.imaging import DEFAULT_MAX_PIXELS, ImageInput, load_rgb
from openidv.models import get_model

# RetinaFace prior boxes: feature strides and the anchor sizes (pixels) at each.
_STRIDES = (8, 16, 32)
_ANCHOR_SIZES = ((16, 32), (64, 128), (256, 512))
_VARIANCE_CENTER, _VARIANCE_SIZE = 0.1, 0.2
_BGR_MEAN = np.array([104.0, 117.0, 123.0], dtype=np.float32)


@dataclass(frozen=True)
class DetectorConfig:
    score_threshold: float = 0.8  #: minimum RetinaFace confidence
    nms_iou: float = 0.4  #: overlap above which the weaker of two boxes is dropped
    max_side: int = 640  #: detection resolution, longer side in pixels
    retry_max_side: int = 2048  #: second pass resolution when the first finds nothing (none if not above max_side)
    max_upscale: float = 2.0  #: largest enlargement of a small image before detection
    min_face_px: float = 8.0  #: boxes narrower than this (input pixels) are dropped
    hog_fallback: bool = True  #: try dlib HOG when RetinaFace finds nothing
    hog_max_side: int = 800  #: HOG resolution (it upsamples once more internally)


DEFAULT_DETECTOR = DetectorConfig()


def detect(
    image: ImageInput,
    config: DetectorConfig = DEFAULT_DETECTOR,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[DetectedFace]:
    """Find faces in an image; largest first.

    ``image`` may be encoded bytes (EXIF orientation applied), a Pillow image or an
    array (grayscale, RGB or RGBA). Raises :class:`openidv.errors.ImageError` on
    unusable input; returns an empty list when there is no face.
    """
    rgb = load_rgb(image, max_pixels=max_pixels)
    longest = max(rgb.shape[:2])
    faces = _retinaface(rgb, config, min(config.max_side / longest, config.max_upscale))
    if not faces and longest > config.max_side and config.retry_max_side > config.max_side:
        faces = _retinaface(rgb, config, min(config.retry_max_side / longest, 1.0))
    if not faces and config.hog_fallback:
        faces = _hog(rgb, config)
    return sorted(faces, key=lambda f: f.box.area, reverse=True)


# --------------------------------------------------------------------------- RetinaFace


@lru_cache(maxsize=16)
def _priors(height: int, width: int) -> np.ndarray:
    """Prior boxes (cx, cy, w, h), normalised to the padded input size; shape (N, 4)."""
    rows = []
    for stride, sizes in zip(_STRIDES, _ANCHOR_SIZES, strict=True):
        ny, nx = math.ceil(height / stride), math.ceil(width / stride)
        ys, xs = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
        cx = ((xs.ravel() + 0.5) * stride / width).repeat(len(sizes))
        cy = ((ys.ravel() + 0.5) * stride / height).repeat(len(sizes))
        sw = np.tile(np.array(sizes, dtype=np.float64) / width, nx * ny)
        sh = np.tile(np.array(sizes, dtype=np.float64) / height, nx * ny)
        rows.append(np.stack([cx, cy, sw, sh], axis=1))
    return np.concatenate(rows).astype(np.float32)


def _retinaface(rgb: np.ndarray, config: DetectorConfig, scale: float) -> list[DetectedFace]:
    h, w = rgb.shape[:2]
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    resized = cv2.resize(rgb, (sw, sh), interpolation=interp) if (sw, sh) != (w, h) else rgb
    # Pad to a multiple of 32 so every stride divides the input evenly.
    ph, pw = -(-sh // 32) * 32, -(-sw // 32) * 32
    blob = np.zeros((ph, pw, 3), np.float32)
    blob[:sh, :sw] = resized[:, :, ::-1].astype(np.float32) - _BGR_MEAN
    blob = blob.transpose(2, 0, 1)[None]

    loc, conf, landm = get_model("retinaface").run(None, {"input": blob})
    scores = conf[0, :, 1]
    keep = np.flatnonzero(scores > config.score_threshold)
    if keep.size == 0:
        return []
    pri = _priors(ph, pw)[keep]
    loc, landm, scores = loc[0, keep], landm[0, keep], scores[keep]
    centers = pri[:, :2] + loc[:, :2] * _VARIANCE_CENTER * pri[:, 2:]
    sizes = pri[:, 2:] * np.exp(loc[:, 2:] * _VARIANCE_SIZE)
    to_px = np.array([pw, ph], np.float32) / scale
    xy = (centers - sizes / 2.0) * to_px
    wh = sizes * to_px
    pts = (pri[:, None, :2] + landm.reshape(-1, 5, 2) * _VARIANCE_CENTER * pri[:, None, 2:]) * to_px

    boxes = np.concatenate([xy, wh], axis=1)
    idx = cv2.dnn.NMSBoxes(boxes.tolist(), scores.tolist(), config.score_threshold, config.nms_iou)
    faces = []
    for i in np.asarray(idx, dtype=int).ravel():
        x, y, bw, bh = (float(v) for v in boxes[i])
        if bw < config.min_face_px:
            continue
        box = _clip_box(Box(x, y, bw, bh), w, h)
        marks = pts[i].astype(np.float32)
        faces.append(DetectedFace(box, marks, float(scores[i]), face_quality(rgb, box, marks), "retinaface"))
    return faces


def _clip_box(box: Box, width: int, height: int) -> Box:
    x0, y0 = max(0.0, box.x), max(0.0, box.y)
    x1, y1 = min(float(width), box.x + box.width), min(float(height), box.y + box.height)
    return Box(x0, y0, max(0.0, x1 - x0), max(0.0, y1 - y0))


# --------------------------------------------------------------------------- dlib HOG fallback


def _hog(rgb: np.ndarray, config: DetectorConfig) -> list[DetectedFace]:
    """dlib HOG detector; 5 landmarks derived from dlib's 5-point predictor.

    dlib's points are the outer and inner corners of each eye and the base of the
    nose; eye centres are the corner midpoints, and mouth corners are placed below
    the eyes at the typical proportions of a frontal face.
    """
    import dlib

    h, w = rgb.shape[:2]
    scale = min(1.0, config.hog_max_side / max(h, w))
    small = cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    rects = get_model("dlib_hog")(small, 1)
    predictor = get_model("dlib_shape5")
    faces = []
    for r in rects:
        rect = dlib.rectangle(
            int(r.left() / scale), int(r.top() / scale), int(r.right() / scale), int(r.bottom() / scale)
        )
        shape = predictor(rgb, rect)
        p = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float32)
        # dlib order: 0,1 = one eye's corners (image right), 2,3 = other eye (image left), 4 = nose base.
        eye_r, eye_l, nose = (p[0] + p[1]) / 2.0, (p[2] + p[3]) / 2.0, p[4]
        if eye_l[0] > eye_r[0]:
            eye_l, eye_r = eye_r, eye_l
        across = eye_r - eye_l
        down = np.array([-across[1], across[0]], dtype=np.float32)
        mid = (eye_l + eye_r) / 2.0
        mouth_mid = mid + 1.1 * down
        marks = np.stack([eye_l, eye_r, nose, mouth_mid - 0.4 * across, mouth_mid + 0.4 * across]).astype(np.float32)
        box = _clip_box(Box(rect.left(), rect.top(), rect.width(), rect.height()), w, h)
        if box.width >= config.min_face_px:
            faces.append(DetectedFace(box, marks, 0.5, face_quality(rgb, box, marks), "dlib_hog"))
    return faces
