"""What the document engine found on one photo: :class:`SideAnalysis`, filled step by step.

:mod:`openidv.document.engine` fills it (decode, locate, classify, read),
:mod:`openidv.document.framing` locates, rectifies and turns it upright, the report
(:func:`openidv.document.engine.build_report`) and the integrity checks
(:mod:`openidv.document.integrity_pipeline`) read it. Coordinates: ``rgb`` is the input
image (EXIF-upright, origin top-left, x right, y down); ``rectified`` the document at its
canonical size (:func:`openidv.document.geometry.canonical_size`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openidv.document import geometry
from openidv.document.aamva import AamvaRecord
from openidv.document.barcode import BarcodeReadout
from openidv.document.codes import DocumentFormat, DocumentReason, Side
from openidv.document.mrz_ocr import MrzReadout
from openidv.document.ocr import OcrLine
from openidv.document.types import DocumentType, FieldValue
from openidv.errors import OpenIDVError
from openidv.face.types import DetectedFace

#: ``LocateResult.reason`` of an outline dropped because it framed the portrait only
PORTRAIT_OUTLINE = DocumentReason.PORTRAIT_OUTLINE


@dataclass(eq=False)
class SideAnalysis:
    """Everything found on one image, kept for inspection and for the report."""

    role: Side  #: front or back
    data: bytes | None = None
    rgb: np.ndarray | None = field(default=None, repr=False)
    error: OpenIDVError | None = None
    locate: geometry.LocateResult | None = field(default=None, repr=False)
    format: DocumentFormat = DocumentFormat.UNKNOWN  #: id1 or td3 after rectification, unknown without an outline
    #: canonical size; upright unless ``oriented_by`` is empty (a back whose barcode was read as it lay)
    rectified: np.ndarray | None = field(default=None, repr=False)
    rotation: int = 0  #: clockwise degrees applied after rectification
    #: what turned the rectified side upright: "portrait" (an upright face at 0 or 180 degrees), "text"
    #: (:func:`geometry.upright`'s cues), "" (not turned: the barcode reader needs no orientation)
    oriented_by: str = ""
    homography: np.ndarray | None = field(default=None, repr=False)  #: input px -> rectified (before rotation)
    kind: DocumentType = DocumentType.UNKNOWN
    faces: list[DetectedFace] = field(default_factory=list)
    barcode: BarcodeReadout | None = None
    aamva: AamvaRecord | None = None
    aamva_error: str = ""
    mrz: MrzReadout | None = None
    ocr_lines: list[OcrLine] = field(default_factory=list)
    printed: list[FieldValue] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)  #: wall-clock milliseconds per step
    #: CPU milliseconds per step, of the calling thread (ONNX models with more than one thread are undercounted)
    cpu_ms: dict[str, float] = field(default_factory=dict)

    @property
    def working(self) -> np.ndarray | None:
        return self.rectified if self.rectified is not None else self.rgb
