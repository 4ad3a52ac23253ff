"""Retention: images and liveness frames of decided cases are deleted on schedule.

A case whose ``purge_after`` has passed loses every blob (the ciphertext files and the
records' availability); its reports, decision and audit trail stay. Expired cases that
were never submitted are purged the same way.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from openidv.service.cases import Services, transition
from openidv.service.lifecycle import OPEN_FOR_CAPTURE, CaseState
from openidv.service.orm import Case, CaseEvent

log = logging.getLogger(__name__)


def purge_due(svc: Services, limit: int = 200) -> int:
    """Delete the blobs of cases past their retention date; returns the number of cases purged."""
    now = svc.clock()
    purged = 0
    with svc.sessions() as db:
        due = db.scalars(
            select(Case)
            .where(Case.purge_after.is_not(None), Case.purge_after <= now, Case.purged_at.is_(None))
            .limit(limit)
        ).all()
        for case in due:
            svc.blobs.delete_case(case.id)
            for blob in case.blobs:
                blob.deleted_at = now
            case.purged_at = now
            db.add(
                CaseEvent(
                    case_id=case.id, at=now, actor="system", event="images_purged", detail={"blobs": len(case.blobs)}
                )
            )
            purged += 1
        db.commit()
    if purged:
        log.info("purged the images of %d case(s)", purged)
    return purged


def expire_stale(svc: Services, limit: int = 500) -> int:
    """Expire unsubmitted cases past their deadline (their images are then purged on schedule)."""
    now = svc.clock()
    open_states = [CaseState.STARTED.value, *(s.value for s in OPEN_FOR_CAPTURE)]
    with svc.sessions() as db:
        stale = db.scalars(select(Case).where(Case.state.in_(open_states), Case.expires_at <= now).limit(limit)).all()
        for case in stale:
            transition(svc, db, case, CaseState.EXPIRED, "system", reason="not submitted in time")
            svc.runtime.end_liveness(case.id)
        db.commit()
    return len(stale)
