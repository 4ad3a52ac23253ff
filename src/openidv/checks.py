"""The result type shared by every engine check.

A check reports ``pass``, ``fail`` or ``inconclusive`` with a score in ``[0, 1]``
(higher means more confidence that the subject is genuine / as claimed, ``None`` when
there is nothing to score), a stable ``reason`` code and a human-readable ``detail``.
A check that is not implemented, or cannot decide on the input, is ``inconclusive``:
never ``pass``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    reason: str
    score: float | None = None
    detail: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "score": None if self.score is None else round(float(self.score), 4),
            "reason": self.reason,
            "detail": self.detail,
            **({"data": self.data} if self.data else {}),
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
