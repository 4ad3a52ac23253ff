"""Per-frame analysis for the liveness session: face mesh, head pose, eyes, mouth, quality, guidance.

One :class:`FrameAnalyzer` per session (or per recorded sequence): it owns a mediapipe
face-mesh tracker, which keeps state between frames (it re-detects only when it loses
the face), so frames must be given in capture order.

Conventions (as in :mod:`openidv.liveness.types`): pixels in the analysed frame, origin
top-left, x right, y down; angles in degrees.

* ``yaw`` positive when the subject turns to the image's right (their own left),
* ``pitch`` positive when the subject looks up,
* ``roll`` positive when the head tilts clockwise in the image.

Head pose is the rigid rotation that best fits eight rigid mesh landmarks (nose tip,
subnasale, nose bridge, forehead, the four eye corners; no mouth, chin or eyelid points,
which move with expression) in 3-D to :data:`HEAD_TEMPLATE_MM`, a sparse template of a
typical adult head (x right, y down, z away from the camera, origin at the nose tip,
millimetres, an outer-canthus width of 90 mm; depths read off mediapipe's own mesh of a
frontal face and symmetrised). mediapipe gives every landmark a depth, so the fit needs
no camera model (:func:`head_pose_pnp`, the :func:`cv2.solvePnP` alternative from the
2-D points, depends on the unknown focal length and read synthetic 30 degree turns as
11-20 degrees, against 20-25 for the 3-D fit). Absolute angles carry the template's
bias (a few degrees) and, for a face far from the image centre, the viewing angle; the
session compares every angle with the subject's own neutral baseline.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import cv2
import numpy as np

from openidv.imaging import as_rgb, decode_image
from openidv.liveness.types import FrameAnalysis
from openidv.models import get_model

# --------------------------------------------------------------------------- mediapipe mesh indices

#: Eye landmarks for the eye aspect ratio, in the order p1 (outer/inner corner), p2, p3 (upper
#: lid), p4 (other corner), p5, p6 (lower lid): EAR = (|p2-p6| + |p3-p5|) / (2 |p1-p4|).
EYE_IMAGE_LEFT = (33, 160, 158, 133, 153, 144)  #: the subject's right eye
EYE_IMAGE_RIGHT = (362, 385, 387, 263, 373, 380)  #: the subject's left eye
MOUTH_CORNERS = (61, 291)  #: image-left, image-right mouth corner
INNER_LIP_CENTRE = (13, 14)  #: upper and lower inner lip, on the midline
NOSE_TIP = 1

#: Sparse 3-D head template, millimetres: x right (the subject's left), y down, z away from
#: the camera, origin at the nose tip. Keys are mediapipe face-mesh landmark indices. Only
#: points that do not move with expression (no mouth, no chin, no eyelids) are used.
HEAD_TEMPLATE_MM: dict[int, tuple[float, float, float]] = {
    1: (0.0, 0.0, 0.0),  # nose tip (pronasale)
    2: (0.0, 4.0, 16.0),  # subnasale
    168: (0.0, -43.0, 18.0),  # nose bridge between the eyes
    10: (0.0, -86.0, 18.0),  # forehead, top of the mesh
    33: (-45.0, -40.0, 40.0),  # outer corner of the image-left eye
    133: (-17.5, -38.0, 35.0),  # inner corner of the image-left eye
    362: (17.5, -38.0, 35.0),  # inner corner of the image-right eye
    263: (45.0, -40.0, 40.0),  # outer corner of the image-right eye
}
_PNP_IDS = np.array(list(HEAD_TEMPLATE_MM), dtype=np.int64)
_PNP_MODEL = np.array(list(HEAD_TEMPLATE_MM.values()), dtype=np.float64)

#: Width in pixels the face crop is resized to before measuring sharpness (as in
#: :mod:`openidv.face.quality`), so the measure does not depend on the face's size.
SHARPNESS_WIDTH = 112


@dataclass(frozen=True)
class FrameConfig:
    """Thresholds behind the per-frame guidance."""

    min_face_frac: float = 0.18  #: face narrower than this fraction of the frame: "move closer"
    #: eye centres closer than this (frame pixels): "move closer"; the face match refuses a selfie whose eyes
    #: are closer than its gate (``face_selfie_min_iod_px``), and the service passes the same value here
    min_interocular_px: float = 30.0
    max_face_frac: float = 0.70  #: wider: "move back"
    second_face_frac: float = 0.35  #: another face at least this fraction of the main one's width counts
    #: ... and only faces at least this sharp relative to the sharpest one count (Laplacian variance
    #: ratio; the main face is the largest of them): an out-of-focus bystander far behind the user is
    #: not a face presented to the camera (a blurred crowd measured 0.03 of the user's sharpness; a
    #: photo held up beside the face is in focus)
    second_face_sharpness: float = 0.2
    #: another face at least this fraction of the main one's width is comparable to it (``n_faces``): a
    #: second person beside the user, or a life-size face shown; between ``second_face_frac`` and this it
    #: is a smaller face (``n_smaller_faces``): a bystander 1-2 m behind a user at arm's length measures
    #: 0.25-0.45 of the user's width (inverse distance), a face on a phone held up beside the user's
    #: 0.35-0.55 (a 5-8 cm face against a 14 cm one); which of the two it is cannot be told from one frame
    comparable_face_frac: float = 0.6
    min_brightness: float = 40.0  #: face (or, without a face, frame) mean luma below: "too dark"
    max_brightness: float = 230.0  #: face mean luma above: "too bright"
    min_sharpness: float = 12.0  #: Laplacian variance at 112 px below: "hold still" (motion blur)
    max_centre_offset: float = 0.25  #: face centre further than this fraction of the frame from its centre
    max_outside_frac: float = 0.10  #: more than this fraction of the face box outside the frame
    max_side: int = 1280  #: longer frames are downscaled before the mesh (landmarks stay in frame pixels)


DEFAULT_FRAME_CONFIG = FrameConfig()

GUIDANCE_NO_FACE = "no face found"
GUIDANCE_MANY_FACES = "only one face please"
GUIDANCE_CLOSER = "move closer"
GUIDANCE_BACK = "move back"
GUIDANCE_DARK = "too dark"
GUIDANCE_BRIGHT = "too bright"
GUIDANCE_STILL = "hold still"
GUIDANCE_CENTRE = "centre your face"
#: Guidance about image quality (not about where the face is).
QUALITY_GUIDANCE = frozenset({GUIDANCE_DARK, GUIDANCE_BRIGHT, GUIDANCE_STILL})


def decode_frame(jpeg_bytes: bytes | bytearray | memoryview) -> np.ndarray:
    """Decode one camera frame (JPEG, PNG, WebP, ...) to RGB ``uint8`` ``(H, W, 3)``.

    Raises a subclass of :class:`openidv.errors.ImageError` on empty, corrupt or
    unusable data.
    """
    return decode_image(jpeg_bytes)


def frame_hash(rgb: np.ndarray) -> str:
    """BLAKE2b-128 of the pixels and the shape: equal frames have equal hashes."""
    h = hashlib.blake2b(digest_size=16)
    h.update(np.asarray(rgb.shape, dtype=np.int64).tobytes())
    h.update(np.ascontiguousarray(rgb).data)
    return h.hexdigest()


def eye_aspect_ratio(landmarks: np.ndarray) -> float:
    """Mean eye aspect ratio of both eyes from 478 mesh landmarks (open ~0.25-0.35, closed < 0.15)."""
    out = []
    for ids in (EYE_IMAGE_LEFT, EYE_IMAGE_RIGHT):
        p1, p2, p3, p4, p5, p6 = (landmarks[i, :2].astype(np.float64) for i in ids)
        width = float(np.linalg.norm(p1 - p4))
        if width < 1e-6:
            return 0.0
        out.append((float(np.linalg.norm(p2 - p6)) + float(np.linalg.norm(p3 - p5))) / (2.0 * width))
    return float(np.mean(out))


def interocular(landmarks: np.ndarray) -> float:
    """Distance between the eye centres (mean of each eye's two corners), pixels."""
    le = (landmarks[33, :2] + landmarks[133, :2]) / 2.0
    re = (landmarks[362, :2] + landmarks[263, :2]) / 2.0
    return float(np.linalg.norm(re.astype(np.float64) - le.astype(np.float64)))


def smile_ratio(landmarks: np.ndarray) -> float:
    """Mouth width (corner to corner) over the inter-ocular distance (~0.9-1.1 at rest)."""
    iod = interocular(landmarks)
    if iod < 1e-6:
        return 0.0
    ml, mr = (landmarks[i, :2].astype(np.float64) for i in MOUTH_CORNERS)
    return float(np.linalg.norm(mr - ml)) / iod


def mouth_corner_lift(landmarks: np.ndarray) -> float:
    """How far the mouth corners sit above the inner-lip centre, over the inter-ocular distance.

    Measured perpendicular to the eye line (roll removed); positive when the corners are
    higher than the lip centre, as in a smile.
    """
    iod = interocular(landmarks)
    if iod < 1e-6:
        return 0.0
    le = (landmarks[33, :2] + landmarks[133, :2]).astype(np.float64) / 2.0
    re = (landmarks[362, :2] + landmarks[263, :2]).astype(np.float64) / 2.0
    ex = (re - le) / max(float(np.linalg.norm(re - le)), 1e-9)
    down = np.array([-ex[1], ex[0]])  # the eye line rotated by +90 degrees: "down" in the face
    corners = np.mean([landmarks[i, :2] for i in MOUTH_CORNERS], axis=0).astype(np.float64)
    centre = np.mean([landmarks[i, :2] for i in INNER_LIP_CENTRE], axis=0).astype(np.float64)
    return float(np.dot(centre - corners, down)) / iod


def head_pose(landmarks: np.ndarray) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees: the rotation of :data:`HEAD_TEMPLATE_MM` that best fits the mesh.

    ``landmarks`` are mediapipe's 3-D landmarks (x, y pixels, z depth in pixels, larger =
    farther). The fit is a least-squares rigid rotation (Kabsch: SVD of the centred
    cross-covariance; scale and translation do not affect it) of the template onto the
    eight rigid points. Because it uses the mesh's own depth it needs no camera model:
    the result does not depend on the focal length, which varies between webcams and
    phones. Signs as in the module docstring; zeros when the points are degenerate.
    """
    pts = landmarks[_PNP_IDS, :3].astype(np.float64)
    if not np.all(np.isfinite(pts)) or float(np.ptp(pts[:, 0])) < 2.0:
        return 0.0, 0.0, 0.0
    p = pts - pts.mean(axis=0)
    q = _PNP_MODEL - _PNP_MODEL.mean(axis=0)
    u, _s, vt = np.linalg.svd(q.T @ p)
    d = 1.0 if np.linalg.det(vt.T @ u.T) >= 0 else -1.0
    rot = vt.T @ np.diag([1.0, 1.0, d]) @ u.T  # template axes -> image axes
    return _angles(rot)


def head_pose_pnp(
    landmarks: np.ndarray, width: int, height: int, *, focal_frac: float = 1.0
) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from the 2-D landmarks alone, by :func:`cv2.solvePnP` (SQPnP).

    Pinhole camera with focal length ``focal_frac * width`` pixels and the principal
    point at the frame centre; angles are relative to the optical axis (a face off the
    image centre reads as slightly turned). An alternative to :func:`head_pose` that
    depends on the focal length; zeros when the pose cannot be solved.
    """
    image_points = landmarks[_PNP_IDS, :2].astype(np.float64)
    f = focal_frac * float(width)
    camera = np.array([[f, 0.0, width / 2.0], [0.0, f, height / 2.0], [0.0, 0.0, 1.0]])
    if not np.all(np.isfinite(image_points)) or float(np.ptp(image_points[:, 0])) < 2.0:
        return 0.0, 0.0, 0.0
    try:
        ok, rvec, _tvec = cv2.solvePnP(_PNP_MODEL, image_points, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    except cv2.error:  # degenerate point sets are refused by OpenCV
        return 0.0, 0.0, 0.0
    if not ok:
        return 0.0, 0.0, 0.0
    rot, _ = cv2.Rodrigues(rvec)
    return _angles(np.asarray(rot, dtype=np.float64))


def _angles(rot: np.ndarray) -> tuple[float, float, float]:
    """Yaw, pitch, roll (degrees) of a rotation taking template axes to image axes (x right, y down, z away)."""
    normal = -rot[:, 2]  # the template's "towards the camera" direction (0, 0, -1), in image axes
    yaw = math.degrees(math.atan2(normal[0], -normal[2]))
    pitch = math.degrees(math.atan2(-normal[1], math.hypot(normal[0], normal[2])))
    roll = math.degrees(math.atan2(rot[1, 0], rot[0, 0]))
    return yaw, pitch, roll


def face_box(landmarks: np.ndarray) -> tuple[float, float, float, float]:
    """Box (x, y, w, h) around the mesh, pixels: forehead to chin, cheek to cheek."""
    x0, y0 = (float(v) for v in landmarks[:, :2].min(axis=0))
    x1, y1 = (float(v) for v in landmarks[:, :2].max(axis=0))
    return x0, y0, x1 - x0, y1 - y0


def _crop_gray(rgb: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    h, w = rgb.shape[:2]
    x, y, bw, bh = box
    x0, y0 = max(0, int(x)), max(0, int(y))
    x1, y1 = min(w, math.ceil(x + bw)), min(h, math.ceil(y + bh))
    if x1 - x0 < 2 or y1 - y0 < 2:
        return np.zeros((0, 0), np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(rgb[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)


def _sharpness(gray: np.ndarray) -> float:
    if gray.size == 0:
        return 0.0
    new_h = max(1, round(gray.shape[0] * SHARPNESS_WIDTH / gray.shape[1]))
    interp = cv2.INTER_AREA if gray.shape[1] > SHARPNESS_WIDTH else cv2.INTER_CUBIC
    small = cv2.resize(gray, (SHARPNESS_WIDTH, new_h), interpolation=interp)
    return float(cv2.Laplacian(small, cv2.CV_64F).var())


def _frame_luma(rgb: np.ndarray) -> float:
    step = max(1, max(rgb.shape[:2]) // 160)  # a subsampled mean is enough for "too dark"
    sub = rgb[::step, ::step].astype(np.float32)
    return float((sub @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())


class FrameAnalyzer:
    """Analyses the frames of one sequence, in order. Not thread-safe: one per session.

    ``tracker`` is an object with mediapipe FaceMesh's ``process(rgb)`` (tests may
    inject one); by default one is made from the model registry on first use.
    """

    def __init__(
        self,
        *,
        config: FrameConfig = DEFAULT_FRAME_CONFIG,
        max_faces: int = 2,
        tracker: Any | None = None,
    ) -> None:
        self.config = config
        self.max_faces = max_faces
        self._tracker = tracker

    @property
    def tracker(self) -> Any:
        if self._tracker is None:
            make = get_model("face_mesh")
            self._tracker = make(static=False, max_faces=self.max_faces)
        return self._tracker

    def close(self) -> None:
        """Release the tracker's graph (a later :meth:`analyse` makes a new one)."""
        tracker, self._tracker = self._tracker, None
        close = getattr(tracker, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> FrameAnalyzer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def analyse(self, rgb: np.ndarray, timestamp: float) -> FrameAnalysis:
        """Analyse one RGB ``uint8`` frame ``(H, W, 3)`` taken at ``timestamp`` seconds.

        Raises :class:`openidv.errors.ImageError` for an unusable array; a frame
        without a face is a normal result (``face_found`` False, guidance "no face found").
        """
        rgb = as_rgb(rgb)
        height, width = rgb.shape[:2]
        cfg = self.config
        scale = min(1.0, cfg.max_side / max(height, width))
        small = rgb
        if scale < 1.0:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
        result = self.tracker.process(small)
        faces = []
        for face in getattr(result, "multi_face_landmarks", None) or []:
            pts = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float32)
            pts[:, 0] *= width
            pts[:, 1] *= height
            pts[:, 2] *= width  # mediapipe's z has the scale of x; origin near the head's centre
            faces.append(pts)
        digest = frame_hash(rgb)
        if not faces:
            luma = _frame_luma(rgb)
            return FrameAnalysis(
                timestamp=float(timestamp),
                width=width,
                height=height,
                n_faces=0,
                face_found=False,
                frame_hash=digest,
                brightness=luma,
                guidance=GUIDANCE_DARK if luma < cfg.min_brightness else GUIDANCE_NO_FACE,
            )
        boxes = [face_box(f) for f in faces]
        grays = [_crop_gray(rgb, b) for b in boxes]
        sharp = [_sharpness(g) for g in grays]
        # an out-of-focus face far behind the user is not presented to the camera
        in_focus = [k for k in range(len(boxes)) if sharp[k] >= cfg.second_face_sharpness * max(sharp)]
        main = max(in_focus, key=lambda k: boxes[k][2])
        landmarks, box, gray, sharpness = faces[main], boxes[main], grays[main], sharp[main]
        n_faces = sum(1 for k in in_focus if boxes[k][2] >= cfg.comparable_face_frac * box[2])
        n_smaller = sum(
            1 for k in in_focus if cfg.second_face_frac * box[2] <= boxes[k][2] < cfg.comparable_face_frac * box[2]
        )
        yaw, pitch, roll = head_pose(landmarks)
        brightness = float(gray.mean()) if gray.size else 0.0
        analysis = FrameAnalysis(
            timestamp=float(timestamp),
            width=width,
            height=height,
            n_faces=n_faces,
            n_smaller_faces=n_smaller,
            face_found=True,
            landmarks=landmarks,
            box=box,
            yaw=yaw,
            pitch=pitch,
            roll=roll,
            ear=eye_aspect_ratio(landmarks),
            smile=smile_ratio(landmarks),
            face_width_frac=box[2] / width,
            brightness=brightness,
            sharpness=sharpness,
            frame_hash=digest,
        )
        return _with_guidance(analysis, cfg)


def frame_guidance(a: FrameAnalysis, config: FrameConfig = DEFAULT_FRAME_CONFIG) -> str:
    """The one most useful instruction for this frame, or "" when the frame is fine.

    Order: no face / too dark, several faces, exposure, distance, centring, motion blur.
    """
    if not a.face_found or a.box is None:
        return GUIDANCE_DARK if a.brightness < config.min_brightness else GUIDANCE_NO_FACE
    if a.n_faces > 1:
        return GUIDANCE_MANY_FACES
    if a.brightness < config.min_brightness:
        return GUIDANCE_DARK
    if a.brightness > config.max_brightness:
        return GUIDANCE_BRIGHT
    if a.face_width_frac < config.min_face_frac or _eyes_closer_than(a, config.min_interocular_px):
        return GUIDANCE_CLOSER
    if a.face_width_frac > config.max_face_frac:
        return GUIDANCE_BACK
    x, y, w, h = a.box
    inside_w = max(0.0, min(x + w, a.width) - max(x, 0.0))
    inside_h = max(0.0, min(y + h, a.height) - max(y, 0.0))
    outside = 1.0 - (inside_w * inside_h) / max(w * h, 1e-9)
    off_x = abs(x + w / 2.0 - a.width / 2.0) / a.width
    off_y = abs(y + h / 2.0 - a.height / 2.0) / a.height
    if outside > config.max_outside_frac or max(off_x, off_y) > config.max_centre_offset:
        return GUIDANCE_CENTRE
    if a.sharpness < config.min_sharpness:
        return GUIDANCE_STILL
    return ""


def _eyes_closer_than(a: FrameAnalysis, pixels: float) -> bool:
    return a.landmarks is not None and interocular(a.landmarks) < pixels


def _with_guidance(a: FrameAnalysis, config: FrameConfig) -> FrameAnalysis:
    return replace(a, guidance=frame_guidance(a, config))


# --------------------------------------------------------------------------- screen-light measurements

#: Mesh landmarks whose bounding boxes are the face regions measured for the screen-light check:
#: forehead, image-left cheek, image-right cheek, nose, chin (skin that faces the screen).
LIGHT_FACE_REGIONS: tuple[tuple[int, ...], ...] = (
    (10, 109, 67, 103, 338, 297, 332, 151, 108, 69, 337, 299),
    (50, 101, 36, 205, 187, 123, 117, 118),
    (280, 330, 266, 425, 411, 352, 346, 347),
    (1, 4, 5, 195, 197, 98, 327, 45, 275),
    (152, 148, 176, 377, 400, 199, 175, 171, 396),
)
#: Surround boxes relative to the face box (x, y, w, h): (x0, x1, y0, y1) in face-box units from its
#: top-left corner. Beside the face at eye level (image left, image right) and above the head.
LIGHT_SURROUND_BOXES: tuple[tuple[float, float, float, float], ...] = (
    (-0.55, -0.15, 0.15, 0.55),
    (1.15, 1.55, 0.15, 0.55),
    (0.2, 0.8, -0.55, -0.2),
)
#: A region needs at least this many sampled pixels to be measured.
LIGHT_MIN_PIXELS = 12


def _box_mean(rgb: np.ndarray, x0: float, y0: float, x1: float, y1: float, step: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    ix0, iy0 = max(0, round(x0)), max(0, round(y0))
    ix1, iy1 = min(w, round(x1)), min(h, round(y1))
    if ix1 <= ix0 or iy1 <= iy0:
        return np.full(3, np.nan)
    # a box more than half outside the frame is not the region it stands for
    if (ix1 - ix0) * (iy1 - iy0) < 0.5 * max(x1 - x0, 1.0) * max(y1 - y0, 1.0):
        return np.full(3, np.nan)
    patch = rgb[iy0:iy1:step, ix0:ix1:step]
    if patch.shape[0] * patch.shape[1] < LIGHT_MIN_PIXELS:
        return np.full(3, np.nan)
    return np.asarray(patch.reshape(-1, 3).mean(axis=0), dtype=np.float64)


def light_regions(rgb: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean RGB (0-255, as encoded) of the face regions (5, 3) and surround boxes (3, 3) of one frame.

    ``landmarks`` are the frame's (478, 3) mesh points in its pixels (origin top-left). Face
    regions are the bounding boxes of :data:`LIGHT_FACE_REGIONS`' points shrunk by 15 % on
    each side (to stay on skin); surround boxes are :data:`LIGHT_SURROUND_BOXES` around the
    mesh's box. Pixels are subsampled so that a face about 40 px wide is read (about 1 ms
    at 640 x 480). Rows are NaN where a box is mostly outside the frame.
    """
    lm = np.asarray(landmarks, dtype=np.float64)
    x, y, bw, bh = face_box(lm)
    step = max(1, int(bw // 40))
    face = np.full((len(LIGHT_FACE_REGIONS), 3), np.nan)
    for k, ids in enumerate(LIGHT_FACE_REGIONS):
        pts = lm[list(ids), :2]
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        mx, my = 0.15 * (x1 - x0), 0.15 * (y1 - y0)
        face[k] = _box_mean(rgb, x0 + mx, y0 + my, x1 - mx, y1 - my, max(1, step // 2))
    surround = np.full((len(LIGHT_SURROUND_BOXES), 3), np.nan)
    for k, (fx0, fx1, fy0, fy1) in enumerate(LIGHT_SURROUND_BOXES):
        surround[k] = _box_mean(rgb, x + fx0 * bw, y + fy0 * bh, x + fx1 * bw, y + fy1 * bh, step)
    return face, surround
