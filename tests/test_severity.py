"""The one severity table: every key names a check and a reason the engines report."""

from __future__ import annotations

from typing import Any

from openidv.checks import CheckResult, Severity, Status
from openidv.decision.policy import Outcome, recommend
from openidv.decision.severity import SEVERITY, severity_of, with_severity
from openidv.document.codes import DocumentCheck, DocumentReason, is_review_signal, parse_check_name
from openidv.face.codes import FaceCheck
from openidv.liveness.codes import LivenessCheck, LivenessReason


def _reasons_of(name: str) -> set[str] | None:
    """The reason codes of the engine that reports check ``name``; None when no engine does."""
    if parse_check_name(name) is not None:
        return {r.value for r in DocumentReason}
    if name in {c.value for c in LivenessCheck}:
        return {r.value for r in LivenessReason}
    return None


def test_every_table_key_is_a_check_and_reason_of_an_engine() -> None:
    for name, reason in SEVERITY:
        reasons = _reasons_of(name)
        assert reasons is not None, f"{name!r} is no check name of the document or liveness engine"
        assert reason is None or reason in reasons, f"{name}.{reason}: no such reason"


def test_a_typo_in_the_table_is_caught() -> None:
    """The membership test above can fail: misspelt names and reasons are not members."""
    assert _reasons_of("document_not_expried") is None
    assert _reasons_of("front_specimen") is None  # specimen is not a per-side check
    assert "no_metdata" not in (_reasons_of("front_editing_software") or set())


def test_no_check_name_is_reported_by_two_engines() -> None:
    """The table is keyed by the check's name alone: the engines' names must not overlap."""
    document = {c.value for c in DocumentCheck}
    liveness = {c.value for c in LivenessCheck}
    face = {c.value for c in FaceCheck}
    assert not (document & liveness) and not (document & face) and not (liveness & face)


def test_lookup_specific_reason_then_any_reason_then_review() -> None:
    assert severity_of("specimen", "specimen_document") is Severity.DECISIVE
    assert severity_of("front_editing_software", "no_metadata") is Severity.ADVISORY
    assert severity_of("front_editing_software", "editing_software") is Severity.REVIEW
    assert severity_of("rppg", "weak_pulse") is Severity.ADVISORY
    assert severity_of("front_screen_recapture", "screen_pattern") is Severity.REVIEW
    r = with_severity(CheckResult("us_issuer", Status.FAIL, "non_us_issuer", 0.0))
    assert r.severity is Severity.DECISIVE and r.to_dict()["severity"] == "decisive"


def _c(name: str, status: str, reason: str, score: float | None = 0.9) -> dict[str, Any]:
    return {"name": name, "status": status, "reason": reason, "score": score}


def test_policy_follows_the_table() -> None:
    """A decisive failure rejects, a review failure reviews, an advisory result is ignored; a
    review signal is listed after the document's other reasons."""
    live = {"decision": "live", "score": 0.9, "checks": [_c("rppg", "inconclusive", "weak_pulse")]}
    face = {"same_person": True, "score": 0.9, "reasons": [], "checks": []}

    def outcome(*checks: dict[str, Any]) -> tuple[Outcome, list[str]]:
        rec = recommend({"checks": list(checks)}, live, face)
        return rec.outcome, [r.code for r in rec.reasons]

    assert outcome(_c("specimen", "fail", "specimen_document", 0.0))[0] is Outcome.REJECT
    assert outcome(_c("front_copy_move", "fail", "copy_move", 0.0))[0] is Outcome.REVIEW
    assert outcome(_c("front_editing_software", "inconclusive", "no_metadata", None)) == (Outcome.APPROVE, [])
    signal = _c("front_editing_software", "inconclusive", "editing_software", 0.05)
    assert is_review_signal(signal["name"], signal["status"], signal["reason"])
    assert outcome(signal, _c("front_copy_move", "inconclusive", "no_texture", None)) == (
        Outcome.REVIEW,
        ["document.front_copy_move.no_texture", "document.front_editing_software.editing_software"],
    )
