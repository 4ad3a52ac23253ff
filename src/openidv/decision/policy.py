"""The decision policy: engine reports in, approve / reject / review with reasons out.

It reads the reports in their stored JSON form (``DocumentReport.to_dict()``,
``LivenessReport.to_dict()``, ``MatchResult.to_dict()``), so the same function decides a
live case and re-decides recorded cases under other thresholds (the agreement report).

Rules, in order:

1. **Missing evidence** (a report absent) -> ``review`` (``missing_<part>``).
2. **Reject** when a decisive signal fails with margin:
   * the document fails a check whose severity is ``decisive`` (:mod:`.severity`: expired,
     under 18, MRZ check digits, not a US issuer, a specimen): facts read from machine-readable
     data, not OCR of the printed zone. Fields that disagree between the barcode/MRZ and the
     printed text send the case to review: it is the strongest sign of an altered document, but
     OCR misreads of small print cause it too (1-3 % of generated genuine passports), and a
     person should look;
   * liveness is ``not_live`` with score <= ``reject_liveness_max``;
   * the face match says different people with score <= ``reject_match_max`` (well below
     the operating threshold, which sits at 0.5).
3. **Approve** when everything is clear with margin: every document check that is not
   ``advisory`` passes, each with at least its per-check minimum score; liveness ``live`` with
   score >= ``approve_liveness_min``; same person with score >= ``approve_match_min``.
4. Otherwise **review**, with every reason that kept the case from approval.

Each check's severity comes from the one table of :mod:`openidv.decision.severity`, looked up by
the check's name and reason (so recorded reports, which may predate the ``severity`` key, are
decided alike). ``advisory`` checks never decide: document results that say nothing for live
browser captures (no metadata, no compression trace, no portrait border) or about the data
(licence-barcode layouts as issuers write them), and rPPG. Image-forensic checks calibrated on
generated data only (screen recapture, photocopy, portrait border) are ``review``: they send a case
to review, never reject it on their own; where the engine does not trust one to fail the document
(a passport page, a spectrum of few tiles, the square-lattice cue) it reports the finding
``inconclusive``, a review signal (:func:`~openidv.document.codes.is_review_signal`; an image
editor named in the file's metadata is one too: 14 of 78 real genuine images carry one). Review
signals are listed after the document's other reasons.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from openidv.checks import Severity
from openidv.decision.severity import SEVERITY, severity_of
from openidv.document.codes import is_review_signal
from openidv.face.codes import FaceReason

POLICY_VERSION = "2026-12-06.2"

#: face-match reasons that keep a decided match from approval
_MATCH_CAVEATS = frozenset({FaceReason.LOW_QUALITY, FaceReason.POSE, FaceReason.PORTRAIT_ENHANCED})


class Outcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVIEW = "review"


@dataclass(frozen=True)
class PolicyConfig:
    """Thresholds. Scores are the engines' scores in [0, 1]; the face threshold sits at 0.5."""

    approve_match_min: float = 0.6
    reject_match_max: float = 0.3
    approve_liveness_min: float = 0.6
    reject_liveness_max: float = 0.2
    #: a passing check with a score below its minimum keeps the case from approval
    min_check_scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The thresholds, and the severity table as ``{"check.reason": severity}`` (``*``: any reason)."""
        table = {f"{name}.{reason or '*'}": s.value for (name, reason), s in SEVERITY.items()}
        return asdict(self) | {"severity": dict(sorted(table.items()))}


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


def _severity(c: dict[str, Any]) -> Severity:
    return severity_of(c["name"], c["reason"])


def _deciding(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's checks that are not ``advisory``."""
    return [c for c in report.get("checks", []) if _severity(c) is not Severity.ADVISORY]


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
        signals: list[Reason] = []
        for c in _deciding(document):
            if is_review_signal(c["name"], c["status"], c["reason"]):
                signals.append(_reason("document", c))
            elif c["status"] == "fail":
                (reject if _severity(c) is Severity.DECISIVE else review).append(_reason("document", c))
            elif c["status"] == "inconclusive" or _below_minimum(c, config):
                review.append(_reason("document", c))
        review += signals

    if liveness is not None:
        decision, score = liveness.get("decision"), float(liveness.get("score") or 0.0)
        if decision == "not_live" and score <= config.reject_liveness_max:
            reject += [_reason("liveness", c) for c in _deciding(liveness) if c["status"] == "fail"] or [
                Reason("liveness.not_live", "liveness", score=score)
            ]
        elif decision != "live" or score < config.approve_liveness_min:
            failing = [_reason("liveness", c) for c in _deciding(liveness) if c["status"] != "pass"]
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
            if same is not None and r in _MATCH_CAVEATS:
                review.append(Reason(f"face_match.{r}", "face_match"))

    if reject:
        return Recommendation(Outcome.REJECT, reject, review)
    if review:
        return Recommendation(Outcome.REVIEW, reject, review)
    return Recommendation(Outcome.APPROVE, reject, review)
