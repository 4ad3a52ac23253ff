"""Document reuse: one identity document presented in cases of different applicants.

Each case whose document report has a document number read from machine-readable data (the
AAMVA barcode, else the MRZ; never OCR of the printed zone) stores a *fingerprint*:
HMAC-SHA256 of ``"<issuer>\\x1f<number>"`` under a key derived from the master key
(:meth:`~openidv.service.crypto.KeyRing.derived_keys`, label :data:`KEY_LABEL`). No biometric
data and no readable number is stored; without the master key the fingerprint cannot be
tested against a guessed number. After a master-key rotation, fingerprints made under any key
still in the ring are found (the digest is computed under each).

At submit, a case whose fingerprint is shared with a case of another applicant (a different
contact email, compared case-insensitively, or a different integrator ``reference``) goes to
review with reason ``document.reused``; the reviewer sees the earlier cases' ids and decisions.
The same applicant submitting again (same email and reference) is not flagged. The
fingerprint row is deleted with its case (foreign key ``ON DELETE CASCADE``; :func:`erase`).

Issuer: ``US-VA`` style for a licence barcode (country and jurisdiction), the MRZ issuing
state (``USA``) for passports and passport cards. Number: upper case, letters and digits only;
a number of one repeated character (``00000000``, a specimen's placeholder) is not fingerprinted.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from openidv.decision.policy import Outcome, Reason, Recommendation
from openidv.service.orm import Case, DocumentFingerprint

if TYPE_CHECKING:
    from openidv.service.services import Services

KEY_LABEL = b"openidv:document-reuse:v1"
REASON = "document.reused"
#: machine-readable sources, most trusted first
SOURCES = ("barcode", "mrz")


@dataclass(frozen=True)
class DocumentIdentity:
    """Who issued the document and its number, as read from one machine-readable source."""

    source: str  #: barcode or mrz
    issuer: str  #: e.g. "US-VA", "USA"
    number: str  #: upper case, letters and digits only


@dataclass(frozen=True)
class EarlierUse:
    """Another case that presented the same document."""

    case_id: str
    state: str
    decision: str | None
    created_at: datetime
    same_applicant: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"created_at": self.created_at.isoformat()}


def _clean(value: Any) -> str:
    return "".join(ch for ch in str(value or "").upper() if ch.isalnum())


def document_identity(report: Mapping[str, Any] | None) -> DocumentIdentity | None:
    """Issuer and number from a stored document report (``DocumentReport.to_dict()``); None when unread."""
    for source in SOURCES:
        fields: dict[str, Any] = {}
        for f in (report or {}).get("all_fields", []):
            if f.get("source") == source and f.get("value"):
                fields.setdefault(f["name"], f["value"])
        number = _clean(fields.get("document_number"))
        if len(set(number)) < 2:  # absent, or a placeholder such as 00000000 on specimens
            continue
        country = _clean(fields.get("issuing_country"))
        state = _clean(fields.get("issuing_state")) if source == "barcode" else ""
        issuer = f"{country or 'US'}-{state}" if state else country or _clean((report or {}).get("issuer"))
        if issuer:
            return DocumentIdentity(source, issuer, number)
    return None


def fingerprint(key: bytes, identity: DocumentIdentity) -> str:
    """Hex HMAC-SHA256 of ``issuer \\x1f number`` under ``key`` (the source is not part of it)."""
    return hmac.new(key, f"{identity.issuer}\x1f{identity.number}".encode(), hashlib.sha256).hexdigest()


def record(svc: Services, db: Session, case: Case, document: Mapping[str, Any] | None) -> DocumentFingerprint | None:
    """Store (or replace) ``case``'s fingerprint from its full ``document`` report (with the personal fields);
    None (and none kept) when the barcode or MRZ gave no issuer and number."""
    erase(db, case.id)
    identity = document_identity(document)
    if identity is None:
        return None
    keys = svc.keys.derived_keys(KEY_LABEL)
    key_id = svc.keys.current_id
    row = DocumentFingerprint(
        case_id=case.id,
        digest=fingerprint(keys[key_id], identity),
        key_id=key_id,
        source=identity.source,
        created_at=svc.clock(),
    )
    db.add(row)
    return row


def erase(db: Session, case_id: str) -> None:
    """Delete the case's fingerprint (also done by the database when the case row is deleted)."""
    db.execute(delete(DocumentFingerprint).where(DocumentFingerprint.case_id == case_id))


def same_applicant(a: Case, b: Case) -> bool:
    """Same contact email (case-insensitive; both absent counts as same) and same integrator reference."""
    email_a, email_b = (a.contact_email or "").strip().casefold(), (b.contact_email or "").strip().casefold()
    return email_a == email_b and (a.external_ref or None) == (b.external_ref or None)


def earlier_uses(svc: Services, db: Session, case: Case, document: Mapping[str, Any] | None) -> list[EarlierUse]:
    """Other cases with this case's ``document`` (its full report; by fingerprint under any master key), oldest
    first."""
    identity = document_identity(document)
    if identity is None:
        return []
    digests = [fingerprint(k, identity) for k in svc.keys.derived_keys(KEY_LABEL).values()]
    others = db.scalars(
        select(Case)
        .join(DocumentFingerprint, DocumentFingerprint.case_id == Case.id)
        .where(DocumentFingerprint.digest.in_(digests), Case.id != case.id)
        .order_by(Case.created_at, Case.id)
    ).all()
    return [EarlierUse(o.id, o.state, o.decision, o.created_at, same_applicant(case, o)) for o in others]


def flag(rec: Recommendation, uses: list[EarlierUse]) -> Recommendation:
    """``rec`` with a ``document.reused`` review reason when another applicant used the document.

    An approval becomes review; a rejection stays a rejection (the reason is listed for the reviewer).
    """
    foreign = [u for u in uses if not u.same_applicant]
    if not foreign:
        return rec
    detail = "; ".join(f"case {u.case_id} ({u.decision or u.state})" for u in foreign)
    reason = Reason(REASON, "document", detail=f"the same document was used by another applicant: {detail}")
    outcome = Outcome.REVIEW if rec.outcome is Outcome.APPROVE else rec.outcome
    return dataclasses.replace(rec, outcome=outcome, review_reasons=[*rec.review_reasons, reason])
