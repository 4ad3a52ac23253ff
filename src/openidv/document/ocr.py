"""General text reading (PP-OCR via rapidocr) for the printed zone of documents.

:func:`read_text` returns the text lines found in an RGB image, each with its
quadrilateral in the image's pixel coordinates (origin top-left, x right, y down) and
the recogniser's confidence: the detector runs on a downscaled copy, the recogniser on
strips cut from the full-resolution image.
:func:`group_rows` joins lines that sit on the same row, left to right.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
    def cx(self) -> float:
        return (self.left + self.right) / 2.0

    @property
    def cy(self) -> float:
        return (self.top + self.bottom) / 2.0


#: Longest side, in pixels, of the copy the text detector sees. Detection time grows with the pixel
#: count (one core: 170 ms at 800 px, 90 ms at 640 px for a 1011x638 card). Passport pages (1476 px
#: wide, labels 25-30 px high) keep 800: at 640 px their labels shrink to ~12 px and the bench read
#: 1-2 fewer of 12 printed fields per kind. Retried once the labels were read only when needed: the
#: same fields, x0.90-0.93 the page time, but 3 of 180 genuine passports failed MRZ vs printed
#: instead of 1 (the code "USA" merged into the number's line; a missed surname line).
DET_SIDE = 800
#: The same for a rectified ID-1 card (1011 px wide; printed values 30-45 px high, labels 20-25 px,
#: still 13+ px at 640). Bench (12 licences): every printed field read at 640 as at 800; the small
#: "1" label of the family name is missed more often, the names-by-position fallback reads it.
DET_SIDE_ID1 = 640
#: Height, in pixels, of the line strips given to the recogniser (the PP-OCR recogniser's input height).
REC_HEIGHT = 48
#: Narrowest recogniser input, as width / height: short strips (a single letter) are padded to it.
_MIN_RATIO = 3.0
#: Strips are batched with others at most this much wider than the narrowest of the batch (padding costs time).
_BATCH_SPREAD = 1.3
_BATCH_MAX = 8


def read_text(
    rgb: np.ndarray,
    *,
    max_side: int = DET_SIDE,
    min_score: float = 0.5,
    skip: Sequence[tuple[float, float, float, float]] = (),
    quads: Sequence[np.ndarray] | None = None,
) -> list[OcrLine]:
    """Detect and recognise text lines; coordinates refer to ``rgb``.

    Two stages, so that the expensive one works at full resolution only where there is text:

    1. the PP-OCR detector runs once on a copy whose longer side is at most ``max_side``
       pixels; its line quadrilaterals are mapped back to ``rgb`` pixels;
    2. each line is cut out of ``rgb`` itself, straightened (perspective warp) to a strip
       :data:`REC_HEIGHT` pixels high, and the strips are recognised in batches of similar
       width (the recogniser pads a batch to its widest strip).

    Lines whose centre lies in one of the ``skip`` boxes ``(x, y, width, height)`` (``rgb``
    pixels; e.g. an MRZ band already read) are not recognised. ``quads`` are the detector's
    lines when the caller has them already (:func:`detect_lines` on the same image). Lines
    whose recognition confidence is below ``min_score`` are dropped. The classifier stage is
    not used: the document is upright already.
    """
    image = np.ascontiguousarray(as_rgb(rgb))
    if quads is None:
        quads = detect_lines(image, max_side=max_side)
    kept = [q for q in quads if not any(_inside(q.mean(axis=0), box) for box in skip)]
    lines = []
    for quad, (text, score) in zip(kept, recognise_lines(image, kept), strict=True):
        if score >= min_score and text.strip():
            lines.append(OcrLine(text.strip(), quad, score))
    return lines


def detect_lines(rgb: np.ndarray, *, max_side: int = DET_SIDE) -> list[np.ndarray]:
    """Text-line quadrilaterals ((4, 2) float32, clockwise from top-left, ``rgb`` pixels) from the PP-OCR detector."""
    image = as_rgb(rgb)
    h, w = image.shape[:2]
    scale = min(1.0, max_side / max(h, w))
    small = (
        cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else image
    )
    # Pass every stage flag: rapidocr keeps flags from the previous call (the MRZ reader sets others).
    result = get_model("rapidocr")(np.ascontiguousarray(small[:, :, ::-1]), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(result, "boxes", None)
    if boxes is None:
        return []
    return [np.asarray(b, dtype=np.float32).reshape(4, 2) / scale for b in boxes]


def recogniser(engine: Any) -> tuple[Any, Any, Sequence[str]] | None:
    """RapidOCR's text recogniser (for its input scaling), the session to run and its character
    set: the registry's ``ppocr_rec_latin`` (the same network, output cut to Latin characters)
    for the registry's RapidOCR; None with another rapidocr version, whose own batching is used
    then."""
    loader = getattr(engine, "_load_rec_model", None)
    rec = loader() if callable(loader) else None
    session = getattr(rec, "session", None)
    charset = getattr(getattr(rec, "postprocess_op", None), "character", None)
    if rec is None or session is None or charset is None:
        return None
    if engine is get_model("rapidocr"):
        latin = get_model("ppocr_rec_latin")
        return rec, latin, latin.charset
    return rec, session, charset


def recognise_lines(rgb: np.ndarray, quads: Sequence[np.ndarray]) -> list[tuple[str, float]]:
    """(text, mean character confidence in [0, 1]) of each text-line quadrilateral of ``rgb``, in order."""
    if not quads:
        return []
    strips = [line_strip(rgb, q) for q in quads]
    engine = get_model("rapidocr")
    found = recogniser(engine)
    if found is None:
        out = engine.recognize_txt([np.ascontiguousarray(s[:, :, ::-1]) for s in strips])
        read = [(str(t), float(sc)) for t, sc in zip(out.txts or [], out.scores or [], strict=False)]
        return (read + [("", 0.0)] * len(strips))[: len(strips)]  # one answer per line, always
    rec, session, charset = found
    results: list[tuple[str, float]] = [("", 0.0)] * len(strips)
    order = sorted(range(len(strips)), key=lambda i: strips[i].shape[1])
    start = 0
    while start < len(order):
        first = strips[order[start]].shape[1]
        stop = start + 1
        while stop < len(order) and stop - start < _BATCH_MAX and strips[order[stop]].shape[1] <= _BATCH_SPREAD * first:
            stop += 1
        batch_ids = order[start:stop]
        ratio = max(_MIN_RATIO, max(strips[i].shape[1] / REC_HEIGHT for i in batch_ids))
        batch = np.stack([rec.resize_norm_img(np.ascontiguousarray(strips[i][:, :, ::-1]), ratio) for i in batch_ids])
        preds = np.asarray(session(batch.astype(np.float32)))
        for k, i in enumerate(batch_ids):
            results[i] = _ctc_decode(preds[k], charset)
        start = stop
    return results


def line_strip(rgb: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The text line inside ``quad`` (detector order: clockwise from top-left), upright, :data:`REC_HEIGHT` px high."""
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    length = max(float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[2] - q[3])), 1.0)
    height = max(float(np.linalg.norm(q[3] - q[0])), float(np.linalg.norm(q[2] - q[1])), 1.0)
    out_w = max(8, round(length * REC_HEIGHT / height))
    dst = np.array([[0, 0], [out_w, 0], [out_w, REC_HEIGHT], [0, REC_HEIGHT]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(q, dst)
    source = rgb
    if height > 1.5 * REC_HEIGHT:  # shrinking: warpPerspective has no area filter, blur first
        k = int(height / REC_HEIGHT) | 1
        source = cv2.GaussianBlur(rgb, (k, k), 0)
    return cv2.warpPerspective(source, m, (out_w, REC_HEIGHT), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _ctc_decode(probs: np.ndarray, charset: Sequence[str]) -> tuple[str, float]:
    """Greedy CTC decoding (index 0 is the blank): collapsed repeats, mean probability of the kept characters."""
    idx = probs.argmax(axis=1)
    keep = (idx != 0) & np.concatenate([[True], idx[1:] != idx[:-1]])
    if not keep.any():
        return "", 0.0
    chars = "".join(charset[int(i)] for i in idx[keep])
    return chars, float(probs[np.flatnonzero(keep), idx[keep]].mean())


def _inside(point: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    x, y, w, h = box
    return bool(x <= point[0] <= x + w and y <= point[1] <= y + h)


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
