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
