"""Recorded cases for the agreement report, loaded from the database (see :mod:`openidv.decision.agreement`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from openidv.decision.agreement import REVIEWER_OUTCOMES, SYSTEM_OUTCOMES, RecordedCase
from openidv.service.orm import Case


def final_review_outcome(case: Case) -> str | None:
    """The last reviewer approve/reject on ``case`` (reviews in id order), or None when a reviewer never decided."""
    for review in reversed(case.reviews):
        if review.action in REVIEWER_OUTCOMES:
            return review.action
    return None


def load_recorded_cases(db: Session) -> tuple[list[RecordedCase], int]:
    """Every submitted case with a system outcome and a reviewer's final decision; and how many were left out.

    The system outcome is the one recorded at submit (``case.recommendation["outcome"]``); the
    reviewer outcome is the last :class:`~openidv.service.orm.Review` with action approve or reject.
    Cases never submitted are ignored; submitted cases without a final human decision (still in
    review, sent back for resubmission, escalated, or decided by the system in ``auto`` mode) are
    left out and counted.
    """
    rows = db.scalars(
        select(Case).where(Case.submitted_at.is_not(None)).options(selectinload(Case.reviews)).order_by(Case.created_at)
    )
    cases: list[RecordedCase] = []
    excluded = 0
    for case in rows:
        system = (case.recommendation or {}).get("outcome")
        reviewer = final_review_outcome(case)
        if system not in SYSTEM_OUTCOMES or reviewer is None:
            excluded += 1
            continue
        cases.append(RecordedCase(case.id, dict(case.reports or {}), str(system), reviewer))
    return cases, excluded
