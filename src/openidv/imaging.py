"""Turning untrusted image input into a validated RGB array.

Conventions used by every engine:

* an image is a ``numpy.ndarray`` of shape ``(H, W, 3)``, dtype ``uint8``, channel
  order RGB, origin top-left, x to the right, y down, units pixels;
* encoded input (JPEG, PNG, WebP, TIFF, BMP, ...) is decoded with Pillow, rotated
  upright according to its EXIF orientation, and converted from grayscale, palette,
  RGBA/LA (composited on white) or CMYK to RGB;
* the pixel count is checked from the header *before* the pixels are decoded, so a
  decompression bomb is refused without allocating it.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from openidv.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageTooLargeError,
    ImageTooSmallError,
    NotAnImageError,
    UnsupportedImageError,
)

#: Default largest accepted image, in pixels (width x height).
DEFAULT_MAX_PIXELS = 40_000_000
#: Smallest accepted side, in pixels. Nothing smaller can hold a usable face.
MIN_SIDE = 16

ImageInput = bytes | bytearray | memoryview | np.ndarray | Image.Image


def decode_image(data: bytes | bytearray | memoryview, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes into an upright RGB ``uint8`` array ``(H, W, 3)``.

    Raises a subclass of :class:`openidv.errors.ImageError` for empty, unknown,
    truncated, too large or too small input.
    """
    raw = bytes(data)
    if not raw:
        raise EmptyImageError("the image is empty (zero bytes)")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            opened = Image.open(io.BytesIO(raw))
        except Image.DecompressionBombError as exc:
            raise ImageTooLargeError(f"the image is too large: {exc}") from exc
        except Image.DecompressionBombWarning as exc:
            raise ImageTooLargeError(f"the image is too large: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise NotAnImageError("the data is not an image in a known format") from exc
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise CorruptImageError(f"the image header cannot be read: {exc}") from exc
        _check_size(opened.width, opened.height, max_pixels)
        try:
            opened.load()
            pil: Image.Image = ImageOps.exif_transpose(opened) or opened
        except Image.DecompressionBombWarning as exc:
            raise ImageTooLargeError(f"the image is too large: {exc}") from exc
        except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError, KeyError) as exc:
            # Pillow reports truncated or damaged data through several exception types.
            raise CorruptImageError(f"the image data is truncated or damaged: {exc}") from exc
    return pil_to_rgb(pil)


def image_size(data: bytes | bytearray | memoryview) -> tuple[int, int] | None:
    """``(width, height)`` in pixels from the header, without decoding; None when unreadable."""
    try:
        with Image.open(io.BytesIO(bytes(data))) as opened:
            return opened.width, opened.height
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        return None


def pil_to_rgb(pil: Image.Image) -> np.ndarray:
    """Convert any Pillow image mode to an RGB ``uint8`` array (alpha composited on white)."""
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(pil, dtype=np.float64)
        hi = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / hi if hi > 255.0 else 1.0
        gray = np.clip(arr * scale, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in pil.info):
        rgba = pil.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        pil = Image.alpha_composite(white, rgba)
    try:
        rgb = pil.convert("RGB")
    except (OSError, ValueError) as exc:
        raise UnsupportedImageError(f"image mode {mode!r} cannot be converted to RGB: {exc}") from exc
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))


def as_rgb(image: np.ndarray, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Validate an array image and return it as contiguous RGB ``uint8`` ``(H, W, 3)``.

    Accepts ``(H, W)`` grayscale, ``(H, W, 1)``, ``(H, W, 3)`` RGB and ``(H, W, 4)``
    RGBA (composited on white). ``uint8`` is taken as is; ``uint16`` is scaled by
    1/257; ``bool`` and floats in ``[0, 1]`` are scaled by 255.
    """
    if not isinstance(image, np.ndarray):
        raise UnsupportedImageError(f"expected a numpy array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise UnsupportedImageError(f"unsupported image shape {image.shape}; expected (H, W), (H, W, 3) or (H, W, 4)")
    if image.size == 0:
        raise EmptyImageError("the image array is empty")
    _check_size(image.shape[1], image.shape[0], max_pixels)
    arr = _to_uint8(image)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    elif arr.shape[2] == 4:
        alpha = arr[:, :, 3:4].astype(np.float32) / 255.0
        arr = (arr[:, :, :3].astype(np.float32) * alpha + 255.0 * (1.0 - alpha) + 0.5).astype(np.uint8)
    return np.ascontiguousarray(arr)


def load_rgb(image: ImageInput, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Accept bytes, a numpy array or a Pillow image; return validated RGB ``(H, W, 3)`` ``uint8``."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        return decode_image(image, max_pixels=max_pixels)
    if isinstance(image, Image.Image):
        _check_size(image.width, image.height, max_pixels)
        return pil_to_rgb(ImageOps.exif_transpose(image) or image)
    return as_rgb(image, max_pixels=max_pixels)


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of an RGB image, float32 ``(H, W)``, in the input's units (grey levels 0-255 for uint8)."""
    return np.asarray(np.asarray(rgb, dtype=np.float32)[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32))


def encode_jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    """Encode an RGB ``uint8`` array as JPEG bytes (used by generators and tests)."""
    buf = io.BytesIO()
    Image.fromarray(as_rgb(image)).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _to_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if image.dtype == np.uint16:
        return (image // 257).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise UnsupportedImageError("the float image holds NaN or infinite values")
        return np.asarray(np.clip(image, 0.0, 1.0) * 255.0 + 0.5, dtype=np.uint8)
    raise UnsupportedImageError(f"unsupported image dtype {image.dtype}; expected uint8, uint16, bool or float")


def _check_size(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"the image is {width}x{height} = {width * height / 1e6:.1f} megapixels; "
            f"the limit is {max_pixels / 1e6:.1f} megapixels"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageTooSmallError(f"the image is {width}x{height} pixels; each side must be at least {MIN_SIDE}")


# --------------------------------------------------------------------------- compact storage of decoded input

#: JPEG markers without a length field (restart markers and TEM)
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
#: JPEG marker segments a decoder needs: quantisation and Huffman tables, restart interval,
#: arithmetic-coding conditioning, and the frame headers (SOF0-SOF15 except DHT/JPG/DAC codes)
_NEEDED = frozenset({0xDB, 0xC4, 0xDD, 0xCC} | {m for m in range(0xC0, 0xD0) if m not in (0xC4, 0xC8, 0xCC)})


def _keep_segment(marker: int, payload: bytes) -> bool:
    """A segment the decoded pixels depend on: tables and headers, JFIF, Adobe (colour
    transform of CMYK/YCCK) and Exif (orientation)."""
    if marker in _NEEDED:
        return True
    if marker == 0xE0:
        return payload.startswith(b"JFIF\0")
    if marker == 0xEE:
        return payload.startswith(b"Adobe")
    return marker == 0xE1 and payload.startswith(b"Exif\0\0")


def _scan_end(raw: bytes, start: int) -> int:
    """Index of the marker that ends the entropy-coded data beginning at ``start`` (-1: none)."""
    j = start
    while True:
        j = raw.find(b"\xff", j)
        if j < 0 or j + 1 >= len(raw):
            return -1
        nxt = raw[j + 1]
        if nxt == 0xFF:  # fill byte before a marker
            j += 1
        elif nxt == 0x00 or 0xD0 <= nxt <= 0xD7:  # stuffed 0xFF or a restart marker
            j += 2
        else:
            return j


#: application segments that cameras, phones, scanners and editors write (a browser canvas writes none)
_METADATA = ((0xE1, b"Exif\0", "Exif"), (0xE1, b"http://ns.adobe.com/xap", "XMP"), (0xED, b"Photoshop", "Photoshop"))


def jpeg_metadata(raw: bytes) -> list[str] | None:
    """Names of the camera/editor metadata segments before the first scan of a JPEG (empty:
    none); None when ``raw`` is not a JPEG whose headers can be walked."""
    if not raw.startswith(b"\xff\xd8"):
        return None
    found: list[str] = []
    i, n = 2, len(raw)
    while i + 4 <= n and raw[i] == 0xFF:
        marker = raw[i + 1]
        if marker in (0xDA, 0xD9):
            return found
        length = int.from_bytes(raw[i + 2 : i + 4], "big")
        payload = raw[i + 4 : i + 2 + length]
        found += [name for m, prefix, name in _METADATA if m == marker and payload.startswith(prefix)]
        i += 2 + length
    return None


def strip_jpeg(raw: bytes) -> bytes | None:
    """The JPEG without comments, unknown application segments and bytes after the end
    marker: the same pixels in fewer bytes (a camera frame padded with COM segments
    shrinks to its image data). None when ``raw`` is not a well-formed JPEG.
    """
    if not raw.startswith(b"\xff\xd8"):
        return None
    out, i, n, have_exif = [b"\xff\xd8"], 2, len(raw), False
    while i < n:
        if raw[i] != 0xFF:
            return None
        while i < n and raw[i] == 0xFF:
            i += 1
        if i >= n:
            return None
        marker, i = raw[i], i + 1
        if marker == 0xD9:
            out.append(b"\xff\xd9")
            return b"".join(out)
        if marker in _STANDALONE:
            continue
        length = int.from_bytes(raw[i : i + 2], "big")
        if length < 2 or i + length > n:
            return None
        segment, end = raw[i : i + length], i + length
        if marker == 0xDA:  # start of scan: keep its header and its entropy-coded data
            j = _scan_end(raw, end)
            if j < 0:
                return None
            out.append(b"\xff\xda" + segment + raw[end:j])
            i = j
            continue
        if _keep_segment(marker, segment[2:]):
            if marker == 0xE1:
                if have_exif:
                    return None
                have_exif = True
            out.append(bytes((0xFF, marker)) + segment)
        i = end
    return None


def compact_encoding(raw: bytes, rgb: np.ndarray) -> bytes:
    """Bytes that decode to ``rgb`` (the upright decoding of ``raw``), without what the
    pixels do not need: a JPEG stripped by :func:`strip_jpeg`, anything else (or a JPEG
    that cannot be parsed) re-encoded losslessly as PNG from ``rgb``.
    """
    stripped = strip_jpeg(raw)
    if stripped is not None:
        return stripped
    buf = io.BytesIO()
    Image.fromarray(as_rgb(rgb)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()
