"""Synthetic US driver's licence backs with a PDF417 symbol, and extra camera effects.

A back is an ID-1 card rendered at 300 dpi (``synth.ID1_PX`` = 1011 x 638 px), RGB
``uint8``, origin top-left. It carries a PDF417 symbol of a given payload made with
``pdf417gen`` (module width 2-3 px = 0.17-0.25 mm, row height 3 modules, error
correction level 5 by default, as on issued licences), and plausible back-side content:
a faint security background, text lines (restrictions, endorsements, a notice), and
either a magnetic-stripe band or a 1D-barcode-like strip.

Use :func:`openidv.synth.document.photograph` for the camera simulation; the functions
here add effects it does not model (glare, motion blur, uneven lighting).

:func:`random_aamva_payload` builds a random AAMVA DL/ID card design standard version 10
payload (header, subfile directory, one ``DL`` subfile) for generated test data; its
values are random, never a real person's.

All randomness comes from the ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import pdf417gen
from PIL import Image, ImageDraw, ImageFont

from openidv.synth.document import ID1_PX, guilloche

#: Compliance indicator, data element separator, record separator, segment terminator.
AAMVA_HEADER_PREFIX = "@\n\x1e\r"
#: Width of the card margin kept free on each side of the symbol, in pixels at 300 dpi.
SYMBOL_MARGIN_PX = 30
#: Largest symbol height on the card, in pixels at 300 dpi (about 1.1 inch).
MAX_SYMBOL_HEIGHT_PX = 340
#: Row height of the rendered symbol, in modules.
ROW_RATIO = 3
#: Quiet zone around the symbol, in modules.
QUIET_ZONE_MODULES = 4


@dataclass(frozen=True)
class SymbolLayout:
    """How a payload was laid out as PDF417: columns, rows, module width (px) and pixel size."""

    columns: int
    rows: int
    module_px: int
    width_px: int
    height_px: int


_FIRST = ["ALEX", "JORDAN", "MARIA", "JAMES", "LINDA", "ROBERT", "PRIYA", "WEI", "CARLOS", "FATIMA", "NOAH", "EMMA"]
_LAST = ["SAMPLE", "SMITH", "GARCIA", "NGUYEN", "JOHNSON", "O'BRIEN", "MUELLER", "PATEL", "KIM", "DE LA CRUZ"]
_STREETS = ["MAIN ST", "OAK AVE", "EAST MIDLAND TRL", "LAKE SHORE DR", "ELM ST APT 4B", "MARKET ST", "1ST AVE"]
_CITIES = [("RICHMOND", "VA"), ("AUSTIN", "TX"), ("ALBANY", "NY"), ("MIAMI", "FL"), ("DENVER", "CO"), ("SALEM", "OR")]
_IIN = {"VA": "636000", "TX": "636015", "NY": "636001", "FL": "636010", "CO": "636020", "OR": "636029"}
_EYES = ["BLU", "BRO", "GRN", "HAZ", "GRY", "BLK"]


def aamva_payload(elements: list[tuple[str, str]], *, iin: str = "636000", version: int = 10) -> str:
    """Assemble an AAMVA payload with one ``DL`` subfile from ``(element id, value)`` pairs.

    Header: ``@`` LF RS CR ``ANSI `` IIN (6 digits), AAMVA version (2), jurisdiction
    version (2), number of entries (2), then the subfile directory (type, offset, length,
    4 digits each). The subfile is ``DL`` followed by LF-separated elements and a CR.
    """
    body = "DL" + "\n".join(code + value for code, value in elements) + "\r"
    header = f"{AAMVA_HEADER_PREFIX}ANSI {iin}{version:02d}0001"
    offset = len(header) + 10  # one directory entry: "DL" + offset + length
    return f"{header}DL{offset:04d}{len(body):04d}{body}"


def random_aamva_payload(rng: np.random.Generator) -> str:
    """A random, well-formed AAMVA version 10 DL payload (about 250-450 characters)."""
    city, state = _CITIES[int(rng.integers(len(_CITIES)))]
    birth_year = int(rng.integers(1940, 2006))
    issue_year = int(rng.integers(2016, 2025))

    def date(year: int) -> str:  # AAMVA US dates are MMDDCCYY
        return f"{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}{year}"

    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    number = letters[int(rng.integers(26))] + "".join(str(d) for d in rng.integers(0, 10, size=8))
    elements = [
        ("DCA", str(rng.choice(["C", "D", "M", "NONE"]))),
        ("DCB", str(rng.choice(["NONE", "B", "A"]))),
        ("DCD", str(rng.choice(["NONE", "M"]))),
        ("DBA", date(issue_year + 8)),
        ("DCS", _LAST[int(rng.integers(len(_LAST)))]),
        ("DAC", _FIRST[int(rng.integers(len(_FIRST)))]),
        ("DAD", _FIRST[int(rng.integers(len(_FIRST)))] if rng.random() < 0.7 else "NONE"),
        ("DBD", date(issue_year)),
        ("DBB", date(birth_year)),
        ("DBC", str(rng.choice(["1", "2"]))),
        ("DAY", _EYES[int(rng.integers(len(_EYES)))]),
        ("DAU", f"{int(rng.integers(58, 78)):03d} IN"),
        ("DAG", f"{int(rng.integers(1, 9999))} {_STREETS[int(rng.integers(len(_STREETS)))]}"),
        ("DAI", city),
        ("DAJ", state),
        ("DAK", f"{int(rng.integers(10000, 99999))}{int(rng.integers(0, 9999)):04d}  "),
        ("DAQ", number),
        ("DCF", "".join(str(d) for d in rng.integers(0, 10, size=int(rng.integers(9, 20))))),
        ("DCG", "USA"),
        ("DDE", "N"),
        ("DDF", "N"),
        ("DDG", "N"),
    ]
    if rng.random() < 0.6:
        elements += [("DAW", f"{int(rng.integers(100, 260)):03d}"), ("DAZ", str(rng.choice(["BRO", "BLK", "BLN"])))]
    if rng.random() < 0.7:
        elements += [("DCK", "".join(str(d) for d in rng.integers(0, 10, size=16))), ("DDB", "12102019")]
    if rng.random() < 0.5:
        elements += [("DDA", str(rng.choice(["F", "N"]))), ("DDK", "1")]
    return aamva_payload(elements, iin=_IIN[state])


def pdf417_symbol(
    payload: str, *, columns: int, security_level: int = 5, module_px: int = 3, row_ratio: int = ROW_RATIO
) -> np.ndarray:
    """Render ``payload`` as a PDF417 symbol: grayscale ``uint8`` (0 bars, 255 spaces), quiet zone included.

    ``columns`` data columns (1-30), error correction ``security_level`` (0-8),
    ``module_px`` pixels per module, rows ``row_ratio`` modules tall. Raises ``ValueError``
    when the payload does not fit (more than 90 rows).
    """
    codes = pdf417gen.encode(payload, columns=columns, security_level=security_level)
    img = pdf417gen.render_image(
        codes,
        scale=module_px,
        ratio=row_ratio,
        padding=QUIET_ZONE_MODULES * module_px,
        fg_color="#000",
        bg_color="#FFF",
    )
    return np.asarray(img.convert("L"), dtype=np.uint8).copy()


def choose_layout(
    payload: str, *, columns: int | None = None, security_level: int = 5, max_width_px: int | None = None
) -> SymbolLayout:
    """Pick columns and module width so the symbol fits on the card back, as large as possible.

    With ``columns`` given only the module width is chosen (3 px, else 2 px, else 1 px). Otherwise
    the widest module that fits is used, and among the column counts that fit the one whose
    aspect ratio (width / height) is closest to 3.2, as on typical licences.
    """
    max_w = max_width_px if max_width_px is not None else ID1_PX[0] - 2 * SYMBOL_MARGIN_PX
    candidates = [columns] if columns is not None else list(range(4, 31))
    for module in (3, 2, 1):
        best: SymbolLayout | None = None
        for cols in candidates:
            width = (17 * cols + 69 + 2 * QUIET_ZONE_MODULES) * module
            if width > max_w:
                continue
            try:
                rows = len(pdf417gen.encode(payload, columns=cols, security_level=security_level))
            except ValueError:  # more than 90 rows: needs more columns
                continue
            height = (rows * ROW_RATIO + 2 * QUIET_ZONE_MODULES) * module
            if height > MAX_SYMBOL_HEIGHT_PX:
                continue
            layout = SymbolLayout(cols, rows, module, width, height)
            if best is None or abs(width / height - 3.2) < abs(best.width_px / best.height_px - 3.2):
                best = layout
        if best is not None:
            return best
    raise ValueError(f"a payload of {len(payload)} characters does not fit on an ID-1 card back as PDF417")


def render_dl_back(
    payload: str,
    rng: np.random.Generator,
    *,
    columns: int | None = None,
    security_level: int = 5,
) -> np.ndarray:
    """A US driver's licence back (RGB ``uint8``, 638 x 1011 px at 300 dpi) carrying ``payload`` as PDF417.

    The symbol is centred horizontally; above it either a magnetic-stripe band or text
    lines, below it text lines and sometimes a 1D-barcode-like strip. ``columns`` forces
    the PDF417 column count (default: chosen by :func:`choose_layout`); ``security_level``
    is the error correction level (AAMVA recommends 3 or more). Raises ``ValueError``
    when the payload cannot fit.
    """
    width, height = ID1_PX
    layout = choose_layout(payload, columns=columns, security_level=security_level)
    symbol = pdf417_symbol(payload, columns=layout.columns, security_level=security_level, module_px=layout.module_px)
    card = guilloche(height, width, rng)
    # Lighten the background so the print reads as on a real card back.
    card = (0.4 * card.astype(np.float32) + 0.6 * 245).astype(np.uint8)
    pil = Image.fromarray(card)
    draw = ImageDraw.Draw(pil)
    sh, sw = symbol.shape
    free = height - sh
    magstripe = bool(rng.random() < 0.35) and free >= 230
    if magstripe:
        band_top = int(rng.integers(15, 30))
        draw.rectangle([0, band_top, width, band_top + 150], fill=(52, 38, 30))
        top = band_top + 165
    else:
        small = _font(20)
        ty = 22
        for line in _back_text(rng, int(rng.integers(2, 4))):
            draw.text((SYMBOL_MARGIN_PX, ty), line, font=small, fill=(40, 40, 60))
            ty += 26
        top = max(ty + 8, int((height - sh) * rng.uniform(0.3, 0.5)))
    top = min(top, height - sh - 10)
    left = (width - sw) // 2 + int(rng.integers(-10, 11))
    left = int(np.clip(left, 5, width - sw - 5))
    card = np.asarray(pil, dtype=np.uint8).copy()
    # Black ink on the card: the symbol's white modules show the card stock underneath.
    ink = symbol.astype(np.float32) / 255.0
    region = card[top : top + sh, left : left + sw].astype(np.float32)
    stock = np.full_like(region, 248.0)
    card[top : top + sh, left : left + sw] = (
        (0.85 * stock + 0.15 * region) * ink[..., None] + 15.0 * (1 - ink[..., None])
    ).astype(np.uint8)
    pil = Image.fromarray(card)
    draw = ImageDraw.Draw(pil)
    y = top + sh + 10
    if y + 60 < height and rng.random() < 0.5:
        _strip_1d(draw, rng, x=SYMBOL_MARGIN_PX + 20, y=y, width=int(rng.integers(280, 420)), height=50)
        y += 62
    small = _font(18)
    for line in _back_text(rng, 3):
        if y + 22 > height - 8:
            break
        draw.text((SYMBOL_MARGIN_PX, y), line, font=small, fill=(40, 40, 60))
        y += 24
    return np.asarray(pil, dtype=np.uint8).copy()


def add_glare(image: np.ndarray, rng: np.random.Generator, *, strength: float = 0.7) -> np.ndarray:
    """Add a specular highlight: an elliptical, soft-edged bright spot of peak opacity ``strength`` (0-1)."""
    h, w = image.shape[:2]
    cx, cy = rng.uniform(0.2, 0.8) * w, rng.uniform(0.2, 0.8) * h
    ax, ay = rng.uniform(0.05, 0.15) * w, rng.uniform(0.04, 0.12) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    d2 = ((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2
    alpha = (strength * np.exp(-d2)).astype(np.float32)[..., None]
    out = image.astype(np.float32) * (1 - alpha) + 255.0 * alpha
    return np.asarray(np.clip(out, 0, 255), dtype=np.uint8)


def add_motion_blur(image: np.ndarray, rng: np.random.Generator, *, length_px: float = 5.0) -> np.ndarray:
    """Blur along a random direction over ``length_px`` pixels (a moving hand-held camera)."""
    n = max(1, round(length_px))
    if n == 1:
        return image.copy()
    line = np.zeros((n, n), np.float32)
    line[n // 2, :] = 1.0
    rot = cv2.getRotationMatrix2D(((n - 1) / 2.0, (n - 1) / 2.0), float(rng.uniform(0, 180)), 1.0)
    kernel = np.asarray(cv2.warpAffine(line, rot, (n, n)), dtype=np.float32)
    kernel /= max(float(kernel.sum()), 1e-6)
    return np.asarray(cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT), dtype=np.uint8)


def add_uneven_lighting(image: np.ndarray, rng: np.random.Generator, *, strength: float = 0.4) -> np.ndarray:
    """Multiply by a linear brightness ramp in a random direction, from ``1 - strength`` to 1."""
    h, w = image.shape[:2]
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = np.cos(theta) * xx / w + np.sin(theta) * yy / h
    ramp = (ramp - ramp.min()) / max(float(ramp.max() - ramp.min()), 1e-6)
    gain = (1.0 - strength) + strength * ramp
    return np.asarray(np.clip(image.astype(np.float32) * gain[..., None], 0, 255), dtype=np.uint8)


def cover(
    image: np.ndarray, box: tuple[int, int, int, int], colour: tuple[int, int, int] = (235, 235, 235)
) -> np.ndarray:
    """Paint the box ``(x, y, width, height)`` (pixels) with ``colour``: a sticker or a finger over the card."""
    out = image.copy()
    x, y, bw, bh = box
    out[max(0, y) : y + bh, max(0, x) : x + bw] = colour
    return out


def _back_text(rng: np.random.Generator, n: int) -> list[str]:
    pool = [
        "RESTRICTIONS: NONE",
        "ENDORSEMENTS: NONE",
        "CLASS C - ANY VEHICLE UNDER 26,001 LBS",
        "ORGAN DONOR",
        "IF FOUND, DROP IN ANY MAILBOX. POSTAGE GUARANTEED.",
        "THIS CARD IS THE PROPERTY OF THE DEPARTMENT OF MOTOR VEHICLES",
        "VETERAN",
        "DD 0123456789012345",
        "ANY ALTERATION OF THIS LICENSE IS A CRIME",
    ]
    picks = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[int(i)] for i in picks]


def _strip_1d(draw: ImageDraw.ImageDraw, rng: np.random.Generator, *, x: int, y: int, width: int, height: int) -> None:
    """A Code-39-looking strip of random bars (not a decodable symbol)."""
    cx = x
    while cx < x + width:
        bar = int(rng.integers(1, 4)) * 2
        draw.rectangle([cx, y, cx + bar - 1, y + height], fill=(20, 20, 20))
        cx += bar + int(rng.integers(1, 4)) * 2


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)
