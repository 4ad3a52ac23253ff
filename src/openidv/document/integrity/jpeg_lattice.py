"""JPEG quantisation lattices: per-block evidence of an earlier compression, and grids shifted from the file's own.

The statistics behind :mod:`openidv.document.integrity.compression`: IJG tables, the
earlier (coarser) quantisation step each DCT coefficient betrays, per-8x8-block maps
of lattice consistency, noise and activity on the stored image's grid, and the
strongest lattice on any of the 63 other 8x8 grid phases. Pixels are the stored
image's (no EXIF rotation); boxes ``(x, y, width, height)`` in its pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from openidv.document.integrity.container import ZIGZAG, Box

#: IJG (Annex K) luminance quantisation table, natural order.
_IJG_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29,
        51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121,
        120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
)  # fmt: skip


_DCT = np.array(
    [
        [(np.sqrt(1 / 8) if u == 0 else np.sqrt(2 / 8)) * np.cos((2 * x + 1) * u * np.pi / 16) for x in range(8)]
        for u in range(8)
    ],
    dtype=np.float32,
)
_GHOST_COEFS = ZIGZAG[1:28]  #: low/mid AC coefficients (natural-order indices) used for the lattice test
#: (64, 27): a flattened 8x8 block times this gives its 2-D DCT coefficients ``_GHOST_COEFS``
#: (row u * 8 + v of ``kron(DCT, DCT)`` is the basis image of coefficient (u, v)).
_GHOST_BASIS = np.ascontiguousarray(np.kron(_DCT, _DCT)[_GHOST_COEFS].T, dtype=np.float32)
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def ijg_table(quality: int) -> np.ndarray:
    """The IJG luminance quantisation table for ``quality`` (1-100), natural order, baseline-clamped."""
    q = min(100, max(1, int(quality)))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


@dataclass
class BlockMaps:
    """Per-8x8-block statistics on the stored image's grid (block row, block column)."""

    ghost_sum: np.ndarray  #: (by, bx) non-zero coefficients in bins the earlier quantisation cannot produce
    ghost_count: np.ndarray  #: (by, bx) non-zero coefficients (of those with an earlier step)
    prior_steps: np.ndarray  #: (n_coefs,) estimated earlier quantisation step per coefficient (0: none found)
    noise: np.ndarray  #: (by, bx) Immerkaer noise estimate of the block interior, grey levels
    activity: np.ndarray  #: (by, bx) mean absolute gradient, grey levels per pixel


def _estimate_prior_steps(k2: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Per coefficient, the earlier (coarser) quantisation step the final values betray (0: none found).

    ``k2`` holds the final quantised values (blocks, coefficients); ``final`` the file's
    steps Q2. After quantising with Q1 then Q2 < Q1 on the same grid, only the bins
    ``n = round(m * Q1 / Q2)`` of the histogram of ``|k2|`` can be populated: the others
    are (nearly) empty, where a once-compressed, smooth (geometric) histogram would
    fill them. For each candidate step s (1.5 Q2 to 120), the mass observed in the
    unreachable bins is compared with the mass a geometric fit expects there; the
    largest s with less than 30% of the expected mass, and at least 30 values
    expected, is taken.
    """
    steps = np.zeros(k2.shape[1])
    mags = np.abs(np.asarray(k2, np.float64).T).astype(np.int64)  # (coefficients, blocks), contiguous rows
    for j in range(k2.shape[1]):
        q2 = float(final[j])
        hist = np.bincount(mags[j], minlength=2)[1:].astype(np.float64)  # n >= 1
        total = hist.sum()
        if total < 100:
            continue
        size = hist.size
        n = np.arange(1, size + 1, dtype=np.float64)
        mean = float((hist * n).sum() / total)
        r = max(0.0, 1.0 - 1.0 / mean)
        model = total * (1.0 - r) * r ** (n - 1.0)
        first = int(np.ceil(1.5 * q2))
        if first > 120:
            continue
        # Every candidate step at once: row i marks the bins reachable from step first + i.
        cand = np.arange(first, 121, dtype=np.float64)
        m = np.arange(1, int(size * q2 / first) + 2, dtype=np.float64)
        idx = np.round(m[None, :] * cand[:, None] / q2).astype(np.int64) - 1
        rows = np.broadcast_to(np.arange(cand.size)[:, None], idx.shape)
        ok = (idx >= 0) & (idx < size)
        reach = np.zeros((cand.size, size), bool)
        reach[rows[ok], idx[ok]] = True
        expected = np.where(reach, 0.0, model[None, :]).sum(axis=1)
        observed = np.where(reach, 0.0, hist[None, :]).sum(axis=1)
        low = np.flatnonzero(expected < 30)
        stop = int(low[0]) if low.size else cand.size  # the scan ends at the first step expecting < 30 values
        found = np.flatnonzero(observed[:stop] < 0.3 * expected[:stop])
        if found.size:
            steps[j] = cand[found[-1]]
    return steps


def block_maps(y: np.ndarray, final_table: np.ndarray | None, exclude: list[Box] | None = None) -> BlockMaps:
    h8, w8 = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    y = np.ascontiguousarray(y[:h8, :w8])
    by, bx = h8 // 8, w8 // 8
    blocks = (y - 128.0).reshape(by, 8, bx, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    coefs = blocks @ _GHOST_BASIS  # the 2-D DCT's low/mid AC coefficients, one matrix product for all blocks
    n_coefs = len(_GHOST_COEFS)
    steps = np.zeros(n_coefs)
    sums = np.zeros(by * bx, np.float32)
    counts = np.zeros(by * bx, np.float32)
    if final_table is not None:
        final = np.maximum(final_table[_GHOST_COEFS], 1.0)
        k2 = np.round(coefs / final.astype(np.float32))
        keep = np.ones((by, bx), bool)
        for x, y0, w, h in exclude or []:
            keep[max(0, y0 // 8) : (y0 + h + 7) // 8, max(0, x // 8) : (x + w + 7) // 8] = False
        sample = k2[keep.ravel()] if keep.mean() >= 0.3 else k2
        steps = _estimate_prior_steps(sample, final)
        use = np.nonzero(steps > 0)[0]
        if use.size:
            mag = np.abs(k2[:, use]).astype(np.int64)
            top = int(mag.max()) + 1
            reachable = np.zeros((use.size, top + 1), bool)
            for i, j in enumerate(use):
                idx = np.round(np.arange(0, int(top * final[j] / steps[j]) + 2) * steps[j] / final[j]).astype(np.int64)
                reachable[i, idx[idx <= top]] = True
            informative = mag >= 1
            unreachable = ~reachable[np.arange(use.size)[None, :], mag] & informative
            sums = unreachable.sum(axis=1).astype(np.float32)
            counts = informative.sum(axis=1).astype(np.float32)
    hp = np.abs(cv2.filter2D(y, -1, _NOISE_KERNEL, borderType=cv2.BORDER_REFLECT))
    noise = hp.reshape(by, 8, bx, 8)[:, 1:7, :, 1:7].mean(axis=(1, 3)) * float(np.sqrt(np.pi / 2) / 6)
    gx = np.abs(np.diff(y, axis=1, append=y[:, -1:]))
    gy = np.abs(np.diff(y, axis=0, append=y[-1:, :]))
    activity = (gx + gy).reshape(by, 8, bx, 8).mean(axis=(1, 3))
    return BlockMaps(
        sums.reshape(by, bx), counts.reshape(by, bx), steps, noise.astype(np.float32), activity.astype(np.float32)
    )


#: Shifted-grid JPEG lattice (see :func:`shifted_grid_lattice`): z above this at a grid offset that
#: is not a multiple of 4 px on both axes is a patch compressed elsewhere. Genuine regions: max 6.6
#: (60 portraits, 309 printed values); swapped portraits at patch quality <= 80: 10-43.
SHIFTED_GRID_THRESHOLD = 12.0
#: At the half-block offsets (4, 0), (0, 4), (4, 4) the image's own grid echoes (genuine: up to 9.7,
#: at most 0.23 of the aligned grid's z): there the lattice must exceed this *and* half the aligned z.
SHIFTED_GRID_HALF_THRESHOLD = 16.0
#: Regions smaller than this (px, both sides) are not tested for a shifted grid (too few blocks).
SHIFTED_GRID_MIN_SIDE = 64
_SHIFT_COEFS = ZIGZAG[:10]  #: DC and the 9 lowest AC coefficients (natural order)
_SHIFT_BASIS = np.ascontiguousarray(np.kron(_DCT, _DCT)[_SHIFT_COEFS].T, dtype=np.float32)
_SHIFT_QUALITIES = np.arange(40, 96, 2)
_SHIFT_TABLES = np.stack([ijg_table(int(q))[_SHIFT_COEFS] for q in _SHIFT_QUALITIES]).astype(np.float32)
_HALF_OFFSETS = frozenset({(4, 0), (0, 4), (4, 4)})


@dataclass(frozen=True)
class ShiftedGrid:
    """Strongest JPEG quantisation lattice found on an 8x8 grid other than the image's own."""

    offset: tuple[int, int]  #: (x, y) phase of that grid in image pixels, 0-7 each
    z: float  #: lattice strength: sum of cos(2 pi c / step) over non-zero coefficients / sqrt(count)
    quality: int  #: IJG quality whose table fits best
    aligned_z: float  #: the same statistic on the image's own grid (phase (0, 0))
    suspicious: bool


def shifted_grid_lattice(luma: np.ndarray, box: Box) -> ShiftedGrid | None:
    """Look inside ``box`` for a JPEG lattice on an 8x8 grid shifted from the image's own.

    Physics: a photo or text patch cut from another JPEG carries that file's quantisation
    on *its* block grid. Pasted at a random position, that grid is offset from the
    uploaded file's grid (63 of 64 offsets). On a grid, DCT coefficients of a once
    compressed image sit on multiples of the quantisation step q, so
    ``cos(2 pi c / q)`` averages near 1; on any other grid and in camera content it
    averages near 0. The final JPEG (on the image's grid) blurs the old lattice by its
    own rounding noise, so only coarse earlier steps survive (patch quality <= ~84).

    Method: for each of the 64 grid phases, the DC and 9 lowest AC coefficients of the
    region's blocks that are not flat (pixel std >= 1 grey level); for each IJG quality
    40-94 (step 2), ``z = sum cos(2 pi c / q) / sqrt(n)`` over coefficients with
    ``|c| >= q / 2``; the strongest z per phase. ``luma`` is the stored image's luma
    (grey levels, float), ``box`` (x, y, w, h) in its pixels. ``None`` when the region is
    smaller than :data:`SHIFTED_GRID_MIN_SIDE`.
    """
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(luma.shape[1], x + w), min(luma.shape[0], y + h)
    if x1 - x0 < SHIFTED_GRID_MIN_SIDE or y1 - y0 < SHIFTED_GRID_MIN_SIDE:
        return None
    region = np.asarray(luma[y0:y1, x0:x1], np.float32) - np.float32(128.0)
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for oy in range(8):
        for ox in range(8):
            sub = region[(oy - y0) % 8 :, (ox - x0) % 8 :]
            h8, w8 = sub.shape[0] // 8 * 8, sub.shape[1] // 8 * 8
            blocks = sub[:h8, :w8].reshape(h8 // 8, 8, w8 // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
            blocks = blocks[blocks.std(axis=1) >= 1.0]
            if blocks.shape[0] < 16:
                best[(ox, oy)] = (0.0, 0)
                continue
            ratio = (blocks @ _SHIFT_BASIS)[None, :, :] / _SHIFT_TABLES[:, None, :]  # (qualities, blocks, coefs)
            informative = np.abs(ratio) >= 0.5
            count = informative.sum(axis=(1, 2))
            total = np.where(informative, np.cos(np.float32(2 * np.pi) * ratio), 0.0).sum(axis=(1, 2))
            z = np.where(count >= 50, total / np.sqrt(np.maximum(count, 1)), 0.0)
            k = int(np.argmax(z))
            best[(ox, oy)] = (float(z[k]), int(_SHIFT_QUALITIES[k]))
    aligned = best[(0, 0)][0]

    def excess(offset: tuple[int, int]) -> float:
        z = best[offset][0]
        if offset in _HALF_OFFSETS:
            return min(z / SHIFTED_GRID_HALF_THRESHOLD, z / max(0.5 * aligned, 1e-6))
        return z / SHIFTED_GRID_THRESHOLD

    offset = max((o for o in best if o != (0, 0)), key=excess)
    strength, q = best[offset]
    return ShiftedGrid(offset, strength, q, aligned, excess(offset) > 1.0)
