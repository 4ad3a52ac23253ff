"""Issue 22 part 5: one document presented by different applicants goes to review (``document.reused``)."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from openidv.decision.policy import Outcome, Recommendation
from openidv.service import reuse
from openidv.service.app import build_services, create_app
from openidv.service.cases import Services, create_case, full_reports, set_reports, transition
from openidv.service.crypto import KeyRing
from openidv.service.lifecycle import CaseState
from openidv.service.orm import Case, DocumentFingerprint
from tests.service.conftest import make_settings
from tests.service.console_helpers import add_users, login, seed_case


def _report(number: str = "D123-4567-890", state: str = "VA", source: str = "barcode") -> dict[str, Any]:
    fields = [
        {"name": "document_number", "value": number, "source": source},
        {"name": "document_number", "value": "WRONG0CR", "source": "printed"},
        {"name": "family_name", "value": "RIVERA", "source": source},
    ]
    if source == "barcode":
        fields += [
            {"name": "issuing_state", "value": state, "source": "barcode"},
            {"name": "issuing_country", "value": "USA", "source": "barcode"},
        ]
    else:
        fields.append({"name": "issuing_country", "value": "USA", "source": "mrz"})
    return {"type": "us_dl_id", "issuer": f"US-{state}", "all_fields": fields, "checks": []}


def test_document_identity_comes_from_machine_readable_data_only() -> None:
    got = reuse.document_identity(_report("d123-4567 890"))
    assert got == reuse.DocumentIdentity("barcode", "USA-VA", "D1234567890")
    assert reuse.document_identity(_report("123456789", source="mrz")) == reuse.DocumentIdentity(
        "mrz", "USA", "123456789"
    )
    printed_only = {"issuer": "US-VA", "all_fields": [{"name": "document_number", "value": "X1", "source": "printed"}]}
    assert reuse.document_identity(printed_only) is None  # OCR is not trusted for this
    assert reuse.document_identity(None) is None
    assert reuse.document_identity(_report("--")) is None


def test_fingerprint_is_keyed_and_does_not_show_the_number() -> None:
    ident = reuse.DocumentIdentity("barcode", "USA-VA", "D1234567890")
    a, b = reuse.fingerprint(b"a" * 32, ident), reuse.fingerprint(b"b" * 32, ident)
    assert a != b and len(a) == 64 and "1234567" not in a
    assert reuse.fingerprint(b"a" * 32, replace(ident, issuer="USA-MD")) != a  # same number, other state
    assert reuse.fingerprint(b"a" * 32, replace(ident, source="mrz")) == a


@pytest.fixture
def svc(tmp_path: Path, database: str) -> Iterator[Services]:
    s = build_services(make_settings(tmp_path, database))
    yield s
    s.engine.dispose()


def seed_use(
    svc: Services, report: dict[str, Any], *, email: str | None, reference: str | None = None, decision: str = ""
) -> str:
    """A case that presented the document of ``report`` (decided when ``decision`` is approved/rejected)."""
    with svc.sessions() as db:
        case, _ = create_case(svc, db, channel="web", actor="applicant", external_ref=reference)
        case.contact_email = email
        case.reports = {"document": report}
        reuse.record(svc, db, case, report)
        if decision:
            for state in (CaseState.CAPTURING, CaseState.SUBMITTED, CaseState.IN_REVIEW, CaseState(decision)):
                transition(svc, db, case, state, "reviewer:ann")
            case.decision = decision
        db.commit()
        return case.id


def _approve() -> Recommendation:
    return Recommendation(Outcome.APPROVE, [], [])


def test_reuse_by_another_applicant_is_flagged_and_the_same_applicant_is_not(svc: Services) -> None:
    first = seed_use(svc, _report(), email="ann@example.com", reference="seller-1", decision="approved")
    seed_use(svc, _report("OTHER123"), email="zed@example.com")  # another document: never matched
    again = seed_use(svc, _report("D1234567890"), email="ANN@example.com ", reference="seller-1")
    other_email = seed_use(svc, _report(), email="bob@example.com", reference="seller-1")
    other_ref = seed_use(svc, _report(), email="ann@example.com", reference="seller-2")
    with svc.sessions() as db:
        case = db.get(Case, again)
        assert case is not None
        uses = reuse.earlier_uses(svc, db, case, case.reports.get("document"))
        assert {u.case_id for u in uses} == {first, other_email, other_ref}
        assert [u.same_applicant for u in uses] == [True, False, False]
        same_only = [u for u in uses if u.case_id == first]
        assert reuse.flag(_approve(), same_only).outcome is Outcome.APPROVE  # a resubmission: not flagged
        case = db.get(Case, other_email)
        assert case is not None
        rec = reuse.flag(_approve(), reuse.earlier_uses(svc, db, case, case.reports.get("document")))
        assert rec.outcome is Outcome.REVIEW
        reason = next(r for r in rec.reasons if r.code == reuse.REASON)
        assert f"case {first} (approved)" in reason.detail and other_ref in reason.detail
        rejected = Recommendation(Outcome.REJECT, [], [])
        assert (
            reuse.flag(rejected, reuse.earlier_uses(svc, db, case, case.reports.get("document"))).outcome
            is Outcome.REJECT
        )
        stored = db.scalars(select(DocumentFingerprint.digest)).all()
    assert all("1234567890" not in d for d in stored)


def test_fingerprints_survive_a_master_key_rotation_and_go_with_the_case(svc: Services, tmp_path: Path) -> None:
    first = seed_use(svc, _report(), email="ann@example.com")
    key_file = tmp_path / "var" / "dev-master.key"
    rotated = key_file.read_text() + f"k2:{base64.b64encode(secrets.token_bytes(32)).decode()}\n"
    (tmp_path / "rotated.key").write_text(rotated)
    svc2 = replace(svc, keys=KeyRing.from_file(tmp_path / "rotated.key"))
    second = seed_use(svc2, _report(), email="bob@example.com")
    with svc2.sessions() as db:
        rows = {r.case_id: r for r in db.scalars(select(DocumentFingerprint))}
        assert rows[first].key_id == "dev1" and rows[second].key_id == "k2"
        assert rows[first].digest != rows[second].digest
        case = db.get(Case, second)
        assert case is not None
        assert [u.case_id for u in reuse.earlier_uses(svc2, db, case, case.reports.get("document"))] == [first]
        db.execute(delete(Case).where(Case.id == first))  # the case is erased: its fingerprint goes with it
        db.commit()
        assert db.scalar(select(DocumentFingerprint).where(DocumentFingerprint.case_id == first)) is None
        assert reuse.earlier_uses(svc2, db, case, case.reports.get("document")) == []


def _present_the_document(svc: Services, case_id: str) -> None:
    """The recorded case ``case_id`` read the document of :func:`_report` (sealed report and fingerprint)."""
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None
        reports = full_reports(svc, case)
        reports["document"] = reports["document"] | _report()
        set_reports(svc, case, reports)
        reuse.record(svc, db, case, reports["document"])
        db.commit()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_reviewer_sees_the_earlier_case_and_its_decision(tmp_path: Path, database: str) -> None:
    app = create_app(make_settings(tmp_path, database))
    with TestClient(app) as c:
        svc: Services = app.state.services
        add_users(svc)
        earlier = seed_use(svc, _report(), email="ann@example.com", decision="rejected")
        case_id, _ = seed_case(svc, email="bob@example.com")
        _present_the_document(svc, case_id)
        login(c, "rita")
        page = c.get(f"/review/cases/{case_id}").text
        assert 'id="document-reused"' in page and f'data-case="{earlier}"' in page
        section = page.split('id="document-reused"')[1].split("</section>")[0]
        assert f"/review/cases/{earlier}" in section and "rejected" in section
        same_id, _ = seed_case(svc, email="ann@example.com")  # ann again: only bob's case is another applicant
        _present_the_document(svc, same_id)
        page = c.get(f"/review/cases/{same_id}").text
        assert f'data-case="{case_id}"' in page and f'data-case="{earlier}"' not in page


def test_identity_on_real_payloads_and_mrz_lines() -> None:
    """Shared data: every real AAMVA payload gives an identity, its number equal to the label where
    one is given; the MRZ numbers equal their labels; no two different documents share a fingerprint."""
    from openidv.eval import reuse as measure
    from tests.conftest import shared_path

    data = shared_path("aamva_syfaro_va").parent
    aamva = measure.real_aamva(data)
    assert aamva.read == aamva.documents == 12
    assert aamva.number_matches_label == aamva.numbers_labelled == 7
    assert aamva.state_matches_label >= 4 and aamva.false_reuse_pairs == 0  # NH: no state in its header
    mrz = measure.real_mrz(data)
    assert mrz.documents == 50 and mrz.read == 47  # 3 specimens with a placeholder number (0000...)
    assert mrz.number_matches_label == mrz.numbers_labelled - 2 and mrz.false_reuse_pairs == 0


def test_one_generated_licence_in_every_layout_gives_one_fingerprint() -> None:
    from openidv.eval import reuse as measure

    generated = measure.generated_aamva(5, seed=1)
    assert generated["layouts_agree"] == 5 and generated["false_reuse_pairs"] == 0
    assert generated["number_matches_label"] == generated["documents"]
