"""Live-like camera sequences generated from real still photographs, for tests and evaluation.

There is no real video of a person turning their head, blinking or smiling on request,
so the active-challenge live sequences are synthetic: a real photograph's face is
re-posed in 3-D with its own mediapipe face mesh and re-rendered frame by frame.

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

Timestamps are client-like (seconds, arbitrary origin) at the requested frame rate with
a few per cent jitter. All randomness comes from the ``numpy.random.Generator`` passed in.

Screen light (closed loop). A session with the screen-light step tells the client, with
each :class:`~openidv.liveness.types.Progress`, the colour to show before its next frame,
so a sequence cannot be rendered in advance: :func:`live_scene` returns a
:class:`LitSequence` of clean frames (before the camera) and :meth:`LitSequence.shoot`
makes each camera frame when it is fed, under the colour the screen shows then:

* the light is added in linear light (display gamma 2.2): the face gets
  ``1 + s x shading x colour`` times its radiance, with ``s = E_screen / E_room`` per camera
  channel (see below); ``shading`` is 1 at the face's centre falling to ~0.45 at its outline
  (the cheeks' sides turn away from the screen), with a soft edge of ~8 % of the face width;
* E_screen, the display's illuminance on the face, is ``L x A x f / d^2`` (a small
  Lambertian source seen on axis): L the luminance of the display's white at full drive,
  A its area, f the share of the screen the colour fills (the page keeps the camera
  preview visible: f = 0.7), d the screen-to-face distance. A saturated colour drives one
  or two primaries at full level; after the camera's white balance a primary adds to its
  own channel the same relative amount as full white adds to every channel (display
  primaries roughly match the camera's channels), so per channel ``s = E_screen / E_room``
  with E_screen computed for white. Device (drawn per session): a phone with probability
  0.7 (L uniform 400-800 nits, A = 0.007 m^2, d uniform 0.25-0.35 m: E_screen 16-63 lux),
  else a laptop (L uniform 250-400 nits, A = 0.05 m^2, d uniform 0.4-0.6 m: 24-88 lux);
* E_room, the room light on the face (vertical illuminance at the face): with probability
  0.8 log-uniform 80-500 lux (indoors, evening lamps to a lit office), else log-uniform
  500-1500 lux (a bright room, near a window in daylight); s then spans ~0.01-1.1
  (median ~0.1). Above ~1000 lux s falls to 0.01-0.09: the bright-room tail the
  screen-light check can only call inconclusive, reported apart (room-light bands) by
  :func:`openidv.eval.liveness.evaluate_liveness`;
* everything else in the photo is background at distance d_bg (0.8-3 m, at least 0.4 m
  behind the face; the face at d_face as above) and gets ``s x (d_face / d_bg)^2``;
* the camera adapts its per-channel gains towards the unlit scene's grey-world means
  (auto white balance and exposure) with a time constant of 0.3-1.5 s, partly cancelling
  the colour change of the frame as a whole;
* the camera shows the screen's colour with a lag of 0 or 1 frame (drawn per sequence);
* then noise and JPEG as for every frame (:func:`camera`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
from scipy.spatial import Delaunay

from openidv.errors import OpenIDVError
from openidv.imaging import as_rgb
from openidv.liveness.pad import hex_rgb
from openidv.liveness.types import Challenge

#: Frames the person holds still for the screen-light step in a script: 6 colours x 3 frames,
#: plus margin for a one-frame camera lag and a frame without a face.
LIGHT_HOLD_FRAMES = 22
GAMMA = 2.2

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
        scene, _camera_matrix(subject, pose), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101
    )


def _camera_matrix(subject: Subject, pose: Pose) -> np.ndarray:
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


def _ramp(n_in: int, n_hold: int, n_out: int) -> np.ndarray:
    up = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n_in + 1)[1:])
    down = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, n_out + 1)[1:])
    return np.concatenate([up, np.ones(n_hold), down])


def script(challenges: Sequence[Challenge], rng: np.random.Generator, fps: float = 15.0) -> list[Pose]:
    """The per-frame poses of a person performing ``challenges`` in order, with natural sway.

    Each challenge: a reaction delay (0.3-0.6 s), the action (ramp in, hold, ramp out),
    then a neutral pause; turns reach 32-42 degrees, looking up 18-25 degrees, a
    "move closer" zooms by 1.35-1.5, a blink keeps the eyes closed 2-4 frames.
    """

    def frames(seconds: float) -> int:
        return max(1, round(seconds * fps))

    channels: list[dict[str, float]] = [{} for _ in range(frames(rng.uniform(0.6, 1.0)))]
    for ch in challenges:
        if ch is Challenge.SCREEN_LIGHT:  # hold still while the screen changes colour
            channels += [{} for _ in range(LIGHT_HOLD_FRAMES)]
            continue
        channels += [{} for _ in range(frames(rng.uniform(0.3, 0.6)))]
        if ch is Challenge.BLINK:
            closed = int(rng.integers(2, 5))
            profile = np.concatenate([[0.5], np.ones(closed), [0.5]])
            key, amp = "blink", 1.0
        else:
            n_in, n_hold, n_out = (
                frames(rng.uniform(0.3, 0.5)),
                frames(rng.uniform(0.6, 0.9)),
                frames(rng.uniform(0.3, 0.5)),
            )
            profile = _ramp(n_in, n_hold, n_out)
            key, amp = {
                Challenge.TURN_LEFT: ("yaw", rng.uniform(32, 42)),
                Challenge.TURN_RIGHT: ("yaw", -rng.uniform(32, 42)),
                Challenge.LOOK_UP: ("pitch", rng.uniform(18, 25)),
                Challenge.SMILE: ("smile", rng.uniform(0.85, 1.0)),
                Challenge.MOVE_CLOSER: ("zoom", rng.uniform(0.35, 0.5)),
            }[ch]
        channels += [{key: float(amp * p)} for p in profile]
        channels += [{} for _ in range(frames(rng.uniform(0.3, 0.5)))]
    n = len(channels)

    # natural sway: smoothed random walks
    def walk(scale: float) -> np.ndarray:
        raw = np.cumsum(rng.normal(0, 1, n)).reshape(1, -1).astype(np.float64)
        v = np.asarray(cv2.GaussianBlur(raw, (0, 0), max(fps / 5, 1)), dtype=np.float64).ravel()
        v -= v.mean()
        peak = float(np.abs(v).max()) or 1.0
        return v / peak * scale

    sway_yaw, sway_pitch, sway_roll = walk(2.0), walk(1.5), walk(1.5)
    shake_x, shake_y = walk(3.0), walk(3.0)
    poses = []
    for i, c in enumerate(channels):
        poses.append(
            Pose(
                yaw=c.get("yaw", 0.0) + float(sway_yaw[i]),
                pitch=c.get("pitch", 0.0) + float(sway_pitch[i]),
                blink=c.get("blink", 0.0),
                smile=c.get("smile", 0.0),
                zoom=1.0 + c.get("zoom", 0.0),
                shift=(float(shake_x[i]), float(shake_y[i])),
                roll=float(sway_roll[i]),
            )
        )
    return poses


def timestamps(n: int, rng: np.random.Generator, fps: float = 15.0, *, jitter: float = 0.05) -> np.ndarray:
    """``n`` strictly increasing client timestamps (s) at ``fps`` with relative jitter ``jitter``."""
    start = rng.uniform(1.0, 100.0)
    steps = np.clip(1.0 + rng.normal(0.0, jitter, n), 0.7, 1.3) / fps
    return start + np.concatenate([[0.0], np.cumsum(steps[1:])])


def live_sequence(
    photo: np.ndarray | Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    noise_sigma: float | None = None,
    jpeg_quality: int | None = None,
) -> list[tuple[np.ndarray, float]]:
    """A live-like sequence of ``photo``'s face performing ``challenges`` in order.

    Returns (RGB frame 640 x 480, client timestamp s) pairs. ``photo`` is a real
    photograph (or a :class:`Subject` already prepared from one). Noise sigma defaults to
    a random 1.5-3.5 grey levels, JPEG quality to a random 75-92. The screen shows
    nothing special (:meth:`LitSequence.unlit` of :func:`live_scene`).
    """
    return live_scene(photo, challenges, rng, fps, noise_sigma=noise_sigma, jpeg_quality=jpeg_quality).unlit()


# ----------------------------------------------------------------------------- screen light (closed loop)


def hex_colour(colour: str | None) -> np.ndarray:
    """ "#rrggbb" -> RGB drive in [0, 1] (float64, (3,)); None -> zeros (no extra light)."""
    return hex_rgb(colour) if colour else np.zeros(3)


#: Share of the screen the capture page fills with the colour (the camera preview stays visible).
SCREEN_FILL = 0.7
#: Probability that the capture device is a phone (else a laptop), and the room light's bright-tail share.
PHONE_SHARE = 0.7
BRIGHT_ROOM_SHARE = 0.2


@dataclass(frozen=True)
class LightSetup:
    """How the user's screen lights the scene (drawn by :func:`light_setup`)."""

    strength: float  #: s = E_screen / E_room: relative radiance added on a surface facing the screen
    d_face: float  #: m, screen to face (or to the presented object)
    d_background: float  #: m, screen to the room behind
    lag: int  #: frames by which the camera shows the screen's colour late (0 or 1)
    awb_tau_s: float  #: time constant of the camera's auto white balance / exposure, s
    e_screen_lux: float = float("nan")  #: the display's illuminance on the face (white at full drive), lux
    e_room_lux: float = float("nan")  #: the room light on the face, lux
    device: str = ""  #: "phone" or "laptop"

    @property
    def background_strength(self) -> float:
        """Inverse square: the background gets (d_face / d_bg)^2 of the face's light."""
        return self.strength * (self.d_face / self.d_background) ** 2


def screen_illuminance(luminance_nits: float, area_m2: float, distance_m: float, fill: float = SCREEN_FILL) -> float:
    """E = L x A x fill / d^2 (lux): a small Lambertian source of luminance L (cd/m^2) on axis."""
    return float(luminance_nits * area_m2 * fill / distance_m**2)


def light_setup(rng: np.random.Generator) -> LightSetup:
    """A random, physically plausible screen / room / camera combination (ranges in the module docstring).

    Takes five uniform draws and one integer from ``rng`` (a branch and the value within it
    share one uniform), so the draws that follow in a generator do not depend on the branch.
    """
    u_dev, u_room, u_dist, u_bg = (float(v) for v in rng.uniform(0.0, 1.0, 4))
    if u_dev < PHONE_SHARE:
        device, d_face = "phone", 0.25 + 0.10 * u_dist
        e_screen = screen_illuminance(400.0 + 400.0 * u_dev / PHONE_SHARE, 0.007, d_face)
    else:
        device, d_face = "laptop", 0.4 + 0.2 * u_dist
        e_screen = screen_illuminance(250.0 + 150.0 * (u_dev - PHONE_SHARE) / (1 - PHONE_SHARE), 0.05, d_face)
    if u_room < BRIGHT_ROOM_SHARE:
        lo, hi, frac = 500.0, 1500.0, u_room / BRIGHT_ROOM_SHARE
    else:
        lo, hi, frac = 80.0, 500.0, (u_room - BRIGHT_ROOM_SHARE) / (1 - BRIGHT_ROOM_SHARE)
    e_room = float(np.exp(np.log(lo) + frac * np.log(hi / lo)))
    bg_lo = max(0.8, d_face + 0.4)
    return LightSetup(
        strength=float(e_screen / e_room),
        d_face=d_face,
        d_background=bg_lo + (3.0 - bg_lo) * u_bg,
        lag=int(rng.integers(0, 2)),
        awb_tau_s=float(rng.uniform(0.3, 1.5)),
        e_screen_lux=e_screen,
        e_room_lux=e_room,
        device=device,
    )


@dataclass(frozen=True, eq=False)
class SceneFrame:
    """One frame before the camera, with how it answers the screen's light.

    ``image`` RGB uint8 (H, W, 3), gamma-encoded. ``response`` (H, W) float32: relative
    radiance added per unit of a display primary (multiplies the linear pixel), or None;
    ``reflection`` (H, W) float32: linear light added per unit primary as a fraction of
    white (a reflection on glass), or None. ``final``: the image already went through a
    camera (an injected recording): shown as it is.
    """

    image: np.ndarray = field(repr=False)
    timestamp: float
    response: np.ndarray | None = field(default=None, repr=False)
    reflection: np.ndarray | None = field(default=None, repr=False)
    final: bool = False


class LitSequence:
    """Frames made when fed, under the screen colour of the moment (closed loop; see the module docstring).

    Call :meth:`shoot` once per frame, in order, with the colour the last
    :class:`~openidv.liveness.types.Progress` asked for (None: the page's normal content).
    """

    def __init__(
        self,
        frames: list[SceneFrame],
        rng: np.random.Generator,
        *,
        noise_sigma: float,
        jpeg_quality: int,
        light: LightSetup | None = None,
        info: dict[str, float | str] | None = None,
    ) -> None:
        self.frames = frames
        self.rng = rng
        self.noise_sigma = noise_sigma
        self.jpeg_quality = jpeg_quality
        self.light = light
        self.info = dict(info or {})
        self._requested: list[str | None] = []
        self._gain = np.ones(3)
        self._last_ts: float | None = None

    def __len__(self) -> int:
        return len(self.frames)

    @property
    def timestamps(self) -> list[float]:
        return [f.timestamp for f in self.frames]

    def shoot(self, i: int, requested: str | None = None) -> np.ndarray:
        """Camera frame ``i`` (RGB uint8) while the screen was asked to show ``requested``."""
        self._requested.append(requested)
        sf = self.frames[i]
        if sf.final:
            return sf.image
        lag = self.light.lag if self.light is not None else 0
        shown = self._requested[-1 - lag] if len(self._requested) > lag else None
        drive = hex_colour(shown)
        dt = sf.timestamp - self._last_ts if self._last_ts is not None else 0.0
        self._last_ts = sf.timestamp
        adapting = not np.allclose(self._gain, 1.0, atol=1e-4)
        if not drive.any() and not adapting:
            return camera(sf.image, self.rng, noise_sigma=self.noise_sigma, jpeg_quality=self.jpeg_quality)
        lin = (sf.image.astype(np.float32) / 255.0) ** GAMMA
        ref = lin[::8, ::8].reshape(-1, 3).mean(axis=0).astype(np.float64) + 1e-6
        lit = lin
        if drive.any():
            d = drive.astype(np.float32)
            if sf.response is not None:
                lit = lit * (1.0 + sf.response[..., None] * d)
            if sf.reflection is not None:
                lit = lit + sf.reflection[..., None] * d
        # auto white balance / exposure: gains drift towards the unlit scene's grey-world means
        now = lit[::8, ::8].reshape(-1, 3).mean(axis=0).astype(np.float64) + 1e-6
        tau = self.light.awb_tau_s if self.light is not None else 0.8
        alpha = 1.0 - np.exp(-max(dt, 0.0) / max(tau, 1e-3))
        self._gain = self._gain + alpha * (ref / now - self._gain)
        lit = lit * self._gain.astype(np.float32)
        img = 255.0 * np.clip(lit, 0.0, 1.0) ** (1.0 / GAMMA)
        return camera(img, self.rng, noise_sigma=self.noise_sigma, jpeg_quality=self.jpeg_quality)

    def unlit(self) -> list[tuple[np.ndarray, float]]:
        """Every frame with the screen showing nothing special (open loop), with its timestamp."""
        return [(self.shoot(i, None), f.timestamp) for i, f in enumerate(self.frames)]


def shot_under(seq: LitSequence, colours: Sequence[str], start: int, per_colour: int = 3) -> list[SceneFrame]:
    """``seq`` filmed under another session's colour schedule (``per_colour`` frames each from
    frame ``start``): the recording an attacker could replay; returned as final frames."""
    out = []
    for i, f in enumerate(seq.frames):
        k = (i - start) // per_colour
        colour = colours[k] if i >= start and k < len(colours) else None
        out.append(SceneFrame(seq.shoot(i, colour), f.timestamp, final=True))
    return out


def face_light_map(points: np.ndarray, size: tuple[int, int], strength: float, background: float) -> np.ndarray:
    """(H, W) float32 relative response: ``strength`` x shading on the face, ``background`` elsewhere.

    ``points`` are the frame's (478, 2+) mesh points (px). The face is the polygon of the
    face-oval landmarks with a soft edge (Gaussian, ~8 % of the face width); shading is
    ``1 - 0.55 r^2`` with r the normalised elliptical distance from the oval's centre (the
    face's sides turn away from a screen in front of it).
    """
    w, h = size
    q = 4  # computed at quarter resolution
    small = np.zeros((h // q, w // q), np.float32)
    oval = points[list(FACE_OVAL), :2] / q
    cv2.fillPoly(small, [np.round(oval).astype(np.int32)], 1.0)
    fw = float(np.ptp(oval[:, 0])) or 1.0
    fh = float(np.ptp(oval[:, 1])) or 1.0
    mask = cv2.GaussianBlur(small, (0, 0), max(0.08 * fw, 0.5))
    cx, cy = oval.mean(axis=0)
    yy, xx = np.mgrid[0 : h // q, 0 : w // q].astype(np.float32)
    r2 = ((xx - cx) / (0.5 * fw)) ** 2 + ((yy - cy) / (0.5 * fh)) ** 2
    shading = np.clip(1.0 - 0.55 * r2, 0.3, 1.0)
    resp = strength * mask * shading + background * (1.0 - mask)
    return np.asarray(cv2.resize(resp, (w, h), interpolation=cv2.INTER_LINEAR), dtype=np.float32)


def posed_points(subject: Subject, pose: Pose) -> np.ndarray:
    """Landmarks (478, 3) of ``subject`` in ``pose`` after the camera transform of :func:`render` (px)."""
    pts = pose_points(subject, pose)
    cam = _camera_matrix(subject, pose)
    out = pts.copy()
    out[:, :2] = pts[:, :2] @ cam[:, :2].T + cam[:, 2]
    return out


def live_scene(
    photo: np.ndarray | Subject,
    challenges: Sequence[Challenge],
    rng: np.random.Generator,
    fps: float = 15.0,
    *,
    noise_sigma: float | None = None,
    jpeg_quality: int | None = None,
    light: LightSetup | None = None,
) -> LitSequence:
    """:func:`live_sequence` as a closed-loop :class:`LitSequence`: the face answers the screen's light."""
    subject = photo if isinstance(photo, Subject) else prepare_subject(photo, rng)
    poses = script(challenges, rng, fps)
    ts = timestamps(len(poses), rng, fps)
    sigma = rng.uniform(1.5, 3.5) if noise_sigma is None else noise_sigma
    quality = int(rng.integers(75, 93)) if jpeg_quality is None else jpeg_quality
    setup = light if light is not None else light_setup(rng)
    h, w = subject.base.shape[:2]
    frames = [
        SceneFrame(
            render(subject, p),
            float(t),
            response=face_light_map(posed_points(subject, p), (w, h), setup.strength, setup.background_strength),
        )
        for p, t in zip(poses, ts, strict=True)
    ]
    info: dict[str, float | str] = {
        "strength": setup.strength,
        "lag": setup.lag,
        "e_room_lux": setup.e_room_lux,
        "e_screen_lux": setup.e_screen_lux,
        "device": setup.device,
    }
    return LitSequence(frames, rng, noise_sigma=sigma, jpeg_quality=quality, light=setup, info=info)
