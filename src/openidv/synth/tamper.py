"""Manipulated document photos, made the way a forger would, for tests and the forgery evaluation.

Every manipulation starts from a *genuine* camera photo of a document (RGB ``uint8``
``(H, W, 3)``, origin top-left, x right, y down, pixels), for example
:func:`genuine_sample` (a :func:`openidv.synth.document.render_id_front` card
photographed by :func:`openidv.synth.document.photograph`), and ends with the JPEG
encode a browser does before upload (``canvas.toBlob("image/jpeg", 0.85-0.92)``): the
functions return the uploaded **bytes**. Boxes are ``(x, y, width, height)`` in pixels
of the image they refer to.

All randomness comes from the ``numpy.random.Generator`` passed in; a seed reproduces
a manipulation exactly. Nothing here reads or writes files.
"""

from __future__ import annotations

import copy
import io
import struct
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from openidv.imaging import as_rgb
from openidv.synth import document as synth

Box = tuple[int, int, int, int]

#: Canonical field name of each value row that ``synth.render_id_front`` prints, top to bottom.
CARD_ROWS: tuple[str, ...] = (
    "document_number",
    "family_name",
    "given_names",
    "birth_date",
    "expiry_date",
    "issue_date",
)

#: Screen sizes (width, height) used for simulated screenshots.
SCREEN_SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1366, 768), (1536, 864), (2560, 1440), (1440, 900))


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """Baseline JPEG, 4:2:0 chroma subsampling, IJG tables scaled to ``quality`` (as browsers write), no EXIF."""
    buf = io.BytesIO()
    Image.fromarray(as_rgb(image)).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def decode(data: bytes) -> np.ndarray:
    """Decode bytes to RGB ``uint8`` without EXIF rotation (the JPEG grid stays where it was)."""
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


def _jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    return decode(encode_jpeg(image, quality))


# --------------------------------------------------------------------------- genuine samples


@dataclass(frozen=True)
class GenuineSample:
    """A genuine camera photo of a generated card, as the service would receive it."""

    card: np.ndarray = field(repr=False)  #: the rendered card, RGB (638, 1011, 3)
    photo: np.ndarray = field(repr=False)  #: the camera photo (decoded camera JPEG), RGB
    data: bytes = field(repr=False)  #: the uploaded bytes (camera JPEG, or the browser's re-encode)
    rgb: np.ndarray = field(repr=False)  #: ``data`` decoded
    camera_quality: int
    browser_quality: int | None  #: ``None`` when the camera JPEG is uploaded as is
    tilt_deg: float
    blur_sigma: float
    noise_sigma: float
    #: Axis-aligned boxes (x, y, w, h) in photo pixels: ``"portrait"`` and each value row of :data:`CARD_ROWS`.
    regions: dict[str, Box]
    #: Where each region's quadrilateral lies in the photo (bool masks, photo size).
    masks: dict[str, np.ndarray] = field(repr=False)


def card_regions(fields: synth.CardFields | None = None) -> dict[str, Box]:
    """The portrait box and the value-text boxes of a ``synth.render_id_front`` card, in card pixels."""
    fields = fields or synth.CardFields()
    font = ImageFont.load_default(size=30)
    values = (
        fields.number,
        fields.family_name,
        fields.given_names,
        fields.birth_date,
        fields.expiry_date,
        fields.issue_date,
    )
    out: dict[str, Box] = {"portrait": synth.PORTRAIT_BOX}
    for i, (name, value) in enumerate(zip(CARD_ROWS, values, strict=True)):
        ty = 150 + 55 * i - 4
        left, top, right, bottom = font.getbbox(value)
        out[name] = (470 + int(left) - 3, ty + int(top) - 3, int(right - left) + 6, int(bottom - top) + 6)
    return out


def genuine_sample(
    portrait: np.ndarray,
    rng: np.random.Generator,
    fields: synth.CardFields | None = None,
    *,
    max_tilt_deg: float = 30.0,
    blur: tuple[float, float] = (0.5, 1.5),
    noise: tuple[float, float] = (2.0, 6.0),
    camera_quality: tuple[int, int] = (40, 95),
    browser_reencode_probability: float = 0.5,
    browser_quality: tuple[int, int] = (85, 92),
) -> GenuineSample:
    """Render a card, photograph it under random camera conditions and locate its regions in the photo.

    Camera conditions are drawn uniformly from the given ranges (tilt up to
    ``max_tilt_deg``, Gaussian blur sigma in px, noise sigma in grey levels, JPEG
    quality); with ``browser_reencode_probability`` the camera JPEG is decoded and
    re-encoded at a browser quality. The regions are found by photographing, with a
    copy of the generator, a label card (each region painted in its own colour): the
    geometry that ``photograph`` draws does not depend on the card's content.
    """
    fields = fields or synth.CardFields(
        family_name="RIVERA", given_names="DANA LEE", number="T4802957", birth_date="03/22/1988"
    )
    card = synth.render_id_front(portrait, rng, fields)
    blur_sigma = float(rng.uniform(*blur))
    noise_sigma = float(rng.uniform(*noise))
    q1 = int(rng.integers(camera_quality[0], camera_quality[1] + 1))
    tilt = float(rng.uniform(0.0, max_tilt_deg))
    reencode = bool(rng.random() < browser_reencode_probability)
    q2 = int(rng.integers(browser_quality[0], browser_quality[1] + 1)) if reencode else None

    boxes = card_regions(fields)
    label_card = np.zeros_like(card)
    codes: dict[str, tuple[int, int, int]] = {}
    for i, (name, (x, y, w, h)) in enumerate(boxes.items(), start=1):
        code = ((i >> 0) & 1, (i >> 1) & 1, (i >> 2) & 1)
        codes[name] = code
        label_card[y : y + h, x : x + w] = np.array(code, dtype=np.uint8) * 255
    geometry_rng = copy.deepcopy(rng)
    photo = synth.photograph(
        card, rng, max_tilt_deg=tilt, blur_sigma=blur_sigma, noise_sigma=noise_sigma, jpeg_quality=q1, fit_inside=True
    )
    labels = synth.photograph(
        label_card, geometry_rng, max_tilt_deg=tilt, blur_sigma=0, noise_sigma=0, jpeg_quality=100, fit_inside=True
    )
    bits = labels > 200
    regions: dict[str, Box] = {}
    masks: dict[str, np.ndarray] = {}
    kernel = np.ones((3, 3), np.uint8)
    for name, code in codes.items():
        m = np.all(bits == np.array(code, dtype=bool), axis=2) & np.any(bits, axis=2)
        m = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, kernel).astype(bool)
        ys, xs = np.nonzero(m)
        if ys.size == 0:
            continue
        masks[name] = m
        regions[name] = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    data = encode_jpeg(photo, q2 if q2 is not None else q1)
    return GenuineSample(
        card=card,
        photo=photo,
        data=data,
        rgb=decode(data),
        camera_quality=q1,
        browser_quality=q2,
        tilt_deg=tilt,
        blur_sigma=blur_sigma,
        noise_sigma=noise_sigma,
        regions=regions,
        masks=masks,
    )


# --------------------------------------------------------------------------- local edits


def paste_patch(
    image: np.ndarray,
    box: Box,
    patch: np.ndarray,
    rng: np.random.Generator,
    patch_quality: int,
    *,
    quality: int = 90,
    mask: np.ndarray | None = None,
) -> bytes:
    """Replace ``box`` of ``image`` by ``patch`` that has its own JPEG history, then encode at ``quality``.

    The patch is resized to the box (area interpolation), JPEG-compressed at
    ``patch_quality`` on a block grid that is *not* aligned with the image's 8x8 grid
    at the paste position (as when the patch was cut from another JPEG), and pasted;
    ``mask`` (bool, ``(h, w)`` of the box, or the image's size) limits the paste to a
    shape such as the tilted portrait quadrilateral. Returns the final JPEG bytes.
    """
    rgb = as_rgb(image).copy()
    x, y, w, h = _clip_box(box, rgb.shape)
    piece = cv2.resize(as_rgb(patch), (w, h), interpolation=cv2.INTER_AREA)
    # The patch's own grid origin, in image coordinates, is (x - ox, y - oy); keep it off the 8-grid.
    ox = int(rng.choice([v for v in range(1, 8) if (x - v) % 8 != 0] or [3]))
    oy = int(rng.choice([v for v in range(1, 8) if (y - v) % 8 != 0] or [5]))
    padded = cv2.copyMakeBorder(piece, oy, 8, ox, 8, cv2.BORDER_REFLECT)
    piece = _jpeg_roundtrip(padded, patch_quality)[oy : oy + h, ox : ox + w]
    region = rgb[y : y + h, x : x + w]
    if mask is not None:
        m = mask[y : y + h, x : x + w] if mask.shape[:2] == rgb.shape[:2] else mask
        region[m.astype(bool)] = piece[m.astype(bool)]
    else:
        region[...] = piece
    return encode_jpeg(rgb, quality)


def retyped_text_patch(
    image: np.ndarray,
    box: Box,
    text: str,
    rng: np.random.Generator,
    *,
    blur_sigma: float = 0.6,
) -> np.ndarray:
    """A forger's re-typed field: ``text`` in dark ink on the box's background colour, box-sized, RGB.

    The background is the brightest-quartile median colour of the box (the card
    background around the glyphs); the text height follows the box height; a light
    Gaussian blur (``blur_sigma`` px) imitates an attempt to match the photo's softness.
    """
    rgb = as_rgb(image)
    x, y, w, h = _clip_box(box, rgb.shape)
    region = rgb[y : y + h, x : x + w].reshape(-1, 3).astype(np.float32)
    luma = region @ np.array([0.299, 0.587, 0.114], np.float32)
    background = np.median(region[luma >= np.percentile(luma, 75)], axis=0)
    pil = Image.new("RGB", (w, h), tuple(int(v) for v in background))
    draw = ImageDraw.Draw(pil)
    size = max(8, int(min(h * 0.8, 1.6 * w / max(1, len(text)))))
    font = ImageFont.load_default(size=size)
    left, top, right, bottom = font.getbbox(text)
    ink = tuple(int(v) for v in rng.uniform(10, 40, size=3))
    draw.text(((w - (right - left)) / 2 - left, (h - (bottom - top)) / 2 - top), text, font=font, fill=ink)
    out = np.asarray(pil, dtype=np.uint8)
    if blur_sigma > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), blur_sigma), dtype=np.uint8)
    return np.ascontiguousarray(out)


def copy_move(image: np.ndarray, src_box: Box, dst_xy: tuple[int, int], *, quality: int = 90) -> bytes:
    """Duplicate ``src_box`` of ``image`` at top-left ``dst_xy`` (clone stamp, translation), JPEG at ``quality``."""
    rgb = as_rgb(image).copy()
    x, y, w, h = _clip_box(src_box, rgb.shape)
    dx, dy = int(dst_xy[0]), int(dst_xy[1])
    w = min(w, rgb.shape[1] - dx)
    h = min(h, rgb.shape[0] - dy)
    if w <= 0 or h <= 0 or dx < 0 or dy < 0:
        raise ValueError("the destination lies outside the image")
    rgb[dy : dy + h, dx : dx + w] = as_rgb(image)[y : y + h, x : x + w]
    return encode_jpeg(rgb, quality)


# --------------------------------------------------------------------------- whole-image attacks


def screen_recapture(image: np.ndarray, rng: np.random.Generator, *, quality: int | None = None) -> bytes:
    """The image shown on a phone/monitor and photographed with a camera.

    Physics simulated: the picture is resampled to the screen's pixel grid, passed
    through the display's gamma and colour gamut (saturation, white point), drawn as
    R, G, B sub-pixel stripes with a dark matrix between pixel rows, seen through the
    camera's optics (blur below the lattice pitch, so the lattice aliases into moire),
    slightly rotated and skewed, framed by a dark bezel, with a soft reflection, sensor
    noise and the phone's JPEG (``quality``, default 80-92).
    """
    rgb = as_rgb(image)
    fh, fw = rgb.shape[:2]
    pitch = float(rng.uniform(1.3, 3.2))  # camera pixels per screen pixel
    fill = float(rng.uniform(0.82, 0.95))
    sw, sh = max(8, round(fw * fill / pitch)), max(8, round(fh * fill / pitch))
    screen = cv2.resize(rgb, (sw, sh), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    gamma = float(rng.uniform(0.75, 1.3))
    screen = screen**gamma
    sat = float(rng.uniform(-0.3, 0.1))
    grey = screen.mean(axis=2, keepdims=True)
    screen = np.clip((1 - sat) * screen + sat * grey, 0, 1) * rng.uniform(0.88, 1.05, size=3).astype(np.float32)
    k = 3
    canvas = np.zeros((sh * k, sw * k, 3), np.float32)
    for c in range(3):
        canvas[:, c::k, c] = np.repeat(screen[:, :, c], k, axis=0)
    canvas[k - 1 :: k] *= 0.25  # black matrix between pixel rows
    canvas = np.clip(canvas * 255.0, 0, 255).astype(np.uint8)
    # Optics: blur a little less than one camera pixel, expressed in canvas pixels, then sample (aliasing).
    per_cam = k / pitch
    canvas = cv2.GaussianBlur(canvas, (0, 0), max(0.3, float(rng.uniform(0.35, 0.6)) * per_cam))
    ch, cw = canvas.shape[:2]
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    angle = np.deg2rad(rng.uniform(-6, 6))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centred = (src - [cw / 2, ch / 2]) / per_cam
    skew = rng.uniform(-0.03, 0.03, size=(4, 2)) * [sw * pitch, sh * pitch]
    dst = (centred @ rot.T + skew + [fw / 2, fh / 2]).astype(np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst)
    bezel = np.full((fh, fw, 3), rng.uniform(8, 30), np.float32)
    warped = cv2.warpPerspective(canvas, matrix, (fw, fh), flags=cv2.INTER_LINEAR).astype(np.float32)
    inside = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), matrix, (fw, fh)) > 127
    out = np.where(inside[..., None], warped * float(rng.uniform(1.0, 1.25)), bezel).astype(np.float32)
    yy, xx = np.mgrid[0:fh, 0:fw].astype(np.float32)
    cx, cy, r = rng.uniform(0, fw), rng.uniform(0, fh), rng.uniform(0.15, 0.5) * fw
    out += float(rng.uniform(0.05, 0.25)) * 255.0 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))[..., None]
    out = np.asarray(cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.4, 0.9))), dtype=np.float32)
    out += rng.normal(0, rng.uniform(2, 5), out.shape)
    q = int(quality if quality is not None else rng.integers(80, 93))
    return encode_jpeg(np.clip(out, 0, 255).astype(np.uint8), q)


def photocopy(image: np.ndarray, rng: np.random.Generator, *, quality: int | None = None) -> bytes:
    """A black-and-white photocopy of the document, photographed or scanned and uploaded as JPEG.

    Grey levels only (toner), a steep tone curve (paper white, toner black), toner
    speckle and noise, a little blur, then a mild colour cast from the light it was
    photographed under, and JPEG at ``quality`` (default 80-92).
    """
    rgb = as_rgb(image).astype(np.float32)
    luma = rgb @ np.array([0.299, 0.587, 0.114], np.float32)
    centre, slope = float(rng.uniform(110, 160)), float(rng.uniform(0.035, 0.07))
    toned = 255.0 / (1.0 + np.exp(-slope * (luma - centre)))
    speckle = rng.random(luma.shape) < rng.uniform(0.001, 0.005)
    toned[speckle] *= 0.2
    toned = cv2.GaussianBlur(toned, (0, 0), float(rng.uniform(0.5, 1.0))) + rng.normal(0, rng.uniform(3, 8), luma.shape)
    cast = rng.uniform(0.94, 1.04, size=3).astype(np.float32)
    out = np.clip(toned[..., None] * cast, 0, 255).astype(np.uint8)
    q = int(quality if quality is not None else rng.integers(80, 93))
    return encode_jpeg(out, q)


def screenshot(image: np.ndarray, *, screen: tuple[int, int] = (1920, 1080), fmt: str = "PNG") -> bytes:
    """A screen capture of ``image`` shown in a viewer: screen-sized, no camera EXIF, PNG (or JPEG q90).

    For the usual attack pass the *digital* document (for example the rendered card,
    not its photo): the capture then has perfectly sharp synthetic edges and no sensor
    noise. The viewer is a flat dark window with a lighter title bar; the image is
    scaled (area interpolation) to fit 90% of the screen and centred.
    """
    rgb = as_rgb(image)
    sw, sh = screen
    canvas = np.full((sh, sw, 3), (32, 33, 36), np.uint8)
    canvas[: max(1, sh // 27)] = (222, 225, 230)
    scale = min(0.9 * sw / rgb.shape[1], 0.9 * (sh - sh // 27) / rgb.shape[0])
    nw, nh = max(1, int(rgb.shape[1] * scale)), max(1, int(rgb.shape[0] * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    shown = cv2.resize(rgb, (nw, nh), interpolation=interp)
    x0, y0 = (sw - nw) // 2, sh // 27 + (sh - sh // 27 - nh) // 2
    canvas[y0 : y0 + nh, x0 : x0 + nw] = shown
    buf = io.BytesIO()
    if fmt.upper() == "PNG":
        Image.fromarray(canvas).save(buf, format="PNG")
    elif fmt.upper() in ("JPEG", "JPG"):
        Image.fromarray(canvas).save(buf, format="JPEG", quality=90)
    else:
        raise ValueError(f"unsupported screenshot format {fmt!r}")
    return buf.getvalue()


def with_editing_metadata(jpeg_bytes: bytes, software: str) -> bytes:
    """The same JPEG with its EXIF ``Software`` tag (0x0131) set to ``software``, pixels untouched."""
    return with_exif_tags(jpeg_bytes, {0x0131: software})


def with_exif_tags(jpeg_bytes: bytes, tags: dict[int, str]) -> bytes:
    """The same JPEG with IFD0 EXIF ``tags`` (tag number -> text) set, pixels untouched.

    Existing EXIF tags are kept; the APP1 Exif segment is replaced (or inserted after
    SOI and any APP0). Raises ``ValueError`` when the data is not a JPEG. Used to give
    generated photos a phone's ``Make``/``Model`` (0x010F/0x0110) or an editor's name.
    """
    if not jpeg_bytes.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    with Image.open(io.BytesIO(jpeg_bytes)) as im:
        exif = im.getexif()
    for tag, value in tags.items():
        exif[tag] = value
    payload = exif.tobytes()
    if not payload.startswith(b"Exif\x00\x00"):
        payload = b"Exif\x00\x00" + payload
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    pos, insert_at, parts = 2, 1, [jpeg_bytes[:2]]
    while pos + 4 <= len(jpeg_bytes) and jpeg_bytes[pos] == 0xFF:
        marker = jpeg_bytes[pos + 1]
        if not 0xE0 <= marker <= 0xEF:
            break
        length = struct.unpack(">H", jpeg_bytes[pos + 2 : pos + 4])[0]
        seg = jpeg_bytes[pos : pos + 2 + length]
        if not (marker == 0xE1 and seg[4:10] == b"Exif\x00\x00"):  # an old Exif segment is dropped
            parts.append(seg)
            if marker == 0xE0:
                insert_at = len(parts)
        pos += 2 + length
    parts.insert(insert_at, segment)
    return b"".join(parts) + jpeg_bytes[pos:]


def _clip_box(box: Box, shape: tuple[int, ...]) -> Box:
    x, y, w, h = (int(v) for v in box)
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(shape[1], x + w), min(shape[0], y + h)
    if x1 <= x0 or y1 <= y0:
        raise ValueError(f"box {box} lies outside the image {shape[1]}x{shape[0]}")
    return x0, y0, x1 - x0, y1 - y0
