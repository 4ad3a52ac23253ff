"""Screen recapture: the sub-pixel lattice and moire of a screen photographed instead of the document.

Spectra are Welch averages of 128-px Hann tiles; frequencies in bins of 1/128
cycle/px, zero frequency at the map's centre; prominence is natural-log power over a
local median. Images are RGB ``uint8`` ``(H, W, 3)``; outlines (4, 2) corner arrays in
the photo's pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import document_area, inconclusive, valid_rgb
from openidv.document.types import check
from openidv.imaging import luma as _luma

#: Spectral peak prominence (natural log of power over its local median) above which a luminance
#: lattice is declared ...
SCREEN_PEAK_THRESHOLD = 2.5
#: ... and a chroma (R-G, B-G) lattice. Genuine generated card fronts reached 2.84 in blue-green (their
#: tinted background print; N=645, 7 above 2.5); no screen recapture was caught by a chroma peak
#: between 2.5 and 3.0 alone (N=350; seeds 83 and 101).
SCREEN_CHROMA_PEAK_THRESHOLD = 3.0
#: The single-peak threshold of each analysed channel.
_PEAK_LIMITS = {
    "luma": SCREEN_PEAK_THRESHOLD,
    "red_green": SCREEN_CHROMA_PEAK_THRESHOLD,
    "blue_green": SCREEN_CHROMA_PEAK_THRESHOLD,
}


#: Most tiles averaged per channel (evenly spread over the document when it holds more).
SCREEN_MAX_TILES = 64
#: Fewest tiles for which the thresholds above hold. The Welch spectrum of few tiles is noisy: white
#: noise run through the same spectrum (12 draws per size) reaches single peaks of 1.7-2.3 and
#: out-of-phase chroma peaks of 1.6-2.3 over 4 tiles, 1.2-1.3 over 9, 1.0-1.15 over 16, and stays under
#: the weakest cue's threshold (1.0) from 25 tiles on (0.76-0.90). Real licence scans 240-700 px wide
#: give 2-15 tiles and failed the check at 2, 3, 4, 10, 15 and 15 tiles; generated camera photos of
#: cards give 38-64. Below this count a failure is reported with ``data.few_tiles`` (a review
#: signal in the pipeline, :mod:`openidv.document.integrity_pipeline`).
SCREEN_MIN_TILES = 25
#: The largest prominence white noise reaches over ``n`` tiles is about this over sqrt(n) (measured
#: maxima, 10-12 draws: 2.97 over 2 tiles, 2.06 over 4, 1.72 over 6, 1.14 over 15, 0.90 over 25,
#: 0.57 over 64; the curve lies on or just above them). Over fewer than 21 tiles it exceeds the
#: weakest cue's threshold; each cue's threshold is then raised to it (:func:`_noise_floor`).
SCREEN_NOISE_PROMINENCE = 4.5


def _noise_floor(tiles: int) -> float:
    """The prominence white noise alone reaches in a Welch spectrum of ``tiles`` tiles (see above)."""
    return SCREEN_NOISE_PROMINENCE / float(np.sqrt(max(tiles, 1)))


#: Pixels between the document's outline and the tiles taken as its surroundings.
SCREEN_OUTSIDE_MARGIN = 12


def _tile_origins(
    shape: tuple[int, int], tile: int, outline: np.ndarray | None, *, outside: bool = False
) -> list[tuple[int, int]]:
    """Top-left corners of ``tile``-px tiles at half-tile steps, at most :data:`SCREEN_MAX_TILES` (evenly spread).

    With ``outline``: only tiles wholly inside it, 2 px clear of its edge; with ``outside``,
    only tiles wholly outside it grown by :data:`SCREEN_OUTSIDE_MARGIN` px instead.
    """
    h, w = shape
    step = tile // 2
    origins = [(ty, tx) for ty in range(0, h - tile + 1, step) for tx in range(0, w - tile + 1, step)]
    if outline is not None and origins:
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round(outline).astype(np.int32).reshape(-1, 1, 2)], 1)
        if outside:
            size, wanted = 2 * SCREEN_OUTSIDE_MARGIN + 1, 0
            mask = cv2.dilate(inside, np.ones((size, size), np.uint8))
        else:  # stay clear of the document's edge
            mask, wanted = cv2.erode(inside, np.ones((5, 5), np.uint8)), tile * tile
        integral = cv2.integral(mask)
        origins = [
            (ty, tx)
            for ty, tx in origins
            if integral[ty + tile, tx + tile] - integral[ty, tx + tile] - integral[ty + tile, tx] + integral[ty, tx]
            == wanted
        ]
    if len(origins) > SCREEN_MAX_TILES:
        keep = np.linspace(0, len(origins) - 1, SCREEN_MAX_TILES).round().astype(int)
        origins = [origins[i] for i in keep]
    return origins


def _median_along(values: np.ndarray, axis: int, size: int = 9) -> np.ndarray:
    """Running median of ``size`` samples along ``axis`` (edges replicated)."""
    from scipy.ndimage import median_filter  # "nearest" replicates the edges

    shape = [1] * values.ndim
    shape[axis] = size
    return np.asarray(median_filter(values, size=tuple(shape), mode="nearest"), dtype=values.dtype)


def _tile_spectra(channel: np.ndarray, origins: list[tuple[int, int]], tile: int = 128) -> np.ndarray:
    """Real 2-D FFTs (n_tiles, tile, tile // 2 + 1), complex64, of the Hann-windowed
    ``tile``-px tiles at ``origins`` of the high-passed ``channel`` (channel minus its
    Gaussian blur, sigma 3 px)."""
    hp = channel - cv2.GaussianBlur(channel, (0, 0), 3.0)
    window = np.outer(np.hanning(tile), np.hanning(tile)).astype(np.float32)
    out = np.empty((len(origins), tile, tile // 2 + 1), np.complex64)
    for start in range(0, len(origins), 16):  # batched FFTs, bounded memory
        batch = np.stack([hp[ty : ty + tile, tx : tx + tile] for ty, tx in origins[start : start + 16]]) * window
        out[start : start + len(batch)] = np.fft.rfft2(batch, axes=(1, 2))
    return out


def _prominence(spectra: np.ndarray) -> np.ndarray:
    """Peak prominence (tile, tile) of the Welch spectrum of ``spectra`` (from :func:`_tile_spectra`).

    Zero frequency at the centre (fftshift); -inf where excluded. The spectrum is the
    mean power over the tiles. A peak's prominence is its log power over the median of
    its 5x5 neighbourhood; within +-2 bins of a multiple of 1/8 cycle/px on one axis
    (the JPEG block grid of the analysed image raises whole rows and columns of the
    spectrum) over the median of 9 bins along that row or column, so a lattice peak
    near the grid still counts. Excluded: frequencies below 6/128 cycles/px (document
    layout, guilloche) and the crossings of two grid lines.
    """
    n, tile, half = spectra.shape
    acc_half = (spectra.real.astype(np.float64) ** 2 + spectra.imag.astype(np.float64) ** 2).sum(axis=0)
    # A real signal's power spectrum is symmetric, P(-ky, -kx) = P(ky, kx): the real FFT computes the
    # columns kx = 0 .. tile / 2, the others are their mirror images.
    acc = np.empty((tile, tile), np.float64)
    acc[:, :half] = acc_half
    mirror_rows = (-np.arange(tile)) % tile
    acc[:, half:] = acc_half[mirror_rows][:, tile - np.arange(half, tile)]
    logp = np.log(np.fft.fftshift(acc / max(n, 1)) + 1e-6).astype(np.float32)
    f = np.fft.fftshift(np.fft.fftfreq(tile))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    near = [np.abs(axis * 8.0 - np.round(axis * 8.0)) * tile / 8.0 <= 2.0 for axis in (fx, fy)]
    # Off the grid lines: prominence over the 5x5 neighbourhood. On a grid line (the JPEG block
    # boundaries raise whole rows/columns of the spectrum): over the line itself, 9 bins along it.
    prominence = logp - cv2.medianBlur(logp, 5)
    along_columns = logp - _median_along(logp, axis=0)
    along_rows = logp - _median_along(logp, axis=1)
    prominence = np.where(near[0], along_columns, prominence)
    prominence = np.where(near[1], along_rows, prominence)
    keep = (np.hypot(fx, fy) >= 6.0 / tile) & ~(near[0] & near[1])
    return np.where(keep, prominence, -np.inf).astype(np.float32)


#: Two luminance peaks of equal length (within SCREEN_SQUARE_LENGTH bins or 6 %) and perpendicular (within
#: SCREEN_SQUARE_DEGREES) whose weaker prominence exceeds SCREEN_SQUARE_THRESHOLD fail: a square lattice.
#: Genuine generated card fronts: at most 1.36 (N=645); screen recaptures the other cues missed on seed
#: 83: 3 of 11 above 1.5. Real passport and ID scans of ``passporteye``/``fastmrz`` that the other cues
#: pass: at most 1.42 (N=15).
SCREEN_SQUARE_THRESHOLD = 1.5
SCREEN_SQUARE_DEGREES = 5.0
SCREEN_SQUARE_LENGTH = 2.5
#: Peaks weaker than this, or nearer the origin than SCREEN_SQUARE_MIN_RADIUS bins, are not paired.
SCREEN_SQUARE_FLOOR = 0.7
SCREEN_SQUARE_MIN_RADIUS = 8.0


def _finite(prominence: np.ndarray) -> np.ndarray:
    """A :func:`_prominence` map (float32) with its excluded (-inf) frequencies at -10, for filters and minima."""
    return np.where(np.isfinite(prominence), prominence, -10.0).astype(np.float32)


def _square_lattice(prominence: np.ndarray) -> float:
    """The weaker prominence of the best pair of perpendicular, equally long peaks (0 if none).

    Physics: a screen's pixels form a square lattice, with spectral peaks at two perpendicular
    frequency vectors of equal length. Seen by a camera whose own pixel grid is square too,
    the lattice aliases into moire that stays square: folding ``(f cos a, f sin a)`` back by
    ``(1, 0)`` and its perpendicular ``(-f sin a, f cos a)`` by ``(0, 1)`` gives two vectors
    that are again perpendicular and of equal length, whatever the screen's tilt ``a``. So a
    moire too faint for :data:`SCREEN_PEAK_THRESHOLD` still shows as a *pair* of modest
    peaks at right angles, while print (guilloche, microtext) rarely forms such a pair.
    ``prominence``: a :func:`_prominence` map (zero frequency at the centre; the map is
    symmetric, so the half with ``kx >= 0`` holds every peak once).
    """
    tile = prominence.shape[0]
    half = tile // 2
    finite = _finite(prominence)
    is_max = (finite >= cv2.dilate(finite, np.ones((3, 3), np.uint8))) & (finite >= SCREEN_SQUARE_FLOOR)
    ys, xs = np.nonzero(is_max[:, half:])
    vectors = np.stack([xs, ys - half], axis=1).astype(np.float64)  # (kx, ky) in bins
    values = finite[:, half:][ys, xs]
    radius = np.hypot(vectors[:, 0], vectors[:, 1])
    keep = radius >= SCREEN_SQUARE_MIN_RADIUS
    vectors, values, radius = vectors[keep], values[keep], radius[keep]
    if len(values) < 2:
        return 0.0
    cosine = np.abs(vectors @ vectors.T) / np.outer(radius, radius)
    longer = np.maximum(radius[:, None], radius[None, :])
    square = (cosine <= np.sin(np.deg2rad(SCREEN_SQUARE_DEGREES))) & (
        np.abs(radius[:, None] - radius[None, :]) <= np.maximum(SCREEN_SQUARE_LENGTH, 0.06 * longer)
    )
    pairs = np.where(square, np.minimum(values[:, None], values[None, :]), 0.0)
    return float(pairs.max())


def _peak(prominence: np.ndarray) -> float:
    top = float(prominence.max()) if prominence.size else 0.0
    return top if np.isfinite(top) else 0.0


#: A chroma peak counts as sub-pixel moire when this share of its colour vector's energy is out of
#: phase (0: R, G, B in phase or anti-phase, as ink and the photo's own detail; 0.067: two equal
#: channels 30 degrees apart; 0.5: three equal channels 120 degrees apart; genuine card photos
#: stayed below 0.02 at every chroma peak above the threshold below, N=186), when that vector holds
#: this share of the peak's power ...
SCREEN_SUBPIXEL_SHARE = 0.04
SCREEN_SUBPIXEL_DOMINANCE = 0.6
#: ... and its prominence exceeds this. Genuine generated card photos: no such peak above 0.61 (N=182);
#: screen recaptures: 1.0-3.4 in 41 % of them (N=159).
SCREEN_SUBPIXEL_THRESHOLD = 1.0


def _subpixel_moire(luma: np.ndarray, red_green: np.ndarray, blue_green: np.ndarray, chroma: np.ndarray) -> float:
    """Prominence of the strongest chroma peak whose R, G, B components are out of phase (0 if none).

    Physics: a screen's R, G and B sub-pixels sit side by side, a third of a pixel apart,
    so the moire they beat into carries the three colours shifted by about 120 degrees of
    phase. Ink darkens the channels together (in phase, or in anti-phase for a complementary
    tint) and the upload's chroma subsampling leaves fine print detail achromatic.
    ``luma``, ``red_green``, ``blue_green``: :func:`_tile_spectra` of those channels;
    ``chroma``: the larger of the two chroma prominence maps. R, G, B are recovered from
    the three linear combinations (luma = 0.299 R + 0.587 G + 0.114 B). A pattern of two
    interleaved inks is out of phase too, but it also darkens: its luminance keeps the
    colour vector close to in phase, while a screen's balanced emitters leave it chromatic.
    """
    tile = chroma.shape[0]
    half = tile // 2
    # the map is symmetric: the half with kx >= 0 holds every peak once; its column ix is kx = ix - half
    ys, xs = np.nonzero(chroma[:, half:] > SCREEN_SUBPIXEL_THRESHOLD)
    if ys.size == 0:
        return 0.0
    ky, kx = (ys - half) % tile, xs
    y, rg, bg = (s[:, ky, kx].astype(np.complex128) for s in (luma, red_green, blue_green))
    g = y - 0.299 * rg - 0.114 * bg
    rgb = np.stack([rg + g, g, bg + g], axis=-1)  # (tiles, candidates, 3)
    # The colour vector at each peak: the dominant eigenvector of the 3x3 cross-spectral matrix
    # summed over the tiles (a weak, noisy channel weighs little in it).
    cross = np.einsum("tki,tkj->kij", rgb, rgb.conj())
    eig, vectors = np.linalg.eigh(cross)
    e = vectors[:, :, -1]  # (candidates, 3)
    dominance = eig[:, -1] / np.maximum(eig.sum(axis=1), 1e-12)
    # Out-of-phase share: the smaller eigenvalue of the real 2x2 Gram matrix of (Re e, Im e) over its
    # trace, whatever the global phase: 0 when R, G, B are in phase or anti-phase, 0.5 for three
    # equal channels 120 degrees apart.
    re, im = e.real, e.imag
    a, b, c = (re * re).sum(axis=1), (re * im).sum(axis=1), (im * im).sum(axis=1)
    half_gap = np.sqrt(((a - c) / 2.0) ** 2 + b * b)
    share = ((a + c) / 2.0 - half_gap) / np.maximum(a + c, 1e-12)
    values = chroma[:, half:][ys, xs]
    out_of_phase = values[(share >= SCREEN_SUBPIXEL_SHARE) & (dominance >= SCREEN_SUBPIXEL_DOMINANCE)]
    return float(out_of_phase.max()) if out_of_phase.size else 0.0


#: A luminance peak present both on the document and around it (on the table, the screen's
#: surroundings), with at least this prominence in each, fails: a pattern that crosses the
#: document's edge is in the imaging path (a screen's lattice), not in the print. Genuine
#: generated card photos: at most 0.69 (N=44); screen recaptures the lattice test missed: 0.8-2.1.
SCREEN_SHARED_THRESHOLD = 1.0  # lower where many tiles lie around the document: shared_lattice_limit
#: The shared value fails above this multiple of the noise floor of the tiles around the document
#: (generated licence photos, seeds 211 and 223: genuine fronts at most 1.17 times it, N=280; the
#: screens no other cue caught 1.40-1.76 times it).
SHARED_LATTICE_FLOOR_FACTOR = 1.3
#: Bins (of 1/128 cycle/px) between the two peaks: a moire's beat frequency drifts across a
#: screen seen at a slant (a 3 % change of pitch moves it by about 2 bins).
SCREEN_SHARED_RADIUS = 4
#: Tiles needed around the document for the comparison (at most SCREEN_MAX_TILES are used).
SCREEN_MIN_OUTSIDE_TILES = 4


def _shared_lattice(luma: np.ndarray, inside: np.ndarray, outline: np.ndarray, tile: int = 128) -> tuple[float, int]:
    """The strongest luminance peak found both around the document and on it, and the tiles used around it.

    ``luma``: the whole photo's luminance; ``inside``: the document's luma prominence map
    (:func:`_prominence`); ``outline``: the document's corners in photo pixels. The value is
    the smaller of the two prominences for the best pair of peaks within
    :data:`SCREEN_SHARED_RADIUS` bins of each other (0 when too few tiles lie outside).
    """
    origins = _tile_origins(luma.shape[:2], tile, outline, outside=True)
    if len(origins) < SCREEN_MIN_OUTSIDE_TILES:
        return 0.0, len(origins)
    outside = _prominence(_tile_spectra(luma, origins, tile))
    size = 2 * SCREEN_SHARED_RADIUS + 1
    near_inside = cv2.dilate(_finite(inside), np.ones((size, size), np.uint8))
    both = np.minimum(_finite(outside), near_inside)
    return max(0.0, float(both.max())), len(origins)


def screen_recapture(
    rgb: np.ndarray, document: np.ndarray | None = None, *, outline: np.ndarray | None = None
) -> CheckResult:
    """Was the document photographed off a screen (phone, monitor)?

    Physics: a screen is a lattice of R, G and B sub-pixels separated by a dark matrix.
    Photographed, the lattice either resolves (a sharp periodic peak in the spectrum
    at the pixel pitch) or aliases against the camera's sensor into moire (peaks at
    the beat frequency), in the luminance and, strongly, in the chroma (the sub-pixels
    are coloured). Printed cards have no such lattice: their spectra are smooth apart
    from the JPEG 8x8 grid, which is masked out, and from the low-frequency layout.

    Where to look: in the photo's own pixel grid. ``outline`` is the document's corners
    ((4, 2), ``rgb`` pixels); only 128-px tiles wholly inside it are used (at most
    :data:`SCREEN_MAX_TILES`, nothing is resampled). Without an outline: the rectified
    ``document`` if given, else the central 60% of the photo. Resampling (rectification)
    moves the JPEG block and chroma-subsampling grids of the upload off the masked
    frequencies and aliases them into peaks of their own: on genuine card photos the
    rectified chroma peaks reached 2.5-3.1, the same documents' photo-grid peaks
    0.4-1.5.

    Method: Welch spectrum (128 px Hann tiles, half overlap) of the high-passed
    luminance and of the R-G and B-G chroma; the largest peak prominence (log power over
    a 5x5 median) above :data:`SCREEN_PEAK_THRESHOLD` (luminance) or
    :data:`SCREEN_CHROMA_PEAK_THRESHOLD` (chroma) fails, and so does a weaker chroma
    peak above :data:`SCREEN_SUBPIXEL_THRESHOLD` whose R, G and B parts are out of phase
    (:func:`_subpixel_moire`: sub-pixels, not ink), a weaker luminance peak above
    :data:`SCREEN_SHARED_THRESHOLD` that the photo also shows around the document
    (:func:`_shared_lattice`: a pattern crossing the document's edge is not printed on it),
    and two weaker luminance peaks above :data:`SCREEN_SQUARE_THRESHOLD`, perpendicular and
    equally long (:func:`_square_lattice`: the square pixel grid of a screen).
    Limits: a screen far enough from the camera, or a photo downscaled so that the
    lattice falls below the camera's resolution, leaves only weak moire; colour/gamma
    cues of screens are not used (too variable between cameras).
    """
    name = "screen_recapture"
    arr = valid_rgb(rgb)
    if arr is None:
        return inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    corners = _outline_corners(outline)
    area = _area_in_outline(arr, corners) if corners is not None else _area_without_outline(arr, document)
    if area is None:
        return inconclusive(name, "too_small", "the document area is smaller than 128 px")
    if not area.origins:
        return inconclusive(name, "too_small", "no 128 px tile fits inside the document")
    return _screen_verdict(_screen_cues(area), area)


#: Side of the analysed tiles, px.
SCREEN_TILE = 128


@dataclass(frozen=True)
class _AnalysedArea:
    """The document area the screen check analyses, and where its tiles lie."""

    rgb: np.ndarray  #: (h, w, 3) float32, the document area
    luma: np.ndarray  #: (h, w) its luminance
    origins: list[tuple[int, int]]  #: (y, x) px of the tiles' top-left corners in ``rgb``
    where: str  #: what the area is, as reported
    photo_luma: np.ndarray | None = None  #: the whole photo's luminance (with an outline only)
    corners: np.ndarray | None = None  #: the outline's corners (n, 2), photo px (with an outline only)


def _outline_corners(outline: np.ndarray | None) -> np.ndarray | None:
    """The outline as (n, 2) float64 corners; ``None`` when absent, under 3 corners or not finite."""
    if outline is None:
        return None
    corners = np.asarray(outline, dtype=np.float64).reshape(-1, 2)
    if corners.shape[0] < 3 or not np.all(np.isfinite(corners)):
        return None
    return corners


def _area_in_outline(arr: np.ndarray, corners: np.ndarray) -> _AnalysedArea:
    """The photo's bounding box of the outline, in the photo's own pixel grid (nothing resampled)."""
    h, w = arr.shape[:2]
    x0, y0 = (int(v) for v in np.clip(np.floor(corners.min(axis=0)), 0, [w, h]))
    x1, y1 = (int(v) for v in np.clip(np.ceil(corners.max(axis=0)) + 1, 0, [w, h]))
    area = arr[y0:y1, x0:x1].astype(np.float32)
    photo_luma = _luma(arr)  # the surroundings are compared too (shared lattice)
    area_luma = np.ascontiguousarray(photo_luma[y0:y1, x0:x1])
    origins = _tile_origins(area.shape[:2], SCREEN_TILE, corners - [x0, y0])  # none when the area is under a tile
    return _AnalysedArea(area, area_luma, origins, "document outline in the photo", photo_luma, corners)


def _area_without_outline(arr: np.ndarray, document: np.ndarray | None) -> _AnalysedArea | None:
    """The rectified ``document``, else the photo's centre; ``None`` when under a tile."""
    area = document_area(arr, document).astype(np.float32)
    if min(area.shape[:2]) < SCREEN_TILE:
        return None
    f = 768.0 / max(area.shape[:2])
    if f < 0.5:  # only very large areas are reduced: the lattice needs the camera's own resolution
        area = np.asarray(cv2.resize(area, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), dtype=np.float32)
    where = "rectified document" if document is not None else "photo centre"
    return _AnalysedArea(area, _luma(area), _tile_origins(area.shape[:2], SCREEN_TILE, None), where)


@dataclass(frozen=True)
class _ScreenCues:
    """The screen check's measurements, prominences (natural-log power ratios)."""

    peaks: dict[str, float]  #: strongest single peak per channel ("luma", "red_green", "blue_green")
    subpixel: float  #: :func:`_subpixel_moire`
    shared: float  #: :func:`_shared_lattice` (0 without an outline)
    outside_tiles: int  #: tiles around the document used for ``shared``
    square: float  #: :func:`_square_lattice`


def _screen_cues(area: _AnalysedArea) -> _ScreenCues:
    """Spectra of the area's luminance and chroma, and every cue measured on them."""
    tile, origins, rgb = SCREEN_TILE, area.origins, area.rgb
    spectra = {
        "luma": _tile_spectra(area.luma, origins, tile),
        "red_green": _tile_spectra(rgb[..., 0] - rgb[..., 1], origins, tile),
        "blue_green": _tile_spectra(rgb[..., 2] - rgb[..., 1], origins, tile),
    }
    maps = {k: _prominence(v) for k, v in spectra.items()}
    peaks = {k: _peak(m) for k, m in maps.items()}
    subpixel = _subpixel_moire(
        spectra["luma"], spectra["red_green"], spectra["blue_green"], np.maximum(maps["red_green"], maps["blue_green"])
    )
    shared, outside_tiles = (
        (0.0, 0)
        if area.photo_luma is None or area.corners is None
        else _shared_lattice(area.photo_luma, maps["luma"], area.corners, tile)
    )
    return _ScreenCues(peaks, subpixel, shared, outside_tiles, _square_lattice(maps["luma"]))


def shared_lattice_limit(outside_noise_floor: float, fixed_limit: float) -> float:
    """The prominence above which a peak on the document and around it is a screen's lattice.

    A screen shows the document and its surroundings through one pixel lattice; print stops at
    the document's edge, so a genuine photo's surroundings are noise at print frequencies and its
    shared value sits at the noise floor of the tiles around the document
    (``outside_noise_floor``, :func:`_noise_floor` of their count, about ``4.5 / sqrt(n)``). The
    limit is :data:`SHARED_LATTICE_FLOOR_FACTOR` times that floor, never above ``fixed_limit``
    (:data:`SCREEN_SHARED_THRESHOLD`), which still holds where few tiles lie around the document.
    """
    if outside_noise_floor <= 0:
        return fixed_limit
    return min(fixed_limit, SHARED_LATTICE_FLOOR_FACTOR * outside_noise_floor)


def _screen_verdict(cues: _ScreenCues, area: _AnalysedArea) -> CheckResult:
    """``fail`` / ``screen_pattern`` naming the first cue above its threshold, else ``pass``."""
    name = "screen_recapture"
    peaks, subpixel, shared, square = cues.peaks, cues.subpixel, cues.shared, cues.square
    # thresholds at or above what noise alone reaches over this many tiles (only few tiles raise them)
    floor = _noise_floor(len(area.origins))
    limits = {k: max(v, floor) for k, v in _PEAK_LIMITS.items()}
    subpixel_limit, square_limit = max(SCREEN_SUBPIXEL_THRESHOLD, floor), max(SCREEN_SQUARE_THRESHOLD, floor)
    shared_limit = shared_lattice_limit(_noise_floor(cues.outside_tiles), SCREEN_SHARED_THRESHOLD)
    worst = max(peaks, key=lambda k: peaks[k] / limits[k])
    # (cue, value, limit, detail), in the order a failure names them
    findings = (
        ("lattice_peak", peaks[worst], limits[worst], f"periodic lattice peak in {worst}"),
        (
            "subpixel_moire",
            subpixel,
            subpixel_limit,
            "colour moire whose red, green and blue parts are out of phase (screen sub-pixels)",
        ),
        (
            "shared_lattice",
            shared,
            shared_limit,
            "the same periodic pattern on the document and around it (a screen's lattice, not print)",
        ),
        (
            "square_lattice",
            square,
            square_limit,
            "two equal, perpendicular periodic patterns (a screen's square pixel lattice)",
        ),
    )
    ratio = max(value / limit for _, value, limit, _ in findings)
    score = float(np.clip(1.0 - ratio / 2.0, 0.0, 1.0))
    data = {
        "peaks": {k: round(v, 2) for k, v in peaks.items()},
        "subpixel_moire": round(subpixel, 2),
        "shared_lattice": round(shared, 2),
        "shared_limit": round(shared_limit, 2),
        "square_lattice": round(square, 2),
        "tiles": len(area.origins),
        "outside_tiles": cues.outside_tiles,
        "area": area.where,
    }
    if len(area.origins) < SCREEN_MIN_TILES:
        data |= {"few_tiles": True, "noise_floor": round(floor, 2)}
    for cue, value, limit, detail in findings:
        if value > limit:
            return check(name, Status.FAIL, "screen_pattern", min(score, 0.49), detail, **data, cue=cue)
    return check(name, Status.PASS, "no_screen_pattern", max(score, 0.5), "no screen lattice or moire", **data)
