"""Master-key rotation while the service runs: ``openidv keys rotate``.

1. A new random key is appended to the key file as the current one (atomic rename, 0600).
   A running service notices the changed file (:meth:`KeyRing.refresh`): its next new case
   is wrapped under the new key, and it unwraps data keys re-wrapped under it.
2. Every data key still wrapped by an older master key is unwrapped and wrapped again under
   the new one, in batches, each row by compare-and-swap on its old wrapped value, so a case
   shredded or re-wrapped meanwhile is left as it is (a destroyed key is never restored).
   Webhook secrets are re-wrapped the same way. The batches repeat until nothing is left
   under an old key (cases created by a service that had not yet seen the new key).

The old keys stay in the file (a request already holding an old wrapped key still opens
it); once the command reports none left, the operator may delete their lines.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update

from openidv.service.crypto import KeyRing, WrappedKey
from openidv.service.orm import ApiKey, Case
from openidv.service.services import Services

BATCH = 200


@dataclass(frozen=True)
class RotationResult:
    key_id: str  #: the new current master key
    cases: int  #: data keys re-wrapped
    webhooks: int  #: webhook secrets re-wrapped
    skipped: int  #: rows changed by someone else meanwhile (shredded, or re-wrapped already)


def _rewrap_cases(svc: Services, key_id: str) -> tuple[int, int]:
    done = skipped = 0
    while True:
        with svc.sessions() as db:
            rows = db.execute(
                select(Case.id, Case.key_id, Case.wrapped_data_key)
                .where(Case.wrapped_data_key.is_not(None), Case.key_id != key_id)
                .limit(BATCH)
            ).all()
            if not rows:
                return done, skipped
            for case_id, old_id, old_wrapped in rows:
                assert old_wrapped is not None  # selected so
                fresh = svc.keys.wrap(svc.keys.unwrap(WrappedKey(old_id, old_wrapped), case_id), case_id)
                changed = db.execute(
                    update(Case)
                    .where(Case.id == case_id, Case.key_id == old_id, Case.wrapped_data_key == old_wrapped)
                    .values(key_id=fresh.key_id, wrapped_data_key=fresh.wrapped)
                    .execution_options(synchronize_session=False)
                )
                if changed.rowcount == 1:  # type: ignore[attr-defined]
                    done += 1
                else:
                    skipped += 1
            db.commit()


def _rewrap_webhooks(svc: Services, key_id: str) -> int:
    from openidv.service.notify import webhook_secret_aad

    done = 0
    with svc.sessions() as db:
        for key in db.scalars(
            select(ApiKey).where(ApiKey.webhook_secret_wrapped.is_not(None), ApiKey.webhook_key_id != key_id)
        ):
            assert key.webhook_key_id is not None and key.webhook_secret_wrapped is not None
            aad = webhook_secret_aad(key.name)
            fresh = svc.keys.wrap(svc.keys.unwrap(WrappedKey(key.webhook_key_id, key.webhook_secret_wrapped), aad), aad)
            key.webhook_key_id, key.webhook_secret_wrapped = fresh.key_id, fresh.wrapped
            done += 1
        db.commit()
    return done


def rotate(svc: Services, key_file: Path, new_key_id: str | None = None) -> RotationResult:
    """Append a new master key to ``key_file`` and re-wrap every data key and webhook secret under it."""
    key_id = KeyRing.append_key(key_file, new_key_id)
    if svc.keys.source is None or svc.keys.source.resolve() != key_file.resolve():
        svc.keys = KeyRing.from_file(key_file)
    svc.keys.refresh()
    cases, skipped = _rewrap_cases(svc, key_id)
    return RotationResult(key_id=key_id, cases=cases, webhooks=_rewrap_webhooks(svc, key_id), skipped=skipped)
