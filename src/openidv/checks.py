"""The result type shared by every engine check.

A check reports ``pass``, ``fail`` or ``inconclusive`` with a score in ``[0, 1]``
(higher means more confidence that the subject is genuine / as claimed, ``None`` when
there is nothing to score), a stable ``reason`` code and a human-readable ``detail``.
A check that is not implemented, or cannot decide on the input, is ``inconclusive``:
never ``pass``.

What a result does to a case is its :class:`Severity`, which the decision policy alone assigns
from one table (:mod:`openidv.decision.severity`); the engines' reports carry it
(``severity`` in :meth:`CheckResult.to_dict`), ``None`` until assigned.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


class Severity(StrEnum):
    """What a failed (or inconclusive) result does to a case."""

    DECISIVE = "decisive"  #: a failure rejects the case
    REVIEW = "review"  #: a failure or an inconclusive result sends the case to a person
    ADVISORY = "advisory"  #: reported for a reviewer, never decides


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    reason: str
    score: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    #: assigned by :func:`openidv.decision.severity.with_severity`, ``None`` until then
    severity: Severity | None = None

    def with_severity(self, severity: Severity) -> CheckResult:
        return replace(self, severity=severity)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "score": None if self.score is None else round(float(self.score), 4),
            "reason": self.reason,
            "detail": self.detail,
            **({"data": self.data} if self.data else {}),
            **({"severity": self.severity.value} if self.severity is not None else {}),
        }


def overall_status(checks: list[CheckResult]) -> Status:
    """``fail`` if any check fails, ``inconclusive`` if any is inconclusive, else ``pass``.

    An empty list is ``inconclusive``: nothing was shown.
    """
    if any(c.status is Status.FAIL for c in checks):
        return Status.FAIL
    if not checks or any(c.status is Status.INCONCLUSIVE for c in checks):
        return Status.INCONCLUSIVE
    return Status.PASS
