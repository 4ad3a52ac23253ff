"""Synthetic identity documents and camera simulation, for tests and evaluation.

Cards are rendered at 300 dpi in the ID-1 format (85.60 x 53.98 mm -> 1011 x 638 px),
RGB ``uint8``. Portraits must be real photographs (for example scikit-image's
astronaut, or the shared face photos): the generator only places and prints them.
All randomness comes from the ``numpy.random.Generator`` passed in, so a seed
reproduces a document exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from openidv.imaging import as_rgb

DPI = 300
ID1_MM = (85.60, 53.98)
ID1_PX = (round(ID1_MM[0] / 25.4 * DPI), round(ID1_MM[1] / 25.4 * DPI))  # (1011, 638)
#: Portrait box on the card: x, y, width, height in pixels (about 24 x 30 mm).
PORTRAIT_BOX = (40, 150, 285, 355)
TD3_MM = (125.0, 88.0)
TD3_PX = (round(TD3_MM[0] / 25.4 * DPI), round(TD3_MM[1] / 25.4 * DPI))  # (1476, 1039)
#: Portrait box on a passport data page: x, y, width, height in pixels (35 x 45 mm).
PASSPORT_PORTRAIT_BOX = (60, 250, 413, 531)
#: MRZ character pitch (ICAO 9303: 10 characters per inch) in pixels at 300 dpi.
MRZ_PITCH = DPI / 10
_MONO_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


@dataclass(frozen=True)
class CardFields:
    family_name: str = "SAMPLE"
    given_names: str = "ALEX JORDAN"
    birth_date: str = "01/15/1985"
    expiry_date: str = "01/15/2030"
    issue_date: str = "01/15/2022"
    number: str = "D1234567"
    state: str = "VIRGINIA"


def portrait_crop(photo: np.ndarray, face_box: tuple[float, float, float, float], aspect: float = 0.8) -> np.ndarray:
    """Cut a passport-style head-and-shoulders crop around a face box (x, y, w, h).

    The crop is ``aspect`` (width / height) and about 2.2 face heights tall, with the
    face in its upper middle, as on ID portraits.
    """
    x, y, w, h = face_box
    ch = 2.0 * h
    cw = ch * aspect
    cx, cy = x + w / 2.0, y + h * 0.55
    x0, y0 = round(cx - cw / 2), round(cy - ch * 0.45)
    rgb = as_rgb(photo)
    pad = int(max(cw, ch))
    padded = cv2.copyMakeBorder(rgb, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return padded[y0 + pad : y0 + pad + int(ch), x0 + pad : x0 + pad + int(cw)].copy()


def guilloche(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """A security-style background: pale colour gradient with fine interfering wave lines."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.array(rng.uniform(200, 245, size=3), dtype=np.float32)
    tint = np.array(rng.uniform(-25, 10, size=3), dtype=np.float32)
    img = base + tint * (xx / width)[..., None]
    for _ in range(3):
        f1, f2 = rng.uniform(0.02, 0.06), rng.uniform(0.005, 0.02)
        phase = rng.uniform(0, 2 * np.pi)
        wave = np.sin(f1 * xx + 12 * np.sin(f2 * yy + phase)) * np.sin(f1 * 0.7 * yy + phase)
        mask = (np.abs(wave) < 0.08).astype(np.float32)
        colour = np.array(rng.uniform(-60, -20, size=3), dtype=np.float32)
        img += mask[..., None] * colour
    return np.asarray(np.clip(img, 0, 255), dtype=np.uint8)


def render_id_front(
    portrait: np.ndarray,
    rng: np.random.Generator,
    fields: CardFields = CardFields(),
    *,
    ghost: bool = True,
    overprint: float = 0.18,
) -> np.ndarray:
    """A US driver's-licence-like card front: background, header, portrait, ghost portrait, fields.

    ``overprint`` is the opacity (0-1) of the security pattern printed over the portrait.
    """
    width, height = ID1_PX
    card = guilloche(height, width, rng)
    x, y, w, h = PORTRAIT_BOX
    photo = cv2.resize(as_rgb(portrait), (w, h), interpolation=cv2.INTER_AREA)
    # Security lines printed across the portrait, blended at ``overprint`` strength.
    lines = guilloche(h, w, rng).astype(np.float32)
    card[y : y + h, x : x + w] = np.clip((1 - overprint) * photo + overprint * lines, 0, 255).astype(np.uint8)
    if ghost:
        gw, gh = w // 3, h // 3
        small = cv2.cvtColor(cv2.resize(photo, (gw, gh), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
        region = card[height - gh - 40 : height - 40, width - gw - 40 : width - 40].astype(np.float32)
        faded = 0.45 * small[..., None].astype(np.float32) + 0.55 * region
        card[height - gh - 40 : height - 40, width - gw - 40 : width - 40] = faded.astype(np.uint8)

    pil = Image.fromarray(card)
    draw = ImageDraw.Draw(pil)
    big, mid, small_font = _font(44), _font(30), _font(22)
    draw.rectangle([0, 0, width, 110], fill=(25, 55, 120))
    draw.text((40, 25), f"{fields.state} DRIVER'S LICENSE", font=big, fill=(255, 255, 255))
    rows = [
        ("4d DLN", fields.number),
        ("1", fields.family_name),
        ("2", fields.given_names),
        ("3 DOB", fields.birth_date),
        ("4b EXP", fields.expiry_date),
        ("4a ISS", fields.issue_date),
    ]
    ty = 150
    for label, value in rows:
        draw.text((360, ty), label, font=small_font, fill=(150, 20, 20))
        draw.text((470, ty - 4), value, font=mid, fill=(10, 10, 10))
        ty += 55
    return np.asarray(pil, dtype=np.uint8).copy()


def photograph(
    card: np.ndarray,
    rng: np.random.Generator,
    *,
    frame: tuple[int, int] = (1280, 960),
    card_fraction: float = 0.75,
    max_tilt_deg: float = 20.0,
    blur_sigma: float = 0.8,
    noise_sigma: float = 3.0,
    jpeg_quality: int = 85,
    fit_inside: bool = False,
) -> np.ndarray:
    """Simulate a hand-held camera photo of a card on a table.

    The card is scaled to ``card_fraction`` of the frame width, rotated in plane by up
    to ``max_tilt_deg`` and given a perspective skew of the same order, placed on a
    textured background, blurred (Gaussian, ``blur_sigma`` px), given sensor noise
    (Gaussian, ``noise_sigma`` grey levels) and JPEG-compressed at ``jpeg_quality``.
    """
    image, _ = photograph_with_corners(
        card,
        rng,
        frame=frame,
        card_fraction=card_fraction,
        max_tilt_deg=max_tilt_deg,
        blur_sigma=blur_sigma,
        noise_sigma=noise_sigma,
        jpeg_quality=jpeg_quality,
        fit_inside=fit_inside,
    )
    return image


def photograph_with_corners(
    card: np.ndarray,
    rng: np.random.Generator,
    *,
    frame: tuple[int, int] = (1280, 960),
    card_fraction: float = 0.75,
    max_tilt_deg: float = 20.0,
    blur_sigma: float = 0.8,
    noise_sigma: float = 3.0,
    jpeg_quality: int = 85,
    fit_inside: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`photograph`, also returning where the card's corners landed.

    The corners are a float32 array of shape (4, 2): the card's top-left, top-right,
    bottom-right and bottom-left corners (in card coordinates) in frame pixels. The
    same seed gives the same image as :func:`photograph`.
    """
    fw, fh = frame
    ch, cw = card.shape[:2]
    scale = card_fraction * fw / cw
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    angle = np.deg2rad(rng.uniform(-max_tilt_deg, max_tilt_deg))
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centred = (src - np.array([cw / 2, ch / 2])) * scale
    skew = rng.uniform(-0.08, 0.08, size=(4, 2)) * [cw * scale, ch * scale] * (max_tilt_deg / 30.0)
    dst = (centred @ rot.T + skew + [fw / 2, fh / 2] + rng.uniform(-0.05, 0.05, size=2) * [fw, fh]).astype(np.float32)
    if fit_inside:
        dst = _fit_inside(dst, fw, fh, margin=0.02)
    matrix = cv2.getPerspectiveTransform(src, dst)
    background = _table(fh, fw, rng)
    warped = cv2.warpPerspective(card, matrix, (fw, fh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    mask = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), matrix, (fw, fh))
    out = np.where(mask[..., None] > 127, warped, background)
    if blur_sigma > 0:
        out = cv2.GaussianBlur(out, (0, 0), blur_sigma)
    if noise_sigma > 0:
        out = np.clip(out.astype(np.float32) + rng.normal(0, noise_sigma, out.shape), 0, 255).astype(np.uint8)
    ok, buf = cv2.imencode(".jpg", out[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(jpeg_quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return np.ascontiguousarray(decoded[:, :, ::-1]), dst


def _fit_inside(points: np.ndarray, width: int, height: int, margin: float) -> np.ndarray:
    """Shrink (and then shift) points about the frame centre until they lie inside the margins."""
    lo = np.array([margin * width, margin * height])
    hi = np.array([(1 - margin) * width, (1 - margin) * height])
    centre = np.array([width / 2.0, height / 2.0])
    half_span = (hi - lo) / 2.0
    extent = np.abs(points - centre).max(axis=0)
    factor = min(1.0, float(np.min(half_span / np.maximum(extent, 1e-6))))
    out = centre + (points - centre) * factor
    out += np.clip(lo - out.min(axis=0), 0, None) - np.clip(out.max(axis=0) - hi, 0, None)
    return np.asarray(out, dtype=np.float32)


def _table(height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    colour = rng.uniform(60, 160, size=3)
    texture = cv2.GaussianBlur(rng.normal(0, 12, (height, width)).astype(np.float32), (0, 0), 3)
    return np.clip(colour + texture[..., None], 0, 255).astype(np.uint8)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _mono_font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.truetype(_MONO_FONT, size)
    except OSError:  # font not installed: characters are still placed at a fixed pitch
        return ImageFont.load_default(size=size)


def draw_mrz(image: np.ndarray, lines: list[str], *, left: int, bottom: int, size: int = 40) -> np.ndarray:
    """Print MRZ lines at ICAO pitch (10 characters per inch at 300 dpi), last line at ``bottom``.

    Each character is placed separately, so the pitch is exact whatever the font.
    Returns a new image; ``left`` and ``bottom`` are pixels.
    """
    pil = Image.fromarray(image)
    draw = ImageDraw.Draw(pil)
    font = _mono_font(size)
    line_gap = round(size * 1.45)
    top = bottom - line_gap * len(lines)
    for row, line in enumerate(lines):
        for col, char in enumerate(line):
            draw.text((left + col * MRZ_PITCH, top + row * line_gap), char, font=font, fill=(20, 20, 20))
    return np.asarray(pil, dtype=np.uint8).copy()


@dataclass(frozen=True)
class PassportFields:
    family_name: str = "TRAVELER"
    given_names: str = "HAPPY"
    number: str = "963545637"
    nationality: str = "UNITED STATES OF AMERICA"
    birth_date: str = "15 JAN 1985"
    birth_place: str = "CALIFORNIA, U.S.A."
    sex: str = "F"
    issue_date: str = "14 APR 2020"
    expiry_date: str = "13 APR 2030"
    authority: str = "United States Department of State"


def render_passport_page(
    portrait: np.ndarray,
    mrz_lines: list[str],
    rng: np.random.Generator,
    fields: PassportFields = PassportFields(),
) -> np.ndarray:
    """A passport data page (TD3, 125 x 88 mm -> 1476 x 1039 px): portrait, labelled fields, 2 x 44 MRZ."""
    width, height = TD3_PX
    page = guilloche(height, width, rng)
    x, y, w, h = PASSPORT_PORTRAIT_BOX
    page[y : y + h, x : x + w] = cv2.resize(as_rgb(portrait), (w, h), interpolation=cv2.INTER_AREA)
    pil = Image.fromarray(page)
    draw = ImageDraw.Draw(pil)
    label_font, value_font = _font(22), _font(32)
    draw.text((60, 60), "PASSPORT", font=_font(48), fill=(30, 30, 90))
    draw.text((420, 70), "UNITED STATES OF AMERICA", font=_font(40), fill=(30, 30, 90))
    entries = [
        ((520, 170), "Type / Type", "P"),
        ((720, 170), "Code / Code", "USA"),
        ((1000, 170), "Passport No. / No. du Passeport", fields.number),
        ((520, 260), "Surname / Nom", fields.family_name),
        ((520, 350), "Given Names / Prenoms", fields.given_names),
        ((520, 440), "Nationality / Nationalite", fields.nationality),
        ((520, 530), "Date of birth / Date de naissance", fields.birth_date),
        ((520, 620), "Place of birth / Lieu de naissance", fields.birth_place),
        ((1100, 620), "Sex / Sexe", fields.sex),
        ((520, 710), "Date of issue / Date de delivrance", fields.issue_date),
        ((1000, 710), "Date of expiration", fields.expiry_date),
        ((520, 800), "Authority / Autorite", fields.authority),
    ]
    for (ex, ey), label, value in entries:
        draw.text((ex, ey), label, font=label_font, fill=(90, 60, 60))
        draw.text((ex, ey + 28), value, font=value_font, fill=(15, 15, 15))
    page = np.asarray(pil, dtype=np.uint8).copy()
    page[height - 190 :, :] = np.clip(page[height - 190 :, :].astype(np.int16) + 20, 0, 255).astype(np.uint8)
    return draw_mrz(page, mrz_lines, left=round((width - 44 * MRZ_PITCH) / 2), bottom=height - 40)


def render_td1_back(
    mrz_lines: list[str], rng: np.random.Generator, *, title: str = "UNITED STATES OF AMERICA"
) -> np.ndarray:
    """The back of an ID-1 card carrying a 3 x 30 MRZ (e.g. a US passport card)."""
    width, height = ID1_PX
    card = guilloche(height, width, rng)
    pil = Image.fromarray(card)
    draw = ImageDraw.Draw(pil)
    draw.text((40, 40), title, font=_font(34), fill=(30, 30, 90))
    draw.text((40, 100), "This card is for land and sea travel only.", font=_font(24), fill=(40, 40, 40))
    card = np.asarray(pil, dtype=np.uint8).copy()
    card[height - 230 :, :] = 235
    return draw_mrz(card, mrz_lines, left=round((width - 30 * MRZ_PITCH) / 2), bottom=height - 30)
