"""Screen replay: what a display adds to the image (moire of its pixel lattice, PWM flicker bands, its border)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.liveness.pad.common import CUE_FRACTION, check_result, median_or_zero, sigmoid
from openidv.liveness.pad.image_cues import collect_image_cues
from openidv.liveness.types import FrameAnalysis

#: Screen moire: median over the sampled frames of :func:`lattice_peak` above this. A noise-like
#: spectrum's median-of-12 statistic stays at 3.5-4.1 (calibration seeds 1000-1029: live at most 4.1;
#: eval seeds 1 and 2, 40 live sessions each: at most 3.92 and 3.97; real live video and stills: 3.0-3.4),
#: screens with visible moire 5-19. 4.6 (was 6.0) keeps 0.5 above the live maximum and catches the
#: weak aliasing of pitches just past the sensor's sampling rate (e.g. 5.1 at 0.95 cycles/sensor px).
LATTICE_PEAK = 4.6
#: Screen moire on the regions: median over the sampled frames of the lowest region peak above this.
#: The same figure as the whole crop's (:data:`LATTICE_PEAK`): on a large face both windows are
#: 128 px and the noise statistic is the same (brow of real live videos 3.1-3.8 with or without
#: simulated masks and glasses; generated live sessions at most 3.7; generated screen replays with a
#: lattice 4.3-12.9, the weakest of which the whole crop had caught at 4.9).
LATTICE_REGION_PEAK = LATTICE_PEAK
#: Flicker bands: median over consecutive frame pairs of :func:`row_banding` above this
#: (calibration seeds 1000-1029, sampled frames only: live at most 14.1 (an overestimate: that harness
#: paired some frames with blanks), PWM-dimmed screens 27-47; held-out seed 2 sessions: live at most 3.6).
BANDING_RATIO = 22.0


def _all_regions_value(values: list[float], whole: list[float], region_limit: float, whole_limit: float) -> float:
    """A periodic-texture statistic in units of its threshold: the median over frames of the lowest
    region peak over ``region_limit`` when most frames have region windows, else the median of the
    whole-crop peaks over ``whole_limit`` (faces too small for the regions). Above 1: the cue is shown."""
    finite = [v for v in values if np.isfinite(v)]
    if finite and 2 * len(finite) >= len(values):
        return median_or_zero(finite) / region_limit
    return median_or_zero(whole) / whole_limit


def screen_replay(
    frames: Sequence[np.ndarray],
    analyses: Sequence[FrameAnalysis],
    *,
    cues: dict[str, list[float]] | None = None,
) -> CheckResult:
    """Screen-replay cues over up to :data:`CUE_FRAMES` frames spread over the sequence.

    A screen replay of a live recording performs the right challenges with a real head's
    3-D motion, so only what the screen adds to the image can reveal it. Each cue is a
    sequence statistic (robust to a few odd frames) and is reported in ``data``:

    * ``moire``: the median over frames of :func:`lattice_peak` (display sub-pixel lattice
      aliased by the sensor) on the brow (:data:`LATTICE_REGIONS`) above
      :data:`LATTICE_REGION_PEAK`: a screen's lattice covers the whole face, a fabric mask's
      weave only its lower part; faces too small for the brow window use the whole face
      crop against :data:`LATTICE_PEAK`. ``lattice_frac`` is the fraction of
      frames whose whole crop is above :data:`LATTICE_PEAK` (reported);
    * ``flicker_bands``: the median over consecutive frame pairs of :func:`row_banding`
      (rolling-shutter bands of a PWM-dimmed backlight, drifting between frames) above
      :data:`BANDING_RATIO`;
    * ``device_border``: a long straight edge on at least 3 sides of the face
      (:func:`enclosing_edges`: the bezel or the screen's edge) in at least
      :data:`CUE_FRACTION` of the frames.

    Reported, not decisive (a dim room or a pale face do the same): the frame's black level
    and the face's saturation (:func:`screen_tone`). A screen with a fine pixel pitch
    (no aliasing), a DC-dimmed backlight and its edges outside the frame shows none of the
    decisive cues: this check then passes, and the other checks must catch the attack.
    The score is the lowest of the per-cue scores (a sigmoid of each statistic against its
    threshold).
    """
    name = "screen_replay"
    cues = cues if cues is not None else collect_image_cues(frames, analyses)
    n = len(cues["lattice"])
    if n < 2:
        return check_result(name, Status.INCONCLUSIVE, "no_face_track", None, "too few frames with a face")
    lattice = median_or_zero(cues["lattice"])
    lattice_frac = float(np.mean(np.array(cues["lattice"]) > LATTICE_PEAK))
    banding = median_or_zero(cues["banding"])
    border = float(np.mean(np.array(cues["edges"]) >= 3))
    moire = _all_regions_value(cues["regions"], cues["lattice"], LATTICE_REGION_PEAK, LATTICE_PEAK)
    data: dict[str, object] = {
        "lattice_peak_median": lattice,
        "region_peak_median": median_or_zero([v for v in cues["regions"] if np.isfinite(v)]),
        "moire_over_threshold": moire,
        "lattice_fraction": lattice_frac,
        "banding_median": banding,
        "border_fraction": border,
        "peak_median": median_or_zero(cues["peak"]),
        "frame_black_median": median_or_zero(cues["frame_black"]),
        "face_saturation_median": median_or_zero(cues["sat"]),
        "n_frames": n,
        "n_pairs": len(cues["banding"]),
    }
    scores = {
        "moire": 1.0 - sigmoid((moire - 1.0) / 0.11),  # 0.5 at the threshold, 0.12 at +0.5 on 4.6
        "flicker_bands": 1.0 - sigmoid((np.log(max(banding, 1e-6)) - np.log(BANDING_RATIO)) / 0.2),
        "device_border": 1.0 - border,
    }
    score = min(scores.values())
    data["cue_scores"] = {k: round(v, 4) for k, v in scores.items()}
    if moire > 1.0:
        return check_result(name, Status.FAIL, "moire", score, "display pixel lattice aliased in the face", **data)
    if banding > BANDING_RATIO:
        return check_result(name, Status.FAIL, "flicker_bands", score, "drifting rolling-shutter bands", **data)
    if border >= CUE_FRACTION:
        return check_result(name, Status.FAIL, "device_border", score, "straight edges enclose the face", **data)
    return check_result(name, Status.PASS, "no_screen_cues", score, "no moire, flicker bands or border", **data)
