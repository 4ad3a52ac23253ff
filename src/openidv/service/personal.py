"""Personal data in the engine reports: kept encrypted under the case's data key.

The document report names the seller (name, birth date, document number, address) in its
fields, and its checks quote those values in their details and data (a mismatch lists both
dates). The case row therefore keeps two copies of the reports:

* ``cases.reports``: the **public view** (:func:`public_view`): per part, the check names,
  statuses, reasons and scores, and of each check's data only the numbers and flags (for
  example ``advisory``). No field, detail text or note. This is what the queue's filters,
  the decision policy and the agreement report read, and what survives a purge.
* ``cases.sealed_reports``: the full reports as JSON, AES-256-GCM under the case's data key
  (associated data ``openidv:reports:<case id>``). Destroying the wrapped data key
  (:mod:`openidv.service.shredding`) makes it unreadable, in the database and in every backup.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from openidv.service import crypto
from openidv.service.errors import GoneError
from openidv.service.orm import Case

if TYPE_CHECKING:
    from openidv.service.services import Services

#: keys of a report part that carry no personal data (everything else is dropped from the public view)
_PUBLIC_PART_KEYS = frozenset(
    {
        "type",
        "issuer",
        "status",
        "decision",
        "score",
        "same_person",
        "operating_point",
        "reasons",
        "portrait_found",
        "n_frames",
    }
)
_PUBLIC_CHECK_KEYS = ("name", "status", "reason", "score")


def _public_data(data: Any) -> dict[str, Any]:
    """A check's data reduced to flags and numbers (strings, lists and objects can quote a field)."""
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, bool | int | float) or v is None}


def _public_check(check: dict[str, Any]) -> dict[str, Any]:
    out = {k: check.get(k) for k in _PUBLIC_CHECK_KEYS if k in check}
    data = _public_data(check.get("data"))
    if data:
        out["data"] = data
    return out


def _public_part(part: Any) -> Any:
    if not isinstance(part, dict):
        return part
    out = {k: v for k, v in part.items() if k in _PUBLIC_PART_KEYS}
    if isinstance(out.get("reasons"), list):  # face-match reason codes are plain strings
        out["reasons"] = [r for r in out["reasons"] if isinstance(r, str)]
    if "checks" in part:
        out["checks"] = [_public_check(c) for c in part["checks"] if isinstance(c, dict)]
    return out


def public_view(reports: dict[str, Any]) -> dict[str, Any]:
    """The reports without personal data: ``{part: {type, status, score, checks: [...]}}``."""
    return {name: _public_part(part) for name, part in reports.items()}


def public_recommendation(recommendation: dict[str, Any]) -> dict[str, Any]:
    """The policy's output without the reasons' free-text details (which can quote a field)."""
    out = dict(recommendation)
    for key in ("reasons", "reject_reasons", "review_reasons"):
        if isinstance(out.get(key), list):
            out[key] = [{k: v for k, v in r.items() if k != "detail"} if isinstance(r, dict) else r for r in out[key]]
    return out


def _aad(case_id: str) -> bytes:
    return f"openidv:reports:{case_id}".encode()


def seal(data_key: bytes, case_id: str, reports: dict[str, Any]) -> bytes:
    """``reports`` as JSON encrypted under the case's data key."""
    return crypto.encrypt(data_key, json.dumps(reports, separators=(",", ":")).encode(), _aad(case_id))


def unseal(data_key: bytes, case_id: str, sealed: bytes) -> dict[str, Any]:
    """The full reports; :class:`openidv.service.crypto.CryptoError` when the key or record does not match."""
    value = json.loads(crypto.decrypt(data_key, sealed, _aad(case_id)))
    if not isinstance(value, dict):
        raise crypto.CryptoError("sealed reports are not a JSON object")
    return value


def seal_plaintext_reports(svc: Services, batch: int = 200) -> int:
    """Seal the reports of cases stored before sealed reports existed (migration ``0003_privacy``).

    A case with a live key, no sealed reports and a plaintext report that is more than its
    public view gets both written as :func:`set_reports` does. Run at
    start-up; returns the number of cases sealed.
    """
    sealed = 0
    last_id = ""
    while True:
        with svc.sessions() as db:
            rows = db.scalars(
                select(Case)
                .where(Case.sealed_reports.is_(None), Case.wrapped_data_key.is_not(None), Case.id > last_id)
                .order_by(Case.id)
                .limit(batch)
            ).all()
            if not rows:
                return sealed
            for case in rows:
                reports = dict(case.reports or {})
                if reports != public_view(reports):
                    set_reports(svc, case, reports)
                    case.recommendation = public_recommendation(case.recommendation or {})
                    sealed += 1
            last_id = rows[-1].id
            db.commit()


def data_key(svc: Services, case: Case) -> bytes:
    """The case's data key; 410 ``data_deleted`` once it was destroyed (purge or erasure)."""
    if case.wrapped_data_key is None:
        raise GoneError("the data of this case was deleted", code="data_deleted")
    return svc.keys.unwrap(crypto.WrappedKey(case.key_id, case.wrapped_data_key), case.id)


def full_reports(svc: Services, case: Case) -> dict[str, Any]:
    """The engine reports with their personal fields (decrypted); the public view once the key is gone."""
    if case.sealed_reports is None or case.wrapped_data_key is None:
        return dict(case.reports or {})
    return unseal(data_key(svc, case), case.id, case.sealed_reports)


def set_reports(svc: Services, case: Case, reports: dict[str, Any]) -> None:
    """Store ``reports``: in full encrypted under the case key, and the public view in plaintext."""
    case.sealed_reports = seal(data_key(svc, case), case.id, reports)
    case.reports = public_view(reports)
