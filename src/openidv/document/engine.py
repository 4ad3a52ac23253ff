"""The document engine: camera photos of an ID in, a :class:`DocumentReport` out.

Per side (front, and back for licences and ID cards), the steps are kept in a
:class:`~openidv.document.side.SideAnalysis` so every intermediate result can be inspected:

1. decode (the bytes are kept for the metadata and compression checks);
2. locate the document and rectify it to its canonical size
   (:mod:`openidv.document.framing`, :mod:`openidv.document.geometry`); a photo in which
   no outline is found is used as it is (it may already be a tight crop);
3. classify the side by what it carries: a PDF417 barcode (licence back), a face
   (front or passport page, by aspect ratio), an MRZ (passport page or card back);
4. read it: AAMVA payload (:mod:`openidv.document.aamva`), MRZ
   (:mod:`openidv.document.mrz_ocr`), printed text (:mod:`openidv.document.vizone`);

then the report combines the sides: validation (check digits, mandatory elements,
dates, expiry, age, US issuer), cross-checks between sources, the portrait, and the
image-integrity checks (:mod:`openidv.document.integrity`). Nothing here raises on bad
input: unreadable or unusable images become checks with reason codes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import numpy as np

from openidv.checks import CheckResult, Status
from openidv.document.aamva import AamvaError, AamvaRecord, parse_aamva, validate_aamva
from openidv.document.barcode import decode_pdf417
from openidv.document.codes import DocumentFormat, FieldName, Side
from openidv.document.crosscheck import cross_check
from openidv.document.framing import (
    ID1_FALLBACK_MIN_ASPECT,
    drop_outline,
    find_portrait,
    locate_and_rectify,
    outline_is_portrait,
    rerectify,
    turn_upright,
    undo_photo_as_card,
)
from openidv.document.integrity_pipeline import integrity_checks
from openidv.document.licence_front import read_licence_printed
from openidv.document.mrz_ocr import MrzReadout, mrz_band_present, read_mrz
from openidv.document.ocr import DET_SIDE, DET_SIDE_ID1, detect_lines, read_text
from openidv.document.side import PORTRAIT_OUTLINE, SideAnalysis
from openidv.document.types import DocumentReport, DocumentType, FieldSource, FieldValue, check
from openidv.document.validation import validate_fields
from openidv.document.vizone import extract_printed_fields, label_lines
from openidv.errors import ImageError
from openidv.imaging import DEFAULT_MAX_PIXELS, ImageInput, load_rgb

#: The engine's interface; ``SideAnalysis`` and ``PORTRAIT_OUTLINE`` live in :mod:`openidv.document.side`.
__all__ = [
    "DEFAULT_DOCUMENT",
    "PORTRAIT_OUTLINE",
    "SECOND_FACE_RATIO",
    "DocumentConfig",
    "SideAnalysis",
    "analyse_document",
    "analyse_side",
    "build_report",
]

_ALPHA2 = {"USA": "US", "CAN": "CA", "MEX": "MX"}
#: A face at least this share of the largest face's width is a second portrait (not a ghost image).
SECOND_FACE_RATIO = 0.6


@dataclass(frozen=True)
class DocumentConfig:
    max_pixels: int = DEFAULT_MAX_PIXELS
    min_age: int = 18
    barcode_budget_ms: float = 400.0
    read_printed: bool = True  #: OCR the printed zone of fronts and passport pages
    #: recognise the small field labels of passport pages even when every field was found by position
    #: without them (they cost about half the page's recogniser time; they are read anyway when a
    #: field is missing)
    read_labels: bool = False


DEFAULT_DOCUMENT = DocumentConfig()


def analyse_document(
    front: ImageInput,
    back: ImageInput | None = None,
    *,
    today: date,
    config: DocumentConfig = DEFAULT_DOCUMENT,
) -> DocumentReport:
    """Read and check a document from a front photo and, for licences and ID cards, a back photo."""
    t0 = time.perf_counter()
    sides = [analyse_side(front, Side.FRONT, config)]
    if back is not None:
        sides.append(analyse_side(back, Side.BACK, config))
    report = build_report(sides, today=today, config=config)
    report.timings_ms["total"] = (time.perf_counter() - t0) * 1000.0
    return report


def analyse_side(image: ImageInput, role: Side | str, config: DocumentConfig = DEFAULT_DOCUMENT) -> SideAnalysis:
    """Steps 1-4 of the module docstring on one photo; ``role`` is ``front`` or ``back`` (:class:`Side`)."""
    side = SideAnalysis(Side(role))
    clock = _Clock(side)
    if isinstance(image, (bytes, bytearray, memoryview)):
        side.data = bytes(image)
    try:
        side.rgb = load_rgb(image, max_pixels=config.max_pixels)
    except ImageError as exc:
        side.error = exc
        return side
    clock.lap("decode")

    locate_and_rectify(side)
    clock.lap("locate")
    work = _classify(side, config, clock)
    work, quads = _read_mrz_zone(side, work, clock)
    if config.read_printed and side.kind in (DocumentType.US_DL_FRONT, DocumentType.PASSPORT_TD3):
        _read_printed_zone(side, work, quads, config, clock)
    return side


def _classify(side: SideAnalysis, config: DocumentConfig, clock: _Clock) -> np.ndarray:
    """A licence back by its barcode, a portrait side by its face; the working image (upright when a face was found).

    A back photo is first tried as a licence back (barcode), anything else first as a portrait side;
    the other test runs only when the first one finds nothing (swapped sides are still recognised).
    """
    work = side.working
    assert work is not None
    if side.role == Side.BACK:
        _read_barcode(side, work, config)  # PDF417 is read in any orientation: no turning needed first
        clock.lap("barcode")
        if side.kind is DocumentType.UNKNOWN:
            turn_upright(side)  # then looked at as a portrait side, below
            clock.lap("locate")
    if side.kind is DocumentType.UNKNOWN:
        work = find_portrait(side)
        if side.locate is not None and side.locate.quad is not None and outline_is_portrait(side):
            drop_outline(side)
            work = find_portrait(side)
        clock.lap("faces")
        if side.faces:
            side.kind = DocumentType.PASSPORT_TD3 if side.format == DocumentFormat.TD3 else DocumentType.US_DL_FRONT
        elif side.role != Side.BACK:
            _read_barcode(side, work, config)
            clock.lap("barcode")
    return work


def _read_mrz_zone(side: SideAnalysis, work: np.ndarray, clock: _Clock) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Settle page or card by the MRZ band and read the MRZ; the working image and the text lines detected on it.

    The text lines ((4, 2) quads, working-image pixels) are ``None`` when not detected on the
    final working image; the printed zone then detects them.
    """
    quads: list[np.ndarray] | None = None
    if side.faces and side.format == DocumentFormat.ID1:
        work, quads = _card_or_page(side, work, clock)
    if side.faces and side.format != DocumentFormat.ID1:
        work, quads = _read_page(side, work, clock)
    elif side.kind is DocumentType.UNKNOWN:
        side.mrz = read_mrz(work)
        clock.lap("mrz")
        if side.mrz.found and side.mrz.result is not None:
            side.kind = _kind_from_mrz(side.mrz, side.kind)
    return work, quads


def _card_or_page(side: SideAnalysis, work: np.ndarray, clock: _Clock) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """An ID-1 portrait side carrying an MRZ band is a passport page: re-rectified as TD3, or the photo used as is.

    Perspective can stretch a passport page (1.42) past the ID-1 cut, to 1.73 in generated
    photos: a face and an MRZ band on the same side make it a passport page (card fronts carry
    no MRZ). The detection is the one the printed zone needs anyway: it costs nothing here.
    """
    quads = detect_lines(work, max_side=_det_side(side))
    clock.lap("text_detect")
    if mrz_band_present(quads, work.shape[1], min_fraction=0.6):
        if rerectify(side, DocumentFormat.TD3):
            rectified = side.working
            assert rectified is not None
            clock.lap("locate_td3")
            return rectified, None
        if side.locate is not None and side.locate.quad is None:
            # a photo taken as the card (_photo_as_card) that carries an MRZ: a page read as the photo
            work = undo_photo_as_card(side)
            clock.lap("faces")
    return work, quads


def _read_page(side: SideAnalysis, work: np.ndarray, clock: _Clock) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """A passport page, or a card whose outline was measured short or not found: its MRZ and kind.

    One text detection serves the MRZ and the printed zone. TD3 pages always carry an MRZ band.
    """
    quads = detect_lines(work, max_side=_det_side(side))
    clock.lap("text_detect")
    # without an outline the photo is used as is: the document spans only part of its width
    band = mrz_band_present(quads, work.shape[1], min_fraction=0.6 if side.format == DocumentFormat.TD3 else 0.4)
    if side.format == DocumentFormat.TD3 or band:
        side.mrz = read_mrz(work, quads=quads)
        clock.lap("mrz")
    if side.mrz is not None and side.mrz.found and side.mrz.result is not None:
        side.kind = _kind_from_mrz(side.mrz, DocumentType.PASSPORT_TD3)
    elif band:
        side.kind = DocumentType.PASSPORT_TD3  # an MRZ band that cannot be read: mrz_read fails
    elif side.format == DocumentFormat.TD3 and rerectify(side, DocumentFormat.ID1, ID1_FALLBACK_MIN_ASPECT):
        side.kind = DocumentType.US_DL_FRONT
        rectified = side.working
        assert rectified is not None
        clock.lap("locate_id1")
        return rectified, None
    else:
        # no outline and no MRZ: a card front; a page measured short even for a tilted ID-1
        # card stays a passport page whose MRZ is missing (mrz_read fails)
        side.kind = DocumentType.PASSPORT_TD3 if side.format == DocumentFormat.TD3 else DocumentType.US_DL_FRONT
    return work, quads


def _read_printed_zone(
    side: SideAnalysis, work: np.ndarray, quads: list[np.ndarray] | None, config: DocumentConfig, clock: _Clock
) -> None:
    """OCR the printed zone of a licence front or passport page into ``side.ocr_lines`` and ``side.printed``.

    ``quads``: the text lines already detected on ``work``, ``None`` to detect them here.
    """
    if quads is None:
        quads = detect_lines(work, max_side=_det_side(side))
        clock.lap("text_detect")
    skip = [side.mrz.box] if side.mrz is not None and side.mrz.box is not None else []
    order = "mdy" if side.kind is DocumentType.US_DL_FRONT else "dmy"
    labels = [False] * len(quads)
    if side.kind is DocumentType.PASSPORT_TD3 and not config.read_labels:
        labels = label_lines(quads)  # read them only if the fields are not all found by position
    side.ocr_lines = read_text(work, quads=[q for q, lab in zip(quads, labels, strict=True) if not lab], skip=skip)
    if side.kind is DocumentType.US_DL_FRONT:
        side.printed = read_licence_printed(side.ocr_lines, work.shape[0])
    else:
        side.printed = extract_printed_fields(side.ocr_lines, date_order=order)
    if any(labels) and not {f.name for f in side.printed} >= _PAGE_FIELDS:
        rest = read_text(work, quads=[q for q, lab in zip(quads, labels, strict=True) if lab], skip=skip)
        rank = {id(q): i for i, q in enumerate(quads)}  # detector order, as if read in one pass
        side.ocr_lines = sorted(side.ocr_lines + rest, key=lambda line: rank.get(id(line.box), len(rank)))
        side.printed = extract_printed_fields(side.ocr_lines, date_order=order)
    clock.lap("printed_text")


#: The printed fields a passport page must yield from its value lines alone for its labels to go unread.
_PAGE_FIELDS = frozenset({"birth_date", "expiry_date", "document_number", "family_name", "given_names"})


def _det_side(side: SideAnalysis) -> int:
    """The text detector's resolution for this side: smaller for a rectified ID-1 card (larger print)."""
    return DET_SIDE_ID1 if side.format == DocumentFormat.ID1 else DET_SIDE  # "id1" only once rectified as a card


def _read_barcode(side: SideAnalysis, work: np.ndarray, config: DocumentConfig) -> None:
    side.barcode = decode_pdf417(work, budget_ms=config.barcode_budget_ms, expect_aamva=True)
    if side.barcode.text:
        side.kind = DocumentType.US_DL_BACK
        try:
            side.aamva = parse_aamva(side.barcode.text)
        except AamvaError as exc:
            side.aamva_error = exc.message


class _Clock:
    """Wall-clock and thread CPU milliseconds per step, written into a side's ``timings_ms`` / ``cpu_ms``."""

    def __init__(self, side: SideAnalysis) -> None:
        self.side = side
        self.wall, self.cpu = time.perf_counter(), time.thread_time()

    def lap(self, step: str) -> None:
        wall, cpu = time.perf_counter(), time.thread_time()
        # a step may run in more than one place (locating: outline, then turning upright): summed
        self.side.timings_ms[step] = self.side.timings_ms.get(step, 0.0) + (wall - self.wall) * 1000.0
        self.side.cpu_ms[step] = self.side.cpu_ms.get(step, 0.0) + (cpu - self.cpu) * 1000.0
        self.wall, self.cpu = wall, cpu


def _mrz_missing_check(sides: list[SideAnalysis]) -> CheckResult:
    """``mrz_read`` for a document taken for a passport page or TD1 card on which no MRZ was read.

    It fails only where the document is known to carry an MRZ: a side whose outline has a
    passport page's shape (``td3``), or MRZ-like text (``<`` fillers) that did not parse. A side without an
    outline and without any MRZ-like text was only guessed to be a page (long text lines at the
    bottom of a tight crop, as on many US licence fronts, which have no MRZ): ``inconclusive``.
    """
    page_outline = any(s.format == DocumentFormat.TD3 for s in sides)
    mrz_text = any(s.mrz is not None and any("<" in line for line in s.mrz.raw_lines) for s in sides)
    if page_outline or mrz_text:
        return check("mrz_read", Status.FAIL, "mrz_unreadable", 0.0, "no MRZ could be read on the document")
    detail = "no MRZ text and no passport-shaped outline: the document may be a card without an MRZ"
    return check("mrz_read", Status.INCONCLUSIVE, "no_mrz_found", None, detail)


def _kind_from_mrz(mrz: MrzReadout, current: DocumentType) -> DocumentType:
    assert mrz.result is not None
    kind = mrz.result.type.value.lower()
    if kind.startswith("mrv"):
        return DocumentType.VISA
    if kind == DocumentFormat.TD1:
        return DocumentType.CARD_TD1
    if kind == DocumentFormat.TD2:
        return DocumentType.CARD_TD2
    return DocumentType.PASSPORT_TD3


# --------------------------------------------------------------------------- report


def build_report(
    sides: list[SideAnalysis], *, today: date, config: DocumentConfig = DEFAULT_DOCUMENT
) -> DocumentReport:
    kinds = [s.kind for s in sides]
    doc_type = _document_type(kinds)
    report = DocumentReport(type=doc_type, issuer=None)
    for s in sides:
        for k, v in s.timings_ms.items():
            report.timings_ms[f"{s.role}.{k}"] = v
        report.notes.append(_side_note(s))

    checks = report.checks
    checks += [_readable_check(s) for s in sides]
    checks += [_located_check(s) for s in sides if s.rgb is not None]
    checks.append(_sides_check(sides, doc_type))

    fields: list[FieldValue] = []
    barcode_side = next((s for s in sides if s.kind is DocumentType.US_DL_BACK), None)
    mrz_side = next((s for s in sides if s.mrz is not None and s.mrz.found and s.mrz.result is not None), None)
    if barcode_side is not None and barcode_side.aamva is not None:
        fields += barcode_side.aamva.to_fields()
        report.issuer = _aamva_issuer(barcode_side.aamva)
    if mrz_side is not None and mrz_side.mrz is not None and mrz_side.mrz.result is not None:
        fields += mrz_side.mrz.result.to_fields(mrz_side.mrz.confidence)
    for s in sides:
        fields += s.printed
    report.fields = fields
    printed_state = next((f for f in fields if f.name == "issuing_state" and f.source is FieldSource.PRINTED), None)
    if report.issuer is not None and printed_state is not None:
        checks.append(_issuer_check(report.issuer, printed_state))
    if report.issuer is None:
        report.issuer = _issuer_from_fields(fields)
    if report.issuer is None and printed_state is not None:
        report.issuer = f"US-{printed_state.value}"

    if doc_type is DocumentType.US_DL_ID:
        checks += _barcode_checks(sides, barcode_side, today)
    if mrz_side is not None and mrz_side.mrz is not None and mrz_side.mrz.result is not None:
        checks += list(mrz_side.mrz.result.checks)
    elif doc_type in (DocumentType.PASSPORT_TD3, DocumentType.CARD_TD1):
        checks.append(_mrz_missing_check(sides))
    if barcode_side is None or barcode_side.aamva is None:
        checks += validate_fields(fields, today, min_age=config.min_age)

    if barcode_side is not None and barcode_side.aamva is not None:
        checks.append(cross_check(fields, FieldSource.BARCODE, FieldSource.PRINTED))
    if mrz_side is not None:
        checks.append(cross_check(fields, FieldSource.MRZ, FieldSource.PRINTED))

    portrait_side = next(
        (s for s in sides if s.kind in (DocumentType.US_DL_FRONT, DocumentType.PASSPORT_TD3) and s.faces), None
    )
    checks.append(_portrait_check(sides, portrait_side, doc_type))
    if portrait_side is not None:
        report.portrait = _portrait_crop(portrait_side)

    t = time.perf_counter()
    checks += integrity_checks(sides, fields)
    report.timings_ms["integrity"] = _ms(t)
    return report


def _document_type(kinds: list[DocumentType]) -> DocumentType:
    if DocumentType.US_DL_FRONT in kinds or DocumentType.US_DL_BACK in kinds:
        if DocumentType.CARD_TD1 in kinds:
            return DocumentType.CARD_TD1  # a card with a face on the front and a TD1 MRZ on the back
        return DocumentType.US_DL_ID
    for k in (DocumentType.PASSPORT_TD3, DocumentType.CARD_TD1, DocumentType.CARD_TD2, DocumentType.VISA):
        if k in kinds:
            return k
    return DocumentType.UNKNOWN


def _side_note(s: SideAnalysis) -> str:
    if s.error is not None:
        return f"{s.role}: unreadable image ({s.error.code})"
    loc = s.locate.reason if s.locate is not None else "n/a"
    parts = [
        f"{s.role}: {s.kind.value}",
        f"outline {loc}",
        f"format {s.format}",
        f"rotation {s.rotation}",
        f"faces {len(s.faces)}",
    ]
    if s.barcode is not None:
        parts.append(f"barcode {'decoded by ' + str(s.barcode.strategy) if s.barcode.text else s.barcode.reason}")
    if s.mrz is not None:
        parts.append(f"mrz {'found' if s.mrz.found else s.mrz.reason}")
    if s.ocr_lines:
        parts.append(f"{len(s.ocr_lines)} text lines, {len(s.printed)} printed fields")
    return "; ".join(parts)


def _readable_check(s: SideAnalysis) -> CheckResult:
    name = f"{s.role}_image_readable"
    if s.error is not None:
        return check(name, Status.FAIL, s.error.code, 0.0, s.error.message)
    return check(
        name, Status.PASS, "readable", 1.0, f"{s.rgb.shape[1]}x{s.rgb.shape[0]} px" if s.rgb is not None else ""
    )


def _located_check(s: SideAnalysis) -> CheckResult:
    name = f"{s.role}_document_located"
    loc = s.locate
    if loc is None:
        return check(name, Status.INCONCLUSIVE, "not_attempted")
    if loc.quad is not None:
        return check(name, Status.PASS, "located", loc.quad.confidence, f"{s.format} outline, rotation {s.rotation}")
    if loc.reason == "document_cropped":  # a capture problem, not evidence of forgery: ask for a retake
        return check(
            name,
            Status.INCONCLUSIVE,
            "document_cropped",
            0.0,
            "the document runs off the edge of the photo: retake with the whole document in frame",
        )
    used = "taken as the card" if s.rectified is not None else "used as is"
    if loc.reason == PORTRAIT_OUTLINE:
        detail = f"the outline found framed the portrait, not the document; the photo is {used}"
        return check(name, Status.INCONCLUSIVE, loc.reason, None, detail)
    return check(name, Status.INCONCLUSIVE, loc.reason, None, f"no document outline found; the photo is {used}")


def _sides_check(sides: list[SideAnalysis], doc_type: DocumentType) -> CheckResult:
    front = sides[0]
    back = sides[1] if len(sides) > 1 else None
    if front.error is not None:
        return check("document_sides", Status.INCONCLUSIVE, "front_unreadable")
    if doc_type is DocumentType.UNKNOWN:
        return check(
            "document_sides",
            Status.FAIL,
            "not_a_document",
            0.0,
            "no portrait, barcode or MRZ was found: this does not look like a supported ID document",
        )
    back_kinds = (DocumentType.US_DL_BACK, DocumentType.CARD_TD1)
    if front.kind in back_kinds and back is not None and back.kind in (DocumentType.US_DL_FRONT,):
        return check("document_sides", Status.FAIL, "sides_swapped", 0.0, "the front and back photos are swapped")
    if front.kind in back_kinds:
        return check(
            "document_sides",
            Status.FAIL,
            "back_given_as_front",
            0.0,
            f"the front photo shows the back of the card ({front.kind.value})",
        )
    if doc_type is DocumentType.US_DL_ID:
        if back is None:
            return check(
                "document_sides",
                Status.INCONCLUSIVE,
                "back_not_provided",
                None,
                "a licence or ID card needs its back (barcode) too",
            )
        if back.kind is not DocumentType.US_DL_BACK:
            reason = "barcode_unreadable" if back.kind is DocumentType.UNKNOWN else "wrong_back"
            return check(
                "document_sides",
                Status.FAIL,
                reason,
                0.0,
                f"the back photo shows {back.kind.value}, not a licence back with a readable barcode",
            )
    return check("document_sides", Status.PASS, "sides_ok", 1.0, ", ".join(s.kind.value for s in sides))


def _barcode_checks(sides: list[SideAnalysis], barcode_side: SideAnalysis | None, today: date) -> list[CheckResult]:
    if barcode_side is None:
        back = sides[1] if len(sides) > 1 else None
        if back is None:
            return [check("barcode_read", Status.INCONCLUSIVE, "back_not_provided")]
        reason = back.barcode.reason if back.barcode is not None and back.barcode.reason else "no_barcode"
        return [
            check("barcode_read", Status.FAIL, reason or "no_barcode", 0.0, "no PDF417 could be decoded on the back")
        ]
    if barcode_side.aamva is None:
        return [check("barcode_read", Status.FAIL, "bad_barcode_payload", 0.0, barcode_side.aamva_error)]
    assert barcode_side.barcode is not None
    read = check("barcode_read", Status.PASS, "decoded", 1.0, f"PDF417 decoded ({barcode_side.barcode.strategy})")
    return [read, *validate_aamva(barcode_side.aamva, today)]


def _portrait_check(
    sides: list[SideAnalysis], portrait_side: SideAnalysis | None, doc_type: DocumentType
) -> CheckResult:
    if portrait_side is None:
        expects_portrait = doc_type in (DocumentType.US_DL_ID, DocumentType.PASSPORT_TD3) and any(
            s.kind in (DocumentType.US_DL_FRONT, DocumentType.PASSPORT_TD3) for s in sides
        )
        if doc_type is DocumentType.US_DL_ID and not any(s.kind is DocumentType.US_DL_FRONT for s in sides):
            return check("portrait_present", Status.INCONCLUSIVE, "front_not_recognised")
        status = Status.FAIL if expects_portrait or doc_type is DocumentType.PASSPORT_TD3 else Status.INCONCLUSIVE
        return check("portrait_present", status, "no_portrait", 0.0, "no face was found on the document")
    main = portrait_side.faces[0]
    others = [f for f in portrait_side.faces[1:] if f.box.width >= SECOND_FACE_RATIO * main.box.width]
    if others:
        return check(
            "portrait_present",
            Status.FAIL,
            "multiple_portraits",
            0.0,
            f"{1 + len(others)} portrait-sized faces on the document",
        )
    return check(
        "portrait_present",
        Status.PASS,
        "one_portrait",
        main.score,
        f"portrait {main.box.width:.0f}x{main.box.height:.0f} px"
        + (f" (+{len(portrait_side.faces) - 1} small ghost image(s))" if len(portrait_side.faces) > 1 else ""),
    )


def _portrait_crop(side: SideAnalysis) -> np.ndarray | None:
    work = side.working
    if work is None or not side.faces:
        return None
    b = side.faces[0].box
    h, w = work.shape[:2]
    mx, my = 0.35 * b.width, 0.35 * b.height
    x0, y0 = max(0, int(b.x - mx)), max(0, int(b.y - my))
    x1, y1 = min(w, int(b.x + b.width + mx)), min(h, int(b.y + b.height + my))
    return work[y0:y1, x0:x1].copy()


def _aamva_issuer(record: AamvaRecord) -> str | None:
    j = record.jurisdiction
    if j is None:
        return None
    return f"{_ALPHA2.get(j.country, j.country)}-{j.code}"


def _issuer_check(barcode_issuer: str, printed: FieldValue) -> CheckResult:
    """The state printed on the front against the barcode's issuer (its IIN's jurisdiction)."""
    name = "issuer_printed_barcode"
    if barcode_issuer == f"US-{printed.value}":
        return check(name, Status.PASS, "issuer_agrees", 1.0, f"{barcode_issuer} (printed {printed.raw!r})")
    return check(
        name,
        Status.FAIL,
        "issuer_mismatch",
        0.0,
        f"the barcode's IIN says {barcode_issuer}, the front reads US-{printed.value} ({printed.raw!r})",
    )


def _issuer_from_fields(fields: list[FieldValue]) -> str | None:
    for f in fields:
        if f.name == FieldName.ISSUING_COUNTRY and f.value:
            return f.value
    return None


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0
