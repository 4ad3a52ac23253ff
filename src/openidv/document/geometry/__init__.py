"""Finding a document in a camera photo, rectifying it, and turning it upright.

Conventions
-----------
* Images are RGB ``uint8`` ``(H, W, 3)`` (anything :func:`openidv.imaging.as_rgb`
  accepts is taken), origin top-left, x to the right, y down, units pixels.
* Corner coordinates are continuous pixel coordinates in the *input* image with the
  OpenCV convention: the centre of the top-left pixel is ``(0, 0)``. A document's
  corners are the corners of its outer boundary, ordered top-left, top-right,
  bottom-right, bottom-left *as seen in the image* (the "top" side is the side whose
  direction is closest to the image's x axis; the order runs clockwise on screen).
* Rotations are clockwise, in degrees, one of 0 / 90 / 180 / 270: "rotate the
  rectified image by ``r`` degrees clockwise to make it upright".

Method (:func:`locate_document`)
--------------------------------
1. The image is reduced to about 640 px on its longer side (the *work* image).
2. Candidate quadrilaterals come from two independent sources:

   * edges: a colour gradient (Scharr on the three Lab channels, the strongest channel
     per pixel) fed to Canny at three thresholds and two smoothing levels; every closed
     contour's convex hull is reduced to four vertices (the hull absorbs fingers and
     rounded corners);
   * regions: k-means (k = 2 and 3) in Lab; every large connected region of a cluster
     gives a hull and a quadrilateral (this finds pale cards on pale tables, where
     edges are weak or broken).

3. Each candidate is scored in [0, 1] from the fraction of its perimeter backed by an
   image edge parallel to the side (the main term; the weakest side counts too), its
   aspect ratio against the known formats (ID-1 1.586, TD2/TD3 1.42), its corner
   angles, and a weak preference for larger areas.
4. The best candidate's four sides are refined on the full-resolution image: the
   colour gradient is sampled along normals to each side, the strongest edge on each
   normal is located to a sub-pixel, a line is fitted robustly (Tukey-weighted total
   least squares, so fingers, glare and rounded corners are outliers) and adjacent
   lines are intersected.

Reason codes of :class:`LocateResult`: ``ok``, ``no_document`` (no card-like
quadrilateral), ``document_cropped`` (the best card-like shape touches or leaves the
frame), ``document_too_small`` (found, but too small to read), ``low_contrast`` (the
image is almost flat: blank, or far too dark / washed out), ``image_too_small``
(shorter side under ``LocatorConfig.min_image_side`` pixels).

Modules: :mod:`~.quad` (formats, types, polygon helpers), :mod:`~.locate`
(:func:`locate_document`), :mod:`~.candidates` (edge and region candidates), :mod:`~.score`
(edge support and shape scores), :mod:`~.refine` (sides fitted at full resolution),
:mod:`~.rectify` (:func:`rectify`), :mod:`~.orient` (:func:`upright`).
"""

from openidv.document.geometry.locate import find_document, locate_document
from openidv.document.geometry.orient import OrientationCues, orientation_candidates, orientation_cues, rotate, upright
from openidv.document.geometry.quad import (
    DEFAULT_DPI,
    DEFAULT_LOCATOR,
    FORMAT_ASPECTS,
    FORMATS_MM,
    ROTATIONS,
    BadQuadError,
    Candidate,
    Corners,
    DocumentQuad,
    LocateResult,
    LocatorConfig,
    UnknownDocumentKindError,
)
from openidv.document.geometry.rectify import canonical_size, kind_from_aspect, rectify

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_LOCATOR",
    "FORMATS_MM",
    "FORMAT_ASPECTS",
    "ROTATIONS",
    "BadQuadError",
    "Candidate",
    "Corners",
    "DocumentQuad",
    "LocateResult",
    "LocatorConfig",
    "OrientationCues",
    "UnknownDocumentKindError",
    "canonical_size",
    "find_document",
    "kind_from_aspect",
    "locate_document",
    "orientation_candidates",
    "orientation_cues",
    "rectify",
    "rotate",
    "upright",
]
