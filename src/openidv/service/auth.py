"""Reviewer accounts: argon2id passwords, login sessions, CSRF tokens, lockout.

* Passwords are hashed with argon2id (argon2-cffi's defaults); a login for an unknown
  name still runs one hash verification, so timing does not reveal which names exist.
* ``lockout_failures`` wrong passwords in a row lock the account for ``lockout_s``;
  the failure count survives the failed request (it is committed before the error).
* A login session is a random cookie value (``openidv_review``, HttpOnly,
  SameSite=Strict, path ``/review``) of which only the SHA-256 is stored, with a CSRF
  token that every state-changing form must echo (compared in constant time).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openidv.service.db import as_utc
from openidv.service.errors import ServiceError, UnauthorizedError
from openidv.service.orm import AuditEntry, LoginSession, User
from openidv.service.settings import ServiceSettings

ROLES = ("reviewer", "admin")
REVIEW_COOKIE = "openidv_review"
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a real password, for timing only")


class LockedError(ServiceError):
    status = 423
    code = "account_locked"


class ForbiddenError(ServiceError):
    status = 403
    code = "forbidden"


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def create_user(db: Session, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise ServiceError(f"role must be one of {', '.join(ROLES)}", code="bad_role")
    if not name or len(name) > 100 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ServiceError("names are 1-100 letters, digits, '-', '_' or '.'", code="bad_name")
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"passwords need at least {MIN_PASSWORD} characters", code="weak_password")
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise ServiceError(f"a user named {name!r} exists already", code="exists", status=409)
    user = User(name=name, role=role, password_hash=hash_password(password), failed_logins=0, disabled=False)
    db.add(user)
    return user


def audit(db: Session, actor: str, action: str, case_id: str | None = None, **detail: object) -> None:
    db.add(AuditEntry(actor=actor, action=action, case_id=case_id, detail=detail))


def login(db: Session, settings: ServiceSettings, name: str, password: str, now: datetime) -> tuple[str, LoginSession]:
    """Check the password; returns the cookie value and the stored session. Commits failures."""
    user = db.scalar(select(User).where(User.name == name))
    if user is None or user.disabled:
        _verify(_DUMMY_HASH, password)
        audit(db, name[:100] or "?", "login_failed", reason="unknown_user")
        db.commit()
        raise UnauthorizedError("wrong name or password", code="bad_credentials")
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        audit(db, user.name, "login_refused", reason="locked")
        db.commit()
        raise LockedError("too many failed attempts; this account is locked for a while")
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= settings.lockout_failures:
            user.locked_until = now + timedelta(seconds=settings.lockout_s)
            user.failed_logins = 0
            audit(db, user.name, "account_locked", minutes=settings.lockout_s // 60)
        audit(db, user.name, "login_failed", reason="bad_password")
        db.commit()
        raise UnauthorizedError("wrong name or password", code="bad_credentials")
    if _HASHER.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    token = secrets.token_urlsafe(32)
    session = LoginSession(
        id=hashlib.sha256(token.encode()).hexdigest(),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.login_ttl_s),
    )
    db.add(session)
    audit(db, user.name, "login")
    return token, session


def session_for(db: Session, token: str | None, now: datetime) -> LoginSession | None:
    if not token:
        return None
    session = db.get(LoginSession, hashlib.sha256(token.encode()).hexdigest())
    if session is None or as_utc(session.expires_at) <= now or session.user.disabled:
        return None
    return session


def logout(db: Session, token: str) -> None:
    session = db.get(LoginSession, hashlib.sha256(token.encode()).hexdigest())
    if session is not None:
        audit(db, session.user.name, "logout")
        db.delete(session)


def check_csrf(session: LoginSession, supplied: str | None) -> None:
    if not supplied or not hmac.compare_digest(session.csrf_token, supplied):
        raise ForbiddenError("the form has expired; reload the page and try again", code="csrf_failed")
