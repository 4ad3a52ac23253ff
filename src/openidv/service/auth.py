"""Reviewer accounts: argon2id passwords, login sessions, CSRF tokens, lockout.

* Passwords are hashed with argon2id (argon2-cffi's defaults); a login for an unknown
  name still runs one hash verification, so timing does not reveal which names exist.
* ``lockout_failures`` wrong passwords in a row lock the account for ``lockout_s``;
  the failure count survives the failed request (it is committed before the error). A
  locked account answers like a wrong password (the audit log says why).
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
from openidv.service.enums import Role
from openidv.service.errors import ServiceError, UnauthorizedError
from openidv.service.orm import AuditEntry, LoginSession, User
from openidv.service.settings import ServiceSettings

ROLES = tuple(Role)
REVIEW_COOKIE = "openidv_review"
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
_DUMMY_HASH = _HASHER.hash("not a real password, for timing only")


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
    role = Role(role)
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


def _refused() -> UnauthorizedError:
    return UnauthorizedError("wrong name or password", code="bad_credentials")


def login(db: Session, settings: ServiceSettings, name: str, password: str, now: datetime) -> tuple[str, LoginSession]:
    """Check the password; returns the cookie value and the stored session. Commits failures.

    Unknown, disabled and locked accounts and wrong passwords all get the same 401 after
    the same work (one argon2id verification each), so the answer tells nothing about
    which names exist or their state; the audit log records the real reason.
    """
    user = db.scalar(select(User).where(User.name == name))
    usable = user is not None and not user.disabled
    correct = _verify(user.password_hash if user is not None and usable else _DUMMY_HASH, password)
    if user is None or not usable:
        audit(db, name[:100] or "?", "login_failed", reason="unknown_user" if user is None else "disabled")
        db.commit()
        raise _refused()
    if user.locked_until is not None and as_utc(user.locked_until) > now:
        audit(db, user.name, "login_refused", reason="locked")
        db.commit()
        raise _refused()
    if not correct:
        user.failed_logins += 1
        if user.failed_logins >= settings.lockout_failures:
            user.locked_until = now + timedelta(seconds=settings.lockout_s)
            user.failed_logins = 0
            audit(db, user.name, "account_locked", minutes=settings.lockout_s // 60)
        audit(db, user.name, "login_failed", reason="bad_password")
        db.commit()
        raise _refused()
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


def user_named(db: Session, name: str) -> User:
    user = db.scalar(select(User).where(User.name == name))
    if user is None:
        raise ServiceError(f"no user named {name!r}", code="unknown_user", status=404)
    return user


def revoke_sessions(db: Session, user: User, actor: str) -> int:
    """End every login session of ``user``; returns how many there were."""
    sessions = list(db.scalars(select(LoginSession).where(LoginSession.user_id == user.id)))
    for session in sessions:
        db.delete(session)
    audit(db, actor, "sessions_revoked", user=user.name, count=len(sessions))
    return len(sessions)


def set_disabled(db: Session, user: User, disabled: bool, actor: str) -> None:
    """Disable (and log out) or enable an account."""
    user.disabled = disabled
    if disabled:
        revoke_sessions(db, user, actor)
    audit(db, actor, "user_disabled" if disabled else "user_enabled", user=user.name)


def set_password(db: Session, user: User, password: str, actor: str) -> None:
    """A new password: the account is unlocked and its sessions end."""
    if len(password) < MIN_PASSWORD:
        raise ServiceError(f"passwords need at least {MIN_PASSWORD} characters", code="weak_password")
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    revoke_sessions(db, user, actor)
    audit(db, actor, "password_changed", user=user.name)


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
