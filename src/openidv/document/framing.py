"""Where the document lies in one photo and which way up: locate, rectify, turn upright.

The first steps of :func:`openidv.document.engine.analyse_side`, each updating a
:class:`~openidv.document.side.SideAnalysis` in place: the outline found by
:mod:`openidv.document.geometry` (or the photo taken as the card itself, or used as it
is), the format it is rectified to (``"id1"`` 1011 x 638 px or ``"td3"``, see
:func:`geometry.canonical_size`), the input -> rectified homography (input pixels to
rectified pixels, before rotation) and the clockwise rotation that turns it upright, by
its portrait or by the text cues.
"""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from openidv.document import geometry
from openidv.document.codes import DocumentFormat, Side
from openidv.document.side import PORTRAIT_OUTLINE, SideAnalysis
from openidv.errors import ImageError
from openidv.face.detection import DetectorConfig, detect
from openidv.face.types import DetectedFace

#: Rectified documents are ~1011-1476 px wide and their portraits 250+ px high, still 100+ px at 512 px
#: (a quarter of the pixels: 16 instead of 52 ms on one core); at that size only confident faces are
#: taken (a real US visa's background gave a 0.72 "face" at 512 px, none at 1024 px). When nothing is
#: found, a pass at 1024 px with the lower threshold (a small or blurred portrait, a card far away in
#: a photo whose outline was not found); no HOG.
_PORTRAIT_DETECTOR = DetectorConfig(score_threshold=0.8, max_side=512, retry_max_side=512, hog_fallback=False)
_PORTRAIT_DETECTOR_FINE = DetectorConfig(score_threshold=0.6, max_side=1024, retry_max_side=1024, hog_fallback=False)
#: Measured long/short ratio from which an outline is taken as ID-1 rather than a passport page.
ID1_MIN_ASPECT = 1.48
#: Smallest measured long/short ratio at which a portrait side without an MRZ band is re-read as ID-1.
ID1_FALLBACK_MIN_ASPECT = 1.30
#: Width / height range of a front photo without a found outline that is taken as the card itself
#: (ID-1 is 1.586): a crop at or just inside the card's edges (real DMV samples: 1.57-1.78, a card
#: whose bottom row is cut off included). Camera frames (4:3, 1.33) and portrait-mode photos are not.
PHOTO_AS_CARD_ASPECT = (1.45, 1.80)
#: The largest share of a located outline's area a face box may cover for the outline to be the
#: document. ICAO 9303 puts the whole portrait at ~14 % of a TD3 page (35x45 mm of 125x88 mm) and
#: ID-1 cards at ~17 % (about 25x32 mm of 85.6x54 mm), the face box at about half of that. Measured:
#: real genuine pages and fronts 0.5-11 %, generated ones 2.5-3.3 %, outlines that were the portrait's
#: own frame 36-39 %.
MAX_FACE_AREA_FRACTION = 0.20


def locate_and_rectify(side: SideAnalysis) -> None:
    """Find the document's outline on ``side.rgb`` and rectify it (not turned upright yet).

    Without an outline, a card-shaped front photo is taken as the card itself; anything else
    keeps no rectified image (the photo is used as it is).
    """
    rgb = side.rgb
    assert rgb is not None
    side.locate = geometry.locate_document(rgb)
    quad = side.locate.quad
    if quad is None:
        if side.role == Side.FRONT and _card_shaped(rgb):
            _photo_as_card(side, rgb)
        return
    # Perspective skews the measured ratio by up to ~5%; ID-1 (1.586) is far more common than TD3 (1.420).
    side.format = DocumentFormat.ID1 if quad.aspect_ratio >= ID1_MIN_ASPECT else DocumentFormat.TD3
    rectified = geometry.rectify(rgb, quad, side.format)
    side.homography = _homography(quad, side.format)
    # not turned upright yet: the portrait or the text cues do that (find_portrait, turn_upright),
    # or nothing when a barcode is read
    side.rectified, side.rotation = rectified, 0


def rerectify(side: SideAnalysis, fmt: DocumentFormat, min_aspect: float = 0.0) -> bool:
    """Rectify a portrait side again as ``fmt`` ("id1" or "td3"); keep it when the portrait is found there.

    Perspective and a hand-held tilt skew the measured aspect ratio by up to ~12 %, so an
    ID-1 card (1.586) can measure like a TD3 page (1.420) and the other way round; the MRZ
    band settles it (a TD3 page always has one, a card front never). Returns whether the
    side changed.
    """
    quad = side.locate.quad if side.locate is not None else None
    if quad is None or side.rgb is None or quad.aspect_ratio < min_aspect:
        return False
    turned = geometry.rotate(geometry.rectify(side.rgb, quad, fmt), side.rotation)
    faces = portrait_faces(turned)
    if not faces:
        return False
    side.format, side.rectified, side.faces = fmt, turned, faces
    side.homography = _homography(quad, fmt)
    return True


def find_portrait(side: SideAnalysis) -> np.ndarray:
    """Detect the portrait; the working image, turned upright.

    A rectified side not turned yet is turned by its portrait when an upright face is
    found at 0 or 180 degrees (a face is the surest orientation cue, and it is needed
    anyway), else by the text cues (:func:`turn_upright`). After the text cues, an
    upright face found at 180 degrees from their choice settles it: the detector finds
    some inverted faces (mouth above the eyes), and the text cues may leave a portrait
    upside down.
    """
    if side.rectified is None:
        assert side.rgb is not None
        side.faces = portrait_faces(side.rgb)
        return side.rgb
    tried: dict[int, list[DetectedFace]] = {}  #: faces found per rotation from the rectified side
    if not side.oriented_by:
        base = side.rectified
        for rotation in (0, 180):
            image = base if rotation == 0 else geometry.rotate(base, 180)
            tried[rotation] = faces = portrait_faces(image)
            if faces and not _upside_down(faces[0]):
                side.rectified, side.rotation, side.faces, side.oriented_by = image, rotation, faces, "portrait"
                return image
        turn_upright(side)
        assert side.rectified is not None
    side.faces = tried[side.rotation] if side.rotation in tried else portrait_faces(side.rectified)
    if not side.faces or _upside_down(side.faces[0]):
        other = (side.rotation + 180) % 360
        turned = geometry.rotate(side.rectified, 180)
        faces = tried[other] if other in tried else portrait_faces(turned)
        if faces and not _upside_down(faces[0]):
            side.rectified, side.rotation, side.faces = turned, other, faces
    return side.rectified


def outline_is_portrait(side: SideAnalysis) -> bool:
    """The located outline is the portrait's own frame, not the document's: its face box covers more
    than :data:`MAX_FACE_AREA_FRACTION` of the rectified side (a printed portrait is a small part
    of a card or page)."""
    if side.rectified is None or not side.faces:
        return False
    height, width = side.rectified.shape[:2]
    largest = max(face.box.area for face in side.faces)
    return bool(largest > MAX_FACE_AREA_FRACTION * width * height)


def turn_upright(side: SideAnalysis) -> None:
    """Turn the rectified side by the text cues (:func:`geometry.upright`; rotations are counted from the
    rectified image as :func:`geometry.rectify` returns it)."""
    if side.rectified is None or side.oriented_by:
        return
    side.rectified, side.rotation = geometry.upright(side.rectified, use_face=False)
    side.oriented_by = "text"


def _upside_down(face: DetectedFace) -> bool:
    """The face's mouth corners lie above its eyes (image y grows downwards)."""
    marks = np.asarray(face.landmarks, dtype=np.float64)
    return bool(marks[3:5, 1].mean() < marks[0:2, 1].mean())


def drop_outline(side: SideAnalysis) -> None:
    """Forget a wrong outline: the photo is used as it is, or as the card itself when card-shaped."""
    assert side.rgb is not None and side.locate is not None
    side.locate = replace(side.locate, quad=None, reason=PORTRAIT_OUTLINE)
    side.rectified, side.homography, side.format, side.rotation, side.oriented_by = (
        None,
        None,
        DocumentFormat.UNKNOWN,
        0,
        "",
    )
    side.faces = []
    if side.role == Side.FRONT and _card_shaped(side.rgb):
        _photo_as_card(side, side.rgb)


def undo_photo_as_card(side: SideAnalysis) -> np.ndarray:
    """Use the photo as it is again (a passport page or TD1 back without a found outline); its faces."""
    assert side.rgb is not None
    side.rectified, side.homography, side.format, side.rotation = None, None, DocumentFormat.UNKNOWN, 0
    side.faces = portrait_faces(side.rgb)
    return side.rgb


def _card_shaped(rgb: np.ndarray) -> bool:
    """A landscape photo whose width / height lies in :data:`PHOTO_AS_CARD_ASPECT`."""
    return bool(PHOTO_AS_CARD_ASPECT[0] <= rgb.shape[1] / rgb.shape[0] <= PHOTO_AS_CARD_ASPECT[1])


def _photo_as_card(side: SideAnalysis, rgb: np.ndarray) -> None:
    """Take a front photo without a found outline as the ID-1 card itself, scaled to its canonical size.

    Scans and sample images cropped to (or just inside) the card's edges show no corners, so
    no outline is found; their own shape is the card's (:data:`PHOTO_AS_CARD_ASPECT`). Scaling
    them to 1011 x 638 px (300 dpi) enlarges low-resolution cards (243-700 px wide) before OCR
    (bicubic), so the printed zone is read at the size the detector and the field rules expect.
    The homography is the scaling (pixel centres kept), so checks still map regions back.
    """
    out_w, out_h = geometry.canonical_size(DocumentFormat.ID1)
    h, w = rgb.shape[:2]
    sx, sy = out_w / w, out_h / h
    interpolation = cv2.INTER_CUBIC if sx > 1 else cv2.INTER_AREA
    side.rectified = cv2.resize(rgb, (out_w, out_h), interpolation=interpolation)
    side.homography = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5], [0, 0, 1]], dtype=np.float64)
    side.format, side.rotation = DocumentFormat.ID1, 0


def _homography(quad: geometry.DocumentQuad, kind: str) -> np.ndarray:
    """The same input -> rectified mapping :func:`geometry.rectify` applies."""
    out_w, out_h = geometry.canonical_size(kind)
    corners = quad.corners[[3, 0, 1, 2]] if quad.portrait else quad.corners
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32) - 0.5
    return cv2.getPerspectiveTransform(corners.astype(np.float32), dst)


def portrait_faces(image: np.ndarray) -> list[DetectedFace]:
    """Faces on a document image (RGB), largest first; confident ones at 512 px, else a finer pass at 1024 px."""
    try:
        return detect(image, _PORTRAIT_DETECTOR) or detect(image, _PORTRAIT_DETECTOR_FINE)
    except ImageError:
        return []
