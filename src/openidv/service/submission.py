"""Submit, and the post-submit analysis that ends in review or in an automatic decision.

:func:`submit` records the case as ``submitted``. Its analysis (the document report if it is
missing, the face match, the policy, the document-reuse flag, then ``in_review`` or the
automatic decision through :func:`openidv.service.decisions.decide_case`) is :func:`analyse`:

- ``OPENIDV_JOB_QUEUE=inprocess`` (the embedded default): at once, in the submit request's
  transaction (the applicant's answer is already the outcome);
- ``procrastinate``: submit defers an ``analyse_case`` job in its own transaction
  (:func:`openidv.service.jobqueue.defer_analysis`) and answers at once; a worker runs
  :func:`run_analysis_job`, which takes the case row under ``SELECT ... FOR UPDATE`` and works only
  on a case still ``submitted``, so a job run twice (a retried stalled job, a duplicate) decides
  once. After :data:`ANALYSIS_ATTEMPTS` failed attempts the case goes to review with the reason
  ``analysis_failed`` (:func:`mark_analysis_failed`): one poison image cannot crash-loop the workers.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.decision.policy import Outcome, recommend
from openidv.face.matching import MatchConfig, QualityGates, match
from openidv.imaging import decode_image
from openidv.service import jobqueue, personal, reuse
from openidv.service.cases import (
    STEP_LABELS,
    accepted_capture,
    blob_of,
    build_document_report,
    ensure_not_expired,
    full_reports,
    read_blob,
    set_reports,
    steps_for,
)
from openidv.service.decisions import decide_case
from openidv.service.errors import ConflictError
from openidv.service.i18n import N_
from openidv.service.lifecycle import OPEN_FOR_CAPTURE, CaseState
from openidv.service.metrics import EngineStage
from openidv.service.orm import Case
from openidv.service.services import Services
from openidv.service.settings import DecisionMode, JobQueueKind
from openidv.service.transitions import record_event, transition

log = logging.getLogger(__name__)

#: attempts of one case's analysis before it goes to review as ``analysis_failed``
ANALYSIS_ATTEMPTS = 2
#: the review reason of a case whose analysis failed every attempt
ANALYSIS_FAILED = "analysis_failed"


class AnalysisOutcome(StrEnum):
    """What one run of the analysis job did."""

    ANALYSED = "analysed"  #: the case went to review or was decided
    NOT_SUBMITTED = "not_submitted"  #: the case had already left ``submitted`` (a re-run) or is gone: nothing done
    FAILED = "failed"  #: the last attempt failed: the case went to review as ``analysis_failed``


def submit(svc: Services, db: Session, case: Case, *, actor: str) -> dict[str, Any]:
    """Record the case as ``submitted``; analyse it now (``inprocess``) or enqueue its analysis.

    Returns the state and the milliseconds spent. Raises 409 when a step is missing or the case
    does not take a submit, 410 when it expired.
    """
    ensure_not_expired(svc, db, case)
    if case.state not in OPEN_FOR_CAPTURE:
        state = case.state.replace("_", " ")
        raise ConflictError(f"this case is {state}; it cannot be submitted", code="not_capturing")
    missing = [s for s in steps_for(case) if accepted_capture(case, s) is None]
    if missing:
        raise ConflictError(
            f"complete these steps first: {', '.join(STEP_LABELS[s] for s in missing)}", code="incomplete"
        )
    if blob_of(case, "selfie") is None:
        raise ConflictError(N_("the face step has to be done again"), code="incomplete")
    t0 = time.perf_counter()
    case.submitted_at = svc.clock()
    case.review_due_at = case.submitted_at + timedelta(hours=svc.settings.review_deadline_h)
    case.resubmit_step = None
    transition(svc, db, case, CaseState.SUBMITTED, actor)
    if svc.settings.job_queue is JobQueueKind.PROCRASTINATE:
        jobqueue.defer_analysis(db, case.id)  # committed (or rolled back) with the submit
    else:
        analyse(svc, db, case)
    return {"state": case.state, "processing_ms": round((time.perf_counter() - t0) * 1000.0, 1)}


def _face_match(svc: Services, case: Case) -> dict[str, Any]:
    """The selfie against the document's portrait (``no_face`` when the document showed none)."""
    selfie_blob, portrait_blob = blob_of(case, "selfie"), blob_of(case, "portrait")
    if selfie_blob is None:
        raise ConflictError(N_("the face step has to be done again"), code="incomplete")
    if portrait_blob is None:
        return {"same_person": None, "score": None, "reasons": ["no_face"], "checks": [], "detail": "no portrait"}
    selfie = decode_image(read_blob(svc, case, selfie_blob))
    portrait = decode_image(read_blob(svc, case, portrait_blob))
    gates = QualityGates(min_iod_px=svc.settings.face_selfie_min_iod_px)
    with svc.metrics.stage(EngineStage.FACE_MATCH):
        result = match(selfie, portrait, MatchConfig(svc.settings.face_operating_point, selfie_gates=gates))
    return result.to_dict()


def analyse(svc: Services, db: Session, case: Case) -> None:
    """Analyse a ``submitted`` case: face match, policy, reuse flag; then review or the auto decision."""
    if "document" not in case.reports:
        build_document_report(svc, db, case)
    face_match = _face_match(svc, case)
    reports = full_reports(svc, case)
    rec = recommend(reports.get("document"), reports.get("liveness"), face_match, svc.policy)
    uses = [u for u in reuse.earlier_uses(svc, db, case, reports.get("document")) if not u.same_applicant]
    rec = reuse.flag(rec, uses)
    mode = svc.settings.decision_mode
    set_reports(svc, case, {**reports, "face_match": face_match})
    recommendation = rec.to_dict() | {
        "mode": mode.value,
        "policy": svc.policy.to_dict(),
        "reused_by": [u.to_dict() for u in uses],
    }
    case.recommendation = personal.public_recommendation(recommendation)
    if mode is DecisionMode.AUTO and rec.outcome is not Outcome.REVIEW:
        target = CaseState.APPROVED if rec.outcome is Outcome.APPROVE else CaseState.REJECTED
        reasons = [r.code for r in rec.reasons]
        detail = {"policy_version": rec.policy_version}
        decide_case(svc, db, case, target, "system", reasons=reasons, seller_message=case.seller_message, detail=detail)
    else:
        transition(svc, db, case, CaseState.IN_REVIEW, "system", recommendation=rec.outcome.value)


def _locked_submitted_case(db: Session, case_id: str) -> Case | None:
    """The case row, locked for this transaction (``FOR UPDATE``; SQLite locks on write), if still ``submitted``."""
    case = db.scalar(select(Case).where(Case.id == case_id).with_for_update())
    if case is None or case.state != CaseState.SUBMITTED:
        return None
    return case


def run_analysis_job(svc: Services, case_id: str, *, attempt: int) -> AnalysisOutcome:
    """One run of the analysis job of ``case_id``; ``attempt`` counts from 0.

    A failure is raised again (the queue retries the job) until the last attempt, which sends
    the case to review as ``analysis_failed`` instead. Logs name the case id and the error's
    class only (no personal data).
    """
    with svc.sessions() as db:
        case = _locked_submitted_case(db, case_id)
        if case is None:
            log.info("analysis of case %s skipped: no longer submitted", case_id)
            return AnalysisOutcome.NOT_SUBMITTED
        if svc.settings.analysis_test_delay_s:
            time.sleep(svc.settings.analysis_test_delay_s)
        t0 = time.perf_counter()
        try:
            analyse(svc, db, case)
            db.commit()
        except Exception as exc:  # any failure: retried by the queue, or the case goes to a reviewer
            db.rollback()
            log.warning("analysis of case %s failed (attempt %d): %s", case_id, attempt + 1, type(exc).__name__)
            if attempt + 1 < ANALYSIS_ATTEMPTS:
                raise
            error = type(exc).__name__
        else:
            log.info("case %s analysed in %.0f ms: %s", case_id, (time.perf_counter() - t0) * 1000.0, case.state)
            return AnalysisOutcome.ANALYSED
    return mark_analysis_failed(svc, case_id, error=error, attempts=attempt + 1)


def mark_analysis_failed(svc: Services, case_id: str, *, error: str, attempts: int) -> AnalysisOutcome:
    """Send a still ``submitted`` case to review with the reason ``analysis_failed`` (audited)."""
    with svc.sessions() as db:
        case = _locked_submitted_case(db, case_id)
        if case is None:
            return AnalysisOutcome.NOT_SUBMITTED
        reason = {"code": ANALYSIS_FAILED, "part": "system"}
        case.recommendation = {
            "outcome": Outcome.REVIEW.value,
            "reasons": [reason],
            "reject_reasons": [],
            "review_reasons": [reason],
            "mode": svc.settings.decision_mode.value,
        }
        record_event(db, case, "system", ANALYSIS_FAILED, error=error, attempts=attempts)
        detail = {"recommendation": Outcome.REVIEW.value, "reason": ANALYSIS_FAILED}
        transition(svc, db, case, CaseState.IN_REVIEW, "system", **detail)
        db.commit()
    log.error("case %s sent to review: analysis failed %d times (%s)", case_id, attempts, error)
    return AnalysisOutcome.FAILED
