"""Presentation-attack and injection checks over a whole liveness sequence.

Every check is a pure function of the session's frames (RGB ``uint8`` (H, W, 3), in
order), their :class:`~openidv.liveness.types.FrameAnalysis` (landmarks in frame pixels,
origin top-left) and the issued :class:`~openidv.liveness.types.ChallengeStep` list. Each
returns one :class:`~openidv.checks.CheckResult` with a score in [0, 1] (higher = more
likely a live person presenting now), a snake_case reason code and its measurements in
``data``; a sequence that does not allow a decision gives ``inconclusive``.

One module per attack family, plus what they share:

* :mod:`~openidv.liveness.pad.planarity`: a flat print or screen turned with the head;
* :mod:`~openidv.liveness.pad.blink_smile`: a photo that cannot blink or smile;
* :mod:`~openidv.liveness.pad.screen_replay`: a display's moire, flicker bands, border;
* :mod:`~openidv.liveness.pad.print_attack`: paper edges, flat tone, halftone;
* :mod:`~openidv.liveness.pad.rppg`: the pulse in the skin (advisory);
* :mod:`~openidv.liveness.pad.injection`: injected or replayed streams (timing, duplicate and
  frozen frames, the challenges' order and windows);
* :mod:`~openidv.liveness.pad.screen_light`: the face's response to the flashed colours
  (its regression in :mod:`~openidv.liveness.pad.light_fit`);
* shared: :mod:`~openidv.liveness.pad.common` (result builder, usable frames, crops) and
  :mod:`~openidv.liveness.pad.image_cues` (the per-frame image cues of the screen and print checks).

:func:`sequence_checks` runs them all; it is what the session's ``finish()`` calls.
rPPG never fails and never decides (``advisory`` in :mod:`openidv.decision.severity`).
Thresholds were calibrated on the project's generated sequences (see
``openidv.eval.liveness``), not on real attack data, which does not exist here.
"""

from openidv.liveness.pad.blink_smile import (
    BLINK_DIP,
    BLINK_RECOVER,
    FRONTAL_DEG,
    NEUTRAL_FRAMES,
    SMILE_GAIN,
    blink_smile_performed,
)
from openidv.liveness.pad.common import CUE_FRACTION, CUE_FRAMES, face_crop
from openidv.liveness.pad.image_cues import (
    LATTICE_REGION_SIDE,
    LATTICE_REGIONS,
    collect_image_cues,
    enclosing_edges,
    lattice_peak,
    region_windows,
    row_banding,
    screen_tone,
    spectral_peak,
    tone_stats,
)
from openidv.liveness.pad.injection import (
    FROZEN_DIFF,
    FROZEN_RUN,
    MAX_DUPLICATE_FRACTION,
    MAX_DUPLICATE_RUN,
    MAX_FPS,
    MAX_GAP_S,
    MIN_FPS,
    injection_replay,
)
from openidv.liveness.pad.planarity import (
    PARALLAX_MIN_POINTS,
    PARALLAX_THRESHOLD,
    PLANARITY_FRONTAL_DEG,
    PLANARITY_MIN_YAW_RANGE,
    PLANARITY_THRESHOLD,
    PLANARITY_TURN_DEG,
    planarity,
)
from openidv.liveness.pad.print_attack import MOIRE_PEAK, print_attack
from openidv.liveness.pad.rppg import rppg
from openidv.liveness.pad.screen_light import (
    LIGHT_CLIP_LEVEL,
    LIGHT_DARK_LEVEL,
    LIGHT_FACE_WIDE,
    LIGHT_MIN_CORR,
    LIGHT_MIN_COVER,
    LIGHT_MIN_SAMPLES,
    LIGHT_MIN_T,
    LIGHT_NONE,
    LIGHT_PASS,
    LIGHT_REGION_FRACTION,
    LIGHT_SHARED_RATIO,
    hex_rgb,
    screen_light_response,
)
from openidv.liveness.pad.screen_replay import BANDING_RATIO, LATTICE_PEAK, LATTICE_REGION_PEAK, screen_replay
from openidv.liveness.pad.sequence import sequence_checks

__all__ = [
    "BANDING_RATIO",
    "BLINK_DIP",
    "BLINK_RECOVER",
    "CUE_FRACTION",
    "CUE_FRAMES",
    "FRONTAL_DEG",
    "FROZEN_DIFF",
    "FROZEN_RUN",
    "LATTICE_PEAK",
    "LATTICE_REGIONS",
    "LATTICE_REGION_PEAK",
    "LATTICE_REGION_SIDE",
    "LIGHT_CLIP_LEVEL",
    "LIGHT_DARK_LEVEL",
    "LIGHT_FACE_WIDE",
    "LIGHT_MIN_CORR",
    "LIGHT_MIN_COVER",
    "LIGHT_MIN_SAMPLES",
    "LIGHT_MIN_T",
    "LIGHT_NONE",
    "LIGHT_PASS",
    "LIGHT_REGION_FRACTION",
    "LIGHT_SHARED_RATIO",
    "MAX_DUPLICATE_FRACTION",
    "MAX_DUPLICATE_RUN",
    "MAX_FPS",
    "MAX_GAP_S",
    "MIN_FPS",
    "MOIRE_PEAK",
    "NEUTRAL_FRAMES",
    "PARALLAX_MIN_POINTS",
    "PARALLAX_THRESHOLD",
    "PLANARITY_FRONTAL_DEG",
    "PLANARITY_MIN_YAW_RANGE",
    "PLANARITY_THRESHOLD",
    "PLANARITY_TURN_DEG",
    "SMILE_GAIN",
    "blink_smile_performed",
    "collect_image_cues",
    "enclosing_edges",
    "face_crop",
    "hex_rgb",
    "injection_replay",
    "lattice_peak",
    "planarity",
    "print_attack",
    "region_windows",
    "row_banding",
    "rppg",
    "screen_light_response",
    "screen_replay",
    "screen_tone",
    "sequence_checks",
    "spectral_peak",
    "tone_stats",
]
