"""Every integrity check on one upload, in the order the report lists them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from openidv.checks import CheckResult
from openidv.document.integrity.colour import photocopy
from openidv.document.integrity.compression import error_level_consistency
from openidv.document.integrity.container import Box, decode_stored, inconclusive
from openidv.document.integrity.duplication import copy_move
from openidv.document.integrity.editing_metadata import editing_software_metadata
from openidv.document.integrity.screen_moire import screen_recapture
from openidv.document.integrity.specimen_values import specimen
from openidv.document.integrity.synthetic_capture import screenshot
from openidv.document.types import FieldValue


def integrity_checks(
    data: bytes,
    rgb: np.ndarray | None = None,
    *,
    regions: Mapping[str, Box] | None = None,
    document: np.ndarray | None = None,
    fields: Sequence[FieldValue] | None = None,
    outline: np.ndarray | None = None,
) -> list[CheckResult]:
    """Run every integrity check on one upload.

    ``data``: the file as uploaded; ``rgb``: its pixels as stored (decoded here when
    ``None``); ``regions``: portrait/text boxes in stored-image pixels; ``document``:
    the rectified document, RGB; ``fields``: the fields read from it (specimen check,
    skipped when ``None``); ``outline``: the document's corners (4, 2) in stored-image
    pixels (the screen check looks inside it).
    """
    pixels = rgb if rgb is not None else decode_stored(bytes(data)) if data else None
    results = [editing_software_metadata(data), error_level_consistency(data, regions, rgb=pixels)]
    if pixels is None:
        for check_name in ("copy_move", "screen_recapture", "photocopy"):
            results.append(inconclusive(check_name, "unusable_image", "the image cannot be decoded"))
    else:
        results += [copy_move(pixels), screen_recapture(pixels, document, outline=outline), photocopy(pixels, document)]
    results.append(screenshot(data, pixels))
    if fields is not None:
        results.append(specimen(fields))
    return results
