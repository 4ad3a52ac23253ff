"""Find and read the MRZ of a document image.

Pipeline (each step's output is kept on the :class:`MrzReadout` for inspection):

1. **Detect text lines** with the PP-OCR detector on a copy downscaled to at most
   ``det_side`` pixels (longest side); quadrilaterals are mapped back to input pixels.
2. **Group** long lines (length >= 8 x height) into MRZ candidates: 2 or 3 parallel
   lines (any direction, so 0/90/180/270 degree rotations and a photographed tilt are
   covered) of similar length and height, one line pitch apart, aligned at the start.
3. **Orientation**: each line is cut out along its own direction (perspective warp to a
   48 px high strip, from the full-resolution input); the PP-OCR 0/180 classifier says
   whether the strips are upside down.
4. **Recognise** only those strips (PP-OCR recogniser), keep the MRZ-like texts, then
   :func:`openidv.document.mrz.read_mrz_text` corrects and parses them.
5. If the text is not MRZ-like, the other 180-degree orientation is tried; if it still does
   not parse (e.g. the detector missed a line), the band around the candidate is cut out
   upright at a higher scale (line height 40 px, room for a line on each side) and the
   detector runs again on that crop only.

Coordinates: input pixels, origin top-left, x right, y down. ``rotation`` is the
clockwise angle (0, 90, 180, 270) by which the document's text runs in the image,
``tilt_deg`` the remaining angle in degrees.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from openidv.document.mrz import CHARSET, MrzError, MrzResult, read_mrz_text
from openidv.document.ocr import recogniser
from openidv.errors import UnsupportedImageError
from openidv.models import get_model

DET_SIDE = 512  #: longest side of the image the detector sees, pixels
LINE_HEIGHT = 48  #: height of a line strip given to the recogniser, pixels
_MIN_ASPECT = 8.0


@dataclass(frozen=True)
class TextLine:
    """A detected text line: quadrilateral in input pixels and its geometry."""

    quad: np.ndarray  #: (4, 2) float32, corners in input pixels (det order)
    center: tuple[float, float]
    direction: tuple[float, float]  #: unit vector along the line (x >= 0 by convention)
    length: float  #: pixels
    height: float  #: pixels

    @property
    def angle_deg(self) -> float:
        return math.degrees(math.atan2(self.direction[1], self.direction[0]))


@dataclass
class MrzReadout:
    """What :func:`read_mrz` found.

    ``found`` is true when text read in the image parses as an MRZ (check digits may still
    fail: see ``result.checks``); otherwise ``reason`` says why not.
    """

    found: bool
    reason: str  #: ``ok``, ``no_text_lines``, ``no_mrz_lines``, ``no_mrz_text``
    raw_lines: list[str] = field(default_factory=list)  #: OCR text, as recognised
    lines: list[str] = field(default_factory=list)  #: after correction
    result: MrzResult | None = None
    box: tuple[int, int, int, int] | None = None  #: (x, y, width, height) of the band, input pixels
    quad: np.ndarray | None = None  #: (4, 2) corners of the band, input pixels, in reading order
    rotation: int = 0  #: 0, 90, 180 or 270 (clockwise)
    tilt_deg: float = 0.0
    scores: list[float] = field(default_factory=list)  #: recogniser confidence per line
    timings_ms: dict[str, float] = field(default_factory=dict)
    steps: dict[str, Any] = field(default_factory=dict, repr=False)  #: intermediate images and data
    notes: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float | None:
        return float(min(self.scores)) if self.scores else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "reason": self.reason,
            "raw_lines": self.raw_lines,
            "lines": self.lines,
            "result": self.result.to_dict() if self.result else None,
            "box": list(self.box) if self.box else None,
            "rotation": self.rotation,
            "tilt_deg": round(self.tilt_deg, 2),
            "scores": [round(s, 4) for s in self.scores],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "notes": self.notes,
        }


# --------------------------------------------------------------------------- geometry


def _line_from_quad(quad: np.ndarray) -> TextLine:
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    e01 = ((q[1] - q[0]) + (q[2] - q[3])) / 2
    e12 = ((q[2] - q[1]) + (q[3] - q[0])) / 2
    along, across = (e01, e12) if np.linalg.norm(e01) >= np.linalg.norm(e12) else (e12, e01)
    length, height = float(np.linalg.norm(along)), float(np.linalg.norm(across))
    d = along / max(length, 1e-6)
    if d[0] < -1e-3 or (abs(d[0]) <= 1e-3 and d[1] < 0):
        d = -d
    c = q.mean(axis=0)
    return TextLine(q, (float(c[0]), float(c[1])), (float(d[0]), float(d[1])), length, max(height, 1.0))


def _compatible(a: TextLine, b: TextLine) -> bool:
    da, db = np.array(a.direction), np.array(b.direction)
    if abs(float(da @ db)) < math.cos(math.radians(5)):
        return False
    if not 0.75 <= a.length / b.length <= 1.33 or not 0.6 <= a.height / b.height <= 1.67:
        return False
    h = (a.height + b.height) / 2
    delta = np.array(b.center) - np.array(a.center)
    normal = np.array([-da[1], da[0]])
    across, along = abs(float(delta @ normal)), abs(float(delta @ da))
    return 0.6 * h <= across <= 2.6 * h and along <= 0.15 * max(a.length, b.length)


def _groups(lines: list[TextLine]) -> list[list[TextLine]]:
    """Candidate MRZ bands: runs of 2-3 compatible neighbouring lines, best first; then single lines."""
    n = len(lines)
    adj = [[j for j in range(n) if j != i and _compatible(lines[i], lines[j])] for i in range(n)]
    seen: set[int] = set()
    comps: list[list[int]] = []
    for i in range(n):
        if i in seen:
            continue
        stack, comp = [i], []
        seen.add(i)
        while stack:
            k = stack.pop()
            comp.append(k)
            for j in adj[k]:
                if j not in seen:
                    seen.add(j)
                    stack.append(j)
        comps.append(comp)
    out: list[list[TextLine]] = []
    for comp in comps:
        ref = lines[comp[0]]
        normal = np.array([-ref.direction[1], ref.direction[0]])
        ordered = sorted((lines[k] for k in comp), key=lambda t: float(np.array(t.center) @ normal))
        if len(ordered) <= 3:
            out.append(ordered)
        else:
            out.extend(ordered[i : i + 3] for i in range(len(ordered) - 2))
            out.extend(ordered[i : i + 2] for i in range(len(ordered) - 1))
    multi = [g for g in out if len(g) >= 2]
    single = [g for g in out if len(g) == 1]
    multi.sort(key=lambda g: -sum(t.length for t in g) * (1.0 + 0.1 * len(g)))
    single.sort(key=lambda g: -g[0].length)
    return multi + single


def _orient(group: list[TextLine], flip: bool) -> tuple[np.ndarray, np.ndarray, list[TextLine]]:
    """Reading direction d, its normal n (down the text) and the lines in reading order."""
    d = np.array(group[0].direction, dtype=np.float64)
    if flip:
        d = -d
    n = np.array([-d[1], d[0]])
    ordered = sorted(group, key=lambda t: float(np.array(t.center) @ n))
    return d, n, ordered


def _strip(
    rgb: np.ndarray,
    center: np.ndarray,
    d: np.ndarray,
    n: np.ndarray,
    length: float,
    height: float,
    out_h: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut a rectangle (centre, direction d, normal n, size in input pixels) out of ``rgb``,
    upright, ``out_h`` pixels high. Returns the strip and the source corners (4, 2)."""
    half_l, half_h = d * length / 2, n * height / 2
    src = np.array(
        [center - half_l - half_h, center + half_l - half_h, center + half_l + half_h, center - half_l + half_h],
        dtype=np.float32,
    )
    scale = out_h / max(height, 1.0)
    out_w = max(8, round(length * scale))
    dst = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    interp = cv2.INTER_CUBIC if scale > 1.2 else (cv2.INTER_AREA if scale < 0.8 else cv2.INTER_LINEAR)
    if interp == cv2.INTER_AREA:  # warpPerspective has no area filter: blur first
        k = round(1 / scale) | 1
        rgb = cv2.GaussianBlur(rgb, (k, k), 0)
        interp = cv2.INTER_LINEAR
    strip = cv2.warpPerspective(rgb, m, (out_w, out_h), flags=interp, borderMode=cv2.BORDER_REPLICATE)
    return strip, src


def _line_strip(rgb: np.ndarray, line: TextLine, d: np.ndarray, n: np.ndarray) -> np.ndarray:
    c = np.array(line.center)
    strip, _ = _strip(rgb, c, d, n, line.length * 1.02, line.height * 1.1, LINE_HEIGHT)
    return strip


# --------------------------------------------------------------------------- OCR steps


def _bgr(rgb: np.ndarray) -> np.ndarray:
    """PP-OCR models take BGR."""
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _detect(engine: Any, image: np.ndarray) -> list[np.ndarray]:
    res = engine(_bgr(image), use_det=True, use_cls=False, use_rec=False)
    boxes = getattr(res, "boxes", None)
    if boxes is None:
        return []
    return [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in boxes]


def _classify_flip(engine: Any, strips: list[np.ndarray]) -> tuple[bool, float]:
    """True when the strips read upside down (PP-OCR 0/180 classifier, score-weighted vote)."""
    vote = 0.0
    for s in strips:
        res = engine(_bgr(s), use_det=False, use_cls=True, use_rec=False)
        labels = getattr(res, "cls_res", None) or []
        for label, score in labels:
            vote += float(score) if str(label) == "180" else -float(score)
    return vote > 0, vote


def _recognise(engine: Any, strips: list[np.ndarray]) -> tuple[list[str], list[float], list[list[dict[str, float]]]]:
    """Texts, mean confidences and, per character, the recogniser's top candidates with probabilities.

    Runs the PP-OCR recogniser of the RapidOCR instance directly (its CTC output is decoded
    here to keep the second choices); falls back to RapidOCR's own decoding otherwise.
    """
    if not strips:
        return [], [], []
    imgs = [_bgr(s) for s in strips]
    found = recogniser(engine)
    shape = getattr(found[0], "rec_image_shape", None) if found else None
    if found is None or shape is None:
        res = engine.recognize_txt(imgs)
        txts = [str(t) for t in (res.txts or [])]
        return txts, [float(x) for x in (res.scores or [])], [[] for _ in txts]
    rec, session, charset = found
    ratio = max(shape[2] / shape[1], max(im.shape[1] / im.shape[0] for im in imgs))
    batch = np.stack([rec.resize_norm_img(im, ratio) for im in imgs]).astype(np.float32)
    preds = np.asarray(session(batch))
    texts, scores, alts = [], [], []
    for b in range(preds.shape[0]):
        probs = preds[b]
        idx = probs.argmax(axis=1)
        keep = (idx != 0) & np.concatenate([[True], idx[1:] != idx[:-1]])
        steps = np.flatnonzero(keep)
        sub = probs[steps]
        top = (
            np.argpartition(sub, -5, axis=1)[:, -5:]
            if sub.shape[1] > 5
            else np.tile(np.arange(sub.shape[1]), (len(steps), 1))
        )
        chars, confs, cands = [], [], []
        for r, t in enumerate(steps):
            chars.append(charset[int(idx[t])])
            confs.append(float(probs[t, idx[t]]))
            cands.append({charset[int(k)]: float(sub[r, k]) for k in top[r] if k != 0})
        texts.append("".join(chars))
        scores.append(float(np.mean(confs)) if confs else 0.0)
        alts.append(cands)
    return texts, scores, alts


def _mrz_like(text: str) -> bool:
    t = text.replace(" ", "")
    if len(t) < 24:
        return False
    inside = sum(c in CHARSET or c in "«‹" for c in t)
    return inside >= 0.9 * len(t) and ("<" in t or "«" in t or sum(c.isdigit() for c in t) >= 8)


def _parse(texts: list[str], alts: list[list[dict[str, float]]]) -> MrzResult | None:
    """Parse the MRZ-like texts; with 3+ texts also try 3- and 2-line windows. Best = fewest failed checks."""
    cand = [(t, a) for t, a in zip(texts, alts, strict=True) if _mrz_like(t)]
    windows: list[list[tuple[str, list[dict[str, float]]]]] = []
    if len(cand) in (2, 3):
        windows.append(cand)
    for size in (3, 2):
        for i in range(0, len(cand) - size + 1):
            w = cand[i : i + size]
            if w not in windows:
                windows.append(w)
    best: MrzResult | None = None
    best_fail = 10**6
    for w in windows:
        try:
            r = read_mrz_text([t for t, _ in w], alternatives=[a for _, a in w])
        except MrzError:
            continue
        fails = sum(c.status.value != "pass" for c in r.checks)
        if fails < best_fail:
            best, best_fail = r, fails
    return best


def _fails(r: MrzResult | None) -> int:
    return 10**6 if r is None else sum(c.status.value != "pass" for c in r.checks)


@dataclass
class _Attempt:
    result: MrzResult | None
    texts: list[str]
    scores: list[float]
    strips: list[np.ndarray]
    corners: np.ndarray  #: (4, 2) band corners in reading order, input pixels
    d: np.ndarray
    note: str


def _band_corners(lines: list[TextLine], d: np.ndarray, n: np.ndarray, margin: float) -> np.ndarray:
    pts = np.concatenate([t.quad for t in lines]).astype(np.float64)
    a, b = pts @ d, pts @ n
    a0, a1, b0, b1 = a.min(), a.max(), b.min(), b.max()
    h = float(np.mean([t.height for t in lines]))
    a0, a1, b0, b1 = a0 - margin * h, a1 + margin * h, b0 - margin * h, b1 + margin * h
    return np.array([a0 * d + b0 * n, a1 * d + b0 * n, a1 * d + b1 * n, a0 * d + b1 * n], dtype=np.float32)


def _read_group(engine: Any, rgb: np.ndarray, group: list[TextLine], flip: bool, note: str) -> _Attempt:
    d, n, ordered = _orient(group, flip)
    strips = [_line_strip(rgb, t, d, n) for t in ordered]
    texts, scores, alts = _recognise(engine, strips)
    return _Attempt(_parse(texts, alts), texts, scores, strips, _band_corners(ordered, d, n, 0.3), d, note)


def _refine(engine: Any, rgb: np.ndarray, group: list[TextLine], flip: bool) -> _Attempt | None:
    """Cut the band around ``group`` upright (detected line height -> 40 px) with room for a
    missed line on each side, detect lines again in it and read them from the input image."""
    d, n, ordered = _orient(group, flip)
    h = float(np.mean([t.height for t in ordered]))
    corners = _band_corners(ordered, d, n, 0.0)
    center = corners.mean(axis=0).astype(np.float64)
    length = float(np.linalg.norm(corners[1] - corners[0])) + 2 * h
    across = float(np.linalg.norm(corners[3] - corners[0])) + 5 * h
    band_h = max(32, round(across * 40.0 / h))
    band, src = _strip(rgb, center, d, n, length, across, band_h)
    if band.shape[1] > 1280:  # keep the detector cheap
        s = 1280 / band.shape[1]
        band = cv2.resize(band, (1280, max(32, int(band.shape[0] * s))), interpolation=cv2.INTER_AREA)
    dst = np.array([[0, 0], [band.shape[1], 0], [band.shape[1], band.shape[0]], [0, band.shape[0]]], np.float32)
    back = cv2.getPerspectiveTransform(dst, src)
    found = []
    for q in _detect(engine, band):
        mapped = cv2.perspectiveTransform(q.reshape(-1, 1, 2).astype(np.float32), back).reshape(4, 2)
        t = _line_from_quad(mapped)
        if t.length >= _MIN_ASPECT * t.height and abs(float(np.array(t.direction) @ d)) > 0.98:
            found.append(t)
    if not found:
        return None
    # keep the lines aligned with the band (not text beside it)
    found = [t for t in found if t.length >= 0.5 * max(x.length for x in found)]
    att = _read_group(engine, rgb, found, flip, "refined")
    return att


def _better(att: _Attempt | None, best: _Attempt | None) -> bool:
    return att is not None and _fails(att.result) < _fails(best.result if best else None)


def _good(r: MrzResult | None) -> bool:
    """Read well enough to stop looking: the format holds (check digits may fail as printed)."""
    return r is not None and all(c.status.value == "pass" for c in r.checks if c.name == "mrz_format")


def _read_band(engine: Any, rgb: np.ndarray, group: list[TextLine]) -> _Attempt | None:
    """Read one candidate band: orientation by the 0/180 classifier (the other one if the
    text is not MRZ-like); if that does not parse, a second detection around the band."""
    d, n, ordered = _orient(group, False)
    flip, _vote = _classify_flip(engine, [_line_strip(rgb, t, d, n) for t in ordered])
    best: _Attempt | None = None
    att = _read_group(engine, rgb, group, flip, "classifier")
    if _better(att, best):
        best = att
    if att.result is None and sum(_mrz_like(t) for t in att.texts) < max(1, len(att.texts) // 2 + 1):
        flip = not flip
        att = _read_group(engine, rgb, group, flip, "flipped")
        if _better(att, best):
            best = att
    if _good(best.result if best else None):
        return best
    ref = _refine(engine, rgb, group, flip)
    if _better(ref, best):
        best = ref
    return best


def mrz_band_present(quads: Sequence[np.ndarray], width: float, *, min_fraction: float = 0.6) -> bool:
    """Whether detected text lines ((4, 2) quads, image pixels) include an MRZ-like band.

    Two or more parallel lines of similar length and height, one line pitch apart
    (:func:`_groups`), each at least 8 times as long as high and at least ``min_fraction``
    of ``width`` (pixels) long: MRZ lines run across the whole document.
    """
    lines = [_line_from_quad(np.asarray(q, dtype=np.float32).reshape(4, 2)) for q in quads]
    long_lines = [t for t in lines if t.length >= _MIN_ASPECT * t.height and t.length >= min_fraction * width]
    return any(len(g) >= 2 for g in _groups(long_lines))


def warm_up(engine: Any | None = None) -> None:
    """Load the detector, classifier and recogniser (first calls build the ONNX sessions)."""
    engine = engine if engine is not None else get_model("rapidocr")
    img = np.full((64, 320, 3), 255, np.uint8)
    cv2.putText(img, "P<UTO1234<<", (8, 40), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2)
    _detect(engine, img)
    _classify_flip(engine, [img])
    _recognise(engine, [img])


def _validate(rgb: np.ndarray) -> None:
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        shape = getattr(rgb, "shape", None)
        raise UnsupportedImageError(f"expected an RGB uint8 array (H, W, 3), got {type(rgb).__name__} {shape}")
    if min(rgb.shape[:2]) < 16:
        raise UnsupportedImageError(f"image {rgb.shape[1]}x{rgb.shape[0]} is too small to hold an MRZ")


def read_mrz(
    rgb: np.ndarray,
    *,
    det_side: int = DET_SIDE,
    engine: Any | None = None,
    quads: Sequence[np.ndarray] | None = None,
) -> MrzReadout:
    """Locate, read, correct and parse the MRZ of an RGB ``uint8`` (H, W, 3) image.

    ``engine`` is a RapidOCR instance (default: the registry's ``rapidocr``). ``quads``:
    text-line quadrilaterals ((4, 2), input pixels) the caller's own PP-OCR detection
    found on the same image (e.g. :func:`openidv.document.ocr.detect_lines`); step 1 is
    then skipped.
    Raises :class:`openidv.errors.UnsupportedImageError` for arrays that are not RGB
    images and :class:`openidv.errors.ModelUnavailableError` when rapidocr is missing.
    """
    _validate(rgb)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    engine = engine if engine is not None else get_model("rapidocr")
    rgb = np.ascontiguousarray(rgb)
    steps: dict[str, Any] = {}
    lines = _text_lines(engine, rgb, det_side, quads, steps)
    timings["detect"] = (time.perf_counter() - t0) * 1000
    long_lines = [t for t in lines if t.length >= _MIN_ASPECT * t.height and t.length >= 40]
    steps["det_quads"] = [t.quad for t in lines]
    readout = MrzReadout(False, "no_text_lines" if not lines else "no_mrz_lines", steps=steps)
    if not long_lines:
        readout.timings_ms = timings | {"total": (time.perf_counter() - t0) * 1000}
        readout.notes.append(f"{len(lines)} text lines, none long enough for an MRZ")
        return readout
    groups = _groups(long_lines)
    steps["candidates"] = [[t.quad for t in g] for g in groups]
    t1 = time.perf_counter()
    best, tried = _best_band(engine, rgb, groups)
    timings["read"] = (time.perf_counter() - t1) * 1000
    timings["total"] = (time.perf_counter() - t0) * 1000
    readout.timings_ms = timings
    readout.notes.append(f"{len(long_lines)} long lines, {len(groups)} candidate bands, {tried} read")
    if best is None or best.result is None:
        readout.reason = "no_mrz_text"
        if best is not None:
            readout.raw_lines, readout.scores = best.texts, best.scores
            steps["line_strips"] = best.strips
        return readout
    _record_found(readout, best, best.result, rgb.shape[1], rgb.shape[0])
    return readout


def _text_lines(
    engine: Any, rgb: np.ndarray, det_side: int, quads: Sequence[np.ndarray] | None, steps: dict[str, Any]
) -> list[TextLine]:
    """Step 1: the text lines, from the caller's ``quads`` or from the detector run on a copy
    downscaled to at most ``det_side`` pixels (its input kept as ``steps["det_input"]``);
    quadrilaterals in input pixels."""
    if quads is not None:
        return [_line_from_quad(np.asarray(q, dtype=np.float32).reshape(4, 2)) for q in quads]
    h, w = rgb.shape[:2]
    scale = min(1.0, det_side / max(h, w))
    small = rgb if scale >= 1.0 else cv2.resize(rgb, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    steps["det_input"] = small
    return [_line_from_quad(q / scale) for q in _detect(engine, small)]


def _best_band(engine: Any, rgb: np.ndarray, groups: list[list[TextLine]]) -> tuple[_Attempt | None, int]:
    """Steps 2-5 on the first (at most 3) candidate bands: the best reading and the number of
    bands read. Stops at a band read well enough (:func:`_good`), or after the first band when
    the next has a single line."""
    best: _Attempt | None = None
    tried = 0
    for group in groups[:3]:
        if len(group) < 2 and best is not None:
            break
        tried += 1
        att = _read_band(engine, rgb, group)
        if _better(att, best):
            best = att
        if best is not None and _good(best.result):
            break
    return best, tried


def _record_found(readout: MrzReadout, best: _Attempt, r: MrzResult, w: int, h: int) -> None:
    """Fill ``readout`` from a reading parsed as ``r`` (``best.result``): lines, scores of the lines
    used, band corners and bounding box (input pixels, clipped to the ``w`` x ``h`` image),
    rotation and tilt (degrees)."""
    readout.found, readout.reason = True, "ok"
    readout.result, readout.raw_lines, readout.lines = r, list(r.raw_lines), list(r.lines)
    used = set(r.raw_lines)
    readout.scores = [s for t, s in zip(best.texts, best.scores, strict=False) if t in used]
    readout.quad = best.corners
    xs, ys = best.corners[:, 0], best.corners[:, 1]
    x0, y0 = max(0, math.floor(xs.min())), max(0, math.floor(ys.min()))
    x1, y1 = min(w, math.ceil(xs.max())), min(h, math.ceil(ys.max()))
    readout.box = (x0, y0, max(0, x1 - x0), max(0, y1 - y0))
    angle = math.degrees(math.atan2(best.d[1], best.d[0])) % 360
    readout.rotation = round(angle / 90.0) % 4 * 90
    tilt = angle - readout.rotation
    readout.tilt_deg = float((tilt + 180) % 360 - 180)
    readout.steps["line_strips"] = best.strips
    readout.notes.append(f"read via {best.note}")
