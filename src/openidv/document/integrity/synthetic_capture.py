"""Screenshot: a screen capture of rendered content uploaded instead of a camera photo."""

from __future__ import annotations

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.integrity.container import decode_stored, exif_tags, inconclusive, parse_container, valid_rgb
from openidv.document.types import check

#: Common screen and phone-screen sizes (width, height); either orientation counts.
SCREEN_DIMENSIONS: frozenset[tuple[int, int]] = frozenset(
    {
        (1920, 1080), (1366, 768), (1536, 864), (1440, 900), (1280, 720), (2560, 1440), (1600, 900), (1280, 800),
        (1680, 1050), (3840, 2160), (2880, 1800), (2560, 1600), (1920, 1200), (3024, 1964), (3456, 2234),
        (2736, 1824), (1280, 1024), (1024, 768), (1170, 2532), (1179, 2556), (1284, 2778), (1290, 2796),
        (1080, 2400), (1080, 2340), (1080, 1920), (750, 1334), (828, 1792), (1242, 2688), (720, 1600),
        (1125, 2436), (1440, 3200), (1440, 3120), (1080, 2280), (720, 1280), (2048, 2732), (1668, 2388),
    }
)  # fmt: skip
#: Share of the image in exactly uniform (unclipped) 16x16 tiles above which content is synthetic.
SCREENSHOT_FLAT_THRESHOLD = 0.15


def _flat_fraction(rgb: np.ndarray) -> float:
    """Share of 16x16 tiles whose pixels are all identical (all channels), not black or white clipped."""
    h, w = rgb.shape[0] // 16 * 16, rgb.shape[1] // 16 * 16
    if h == 0 or w == 0:
        return 0.0
    green = rgb[:h, :w, 1]
    col_max = green.reshape(h, w // 16, 16).max(axis=2).reshape(h // 16, 16, w // 16).max(axis=1)
    col_min = green.reshape(h, w // 16, 16).min(axis=2).reshape(h // 16, 16, w // 16).min(axis=1)
    flat = (col_max == col_min) & (col_max > 5) & (col_max < 250)
    for ty, tx in zip(*np.nonzero(flat), strict=True):  # confirm on all channels
        tile = rgb[ty * 16 : ty * 16 + 16, tx * 16 : tx * 16 + 16]
        if not (tile == tile[0, 0]).all():
            flat[ty, tx] = False
    return float(flat.mean())


def screenshot(data: bytes, rgb: np.ndarray | None = None) -> CheckResult:
    """Is the upload a screen capture (of a digital or edited document) rather than a camera photo?

    Physics: a camera image always carries sensor noise, so no unclipped 16x16 area is
    exactly uniform; a screen capture of rendered content has large exactly uniform
    areas (window, background, flat inks), perfectly sharp synthetic edges, no camera
    EXIF, and often a lossless format and the screen's exact size. Content decides:
    the share of exactly uniform tiles (:data:`SCREENSHOT_FLAT_THRESHOLD`). Browser
    canvas captures also lack EXIF, so missing EXIF alone never fails.

    * ``fail`` / ``screen_capture``: synthetic content, no camera EXIF, and a PNG/lossless
      file, a screen size, or a large uniform share (> 2x the threshold);
    * ``pass`` / ``camera_content``: no uniform tiles beyond 2% of the image;
    * ``inconclusive`` otherwise (``mixed_evidence``), or ``camera_exif_conflict`` when
      synthetic content comes with camera EXIF (could be a photo of a flat print).
    """
    name = "screenshot"
    if not data:
        return inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format == "unknown":
        return inconclusive(name, "unsupported_format", "not a known image container")
    arr = valid_rgb(rgb) if rgb is not None else decode_stored(bytes(data))
    if arr is None or min(arr.shape[:2]) < 64:
        return inconclusive(name, "unusable_image", "the image cannot be decoded or is smaller than 64 px")
    h, w = arr.shape[:2]
    camera_exif = any(tag in exif_tags(container) for tag in (0x010F, 0x0110, 0x9003, 0x829A))
    lossless = container.format in ("png", "bmp", "gif", "tiff")
    screen_size = (w, h) in SCREEN_DIMENSIONS or (h, w) in SCREEN_DIMENSIONS
    flat = _flat_fraction(arr)
    info: dict[str, object] = {
        "format": container.format,
        "camera_exif": camera_exif,
        "screen_size": screen_size,
        "uniform_share": round(flat, 4),
        "size": [w, h],
    }
    synthetic = flat >= SCREENSHOT_FLAT_THRESHOLD
    if synthetic and camera_exif:
        return inconclusive(name, "camera_exif_conflict", "synthetic-looking content with camera EXIF", **info)
    if synthetic and (lossless or screen_size or flat >= 2 * SCREENSHOT_FLAT_THRESHOLD):
        cues = [c for c, ok in (("lossless file", lossless), ("screen size", screen_size)) if ok]
        return check(
            name,
            Status.FAIL,
            "screen_capture",
            float(np.clip(0.4 - flat, 0.0, 0.4)),
            f"{flat:.0%} of the image is exactly uniform, no camera EXIF" + (f", {', '.join(cues)}" if cues else ""),
            **info,
        )
    if flat <= 0.02:
        return check(
            name, Status.PASS, "camera_content", 0.9 if camera_exif else 0.75, "sensor noise everywhere", **info
        )
    return inconclusive(name, "mixed_evidence", "some exactly uniform areas, but not enough to decide", **info)
