"""Envelope encryption, the case state machine, the decision policy and retention."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openidv.decision.policy import Outcome, PolicyConfig, recommend
from openidv.service import crypto
from openidv.service.lifecycle import FINAL, TRANSITIONS, CaseState, TransitionError, check_transition

# --------------------------------------------------------------------------- crypto


def test_envelope_roundtrip_and_binding(tmp_path: Path) -> None:
    ring = crypto.KeyRing([("k1", b"\1" * 32)])
    dek = crypto.new_data_key()
    wrapped = ring.wrap(dek, "case-a")
    assert wrapped.key_id == "k1" and dek not in wrapped.wrapped
    assert ring.unwrap(wrapped, "case-a") == dek
    with pytest.raises(crypto.CryptoError):
        ring.unwrap(wrapped, "case-b")  # a data key moved to another case does not open
    blob = crypto.encrypt(dek, b"image bytes", crypto.blob_aad("case-a", "selfie", "b1"))
    assert crypto.decrypt(dek, blob, crypto.blob_aad("case-a", "selfie", "b1")) == b"image bytes"
    for aad in (
        crypto.blob_aad("case-b", "selfie", "b1"),
        crypto.blob_aad("case-a", "document_front", "b1"),
        crypto.blob_aad("case-a", "selfie", "b2"),
    ):
        with pytest.raises(crypto.CryptoError):
            crypto.decrypt(dek, blob, aad)
    tampered = bytearray(blob)
    tampered[-1] ^= 1
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt(dek, bytes(tampered), crypto.blob_aad("case-a", "selfie", "b1"))


def test_key_rotation_keeps_old_data_readable(tmp_path: Path) -> None:
    old_ring = crypto.KeyRing([("2025", b"\2" * 32)])
    wrapped = old_ring.wrap(b"\3" * 32, "c")
    rotated = crypto.KeyRing([("2025", b"\2" * 32), ("2026", b"\4" * 32)])
    assert rotated.current_id == "2026"
    assert rotated.unwrap(wrapped, "c") == b"\3" * 32
    assert rotated.wrap(b"\5" * 32, "c").key_id == "2026"
    with pytest.raises(crypto.CryptoError, match="not in the key ring"):
        crypto.KeyRing([("2026", b"\4" * 32)]).unwrap(wrapped, "c")


def test_key_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("k1:not base64!\n")
    with pytest.raises(crypto.CryptoError, match="base64"):
        crypto.KeyRing.from_file(bad)
    short = tmp_path / "short.key"
    short.write_text("k1:AAAA\n")
    with pytest.raises(crypto.CryptoError, match="32 bytes"):
        crypto.KeyRing.from_file(short)
    with pytest.raises(crypto.KeyFileRequiredError, match="openidv keys generate"):
        crypto.load_key_ring(None, tmp_path / "data")  # outside development: no key file, no start
    assert not (tmp_path / "data").exists()
    with caplog.at_level(logging.WARNING):
        ring = crypto.load_key_ring(None, tmp_path / "data", development=True)
    assert "DEVELOPMENT MASTER KEY" in caplog.text
    assert (tmp_path / "data" / "dev-master.key").stat().st_mode & 0o077 == 0
    reused = crypto.load_key_ring(None, tmp_path / "data", development=True)
    assert reused.current_id == ring.current_id  # reused, not regenerated


# --------------------------------------------------------------------------- life cycle


def test_transitions() -> None:
    check_transition(CaseState.STARTED, CaseState.CAPTURING)
    check_transition(CaseState.IN_REVIEW, CaseState.RESUBMISSION_REQUESTED)
    with pytest.raises(TransitionError):
        check_transition(CaseState.APPROVED, CaseState.REJECTED)
    with pytest.raises(TransitionError):
        check_transition(CaseState.STARTED, CaseState.SUBMITTED)
    # a decided or expired case goes nowhere but to erasure; an erased one nowhere at all
    assert TRANSITIONS[CaseState.APPROVED] == TRANSITIONS[CaseState.EXPIRED] == {CaseState.ERASED}
    assert not TRANSITIONS[CaseState.ERASED]
    assert all(CaseState.ERASED in TRANSITIONS[s] for s in CaseState if s is not CaseState.ERASED)


@given(st.lists(st.sampled_from(list(CaseState)), max_size=30))
def test_any_walk_follows_the_graph(targets: list[CaseState]) -> None:
    state = CaseState.STARTED
    for target in targets:
        if target in TRANSITIONS[state]:
            check_transition(state, target)
            state = target
        else:
            with pytest.raises(TransitionError):
                check_transition(state, target)
    if state in FINAL - {CaseState.REJECTED}:
        assert TRANSITIONS[state] == {CaseState.ERASED}


# --------------------------------------------------------------------------- policy


def _c(name: str, status: str = "pass", reason: str = "ok", score: float | None = 0.9, **data: Any) -> dict[str, Any]:
    return {"name": name, "status": status, "reason": reason, "score": score, **({"data": data} if data else {})}


def _reports(**changes: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    document = {"status": "pass", "checks": [_c("document_not_expired"), _c("barcode_read"), _c("portrait_present")]}
    liveness = {"decision": "live", "score": 0.9, "checks": [_c("challenges_completed"), _c("planarity")]}
    face = {"same_person": True, "score": 0.8, "reasons": [], "checks": []}
    for key, value in changes.items():
        part, _, field = key.partition("__")
        {"document": document, "liveness": liveness, "face": face}[part][field] = value
    return document, liveness, face


def test_policy_approves_only_clear_cases() -> None:
    rec = recommend(*_reports())
    assert rec.outcome is Outcome.APPROVE and rec.reasons == []
    rec = recommend(*_reports(face__score=0.55))  # a match, but inside the margin
    assert rec.outcome is Outcome.REVIEW
    assert [r.code for r in rec.reasons] == ["face_match.below_approval_margin"]
    assert recommend(*_reports(liveness__score=0.5)).outcome is Outcome.REVIEW


def test_policy_rejects_decisive_failures_and_reviews_the_rest() -> None:
    doc, live, face = _reports()
    doc["checks"].append(_c("document_not_expired", "fail", "expired", 0.0))
    rec = recommend(doc, live, face)
    assert rec.outcome is Outcome.REJECT
    assert "document.document_not_expired.expired" in [r.code for r in rec.reasons]

    doc, live, face = _reports()
    doc["checks"].append(_c("front_screen_recapture", "fail", "screen_pattern", 0.2))  # forensic: review, never reject
    assert recommend(doc, live, face).outcome is Outcome.REVIEW

    assert recommend(*_reports(liveness__decision="not_live", liveness__score=0.1)).outcome is Outcome.REJECT
    assert recommend(*_reports(liveness__decision="not_live", liveness__score=0.4)).outcome is Outcome.REVIEW
    assert recommend(*_reports(face__same_person=False, face__score=0.1)).outcome is Outcome.REJECT
    assert recommend(*_reports(face__same_person=False, face__score=0.45)).outcome is Outcome.REVIEW
    assert recommend(*_reports(face__same_person=None, face__score=None)).outcome is Outcome.REVIEW
    assert recommend(None, *_reports()[1:]).outcome is Outcome.REVIEW


def test_policy_advisory_uninformative_and_per_check_minimums() -> None:
    doc, live, face = _reports()
    live["checks"].append(_c("rppg", "fail", "weak_pulse", 0.1))
    doc["checks"].append(_c("front_editing_software", "inconclusive", "no_metadata", None))
    doc["checks"].append(_c("front_portrait_border", "inconclusive", "no_portrait_border", None))
    assert recommend(doc, live, face).outcome is Outcome.APPROVE
    too_sharp = _c("front_portrait_border", "fail", "portrait_border_too_sharp", 0.4)
    assert recommend(*_reports(document__checks=[*doc["checks"], too_sharp])).outcome is Outcome.REVIEW
    doc["checks"].append(_c("barcode_formats", "inconclusive", "separators_stripped", None))
    assert recommend(doc, live, face).outcome is Outcome.REVIEW
    strict = PolicyConfig(min_check_scores={"portrait_present": 0.95})
    assert recommend(*_reports(), config=strict).outcome is Outcome.REVIEW


def test_policy_sends_advisory_document_checks_to_review_never_rejects() -> None:
    """A review signal (a forensic finding reported inconclusive) does not fail the document, but a person looks."""
    doc, live, face = _reports()
    doc["checks"].append(_c("front_screen_recapture", "inconclusive", "screen_pattern", 0.3, few_tiles=True))
    rec = recommend(doc, live, face)
    assert rec.outcome is Outcome.REVIEW
    assert [r.code for r in rec.reasons] == ["document.front_screen_recapture.screen_pattern"]
    doc["checks"].append(_c("document_not_expired", "fail", "expired", 0.0))
    assert recommend(doc, live, face).outcome is Outcome.REJECT  # the advisory signal does not soften a fact


def test_policy_approves_licence_barcodes_with_repaired_layout_deviations() -> None:
    """Issue 23: a deviation of separators, counts or offsets, repaired while every element parsed, is named
    (inconclusive, advisory) but keeps no case from automation; a malformed element still sends it to review."""
    doc, live, face = _reports()
    doc["checks"].append(
        _c("barcode_header", "inconclusive", "format_deviations", None, deviations=["record_separator"])
    )
    doc["checks"].append(_c("barcode_formats", "inconclusive", "date_order", 0.9))
    assert recommend(doc, live, face).outcome is Outcome.APPROVE
    doc["checks"].append(_c("barcode_formats", "inconclusive", "malformed_elements", 0.8))
    assert recommend(doc, live, face).outcome is Outcome.REVIEW


# --------------------------------------------------------------------------- retention


def test_purge_deletes_images_after_retention(tmp_path: Path) -> None:
    from openidv.service.app import build_services
    from openidv.service.cases import create_case, read_blob, store_blob
    from openidv.service.errors import GoneError
    from openidv.service.orm import Case
    from openidv.service.retention import expire_stale, purge_due
    from tests.service.conftest import make_settings

    svc = build_services(make_settings(tmp_path))
    with svc.sessions() as db:
        case, _ = create_case(svc, db, channel="web", actor="applicant")
        store_blob(svc, db, case, "document_front", "image/jpeg", b"\xff\xd8\xff fake")
        db.commit()
        case_id = case.id
    assert any((tmp_path / "var" / "blobs" / case_id).iterdir())
    assert purge_due(svc) == 0
    real = svc.clock
    svc.clock = lambda: real() + timedelta(seconds=svc.settings.case_ttl_s + 1)
    assert expire_stale(svc) == 1
    svc.clock = lambda: real() + timedelta(days=svc.settings.retention_days + 1)
    assert purge_due(svc) == 1
    assert not (tmp_path / "var" / "blobs" / case_id).exists()
    with svc.sessions() as db:
        case = db.get(Case, case_id)
        assert case is not None and case.state == "expired" and case.purged_at is not None
        assert all(b.deleted_at is not None for b in case.blobs)
        assert case.events[-1].event == "images_purged"
        with pytest.raises(GoneError):
            read_blob(svc, case, case.blobs[0])


# --------------------------------------------------------------------------- migrations


def test_migrations_build_the_models_schema(tmp_path: Path, database: str) -> None:
    """``alembic upgrade head`` gives exactly the ORM's schema, and downgrade/upgrade round-trips."""
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from openidv.service.db import alembic_config, make_engine, migrate
    from openidv.service.orm import Base

    url = database or f"sqlite:///{tmp_path / 'm.db'}"
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        cfg = alembic_config(url)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "base")
        command.upgrade(cfg, "head")
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_name": _not_the_job_queue})
        diff = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert diff == []


def _not_the_job_queue(name: str | None, type_: str, parent_names: object) -> bool:
    """The job queue's tables (revision 0006, procrastinate's own schema) are not ORM models."""
    return not (name or "").startswith("procrastinate")


def test_policy_sends_printed_text_mismatches_to_review_not_reject() -> None:
    doc, live, face = _reports()
    doc["checks"].append(_c("consistency_barcode_printed", "fail", "fields_mismatch", 0.0))
    rec = recommend(doc, live, face)
    assert rec.outcome is Outcome.REVIEW
    assert "document.consistency_barcode_printed.fields_mismatch" in [r.code for r in rec.reasons]
