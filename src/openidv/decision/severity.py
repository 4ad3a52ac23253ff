"""What a check's result does to a case: the one severity table.

Every check is :attr:`~openidv.checks.Severity.REVIEW` (a failure or an inconclusive result
sends the case to a person) unless :data:`SEVERITY` says otherwise:

* :attr:`~openidv.checks.Severity.DECISIVE`: a failure rejects the case. Facts read from
  machine-readable data (expiry, age, MRZ check digits, a non-US issuer) and a specimen;
* :attr:`~openidv.checks.Severity.ADVISORY`: reported, never decides, for the session nor for the
  case. rPPG (a print, a screen and compressed live video all give weak pulses), and results that
  say nothing either way for live browser captures: a canvas JPEG has no EXIF/XMP and one
  compression only; a vignetted or small portrait has no border to measure; licence barcodes as
  real issuers write them (issue 23: a repaired layout deviation, dates in the other order,
  descriptive values outside the standard's codes) question none of the data the other checks
  compare.

Keys are ``(check name as reported, reason)``; a reason of ``None`` stands for any reason. The
names and reasons come from the engines' code enums (:mod:`openidv.document.codes`,
:mod:`openidv.liveness.codes`), and ``tests/test_severity.py`` checks that every key is one of
them, so a typo fails a test instead of silently changing a decision.

The decision policy (:mod:`openidv.decision.policy`) decides from this table; the liveness
session reads it to ignore advisory checks; the engines' reports carry each result's severity
(:func:`with_severity`) so that a reviewer or an integrator reads it next to the result. A leaf
module (it imports the code enums and :mod:`openidv.checks` only), so the engines import it
without a cycle.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from openidv.checks import CheckResult, Severity
from openidv.document.codes import DocumentCheck, DocumentReason, Side, side_check
from openidv.liveness.codes import LivenessCheck

_FRONT, _BACK = Side.FRONT, Side.BACK

#: ``(check name, reason or None for any) -> severity``; every other check is ``review``.
SEVERITY: Mapping[tuple[str, str | None], Severity] = MappingProxyType(
    {
        # document: a failure rejects
        (DocumentCheck.DOCUMENT_NOT_EXPIRED, None): Severity.DECISIVE,
        (DocumentCheck.AGE_AT_LEAST_18, None): Severity.DECISIVE,
        (DocumentCheck.MRZ_CHECK_DIGIT_DOCUMENT_NUMBER, None): Severity.DECISIVE,
        (DocumentCheck.MRZ_CHECK_DIGIT_BIRTH_DATE, None): Severity.DECISIVE,
        (DocumentCheck.MRZ_CHECK_DIGIT_EXPIRY_DATE, None): Severity.DECISIVE,
        (DocumentCheck.MRZ_COMPOSITE_CHECK_DIGIT, None): Severity.DECISIVE,
        (DocumentCheck.US_ISSUER, None): Severity.DECISIVE,
        (DocumentCheck.SPECIMEN, None): Severity.DECISIVE,
        # document: nothing to measure on a live browser capture
        (side_check(_FRONT, DocumentCheck.EDITING_SOFTWARE), DocumentReason.NO_METADATA): Severity.ADVISORY,
        (side_check(_BACK, DocumentCheck.EDITING_SOFTWARE), DocumentReason.NO_METADATA): Severity.ADVISORY,
        (side_check(_FRONT, DocumentCheck.EDITING_SOFTWARE), DocumentReason.NO_CAMERA_METADATA): Severity.ADVISORY,
        (side_check(_BACK, DocumentCheck.EDITING_SOFTWARE), DocumentReason.NO_CAMERA_METADATA): Severity.ADVISORY,
        (
            side_check(_FRONT, DocumentCheck.COMPRESSION_CONSISTENCY),
            DocumentReason.NO_COMPRESSION_TRACE,
        ): Severity.ADVISORY,
        (
            side_check(_BACK, DocumentCheck.COMPRESSION_CONSISTENCY),
            DocumentReason.NO_COMPRESSION_TRACE,
        ): Severity.ADVISORY,
        (side_check(_FRONT, DocumentCheck.PORTRAIT_BORDER), DocumentReason.NO_PORTRAIT_BORDER): Severity.ADVISORY,
        (side_check(_FRONT, DocumentCheck.PORTRAIT_BORDER), DocumentReason.OUTLINE_UNMEASURABLE): Severity.ADVISORY,
        # document: licence barcodes as real issuers write them
        (DocumentCheck.BARCODE_HEADER, DocumentReason.FORMAT_DEVIATIONS): Severity.ADVISORY,
        (DocumentCheck.BARCODE_FORMATS, DocumentReason.DATE_ORDER): Severity.ADVISORY,
        (DocumentCheck.BARCODE_FORMATS, DocumentReason.UNUSUAL_ELEMENT_VALUES): Severity.ADVISORY,
        # liveness: listed, never decides the session
        (LivenessCheck.RPPG, None): Severity.ADVISORY,
    }
)


def severity_of(name: str, reason: str) -> Severity:
    """The severity of a result of check ``name`` (as reported) with ``reason``."""
    return SEVERITY.get((name, reason)) or SEVERITY.get((name, None)) or Severity.REVIEW


def with_severity(result: CheckResult) -> CheckResult:
    """``result`` carrying its severity from :data:`SEVERITY`."""
    return result.with_severity(severity_of(result.name, result.reason))
