"""What the uploaded file is, before any check: its container, its metadata, its stored pixels.

Parses JPEG segments (APPn, COM, DQT, SOF) and PNG chunks without decoding pixels,
reads EXIF, decodes the pixels as stored (no EXIF rotation: the JPEG block grid lives
there) and maps boxes found on the upright image back to them. Also the small helpers
every integrity check shares (a usable RGB array, an ``inconclusive`` result, the
document area). Coordinates: ``Box`` is ``(x, y, width, height)`` in pixels, origin
top-left, x right, y down.
"""

from __future__ import annotations

import io
import struct
import warnings
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, UnidentifiedImageError

from openidv.checks import CheckResult, Status
from openidv.document.types import check
from openidv.errors import ImageError
from openidv.imaging import as_rgb

Box = tuple[int, int, int, int]

#: JPEG zigzag scan order: position k of a DQT table is natural-order index ZIGZAG[k].
ZIGZAG = np.array(
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
        21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
        60, 61, 54, 47, 55, 62, 63,
    ]
)  # fmt: skip


@dataclass
class Container:
    """What the file's header says, parsed without decoding pixels."""

    format: str  #: "jpeg", "png", "webp", "gif", "tiff", "bmp", "heif" or "unknown"
    width: int = 0
    height: int = 0
    app_segments: list[tuple[int, bytes]] = field(default_factory=list)  #: JPEG (marker, payload)
    comments: list[bytes] = field(default_factory=list)  #: JPEG COM / PNG text chunks
    luma_table: np.ndarray | None = None  #: JPEG luminance quantisation table, natural order, (64,)
    progressive: bool = False
    damaged: bool = False


def parse_container(data: bytes) -> Container:
    """Identify the format and read JPEG APPn/COM/DQT/SOF segments or PNG text chunks (no pixel decode)."""
    if data.startswith(b"\xff\xd8"):
        return _parse_jpeg(data)
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _parse_png(data)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return Container("webp")
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return Container("gif")
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return Container("tiff")
    if data[:2] == b"BM":
        return Container("bmp")
    if data[4:8] == b"ftyp":
        return Container("heif")
    return Container("unknown")


def _parse_jpeg(data: bytes) -> Container:
    out = Container("jpeg")
    pos, n = 2, len(data)
    while pos + 4 <= n:
        if data[pos] != 0xFF:
            out.damaged = True
            break
        marker = data[pos + 1]
        if marker == 0xFF:
            pos += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        if marker == 0xD9:
            break
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if length < 2 or pos + 2 + length > n:
            out.damaged = True
            break
        payload = data[pos + 4 : pos + 2 + length]
        if 0xE0 <= marker <= 0xEF:
            out.app_segments.append((marker, payload))
        elif marker == 0xFE:
            out.comments.append(payload)
        elif marker == 0xDB:
            _read_dqt(payload, out)
        elif marker in (0xC0, 0xC1, 0xC2, 0xC3) and len(payload) >= 5:
            out.height, out.width = struct.unpack(">HH", payload[1:5])
            out.progressive = marker == 0xC2
        elif marker == 0xDA:
            break  # entropy-coded data follows; everything we need came before
        pos += 2 + length
    return out


def _read_dqt(payload: bytes, out: Container) -> None:
    i = 0
    while i < len(payload):
        precision, table_id = payload[i] >> 4, payload[i] & 0x0F
        size = 128 if precision else 64
        raw = payload[i + 1 : i + 1 + size]
        if len(raw) < size:
            out.damaged = True
            return
        values = np.frombuffer(raw, dtype=">u2" if precision else np.uint8).astype(np.float64)
        if table_id == 0:
            table = np.zeros(64)
            table[ZIGZAG] = values
            out.luma_table = table
        i += 1 + size


def _parse_png(data: bytes) -> Container:
    out = Container("png")
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR" and len(body) >= 8:
            out.width, out.height = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            out.comments.append(body.replace(b"\x00", b": ", 1))
        elif kind == b"iTXt":
            out.comments.append(body)
        elif kind == b"zTXt":
            key, _, rest = body.partition(b"\x00")
            try:
                out.comments.append(key + b": " + zlib.decompress(rest[1:], bufsize=65536)[:65536])
            except zlib.error:
                out.damaged = True
        elif kind == b"eXIf":
            out.app_segments.append((0xE1, b"Exif\x00\x00" + body))
        elif kind == b"IEND":
            break
        pos += 12 + length
    return out


def exif_tags(container: Container) -> dict[int, object]:
    """Tags of the first EXIF block (IFD0 plus the Exif sub-IFD), empty when absent or unreadable."""
    for marker, payload in container.app_segments:
        if marker == 0xE1 and payload.startswith(b"Exif\x00\x00"):
            exif = Image.Exif()
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    exif.load(payload)
                    tags: dict[int, object] = dict(exif.items())
                    tags.update(exif.get_ifd(0x8769))
            except (SyntaxError, ValueError, struct.error, KeyError, TypeError, OSError):
                return {}
            return tags
    return {}


def upright_box_to_stored(box: Box, orientation: int, stored_width: int, stored_height: int) -> Box:
    """Map a box on the EXIF-upright image back to the stored (as encoded) image.

    ``orientation`` is the EXIF Orientation tag (1-8); the stored image is
    ``stored_width`` x ``stored_height`` pixels.
    """
    x, y, w, h = box
    sw, sh = stored_width, stored_height
    corners = [(x, y), (x + w, y + h)]
    mapped = []
    for u, v in corners:
        if orientation == 2:
            p = (sw - u, v)
        elif orientation == 3:
            p = (sw - u, sh - v)
        elif orientation == 4:
            p = (u, sh - v)
        elif orientation == 5:
            p = (v, u)
        elif orientation == 6:
            p = (v, sh - u)
        elif orientation == 7:
            p = (sw - v, sh - u)
        elif orientation == 8:
            p = (sw - v, u)
        else:
            p = (u, v)
        mapped.append(p)
    x0, x1 = sorted((mapped[0][0], mapped[1][0]))
    y0, y1 = sorted((mapped[0][1], mapped[1][1]))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


def decode_stored(data: bytes) -> np.ndarray | None:
    """Pixels as stored (no EXIF rotation), RGB uint8; ``None`` when they cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                if im.width * im.height > 40_000_000:
                    return None
                return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombWarning):
        return None
    except (Image.DecompressionBombError, IndexError, TypeError, KeyError):
        return None


def valid_rgb(rgb: np.ndarray | None, min_side: int = 64) -> np.ndarray | None:
    """``rgb`` as an RGB ``uint8`` ``(H, W, 3)`` array; ``None`` when absent, invalid or under ``min_side`` px."""
    if rgb is None:
        return None
    try:
        arr = as_rgb(rgb)
    except ImageError:
        return None
    return arr if min(arr.shape[:2]) >= min_side else None


def inconclusive(name: str, reason: str, detail: str, **data: object) -> CheckResult:
    """An ``inconclusive`` result without a score: the input does not allow a decision."""
    return check(name, Status.INCONCLUSIVE, reason, None, detail, **data)


def document_area(rgb: np.ndarray, document: np.ndarray | None) -> np.ndarray:
    """The rectified document when given, else the central 60% of the photo (where the document usually is)."""
    doc = valid_rgb(document) if document is not None else None
    if doc is not None:
        return doc
    h, w = rgb.shape[:2]
    return rgb[int(0.2 * h) : int(0.8 * h), int(0.2 * w) : int(0.8 * w)]
