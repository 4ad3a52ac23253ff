"""Document formats, the located-document types (quad, candidate, result, settings) and polygon
helpers. Coordinates and corner order: see :mod:`openidv.document.geometry`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from openidv.errors import OpenIDVError

#: Physical document sizes in millimetres (width, height), landscape.
FORMATS_MM: dict[str, tuple[float, float]] = {
    "id1": (85.60, 53.98),  # ISO/IEC 7810 ID-1: driving licences, ID cards, TD1
    "td2": (105.0, 74.0),  # ISO/IEC 7810 ID-2 / ICAO TD2
    "td3": (125.0, 88.0),  # ICAO TD3 passport data page
}
#: Long side / short side of each format.
FORMAT_ASPECTS: dict[str, float] = {k: w / h for k, (w, h) in FORMATS_MM.items()}
DEFAULT_DPI = 300

ROTATIONS = (0, 90, 180, 270)

Corners = np.ndarray  #: shape (4, 2), float64, (x, y) pixels, order TL, TR, BR, BL


class UnknownDocumentKindError(OpenIDVError):
    """``rectify`` was asked for a format it does not know."""

    code = "unknown_document_kind"


class BadQuadError(OpenIDVError):
    """A quadrilateral that cannot be used (wrong shape, not finite, degenerate)."""

    code = "bad_quad"


@dataclass(frozen=True, eq=False)
class DocumentQuad:
    """A document's outline in the input image.

    ``corners``: (4, 2) float64, input pixels (pixel centres at integers), ordered
    top-left, top-right, bottom-right, bottom-left as seen in the image.
    ``confidence``: in [0, 1], how well the outline is backed by edges and matches a
    document shape. ``aspect_ratio``: long side / short side (>= 1) from the mean
    lengths of opposite sides (perspective makes it approximate, about +-5% at 20
    degrees of skew). ``portrait``: the long sides run vertically in the image.
    """

    corners: Corners
    confidence: float
    aspect_ratio: float
    portrait: bool

    @property
    def area(self) -> float:
        """Area in square input pixels."""
        return float(abs(polygon_area(self.corners)))

    def to_dict(self) -> dict[str, Any]:
        return {
            "corners": [[round(float(x), 1), round(float(y), 1)] for x, y in self.corners],
            "confidence": round(self.confidence, 3),
            "aspect_ratio": round(self.aspect_ratio, 3),
            "portrait": self.portrait,
        }


@dataclass(frozen=True, eq=False)
class Candidate:
    """One candidate outline considered by :func:`locate_document`, for inspection.

    ``corners`` are in input pixels (TL, TR, BR, BL as seen). ``source`` names the
    generator (``edges:<smoothing>:<threshold>`` or ``kmeans<k>``). ``parts`` holds the
    score terms: ``edge`` (fraction of the perimeter on an edge), ``edge_min`` (the
    weakest side), ``aspect``, ``angles``, ``area_fraction``, ``contrast`` (mean Lab
    difference across the outline, Lab units of OpenCV's 8-bit scale).
    """

    corners: Corners
    source: str
    score: float
    parts: dict[str, float]
    touches_border: bool


@dataclass(frozen=True, eq=False)
class LocateResult:
    """What :func:`locate_document` found, with its intermediate steps.

    ``quad`` is set only when ``reason == "ok"``. ``best`` is the best candidate even
    when it was rejected (cropped, too small), refined when it was usable.
    ``edges`` is the work-image edge map (uint8, 255 on edges) and ``work_scale`` the
    factor from input pixels to work pixels. ``candidates`` are sorted best first.
    """

    quad: DocumentQuad | None
    reason: str
    best: DocumentQuad | None
    candidates: list[Candidate] = field(default_factory=list)
    edges: np.ndarray | None = field(default=None, repr=False)
    work_scale: float = 1.0
    elapsed_ms: float = 0.0

    @property
    def found(self) -> bool:
        return self.quad is not None


@dataclass(frozen=True)
class LocatorConfig:
    work_side: int = 640  #: longer side of the work image, pixels
    min_image_side: int = 48  #: shorter input side below which nothing is attempted
    min_candidate_fraction: float = 0.01  #: smallest candidate area / image area considered
    min_area_fraction: float = 0.04  #: document area / image area below which: document_too_small
    min_long_side_px: float = 200.0  #: document long side (input px) below which: document_too_small
    accept_score: float = 0.55  #: candidate score needed to call it a document
    border_margin: float = 0.3  #: a corner within this many work pixels of the frame edge touches it
    flat_gradient: float = 4.0  #: 99.5th percentile of the gradient below which the image is flat
    refine: bool = True  #: refine the corners on the full-resolution image
    #: colour-region candidates are searched only when no edge candidate scores this much
    regions_below: float = 0.85


DEFAULT_LOCATOR = LocatorConfig()


def polygon_area(pts: np.ndarray) -> float:
    x, y = pts[:, 0], pts[:, 1]
    return float(0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def side_lengths(corners: np.ndarray) -> list[float]:
    return [float(np.hypot(*(corners[(i + 1) % 4] - corners[i]))) for i in range(4)]


def corner_angles(quad: np.ndarray) -> list[float]:
    out = []
    for i in range(4):
        a = quad[(i - 1) % 4] - quad[i]
        b = quad[(i + 1) % 4] - quad[i]
        cos = float(np.dot(a, b) / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-9))
        out.append(math.degrees(math.acos(max(-1.0, min(1.0, cos)))))
    return out


def order_corners(pts: np.ndarray) -> np.ndarray:
    """Order 4 points clockwise on screen starting at the top-left as seen (see :mod:`openidv.document.geometry`)."""
    pts = np.asarray(pts, dtype=np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # y down: increasing angle is clockwise on screen
    best, best_i = -2.0, 0
    for i in range(4):
        v = pts[(i + 1) % 4] - pts[i]
        c = float(v[0] / max(np.hypot(*v), 1e-9))
        if c > best:
            best, best_i = c, i
    return np.roll(pts, -best_i, axis=0)


def make_quad(corners: np.ndarray, confidence: float) -> DocumentQuad:
    corners = order_corners(corners)
    sides = side_lengths(corners)
    horizontal = (sides[0] + sides[2]) / 2.0
    vertical = (sides[1] + sides[3]) / 2.0
    aspect = max(horizontal, vertical) / max(1e-6, min(horizontal, vertical))
    return DocumentQuad(corners, float(np.clip(confidence, 0.0, 1.0)), float(aspect), vertical > horizontal)
