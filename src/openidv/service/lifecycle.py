"""The case life cycle as an explicit state machine.

::

    started --consent--> capturing --submit--> submitted --> in_review --> approved
       |                     |                     |             |-------> rejected
       |                     |                     |             '-------> resubmission_requested --> capturing
       |                     |                     '--(auto mode)--> approved / rejected
       '---------+-----------'--> video_call_requested
                 '--> expired (not submitted in time)

    submitted, in_review, video_call_requested --> expired (no decision within the open-case retention limit)
    any state --> erased (deletion on request: images, key and personal fields destroyed)

Every transition is recorded with its time and actor (``applicant``, ``system``,
``api:<key name>``, ``reviewer:<name>``).
"""

from __future__ import annotations

from enum import StrEnum


class CaseState(StrEnum):
    STARTED = "started"
    CAPTURING = "capturing"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RESUBMISSION_REQUESTED = "resubmission_requested"
    VIDEO_CALL_REQUESTED = "video_call_requested"
    EXPIRED = "expired"
    ERASED = "erased"


S = CaseState
_FORWARD: dict[CaseState, frozenset[CaseState]] = {
    S.STARTED: frozenset({S.CAPTURING, S.VIDEO_CALL_REQUESTED, S.EXPIRED}),
    S.CAPTURING: frozenset({S.SUBMITTED, S.VIDEO_CALL_REQUESTED, S.EXPIRED}),
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.APPROVED, S.REJECTED, S.EXPIRED}),
    S.IN_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.RESUBMISSION_REQUESTED, S.EXPIRED}),
    S.RESUBMISSION_REQUESTED: frozenset({S.CAPTURING, S.VIDEO_CALL_REQUESTED, S.EXPIRED}),
    S.APPROVED: frozenset(),
    S.REJECTED: frozenset({S.VIDEO_CALL_REQUESTED}),
    S.VIDEO_CALL_REQUESTED: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED}),
    S.EXPIRED: frozenset(),
    S.ERASED: frozenset(),
}
#: every state may be erased (on request), except an erased one
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    state: targets | ({S.ERASED} if state is not S.ERASED else frozenset()) for state, targets in _FORWARD.items()
}

#: states in which the applicant may still capture
OPEN_FOR_CAPTURE = frozenset({S.CAPTURING, S.RESUBMISSION_REQUESTED})
#: states the seller sees as "pending verification"
PENDING = frozenset({S.SUBMITTED, S.IN_REVIEW, S.VIDEO_CALL_REQUESTED})
FINAL = frozenset({S.APPROVED, S.REJECTED, S.EXPIRED})
#: states whose retention limit is ``open_case_retention_days``: reached, the case expires and is purged
OPEN = frozenset(set(S) - FINAL - {S.ERASED})


class TransitionError(Exception):
    def __init__(self, current: CaseState, target: CaseState) -> None:
        super().__init__(f"a case cannot go from {current.value} to {target.value}")
        self.current = current
        self.target = target


def check_transition(current: CaseState, target: CaseState) -> None:
    if target not in TRANSITIONS[current]:
        raise TransitionError(current, target)
