"""decide_case (one way to decide a case) and the StrEnum columns' stored values."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text

from openidv.service.app import build_services
from openidv.service.auth import create_user
from openidv.service.cases import create_case
from openidv.service.decisions import CaseDecided, decide_case
from openidv.service.enums import Role
from openidv.service.lifecycle import CaseState, TransitionError
from openidv.service.orm import Case, OutboxMessage, User
from openidv.service.services import Services
from openidv.service.transitions import transition
from tests.service.conftest import make_settings


@pytest.fixture
def svc(tmp_path: Path, database: str) -> Iterator[Services]:
    s = build_services(make_settings(tmp_path, database))
    yield s
    s.engine.dispose()


def _case_in_review(svc: Services, email: str | None = "seller@example.org") -> str:
    with svc.sessions() as db:
        case, _ = create_case(svc, db, channel="web", actor="applicant")
        case.contact_email = email
        for state in (CaseState.CAPTURING, CaseState.SUBMITTED, CaseState.IN_REVIEW):
            transition(svc, db, case, state, "system")
        db.commit()
        return case.id


def test_decide_case_transitions_records_the_event_and_queues_the_email(svc: Services) -> None:
    case_id = _case_in_review(svc)
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        event = decide_case(
            svc, db, case, CaseState.REJECTED, "reviewer:ann", reasons=["face_mismatch"], seller_message="No."
        )
        db.commit()
        assert isinstance(event, CaseDecided) and event.state is CaseState.REJECTED
        assert event.reasons == ("face_mismatch",)
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        assert case.state is CaseState.REJECTED and case.decision == "rejected"
        assert case.decision_reasons == ["face_mismatch"] and case.seller_message == "No."
        decided = [e for e in case.events if e.event == "case_decided"]
        assert len(decided) == 1 and decided[0].detail == {"state": "rejected", "reasons": ["face_mismatch"]}
        mails = db.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case_id)).all()
        assert [m.channel for m in mails] == ["email"] and "No." in mails[0].payload["text"]


def test_decide_case_refuses_a_forbidden_move_and_a_state_that_is_no_decision(svc: Services) -> None:
    case_id = _case_in_review(svc)
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        with pytest.raises(ValueError, match="not a decision"):
            decide_case(svc, db, case, CaseState.EXPIRED, "system", reasons=[], seller_message=None)
        decide_case(svc, db, case, CaseState.APPROVED, "system", reasons=[], seller_message=None)
        with pytest.raises(TransitionError):
            decide_case(svc, db, case, CaseState.REJECTED, "system", reasons=[], seller_message=None)


def test_enum_columns_store_their_values_and_load_as_members(svc: Services) -> None:
    case_id = _case_in_review(svc)
    with svc.sessions() as db:
        create_user(db, "ann", "admin", "a long enough password")
        db.commit()
    with svc.sessions() as db:
        stored = db.execute(text("SELECT state FROM cases WHERE id = :i"), {"i": case_id}).scalar_one()
        role = db.execute(text("SELECT role FROM users WHERE name = 'ann'")).scalar_one()
        assert (stored, role) == ("in_review", "admin")  # the values, as before the enum type
        user = db.scalar(select(User).where(User.name == "ann"))
        assert user is not None and user.role is Role.ADMIN
        assert db.scalar(select(Case.id).where(Case.state == CaseState.IN_REVIEW)) == case_id
