"""Print attack: paper edges, the compressed tone range of paper, halftone texture."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import CUE_FRACTION, check_result
from openidv.liveness.pad.image_cues import collect_image_cues
from openidv.liveness.types import FrameAnalysis

#: Spectral peak ratio (peak / local median of the high-pass spectrum) above which a frame shows moire.
MOIRE_PEAK = 6.0


def print_attack(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    *,
    cues: dict[str, list[float]] | None = None,
) -> CheckResult:
    """Print cues in up to 8 frames spread over the sequence.

    * paper edges: a long straight edge on at least 3 sides of the face, moving with it
      (``sheet_edges``);
    * dynamic range: paper reflects 3-90 % of the light, so a print's darkest and
      brightest face pixels are at most ~25:1 apart, and it has no specular highlights
      (the skin's oily glints): a face crop whose luma range (p99.5 - p1) stays below 150
      grey levels with black level above 25 and no near-white pixel, in at least
      :data:`CUE_FRACTION` of frames (``flat_tone``);
    * halftone / paper texture: the same spectral peaks as moire (``halftone``), on the brow
      (:data:`LATTICE_REGIONS`) when the face is large enough for it.
    """
    name = "print_attack"
    cues = cues if cues is not None else collect_image_cues(frames, analyses)
    n = len(cues["peak"])
    if n < 2:
        return check_result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    sheet = float(np.mean(np.array(cues["edges"]) >= 3))
    flat = float(
        np.mean((np.array(cues["range"]) < 150) & (np.array(cues["black"]) > 25) & (np.array(cues["specular"]) < 1e-4))
    )
    # on the brow when the face is large enough, as for moire (a fabric mask is not a print)
    peaks = [r if np.isfinite(r) else p for r, p in zip(cues["peak_regions"], cues["peak"], strict=True)]
    halftone = float(np.mean(np.array(peaks) > MOIRE_PEAK))
    data = {
        "sheet_fraction": sheet,
        "flat_tone_fraction": flat,
        "halftone_fraction": halftone,
        "range_median": float(np.median(cues["range"])),
        "black_level_median": float(np.median(cues["black"])),
        "n_frames": n,
    }
    score = 1.0 - max(sheet, flat, halftone)
    if sheet >= CUE_FRACTION:
        return check_result(name, Status.FAIL, "sheet_edges", score, "straight sheet edges enclose the face", **data)
    if flat >= 0.6:
        return check_result(name, Status.FAIL, "flat_tone", score, "compressed tone range without highlights", **data)
    if halftone >= CUE_FRACTION:
        return check_result(name, Status.FAIL, "halftone", score, "periodic print texture in the face", **data)
    return check_result(name, Status.PASS, "no_print_cues", score, "no sheet edges, tone range of a live scene", **data)
