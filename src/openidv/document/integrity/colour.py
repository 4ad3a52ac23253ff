"""Photocopy: a black-and-white copy photographed in place of the coloured document."""

from __future__ import annotations

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import document_area, inconclusive, valid_rgb
from openidv.document.types import check

#: 90th percentile of chroma deviation (grey levels, YCbCr) below which the document is grey: fail.
PHOTOCOPY_CHROMA_FAIL = 5.0
#: ... and at or above which it is clearly coloured: pass. In between: inconclusive (pale documents).
PHOTOCOPY_CHROMA_PASS = 12.0


def photocopy(rgb: np.ndarray, document: np.ndarray | None = None) -> CheckResult:
    """Is the document a black-and-white copy?

    Physics: toner is grey; a photographed or scanned B/W copy keeps at most a uniform
    colour cast from the light or the scanner, while ID documents print coloured inks
    (portrait, seals, background). Method: Cb/Cr of the document area (rectified
    document if given, else the central 60% of the photo), minus a cast that is linear
    in luma (least squares; a per-channel gain); the 90th percentile of the remaining chroma magnitude. Below
    :data:`PHOTOCOPY_CHROMA_FAIL` fails (``greyscale_document``), at or above
    :data:`PHOTOCOPY_CHROMA_PASS` passes, in between is ``inconclusive`` /
    ``weak_colour``: real passport data pages are pale (measured 4-11 on scanned
    specimens), generated card photos >= 18 (N=15) and generated B/W copies <= 2.6 (N=60).
    Limits: a *colour* photocopy is not detected here (a print-recapture problem); a
    genuine document under strongly coloured light or a greyscale scan looks grey too.
    """
    name = "photocopy"
    arr = valid_rgb(rgb)
    if arr is None:
        return inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    area = document_area(arr, document)
    if min(area.shape[:2]) >= 256:
        area = np.ascontiguousarray(area[::2, ::2])  # chroma is stored at half resolution anyway
    ycc = cv2.cvtColor(area, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    luma = ycc[..., 0]
    usable = (luma > 10) & (luma < 252)
    if usable.mean() < 0.05:
        return inconclusive(name, "exposure", "the document area is too dark or too bright to judge colour")
    chroma = ycc[..., 1:][usable]
    # A cast from the light or scanner is a per-channel gain: chroma then varies linearly with luma.
    design = np.stack([np.ones_like(luma[usable]), luma[usable]], axis=1)
    coef, *_ = np.linalg.lstsq(design[::7], chroma[::7], rcond=None)
    dev = np.hypot(*(chroma - design @ coef).T)
    p90 = float(np.percentile(dev, 90))
    score = float(np.clip(p90 / (2 * PHOTOCOPY_CHROMA_PASS), 0.0, 1.0))
    if p90 < PHOTOCOPY_CHROMA_FAIL:
        return check(name, Status.FAIL, "greyscale_document", min(score, 0.3), f"chroma p90 {p90:.1f}", chroma_p90=p90)
    if p90 < PHOTOCOPY_CHROMA_PASS:
        return inconclusive(name, "weak_colour", f"chroma p90 {p90:.1f}: pale or grey", chroma_p90=p90)
    return check(name, Status.PASS, "colour_document", max(score, 0.5), f"chroma p90 {p90:.1f}", chroma_p90=p90)
