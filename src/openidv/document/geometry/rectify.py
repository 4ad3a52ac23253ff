"""Rectifying a located document to its canonical size (ISO/IEC 7810 formats at a fixed resolution)."""

from __future__ import annotations

import cv2
import numpy as np

from openidv.document.geometry.quad import (
    DEFAULT_DPI,
    FORMAT_ASPECTS,
    FORMATS_MM,
    BadQuadError,
    DocumentQuad,
    UnknownDocumentKindError,
    make_quad,
    polygon_area,
)
from openidv.imaging import as_rgb


def canonical_size(kind: str, dpi: int = DEFAULT_DPI) -> tuple[int, int]:
    """(width, height) in pixels of a format at ``dpi``, landscape: ``id1`` at 300 dpi is (1011, 638)."""
    if kind not in FORMATS_MM:
        raise UnknownDocumentKindError(f"unknown document kind {kind!r}; expected one of {sorted(FORMATS_MM)}")
    w_mm, h_mm = FORMATS_MM[kind]
    return round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi)


def kind_from_aspect(aspect_ratio: float) -> str:
    """``id1`` or ``td3`` from a measured long/short ratio.

    TD2 (1.419) and TD3 (1.420) cannot be told apart by shape; ``td3`` is returned for
    both, and the MRZ line length must decide.
    """
    return "id1" if aspect_ratio >= (FORMAT_ASPECTS["id1"] + FORMAT_ASPECTS["td3"]) / 2.0 else "td3"


def rectify(
    rgb: np.ndarray, quad: DocumentQuad | np.ndarray, kind: str = "auto", *, dpi: int = DEFAULT_DPI
) -> np.ndarray:
    """Perspective-warp the document to its canonical size, landscape (long side horizontal).

    ``quad`` is a :class:`DocumentQuad` or a (4, 2) array of corners (input pixels, any
    order). ``kind`` is ``id1``, ``td2``, ``td3`` or ``auto`` (chosen from the measured
    aspect ratio, see :func:`kind_from_aspect`). The output is ``canonical_size(kind,
    dpi)``, RGB ``uint8``; the quad's outer boundary maps to the output's outer pixel
    boundary. When the document's long sides are vertical in the photo (a portrait-mode
    shot), the result is what rectifying the photo turned 90 degrees clockwise would
    give; it may then be upside down: see :func:`upright`.
    """
    image = as_rgb(rgb)
    if isinstance(quad, DocumentQuad):
        doc = quad
    else:
        arr = np.asarray(quad, dtype=np.float64)
        if arr.shape != (4, 2) or not np.all(np.isfinite(arr)):
            raise BadQuadError(f"expected 4 finite (x, y) corners, got an array of shape {arr.shape}")
        doc = make_quad(arr, 1.0)
    if abs(polygon_area(doc.corners)) < 16.0:
        raise BadQuadError("the quadrilateral is degenerate (area under 16 square pixels)")
    if kind == "auto":
        kind = kind_from_aspect(doc.aspect_ratio)
    out_w, out_h = canonical_size(kind, dpi)
    corners = doc.corners
    if doc.portrait:
        corners = corners[[3, 0, 1, 2]]  # the image's left side becomes the top
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32) - 0.5
    src = corners.astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE)
