"""Compression consistency: does every region share the JPEG history and sensor noise of the rest?

Regions are boxes ``(x, y, width, height)`` in pixels of the stored image (no EXIF
rotation); the per-block statistics come from :mod:`openidv.document.integrity.jpeg_lattice`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import (
    Box,
    Container,
    decode_stored,
    inconclusive,
    parse_container,
    valid_rgb,
)
from openidv.document.integrity.jpeg_lattice import (
    BlockMaps,
    ShiftedGrid,
    block_maps,
    ijg_table,
    shifted_grid_lattice,
)
from openidv.document.types import check
from openidv.imaging import luma as _luma

#: Region minus rest-of-image fraction of coefficients in unreachable bins above this is suspicious.
#: Genuine regions: max 0.24 (N=280 regions); pasted text >= 0.51, pasted portraits >= 0.38 (N=40 each).
GHOST_THRESHOLD = 0.33
#: Stricter bar for the tile scan used when no regions are given (many more tests per image).
GHOST_TILE_THRESHOLD = 0.55
#: A tile's lattice test needs this many informative coefficients per 8x8 block. In a flat tile
#: (plain background) most blocks keep only their DC; the few +-1 coefficients left are rounding
#: noise of the re-encode, unreachable from the earlier lattice by construction, so such a tile
#: reads "never compressed". Genuine licence backs (1608 96-px tiles of 144 blocks): under 100
#: coefficients g reaches 0.61, from 100 on at most 0.20.
GHOST_TILE_MIN_DENSITY = 1.0
#: The rest of the image must betray the earlier compression: unreachable fraction below this.
GHOST_PRIOR_MAX = 0.2
#: Region / surroundings noise ratio below this is suspicious (genuine: 1st percentile 0.83, N=207).
#: The surroundings' level is the lower of the band around the region and, for a printed value,
#: the other printed values' median (see :func:`_region_evidence`).
NOISE_RATIO_THRESHOLD = 0.55
#: Surroundings noise (grey levels, flattest quarter of blocks) needed for the noise comparison.
NOISE_MIN_LEVEL = 0.25


@dataclass(frozen=True)
class RegionEvidence:
    """What the compression-consistency check found in one region."""

    name: str
    box: Box
    ghost_coefficients: int | None  #: how many coefficients show an earlier, coarser quantisation
    ghost_reference: float | None  #: surroundings' lattice consistency at that quality (0 consistent, 1 random)
    ghost_region: float | None  #: the region's consistency at that quality
    ghost_inconsistency: float | None  #: region minus reference unreachable fraction
    noise_region: float | None  #: noise in the region's flattest blocks, grey levels
    noise_ring: float | None  #: same in the band around the region
    suspicious: bool
    why: str
    shifted_grid: ShiftedGrid | None = None  #: a JPEG lattice on another grid (portrait regions only)
    noise_peers: float | None = None  #: median of the other printed values' ``noise_region`` (values only)
    ghost_samples: int | None = None  #: informative (non-zero) coefficients behind ``ghost_region``

    @property
    def noise_reference(self) -> float | None:
        """The noise the region is compared with: the lower of band and peers, grey levels."""
        if self.noise_ring is None or self.noise_peers is None:
            return self.noise_ring
        return min(self.noise_ring, self.noise_peers)

    def to_dict(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 3)

        return {
            "name": self.name,
            "box": list(self.box),
            "ghost_coefficients": self.ghost_coefficients,
            "ghost_reference": r(self.ghost_reference),
            "ghost_region": r(self.ghost_region),
            "ghost_inconsistency": r(self.ghost_inconsistency),
            "noise_region": r(self.noise_region),
            "noise_ring": r(self.noise_ring),
            "noise_peers": r(self.noise_peers),
            "ghost_samples": self.ghost_samples,
            "suspicious": self.suspicious,
            "why": self.why,
            "shifted_grid": None
            if self.shifted_grid is None
            else {
                "offset": list(self.shifted_grid.offset),
                "z": round(self.shifted_grid.z, 2),
                "quality": self.shifted_grid.quality,
                "aligned_z": round(self.shifted_grid.aligned_z, 2),
            },
        }


def _flat_noise(maps: BlockMaps, mask: np.ndarray) -> float | None:
    """Median noise of the quarter least-active blocks under ``mask``; ``None`` with fewer than 6 blocks."""
    act = maps.activity[mask]
    if act.size < 6:
        return None
    k = max(3, act.size // 4)
    idx = np.argpartition(act, k - 1)[:k]
    return float(np.median(maps.noise[mask][idx]))


def _block_span(shape: tuple[int, int], box: Box) -> tuple[int, int, int, int]:
    """First and end block row and column (by0, by1, bx0, bx1) of the 8x8 blocks wholly inside ``box`` (px)."""
    by, bx = shape
    x, y, w, h = box
    return max(0, (y + 7) // 8), min(by, (y + h) // 8), max(0, (x + 7) // 8), min(bx, (x + w) // 8)


def _block_mask(shape: tuple[int, int], box: Box) -> np.ndarray:
    """Bool map (block rows, block columns) of the 8x8 blocks wholly inside ``box`` (px)."""
    by0, by1, bx0, bx1 = _block_span(shape, box)
    mask = np.zeros(shape, bool)
    mask[by0:by1, bx0:bx1] = True
    return mask


def _region_evidence(
    maps: BlockMaps, name: str, box: Box, total_s: float, total_n: float, noise_peers: float | None = None
) -> RegionEvidence:
    """Lattice and noise evidence for one region.

    The noise cue compares the region's flat noise with the band around it and, given
    ``noise_peers`` (the other printed values' median flat noise, grey levels), with the
    lower of the two. The band around a printed value is a few block rows of other
    lines, labels and guilloche, not the same mix of paper and glyph edges as the value
    itself: its flattest quarter can read up to twice the value rows' level, or keep
    some noise where a coarse final JPEG flattened the value rows. The other value rows
    are like-for-like, and one pasted value barely moves their median.
    """
    by0, by1, bx0, bx1 = _block_span(maps.noise.shape, box)
    reg = _block_mask(maps.noise.shape, box)
    ghost_q = ghost_ref = ghost_reg = ghost_g = None
    ghost_n: int | None = None
    if reg.any() and int((maps.prior_steps > 0).sum()) >= 3:
        s_r = float(maps.ghost_sum[reg].sum())
        n_r = float(maps.ghost_count[reg].sum())
        n_o = float(total_n) - n_r
        if n_o >= 300 and n_r >= 60:
            ref = (float(total_s) - s_r) / n_o
            if ref <= GHOST_PRIOR_MAX:
                ghost_q = int((maps.prior_steps > 0).sum())
                ghost_ref = ref
                ghost_reg = s_r / n_r
                ghost_g = ghost_reg - ghost_ref
                ghost_n = int(n_r)
    r = max(3, min(by1 - by0, bx1 - bx0) // 2)
    ring = np.zeros_like(reg)
    ring[max(0, by0 - r) : by1 + r, max(0, bx0 - r) : bx1 + r] = True
    ring &= ~reg
    n_reg = _flat_noise(maps, reg) if reg.any() else None
    n_ring = _flat_noise(maps, ring) if ring.any() else None
    evidence = RegionEvidence(
        name, box, ghost_q, ghost_ref, ghost_reg, ghost_g, n_reg, n_ring, False, "", None, noise_peers, ghost_n
    )
    n_ref = evidence.noise_reference
    whys: list[str] = []
    if ghost_g is not None and ghost_g > GHOST_THRESHOLD:
        whys.append("lacks the earlier JPEG compression that the rest of the image shows")
    if n_reg is not None and n_ref is not None and n_ref >= NOISE_MIN_LEVEL and n_reg < NOISE_RATIO_THRESHOLD * n_ref:
        whys.append(f"noise {n_reg:.2f} vs {n_ref:.2f} around it")
    return replace(evidence, suspicious=bool(whys), why="; ".join(whys))


#: Regions without like-for-like peers: their noise is compared with the band around them only.
NOISE_UNPAIRED_REGIONS = frozenset({"portrait"})
#: Other printed values needed for the peers' median (fewer: the band alone is the reference).
NOISE_MIN_PEERS = 2


def _peer_noise(maps: BlockMaps, boxes: Mapping[str, Box]) -> dict[str, float]:
    """Per printed value, the median flat noise (grey levels) of the other printed values.

    Values with fewer than :data:`NOISE_MIN_PEERS` measurable peers, and the regions of
    :data:`NOISE_UNPAIRED_REGIONS`, get none.
    """
    flat: dict[str, float] = {}
    for key, box in boxes.items():
        if key in NOISE_UNPAIRED_REGIONS:
            continue
        mask = _block_mask(maps.noise.shape, box)
        level = _flat_noise(maps, mask) if mask.any() else None
        if level is not None:
            flat[key] = level
    out: dict[str, float] = {}
    for key in flat:
        others = [v for k, v in flat.items() if k != key]
        if len(others) >= NOISE_MIN_PEERS:
            out[key] = float(np.median(others))
    return out


def _evidence_applicable(ev: RegionEvidence) -> bool:
    ref = ev.noise_reference
    return ev.ghost_inconsistency is not None or (ref is not None and ref >= NOISE_MIN_LEVEL)


#: Regions tested for a shifted JPEG grid: large enough for the statistic (printed values are
#: 30-60 px high, too few blocks; pasted text is caught by the cross-checks and the other cues).
SHIFTED_GRID_REGIONS = frozenset({"portrait"})


def _with_shifted_grid(ev: RegionEvidence, luma: np.ndarray) -> RegionEvidence:
    grid = shifted_grid_lattice(luma, ev.box)
    if grid is None:
        return ev
    why = ev.why
    if grid.suspicious:
        note = f"carries its own JPEG grid at offset {grid.offset} (lattice z {grid.z:.1f}, quality ~{grid.quality})"
        why = f"{why}; {note}" if why else note
    return replace(ev, suspicious=ev.suspicious or grid.suspicious, why=why, shifted_grid=grid)


def error_level_consistency(
    data: bytes, regions: Mapping[str, Box] | None = None, *, rgb: np.ndarray | None = None
) -> CheckResult:
    """Does every region share the compression history and noise of the rest of the photo?

    Physics. A browser-uploaded photo was JPEG-compressed by the camera (quality q1)
    and usually again by the browser (q2 ~ 85-92) *on the same 8x8 grid*: every block's
    DCT coefficients then still sit near the lattice of the first quantisation table.
    For each candidate earlier quality q (30-95, only tables at least 1.5x coarser than
    the file's own), the check measures, per block, how far the low/mid AC coefficients
    lie from the q-lattice (``12 u^2``, 0 on the lattice, 1 for random values; only
    coefficients that quantise to non-zero count). The rest of the image gives the
    reference curve and the earlier quality (its minimum); a pasted portrait or text
    patch, which was never compressed on this grid at q1, sits at ~1 where the rest is
    near 0 (the "JPEG ghost"). Independently, sensor noise in the flattest quarter of
    the region's blocks is compared with the band around it (for a printed value, with
    the lower of that band and the other printed values' median): a digitally rendered
    text patch has none. Thresholds: :data:`GHOST_THRESHOLD` on
    ``g = (region - reference) / (1.05 - reference)``, :data:`NOISE_RATIO_THRESHOLD`.

    ``regions`` are boxes in *stored* JPEG pixels (see the module docstring); without
    regions, 96-px tiles over the image are tested with a stricter threshold. ``rgb``:
    ``data``'s pixels as stored (no EXIF rotation) when the caller decoded them already;
    used only when its size matches the file's header, ``data`` is decoded otherwise.

    Limits (measured, see the report): the lattice cue needs an earlier compression
    coarser than the last one (q1 below ~80 with a 85-92 re-encode); the noise cue needs
    noise that survived the camera JPEG (q1 ~ 90 or more). A single-compressed file at
    a middle quality, or a forger who re-compresses everything at a coarse quality,
    leaves nothing to compare: ``inconclusive`` / ``no_compression_trace``. A
    portrait swapped *before printing* is physically genuine and cannot be seen here.
    """
    name = "compression_consistency"
    if not data:
        return inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format != "jpeg":
        return inconclusive(name, "not_jpeg", f"compression history needs a JPEG, got {container.format}")
    rgb = _stored_pixels(data, container, rgb)
    if rgb is None or min(rgb.shape[:2]) < 64:
        return inconclusive(name, "unreadable_image", "the JPEG cannot be decoded or is smaller than 64 px")
    h, w = rgb.shape[:2]
    if regions:
        boxes = _usable_boxes(regions, w, h)
        if not boxes:
            return inconclusive(name, "no_usable_region", "every region is outside the image or under 16 px")
    else:
        boxes = _tiles(w, h)
    luma = _luma(rgb)
    maps = block_maps(luma, container.luma_table, list(regions.values()) if regions else None)
    tiled = not regions
    peers = {} if tiled else _peer_noise(maps, boxes)
    total_s, total_n = maps.ghost_sum.sum(), maps.ghost_count.sum()
    evidence = [_region_evidence(maps, key, box, total_s, total_n, peers.get(key)) for key, box in boxes.items()]
    if tiled:
        evidence = [_tile_rule(ev) for ev in evidence]
    else:
        evidence = [_with_shifted_grid(ev, luma) if ev.name in SHIFTED_GRID_REGIONS else ev for ev in evidence]
    return _consistency_verdict(evidence, tiled, container.luma_table)


def _stored_pixels(data: bytes, container: Container, rgb: np.ndarray | None) -> np.ndarray | None:
    """``rgb`` when it holds ``data``'s stored pixels (its size matches the header), else ``data`` decoded."""
    given = valid_rgb(rgb, min_side=1)
    if given is None or given.shape[:2] != (container.height, container.width):
        given = decode_stored(bytes(data))
    return given


def _usable_boxes(regions: Mapping[str, Box], width: int, height: int) -> dict[str, Box]:
    """The regions clipped to the ``width`` x ``height`` px image, those at least 16 px on both sides."""
    boxes: dict[str, Box] = {}
    for key, box in regions.items():
        x, y, bw, bh = (int(v) for v in box)
        x0, y0, x1, y1 = max(0, x), max(0, y), min(width, x + bw), min(height, y + bh)
        if x1 - x0 >= 16 and y1 - y0 >= 16:
            boxes[key] = (x0, y0, x1 - x0, y1 - y0)
    return boxes


def _tiles(width: int, height: int, step: int = 96) -> dict[str, Box]:
    """``step``-px tiles over the image, named ``tile_<row>_<column>``, row by row."""
    boxes: dict[str, Box] = {}
    for ty in range(0, height - step + 1, step):
        for tx in range(0, width - step + 1, step):
            boxes[f"tile_{ty // step}_{tx // step}"] = (tx, ty, step, step)
    return boxes


def _consistency_verdict(evidence: list[RegionEvidence], tiled: bool, final_table: np.ndarray | None) -> CheckResult:
    """``fail`` when a region is suspicious, ``inconclusive`` when one cannot be compared, else ``pass``.

    ``final_table``: the file's luminance quantisation table (its quality is reported).
    """
    name = "compression_consistency"
    applicable = [ev for ev in evidence if _evidence_applicable(ev)]
    suspicious = [ev for ev in evidence if ev.suspicious]
    worst = max((ev.ghost_inconsistency for ev in evidence if ev.ghost_inconsistency is not None), default=None)
    data_out: dict[str, object] = {
        "regions": [ev.to_dict() for ev in evidence] if not tiled else [ev.to_dict() for ev in suspicious][:10],
        "final_quality": _estimate_quality(final_table),
        "tiled": tiled,
    }
    if suspicious:
        names = ", ".join(ev.name for ev in suspicious)
        g = max((ev.ghost_inconsistency or 0.0) for ev in suspicious)
        score = float(np.clip(0.5 - 0.5 * (g - GHOST_THRESHOLD), 0.0, 0.45))
        return check(
            name,
            Status.FAIL,
            "inconsistent_compression",
            score,
            f"suspicious region(s): {names} ({suspicious[0].why})",
            suspicious=[ev.name for ev in suspicious],
            **data_out,
        )
    if len(applicable) < len(evidence) or not evidence:
        return inconclusive(
            name,
            "no_compression_trace",
            "no earlier compression or sensor noise to compare regions against",
            **data_out,
        )
    score = 1.0 if worst is None else float(np.clip(1.0 - 0.5 * max(0.0, worst) / GHOST_THRESHOLD, 0.5, 1.0))
    return check(name, Status.PASS, "consistent", score, f"{len(evidence)} region(s) consistent", **data_out)


def _tile_rule(ev: RegionEvidence) -> RegionEvidence:
    """Tiles: only a strong lattice inconsistency counts (many tiles, so a stricter bar); noise is ignored.

    The lattice needs :data:`GHOST_TILE_MIN_DENSITY` informative coefficients per block of the tile.
    """
    _, _, w, h = ev.box
    strong = (
        ev.ghost_inconsistency is not None
        and ev.ghost_inconsistency > GHOST_TILE_THRESHOLD
        and (ev.ghost_samples or 0) >= GHOST_TILE_MIN_DENSITY * (w // 8) * (h // 8)
    )
    why = ev.why.split(";")[0] if strong else ""
    return replace(ev, noise_region=None, noise_ring=None, noise_peers=None, suspicious=strong, why=why)


def _estimate_quality(table: np.ndarray | None) -> int | None:
    """The IJG quality whose luminance table is closest to ``table`` (None for no table)."""
    if table is None:
        return None
    errors = [float(np.abs(ijg_table(q) - table).mean()) for q in range(1, 101)]
    return int(np.argmin(errors)) + 1
