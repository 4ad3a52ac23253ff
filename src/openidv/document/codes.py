"""The names the document engine gives things: checks, reasons, sides, formats and fields.

Every :class:`~openidv.checks.CheckResult` of a :class:`~openidv.document.types.DocumentReport`
is named by a :class:`DocumentCheck`, the per-side ones prefixed with their :class:`Side`
(``front_editing_software``: see :func:`side_check`), and gives a :class:`DocumentReason`.
The decision policy's severity table (:mod:`openidv.decision.severity`) is keyed by them, and
``tests/test_codes.py`` runs genuine and forged documents and checks that every name and reason
they report is listed here. The values are the strings stored in recorded reports: they never
change.

A leaf module: it imports nothing of the package, so every engine and the policy can use it.
"""

from __future__ import annotations

from enum import StrEnum


class Side(StrEnum):
    """Which photo of the document: the front (a passport's data page) or the back."""

    FRONT = "front"
    BACK = "back"


class DocumentFormat(StrEnum):
    """The outline a side was rectified to (ISO/IEC 7810 sizes), or the MRZ layout read.

    ``id1`` 85.60 x 53.98 mm (cards, TD1), ``td2`` 105 x 74 mm, ``td3`` 125 x 88 mm (passport
    data pages); ``td1`` is the 3 x 30 character MRZ of an ID-1 card. ``unknown``: no outline.
    """

    ID1 = "id1"
    TD1 = "td1"
    TD2 = "td2"
    TD3 = "td3"
    UNKNOWN = "unknown"


class FieldName(StrEnum):
    """Canonical names of the fields read from the barcode, the MRZ and the printed text."""

    FAMILY_NAME = "family_name"
    GIVEN_NAMES = "given_names"
    MIDDLE_NAMES = "middle_names"
    NAME_SUFFIX = "name_suffix"
    FULL_NAME = "full_name"
    BIRTH_DATE = "birth_date"
    ISSUE_DATE = "issue_date"
    EXPIRY_DATE = "expiry_date"
    DOCUMENT_NUMBER = "document_number"
    DOCUMENT_DISCRIMINATOR = "document_discriminator"
    PERSONAL_NUMBER = "personal_number"
    OPTIONAL_DATA = "optional_data"
    SEX = "sex"
    NATIONALITY = "nationality"
    ISSUING_COUNTRY = "issuing_country"
    ISSUING_STATE = "issuing_state"
    HEIGHT = "height"
    EYE_COLOR = "eye_color"
    VEHICLE_CLASS = "vehicle_class"
    REAL_ID_COMPLIANCE = "real_id_compliance"
    ADDRESS_STREET = "address_street"
    ADDRESS_CITY = "address_city"
    ADDRESS_STATE = "address_state"
    ADDRESS_POSTAL_CODE = "address_postal_code"


class DocumentCheck(StrEnum):
    """Check names. Those in :data:`PER_SIDE` are reported once per side, prefixed with it."""

    # per side (front_..., back_...)
    IMAGE_READABLE = "image_readable"
    DOCUMENT_LOCATED = "document_located"
    EDITING_SOFTWARE = "editing_software"
    COMPRESSION_CONSISTENCY = "compression_consistency"
    COPY_MOVE = "copy_move"
    SCREEN_RECAPTURE = "screen_recapture"
    PHOTOCOPY = "photocopy"
    SCREENSHOT = "screenshot"
    PORTRAIT_BORDER = "portrait_border"
    # once per document
    DOCUMENT_SIDES = "document_sides"
    PORTRAIT_PRESENT = "portrait_present"
    SPECIMEN = "specimen"
    DOCUMENT_NOT_EXPIRED = "document_not_expired"
    AGE_AT_LEAST_18 = "age_at_least_18"
    DATE_LOGIC = "date_logic"
    US_ISSUER = "us_issuer"
    ISSUER_PRINTED_BARCODE = "issuer_printed_barcode"
    CONSISTENCY_BARCODE_PRINTED = "consistency_barcode_printed"
    CONSISTENCY_MRZ_PRINTED = "consistency_mrz_printed"
    BARCODE_READ = "barcode_read"
    BARCODE_HEADER = "barcode_header"
    BARCODE_FORMATS = "barcode_formats"
    BARCODE_MANDATORY_ELEMENTS = "barcode_mandatory_elements"
    BARCODE_DATE_LOGIC = "barcode_date_logic"
    MRZ_READ = "mrz_read"
    MRZ_FORMAT = "mrz_format"
    MRZ_DATES = "mrz_dates"
    MRZ_CHECK_DIGIT_DOCUMENT_NUMBER = "mrz_check_digit_document_number"
    MRZ_CHECK_DIGIT_BIRTH_DATE = "mrz_check_digit_birth_date"
    MRZ_CHECK_DIGIT_EXPIRY_DATE = "mrz_check_digit_expiry_date"
    MRZ_CHECK_DIGIT_OPTIONAL_DATA = "mrz_check_digit_optional_data"
    MRZ_COMPOSITE_CHECK_DIGIT = "mrz_composite_check_digit"


#: Checks reported once per side, named ``<side>_<check>``.
PER_SIDE: frozenset[DocumentCheck] = frozenset(
    {
        DocumentCheck.IMAGE_READABLE,
        DocumentCheck.DOCUMENT_LOCATED,
        DocumentCheck.EDITING_SOFTWARE,
        DocumentCheck.COMPRESSION_CONSISTENCY,
        DocumentCheck.COPY_MOVE,
        DocumentCheck.SCREEN_RECAPTURE,
        DocumentCheck.PHOTOCOPY,
        DocumentCheck.SCREENSHOT,
        DocumentCheck.PORTRAIT_BORDER,
    }
)


def side_check(side: Side, check: DocumentCheck) -> str:
    """The reported name of a per-side check: ``front_editing_software``."""
    return f"{side.value}_{check.value}"


def parse_check_name(name: str) -> tuple[Side | None, DocumentCheck] | None:
    """``front_editing_software`` -> (front, editing_software); ``specimen`` -> (None, specimen);
    None for a name the engine does not report."""
    for side in Side:
        base = name.removeprefix(f"{side.value}_")
        if base != name and base in _CHECKS and DocumentCheck(base) in PER_SIDE:
            return side, DocumentCheck(base)
    if name in _CHECKS and DocumentCheck(name) not in PER_SIDE:
        return None, DocumentCheck(name)
    return None


_CHECKS = frozenset(c.value for c in DocumentCheck)


class DocumentReason(StrEnum):
    """Reason codes, whatever the check (several checks share ``empty``, ``no_dl_id_subfile``...)."""

    # image, outline, sides
    READABLE = "readable"
    BAD_IMAGE = "bad_image"
    EMPTY_IMAGE = "empty_image"
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT_IMAGE = "corrupt_image"
    IMAGE_TOO_LARGE = "image_too_large"
    IMAGE_TOO_SMALL = "image_too_small"
    UNSUPPORTED_IMAGE = "unsupported_image"
    NOT_ATTEMPTED = "not_attempted"
    LOCATED = "located"
    DOCUMENT_CROPPED = "document_cropped"
    DOCUMENT_TOO_SMALL = "document_too_small"
    LOW_CONTRAST = "low_contrast"
    NO_DOCUMENT = "no_document"
    PORTRAIT_OUTLINE = "portrait_outline"
    SIDES_OK = "sides_ok"
    FRONT_UNREADABLE = "front_unreadable"
    NOT_A_DOCUMENT = "not_a_document"
    SIDES_SWAPPED = "sides_swapped"
    BACK_GIVEN_AS_FRONT = "back_given_as_front"
    BACK_NOT_PROVIDED = "back_not_provided"
    BARCODE_UNREADABLE = "barcode_unreadable"
    WRONG_BACK = "wrong_back"
    # portrait
    ONE_PORTRAIT = "one_portrait"
    NO_PORTRAIT = "no_portrait"
    MULTIPLE_PORTRAITS = "multiple_portraits"
    FRONT_NOT_RECOGNISED = "front_not_recognised"
    # image forensics
    EMPTY = "empty"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNUSABLE_IMAGE = "unusable_image"
    UNREADABLE_IMAGE = "unreadable_image"
    CAMERA_METADATA = "camera_metadata"
    EDITING_SOFTWARE = "editing_software"
    NO_METADATA = "no_metadata"
    NO_CAMERA_METADATA = "no_camera_metadata"
    CONSISTENT = "consistent"
    INCONSISTENT_COMPRESSION = "inconsistent_compression"
    NO_COMPRESSION_TRACE = "no_compression_trace"
    NO_USABLE_REGION = "no_usable_region"
    NOT_JPEG = "not_jpeg"
    COPY_MOVE = "copy_move"
    NO_DUPLICATE = "no_duplicate"
    NO_TEXTURE = "no_texture"
    SCREEN_PATTERN = "screen_pattern"
    NO_SCREEN_PATTERN = "no_screen_pattern"
    TOO_SMALL = "too_small"
    COLOUR_DOCUMENT = "colour_document"
    GREYSCALE_DOCUMENT = "greyscale_document"
    EXPOSURE = "exposure"
    WEAK_COLOUR = "weak_colour"
    CAMERA_CONTENT = "camera_content"
    SCREEN_CAPTURE = "screen_capture"
    CAMERA_EXIF_CONFLICT = "camera_exif_conflict"
    MIXED_EVIDENCE = "mixed_evidence"
    PORTRAIT_BORDER_CONSISTENT = "portrait_border_consistent"
    PORTRAIT_BORDER_TOO_SHARP = "portrait_border_too_sharp"
    NO_PORTRAIT_BORDER = "no_portrait_border"
    OUTLINE_UNMEASURABLE = "outline_unmeasurable"
    NO_OUTLINE = "no_outline"
    NO_FIELDS = "no_fields"
    NO_SPECIMEN = "no_specimen"
    SPECIMEN_DOCUMENT = "specimen_document"
    # dates, age, issuer
    NOT_EXPIRED = "not_expired"
    EXPIRED = "expired"
    NO_EXPIRY_DATE = "no_expiry_date"
    ADULT = "adult"
    UNDER_18 = "under_18"
    NO_BIRTH_DATE = "no_birth_date"
    UNCERTAIN_DATE = "uncertain_date"
    DATES_CONSISTENT = "dates_consistent"
    DATES_MISSING = "dates_missing"
    INCONSISTENT_DATES = "inconsistent_dates"
    IMPLAUSIBLE_BIRTH_DATE = "implausible_birth_date"
    BIRTH_NOT_BEFORE_ISSUE = "birth_not_before_issue"
    ISSUE_NOT_BEFORE_EXPIRY = "issue_not_before_expiry"
    BIRTH_NOT_BEFORE_EXPIRY = "birth_not_before_expiry"
    ISSUE_IN_FUTURE = "issue_in_future"
    US_ISSUER = "us_issuer"
    NON_US_ISSUER = "non_us_issuer"
    ISSUER_UNKNOWN = "issuer_unknown"
    UNKNOWN_IIN = "unknown_iin"
    COUNTRY_MISMATCH = "country_mismatch"
    ISSUER_AGREES = "issuer_agrees"
    ISSUER_MISMATCH = "issuer_mismatch"
    # cross-checks
    FIELDS_AGREE = "fields_agree"
    FIELDS_MISMATCH = "fields_mismatch"
    NOTHING_TO_COMPARE = "nothing_to_compare"
    LOW_OCR_CONFIDENCE = "low_ocr_confidence"
    OCR_CONFUSABLE = "ocr_confusable"
    NAME_PARTS_CONFUSED = "name_parts_confused"
    # barcode (AAMVA PDF417)
    DECODED = "decoded"
    NO_BARCODE = "no_barcode"
    UNREADABLE_BARCODE = "unreadable_barcode"
    NOT_AAMVA = "not_aamva"
    BAD_BARCODE_PAYLOAD = "bad_barcode_payload"
    HEADER_OK = "header_ok"
    NO_DL_ID_SUBFILE = "no_dl_id_subfile"
    BAD_VERSION = "bad_version"
    NO_COMPLIANCE_INDICATOR = "no_compliance_indicator"
    SEPARATORS_STRIPPED = "separators_stripped"
    UNKNOWN_VERSION = "unknown_version"
    SUBFILE_MISSING = "subfile_missing"  #: a serious layout deviation (aamva.SERIOUS_DEVIATIONS)
    TRUNCATED = "truncated"
    FORMAT_DEVIATIONS = "format_deviations"
    FORMATS_OK = "formats_ok"
    IMPOSSIBLE_DATE = "impossible_date"
    MALFORMED_ELEMENTS = "malformed_elements"
    UNUSUAL_ELEMENT_VALUES = "unusual_element_values"
    DATE_ORDER = "date_order"
    NOTHING_TO_CHECK = "nothing_to_check"
    ALL_PRESENT = "all_present"
    MISSING_MANDATORY_ELEMENTS = "missing_mandatory_elements"
    MISSING_STANDARD_ELEMENTS = "missing_standard_elements"
    MISSING_UNCERTAIN_ELEMENTS = "missing_uncertain_elements"
    # MRZ
    NO_MRZ_FOUND = "no_mrz_found"
    MRZ_UNREADABLE = "mrz_unreadable"
    OK = "ok"
    BAD_FORMAT = "bad_format"
    INVALID_DATE = "invalid_date"
    VALID = "valid"
    VALID_AFTER_CORRECTION = "valid_after_correction"
    MISMATCH = "mismatch"
    INCOMPLETE_READ = "incomplete_read"


#: Reasons that name a finding of a forensic or barcode check: an editor named in the metadata, a
#: screen lattice, a greyscale print, a portrait border sharper than the outline, a repaired barcode
#: layout, dates in the other order. Reported ``inconclusive``, such a result is a *review signal*:
#: the engine found the cue but does not trust the check to fail a genuine document there (a
#: passport page's periodic print, a spectrum of few tiles, the square-lattice cue of printed
#: halftone, editors that scan and save genuine documents, issuers' own barcode layouts).
FINDINGS: frozenset[tuple[DocumentCheck, DocumentReason]] = frozenset(
    {
        (DocumentCheck.EDITING_SOFTWARE, DocumentReason.EDITING_SOFTWARE),
        (DocumentCheck.SCREEN_RECAPTURE, DocumentReason.SCREEN_PATTERN),
        (DocumentCheck.PHOTOCOPY, DocumentReason.GREYSCALE_DOCUMENT),
        (DocumentCheck.PORTRAIT_BORDER, DocumentReason.PORTRAIT_BORDER_TOO_SHARP),
        (DocumentCheck.BARCODE_HEADER, DocumentReason.FORMAT_DEVIATIONS),
        (DocumentCheck.BARCODE_FORMATS, DocumentReason.DATE_ORDER),
    }
)


def is_review_signal(name: str, status: str, reason: str) -> bool:
    """A finding (:data:`FINDINGS`) reported ``inconclusive``: a cue a person should look at that
    does not fail the document. ``name`` as reported (``front_screen_recapture``)."""
    parsed = parse_check_name(name)
    return status == "inconclusive" and parsed is not None and (parsed[1], reason) in FINDINGS
