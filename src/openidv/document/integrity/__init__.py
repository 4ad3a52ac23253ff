"""Image-integrity (forgery) checks for photographed identity documents.

Each check is a pure function (bytes and/or arrays in, :class:`openidv.checks.CheckResult`
out), documents the physics it relies on and its thresholds, and returns
``inconclusive`` when its input does not allow a decision. Scores are in ``[0, 1]``,
higher = more genuine.

Conventions: ``data`` is the uploaded file exactly as received (JPEG, PNG, ...);
``rgb`` is an RGB ``uint8`` ``(H, W, 3)`` array, origin top-left, x right, y down.
``regions`` maps a region name (``"portrait"``, ``"birth_date"``, ...) to an
axis-aligned box ``(x, y, width, height)`` in pixels of the *stored* image, i.e. the
JPEG as decoded **without** applying its EXIF orientation (the JPEG block grid lives
there); :func:`upright_box_to_stored` converts boxes found on the upright image.

Thresholds were calibrated on generated genuine card photos against generated
manipulations (see :mod:`openidv.synth.tamper`). Measured (fixed seeds; genuine
N=200: tilt 0-30 deg, blur 0.5-1.5, noise 2-6, camera JPEG 40-95, browser re-encode
85-92 for half; N=100 per manipulation, final encode 85-92):

==========================  =========================  ==================================
check                       false alarms (genuine)     detection (its manipulation)
==========================  =========================  ==================================
editing_software            0/200 (all inconclusive)   100/100 EXIF Software "Photoshop"
compression_consistency     0/200 (+1/100 other set)   text patch 92%, portrait swap 81%
                                                       (both 99% when camera q < 80)
copy_move                   1/200                      97% (a date copied over another)
screen_recapture            0/200                      79%
photocopy                   0/200                      100%
screenshot                  0/200                      100% (PNG of a rendered card)
==========================  =========================  ==================================

These are *generated* genuine documents; on 36 real passport/ID scans (web
specimens) the screen and photocopy checks fired on pale or halftone-printed pages,
so treat them as review signals until calibrated on real captures.

One module per check family, each a pure function of the upload:

==========================  =============================================================
module                      check
==========================  =============================================================
``container``               file format, metadata, stored pixels; helpers all checks share
``editing_metadata``        :func:`editing_software_metadata` (editor named in metadata)
``jpeg_lattice``            quantisation-lattice statistics behind compression consistency
``compression``             :func:`error_level_consistency` (JPEG ghost, noise, shifted grid)
``duplication``             :func:`copy_move` (a region cloned within the image)
``screen_moire``            :func:`screen_recapture` (photo of a screen)
``colour``                  :func:`photocopy` (black-and-white copy)
``synthetic_capture``       :func:`screenshot` (screen capture of rendered content)
``specimen_values``         :func:`specimen` (published specimens, placeholder values)
``suite``                   :func:`integrity_checks`: all of them on one upload
==========================  =============================================================
"""

from __future__ import annotations

from openidv.document.integrity.colour import PHOTOCOPY_CHROMA_FAIL, PHOTOCOPY_CHROMA_PASS, photocopy
from openidv.document.integrity.compression import (
    GHOST_PRIOR_MAX,
    GHOST_THRESHOLD,
    GHOST_TILE_MIN_DENSITY,
    GHOST_TILE_THRESHOLD,
    NOISE_MIN_LEVEL,
    NOISE_MIN_PEERS,
    NOISE_RATIO_THRESHOLD,
    NOISE_UNPAIRED_REGIONS,
    SHIFTED_GRID_REGIONS,
    RegionEvidence,
    error_level_consistency,
)
from openidv.document.integrity.container import Box, Container, decode_stored, parse_container, upright_box_to_stored
from openidv.document.integrity.duplication import (
    COPY_DIFF_BASE,
    COPY_DIFF_RELATIVE,
    COPY_FEATURES,
    COPY_MIN_AREA,
    COPY_MIN_TEXTURE,
    COPY_PERIODIC_CORRELATION,
    copy_move,
)
from openidv.document.integrity.editing_metadata import EDITORS, editing_software_metadata
from openidv.document.integrity.jpeg_lattice import (
    SHIFTED_GRID_HALF_THRESHOLD,
    SHIFTED_GRID_MIN_SIDE,
    SHIFTED_GRID_THRESHOLD,
    ShiftedGrid,
    ijg_table,
    shifted_grid_lattice,
)
from openidv.document.integrity.screen_moire import (
    SCREEN_CHROMA_PEAK_THRESHOLD,
    SCREEN_MAX_TILES,
    SCREEN_MIN_OUTSIDE_TILES,
    SCREEN_MIN_TILES,
    SCREEN_NOISE_PROMINENCE,
    SCREEN_OUTSIDE_MARGIN,
    SCREEN_PEAK_THRESHOLD,
    SCREEN_SHARED_RADIUS,
    SCREEN_SHARED_THRESHOLD,
    SCREEN_SQUARE_DEGREES,
    SCREEN_SQUARE_FLOOR,
    SCREEN_SQUARE_LENGTH,
    SCREEN_SQUARE_MIN_RADIUS,
    SCREEN_SQUARE_THRESHOLD,
    SCREEN_SUBPIXEL_DOMINANCE,
    SCREEN_SUBPIXEL_SHARE,
    SCREEN_SUBPIXEL_THRESHOLD,
    screen_recapture,
)
from openidv.document.integrity.specimen_values import SPECIMEN_NUMBERS, specimen
from openidv.document.integrity.suite import integrity_checks
from openidv.document.integrity.synthetic_capture import SCREEN_DIMENSIONS, SCREENSHOT_FLAT_THRESHOLD, screenshot

__all__ = [
    "COPY_DIFF_BASE",
    "COPY_DIFF_RELATIVE",
    "COPY_FEATURES",
    "COPY_MIN_AREA",
    "COPY_MIN_TEXTURE",
    "COPY_PERIODIC_CORRELATION",
    "EDITORS",
    "GHOST_PRIOR_MAX",
    "GHOST_THRESHOLD",
    "GHOST_TILE_MIN_DENSITY",
    "GHOST_TILE_THRESHOLD",
    "NOISE_MIN_LEVEL",
    "NOISE_MIN_PEERS",
    "NOISE_RATIO_THRESHOLD",
    "NOISE_UNPAIRED_REGIONS",
    "PHOTOCOPY_CHROMA_FAIL",
    "PHOTOCOPY_CHROMA_PASS",
    "SCREENSHOT_FLAT_THRESHOLD",
    "SCREEN_CHROMA_PEAK_THRESHOLD",
    "SCREEN_DIMENSIONS",
    "SCREEN_MAX_TILES",
    "SCREEN_MIN_OUTSIDE_TILES",
    "SCREEN_MIN_TILES",
    "SCREEN_NOISE_PROMINENCE",
    "SCREEN_OUTSIDE_MARGIN",
    "SCREEN_PEAK_THRESHOLD",
    "SCREEN_SHARED_RADIUS",
    "SCREEN_SHARED_THRESHOLD",
    "SCREEN_SQUARE_DEGREES",
    "SCREEN_SQUARE_FLOOR",
    "SCREEN_SQUARE_LENGTH",
    "SCREEN_SQUARE_MIN_RADIUS",
    "SCREEN_SQUARE_THRESHOLD",
    "SCREEN_SUBPIXEL_DOMINANCE",
    "SCREEN_SUBPIXEL_SHARE",
    "SCREEN_SUBPIXEL_THRESHOLD",
    "SHIFTED_GRID_HALF_THRESHOLD",
    "SHIFTED_GRID_MIN_SIDE",
    "SHIFTED_GRID_REGIONS",
    "SHIFTED_GRID_THRESHOLD",
    "SPECIMEN_NUMBERS",
    "Box",
    "Container",
    "RegionEvidence",
    "ShiftedGrid",
    "copy_move",
    "decode_stored",
    "editing_software_metadata",
    "error_level_consistency",
    "ijg_table",
    "integrity_checks",
    "parse_container",
    "photocopy",
    "screen_recapture",
    "screenshot",
    "shifted_grid_lattice",
    "specimen",
    "upright_box_to_stored",
]
