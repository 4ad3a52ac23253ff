"""PDF417 reading on photographs of US driver's licence backs.

:func:`decode_pdf417` runs zxing-cpp on the photo and, when that fails, a chain of
fallbacks that each work on a different failure mode of hand-held photos, stopping at
the first success or when the time budget is spent:

1. ``zxing``: zxing-cpp on the whole gray image (its own rotation and downscale search).
2. ``zxing_global_histogram``: the same with zxing's global-histogram binariser, which
   copes better with uneven blur than the default local-average one.
3. ``region_sharpened``: symbol candidates are located by image analysis (dark pixels
   closed into solid blobs, ranked by size, rectangularity and bar/space transitions);
   each blob's quadrilateral is fitted and the region warped to an upright rectangle
   about 1000-1400 px wide (perspective correction, deskew and upscaling of small symbols
   in one step), sharpened with an unsharp mask (sigma 2 px, amount 2.5) and decoded.
   zxing-cpp alone fails on most perspective-distorted symbols; this step is where most
   camera photos are read.
4. ``region_coarse``: step 3 on candidates found at a coarser working scale (640 px
   instead of 960, so the closing bridges 1.5x wider gaps relative to the symbol),
   skipping those that duplicate a region step 3 already read. At the default scale a
   symbol whose modules are about 3 px or wider (a card rectified to 1011 px, as the
   document engine passes backs) can break into several blobs at the wide spaces between
   codeword columns, none of which decodes.
5. ``region_deconvolved``: the rectified region restored with a Wiener filter for a
   Gaussian blur of 3 px (noise-to-signal 0.01), for defocused or distant symbols.

Measured on generated backs (2 x 150 photos at the evaluation's camera settings, 150
harder ones with glare, motion blur, 0.4-0.7 card fraction, blur up to 2 px), and on the
25 zxing photos, each step decoded what the steps before it did not: zxing 11 / 8 / 1 / 24,
global histogram 0 / 2 / 0 / 1, region_sharpened 137 / 139 / 50 / 0, region_deconvolved
2 / 1 / 21 / 0. Tried and left out of the chain (they added nothing, or one image in 450):
plain rectification without sharpening, a larger (1400-1800 px) mildly sharpened
rectification, Otsu and adaptive binarisation of the region, +-4 degree rotations of the
region, and 2x upscaling of the whole image. ``region_coarse`` was added later: on 500
engine-rectified genuine backs of the forgery evaluation it decoded the 4 the other steps
missed (2-3 px modules, blur 1.3-1.5 px, JPEG 40-95), and changed nothing on the raw
photos above (both 150-photo sets and 150 harder ones decode the same images as before).

The payload is returned as zxing's ``TextMode.Plain`` text, which keeps AAMVA's control
characters (LF, RS, CR) unchanged, and as raw bytes. Coordinates are input pixels,
origin top-left, x right, y down.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import zxingcpp

from openidv.imaging import as_rgb

#: Longest side of the image the region finder works on, in pixels.
_WORK_SIDE = 960
#: The same for ``region_coarse``: closing kernels 1.5x wider relative to the symbol.
_COARSE_SIDE = 640
#: Closing kernel sizes (work-scale pixels) that merge bars into one blob per symbol.
_CLOSE_KERNELS = (5, 9)
#: Candidate regions tried per strategy, best-ranked first.
_MAX_REGIONS = 3
#: Noise-to-signal constant of the Wiener deconvolution.
WIENER_K = 0.01
#: Gaussian blur (rectified-region pixels) the Wiener deconvolution undoes.
WIENER_SIGMA = 3.0

#: The zxing-cpp format set read here.
PDF417_FORMAT = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.PDF417)
#: Fewest bar/space edges along a row for a crop to count as PDF417-like.
MIN_ROW_EDGES = 40

REASON_NO_BARCODE = "no_barcode"
REASON_UNREADABLE = "unreadable_barcode"
REASON_NOT_AAMVA = "not_aamva"

Point = tuple[float, float]


@dataclass
class BarcodeReadout:
    """The outcome of :func:`decode_pdf417`.

    ``text`` is the payload (zxing ``TextMode.Plain``: AAMVA's LF / RS / CR kept) and
    ``raw_bytes`` the symbol's bytes, both ``None`` when nothing decoded. ``position``
    holds the symbol's corners (top-left, top-right, bottom-right, bottom-left as zxing
    reports them for the symbol's own orientation) in input pixels. ``attempts`` names
    the strategies tried, in order; ``strategy`` the one that decoded. ``reason`` is
    ``None`` on success, else ``no_barcode`` (nothing PDF417-like seen),
    ``unreadable_barcode`` (a symbol was seen, by zxing or by the structural check of
    :func:`looks_like_pdf417`, but could not be decoded: damaged, covered, too blurred or
    too small) or ``not_aamva`` (with ``expect_aamva``: only non-AAMVA payloads decoded).
    ``symbol_seen`` is that evidence; ``budget_exhausted`` tells whether strategies were
    left untried because the time budget ran out.
    """

    text: str | None
    raw_bytes: bytes | None
    found: bool
    position: tuple[Point, Point, Point, Point] | None = None
    attempts: list[str] = field(default_factory=list)
    strategy: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    symbol_seen: bool = False
    ec_level: str | None = None
    budget_exhausted: bool = False
    rejected: int = 0  #: decoded symbols set aside because they were not AAMVA (``expect_aamva``)

    def to_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "text": self.text,
            "strategy": self.strategy,
            "reason": self.reason,
            "symbol_seen": self.symbol_seen,
            "position": [[round(x, 1), round(y, 1)] for x, y in self.position] if self.position else None,
            "ec_level": self.ec_level,
            "attempts": list(self.attempts),
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "budget_exhausted": self.budget_exhausted,
            "rejected": self.rejected,
        }


@dataclass(frozen=True)
class Region:
    """A PDF417 candidate: its quadrilateral (4 x 2 corners in input pixels, in no particular
    order; see :func:`order_quad`) and its ranking score (higher is more likely)."""

    quad: np.ndarray
    score: float


@dataclass(frozen=True)
class _Hit:
    text: str
    raw: bytes
    position: tuple[Point, Point, Point, Point]
    ec_level: str


class _Context:
    """Per-call state shared by the strategies: the gray image, lazily found regions, evidence."""

    def __init__(self, gray: np.ndarray, accept: Callable[[bytes], bool] | None) -> None:
        self.gray = gray
        self.accept = accept
        self._regions: list[Region] | None = None
        self._coarse: list[Region] | None = None
        self.symbol_seen = False
        self.rejected = 0

    @property
    def regions_found(self) -> bool:
        return self._regions is not None

    @property
    def regions(self) -> list[Region]:
        if self._regions is None:
            self._regions = find_regions(self.gray)
            self._check_symbol(self._regions[:_MAX_REGIONS])
        return self._regions

    @property
    def coarse_regions(self) -> list[Region]:
        """Candidates found at :data:`_COARSE_SIDE`, less those duplicating a :attr:`regions` one already read."""
        if self._coarse is None:
            tried = self.regions[:_MAX_REGIONS]
            fresh = [r for r in find_regions(self.gray, _COARSE_SIDE) if not _duplicate(r, tried)]
            self._coarse = fresh[:_MAX_REGIONS]
            self._check_symbol(self._coarse)
        return self._coarse

    def _check_symbol(self, regions: list[Region]) -> None:
        if not self.symbol_seen and any(looks_like_pdf417(rectify(self.gray, r.quad, 800)[0]) for r in regions):
            self.symbol_seen = True


# --- zxing -----------------------------------------------------------------------------------


def _read(
    ctx: _Context,
    image: np.ndarray,
    to_input: np.ndarray | None,
    binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
    *,
    search: bool = True,
) -> _Hit | None:
    """zxing-cpp on a gray image; ``to_input`` maps its pixels back to the input (3 x 3 homography)."""
    results = zxingcpp.read_barcodes(
        np.ascontiguousarray(image),
        formats=PDF417_FORMAT,
        text_mode=zxingcpp.TextMode.Plain,
        binarizer=binarizer,
        try_rotate=search,
        try_downscale=search,
        try_invert=search,
        return_errors=True,
    )
    for r in results:
        if not r.valid:
            ctx.symbol_seen = True  # zxing found the start/stop patterns but not the data
            continue
        raw = bytes(r.bytes)
        if ctx.accept is not None and not ctx.accept(raw):
            ctx.rejected += 1
            ctx.symbol_seen = True
            continue
        p = r.position
        corners = np.array(
            [[c.x, c.y] for c in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)], dtype=np.float64
        )
        if to_input is not None:
            corners = cv2.perspectiveTransform(corners[None], to_input)[0]
        pts = tuple((float(x), float(y)) for x, y in corners)
        return _Hit(r.text, raw, (pts[0], pts[1], pts[2], pts[3]), str(r.ec_level))
    return None


# --- region finding and rectification --------------------------------------------------------


def find_regions(gray: np.ndarray, work_side: int = _WORK_SIDE) -> list[Region]:
    """PDF417 candidate regions of a gray image, best first.

    The image is first shrunk to at most ``work_side`` px on its longest side. Dark pixels
    (adaptive mean threshold) are closed and opened with elliptic kernels (sizes
    :data:`_CLOSE_KERNELS`, in work-scale pixels) so a symbol's bars merge into one solid
    blob, separate from its quiet zone. Each connected blob of at least 0.4 % of the image
    that is solid (pixels / convex hull >= 0.6) and has 25-80 % dark pixels gets a
    quadrilateral (the convex hull simplified to 4 corners, or its minimum-area rectangle)
    and a score: area x quadrilateral fit x bar/space transitions per pixel. Returned
    quadrilaterals are in input pixels.
    """
    h, w = gray.shape
    s = min(1.0, work_side / max(h, w))
    small = cv2.resize(gray, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1.0 else gray
    dark = cv2.adaptiveThreshold(small, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 8)
    b = dark > 0
    transitions = np.zeros(b.shape, np.float32)
    transitions[:, 1:] += b[:, 1:] != b[:, :-1]
    transitions[1:, :] += b[1:, :] != b[:-1, :]
    min_area = 0.004 * small.size
    found: list[Region] = []
    for k in _CLOSE_KERNELS:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
        mask = cv2.morphologyEx(cv2.morphologyEx(dark, cv2.MORPH_CLOSE, kernel), cv2.MORPH_OPEN, kernel)
        n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        for j in range(1, n):
            x, y, bw, bh, area = (int(v) for v in stats[j])
            if area < min_area:
                continue
            comp = (labels[y : y + bh, x : x + bw] == j).astype(np.uint8)
            contours, _ = cv2.findContours(comp, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            contour = max(contours, key=cv2.contourArea)
            hull = cv2.convexHull(contour)
            hull_area = float(cv2.contourArea(hull))
            if area / max(hull_area, 1.0) < 0.6:
                continue
            quad = _fit_quad(hull)
            fit = hull_area / max(float(cv2.contourArea(quad)), 1.0)
            inside = np.zeros(comp.shape, np.uint8)
            cv2.drawContours(inside, [contour], -1, 1, -1)
            sel = inside > 0
            dark_frac = float(b[y : y + bh, x : x + bw][sel].mean())
            if not 0.25 < dark_frac < 0.8:
                continue
            trans = float(transitions[y : y + bh, x : x + bw][sel].mean())
            score = area * min(fit, 1.0 / max(fit, 1e-6)) * trans
            offset = np.array([x, y], dtype=np.float32)
            found.append(Region(((quad + offset) / s).astype(np.float32), score))
    found.sort(key=lambda r: -r.score)
    return _dedupe(found)


def _fit_quad(hull: np.ndarray) -> np.ndarray:
    """Four corners of a convex hull: Douglas-Peucker with growing tolerance, else the min-area rectangle."""
    perimeter = cv2.arcLength(hull, True)
    for eps in np.linspace(0.005, 0.08, 16):
        approx = cv2.approxPolyDP(hull, float(eps) * perimeter, True)
        if len(approx) == 4:
            return np.asarray(approx.reshape(4, 2), dtype=np.float32)
        if len(approx) < 4:
            break
    return np.asarray(cv2.boxPoints(cv2.minAreaRect(hull)), dtype=np.float32)


def _dedupe(regions: list[Region]) -> list[Region]:
    """Drop regions whose centre lies inside a better-ranked one's quadrilateral at similar size."""
    kept: list[Region] = []
    for r in regions:
        if not _duplicate(r, kept):
            kept.append(r)
    return kept


def _duplicate(region: Region, others: list[Region]) -> bool:
    """Whether ``region``'s centre lies inside one of ``others`` whose area is 0.7-1.4 times its own."""
    centre = region.quad.mean(axis=0)
    area = float(cv2.contourArea(region.quad))
    for k in others:
        inside = cv2.pointPolygonTest(k.quad.reshape(-1, 1, 2), (float(centre[0]), float(centre[1])), False) >= 0
        ratio = area / max(float(cv2.contourArea(k.quad)), 1.0)
        if inside and 0.7 < ratio < 1.4:
            return True
    return False


def order_quad(quad: np.ndarray) -> np.ndarray:
    """Order 4 corners clockwise (on screen) starting so that the first edge is a long one."""
    q = np.asarray(quad, dtype=np.float32).reshape(4, 2)
    centre = q.mean(axis=0)
    q = q[np.argsort(np.arctan2(q[:, 1] - centre[1], q[:, 0] - centre[0]))]
    if np.linalg.norm(q[1] - q[0]) < np.linalg.norm(q[2] - q[1]):
        q = np.roll(q, -1, axis=0)
    return q


def rectify(gray: np.ndarray, quad: np.ndarray, width: float, margin: float = 0.10) -> tuple[np.ndarray, np.ndarray]:
    """Warp the quadrilateral to an upright rectangle ``width`` px wide (height keeps the quad's aspect).

    A border of ``margin`` x width is kept on every side (the real surroundings, so the quiet
    zone survives a slightly wrong fit). Returns the warped image and the 3 x 3 homography
    from warped pixels back to input pixels.
    """
    q = order_quad(quad)
    qw = max(float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[2] - q[3])), 1.0)
    qh = max(float(np.linalg.norm(q[3] - q[0])), float(np.linalg.norm(q[2] - q[1])), 1.0)
    height = width * qh / qw
    m = margin * width
    dst = np.array([[m, m], [m + width, m], [m + width, m + height], [m, m + height]], dtype=np.float32)
    forward = cv2.getPerspectiveTransform(q, dst)
    size = (round(width + 2 * m), round(height + 2 * m))
    warped = cv2.warpPerspective(gray, forward, size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    return warped, np.linalg.inv(forward)


def looks_like_pdf417(rectified: np.ndarray) -> bool:
    """Whether an upright crop shows PDF417's structure: a wide solid bar near each end (start and
    stop patterns run through every row) around a data area of mixed bars and spaces with many
    bar/space edges along each row.

    Rows outside the middle 60 % are ignored; after Otsu thresholding a column counts as solid
    when >= 85 % dark, and a row must cross at least :data:`MIN_ROW_EDGES` edges (the smallest
    symbol, one data column, has about 50). Either orientation (upside down) is accepted.
    """
    h, w = rectified.shape
    if h < 8 or w < 2 * MIN_ROW_EDGES:
        return False
    core = rectified[int(0.2 * h) : int(0.8 * h)]
    _, binary = cv2.threshold(core, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dark = binary > 0
    edges_per_row = np.count_nonzero(dark[:, 1:] != dark[:, :-1], axis=1)
    if float(np.median(edges_per_row)) < MIN_ROW_EDGES:
        return False
    darkness = dark.mean(axis=0)
    solid = darkness >= 0.85
    min_run = max(2, int(0.01 * w))

    def has_run(segment: np.ndarray) -> bool:
        run = 0
        for v in segment:
            run = run + 1 if v else 0
            if run >= min_run:
                return True
        return False

    edge = max(1, int(0.25 * w))
    middle = darkness[edge:-edge]
    mixed = middle.size > 0 and 0.2 < float(middle.mean()) < 0.8
    return bool(has_run(solid[:edge]) and has_run(solid[-edge:]) and mixed)


# --- strategies --------------------------------------------------------------------------------


def _unsharp(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1.0 + amount, blurred, -amount, 0)


def wiener_deconvolve(gray: np.ndarray, sigma: float, k: float) -> np.ndarray:
    """Undo a Gaussian blur of ``sigma`` px with a Wiener filter (noise-to-signal constant ``k``).

    The filter is applied as a spatial kernel (see :func:`wiener_kernel`), borders reflected.
    """
    kernel = wiener_kernel(round(float(sigma), 3), round(float(k), 6))
    restored = cv2.filter2D(gray.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT)
    return np.asarray(np.clip(restored, 0, 255), dtype=np.uint8)


@functools.lru_cache(maxsize=8)
def wiener_kernel(sigma: float, k: float) -> np.ndarray:
    """Spatial kernel of the Wiener filter ``H / (H^2 + k)`` for a Gaussian blur ``H`` of ``sigma`` px.

    Built on a grid of ``12 sigma + 1`` (odd, at least 17) pixels, so that it covers the
    filter's ringing; it sums to ``1 / (1 + k)``.
    """
    n = max(17, int(12 * sigma) | 1)
    f = np.fft.fftfreq(n)
    otf = np.exp(-2.0 * (np.pi * sigma) ** 2 * (f[:, None] ** 2 + f[None, :] ** 2))
    kernel = np.real(np.fft.ifft2(otf / (otf**2 + k)))
    return np.asarray(np.fft.fftshift(kernel), dtype=np.float32)


def _region_width(region: Region, base: float, cap: float) -> float:
    q = order_quad(region.quad)
    qw = max(float(np.linalg.norm(q[1] - q[0])), float(np.linalg.norm(q[2] - q[3])))
    return float(np.clip(qw, base, cap))


def _s_zxing(ctx: _Context) -> Iterator[_Hit | None]:
    yield _read(ctx, ctx.gray, None)


def _s_global_histogram(ctx: _Context) -> Iterator[_Hit | None]:
    yield _read(ctx, ctx.gray, None, zxingcpp.Binarizer.GlobalHistogram)


def _region_reads(
    ctx: _Context,
    base_width: float,
    max_width: float,
    enhance: Callable[[np.ndarray], np.ndarray] | None,
    regions: list[Region] | None = None,
) -> Iterator[_Hit | None]:
    """Rectify each candidate region (default: the best :data:`_MAX_REGIONS` of ``ctx.regions``),
    optionally enhance it, read it with both binarisers."""
    for region in ctx.regions[:_MAX_REGIONS] if regions is None else regions:
        warped, back = rectify(ctx.gray, region.quad, _region_width(region, base_width, max_width))
        image = warped if enhance is None else enhance(warped)
        for binarizer in (zxingcpp.Binarizer.LocalAverage, zxingcpp.Binarizer.GlobalHistogram):
            yield _read(ctx, image, back, binarizer, search=False)


def _s_region_rectified(ctx: _Context) -> Iterator[_Hit | None]:
    return _region_reads(ctx, 1000, 1400, None)


def _s_region_sharpened(ctx: _Context) -> Iterator[_Hit | None]:
    return _region_reads(ctx, 1000, 1400, lambda g: _unsharp(g, 2.0, 2.5))


def _s_region_coarse(ctx: _Context) -> Iterator[_Hit | None]:
    return _region_reads(ctx, 1000, 1400, lambda g: _unsharp(g, 2.0, 2.5), ctx.coarse_regions)


def _s_region_sharpened_large(ctx: _Context) -> Iterator[_Hit | None]:
    return _region_reads(ctx, 1400, 1800, lambda g: _unsharp(g, 2.5, 1.5))


def _s_region_deconvolved(ctx: _Context) -> Iterator[_Hit | None]:
    return _region_reads(ctx, 1000, 1400, lambda g: wiener_deconvolve(g, WIENER_SIGMA, WIENER_K))


def _s_upscaled(ctx: _Context) -> Iterator[_Hit | None]:
    h, w = ctx.gray.shape
    if max(h, w) > 2000:
        return
    big = cv2.resize(ctx.gray, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC)
    back = np.array([[0.5, 0, 0], [0, 0.5, 0], [0, 0, 1]], dtype=np.float64)
    yield _read(ctx, big, back)


Strategy = Callable[[_Context], Iterator["_Hit | None"]]

#: Every strategy by name. ``region_rectified`` (no enhancement), ``region_sharpened_large``
#: and ``upscaled`` (whole image 2x) are kept for evaluation only: measured on 450 generated
#: backs and the zxing photos, they added at most one decode to the default chain (see
#: ``openidv.eval.pdf417.strategy_gains``).
STRATEGIES: dict[str, Strategy] = {
    "zxing": _s_zxing,
    "zxing_global_histogram": _s_global_histogram,
    "region_sharpened": _s_region_sharpened,
    "region_coarse": _s_region_coarse,
    "region_sharpened_large": _s_region_sharpened_large,
    "region_deconvolved": _s_region_deconvolved,
    "region_rectified": _s_region_rectified,
    "upscaled": _s_upscaled,
}
#: The strategies :func:`decode_pdf417` tries by default, in order.
DEFAULT_CHAIN: tuple[str, ...] = (
    "zxing",
    "zxing_global_histogram",
    "region_sharpened",
    "region_coarse",
    "region_deconvolved",
)


def looks_like_aamva(payload: bytes) -> bool:
    """Whether a payload starts like an AAMVA DL/ID record: ``@``, then ``ANSI `` or ``AAMVA``
    within the first 30 bytes (the separators between them vary between issuers)."""
    head = payload[:30]
    return payload[:1] == b"@" and (b"ANSI " in head or b"AAMVA" in head)


def decode_pdf417(
    rgb: np.ndarray,
    *,
    budget_ms: float = 400.0,
    expect_aamva: bool = False,
    strategies: tuple[str, ...] | list[str] | None = None,
) -> BarcodeReadout:
    """Find and decode a PDF417 symbol in an image (RGB or gray array, any size accepted by
    :func:`openidv.imaging.as_rgb`).

    Strategies (see the module docstring) are tried in order until one decodes; no new
    zxing call starts once ``budget_ms`` milliseconds have passed (the first one always
    runs). With ``expect_aamva`` a decoded payload that is not an AAMVA record
    (:func:`looks_like_aamva`) is set aside and the search goes on; if nothing else decodes
    the reason is ``not_aamva``. This guards licence reading against zxing's rare misreads
    of strongly slanted symbols (seen once in 300 generated backs). ``strategies`` replaces
    the default chain (:data:`DEFAULT_CHAIN`), for evaluation. Raises
    :class:`openidv.errors.ImageError` subclasses for arrays that are not images, and
    ``ValueError`` for unknown strategy names.
    """
    start = time.perf_counter()
    names = list(DEFAULT_CHAIN if strategies is None else strategies)
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise ValueError(f"unknown PDF417 strategies: {unknown}; known: {list(STRATEGIES)}")
    image = as_rgb(rgb)
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    ctx = _Context(gray, looks_like_aamva if expect_aamva else None)
    readout = BarcodeReadout(text=None, raw_bytes=None, found=False)
    deadline = start + budget_ms / 1000.0
    for name in names:
        if readout.attempts and time.perf_counter() > deadline:
            readout.budget_exhausted = True
            break
        readout.attempts.append(name)
        t0 = time.perf_counter()
        hit: _Hit | None = None
        for outcome in STRATEGIES[name](ctx):
            if outcome is not None:
                hit = outcome
                break
            if time.perf_counter() > deadline:
                readout.budget_exhausted = True
                break
        readout.timings_ms[name] = (time.perf_counter() - t0) * 1000.0
        if hit is not None:
            readout.text, readout.raw_bytes, readout.found = hit.text, hit.raw, True
            readout.position, readout.strategy, readout.ec_level = hit.position, name, hit.ec_level
            ctx.symbol_seen = True
            break
        if readout.budget_exhausted:
            break
    readout.rejected = ctx.rejected
    if not readout.found:
        if not ctx.symbol_seen and not ctx.regions_found:
            t0 = time.perf_counter()
            _ = ctx.regions  # the structural check behind the reason code always runs
            readout.timings_ms["region_check"] = (time.perf_counter() - t0) * 1000.0
        if ctx.rejected:
            readout.reason = REASON_NOT_AAMVA
        else:
            readout.reason = REASON_UNREADABLE if ctx.symbol_seen else REASON_NO_BARCODE
    readout.symbol_seen = ctx.symbol_seen
    readout.timings_ms["total"] = (time.perf_counter() - start) * 1000.0
    return readout
