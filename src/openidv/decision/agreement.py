"""The agreement report: the system's recommendations against the reviewers' final decisions.

This is the evidence for moving from ``manual``/``shadow`` to ``auto``. It works on recorded
cases (the stored JSON reports, the outcome the policy recorded at submit, the reviewer's
final approve/reject) and answers two questions:

* **How often does the system agree with the reviewers?** A 3x2 confusion matrix (system
  approve / reject / review against reviewer approve / reject), the agreement rate on the
  cases the system decided, the false-accept estimate P(system approve | reviewer reject),
  the false-reject estimate P(system reject | reviewer approve) and the automation rate
  (share of cases the system decided), each with a 95% Wilson interval.
* **What would other thresholds give?** :func:`threshold_sweep` re-decides every recorded
  case with :func:`~openidv.decision.policy.recommend` under each :class:`PolicyConfig`
  and reports the automation rate and the false accepts / rejects it would have made.

The reviewers' decisions are the reference. Reviewers make mistakes too, so these numbers
estimate *agreement with the reviewers*, not the truth; a false accept here is a case the
system would approve that a reviewer rejected. Pure: no database, no I/O (see
:mod:`openidv.service.reports` for loading recorded cases).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from openidv.decision.policy import DEFAULT_POLICY, Outcome, PolicyConfig, recommend
from openidv.errors import OpenIDVError
from openidv.eval.metrics import wilson_interval

SYSTEM_OUTCOMES: tuple[str, ...] = (Outcome.APPROVE.value, Outcome.REJECT.value, Outcome.REVIEW.value)
REVIEWER_OUTCOMES: tuple[str, ...] = (Outcome.APPROVE.value, Outcome.REJECT.value)


class AgreementInputError(OpenIDVError):
    """A recorded case with an outcome the report does not know."""

    code = "bad_recorded_case"


@dataclass(frozen=True)
class RecordedCase:
    """One decided case: the stored reports, the system's outcome at submit, the reviewer's final decision.

    ``reports`` holds the stored JSON reports under ``document``, ``liveness`` and ``face_match``
    (a part may be absent). ``system_outcome`` is approve / reject / review; ``reviewer_outcome``
    is approve / reject (cases without a final human decision are not recorded cases).
    """

    case_id: str
    reports: dict[str, Any]
    system_outcome: str
    reviewer_outcome: str

    def __post_init__(self) -> None:
        if self.system_outcome not in SYSTEM_OUTCOMES:
            raise AgreementInputError(f"case {self.case_id}: unknown system outcome {self.system_outcome!r}")
        if self.reviewer_outcome not in REVIEWER_OUTCOMES:
            raise AgreementInputError(f"case {self.case_id}: unknown reviewer outcome {self.reviewer_outcome!r}")

    def redecide(self, config: PolicyConfig) -> str:
        """The outcome :func:`recommend` gives these reports under ``config``."""
        r = self.reports
        return recommend(r.get("document"), r.get("liveness"), r.get("face_match"), config).outcome.value


@dataclass(frozen=True)
class Rate:
    """A proportion ``k / n`` with its 95% Wilson interval; ``rate``, ``low``, ``high`` are NaN when n is 0."""

    k: int
    n: int

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.k, self.n)

    def to_dict(self) -> dict[str, Any]:
        """``{"count", "of", "rate", "ci95": [low, high]}``; undefined rates are ``null``."""
        low, high = self.interval
        return {"count": self.k, "of": self.n, "rate": _num(self.rate), "ci95": [_num(low), _num(high)]}

    def text(self) -> str:
        """``"12.5% [5.1-27.0%] (3/24)"``, or ``"n/a (0/0)"``."""
        if not self.n:
            return "n/a (0/0)"
        low, high = self.interval
        return f"{100 * self.rate:.1f}% [{100 * low:.1f}-{100 * high:.1f}%] ({self.k}/{self.n})"


def _num(x: float) -> float | None:
    return None if math.isnan(x) else round(x, 6)


@dataclass(frozen=True)
class AgreementReport:
    """System vs reviewer on recorded cases (reviewer decisions taken as the reference).

    ``matrix[system][reviewer]`` counts cases, system in approve / reject / review and reviewer
    in approve / reject. ``excluded`` counts cases left out for want of a final human decision.
    """

    matrix: dict[str, dict[str, int]]
    excluded: int = 0

    @property
    def n_cases(self) -> int:
        return sum(sum(row.values()) for row in self.matrix.values())

    def _count(self, system: str, reviewer: str) -> int:
        return self.matrix[system][reviewer]

    @property
    def decided(self) -> int:
        """Cases the system decided on its own (approve or reject)."""
        return sum(self.matrix[s][r] for s in (Outcome.APPROVE, Outcome.REJECT) for r in REVIEWER_OUTCOMES)

    @property
    def agreement(self) -> Rate:
        """Share of the system's approve/reject decisions the reviewer made too."""
        agree = self._count(Outcome.APPROVE, Outcome.APPROVE) + self._count(Outcome.REJECT, Outcome.REJECT)
        return Rate(agree, self.decided)

    @property
    def false_accept(self) -> Rate:
        """P(system approve | reviewer reject)."""
        return Rate(self._count(Outcome.APPROVE, Outcome.REJECT), _column(self.matrix, Outcome.REJECT))

    @property
    def false_reject(self) -> Rate:
        """P(system reject | reviewer approve)."""
        return Rate(self._count(Outcome.REJECT, Outcome.APPROVE), _column(self.matrix, Outcome.APPROVE))

    @property
    def automation(self) -> Rate:
        """Share of the cases the system decided (approve or reject) instead of sending to review."""
        return Rate(self.decided, self.n_cases)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cases": self.n_cases,
            "excluded": self.excluded,
            "reference": "reviewer",
            "matrix": {s: dict(self.matrix[s]) for s in SYSTEM_OUTCOMES},
            "agreement": self.agreement.to_dict(),
            "false_accept": self.false_accept.to_dict(),
            "false_reject": self.false_reject.to_dict(),
            "automation": self.automation.to_dict(),
        }


def _column(matrix: dict[str, dict[str, int]], reviewer: str) -> int:
    return sum(matrix[s][reviewer] for s in SYSTEM_OUTCOMES)


def _matrix(pairs: Sequence[tuple[str, str]]) -> dict[str, dict[str, int]]:
    matrix = {s: dict.fromkeys(REVIEWER_OUTCOMES, 0) for s in SYSTEM_OUTCOMES}
    for system, reviewer in pairs:
        matrix[system][reviewer] += 1
    return matrix


def agreement(cases: Sequence[RecordedCase], excluded: int = 0) -> AgreementReport:
    """Confusion matrix and rates of the recorded system outcomes against the reviewers' decisions.

    ``excluded`` is the number of cases left out because no reviewer decided them (reported as is).
    """
    return AgreementReport(_matrix([(c.system_outcome, c.reviewer_outcome) for c in cases]), excluded)


@dataclass(frozen=True)
class SweepRow:
    """What one threshold setting would have done on the recorded cases (reviewers as the reference)."""

    label: str
    config: PolicyConfig
    report: AgreementReport  #: the re-decided outcomes against the reviewers
    current: bool = False  #: the setting the service runs with now

    def to_dict(self) -> dict[str, Any]:
        c = self.config
        return {
            "label": self.label,
            "current": self.current,
            "thresholds": {
                "approve_match_min": c.approve_match_min,
                "reject_match_max": c.reject_match_max,
                "approve_liveness_min": c.approve_liveness_min,
                "reject_liveness_max": c.reject_liveness_max,
            },
            "automation": self.report.automation.to_dict(),
            "false_accept": self.report.false_accept.to_dict(),
            "false_reject": self.report.false_reject.to_dict(),
            "agreement": self.report.agreement.to_dict(),
            "matrix": {s: dict(self.report.matrix[s]) for s in SYSTEM_OUTCOMES},
        }


#: (approve_match_min, approve_liveness_min, reject_match_max, reject_liveness_max), strict to loose.
#: Every column moves one way only, so a looser row never decides fewer cases than a stricter one.
GRID_LEVELS: tuple[tuple[float, float, float, float], ...] = (
    (0.90, 0.90, 0.05, 0.05),
    (0.80, 0.80, 0.10, 0.10),
    (0.70, 0.70, 0.20, 0.15),
    (0.65, 0.65, 0.25, 0.20),
    (0.60, 0.60, 0.30, 0.20),
    (0.55, 0.55, 0.35, 0.30),
    (0.50, 0.50, 0.40, 0.40),
    (0.50, 0.45, 0.45, 0.45),
)


def default_grid(base: PolicyConfig = DEFAULT_POLICY) -> list[PolicyConfig]:
    """Threshold settings from strict to loose, keeping ``base``'s document rules and per-check minimums.

    The face and liveness thresholds move jointly: approval minimums fall, rejection maxima rise.
    """
    return [
        replace(base, approve_match_min=am, approve_liveness_min=al, reject_match_max=rm, reject_liveness_max=rl)
        for am, al, rm, rl in GRID_LEVELS
    ]


def _label(c: PolicyConfig) -> str:
    return (
        f"match>={c.approve_match_min:.2f}/<={c.reject_match_max:.2f} "
        f"live>={c.approve_liveness_min:.2f}/<={c.reject_liveness_max:.2f}"
    )


def threshold_sweep(
    cases: Sequence[RecordedCase], configs: Sequence[PolicyConfig], current: PolicyConfig | None = None
) -> list[SweepRow]:
    """Re-decide every recorded case under each config; one row per config, in the given order.

    A row whose config equals ``current`` is marked current. The reviewer decisions stay the
    reference, so each row says how many cases that setting would automate and how many of
    those automatic decisions a reviewer overturned.
    """
    rows = []
    for config in configs:
        pairs = [(c.redecide(config), c.reviewer_outcome) for c in cases]
        rows.append(SweepRow(_label(config), config, AgreementReport(_matrix(pairs)), current == config))
    return rows


@dataclass(frozen=True)
class AgreementSummary:
    """The report on the recorded outcomes and the threshold sweep, as the CLI and the page show it."""

    report: AgreementReport
    sweep: list[SweepRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {**self.report.to_dict(), "sweep": [row.to_dict() for row in self.sweep]}


def summarize(
    cases: Sequence[RecordedCase],
    excluded: int = 0,
    current: PolicyConfig = DEFAULT_POLICY,
    configs: Sequence[PolicyConfig] | None = None,
) -> AgreementSummary:
    """:func:`agreement` on the recorded outcomes plus :func:`threshold_sweep` (default grid + ``current``).

    ``current`` is added to the grid when it is not one of its settings.
    """
    grid = list(configs) if configs is not None else default_grid(current)
    if current not in grid:
        grid.append(current)
    return AgreementSummary(agreement(cases, excluded), threshold_sweep(cases, grid, current))


def format_text(summary: AgreementSummary) -> str:
    """Plain-text tables: the confusion matrix, the rates, then one line per threshold setting."""
    rep = summary.report
    lines = [
        f"agreement report: {rep.n_cases} case(s) decided by a reviewer; {rep.excluded} left out (no final human "
        "decision)",
        "reference: the reviewers' final decisions (reviewers can be wrong too: this is agreement, not truth)",
        "",
        f"{'system / reviewer':<20}{'approve':>9}{'reject':>9}",
    ]
    lines += [f"{s:<20}{rep.matrix[s]['approve']:>9}{rep.matrix[s]['reject']:>9}" for s in SYSTEM_OUTCOMES]
    lines += [
        "",
        f"automation rate   {rep.automation.text()}",
        f"agreement rate    {rep.agreement.text()}   (on the cases the system decided)",
        f"false accepts     {rep.false_accept.text()}   P(system approve | reviewer reject)",
        f"false rejects     {rep.false_reject.text()}   P(system reject | reviewer approve)",
    ]
    if summary.sweep:
        lines += ["", "threshold sweep (each recorded case re-decided; 95% Wilson intervals):"]
        lines.append(f"  {'setting':<42}{'automation':>30}{'false accept':>30}{'false reject':>30}")
        for row in summary.sweep:
            r = row.report
            mark = "* " if row.current else "  "
            lines.append(
                f"{mark}{row.label:<42}{r.automation.text():>30}{r.false_accept.text():>30}{r.false_reject.text():>30}"
            )
        lines.append("  (* = current setting)")
    return "\n".join(lines)


def chart_png(report: AgreementReport, sweep: Sequence[SweepRow], dpi: int = 100) -> bytes:
    """PNG (bytes): error rates against automation rate across the sweep, and the confusion matrix.

    Left: false-accept and false-reject rates (with 95% Wilson intervals) against the automation
    rate for each setting, the current one ringed. Right: the recorded confusion matrix as a heat
    map. Uses matplotlib's Figure directly (no pyplot state), so it is safe in server threads.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.5))
    ax, ax_m = fig.subplots(1, 2, gridspec_kw={"width_ratios": [2.2, 1]})

    auto = [row.report.automation.rate for row in sweep]
    for name, color, key in (("false accept", "tab:red", "false_accept"), ("false reject", "tab:blue", "false_reject")):
        rates = [getattr(row.report, key) for row in sweep]
        ys = [r.rate for r in rates]
        lows = [r.rate - r.interval[0] if r.n else 0.0 for r in rates]
        highs = [r.interval[1] - r.rate if r.n else 0.0 for r in rates]
        ax.errorbar(auto, ys, yerr=[lows, highs], marker="o", color=color, capsize=3, label=name)
        for row, x, y in zip(sweep, auto, ys, strict=True):
            if row.current and not (math.isnan(x) or math.isnan(y)):
                ax.plot([x], [y], marker="o", markersize=14, markerfacecolor="none", color="k")
    points: dict[tuple[float, float], list[str]] = {}  # settings that land on the same point share one label
    for i, (x, rate) in enumerate(zip(auto, (row.report.false_accept.rate for row in sweep), strict=True)):
        if not (math.isnan(x) or math.isnan(rate)):
            points.setdefault((x, rate), []).append(str(i + 1))
    for (x, rate), names in points.items():
        ax.annotate(",".join(names), (x, rate), textcoords="offset points", xytext=(6, 4), fontsize=7)
    if any(row.current for row in sweep):
        ax.plot([], [], marker="o", markersize=10, markerfacecolor="none", color="k", ls="", label="current setting")
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("automation rate (share decided without a reviewer)")
    ax.set_ylabel("rate against reviewer decisions")
    ax.set_title("threshold settings, strict (1) to loose")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)

    counts = [[report.matrix[s][r] for r in REVIEWER_OUTCOMES] for s in SYSTEM_OUTCOMES]
    ax_m.imshow(counts, cmap="Blues", aspect="auto")
    peak = max((v for row in counts for v in row), default=0)
    for i, row_counts in enumerate(counts):
        for j, v in enumerate(row_counts):
            color = "white" if peak and v > peak / 2 else "black"
            ax_m.text(j, i, str(v), ha="center", va="center", color=color, fontsize=12)
    ax_m.set_xticks(range(len(REVIEWER_OUTCOMES)), REVIEWER_OUTCOMES)
    ax_m.set_yticks(range(len(SYSTEM_OUTCOMES)), SYSTEM_OUTCOMES)
    ax_m.set_xlabel("reviewer")
    ax_m.set_ylabel("system")
    ax_m.set_title(f"recorded outcomes (n={report.n_cases})")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
