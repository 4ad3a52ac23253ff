"""The decision policy: engine reports in, approve / reject / review with reasons out.

It reads the reports in their stored JSON form (``DocumentReport.to_dict()``,
``LivenessReport.to_dict()``, ``MatchResult.to_dict()``), so the same function decides a
live case and re-decides recorded cases under other thresholds (the agreement report).

Rules, in order:

1. **Missing evidence** (a report absent) -> ``review`` (``missing_<part>``).
2. **Reject** when a decisive signal fails with margin:
   * the document fails a check in :attr:`PolicyConfig.decisive_document_checks`
     (expired, under 18, MRZ check digits, not a US issuer, a specimen):
     facts read from machine-readable data, not OCR of the printed zone. Fields that
     disagree between the barcode/MRZ and the printed text send the case to review: it is
     the strongest sign of an altered document, but OCR misreads of small print cause it
     too (1-3 % of generated genuine passports), and a person should look;
   * liveness is ``not_live`` with score <= ``reject_liveness_max``;
   * the face match says different people with score <= ``reject_match_max`` (well below
     the operating threshold, which sits at 0.5).
3. **Approve** when everything is clear with margin: every mandatory document check
   passes, each with at least its per-check minimum score; liveness ``live`` with score
   >= ``approve_liveness_min``; same person with score >= ``approve_match_min``.
4. Otherwise **review**, with every reason that kept the case from approval.

Advisory document checks (``data.advisory`` true: a forensic failure the engine reports as
``inconclusive`` because the check is not trusted to fail a genuine document there) send the case
to review and never reject it: the screen check's failures on spectra of few tiles or on the
square-lattice cue alone (the kinds of failure real genuine licence scans gave), the
screen, photocopy and portrait-border failures on passport pages, and an image editor named in
the file's metadata (14 of 78 real genuine images carry one). Repaired licence-barcode layout
deviations are advisory too but say nothing about the data, so they are uninformative and keep
no case from approval (:data:`UNINFORMATIVE`). Advisory liveness checks (rPPG)
are listed but never decide. Image-forensic checks that are calibrated on generated data only
(screen recapture, photocopy, portrait border) send a case to review, never reject it on their own.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

POLICY_VERSION = "2026-12-06.2"


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


#: Document checks whose failure is a reason to reject (not just to look closer).
DECISIVE_DOCUMENT_CHECKS: frozenset[str] = frozenset(
    {
        "document_not_expired",
        "age_at_least_18",
        "mrz_check_digit_document_number",
        "mrz_check_digit_birth_date",
        "mrz_check_digit_expiry_date",
        "mrz_composite_check_digit",
        "us_issuer",
        "specimen",
    }
)


#: ``check.reason`` results that say nothing either way for live browser captures: the canvas
#: JPEG a browser makes carries no EXIF/XMP, and it is compressed once, so there is no earlier
#: compression to compare regions against; a portrait without a straight, contrasted border (a
#: vignetted one, or a small capture) gives the border-sharpness cue nothing to measure. They do
#: not send a case to review on their own.
UNINFORMATIVE: frozenset[str] = frozenset(
    {
        "front_editing_software.no_metadata",
        "back_editing_software.no_metadata",
        "front_editing_software.no_camera_metadata",
        "back_editing_software.no_camera_metadata",
        "front_compression_consistency.no_compression_trace",
        "back_compression_consistency.no_compression_trace",
        "front_portrait_border.no_portrait_border",
        "front_portrait_border.outline_unmeasurable",
        # licence barcodes as real issuers write them (issue 23): a layout deviation repaired while every
        # element still parsed, dates written in the other order, descriptive values (eyes, hair, height)
        # outside the standard's codes. None of them questions the data the other checks compare.
        "barcode_header.format_deviations",
        "barcode_formats.date_order",
        "barcode_formats.unusual_element_values",
    }
)


@dataclass(frozen=True)
class PolicyConfig:
    """Thresholds. Scores are the engines' scores in [0, 1]; the face threshold sits at 0.5."""

    approve_match_min: float = 0.6
    reject_match_max: float = 0.3
    approve_liveness_min: float = 0.6
    reject_liveness_max: float = 0.2
    decisive_document_checks: frozenset[str] = DECISIVE_DOCUMENT_CHECKS
    uninformative: frozenset[str] = UNINFORMATIVE
    #: a passing check with a score below its minimum keeps the case from approval
    min_check_scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["decisive_document_checks"] = sorted(self.decisive_document_checks)
        d["uninformative"] = sorted(self.uninformative)
        return d


DEFAULT_POLICY = PolicyConfig()


@dataclass(frozen=True)
class Reason:
    code: str  #: e.g. "document.document_not_expired.expired", "face_match.below_approval_margin"
    part: str  #: document, liveness, face_match
    check: str | None = None
    status: str | None = None
    score: float | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


@dataclass(frozen=True)
class Recommendation:
    outcome: Outcome
    reject_reasons: list[Reason]
    review_reasons: list[Reason]
    policy_version: str = POLICY_VERSION

    @property
    def reasons(self) -> list[Reason]:
        return self.reject_reasons if self.outcome is Outcome.REJECT else self.review_reasons

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reasons": [r.to_dict() for r in self.reasons],
            "reject_reasons": [r.to_dict() for r in self.reject_reasons],
            "review_reasons": [r.to_dict() for r in self.review_reasons],
            "policy_version": self.policy_version,
        }


def _checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report.get("checks", []) if not _is_advisory(c)]


def _is_advisory(c: dict[str, Any]) -> bool:
    return bool((c.get("data") or {}).get("advisory"))


def _reason(part: str, c: dict[str, Any]) -> Reason:
    return Reason(
        code=f"{part}.{c['name']}.{c['reason']}",
        part=part,
        check=c["name"],
        status=c["status"],
        score=c.get("score"),
        detail=c.get("detail", ""),
    )


def _below_minimum(c: dict[str, Any], config: PolicyConfig) -> bool:
    minimum = config.min_check_scores.get(c["name"])
    return minimum is not None and float(c.get("score") or 0.0) < minimum


def recommend(
    document: dict[str, Any] | None,
    liveness: dict[str, Any] | None,
    face_match: dict[str, Any] | None,
    config: PolicyConfig = DEFAULT_POLICY,
) -> Recommendation:
    """Approve, reject or review, with the reasons for the outcome (see the module docstring)."""
    reject: list[Reason] = []
    review: list[Reason] = []
    for part, rep in (("document", document), ("liveness", liveness), ("face_match", face_match)):
        if rep is None:
            review.append(Reason(code=f"{part}.missing", part=part, detail=f"no {part} report"))

    if document is not None:
        for c in _checks(document):
            if c["status"] == "fail":
                (reject if c["name"] in config.decisive_document_checks else review).append(_reason("document", c))
            elif c["status"] == "inconclusive" and f"{c['name']}.{c['reason']}" in config.uninformative:
                continue
            elif c["status"] == "inconclusive" or _below_minimum(c, config):
                review.append(_reason("document", c))
        review += [
            _reason("document", c)
            for c in document.get("checks", [])
            if _is_advisory(c) and f"{c['name']}.{c['reason']}" not in config.uninformative
        ]

    if liveness is not None:
        decision, score = liveness.get("decision"), float(liveness.get("score") or 0.0)
        if decision == "not_live" and score <= config.reject_liveness_max:
            reject += [_reason("liveness", c) for c in _checks(liveness) if c["status"] == "fail"] or [
                Reason("liveness.not_live", "liveness", score=score)
            ]
        elif decision != "live" or score < config.approve_liveness_min:
            failing = [_reason("liveness", c) for c in _checks(liveness) if c["status"] != "pass"]
            review += failing or [
                Reason("liveness.below_approval_margin", "liveness", score=score, detail=f"decision {decision}")
            ]

    if face_match is not None:
        same, match_score = face_match.get("same_person"), face_match.get("score")
        if same is None or match_score is None:
            review.append(Reason("face_match.undecided", "face_match", detail=", ".join(face_match.get("reasons", []))))
        elif not same and match_score <= config.reject_match_max:
            reject.append(Reason("face_match.different_person", "face_match", score=match_score))
        elif not same or match_score < config.approve_match_min:
            code = "face_match.different_person" if not same else "face_match.below_approval_margin"
            review.append(Reason(code, "face_match", score=match_score))
        for r in face_match.get("reasons", []):
            if same is not None and r in {"low_quality", "pose", "portrait_enhanced"}:
                review.append(Reason(f"face_match.{r}", "face_match"))

    if reject:
        return Recommendation(Outcome.REJECT, reject, review)
    if review:
        return Recommendation(Outcome.REVIEW, reject, review)
    return Recommendation(Outcome.APPROVE, reject, review)
