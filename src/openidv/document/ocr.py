"""General text reading (PP-OCR via rapidocr) for the printed zone of documents.

:func:`read_text` returns the text lines found in an RGB image, each with its
quadrilateral in the image's pixel coordinates and the recogniser's confidence.
:func:`group_rows` joins lines that sit on the same row, left to right.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openidv.imaging import as_rgb
from openidv.models import get_model


@dataclass(frozen=True, eq=False)
class OcrLine:
    text: str
    box: np.ndarray  #: (4, 2) float32, corners in image pixels (clockwise from top-left)
    score: float  #: recogniser confidence in [0, 1]

    @property
    def left(self) -> float:
        return float(self.box[:, 0].min())

    @property
    def right(self) -> float:
        return float(self.box[:, 0].max())

    @property
    def top(self) -> float:
        return float(self.box[:, 1].min())

    @property
    def bottom(self) -> float:
        return float(self.box[:, 1].max())

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2.0


def read_text(rgb: np.ndarray, *, max_side: int = 1280, min_score: float = 0.5) -> list[OcrLine]:
    """Detect and recognise text lines; coordinates refer to ``rgb``.

    The image is downscaled so that its longer side is at most ``max_side`` pixels
    (text on a 300-dpi card stays legible at 1280 px). Lines whose recognition
    confidence is below ``min_score`` are dropped.
    """
    image = as_rgb(rgb)
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = (
        cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    )
    # Pass every stage flag: rapidocr keeps flags from the previous call (the MRZ reader sets others).
    result = get_model("rapidocr")(np.ascontiguousarray(small[:, :, ::-1]), use_det=True, use_cls=False, use_rec=True)
    boxes, texts, scores = (
        getattr(result, "boxes", None),
        getattr(result, "txts", None),
        getattr(result, "scores", None),
    )
    if boxes is None or texts is None or scores is None:
        return []
    lines = []
    for box, text, score in zip(boxes, texts, scores, strict=True):
        if float(score) >= min_score and text.strip():
            lines.append(OcrLine(text.strip(), (np.asarray(box, dtype=np.float32) / scale), float(score)))
    return lines


def group_rows(lines: list[OcrLine]) -> list[list[OcrLine]]:
    """Group lines into rows (vertical centres within half a line height), each sorted left to right."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda x: x.cy):
        for row in rows:
            ref = row[0]
            if abs(line.cy - ref.cy) < 0.5 * max(ref.height, line.height, 1.0):
                row.append(line)
                break
        else:
            rows.append([line])
    return [sorted(r, key=lambda x: x.left) for r in rows]
