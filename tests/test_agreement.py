"""The agreement report (system vs reviewers) on recorded cases, pure and from a real database."""

from __future__ import annotations

import io
import json
import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from openidv.decision.agreement import (
    AgreementInputError,
    Rate,
    RecordedCase,
    agreement,
    chart_png,
    default_grid,
    format_text,
    summarize,
    threshold_sweep,
)
from openidv.decision.policy import DEFAULT_POLICY, PolicyConfig


def _c(name: str, status: str = "pass", reason: str = "ok", score: float | None = 0.9) -> dict[str, Any]:
    return {"name": name, "status": status, "reason": reason, "score": score}


def _reports(
    face: float | None = 0.8,
    same: bool | None = True,
    live: float = 0.9,
    decision: str = "live",
    doc_checks: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Report dicts shaped like the stored ones (see tests/service/test_units.py)."""
    checks = [_c("document_not_expired"), _c("barcode_read"), _c("portrait_present"), *(doc_checks or [])]
    return {
        "document": {"status": "pass", "checks": checks},
        "liveness": {"decision": decision, "score": live, "checks": [_c("challenges_completed")]},
        "face_match": {"same_person": same, "score": face, "reasons": [], "checks": []},
    }


def _case(i: int, system: str, reviewer: str, **reports: Any) -> RecordedCase:
    return RecordedCase(f"c{i}", _reports(**reports), system, reviewer)


def _recorded() -> list[RecordedCase]:
    """20 recorded cases: (system, reviewer) counts approve/approve 8, approve/reject 1, reject/reject 3,
    reject/approve 1, review/approve 5, review/reject 2."""
    pairs = (
        [("approve", "approve")] * 8
        + [("approve", "reject")]
        + [("reject", "reject")] * 3
        + [("reject", "approve")]
        + [("review", "approve")] * 5
        + [("review", "reject")] * 2
    )
    return [_case(i, s, r) for i, (s, r) in enumerate(pairs)]


def test_matrix_and_rates_on_recorded_outcomes() -> None:
    rep = agreement(_recorded(), excluded=4)
    assert rep.matrix == {
        "approve": {"approve": 8, "reject": 1},
        "reject": {"approve": 1, "reject": 3},
        "review": {"approve": 5, "reject": 2},
    }
    assert rep.n_cases == 20 and rep.excluded == 4 and rep.decided == 13
    assert (rep.agreement.k, rep.agreement.n) == (11, 13)
    assert (rep.false_accept.k, rep.false_accept.n) == (1, 6)  # 1 of the 6 reviewer rejections approved
    assert (rep.false_reject.k, rep.false_reject.n) == (1, 14)
    assert (rep.automation.k, rep.automation.n) == (13, 20)
    assert rep.automation.rate == pytest.approx(0.65)
    # Wilson 95% intervals, checked against published values: 8/10 -> [0.490, 0.943], 0/10 -> [0, 0.278]
    assert Rate(8, 10).interval == pytest.approx((0.4902, 0.9433), abs=1e-4)
    assert Rate(0, 10).interval == pytest.approx((0.0, 0.2775), abs=1e-4)
    low, high = rep.agreement.interval
    assert low < 11 / 13 < high and low > 0.5 and high < 1.0
    d = rep.to_dict()
    fa_low, fa_high = Rate(1, 6).interval
    assert d["false_accept"] == {
        "count": 1,
        "of": 6,
        "rate": round(1 / 6, 6),
        "ci95": [round(fa_low, 6), round(fa_high, 6)],
    }
    assert d["false_accept"]["ci95"][0] > 0.0 and d["false_accept"]["ci95"][1] == pytest.approx(0.5635, abs=1e-4)
    assert d["reference"] == "reviewer" and d["excluded"] == 4
    json.dumps(d, allow_nan=False)  # no NaN leaks into the JSON


def test_empty_report_has_undefined_rates_not_errors() -> None:
    rep = agreement([], excluded=3)
    assert rep.n_cases == 0 and math.isnan(rep.agreement.rate)
    d = summarize([], 3).to_dict()
    assert d["agreement"]["rate"] is None and d["agreement"]["ci95"] == [None, None]
    json.dumps(d, allow_nan=False)
    assert "n/a (0/0)" in format_text(summarize([], 3))
    Image.open(io.BytesIO(chart_png(rep, summarize([]).sweep))).verify()


def test_bad_outcomes_are_refused() -> None:
    with pytest.raises(AgreementInputError):
        RecordedCase("x", {}, "approved", "approve")
    with pytest.raises(AgreementInputError):
        RecordedCase("x", {}, "approve", "review")  # a reviewer's final decision is approve or reject


def _sweep_cases() -> list[RecordedCase]:
    """Cases whose re-decided outcome depends on the thresholds (grid levels numbered 1..8, strict to loose)."""
    expired = [_c("document_not_expired", "fail", "expired", 0.0)]
    unsure = [_c("barcode_formats", "inconclusive", "separators_stripped", None)]
    return [
        _case(0, "approve", "approve", face=0.95, live=0.95),  # approve everywhere
        _case(1, "approve", "approve", face=0.62),  # approve from level 5 (0.60)
        _case(2, "review", "approve", face=0.52),  # approve only at 0.50 (levels 7, 8)
        _case(3, "reject", "reject", face=0.25, same=False),  # reject from level 4 (<= 0.25)
        _case(4, "review", "reject", face=0.58),  # approve from level 6: a false accept
        _case(5, "review", "approve", live=0.35, decision="not_live"),  # reject from level 7: a false reject
        _case(6, "reject", "reject", doc_checks=expired),  # reject everywhere
        _case(7, "review", "approve", doc_checks=unsure),  # review everywhere
        _case(8, "review", "reject", face=None, same=None),  # undecided face match: review everywhere
    ]


def test_sweep_redecides_recorded_cases_per_setting() -> None:
    cases = _sweep_cases()
    grid = default_grid()
    rows = threshold_sweep(cases, grid, current=DEFAULT_POLICY)
    assert [r.current for r in rows] == [False, False, False, False, True, False, False, False]
    automated = [r.report.automation.k for r in rows]
    assert automated == [2, 2, 2, 3, 4, 5, 7, 7]
    assert [r.report.false_accept.k for r in rows] == [0, 0, 0, 0, 0, 1, 1, 1]
    assert [r.report.false_reject.k for r in rows] == [0, 0, 0, 0, 0, 0, 1, 1]
    assert all(r.report.false_accept.n == 4 and r.report.false_reject.n == 5 for r in rows)
    # the current setting re-decides exactly as recommend() did at submit (the system outcomes recorded above)
    current = rows[4].report.matrix
    assert current == agreement(cases).matrix
    d = rows[6].to_dict()
    assert d["thresholds"]["approve_match_min"] == 0.5 and d["false_reject"]["count"] == 1
    # a setting not on the grid is appended and marked current
    custom = PolicyConfig(approve_match_min=0.57)
    summary = summarize(cases, current=custom)
    assert len(summary.sweep) == len(grid) + 1 and summary.sweep[-1].current
    assert summary.sweep[-1].report.automation.k == 5  # case 4 (0.58) approved, case 2 (0.52) not


_report_strategy = st.builds(
    lambda fs, same, ls, live, fail, incon: _reports(
        face=fs,
        same=same if same is None else fs >= 0.5,
        live=ls,
        decision=live,
        doc_checks=([_c("us_issuer", "fail", "not_us", 0.0)] if fail else [])
        + ([_c("barcode_formats", "inconclusive", "x", None)] if incon else []),
    ),
    st.floats(0.0, 1.0),
    st.one_of(st.none(), st.just(True)),
    st.floats(0.0, 1.0),
    st.sampled_from(["live", "not_live", "inconclusive"]),
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_report_strategy, st.sampled_from(["approve", "reject"])), min_size=1, max_size=15))
def test_looser_settings_never_automate_less(recorded: list[tuple[dict[str, Any], str]]) -> None:
    cases = [RecordedCase(f"c{i}", rep, "review", reviewer) for i, (rep, reviewer) in enumerate(recorded)]
    grid = default_grid()
    decided: list[set[str]] = []
    approved: list[set[str]] = []
    rejected: list[set[str]] = []
    for config in grid:
        outcomes = {c.case_id: c.redecide(config) for c in cases}
        approved.append({k for k, v in outcomes.items() if v == "approve"})
        rejected.append({k for k, v in outcomes.items() if v == "reject"})
        decided.append(approved[-1] | rejected[-1])
    for strict, loose in zip(range(len(grid) - 1), range(1, len(grid)), strict=True):
        # nested sets: a case a strict setting decides is decided the same way by every looser one
        assert approved[strict] <= approved[loose] and rejected[strict] <= rejected[loose]
    rows = threshold_sweep(cases, grid)
    assert [r.report.automation.k for r in rows] == [len(s) for s in decided]
    autos = [r.report.automation.k for r in rows]
    assert autos == sorted(autos)
    fas = [r.report.false_accept.k for r in rows]
    frs = [r.report.false_reject.k for r in rows]
    assert fas == sorted(fas) and frs == sorted(frs)


def test_chart_is_a_png_with_both_panels() -> None:
    cases = _sweep_cases()
    summary = summarize(cases)
    png = chart_png(summary.report, summary.sweep)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (1100, 450)
    text = format_text(summary)
    assert "* match>=0.60/<=0.30 live>=0.60/<=0.20" in text
    assert "false accepts" in text and "(0/4)" in text


# --------------------------------------------------------------------------- from a real database


def _store(tmp_path: Path) -> dict[str, tuple[str, str | None]]:
    """Stores cases in SQLite; returns case id -> (system outcome, expected reviewer outcome or None)."""
    from openidv.service.app import build_services
    from openidv.service.cases import create_case
    from openidv.service.orm import Review
    from tests.service.conftest import make_settings

    svc = build_services(make_settings(tmp_path))
    plan: list[tuple[str, list[str], dict[str, Any]]] = [
        ("approve", ["approve"], {"face": 0.9}),
        ("approve", ["escalate", "reject"], {"face": 0.9}),  # an admin rejected after escalation
        ("reject", ["request_resubmission", "reject"], {"face": 0.2, "same": False}),
        ("review", ["approve"], {"face": 0.55}),
        ("review", [], {"face": 0.55}),  # still in review: left out
        ("review", ["request_resubmission"], {"face": 0.55}),  # sent back, no final decision: left out
    ]
    expected: dict[str, tuple[str, str | None]] = {}
    try:
        with svc.sessions() as db:
            for i, (system, actions, reports) in enumerate(plan):
                case, _ = create_case(svc, db, channel="web", actor="applicant")
                case.reports = _reports(**reports)
                case.recommendation = {"outcome": system, "reasons": [], "mode": "shadow"}
                case.submitted_at = svc.clock() + timedelta(seconds=i)
                for action in actions:  # flushed one by one: ids follow the order of the decisions
                    db.add(Review(case_id=case.id, reviewer="rita", action=action, system_outcome=system))
                    db.flush()
                final = [a for a in actions if a in ("approve", "reject")]
                expected[case.id] = (system, final[-1] if final else None)
            create_case(svc, db, channel="web", actor="applicant")  # never submitted: ignored
            db.commit()
    finally:
        svc.engine.dispose()
    return expected


def test_load_recorded_cases_and_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from openidv.cli import main
    from openidv.service.app import build_services
    from openidv.service.reports import load_recorded_cases
    from tests.service.conftest import make_settings

    expected = _store(tmp_path)
    svc = build_services(make_settings(tmp_path))
    try:
        with svc.sessions() as db:
            cases, excluded = load_recorded_cases(db)
    finally:
        svc.engine.dispose()
    assert excluded == 2
    assert {c.case_id: (c.system_outcome, c.reviewer_outcome) for c in cases} == {
        k: v for k, v in expected.items() if v[1] is not None
    }
    assert all(c.reports["face_match"]["score"] is not None for c in cases)

    monkeypatch.setenv("OPENIDV_ENVIRONMENT", "development")
    monkeypatch.setenv("OPENIDV_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OPENIDV_DATABASE_URL", "")
    monkeypatch.setenv("OPENIDV_DECISION_MODE", "shadow")
    plot = tmp_path / "out" / "agreement.png"
    assert main(["report", "agreement", "--json", "--plot", str(plot)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["cases"] == 4 and payload["excluded"] == 2 and payload["decision_mode"] == "shadow"
    assert payload["matrix"] == {
        "approve": {"approve": 1, "reject": 1},
        "reject": {"approve": 0, "reject": 1},
        "review": {"approve": 1, "reject": 0},
    }
    assert payload["false_accept"]["count"] == 1 and payload["false_accept"]["of"] == 2
    assert payload["agreement"]["count"] == 2 and payload["agreement"]["of"] == 3
    assert sum(row["current"] for row in payload["sweep"]) == 1 and payload["plot"] == str(plot)
    assert Image.open(plot).format == "PNG"

    assert main(["report", "agreement"]) == 0
    text = capsys.readouterr().out
    assert "decision mode: shadow" in text and "4 case(s) decided by a reviewer; 2 left out" in text
