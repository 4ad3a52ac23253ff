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
manipulations (see :mod:`openidv.document.tamper`). Measured (fixed seeds; genuine
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
"""

from __future__ import annotations

import io
import itertools
import re
import struct
import warnings
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from openidv.checks import CheckResult, Status
from openidv.document import screen_cues
from openidv.document.normalize import normalize_name
from openidv.document.types import FieldValue, check
from openidv.errors import ImageError
from openidv.imaging import as_rgb
from openidv.imaging import luma as _luma

Box = tuple[int, int, int, int]

# --------------------------------------------------------------------------- container parsing

_ZIGZAG = np.array(
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14,
        21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53,
        60, 61, 54, 47, 55, 62, 63,
    ]
)  # fmt: skip
#: IJG (Annex K) luminance quantisation table, natural order.
_IJG_LUMA = np.array(
    [
        16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29,
        51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121,
        120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
    ],
    dtype=np.float64,
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
            table[_ZIGZAG] = values
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


def _exif_tags(container: Container) -> dict[int, object]:
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


def _valid_rgb(rgb: np.ndarray | None, min_side: int = 64) -> np.ndarray | None:
    if rgb is None:
        return None
    try:
        arr = as_rgb(rgb)
    except ImageError:
        return None
    return arr if min(arr.shape[:2]) >= min_side else None


def _inconclusive(name: str, reason: str, detail: str, **data: object) -> CheckResult:
    return check(name, Status.INCONCLUSIVE, reason, None, detail, **data)


# --------------------------------------------------------------------------- editing software

#: Image editors and retouching apps, matched case-insensitively as whole words in software fields.
EDITORS: tuple[str, ...] = (
    "photoshop", "lightroom", "adobe express", "imageready", "gimp", "snapseed", "canva", "pixlr", "picsart",
    "paint.net", "affinity photo", "affinity designer", "pixelmator", "facetune", "meitu", "fotor", "photopea",
    "befunky", "krita", "inkscape", "paintshop", "corel", "picmonkey", "lunapic", "photoscape", "fotojet",
    "airbrush", "faceapp", "photodirector", "photo editor", "vsco", "polarr", "darktable", "rawtherapee",
    "capture one", "luminar", "acdsee", "photofiltre", "microsoft paint", "mspaint", "imagemagick", "graphicsmagick",
)  # fmt: skip
_EDITOR_RE = re.compile(r"(?<![a-z])(" + "|".join(re.escape(e) for e in EDITORS) + r")(?![a-z])", re.IGNORECASE)
_XMP_TOOL_RE = re.compile(
    rb"(?:CreatorTool|softwareAgent|tiff:Software|xmp:Software)\s*(?:=\s*\"([^\"]{0,200})\"|>([^<]{0,200})<)",
    re.IGNORECASE,
)
_CAMERA_TAGS = {0x010F: "Make", 0x0110: "Model", 0x9003: "DateTimeOriginal", 0x829A: "ExposureTime"}


def editing_software_metadata(data: bytes) -> CheckResult:
    """Look for traces of an image editor in the file's metadata.

    Physics / evidence: editors write their name into EXIF ``Software`` (0x0131) or
    ``ProcessingSoftware`` (0x000B), XMP ``xmp:CreatorTool`` / ``stEvt:softwareAgent``
    (edit history), Photoshop image resources (APP13 ``Photoshop 3.0`` with a version
    block naming "Adobe Photoshop"), JPEG comments ("Created with GIMP") or PNG text
    chunks (``Software``). Any name from :data:`EDITORS` in those fields is reported.

    * ``inconclusive`` / ``editing_software`` with ``data.advisory`` (score 0.05): an editor is
      named. Advisory, not a failure: genuine documents are scanned and saved by editors (1 of 35
      real US fronts/passports, 13 of 43 real passport/ID images of ``../shared/data``), so an
      editor's name sends the case to a person and never rejects it;
    * ``pass`` / ``camera_metadata``: camera EXIF (Make/Model/DateTimeOriginal/Exposure)
      and no editor (score 0.8: metadata is easily stripped or forged, so absence of
      evidence is weak);
    * ``inconclusive`` / ``no_metadata``: nothing to read (browser canvas captures and
      most messengers strip metadata, so this is *not* a failure);
      ``no_camera_metadata``: metadata without camera tags and without an editor;
      ``unsupported_format`` / ``empty`` for input that is not an image container.

    Measured: 100% of generated JPEGs tagged with an editor name are flagged; 0% of genuine
    generated photos fail (they carry no metadata and are ``inconclusive``).
    """
    name = "editing_software"
    if not data:
        return _inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format == "unknown":
        return _inconclusive(name, "unsupported_format", "not a known image container")
    found: list[tuple[str, str]] = []  # (where, value)
    tags = _exif_tags(container)
    for tag, label in ((0x0131, "exif_software"), (0x000B, "exif_processing_software"), (0x013B, "exif_artist")):
        value = tags.get(tag)
        if isinstance(value, (str, bytes)):
            text = value.decode("latin-1") if isinstance(value, bytes) else value
            found.append((label, text.strip("\x00 ").strip()))
    xmp_seen = False
    for marker, payload in container.app_segments:
        if marker == 0xE1 and payload.startswith(b"http://ns.adobe.com/xap/1.0/"):
            xmp_seen = True
            for m in _XMP_TOOL_RE.finditer(payload):
                value = (m.group(1) or m.group(2) or b"").decode("utf-8", "replace").strip()
                found.append(("xmp_tool", value))
        elif (
            marker == 0xED
            and payload.startswith(b"Photoshop 3.0")
            and (b"Adobe Photoshop" in payload or b"8BIM\x03\xed" in payload)
        ):
            found.append(("photoshop_resources", "Adobe Photoshop image resources"))
    for comment in container.comments:
        found.append(("comment", comment[:300].decode("utf-8", "replace")))
    editors = [(where, value) for where, value in found if _EDITOR_RE.search(value)]
    camera = {label: str(tags[tag]) for tag, label in _CAMERA_TAGS.items() if tag in tags}
    data_out: dict[str, object] = {"format": container.format, "software": [v for _, v in found if v][:5]}
    if editors:
        where, value = editors[0]
        return check(
            name,
            Status.INCONCLUSIVE,
            "editing_software",
            0.05,
            f"the file was written by an image editor: {value!r} ({where})",
            editor=_EDITOR_RE.search(value).group(1).lower() if _EDITOR_RE.search(value) else value,  # type: ignore[union-attr]
            where=where,
            advisory=True,
            **data_out,
        )
    if camera:
        return check(name, Status.PASS, "camera_metadata", 0.8, "camera metadata and no editor named", **data_out)
    if not tags and not xmp_seen and not container.comments:
        return _inconclusive(name, "no_metadata", "the file carries no EXIF, XMP or comments", **data_out)
    return _inconclusive(name, "no_camera_metadata", "metadata without camera tags; no editor named", **data_out)


# --------------------------------------------------------------------------- specimen documents

_SPECIMEN_WORDS = re.compile(
    r"\b(SAMPLE|SPECIMEN|SPECIMINE|SPECIMEN ONLY|MUSTERMANN|MUSTERFRAU|MUSTERMAN|EXEMPLAR|EXEMPLE|ESPECIMEN|"
    r"MUESTRA|CAMPIONE|VOID|NOT VALID|TEST|TRAVELER HAPPY|HAPPY TRAVELER|UTOPIA|ERIKSSON ANNA|DOCUMENT SAMPLE)\b"
)
#: Document numbers printed on widely published specimens (ICAO 9303, AAMVA, US passport, EU ids).
SPECIMEN_NUMBERS: frozenset[str] = frozenset(
    {
        "L898902C3", "L898902C", "D23145890", "AB2134", "123456789", "1234567890", "12345678", "0123456789",
        "987654321", "D1234567", "D12345678", "A1234567", "X1234567", "C01X00T47", "T22000129", "L01X00T47",
        "Y00000000", "100000000", "99999999", "999999999", "000000000", "DL123456789", "S12345678",
    }
)  # fmt: skip
#: Words that mark a specimen wherever they are printed (a stamp or an overlay across the page). The
#: list above applies to names and country fields only: SAMPLE, TEST and VOID occur in real addresses
#: ("W Sample Rd", Pompano Beach FL), "NOT VALID FOR FEDERAL PURPOSES" on genuine US licences.
_SPECIMEN_STAMP = re.compile(r"\b(SPECIMEN|SPECIMINE|ESPECIMEN)\b")
_NAME_FIELDS = ("family_name", "given_names", "middle_names", "full_name", "name")
_NUMBER_FIELDS = ("document_number", "personal_number", "optional_data", "document_discriminator")


def _specimen_number(value: str) -> str | None:
    v = re.sub(r"[\s\-./]", "", value.upper())
    if not v:
        return None
    if v in SPECIMEN_NUMBERS:
        return "published specimen number"
    digits = re.sub(r"^[A-Z]{0,3}", "", v)
    if len(digits) >= 6 and digits.isdigit():
        if len(set(digits)) == 1:
            return "repeated digit"
        steps = {(int(b) - int(a)) % 10 for a, b in itertools.pairwise(digits)}
        if steps in ({1}, {9}):
            return "consecutive digits"
        if digits.startswith(("123456", "987654")):
            return "sequence 123456 / 987654"
    return None


def specimen(fields: Sequence[FieldValue], printed: Sequence[str] = ()) -> CheckResult:
    """Fail documents that are known specimens or obvious placeholders.

    Names: SAMPLE, SPECIMEN, MUSTERMANN/MUSTERFRAU (German specimens), JOHN/JANE DOE,
    HAPPY TRAVELER (US passport specimen), ERIKSSON ANNA (ICAO 9303), UTOPIA/``UTO``
    country, VOID, TEST. Numbers: published specimen numbers (``L898902C3``,
    ``D23145890``, ``123456789``, ``D1234567`` ...), a letter prefix followed by one
    repeated digit or by consecutive digits (``D1234567``, ``X0000000``, ``987654321``).
    Addresses and ``printed`` (the OCR'd lines of the printed zone, any of them) only by the
    word SPECIMEN (:data:`_SPECIMEN_STAMP`; accents ignored), as stamped across specimen pages.
    ``fail`` / ``specimen_document`` names the matching field (``printed_text`` for a line);
    ``pass`` / ``no_specimen`` when fields were read and none matched; ``inconclusive`` /
    ``no_fields`` otherwise.
    """
    name = "specimen"
    stamps = [line for line in printed if _SPECIMEN_STAMP.search(normalize_name(line))]
    if not fields and not stamps:
        return _inconclusive(name, "no_fields", "no fields were read")
    hits: list[dict[str, str]] = [
        {"field": "printed_text", "source": "printed", "value": line, "why": "specimen stamp"} for line in stamps[:3]
    ]
    names = {f.name: f.value.upper() for f in fields if f.name in _NAME_FIELDS}
    for f in fields:
        value = (f.value or "").upper().strip()
        if not value:
            continue
        why: str | None = None
        if f.name == "address_street":
            m = _SPECIMEN_STAMP.search(normalize_name(value))
            why = f"specimen word {m.group(1)}" if m else None
        elif f.name in _NAME_FIELDS or f.name in ("issuing_country", "nationality"):
            m = _SPECIMEN_WORDS.search(value)
            if m:
                why = f"specimen word {m.group(1)}"
            elif f.name in ("issuing_country", "nationality") and value in ("UTO", "ZZZ"):
                why = f"fictional country code {value}"
        if (
            f.name == "family_name"
            and value in ("DOE", "ROE")
            and names.get("given_names", "").split()[:1]
            in (
                ["JOHN"],
                ["JANE"],
                ["RICHARD"],
            )
        ):
            why = "placeholder name JOHN/JANE DOE"
        if f.name in _NAME_FIELDS and re.search(r"\b(JOHN|JANE) DOE\b|\bDOE,? (JOHN|JANE)\b", value):
            why = "placeholder name JOHN/JANE DOE"
        if f.name in _NUMBER_FIELDS:
            why = why or _specimen_number(value)
        if why:
            hits.append({"field": f.name, "source": f.source.value, "value": f.value, "why": why})
    if hits:
        first = hits[0]
        return check(
            name,
            Status.FAIL,
            "specimen_document",
            0.0,
            f"{first['field']} ({first['source']}) = {first['value']!r}: {first['why']}",
            matches=hits,
        )
    return check(name, Status.PASS, "no_specimen", 1.0, f"{len(fields)} fields, none a known specimen value")


# --------------------------------------------------------------------------- compression consistency

_DCT = np.array(
    [
        [(np.sqrt(1 / 8) if u == 0 else np.sqrt(2 / 8)) * np.cos((2 * x + 1) * u * np.pi / 16) for x in range(8)]
        for u in range(8)
    ],
    dtype=np.float32,
)
_GHOST_COEFS = _ZIGZAG[1:28]  #: low/mid AC coefficients (natural-order indices) used for the lattice test
#: (64, 27): a flattened 8x8 block times this gives its 2-D DCT coefficients ``_GHOST_COEFS``
#: (row u * 8 + v of ``kron(DCT, DCT)`` is the basis image of coefficient (u, v)).
_GHOST_BASIS = np.ascontiguousarray(np.kron(_DCT, _DCT)[_GHOST_COEFS].T, dtype=np.float32)
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def ijg_table(quality: int) -> np.ndarray:
    """The IJG luminance quantisation table for ``quality`` (1-100), natural order, baseline-clamped."""
    q = min(100, max(1, int(quality)))
    scale = 5000 / q if q < 50 else 200 - 2 * q
    return np.clip(np.floor((_IJG_LUMA * scale + 50) / 100), 1, 255)


@dataclass
class _BlockMaps:
    """Per-8x8-block statistics on the stored image's grid (block row, block column)."""

    ghost_sum: np.ndarray  #: (by, bx) non-zero coefficients in bins the earlier quantisation cannot produce
    ghost_count: np.ndarray  #: (by, bx) non-zero coefficients (of those with an earlier step)
    prior_steps: np.ndarray  #: (n_coefs,) estimated earlier quantisation step per coefficient (0: none found)
    noise: np.ndarray  #: (by, bx) Immerkaer noise estimate of the block interior, grey levels
    activity: np.ndarray  #: (by, bx) mean absolute gradient, grey levels per pixel


def _estimate_prior_steps(k2: np.ndarray, final: np.ndarray) -> np.ndarray:
    """Per coefficient, the earlier (coarser) quantisation step the final values betray (0: none found).

    ``k2`` holds the final quantised values (blocks, coefficients); ``final`` the file's
    steps Q2. After quantising with Q1 then Q2 < Q1 on the same grid, only the bins
    ``n = round(m * Q1 / Q2)`` of the histogram of ``|k2|`` can be populated: the others
    are (nearly) empty, where a once-compressed, smooth (geometric) histogram would
    fill them. For each candidate step s (1.5 Q2 to 120), the mass observed in the
    unreachable bins is compared with the mass a geometric fit expects there; the
    largest s with less than 30% of the expected mass, and at least 30 values
    expected, is taken.
    """
    steps = np.zeros(k2.shape[1])
    mags = np.abs(np.asarray(k2, np.float64).T).astype(np.int64)  # (coefficients, blocks), contiguous rows
    for j in range(k2.shape[1]):
        q2 = float(final[j])
        hist = np.bincount(mags[j], minlength=2)[1:].astype(np.float64)  # n >= 1
        total = hist.sum()
        if total < 100:
            continue
        size = hist.size
        n = np.arange(1, size + 1, dtype=np.float64)
        mean = float((hist * n).sum() / total)
        r = max(0.0, 1.0 - 1.0 / mean)
        model = total * (1.0 - r) * r ** (n - 1.0)
        first = int(np.ceil(1.5 * q2))
        if first > 120:
            continue
        # Every candidate step at once: row i marks the bins reachable from step first + i.
        cand = np.arange(first, 121, dtype=np.float64)
        m = np.arange(1, int(size * q2 / first) + 2, dtype=np.float64)
        idx = np.round(m[None, :] * cand[:, None] / q2).astype(np.int64) - 1
        rows = np.broadcast_to(np.arange(cand.size)[:, None], idx.shape)
        ok = (idx >= 0) & (idx < size)
        reach = np.zeros((cand.size, size), bool)
        reach[rows[ok], idx[ok]] = True
        expected = np.where(reach, 0.0, model[None, :]).sum(axis=1)
        observed = np.where(reach, 0.0, hist[None, :]).sum(axis=1)
        low = np.flatnonzero(expected < 30)
        stop = int(low[0]) if low.size else cand.size  # the scan ends at the first step expecting < 30 values
        found = np.flatnonzero(observed[:stop] < 0.3 * expected[:stop])
        if found.size:
            steps[j] = cand[found[-1]]
    return steps


def _block_maps(y: np.ndarray, final_table: np.ndarray | None, exclude: list[Box] | None = None) -> _BlockMaps:
    h8, w8 = y.shape[0] // 8 * 8, y.shape[1] // 8 * 8
    y = np.ascontiguousarray(y[:h8, :w8])
    by, bx = h8 // 8, w8 // 8
    blocks = (y - 128.0).reshape(by, 8, bx, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
    coefs = blocks @ _GHOST_BASIS  # the 2-D DCT's low/mid AC coefficients, one matrix product for all blocks
    n_coefs = len(_GHOST_COEFS)
    steps = np.zeros(n_coefs)
    sums = np.zeros(by * bx, np.float32)
    counts = np.zeros(by * bx, np.float32)
    if final_table is not None:
        final = np.maximum(final_table[_GHOST_COEFS], 1.0)
        k2 = np.round(coefs / final.astype(np.float32))
        keep = np.ones((by, bx), bool)
        for x, y0, w, h in exclude or []:
            keep[max(0, y0 // 8) : (y0 + h + 7) // 8, max(0, x // 8) : (x + w + 7) // 8] = False
        sample = k2[keep.ravel()] if keep.mean() >= 0.3 else k2
        steps = _estimate_prior_steps(sample, final)
        use = np.nonzero(steps > 0)[0]
        if use.size:
            mag = np.abs(k2[:, use]).astype(np.int64)
            top = int(mag.max()) + 1
            reachable = np.zeros((use.size, top + 1), bool)
            for i, j in enumerate(use):
                idx = np.round(np.arange(0, int(top * final[j] / steps[j]) + 2) * steps[j] / final[j]).astype(np.int64)
                reachable[i, idx[idx <= top]] = True
            informative = mag >= 1
            unreachable = ~reachable[np.arange(use.size)[None, :], mag] & informative
            sums = unreachable.sum(axis=1).astype(np.float32)
            counts = informative.sum(axis=1).astype(np.float32)
    hp = np.abs(cv2.filter2D(y, -1, _NOISE_KERNEL, borderType=cv2.BORDER_REFLECT))
    noise = hp.reshape(by, 8, bx, 8)[:, 1:7, :, 1:7].mean(axis=(1, 3)) * float(np.sqrt(np.pi / 2) / 6)
    gx = np.abs(np.diff(y, axis=1, append=y[:, -1:]))
    gy = np.abs(np.diff(y, axis=0, append=y[-1:, :]))
    activity = (gx + gy).reshape(by, 8, bx, 8).mean(axis=(1, 3))
    return _BlockMaps(
        sums.reshape(by, bx), counts.reshape(by, bx), steps, noise.astype(np.float32), activity.astype(np.float32)
    )


#: Region minus rest-of-image fraction of coefficients in unreachable bins above this is suspicious.
#: Genuine regions: max 0.24 (N=280 regions); pasted text >= 0.51, pasted portraits >= 0.38 (N=40 each).
GHOST_THRESHOLD = 0.33
#: Stricter bar for the tile scan used when no regions are given (many more tests per image).
GHOST_TILE_THRESHOLD = 0.55
#: A tile's lattice test needs this many informative coefficients per 8x8 block. In a flat tile
#: (plain background) most blocks keep only their DC; the few +-1 coefficients left are rounding
#: noise of the re-encode, unreachable from the earlier lattice by construction, so such a tile
#: reads "never compressed". Genuine licence backs (1608 96-px tiles of 144 blocks): under 100
#: coefficients g reaches 0.61, from 100 on at most 0.20.
GHOST_TILE_MIN_DENSITY = 1.0
#: The rest of the image must betray the earlier compression: unreachable fraction below this.
GHOST_PRIOR_MAX = 0.2
#: Region / surroundings noise ratio below this is suspicious (genuine: 1st percentile 0.83, N=207).
#: The surroundings' level is the lower of the band around the region and, for a printed value,
#: the other printed values' median (see :func:`_region_evidence`).
NOISE_RATIO_THRESHOLD = 0.55
#: Surroundings noise (grey levels, flattest quarter of blocks) needed for the noise comparison.
NOISE_MIN_LEVEL = 0.25


#: Shifted-grid JPEG lattice (see :func:`shifted_grid_lattice`): z above this at a grid offset that
#: is not a multiple of 4 px on both axes is a patch compressed elsewhere. Genuine regions: max 6.6
#: (60 portraits, 309 printed values); swapped portraits at patch quality <= 80: 10-43.
SHIFTED_GRID_THRESHOLD = 12.0
#: At the half-block offsets (4, 0), (0, 4), (4, 4) the image's own grid echoes (genuine: up to 9.7,
#: at most 0.23 of the aligned grid's z): there the lattice must exceed this *and* half the aligned z.
SHIFTED_GRID_HALF_THRESHOLD = 16.0
#: Regions smaller than this (px, both sides) are not tested for a shifted grid (too few blocks).
SHIFTED_GRID_MIN_SIDE = 64
_SHIFT_COEFS = _ZIGZAG[:10]  #: DC and the 9 lowest AC coefficients (natural order)
_SHIFT_BASIS = np.ascontiguousarray(np.kron(_DCT, _DCT)[_SHIFT_COEFS].T, dtype=np.float32)
_SHIFT_QUALITIES = np.arange(40, 96, 2)
_SHIFT_TABLES = np.stack([ijg_table(int(q))[_SHIFT_COEFS] for q in _SHIFT_QUALITIES]).astype(np.float32)
_HALF_OFFSETS = frozenset({(4, 0), (0, 4), (4, 4)})


@dataclass(frozen=True)
class ShiftedGrid:
    """Strongest JPEG quantisation lattice found on an 8x8 grid other than the image's own."""

    offset: tuple[int, int]  #: (x, y) phase of that grid in image pixels, 0-7 each
    z: float  #: lattice strength: sum of cos(2 pi c / step) over non-zero coefficients / sqrt(count)
    quality: int  #: IJG quality whose table fits best
    aligned_z: float  #: the same statistic on the image's own grid (phase (0, 0))
    suspicious: bool


def shifted_grid_lattice(luma: np.ndarray, box: Box) -> ShiftedGrid | None:
    """Look inside ``box`` for a JPEG lattice on an 8x8 grid shifted from the image's own.

    Physics: a photo or text patch cut from another JPEG carries that file's quantisation
    on *its* block grid. Pasted at a random position, that grid is offset from the
    uploaded file's grid (63 of 64 offsets). On a grid, DCT coefficients of a once
    compressed image sit on multiples of the quantisation step q, so
    ``cos(2 pi c / q)`` averages near 1; on any other grid and in camera content it
    averages near 0. The final JPEG (on the image's grid) blurs the old lattice by its
    own rounding noise, so only coarse earlier steps survive (patch quality <= ~84).

    Method: for each of the 64 grid phases, the DC and 9 lowest AC coefficients of the
    region's blocks that are not flat (pixel std >= 1 grey level); for each IJG quality
    40-94 (step 2), ``z = sum cos(2 pi c / q) / sqrt(n)`` over coefficients with
    ``|c| >= q / 2``; the strongest z per phase. ``luma`` is the stored image's luma
    (grey levels, float), ``box`` (x, y, w, h) in its pixels. ``None`` when the region is
    smaller than :data:`SHIFTED_GRID_MIN_SIDE`.
    """
    x, y, w, h = box
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(luma.shape[1], x + w), min(luma.shape[0], y + h)
    if x1 - x0 < SHIFTED_GRID_MIN_SIDE or y1 - y0 < SHIFTED_GRID_MIN_SIDE:
        return None
    region = np.asarray(luma[y0:y1, x0:x1], np.float32) - np.float32(128.0)
    best: dict[tuple[int, int], tuple[float, int]] = {}
    for oy in range(8):
        for ox in range(8):
            sub = region[(oy - y0) % 8 :, (ox - x0) % 8 :]
            h8, w8 = sub.shape[0] // 8 * 8, sub.shape[1] // 8 * 8
            blocks = sub[:h8, :w8].reshape(h8 // 8, 8, w8 // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 64)
            blocks = blocks[blocks.std(axis=1) >= 1.0]
            if blocks.shape[0] < 16:
                best[(ox, oy)] = (0.0, 0)
                continue
            ratio = (blocks @ _SHIFT_BASIS)[None, :, :] / _SHIFT_TABLES[:, None, :]  # (qualities, blocks, coefs)
            informative = np.abs(ratio) >= 0.5
            count = informative.sum(axis=(1, 2))
            total = np.where(informative, np.cos(np.float32(2 * np.pi) * ratio), 0.0).sum(axis=(1, 2))
            z = np.where(count >= 50, total / np.sqrt(np.maximum(count, 1)), 0.0)
            k = int(np.argmax(z))
            best[(ox, oy)] = (float(z[k]), int(_SHIFT_QUALITIES[k]))
    aligned = best[(0, 0)][0]

    def excess(offset: tuple[int, int]) -> float:
        z = best[offset][0]
        if offset in _HALF_OFFSETS:
            return min(z / SHIFTED_GRID_HALF_THRESHOLD, z / max(0.5 * aligned, 1e-6))
        return z / SHIFTED_GRID_THRESHOLD

    offset = max((o for o in best if o != (0, 0)), key=excess)
    strength, q = best[offset]
    return ShiftedGrid(offset, strength, q, aligned, excess(offset) > 1.0)


@dataclass(frozen=True)
class RegionEvidence:
    """What the compression-consistency check found in one region."""

    name: str
    box: Box
    ghost_coefficients: int | None  #: how many coefficients show an earlier, coarser quantisation
    ghost_reference: float | None  #: surroundings' lattice consistency at that quality (0 consistent, 1 random)
    ghost_region: float | None  #: the region's consistency at that quality
    ghost_inconsistency: float | None  #: region minus reference unreachable fraction
    noise_region: float | None  #: noise in the region's flattest blocks, grey levels
    noise_ring: float | None  #: same in the band around the region
    suspicious: bool
    why: str
    shifted_grid: ShiftedGrid | None = None  #: a JPEG lattice on another grid (portrait regions only)
    noise_peers: float | None = None  #: median of the other printed values' ``noise_region`` (values only)
    ghost_samples: int | None = None  #: informative (non-zero) coefficients behind ``ghost_region``

    @property
    def noise_reference(self) -> float | None:
        """The noise the region is compared with: the lower of band and peers, grey levels."""
        if self.noise_ring is None or self.noise_peers is None:
            return self.noise_ring
        return min(self.noise_ring, self.noise_peers)

    def to_dict(self) -> dict[str, object]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(float(v), 3)

        return {
            "name": self.name,
            "box": list(self.box),
            "ghost_coefficients": self.ghost_coefficients,
            "ghost_reference": r(self.ghost_reference),
            "ghost_region": r(self.ghost_region),
            "ghost_inconsistency": r(self.ghost_inconsistency),
            "noise_region": r(self.noise_region),
            "noise_ring": r(self.noise_ring),
            "noise_peers": r(self.noise_peers),
            "ghost_samples": self.ghost_samples,
            "suspicious": self.suspicious,
            "why": self.why,
            "shifted_grid": None
            if self.shifted_grid is None
            else {
                "offset": list(self.shifted_grid.offset),
                "z": round(self.shifted_grid.z, 2),
                "quality": self.shifted_grid.quality,
                "aligned_z": round(self.shifted_grid.aligned_z, 2),
            },
        }


def _flat_noise(maps: _BlockMaps, mask: np.ndarray) -> float | None:
    """Median noise of the quarter least-active blocks under ``mask``; ``None`` with fewer than 6 blocks."""
    act = maps.activity[mask]
    if act.size < 6:
        return None
    k = max(3, act.size // 4)
    idx = np.argpartition(act, k - 1)[:k]
    return float(np.median(maps.noise[mask][idx]))


def _block_span(shape: tuple[int, int], box: Box) -> tuple[int, int, int, int]:
    """First and end block row and column (by0, by1, bx0, bx1) of the 8x8 blocks wholly inside ``box`` (px)."""
    by, bx = shape
    x, y, w, h = box
    return max(0, (y + 7) // 8), min(by, (y + h) // 8), max(0, (x + 7) // 8), min(bx, (x + w) // 8)


def _block_mask(shape: tuple[int, int], box: Box) -> np.ndarray:
    """Bool map (block rows, block columns) of the 8x8 blocks wholly inside ``box`` (px)."""
    by0, by1, bx0, bx1 = _block_span(shape, box)
    mask = np.zeros(shape, bool)
    mask[by0:by1, bx0:bx1] = True
    return mask


def _region_evidence(
    maps: _BlockMaps, name: str, box: Box, total_s: float, total_n: float, noise_peers: float | None = None
) -> RegionEvidence:
    """Lattice and noise evidence for one region.

    The noise cue compares the region's flat noise with the band around it and, given
    ``noise_peers`` (the other printed values' median flat noise, grey levels), with the
    lower of the two. The band around a printed value is a few block rows of other
    lines, labels and guilloche, not the same mix of paper and glyph edges as the value
    itself: its flattest quarter can read up to twice the value rows' level, or keep
    some noise where a coarse final JPEG flattened the value rows. The other value rows
    are like-for-like, and one pasted value barely moves their median.
    """
    by0, by1, bx0, bx1 = _block_span(maps.noise.shape, box)
    reg = _block_mask(maps.noise.shape, box)
    ghost_q = ghost_ref = ghost_reg = ghost_g = None
    ghost_n: int | None = None
    if reg.any() and int((maps.prior_steps > 0).sum()) >= 3:
        s_r = float(maps.ghost_sum[reg].sum())
        n_r = float(maps.ghost_count[reg].sum())
        n_o = float(total_n) - n_r
        if n_o >= 300 and n_r >= 60:
            ref = (float(total_s) - s_r) / n_o
            if ref <= GHOST_PRIOR_MAX:
                ghost_q = int((maps.prior_steps > 0).sum())
                ghost_ref = ref
                ghost_reg = s_r / n_r
                ghost_g = ghost_reg - ghost_ref
                ghost_n = int(n_r)
    r = max(3, min(by1 - by0, bx1 - bx0) // 2)
    ring = np.zeros_like(reg)
    ring[max(0, by0 - r) : by1 + r, max(0, bx0 - r) : bx1 + r] = True
    ring &= ~reg
    n_reg = _flat_noise(maps, reg) if reg.any() else None
    n_ring = _flat_noise(maps, ring) if ring.any() else None
    evidence = RegionEvidence(
        name, box, ghost_q, ghost_ref, ghost_reg, ghost_g, n_reg, n_ring, False, "", None, noise_peers, ghost_n
    )
    n_ref = evidence.noise_reference
    whys: list[str] = []
    if ghost_g is not None and ghost_g > GHOST_THRESHOLD:
        whys.append("lacks the earlier JPEG compression that the rest of the image shows")
    if n_reg is not None and n_ref is not None and n_ref >= NOISE_MIN_LEVEL and n_reg < NOISE_RATIO_THRESHOLD * n_ref:
        whys.append(f"noise {n_reg:.2f} vs {n_ref:.2f} around it")
    return replace(evidence, suspicious=bool(whys), why="; ".join(whys))


#: Regions without like-for-like peers: their noise is compared with the band around them only.
NOISE_UNPAIRED_REGIONS = frozenset({"portrait"})
#: Other printed values needed for the peers' median (fewer: the band alone is the reference).
NOISE_MIN_PEERS = 2


def _peer_noise(maps: _BlockMaps, boxes: Mapping[str, Box]) -> dict[str, float]:
    """Per printed value, the median flat noise (grey levels) of the other printed values.

    Values with fewer than :data:`NOISE_MIN_PEERS` measurable peers, and the regions of
    :data:`NOISE_UNPAIRED_REGIONS`, get none.
    """
    flat: dict[str, float] = {}
    for key, box in boxes.items():
        if key in NOISE_UNPAIRED_REGIONS:
            continue
        mask = _block_mask(maps.noise.shape, box)
        level = _flat_noise(maps, mask) if mask.any() else None
        if level is not None:
            flat[key] = level
    out: dict[str, float] = {}
    for key in flat:
        others = [v for k, v in flat.items() if k != key]
        if len(others) >= NOISE_MIN_PEERS:
            out[key] = float(np.median(others))
    return out


def _evidence_applicable(ev: RegionEvidence) -> bool:
    ref = ev.noise_reference
    return ev.ghost_inconsistency is not None or (ref is not None and ref >= NOISE_MIN_LEVEL)


#: Regions tested for a shifted JPEG grid: large enough for the statistic (printed values are
#: 30-60 px high, too few blocks; pasted text is caught by the cross-checks and the other cues).
SHIFTED_GRID_REGIONS = frozenset({"portrait"})


def _with_shifted_grid(ev: RegionEvidence, luma: np.ndarray) -> RegionEvidence:
    grid = shifted_grid_lattice(luma, ev.box)
    if grid is None:
        return ev
    why = ev.why
    if grid.suspicious:
        note = f"carries its own JPEG grid at offset {grid.offset} (lattice z {grid.z:.1f}, quality ~{grid.quality})"
        why = f"{why}; {note}" if why else note
    return replace(ev, suspicious=ev.suspicious or grid.suspicious, why=why, shifted_grid=grid)


def error_level_consistency(
    data: bytes, regions: Mapping[str, Box] | None = None, *, rgb: np.ndarray | None = None
) -> CheckResult:
    """Does every region share the compression history and noise of the rest of the photo?

    Physics. A browser-uploaded photo was JPEG-compressed by the camera (quality q1)
    and usually again by the browser (q2 ~ 85-92) *on the same 8x8 grid*: every block's
    DCT coefficients then still sit near the lattice of the first quantisation table.
    For each candidate earlier quality q (30-95, only tables at least 1.5x coarser than
    the file's own), the check measures, per block, how far the low/mid AC coefficients
    lie from the q-lattice (``12 u^2``, 0 on the lattice, 1 for random values; only
    coefficients that quantise to non-zero count). The rest of the image gives the
    reference curve and the earlier quality (its minimum); a pasted portrait or text
    patch, which was never compressed on this grid at q1, sits at ~1 where the rest is
    near 0 (the "JPEG ghost"). Independently, sensor noise in the flattest quarter of
    the region's blocks is compared with the band around it (for a printed value, with
    the lower of that band and the other printed values' median): a digitally rendered
    text patch has none. Thresholds: :data:`GHOST_THRESHOLD` on
    ``g = (region - reference) / (1.05 - reference)``, :data:`NOISE_RATIO_THRESHOLD`.

    ``regions`` are boxes in *stored* JPEG pixels (see the module docstring); without
    regions, 96-px tiles over the image are tested with a stricter threshold. ``rgb``:
    ``data``'s pixels as stored (no EXIF rotation) when the caller decoded them already;
    used only when its size matches the file's header, ``data`` is decoded otherwise.

    Limits (measured, see the report): the lattice cue needs an earlier compression
    coarser than the last one (q1 below ~80 with a 85-92 re-encode); the noise cue needs
    noise that survived the camera JPEG (q1 ~ 90 or more). A single-compressed file at
    a middle quality, or a forger who re-compresses everything at a coarse quality,
    leaves nothing to compare: ``inconclusive`` / ``no_compression_trace``. A
    portrait swapped *before printing* is physically genuine and cannot be seen here.
    """
    name = "compression_consistency"
    if not data:
        return _inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format != "jpeg":
        return _inconclusive(name, "not_jpeg", f"compression history needs a JPEG, got {container.format}")
    given = _valid_rgb(rgb, min_side=1)
    if given is None or given.shape[:2] != (container.height, container.width):
        given = decode_stored(bytes(data))
    rgb = given
    if rgb is None or min(rgb.shape[:2]) < 64:
        return _inconclusive(name, "unreadable_image", "the JPEG cannot be decoded or is smaller than 64 px")
    luma = _luma(rgb)
    maps = _block_maps(luma, container.luma_table, list(regions.values()) if regions else None)
    total_s = maps.ghost_sum.sum()
    total_n = maps.ghost_count.sum()
    h, w = rgb.shape[:2]
    tiled = not regions
    boxes: dict[str, Box] = {}
    if regions:
        for key, box in regions.items():
            x, y, bw, bh = (int(v) for v in box)
            x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
            if x1 - x0 >= 16 and y1 - y0 >= 16:
                boxes[key] = (x0, y0, x1 - x0, y1 - y0)
        if not boxes:
            return _inconclusive(name, "no_usable_region", "every region is outside the image or under 16 px")
    else:
        step = 96
        for ty in range(0, h - step + 1, step):
            for tx in range(0, w - step + 1, step):
                boxes[f"tile_{ty // step}_{tx // step}"] = (tx, ty, step, step)
    peers = {} if tiled else _peer_noise(maps, boxes)
    evidence = [_region_evidence(maps, key, box, total_s, total_n, peers.get(key)) for key, box in boxes.items()]
    if tiled:
        evidence = [_tile_rule(ev) for ev in evidence]
    else:
        evidence = [_with_shifted_grid(ev, luma) if ev.name in SHIFTED_GRID_REGIONS else ev for ev in evidence]
    applicable = [ev for ev in evidence if _evidence_applicable(ev)]
    suspicious = [ev for ev in evidence if ev.suspicious]
    worst = max((ev.ghost_inconsistency for ev in evidence if ev.ghost_inconsistency is not None), default=None)
    data_out: dict[str, object] = {
        "regions": [ev.to_dict() for ev in evidence] if not tiled else [ev.to_dict() for ev in suspicious][:10],
        "final_quality": _estimate_quality(container.luma_table),
        "tiled": tiled,
    }
    if suspicious:
        names = ", ".join(ev.name for ev in suspicious)
        g = max((ev.ghost_inconsistency or 0.0) for ev in suspicious)
        score = float(np.clip(0.5 - 0.5 * (g - GHOST_THRESHOLD), 0.0, 0.45))
        return check(
            name,
            Status.FAIL,
            "inconsistent_compression",
            score,
            f"suspicious region(s): {names} ({suspicious[0].why})",
            suspicious=[ev.name for ev in suspicious],
            **data_out,
        )
    if len(applicable) < len(evidence) or not evidence:
        return _inconclusive(
            name,
            "no_compression_trace",
            "no earlier compression or sensor noise to compare regions against",
            **data_out,
        )
    score = 1.0 if worst is None else float(np.clip(1.0 - 0.5 * max(0.0, worst) / GHOST_THRESHOLD, 0.5, 1.0))
    return check(name, Status.PASS, "consistent", score, f"{len(evidence)} region(s) consistent", **data_out)


def _tile_rule(ev: RegionEvidence) -> RegionEvidence:
    """Tiles: only a strong lattice inconsistency counts (many tiles, so a stricter bar); noise is ignored.

    The lattice needs :data:`GHOST_TILE_MIN_DENSITY` informative coefficients per block of the tile.
    """
    _, _, w, h = ev.box
    strong = (
        ev.ghost_inconsistency is not None
        and ev.ghost_inconsistency > GHOST_TILE_THRESHOLD
        and (ev.ghost_samples or 0) >= GHOST_TILE_MIN_DENSITY * (w // 8) * (h // 8)
    )
    why = ev.why.split(";")[0] if strong else ""
    return replace(ev, noise_region=None, noise_ring=None, noise_peers=None, suspicious=strong, why=why)


def _estimate_quality(table: np.ndarray | None) -> int | None:
    """The IJG quality whose luminance table is closest to ``table`` (None for no table)."""
    if table is None:
        return None
    errors = [float(np.abs(ijg_table(q) - table).mean()) for q in range(1, 101)]
    return int(np.argmin(errors)) + 1


# --------------------------------------------------------------------------- copy-move

#: Shifted pixels are "the same" when their 7x7-mean absolute difference is below
#: ``COPY_DIFF_BASE + COPY_DIFF_RELATIVE * local contrast`` (grey levels).
COPY_DIFF_BASE = 2.0
COPY_DIFF_RELATIVE = 0.06
#: Local contrast (standard deviation over 9x9 px, grey levels) a copied area must have: structure, not noise.
COPY_MIN_TEXTURE = 10.0
#: Smallest copied area reported, in pixels (after any downscale to 1600 px). Genuine generated
#: licence fronts whose camera JPEG had erased the sensor noise matched repeated header letters
#: over 917-1137 px (3 of 200 at 900); a printed value copied over another matched over
#: 2127-6964 px (18 cases). A single cloned glyph (about 26x40 px) is below it.
COPY_MIN_AREA = 1600
_COPY_MIN_SHIFT = 24
#: ORB keypoints self-matched; the brute-force matching costs grow with their square. 1500 found
#: the same 36 of 40 dates copied over another date as 2500 did (generated photos, camera JPEG
#: 40-95), flagged none of the 40 genuine ones, and took 66 instead of 93 ms on one core.
COPY_FEATURES = 1500


def copy_move(rgb: np.ndarray) -> CheckResult:
    """Find a region duplicated elsewhere in the same image (clone stamp, copied field).

    Physics: a copy-moved region carries the *same* pixels, sensor noise included, at
    a constant offset; only the final JPEG (on a different 8x8 phase) perturbs them by
    a grey level or two. Genuinely repeated content (the same glyphs in three dates,
    a periodic guilloche, the ghost portrait, which is a scaled copy) is printed and
    photographed twice, so it differs by independent sensor noise, sub-pixel
    resampling and perspective.

    Method: ORB keypoints at one scale, self-matched (Hamming distance <= 40, at least
    24 px apart); offsets are binned (4 px) and the three largest bins with 5 or more
    pairs are candidate shifts. Each is refined to the integer shift (+-2 px) that makes
    15x15 patches around its keypoints most alike, then verified densely: pixels where the
    7x7-mean absolute difference is below ``COPY_DIFF_BASE + COPY_DIFF_RELATIVE x contrast``
    and the local contrast (9x9 standard deviation) is at least :data:`COPY_MIN_TEXTURE`;
    the largest connected area of such pixels must
    reach :data:`COPY_MIN_AREA` after removing what still matches 3 px further in any
    direction (straight edges, gradients and fine periodic patterns) and strips thinner
    than 9 px. ``fail`` / ``copy_move`` reports source and destination
    boxes (in the given image's pixels); ``pass`` / ``no_duplicate``; ``inconclusive``
    for images under 64 px or without texture (``no_texture``).
    """
    name = "copy_move"
    arr = _valid_rgb(rgb)
    if arr is None:
        return _inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    scale = min(1.0, 1600.0 / max(arr.shape[:2]))
    gray = cv2.cvtColor(arr, cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    orb = cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=COPY_FEATURES, scaleFactor=1.2, nlevels=1, edgeThreshold=15, patchSize=15, fastThreshold=8
    )
    keypoints, desc = orb.detectAndCompute(gray, None)
    if desc is None or len(keypoints) < 20:
        return _inconclusive(name, "no_texture", "too few keypoints to compare regions")
    matches = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(desc, desc, k=4)
    pts = np.array([kp.pt for kp in keypoints], np.float32)
    bins: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}  # (dx, dy, source x, source y)
    pairs_all = np.array(
        [(m.queryIdx, m.trainIdx, m.distance) for group in matches for m in group[1:]], np.float64
    ).reshape(-1, 3)
    query, train = pairs_all[:, 0].astype(np.int64), pairs_all[:, 1].astype(np.int64)
    keep = (pairs_all[:, 2] <= 40) & (query < train)
    query, train = query[keep], train[keep]
    first, second = pts[query], pts[train]
    delta = (second - first).astype(np.float64)  # float32 differences, as the keypoints are stored
    forward = (delta[:, 0] > 0) | ((delta[:, 0] == 0) & (delta[:, 1] > 0))  # offsets point right (or down)
    origin = np.where(forward[:, None], first, second).astype(np.float64)
    offset = np.where(forward[:, None], delta, -delta)
    far = (offset * offset).sum(axis=1) >= _COPY_MIN_SHIFT**2
    keys = np.round(offset / 4).astype(np.int64)
    for i in np.flatnonzero(far).tolist():
        bins.setdefault((int(keys[i, 0]), int(keys[i, 1])), []).append(
            (float(offset[i, 0]), float(offset[i, 1]), float(origin[i, 0]), float(origin[i, 1]))
        )
    candidates = [c for c in sorted(bins.values(), key=len, reverse=True)[:3] if len(c) >= 5]
    y = gray.astype(np.float32)
    mean = cv2.blur(y, (9, 9))
    texture = np.sqrt(np.maximum(cv2.blur(y * y, (9, 9)) - mean * mean, 0.0))
    best: tuple[int, tuple[int, int], np.ndarray] | None = None
    for offsets in candidates:
        pairs = np.array(offsets)
        median = np.median(pairs[:, :2], axis=0)
        shift = _refine_shift(y, pairs[:, 2:], (int(np.rint(median[0])), int(np.rint(median[1]))))
        area, mask = _verify_shift(y, texture, *shift, at_least=0 if best is None else best[0])
        if best is None or area > best[0]:
            best = (area, shift, mask)
    if best is None or best[0] < COPY_MIN_AREA:
        area = 0 if best is None else best[0]
        return check(
            name,
            Status.PASS,
            "no_duplicate",
            1.0 if area < COPY_MIN_AREA / 2 else 0.7,
            "no duplicated textured region found",
            largest_area_px=int(area / scale / scale),
            candidates=len(candidates),
        )
    area, (dx, dy), mask = best
    # Aperture test: a true copy matches at one shift only; a straight edge or a smooth gradient
    # along the shift direction still matches 3 px further on. Keep only what is lost when moved.
    # Periodic print (an MRZ's run of '<' fillers, a guilloche row) repeats at its own period p too: a
    # region whose content recurs every p px along the shift also matches p px short of it or past it.
    period = _period_along(y, mask, dx, dy)
    steps = [(3, 0), (-3, 0), (0, 3), (0, -3)]
    if period is not None:
        steps += [(period[0], period[1]), (-period[0], -period[1])]
    for ex, ey in steps:
        _, moved = _verify_shift(y, texture, dx + ex, dy + ey)
        mask &= ~cv2.dilate(moved.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    # Strips thinner than 9 px (an edge matched along itself) are not copied areas.
    thick = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((9, 9), np.uint8))
    n_cc, labels, stats, _ = cv2.connectedComponentsWithStats(thick, connectivity=8)
    area = int(stats[1:, cv2.CC_STAT_AREA].max()) if n_cc > 1 else 0
    if area < COPY_MIN_AREA:
        return check(
            name,
            Status.PASS,
            "no_duplicate",
            0.7,
            "only edge-like or periodic self-similarity found",
            largest_area_px=int(area / scale / scale),
            candidates=len(candidates),
        )
    mask = labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    ys, xs = np.nonzero(mask)
    inv = 1.0 / scale
    src = (
        int(xs.min() * inv),
        int(ys.min() * inv),
        int((xs.max() - xs.min() + 1) * inv),
        int((ys.max() - ys.min() + 1) * inv),
    )
    dst = (int(src[0] + dx * inv), int(src[1] + dy * inv), src[2], src[3])
    return check(
        name,
        Status.FAIL,
        "copy_move",
        float(np.clip(0.4 * COPY_MIN_AREA / area, 0.0, 0.4)),
        f"a {src[2]}x{src[3]} px region is duplicated at offset ({int(dx * inv)}, {int(dy * inv)})",
        source_box=list(src),
        copy_box=list(dst),
        area_px=int(area * inv * inv),
    )


#: Normalised autocorrelation above which a matched region counts as periodic along the shift.
COPY_PERIODIC_CORRELATION = 0.8


def _period_along(y: np.ndarray, mask: np.ndarray, dx: int, dy: int) -> tuple[int, int] | None:
    """The repeat (px, along the shift's main axis) of the matched source region, if it is periodic.

    ``mask``: the region's pixels in ``y``; the shift (``dx``, ``dy``) is mostly horizontal or
    mostly vertical. Lags of 4 px up to half the shift (at most 64) are tried on the region's
    bounding box; the one with the highest normalised autocorrelation, if above
    :data:`COPY_PERIODIC_CORRELATION`, is the period, returned as an (x, y) step.
    """
    ys, xs = np.nonzero(mask)
    if ys.size == 0:
        return None
    patch = y[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float64)
    horizontal = abs(dx) >= abs(dy)
    if not horizontal:
        patch = patch.T
    longest = min(64, max(abs(dx), abs(dy)) // 2, patch.shape[1] // 2)
    best_lag, best = 0, COPY_PERIODIC_CORRELATION
    for lag in range(4, longest + 1):
        a, b = patch[:, :-lag] - patch[:, :-lag].mean(), patch[:, lag:] - patch[:, lag:].mean()
        denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
        correlation = float((a * b).sum()) / denominator if denominator > 0 else 0.0
        if correlation > best + 1e-6:
            best_lag, best = lag, correlation
    if best_lag == 0:
        return None
    return (best_lag, 0) if horizontal else (0, best_lag)


def _refine_shift(y: np.ndarray, pts: np.ndarray, guess: tuple[int, int]) -> tuple[int, int]:
    """The integer shift within +-2 px of ``guess`` with the smallest mean absolute difference around ``pts``.

    ``pts`` (n, 2) are the source points (x, y) of the matched pairs.
    """
    h, w = y.shape
    gx, gy = guess
    inside = (
        (pts[:, 0] >= 10 + max(0, -gx) + 2)
        & (pts[:, 0] < w - 10 - max(0, gx) - 2)
        & (pts[:, 1] >= 10 + max(0, -gy) + 2)
        & (pts[:, 1] < h - 10 - max(0, gy) - 2)
    )
    chosen = pts[inside][:40].astype(int)
    if chosen.size == 0:
        return guess
    # 15x15 patches around the points (n, 15, 15), and the same patches shifted, gathered at once.
    grid = np.arange(-7, 8)
    rows = chosen[:, 1][:, None, None] + grid[None, :, None]
    cols = chosen[:, 0][:, None, None] + grid[None, None, :]
    patches = y[rows, cols]
    best, best_cost = guess, np.inf
    for dx in range(gx - 2, gx + 3):
        for dy in range(gy - 2, gy + 3):
            cost = float(np.abs(patches - y[rows + dy, cols + dx]).mean(axis=(1, 2)).astype(np.float64).sum())
            if cost < best_cost:
                best, best_cost = (dx, dy), cost
    return best


def _verify_shift(y: np.ndarray, texture: np.ndarray, dx: int, dy: int, *, at_least: int = 0) -> tuple[int, np.ndarray]:
    """Largest connected area where ``y`` and ``y`` shifted by (dx, dy) agree on textured pixels; its source mask.

    When no more than ``at_least`` pixels agree in all, the largest area cannot exceed
    ``at_least`` either: (0, empty mask) is returned without labelling the components.
    """
    h, w = y.shape
    x0, x1 = max(0, -dx), min(w, w - dx)
    y0, y1 = max(0, -dy), min(h, h - dy)
    mask = np.zeros((h, w), bool)
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0, mask
    a = y[y0:y1, x0:x1]
    b = y[y0 + dy : y1 + dy, x0 + dx : x1 + dx]
    diff = cv2.blur(cv2.absdiff(a, b), (7, 7))
    tex = cv2.min(texture[y0:y1, x0:x1], texture[y0 + dy : y1 + dy, x0 + dx : x1 + dx])
    limit = tex * np.float32(COPY_DIFF_RELATIVE)
    limit += np.float32(COPY_DIFF_BASE)
    agree = ((diff < limit) & (tex >= COPY_MIN_TEXTURE)).view(np.uint8)
    same = cv2.morphologyEx(agree, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    # Label only the bounding box of the agreeing pixels (the components are the same, found faster).
    bx, by, bw, bh = cv2.boundingRect(same)
    if bw == 0 or bh == 0 or int(cv2.countNonZero(same)) <= at_least:
        return 0, mask  # nothing, or too little to beat ``at_least``
    n, labels, stats, _ = cv2.connectedComponentsWithStats(same[by : by + bh, bx : bx + bw], connectivity=8)
    if n <= 1:
        return 0, mask
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    mask[y0 + by : y0 + by + bh, x0 + bx : x0 + bx + bw] = labels == k
    return int(stats[k, cv2.CC_STAT_AREA]), mask


# --------------------------------------------------------------------------- recapture, photocopy, screenshot


def _document_area(rgb: np.ndarray, document: np.ndarray | None) -> np.ndarray:
    """The rectified document when given, else the central 60% of the photo (where the document usually is)."""
    doc = _valid_rgb(document) if document is not None else None
    if doc is not None:
        return doc
    h, w = rgb.shape[:2]
    return rgb[int(0.2 * h) : int(0.8 * h), int(0.2 * w) : int(0.8 * w)]


#: Spectral peak prominence (natural log of power over its local median) above which a luminance
#: lattice is declared ...
SCREEN_PEAK_THRESHOLD = 2.5
#: ... and a chroma (R-G, B-G) lattice. Genuine generated card fronts reached 2.84 in blue-green (their
#: tinted background print; N=645, 7 above 2.5); no screen recapture was caught by a chroma peak
#: between 2.5 and 3.0 alone (N=350; seeds 83 and 101).
SCREEN_CHROMA_PEAK_THRESHOLD = 3.0
#: The single-peak threshold of each analysed channel.
_PEAK_LIMITS = {
    "luma": SCREEN_PEAK_THRESHOLD,
    "red_green": SCREEN_CHROMA_PEAK_THRESHOLD,
    "blue_green": SCREEN_CHROMA_PEAK_THRESHOLD,
}


#: Most tiles averaged per channel (evenly spread over the document when it holds more).
SCREEN_MAX_TILES = 64
#: Fewest tiles for which the thresholds above hold. The Welch spectrum of few tiles is noisy: white
#: noise run through the same spectrum (12 draws per size) reaches single peaks of 1.7-2.3 and
#: out-of-phase chroma peaks of 1.6-2.3 over 4 tiles, 1.2-1.3 over 9, 1.0-1.15 over 16, and stays under
#: the weakest cue's threshold (1.0) from 25 tiles on (0.76-0.90). Real licence scans 240-700 px wide
#: give 2-15 tiles and failed the check at 2, 3, 4, 10, 15 and 15 tiles; generated camera photos of
#: cards give 38-64. Below this count a failure is reported with ``data.few_tiles`` (a review
#: signal in the pipeline, :mod:`openidv.document.integrity_pipeline`).
SCREEN_MIN_TILES = 25
#: The largest prominence white noise reaches over ``n`` tiles is about this over sqrt(n) (measured
#: maxima, 10-12 draws: 2.97 over 2 tiles, 2.06 over 4, 1.72 over 6, 1.14 over 15, 0.90 over 25,
#: 0.57 over 64; the curve lies on or just above them). Over fewer than 21 tiles it exceeds the
#: weakest cue's threshold; each cue's threshold is then raised to it (:func:`_noise_floor`).
SCREEN_NOISE_PROMINENCE = 4.5


def _noise_floor(tiles: int) -> float:
    """The prominence white noise alone reaches in a Welch spectrum of ``tiles`` tiles (see above)."""
    return SCREEN_NOISE_PROMINENCE / float(np.sqrt(max(tiles, 1)))


#: Pixels between the document's outline and the tiles taken as its surroundings.
SCREEN_OUTSIDE_MARGIN = 12


def _tile_origins(
    shape: tuple[int, int], tile: int, outline: np.ndarray | None, *, outside: bool = False
) -> list[tuple[int, int]]:
    """Top-left corners of ``tile``-px tiles at half-tile steps, at most :data:`SCREEN_MAX_TILES` (evenly spread).

    With ``outline``: only tiles wholly inside it, 2 px clear of its edge; with ``outside``,
    only tiles wholly outside it grown by :data:`SCREEN_OUTSIDE_MARGIN` px instead.
    """
    h, w = shape
    step = tile // 2
    origins = [(ty, tx) for ty in range(0, h - tile + 1, step) for tx in range(0, w - tile + 1, step)]
    if outline is not None and origins:
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round(outline).astype(np.int32).reshape(-1, 1, 2)], 1)
        if outside:
            size, wanted = 2 * SCREEN_OUTSIDE_MARGIN + 1, 0
            mask = cv2.dilate(inside, np.ones((size, size), np.uint8))
        else:  # stay clear of the document's edge
            mask, wanted = cv2.erode(inside, np.ones((5, 5), np.uint8)), tile * tile
        integral = cv2.integral(mask)
        origins = [
            (ty, tx)
            for ty, tx in origins
            if integral[ty + tile, tx + tile] - integral[ty, tx + tile] - integral[ty + tile, tx] + integral[ty, tx]
            == wanted
        ]
    if len(origins) > SCREEN_MAX_TILES:
        keep = np.linspace(0, len(origins) - 1, SCREEN_MAX_TILES).round().astype(int)
        origins = [origins[i] for i in keep]
    return origins


def _median_along(values: np.ndarray, axis: int, size: int = 9) -> np.ndarray:
    """Running median of ``size`` samples along ``axis`` (edges replicated)."""
    from scipy.ndimage import median_filter  # "nearest" replicates the edges

    shape = [1] * values.ndim
    shape[axis] = size
    return np.asarray(median_filter(values, size=tuple(shape), mode="nearest"), dtype=values.dtype)


def _tile_spectra(channel: np.ndarray, origins: list[tuple[int, int]], tile: int = 128) -> np.ndarray:
    """Real 2-D FFTs (n_tiles, tile, tile // 2 + 1), complex64, of the Hann-windowed
    ``tile``-px tiles at ``origins`` of the high-passed ``channel`` (channel minus its
    Gaussian blur, sigma 3 px)."""
    hp = channel - cv2.GaussianBlur(channel, (0, 0), 3.0)
    window = np.outer(np.hanning(tile), np.hanning(tile)).astype(np.float32)
    out = np.empty((len(origins), tile, tile // 2 + 1), np.complex64)
    for start in range(0, len(origins), 16):  # batched FFTs, bounded memory
        batch = np.stack([hp[ty : ty + tile, tx : tx + tile] for ty, tx in origins[start : start + 16]]) * window
        out[start : start + len(batch)] = np.fft.rfft2(batch, axes=(1, 2))
    return out


def _prominence(spectra: np.ndarray) -> np.ndarray:
    """Peak prominence (tile, tile) of the Welch spectrum of ``spectra`` (from :func:`_tile_spectra`).

    Zero frequency at the centre (fftshift); -inf where excluded. The spectrum is the
    mean power over the tiles. A peak's prominence is its log power over the median of
    its 5x5 neighbourhood; within +-2 bins of a multiple of 1/8 cycle/px on one axis
    (the JPEG block grid of the analysed image raises whole rows and columns of the
    spectrum) over the median of 9 bins along that row or column, so a lattice peak
    near the grid still counts. Excluded: frequencies below 6/128 cycles/px (document
    layout, guilloche) and the crossings of two grid lines.
    """
    n, tile, half = spectra.shape
    acc_half = (spectra.real.astype(np.float64) ** 2 + spectra.imag.astype(np.float64) ** 2).sum(axis=0)
    # A real signal's power spectrum is symmetric, P(-ky, -kx) = P(ky, kx): the real FFT computes the
    # columns kx = 0 .. tile / 2, the others are their mirror images.
    acc = np.empty((tile, tile), np.float64)
    acc[:, :half] = acc_half
    mirror_rows = (-np.arange(tile)) % tile
    acc[:, half:] = acc_half[mirror_rows][:, tile - np.arange(half, tile)]
    logp = np.log(np.fft.fftshift(acc / max(n, 1)) + 1e-6).astype(np.float32)
    f = np.fft.fftshift(np.fft.fftfreq(tile))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    near = [np.abs(axis * 8.0 - np.round(axis * 8.0)) * tile / 8.0 <= 2.0 for axis in (fx, fy)]
    # Off the grid lines: prominence over the 5x5 neighbourhood. On a grid line (the JPEG block
    # boundaries raise whole rows/columns of the spectrum): over the line itself, 9 bins along it.
    prominence = logp - cv2.medianBlur(logp, 5)
    along_columns = logp - _median_along(logp, axis=0)
    along_rows = logp - _median_along(logp, axis=1)
    prominence = np.where(near[0], along_columns, prominence)
    prominence = np.where(near[1], along_rows, prominence)
    keep = (np.hypot(fx, fy) >= 6.0 / tile) & ~(near[0] & near[1])
    return np.where(keep, prominence, -np.inf).astype(np.float32)


#: Two luminance peaks of equal length (within SCREEN_SQUARE_LENGTH bins or 6 %) and perpendicular (within
#: SCREEN_SQUARE_DEGREES) whose weaker prominence exceeds SCREEN_SQUARE_THRESHOLD fail: a square lattice.
#: Genuine generated card fronts: at most 1.36 (N=645); screen recaptures the other cues missed on seed
#: 83: 3 of 11 above 1.5. Real passport and ID scans of ``passporteye``/``fastmrz`` that the other cues
#: pass: at most 1.42 (N=15).
SCREEN_SQUARE_THRESHOLD = 1.5
SCREEN_SQUARE_DEGREES = 5.0
SCREEN_SQUARE_LENGTH = 2.5
#: Peaks weaker than this, or nearer the origin than SCREEN_SQUARE_MIN_RADIUS bins, are not paired.
SCREEN_SQUARE_FLOOR = 0.7
SCREEN_SQUARE_MIN_RADIUS = 8.0


def _finite(prominence: np.ndarray) -> np.ndarray:
    """A :func:`_prominence` map (float32) with its excluded (-inf) frequencies at -10, for filters and minima."""
    return np.where(np.isfinite(prominence), prominence, -10.0).astype(np.float32)


def _square_lattice(prominence: np.ndarray) -> float:
    """The weaker prominence of the best pair of perpendicular, equally long peaks (0 if none).

    Physics: a screen's pixels form a square lattice, with spectral peaks at two perpendicular
    frequency vectors of equal length. Seen by a camera whose own pixel grid is square too,
    the lattice aliases into moire that stays square: folding ``(f cos a, f sin a)`` back by
    ``(1, 0)`` and its perpendicular ``(-f sin a, f cos a)`` by ``(0, 1)`` gives two vectors
    that are again perpendicular and of equal length, whatever the screen's tilt ``a``. So a
    moire too faint for :data:`SCREEN_PEAK_THRESHOLD` still shows as a *pair* of modest
    peaks at right angles, while print (guilloche, microtext) rarely forms such a pair.
    ``prominence``: a :func:`_prominence` map (zero frequency at the centre; the map is
    symmetric, so the half with ``kx >= 0`` holds every peak once).
    """
    tile = prominence.shape[0]
    half = tile // 2
    finite = _finite(prominence)
    is_max = (finite >= cv2.dilate(finite, np.ones((3, 3), np.uint8))) & (finite >= SCREEN_SQUARE_FLOOR)
    ys, xs = np.nonzero(is_max[:, half:])
    vectors = np.stack([xs, ys - half], axis=1).astype(np.float64)  # (kx, ky) in bins
    values = finite[:, half:][ys, xs]
    radius = np.hypot(vectors[:, 0], vectors[:, 1])
    keep = radius >= SCREEN_SQUARE_MIN_RADIUS
    vectors, values, radius = vectors[keep], values[keep], radius[keep]
    if len(values) < 2:
        return 0.0
    cosine = np.abs(vectors @ vectors.T) / np.outer(radius, radius)
    longer = np.maximum(radius[:, None], radius[None, :])
    square = (cosine <= np.sin(np.deg2rad(SCREEN_SQUARE_DEGREES))) & (
        np.abs(radius[:, None] - radius[None, :]) <= np.maximum(SCREEN_SQUARE_LENGTH, 0.06 * longer)
    )
    pairs = np.where(square, np.minimum(values[:, None], values[None, :]), 0.0)
    return float(pairs.max())


def _peak(prominence: np.ndarray) -> float:
    top = float(prominence.max()) if prominence.size else 0.0
    return top if np.isfinite(top) else 0.0


#: A chroma peak counts as sub-pixel moire when this share of its colour vector's energy is out of
#: phase (0: R, G, B in phase or anti-phase, as ink and the photo's own detail; 0.067: two equal
#: channels 30 degrees apart; 0.5: three equal channels 120 degrees apart; genuine card photos
#: stayed below 0.02 at every chroma peak above the threshold below, N=186), when that vector holds
#: this share of the peak's power ...
SCREEN_SUBPIXEL_SHARE = 0.04
SCREEN_SUBPIXEL_DOMINANCE = 0.6
#: ... and its prominence exceeds this. Genuine generated card photos: no such peak above 0.61 (N=182);
#: screen recaptures: 1.0-3.4 in 41 % of them (N=159).
SCREEN_SUBPIXEL_THRESHOLD = 1.0


def _subpixel_moire(luma: np.ndarray, red_green: np.ndarray, blue_green: np.ndarray, chroma: np.ndarray) -> float:
    """Prominence of the strongest chroma peak whose R, G, B components are out of phase (0 if none).

    Physics: a screen's R, G and B sub-pixels sit side by side, a third of a pixel apart,
    so the moire they beat into carries the three colours shifted by about 120 degrees of
    phase. Ink darkens the channels together (in phase, or in anti-phase for a complementary
    tint) and the upload's chroma subsampling leaves fine print detail achromatic.
    ``luma``, ``red_green``, ``blue_green``: :func:`_tile_spectra` of those channels;
    ``chroma``: the larger of the two chroma prominence maps. R, G, B are recovered from
    the three linear combinations (luma = 0.299 R + 0.587 G + 0.114 B). A pattern of two
    interleaved inks is out of phase too, but it also darkens: its luminance keeps the
    colour vector close to in phase, while a screen's balanced emitters leave it chromatic.
    """
    tile = chroma.shape[0]
    half = tile // 2
    # the map is symmetric: the half with kx >= 0 holds every peak once; its column ix is kx = ix - half
    ys, xs = np.nonzero(chroma[:, half:] > SCREEN_SUBPIXEL_THRESHOLD)
    if ys.size == 0:
        return 0.0
    ky, kx = (ys - half) % tile, xs
    y, rg, bg = (s[:, ky, kx].astype(np.complex128) for s in (luma, red_green, blue_green))
    g = y - 0.299 * rg - 0.114 * bg
    rgb = np.stack([rg + g, g, bg + g], axis=-1)  # (tiles, candidates, 3)
    # The colour vector at each peak: the dominant eigenvector of the 3x3 cross-spectral matrix
    # summed over the tiles (a weak, noisy channel weighs little in it).
    cross = np.einsum("tki,tkj->kij", rgb, rgb.conj())
    eig, vectors = np.linalg.eigh(cross)
    e = vectors[:, :, -1]  # (candidates, 3)
    dominance = eig[:, -1] / np.maximum(eig.sum(axis=1), 1e-12)
    # Out-of-phase share: the smaller eigenvalue of the real 2x2 Gram matrix of (Re e, Im e) over its
    # trace, whatever the global phase: 0 when R, G, B are in phase or anti-phase, 0.5 for three
    # equal channels 120 degrees apart.
    re, im = e.real, e.imag
    a, b, c = (re * re).sum(axis=1), (re * im).sum(axis=1), (im * im).sum(axis=1)
    half_gap = np.sqrt(((a - c) / 2.0) ** 2 + b * b)
    share = ((a + c) / 2.0 - half_gap) / np.maximum(a + c, 1e-12)
    values = chroma[:, half:][ys, xs]
    out_of_phase = values[(share >= SCREEN_SUBPIXEL_SHARE) & (dominance >= SCREEN_SUBPIXEL_DOMINANCE)]
    return float(out_of_phase.max()) if out_of_phase.size else 0.0


#: A luminance peak present both on the document and around it (on the table, the screen's
#: surroundings), with at least this prominence in each, fails: a pattern that crosses the
#: document's edge is in the imaging path (a screen's lattice), not in the print. Genuine
#: generated card photos: at most 0.69 (N=44); screen recaptures the lattice test missed: 0.8-2.1.
SCREEN_SHARED_THRESHOLD = 1.0  # lower where many tiles lie around the document: screen_cues.shared_lattice_limit
#: Bins (of 1/128 cycle/px) between the two peaks: a moire's beat frequency drifts across a
#: screen seen at a slant (a 3 % change of pitch moves it by about 2 bins).
SCREEN_SHARED_RADIUS = 4
#: Tiles needed around the document for the comparison (at most SCREEN_MAX_TILES are used).
SCREEN_MIN_OUTSIDE_TILES = 4


def _shared_lattice(luma: np.ndarray, inside: np.ndarray, outline: np.ndarray, tile: int = 128) -> tuple[float, int]:
    """The strongest luminance peak found both around the document and on it, and the tiles used around it.

    ``luma``: the whole photo's luminance; ``inside``: the document's luma prominence map
    (:func:`_prominence`); ``outline``: the document's corners in photo pixels. The value is
    the smaller of the two prominences for the best pair of peaks within
    :data:`SCREEN_SHARED_RADIUS` bins of each other (0 when too few tiles lie outside).
    """
    origins = _tile_origins(luma.shape[:2], tile, outline, outside=True)
    if len(origins) < SCREEN_MIN_OUTSIDE_TILES:
        return 0.0, len(origins)
    outside = _prominence(_tile_spectra(luma, origins, tile))
    size = 2 * SCREEN_SHARED_RADIUS + 1
    near_inside = cv2.dilate(_finite(inside), np.ones((size, size), np.uint8))
    both = np.minimum(_finite(outside), near_inside)
    return max(0.0, float(both.max())), len(origins)


def screen_recapture(
    rgb: np.ndarray, document: np.ndarray | None = None, *, outline: np.ndarray | None = None
) -> CheckResult:
    """Was the document photographed off a screen (phone, monitor)?

    Physics: a screen is a lattice of R, G and B sub-pixels separated by a dark matrix.
    Photographed, the lattice either resolves (a sharp periodic peak in the spectrum
    at the pixel pitch) or aliases against the camera's sensor into moire (peaks at
    the beat frequency), in the luminance and, strongly, in the chroma (the sub-pixels
    are coloured). Printed cards have no such lattice: their spectra are smooth apart
    from the JPEG 8x8 grid, which is masked out, and from the low-frequency layout.

    Where to look: in the photo's own pixel grid. ``outline`` is the document's corners
    ((4, 2), ``rgb`` pixels); only 128-px tiles wholly inside it are used (at most
    :data:`SCREEN_MAX_TILES`, nothing is resampled). Without an outline: the rectified
    ``document`` if given, else the central 60% of the photo. Resampling (rectification)
    moves the JPEG block and chroma-subsampling grids of the upload off the masked
    frequencies and aliases them into peaks of their own: on genuine card photos the
    rectified chroma peaks reached 2.5-3.1, the same documents' photo-grid peaks
    0.4-1.5.

    Method: Welch spectrum (128 px Hann tiles, half overlap) of the high-passed
    luminance and of the R-G and B-G chroma; the largest peak prominence (log power over
    a 5x5 median) above :data:`SCREEN_PEAK_THRESHOLD` (luminance) or
    :data:`SCREEN_CHROMA_PEAK_THRESHOLD` (chroma) fails, and so does a weaker chroma
    peak above :data:`SCREEN_SUBPIXEL_THRESHOLD` whose R, G and B parts are out of phase
    (:func:`_subpixel_moire`: sub-pixels, not ink), a weaker luminance peak above
    :data:`SCREEN_SHARED_THRESHOLD` that the photo also shows around the document
    (:func:`_shared_lattice`: a pattern crossing the document's edge is not printed on it),
    and two weaker luminance peaks above :data:`SCREEN_SQUARE_THRESHOLD`, perpendicular and
    equally long (:func:`_square_lattice`: the square pixel grid of a screen).
    Limits: a screen far enough from the camera, or a photo downscaled so that the
    lattice falls below the camera's resolution, leaves only weak moire; colour/gamma
    cues of screens are not used (too variable between cameras).
    """
    name = "screen_recapture"
    arr = _valid_rgb(rgb)
    if arr is None:
        return _inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    tile = 128
    corners = None
    if outline is not None:
        corners = np.asarray(outline, dtype=np.float64).reshape(-1, 2)
        if corners.shape[0] < 3 or not np.all(np.isfinite(corners)):
            corners = None
    if corners is not None:
        h, w = arr.shape[:2]
        x0, y0 = (int(v) for v in np.clip(np.floor(corners.min(axis=0)), 0, [w, h]))
        x1, y1 = (int(v) for v in np.clip(np.ceil(corners.max(axis=0)) + 1, 0, [w, h]))
        area = arr[y0:y1, x0:x1].astype(np.float32)
        photo_luma = _luma(arr)  # the surroundings are compared too (shared lattice)
        area_luma = np.ascontiguousarray(photo_luma[y0:y1, x0:x1])
        origins = _tile_origins(area.shape[:2], tile, corners - [x0, y0])  # none when the area is under a tile
        where = "document outline in the photo"
    else:
        area = _document_area(arr, document).astype(np.float32)
        if min(area.shape[:2]) < tile:
            return _inconclusive(name, "too_small", "the document area is smaller than 128 px")
        f = 768.0 / max(area.shape[:2])
        if f < 0.5:  # only very large areas are reduced: the lattice needs the camera's own resolution
            area = np.asarray(cv2.resize(area, None, fx=f, fy=f, interpolation=cv2.INTER_AREA), dtype=np.float32)
        area_luma, photo_luma = _luma(area), None
        origins = _tile_origins(area.shape[:2], tile, None)
        where = "rectified document" if document is not None else "photo centre"
    if not origins:
        return _inconclusive(name, "too_small", "no 128 px tile fits inside the document")
    spectra = {
        "luma": _tile_spectra(area_luma, origins, tile),
        "red_green": _tile_spectra(area[..., 0] - area[..., 1], origins, tile),
        "blue_green": _tile_spectra(area[..., 2] - area[..., 1], origins, tile),
    }
    maps = {k: _prominence(v) for k, v in spectra.items()}
    peaks = {k: _peak(m) for k, m in maps.items()}
    subpixel = _subpixel_moire(
        spectra["luma"], spectra["red_green"], spectra["blue_green"], np.maximum(maps["red_green"], maps["blue_green"])
    )
    shared, outside_tiles = (
        (0.0, 0) if photo_luma is None or corners is None else _shared_lattice(photo_luma, maps["luma"], corners, tile)
    )
    square = _square_lattice(maps["luma"])
    # thresholds at or above what noise alone reaches over this many tiles (only few tiles raise them)
    floor = _noise_floor(len(origins))
    limits = {k: max(v, floor) for k, v in _PEAK_LIMITS.items()}
    subpixel_limit, square_limit = max(SCREEN_SUBPIXEL_THRESHOLD, floor), max(SCREEN_SQUARE_THRESHOLD, floor)
    shared_limit = screen_cues.shared_lattice_limit(_noise_floor(outside_tiles), SCREEN_SHARED_THRESHOLD)
    worst = max(peaks, key=lambda k: peaks[k] / limits[k])
    value = peaks[worst]
    ratio = max(
        value / limits[worst],
        subpixel / subpixel_limit,
        shared / shared_limit,
        square / square_limit,
    )
    score = float(np.clip(1.0 - ratio / 2.0, 0.0, 1.0))
    data = {
        "peaks": {k: round(v, 2) for k, v in peaks.items()},
        "subpixel_moire": round(subpixel, 2),
        "shared_lattice": round(shared, 2),
        "shared_limit": round(shared_limit, 2),
        "square_lattice": round(square, 2),
        "tiles": len(origins),
        "outside_tiles": outside_tiles,
        "area": where,
    }
    if len(origins) < SCREEN_MIN_TILES:
        data |= {"few_tiles": True, "noise_floor": round(floor, 2)}
    if value > limits[worst]:
        detail = f"periodic lattice peak in {worst}"
        return check(name, Status.FAIL, "screen_pattern", min(score, 0.49), detail, **data, cue="lattice_peak")
    if subpixel > subpixel_limit:
        detail = "colour moire whose red, green and blue parts are out of phase (screen sub-pixels)"
        return check(name, Status.FAIL, "screen_pattern", min(score, 0.49), detail, **data, cue="subpixel_moire")
    if shared > shared_limit:
        detail = "the same periodic pattern on the document and around it (a screen's lattice, not print)"
        return check(name, Status.FAIL, "screen_pattern", min(score, 0.49), detail, **data, cue="shared_lattice")
    if square > square_limit:
        detail = "two equal, perpendicular periodic patterns (a screen's square pixel lattice)"
        return check(name, Status.FAIL, "screen_pattern", min(score, 0.49), detail, **data, cue="square_lattice")
    return check(name, Status.PASS, "no_screen_pattern", max(score, 0.5), "no screen lattice or moire", **data)


#: 90th percentile of chroma deviation (grey levels, YCbCr) below which the document is grey: fail.
PHOTOCOPY_CHROMA_FAIL = 5.0
#: ... and at or above which it is clearly coloured: pass. In between: inconclusive (pale documents).
PHOTOCOPY_CHROMA_PASS = 12.0


def photocopy(rgb: np.ndarray, document: np.ndarray | None = None) -> CheckResult:
    """Is the document a black-and-white copy?

    Physics: toner is grey; a photographed or scanned B/W copy keeps at most a uniform
    colour cast from the light or the scanner, while ID documents print coloured inks
    (portrait, seals, background). Method: Cb/Cr of the document area (rectified
    document if given, else the central 60% of the photo), minus a cast that is linear
    in luma (least squares; a per-channel gain); the 90th percentile of the remaining chroma magnitude. Below
    :data:`PHOTOCOPY_CHROMA_FAIL` fails (``greyscale_document``), at or above
    :data:`PHOTOCOPY_CHROMA_PASS` passes, in between is ``inconclusive`` /
    ``weak_colour``: real passport data pages are pale (measured 4-11 on scanned
    specimens), generated card photos >= 18 (N=15) and generated B/W copies <= 2.6 (N=60).
    Limits: a *colour* photocopy is not detected here (a print-recapture problem); a
    genuine document under strongly coloured light or a greyscale scan looks grey too.
    """
    name = "photocopy"
    arr = _valid_rgb(rgb)
    if arr is None:
        return _inconclusive(name, "unusable_image", "the image is missing, invalid or smaller than 64 px")
    area = _document_area(arr, document)
    if min(area.shape[:2]) >= 256:
        area = np.ascontiguousarray(area[::2, ::2])  # chroma is stored at half resolution anyway
    ycc = cv2.cvtColor(area, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    luma = ycc[..., 0]
    usable = (luma > 10) & (luma < 252)
    if usable.mean() < 0.05:
        return _inconclusive(name, "exposure", "the document area is too dark or too bright to judge colour")
    chroma = ycc[..., 1:][usable]
    # A cast from the light or scanner is a per-channel gain: chroma then varies linearly with luma.
    design = np.stack([np.ones_like(luma[usable]), luma[usable]], axis=1)
    coef, *_ = np.linalg.lstsq(design[::7], chroma[::7], rcond=None)
    dev = np.hypot(*(chroma - design @ coef).T)
    p90 = float(np.percentile(dev, 90))
    score = float(np.clip(p90 / (2 * PHOTOCOPY_CHROMA_PASS), 0.0, 1.0))
    if p90 < PHOTOCOPY_CHROMA_FAIL:
        return check(name, Status.FAIL, "greyscale_document", min(score, 0.3), f"chroma p90 {p90:.1f}", chroma_p90=p90)
    if p90 < PHOTOCOPY_CHROMA_PASS:
        return _inconclusive(name, "weak_colour", f"chroma p90 {p90:.1f}: pale or grey", chroma_p90=p90)
    return check(name, Status.PASS, "colour_document", max(score, 0.5), f"chroma p90 {p90:.1f}", chroma_p90=p90)


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
        return _inconclusive(name, "empty", "no data")
    container = parse_container(bytes(data))
    if container.format == "unknown":
        return _inconclusive(name, "unsupported_format", "not a known image container")
    arr = _valid_rgb(rgb) if rgb is not None else decode_stored(bytes(data))
    if arr is None or min(arr.shape[:2]) < 64:
        return _inconclusive(name, "unusable_image", "the image cannot be decoded or is smaller than 64 px")
    h, w = arr.shape[:2]
    camera_exif = any(tag in _exif_tags(container) for tag in (0x010F, 0x0110, 0x9003, 0x829A))
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
        return _inconclusive(name, "camera_exif_conflict", "synthetic-looking content with camera EXIF", **info)
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
    return _inconclusive(name, "mixed_evidence", "some exactly uniform areas, but not enough to decide", **info)


# --------------------------------------------------------------------------- all together


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
            results.append(_inconclusive(check_name, "unusable_image", "the image cannot be decoded"))
    else:
        results += [copy_move(pixels), screen_recapture(pixels, document, outline=outline), photocopy(pixels, document)]
    results.append(screenshot(data, pixels))
    if fields is not None:
        results.append(specimen(fields))
    return results
