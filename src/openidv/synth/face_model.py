"""The face model behind the generated live sequences: a real photo's face re-posed in 3-D.

How a frame is made:

* the photo is placed in a 640 x 480 frame (similarity transform: the face ends up 30-40 %
  of the frame wide, near the centre);
* the 478 mesh landmarks (x, y in pixels, z relative depth in pixels, larger z = farther
  from the camera) are moved: rotated about a vertical axis through the head centre
  (head turn, ``yaw``), about a horizontal axis (look up, ``pitch``), upper eyelids
  moved onto the lower ones (blink), mouth corners moved out and up with a smooth
  fall-off (smile), then orthographically projected;
* the image is warped piecewise-affinely over the Delaunay triangles of the landmarks,
  a ring of anchor points around the face and the frame border (the background stays
  put); triangles are painted far-to-near so the near side of the face hides the far
  side;
* the whole frame then gets a camera transform (hand shake: small translation and roll;
  "move closer": zoom about the face centre), sensor noise and JPEG compression.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.spatial import Delaunay

from openidv.errors import OpenIDVError
from openidv.imaging import as_rgb

FRAME_SIZE = (640, 480)  #: width, height of generated frames

#: mediapipe face-oval landmark indices, clockwise from the forehead top.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
#: (upper-lid, lower-lid) landmark pairs, image-left eye then image-right eye.
EYELID_PAIRS = (
    (246, 7), (161, 163), (160, 144), (159, 145), (158, 153), (157, 154), (173, 155),
    (466, 249), (388, 390), (387, 373), (386, 374), (385, 380), (384, 381), (398, 382),
)  # fmt: skip
#: second ring above each upper lid (eyelid skin), moved part-way during a blink.
UPPER_LID_SKIN = (
    (247, 7), (30, 163), (29, 144), (27, 145), (28, 153), (56, 154), (190, 155),
    (467, 249), (260, 390), (259, 373), (257, 374), (258, 380), (286, 381), (414, 382),
)  # fmt: skip
IRIS_LEFT = tuple(range(468, 473))  #: image-left iris (subject's right eye)
IRIS_RIGHT = tuple(range(473, 478))
MOUTH_LEFT, MOUTH_RIGHT = 61, 291  #: mouth corners, image left / right
EYE_OUTER_LEFT, EYE_OUTER_RIGHT = 33, 263


class NoFaceInPhotoError(OpenIDVError):
    """The photo given to the sequence generator has no face the mesh can find."""

    code = "no_face_in_photo"


@dataclass(frozen=True, eq=False)
class Subject:
    """A photo placed in a frame with its face mesh, ready to be re-posed.

    ``base`` is the RGB frame (H, W, 3); ``mesh`` the (478, 3) landmarks in its pixels
    (z relative depth, pixels, larger = farther); ``pivot`` the head-rotation centre
    (x, y, z) px; ``face_width`` the face-oval width px.
    """

    base: np.ndarray = field(repr=False)
    mesh: np.ndarray = field(repr=False)
    pivot: np.ndarray = field(repr=False)
    face_width: float
    anchors: np.ndarray = field(repr=False)  #: (K, 2) fixed points: ring around the face and frame border
    triangles: np.ndarray = field(repr=False)  #: (T, 3) indices into mesh + anchors


@dataclass(frozen=True)
class Pose:
    """What the face does in one frame. Angles in degrees, ``zoom`` a scale factor."""

    yaw: float = 0.0
    pitch: float = 0.0
    blink: float = 0.0  #: 0 open, 1 closed
    smile: float = 0.0  #: 0 neutral, 1 full smile
    zoom: float = 1.0
    shift: tuple[float, float] = (0.0, 0.0)  #: camera shake, px
    roll: float = 0.0


_MESH_CACHE: dict[str, np.ndarray | None] = {}


def photo_mesh(photo: np.ndarray) -> np.ndarray | None:
    """Face-mesh landmarks (478, 3) of the largest face of a still photo, pixels (z px), or None."""
    rgb = as_rgb(photo)
    key = hashlib.sha1(rgb.tobytes()).hexdigest() + str(rgb.shape)
    if key in _MESH_CACHE:
        cached = _MESH_CACHE[key]
        return None if cached is None else cached.copy()
    from openidv.models import get_model

    tracker = get_model("face_mesh")(static=True, max_faces=1)
    try:
        result = tracker.process(np.ascontiguousarray(rgb))
    finally:
        tracker.close()
    mesh: np.ndarray | None = None
    if result.multi_face_landmarks:
        h, w = rgb.shape[:2]
        pts = np.array([[p.x, p.y, p.z] for p in result.multi_face_landmarks[0].landmark], dtype=np.float64)
        mesh = pts * np.array([w, h, w], dtype=np.float64)
    _MESH_CACHE[key] = mesh
    return None if mesh is None else mesh.copy()


def prepare_subject(
    photo: np.ndarray,
    rng: np.random.Generator,
    *,
    frame_size: tuple[int, int] = FRAME_SIZE,
    face_frac: tuple[float, float] = (0.30, 0.40),
) -> Subject:
    """Place ``photo`` in a frame (face ``face_frac`` of the frame width) and mesh it.

    Raises :class:`NoFaceInPhotoError` when the mesh finds no face.
    """
    rgb = as_rgb(photo)
    mesh = photo_mesh(rgb)
    if mesh is None:
        raise NoFaceInPhotoError("no face found in the photo")
    oval = mesh[list(FACE_OVAL)]
    face_w = float(oval[:, 0].max() - oval[:, 0].min())
    centre = oval[:, :2].mean(axis=0)
    fw, fh = frame_size
    scale = rng.uniform(*face_frac) * fw / max(face_w, 1.0)
    target = np.array([fw / 2 + rng.uniform(-0.05, 0.05) * fw, fh * 0.47 + rng.uniform(-0.04, 0.04) * fh])
    matrix = np.array([[scale, 0, target[0] - scale * centre[0]], [0, scale, target[1] - scale * centre[1]]])
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    base = cv2.warpAffine(rgb, matrix, (fw, fh), flags=interp, borderMode=cv2.BORDER_REFLECT101)
    placed = mesh.copy()
    placed[:, :2] = mesh[:, :2] * scale + matrix[:, 2]
    placed[:, 2] = mesh[:, 2] * scale
    oval = placed[list(FACE_OVAL)]
    face_w = float(oval[:, 0].max() - oval[:, 0].min())
    ear_z = float(placed[[234, 454], 2].mean())
    pivot = np.array([oval[:, 0].mean(), oval[:, 1].mean(), ear_z + 0.15 * face_w])
    ring_c = oval[:, :2].mean(axis=0)
    ring = ring_c + 1.55 * (oval[:, :2] - ring_c)
    border = [(x, y) for x in np.linspace(0, fw - 1, 5) for y in (0, fh - 1)]
    border += [(x, y) for x in (0, fw - 1) for y in np.linspace(0, fh - 1, 5)[1:-1]]
    anchors = np.vstack([ring, np.array(border, dtype=np.float64)])
    pts = np.vstack([placed[:, :2], anchors])
    triangles = Delaunay(pts).simplices.astype(np.int32)
    return Subject(base, placed, pivot, face_w, anchors, triangles)


def pose_points(subject: Subject, pose: Pose) -> np.ndarray:
    """Landmarks (478, 3) of ``subject`` in ``pose`` before the camera transform (px, z px)."""
    pts = subject.mesh.copy()
    if pose.blink > 0:
        b = float(np.clip(pose.blink, 0, 1))
        for up, low in EYELID_PAIRS:
            pts[up, :2] += b * (pts[low, :2] - pts[up, :2])
        for up, low in UPPER_LID_SKIN:
            pts[up, :2] += 0.45 * b * (pts[low, :2] - pts[up, :2])
        for iris, lows in ((IRIS_LEFT, (145, 144, 153)), (IRIS_RIGHT, (374, 373, 380))):
            lid = pts[list(lows), :2].mean(axis=0)
            pts[list(iris), :2] += b * (lid - pts[list(iris), :2])
    if pose.smile > 0:
        s = float(np.clip(pose.smile, 0, 1))
        left, right = pts[MOUTH_LEFT, :2].copy(), pts[MOUTH_RIGHT, :2].copy()
        width = float(np.linalg.norm(right - left))
        direction = (right - left) / max(width, 1e-6)
        upward = np.array([direction[1], -direction[0]])  # perpendicular pointing up the image
        sigma = 0.35 * width
        for corner, sign in ((left, -1.0), (right, 1.0)):
            disp = s * (sign * 0.16 * width * direction + 0.07 * width * upward)
            weight = np.exp(-np.sum((pts[:, :2] - corner) ** 2, axis=1) / (2 * sigma**2))
            pts[:, :2] += weight[:, None] * disp
        # lips part a little: the lower lip drops
        for idx in (14, 87, 178, 88, 95, 317, 402, 318, 324, 17, 84, 181, 91, 146, 314, 405, 321, 375):
            pts[idx, 1] += s * 0.05 * width
    cx, cy, cz = subject.pivot
    if pose.yaw:
        t = np.deg2rad(pose.yaw)
        x, z = pts[:, 0] - cx, pts[:, 2] - cz
        pts[:, 0] = cx + x * np.cos(t) - z * np.sin(t)
        pts[:, 2] = cz + x * np.sin(t) + z * np.cos(t)
    if pose.pitch:
        t = np.deg2rad(pose.pitch)
        y, z = pts[:, 1] - cy, pts[:, 2] - cz
        pts[:, 1] = cy + y * np.cos(t) + z * np.sin(t)
        pts[:, 2] = cz - y * np.sin(t) + z * np.cos(t)
    return pts


def render(subject: Subject, pose: Pose) -> np.ndarray:
    """The clean (noise-free) RGB frame of ``subject`` in ``pose``."""
    moved = pose_points(subject, pose)
    src = np.vstack([subject.mesh[:, :2], subject.anchors])
    dst = np.vstack([moved[:, :2], subject.anchors])
    depth = np.concatenate([moved[:, 2], np.full(len(subject.anchors), 1e6)])
    scene = _warp_triangles(subject.base, src, dst, subject.triangles, depth)
    if pose.blink > 0:
        scene = _paint_eyelids(scene, subject, moved, float(np.clip(pose.blink, 0, 1)))
    h, w = scene.shape[:2]
    if pose.zoom == 1.0 and pose.roll == 0.0 and pose.shift == (0.0, 0.0):
        return scene
    return cv2.warpAffine(
        scene, camera_matrix(subject, pose), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def camera_matrix(subject: Subject, pose: Pose) -> np.ndarray:
    """The (2, 3) affine camera move of ``pose``: roll and zoom about the face's centre, then the shift (px)."""
    centre = subject.mesh[list(FACE_OVAL), :2].mean(axis=0)
    cam = cv2.getRotationMatrix2D((float(centre[0]), float(centre[1])), pose.roll, pose.zoom)
    cam[:, 2] += np.asarray(pose.shift, dtype=np.float64)
    return cam


#: (outer corner, inner corner) of each eye, image-left eye first, in the order of EYELID_PAIRS.
EYE_CORNER_PAIRS = ((33, 133), (263, 362))


def _paint_eyelids(scene: np.ndarray, subject: Subject, moved: np.ndarray, blink: float) -> np.ndarray:
    """Cover the closing eye with eyelid skin and put the lash line on the lid margin.

    The piecewise warp alone moves the upper lid margin onto the lower lid by stretching the
    band between the lid crease and the lashes, so a closed eye shows vertical streaks of
    lashes and make-up over a thin dark slit, which the face mesh reads as a half-open eye.
    A real lid closes by unfolding the skin that lies hidden under the crease: the closed
    eye is smooth skin (slightly shaded) ending in the dark lash line. Here the region
    between the moved crease ring and the moved lid margin is filled with the subject's own
    under-eye skin colour (sampled in the photo below each eye), shaded 7-17 % darker (the lid
    is turned away from the light, darkest towards the crease), with a dark lash line of ~3 %
    of the inter-ocular distance on the margin; opacity grows with ``blink`` (0 below 0.2,
    full at 0.8). Coordinates: scene pixels.
    """
    alpha_amount = float(np.clip((blink - 0.2) / 0.6, 0.0, 1.0))
    if alpha_amount <= 0:
        return scene
    h, w = scene.shape[:2]
    base = subject.base
    iod = float(np.linalg.norm(moved[33, :2] - moved[263, :2]))
    if iod < 8:
        return scene
    out = scene.astype(np.float32)
    half = len(EYELID_PAIRS) // 2
    for e, (outer, inner) in enumerate(EYE_CORNER_PAIRS):
        lids = EYELID_PAIRS[e * half : (e + 1) * half]
        skins = UPPER_LID_SKIN[e * half : (e + 1) * half]
        margin = moved[[up for up, _ in lids], :2]
        # the ring above the lid margin sits on the lashes and liner: cover up to a little above it
        crease = moved[[up for up, _ in skins], :2] - np.array([0.0, 0.05 * iod])
        poly = np.vstack([moved[outer, :2], crease, moved[inner, :2], margin[::-1]])
        # skin colour: a patch below the eye in the photo (under-eye skin, same lighting)
        lower = subject.mesh[[low for _, low in lids], :2]
        centre = lower.mean(axis=0) + np.array([0.0, 0.18 * iod])
        r = max(2, int(0.06 * iod))
        cx, cy = round(float(centre[0])), round(float(centre[1]))
        patch = base[max(cy - r, 0) : cy + r + 1, max(cx - r, 0) : cx + r + 1].reshape(-1, 3)
        if len(patch) == 0:
            continue
        skin = np.median(patch.astype(np.float32), axis=0)
        mask = np.zeros((h, w), np.float32)
        cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 1.0, lineType=cv2.LINE_AA, shift=4)
        # shading: darker towards the crease (distance from the margin line, normalised)
        x0, y0 = np.floor(poly.min(axis=0)).astype(int) - 3
        x1, y1 = np.ceil(poly.max(axis=0)).astype(int) + 4
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        yy = np.arange(y0, y1, dtype=np.float32)[:, None]
        top, bottom = float(crease[:, 1].min()), float(margin[:, 1].max())
        t = np.clip((bottom - yy) / max(bottom - top, 1.0), 0.0, 1.0)
        lid = skin[None, None, :] * (0.93 - 0.10 * t)[..., None]
        sigma = max(0.6, 0.012 * iod)
        m = cv2.GaussianBlur(mask[y0:y1, x0:x1], (0, 0), sigma) * alpha_amount
        region = out[y0:y1, x0:x1]
        region[:] = region * (1.0 - m[..., None]) + lid * m[..., None]
        # lash line on the lid margin, corner to corner
        lash = np.zeros((y1 - y0, x1 - x0), np.float32)
        line = np.vstack([moved[outer, :2], margin, moved[inner, :2]]) - (x0, y0)
        thick = max(1, round(0.03 * iod))
        cv2.polylines(lash, [np.round(line * 16).astype(np.int32)], False, 1.0, thick, cv2.LINE_AA, shift=4)
        lash = cv2.GaussianBlur(lash, (0, 0), sigma) * alpha_amount
        region[:] = region * (1.0 - 0.65 * lash[..., None])
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def _warp_triangles(
    image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray, depth: np.ndarray
) -> np.ndarray:
    """Piecewise-affine warp: each triangle of ``src`` goes to the same triangle of ``dst``.

    Triangles are painted far-to-near (largest mean depth first) into an index map, then
    every pixel is pulled from its source position with one ``cv2.remap``.
    """
    h, w = image.shape[:2]
    moving = np.any(np.abs(src - dst) > 0.05, axis=1)
    tri_moving = moving[triangles].any(axis=1)
    tris = triangles[tri_moving]
    if len(tris) == 0:
        return image.copy()
    order = np.argsort(-depth[tris].mean(axis=1), kind="stable")
    tris = tris[order]
    d = dst[tris]  # (T, 3, 2)
    s = src[tris]
    ones = np.ones((len(tris), 3, 1))
    dh = np.concatenate([d, ones], axis=2)  # (T, 3, 3)
    det = np.linalg.det(dh)
    ok = np.abs(det) > 1e-3
    inv = np.zeros_like(dh)
    inv[ok] = np.linalg.inv(dh[ok])
    # affine A (T, 2, 3) with A @ [x, y, 1] (in dst) = source point: s^T = A dh^T  ->  A = s^T inv(dh)^T
    affine = np.einsum("tki,tkj->tij", s, np.transpose(inv, (0, 2, 1)))
    x0, y0 = np.floor(d.reshape(-1, 2).min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(d.reshape(-1, 2).max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    index = np.full((y1 - y0, x1 - x0), -1, dtype=np.int32)
    for i in np.flatnonzero(ok):
        poly = np.round((d[i] - (x0, y0)) * 16).astype(np.int32)
        cv2.fillConvexPoly(index, poly, int(i), lineType=cv2.LINE_8, shift=4)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    map_x, map_y = xx.copy(), yy.copy()
    sel = index >= 0
    a = affine[index[sel]]
    px, py = xx[sel], yy[sel]
    map_x[sel] = a[:, 0, 0] * px + a[:, 0, 1] * py + a[:, 0, 2]
    map_y[sel] = a[:, 1, 0] * px + a[:, 1, 1] * py + a[:, 1, 2]
    out = image.copy()
    out[y0:y1, x0:x1] = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    return out


def camera(
    frame: np.ndarray, rng: np.random.Generator, *, noise_sigma: float = 2.5, jpeg_quality: int = 85
) -> np.ndarray:
    """Sensor noise (Gaussian, grey levels), a slight blur and a JPEG round trip."""
    out = frame.astype(np.float32)
    if noise_sigma > 0:
        out += rng.normal(0.0, noise_sigma, out.shape).astype(np.float32)
    clipped = np.clip(out, 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", clipped[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return np.ascontiguousarray(decoded[:, :, ::-1])
