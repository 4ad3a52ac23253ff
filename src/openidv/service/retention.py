"""Retention: every case, in every state, loses its images, key and personal fields on schedule.

Each transition sets ``purge_after`` (:func:`openidv.service.cases.retention_deadline`):
``retention_days`` after a final decision or expiry, ``open_case_retention_days`` after the
last change of a case still open (in review, escalated, waiting for a video call or a
resubmission). A case past that date and still open is expired first (``retention limit
reached``); then it is shredded (:func:`openidv.service.shredding.shred`): the blobs are
deleted and the wrapped data key destroyed, so nothing of it decrypts any more, even from a
backup. Its public report (checks and scores), decision and audit trail stay.

Blob objects are written before their rows (:func:`openidv.service.cases.store_blob`), so a
request that fails after writing one leaves an orphaned object: :func:`sweep_orphaned_blobs`
deletes objects older than :data:`ORPHAN_GRACE` that have no ``blobs`` row (a purge also
deletes everything under its case's prefix).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from itertools import islice

from sqlalchemy import select

from openidv.service.blobstore import StoredObject
from openidv.service.db import checkpoint
from openidv.service.lifecycle import OPEN, OPEN_FOR_CAPTURE, CaseState
from openidv.service.orm import Blob, Case, CaseEvent
from openidv.service.services import Services
from openidv.service.shredding import shred
from openidv.service.transitions import transition

log = logging.getLogger(__name__)


def purge_due(svc: Services, limit: int = 200) -> int:
    """Shred the cases past their retention date (expiring open ones first); returns the number purged."""
    now = svc.clock()
    purged = 0
    with svc.sessions() as db:
        due = db.scalars(
            select(Case)
            .where(Case.purge_after.is_not(None), Case.purge_after <= now, Case.purged_at.is_(None))
            .limit(limit)
        ).all()
        for case in due:
            state = CaseState(case.state)  # a member even before the row is reloaded
            if state in OPEN:
                transition(
                    svc, db, case, CaseState.EXPIRED, "system", reason="retention limit reached", was=state.value
                )
            blobs = shred(svc, db, case)
            db.add(CaseEvent(case_id=case.id, at=now, actor="system", event="images_purged", detail={"blobs": blobs}))
            purged += 1
        db.commit()
    checkpoint(svc.engine)  # also flushes erasures committed since the last round out of the SQLite WAL
    if purged:
        log.info("purged the images of %d case(s)", purged)
    return purged


def expire_stale(svc: Services, limit: int = 500) -> int:
    """Expire unsubmitted cases past their deadline (their images are then purged on schedule)."""
    now = svc.clock()
    open_states = [CaseState.STARTED, *OPEN_FOR_CAPTURE]
    with svc.sessions() as db:
        stale = db.scalars(select(Case).where(Case.state.in_(open_states), Case.expires_at <= now).limit(limit)).all()
        for case in stale:
            transition(svc, db, case, CaseState.EXPIRED, "system", reason="not submitted in time")
            svc.runtime.end_liveness(case.id)
        db.commit()
    return len(stale)


#: an object without a row is an orphan only once it is this old (a request writes its objects,
#: then commits their rows within seconds)
ORPHAN_GRACE = timedelta(hours=1)


def _old_objects(svc: Services, grace: timedelta) -> Iterator[StoredObject]:
    cutoff = svc.clock() - grace
    return (o for o in svc.blobs.objects() if o.modified_at <= cutoff)


def sweep_orphaned_blobs(svc: Services, grace: timedelta = ORPHAN_GRACE, batch: int = 500) -> int:
    """Delete blob objects older than ``grace`` that have no ``blobs`` row; returns how many."""
    removed = 0
    candidates = _old_objects(svc, grace)
    while chunk := list(islice(candidates, batch)):
        with svc.sessions() as db:
            known = set(db.scalars(select(Blob.id).where(Blob.id.in_([o.blob_id for o in chunk]))))
        for orphan in (o for o in chunk if o.blob_id not in known):
            svc.blobs.delete(orphan.case_id, orphan.blob_id)
            removed += 1
    if removed:
        log.info("deleted %d orphaned blob object(s)", removed)
    return removed


def sweep(svc: Services) -> dict[str, int]:
    """One retention round (the housekeeping thread in process, the worker's periodic task with a job queue):
    expire the stale cases, purge the due ones, delete orphaned blob objects; how many of each."""
    return {"expired": expire_stale(svc), "purged": purge_due(svc), "orphans": sweep_orphaned_blobs(svc)}
