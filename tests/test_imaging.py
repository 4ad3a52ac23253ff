from __future__ import annotations

import contextlib
import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from openidv.errors import (
    CorruptImageError,
    EmptyImageError,
    ImageError,
    ImageTooLargeError,
    ImageTooSmallError,
    NotAnImageError,
    UnsupportedImageError,
)
from openidv.imaging import as_rgb, decode_image, load_rgb
from tests.conftest import encode


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares width x height, with one tiny compressed row of data."""

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")
    )


def test_zero_bytes() -> None:
    with pytest.raises(EmptyImageError):
        decode_image(b"")


def test_not_an_image() -> None:
    with pytest.raises(NotAnImageError):
        decode_image(b"%PDF-1.4 this is not an image at all" * 10)


def test_truncated_jpeg(astronaut: np.ndarray) -> None:
    data = encode(astronaut)
    with pytest.raises(CorruptImageError):
        decode_image(data[: len(data) // 2])


def test_over_pixel_limit_refused_before_decoding() -> None:
    # 8000 x 6000 = 48 MP declared; only a few bytes of data: refused from the header.
    with pytest.raises(ImageTooLargeError):
        decode_image(_png_header_only(8000, 6000))


def test_decompression_bomb_refused() -> None:
    with pytest.raises(ImageTooLargeError):
        decode_image(_png_header_only(60000, 60000))


def test_configured_pixel_limit(astronaut: np.ndarray) -> None:
    with pytest.raises(ImageTooLargeError):
        decode_image(encode(astronaut), max_pixels=100_000)
    assert decode_image(encode(astronaut), max_pixels=512 * 512).shape == (512, 512, 3)


def test_one_pixel_image() -> None:
    with pytest.raises(ImageTooSmallError):
        decode_image(encode(np.zeros((1, 1, 3), np.uint8), "PNG"))
    with pytest.raises(ImageTooSmallError):
        as_rgb(np.zeros((1, 1, 3), np.uint8))


def test_modes_become_rgb(astronaut: np.ndarray) -> None:
    pil = Image.fromarray(astronaut)
    for mode, fmt in (("L", "PNG"), ("RGBA", "PNG"), ("CMYK", "JPEG"), ("P", "PNG"), ("I;16", "PNG")):
        img = pil.convert("L").convert(mode) if mode == "I;16" else pil.convert(mode)
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        out = decode_image(buf.getvalue())
        assert out.shape == (512, 512, 3) and out.dtype == np.uint8, mode
        assert 60 < out.mean() < 200, mode


def test_exif_orientation_applied() -> None:
    arr = np.zeros((40, 80, 3), np.uint8)
    arr[:, :40] = 255  # left half white
    pil = Image.fromarray(arr)
    exif = pil.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", exif=exif.tobytes(), quality=95)
    out = decode_image(buf.getvalue())
    assert out.shape == (80, 40, 3)
    assert out[:40].mean() > 200 and out[40:].mean() < 50  # white half now on top


def test_array_inputs() -> None:
    gray = np.full((32, 32), 100, np.uint8)
    assert as_rgb(gray).shape == (32, 32, 3)
    rgba = np.zeros((32, 32, 4), np.uint8)
    assert as_rgb(rgba).mean() == 255  # fully transparent composites to white
    assert as_rgb(np.full((32, 32, 3), 0.5)).max() == 128
    assert as_rgb(np.full((32, 32), 65535, np.uint16)).max() == 255
    with pytest.raises(UnsupportedImageError):
        as_rgb(np.zeros((32, 32, 2), np.uint8))
    with pytest.raises(UnsupportedImageError):
        as_rgb(np.full((32, 32, 3), np.nan))
    with pytest.raises(UnsupportedImageError):
        load_rgb("not an image")  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_give_typed_error_or_image(data: bytes) -> None:
    try:
        out = decode_image(data)
    except ImageError:
        return
    assert out.ndim == 3 and out.shape[2] == 3


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=10, max_value=2000), st.integers(min_value=0, max_value=255))
def test_damaged_jpeg_never_escapes(cut: int, flip: int) -> None:
    rng = np.random.default_rng(cut)
    data = bytearray(encode(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)))
    data[min(cut, len(data) - 1)] ^= flip
    with contextlib.suppress(ImageError):
        decode_image(bytes(data[: max(cut, 20)]))


# ------------------------------------------------------------------------------ properties (issue 19)

_LOSSLESS = ["PNG", "BMP", "TIFF", "WEBP"]


def _save(img: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


@settings(max_examples=40, deadline=None)
@given(
    fmt=st.sampled_from(_LOSSLESS),
    gray=st.booleans(),
    width=st.integers(16, 48),
    height=st.integers(16, 48),
    seed=st.integers(0, 2**32 - 1),
)
def test_lossless_formats_round_trip(fmt: str, gray: bool, width: int, height: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (height, width) if gray else (height, width, 3), dtype=np.uint8)
    out = decode_image(_save(Image.fromarray(pixels), fmt))
    expected = np.repeat(pixels[:, :, None], 3, axis=2) if gray else pixels
    assert out.dtype == np.uint8 and out.shape == (height, width, 3)
    assert np.array_equal(out, expected)


@settings(max_examples=80, deadline=None)
@given(
    fmt=st.sampled_from([*_LOSSLESS, "GIF", "JPEG"]),
    cut=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0), st.integers(1, 255)), max_size=4),
)
def test_damaged_files_of_every_format_give_typed_errors(fmt: str, cut: float, flips: list[tuple[float, int]]) -> None:
    """Truncated and bit-flipped files: an RGB image or an ImageError, never another exception."""
    data = bytearray(_save(Image.fromarray(np.random.default_rng(1).integers(0, 256, (32, 32, 3), np.uint8)), fmt))
    for where, mask in flips:
        data[min(int(where * len(data)), len(data) - 1)] ^= mask
    damaged = bytes(data[: int(cut * len(data))])
    try:
        out = decode_image(damaged)
    except ImageError as exc:
        assert exc.code in {"empty_image", "not_an_image", "corrupt_image", "image_too_large", "image_too_small"}
        return
    assert out.ndim == 3 and out.shape[2] == 3 and out.dtype == np.uint8


@settings(max_examples=80, deadline=None)
@given(
    shape=st.lists(st.integers(0, 40), min_size=1, max_size=4),
    dtype=st.sampled_from([np.uint8, np.uint16, np.float32, np.float64, np.int32, np.bool_]),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_array_gives_rgb_or_typed_error(shape: list[int], dtype: type, seed: int) -> None:
    rng = np.random.default_rng(seed)
    array = (rng.random(shape) * 300).astype(dtype)
    try:
        out = as_rgb(array)
    except ImageError:
        return
    assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[:2] == tuple(shape[:2]) and out.shape[2] == 3
