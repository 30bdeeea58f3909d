"""Users, password hashing (argon2), login with lockout, password changes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, select

from console import audit
from console.audit import command
from console.permissions import ROLES, Actor
from console.timeutil import utcnow
from models import Staff, Team, User
from models.people import DEPARTMENTS

MAX_FAILURES = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_IDLE_LIMIT = dt.timedelta(minutes=30)
MIN_PASSWORD_LENGTH = 8
GENERIC_FAILURE = "Invalid username or password."

_hasher = PasswordHasher()


class AuthError(ValueError):
    """A login or password change failed; the message is safe to show."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = hash_password("not-a-real-password")


def actor_for(session: Session, user: User) -> Actor:
    team_id = None
    if user.staff_id is not None:
        staff = session.get(Staff, user.staff_id)
        team_id = staff.team_id if staff else None
    return Actor(user_id=user.id, username=user.username, role=user.role, staff_id=user.staff_id, team_id=team_id)


@dataclass(frozen=True)
class LoginResult:
    ok: bool
    message: str
    user_id: int | None = None
    must_change_password: bool = False


def authenticate(
    session: Session, username: str, password: str, *, count_failures: bool = True, now: dt.datetime | None = None
) -> LoginResult:
    """Check a login. With count_failures, 5 failures lock the account for 15 minutes.

    In demo mode the caller passes count_failures=False and counts failures per browser session,
    because a class shares the demo accounts.
    """
    now = now or utcnow()
    username = (username or "").strip()
    user = session.exec(select(User).where(User.username == username)).first() if username else None
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password or "")  # same work either way: no user enumeration by timing
        return LoginResult(False, GENERIC_FAILURE)
    if count_failures and user.locked_until is not None and user.locked_until > now:
        minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
        return LoginResult(False, f"Too many failed attempts: try again in {minutes} minutes.")
    if not verify_password(user.password_hash, password or ""):
        if count_failures:
            user.failed_attempts += 1
            if user.failed_attempts >= MAX_FAILURES:
                user.locked_until = now + LOCKOUT
                user.failed_attempts = 0
            session.add(user)
            session.commit()
        return LoginResult(False, GENERIC_FAILURE)
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    session.add(user)
    session.commit()
    return LoginResult(True, "", user_id=user.id, must_change_password=user.must_change_password)


def validate_new_password(new_password: str, *, username: str) -> None:
    if len(new_password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"The new password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if new_password.strip().lower() == username.lower():
        raise AuthError("The new password must not be the username.")


@command("account.change_password")
def change_password(*, session: Session, actor: Actor, old_password: str, new_password: str) -> None:
    user = session.get(User, actor.user_id)
    if user is None:
        raise AuthError("Your account no longer exists.")
    if not verify_password(user.password_hash, old_password):
        raise AuthError("The current password is not correct.")
    validate_new_password(new_password, username=user.username)
    if verify_password(user.password_hash, new_password):
        raise AuthError("The new password must differ from the current one.")
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    session.add(user)
    audit.note(entity="user", entity_id=user.id)


@command("users.create")
def create_user(
    *,
    session: Session,
    actor: Actor,
    username: str,
    role: str,
    password: str,
    staff_id: int | None = None,
    must_change_password: bool = True,
) -> User:
    username = username.strip()
    if not username or len(username) > 64 or not all(c.isalnum() or c in "._-" for c in username):
        raise AuthError("A username has 1–64 letters, digits, dots, dashes or underscores.")
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}.")
    if session.exec(select(User).where(User.username == username)).first():
        raise AuthError(f"The username {username!r} is taken.")
    if staff_id is not None:
        if session.get(Staff, staff_id) is None:
            raise AuthError("That staff member does not exist.")
        if session.exec(select(User).where(User.staff_id == staff_id)).first():
            raise AuthError("That staff member already has a login.")
    validate_new_password(password, username=username)
    user = User(
        username=username,
        role=role,
        staff_id=staff_id,
        password_hash=hash_password(password),
        must_change_password=must_change_password,
    )
    session.add(user)
    session.flush()
    audit.note(entity="user", entity_id=user.id, after={"username": username, "role": role, "staff_id": staff_id})
    return user


@command("users.update")
def update_user(
    *,
    session: Session,
    actor: Actor,
    user_id: int,
    role: str,
    team_id: int | None = None,
    department: str | None = None,
) -> User:
    """Change a user's role, and the team and department of the staff member behind the login."""
    user = session.get(User, user_id)
    if user is None:
        raise AuthError("That user does not exist.")
    if role not in ROLES:
        raise AuthError(f"Unknown role {role!r}.")
    if user.id == actor.user_id and role != user.role:
        raise AuthError("You cannot change your own role.")
    if team_id is not None and session.get(Team, team_id) is None:
        raise AuthError("That team does not exist.")
    if department is not None and department not in DEPARTMENTS:
        raise AuthError(f"Unknown department {department!r}.")
    staff = session.get(Staff, user.staff_id) if user.staff_id else None
    if staff is None and (team_id is not None or department is not None):
        staff = Staff(code=_free_staff_code(session, user.username), name=user.username, role=role)
        session.add(staff)
        session.flush()
        user.staff_id = staff.id
    before = {
        "role": user.role,
        "team_id": staff.team_id if staff else None,
        "department": staff.department if staff else None,
    }
    user.role = role
    if staff is not None:
        staff.role = role
        staff.team_id = team_id
        staff.department = department
        if team_id is not None:
            staff.stream = session.get(Team, team_id).stream  # type: ignore[union-attr]
        session.add(staff)
    session.add(user)
    audit.note(
        entity="user",
        entity_id=user.id,
        before=before,
        after={"role": role, "team_id": team_id, "department": department},
    )
    return user


def _free_staff_code(session: Session, username: str) -> str:
    base = "U-" + username.upper()[:24]
    code, n = base, 1
    while session.exec(select(Staff).where(Staff.code == code)).first():
        n += 1
        code = f"{base}-{n}"
    return code


@command("users.deactivate")
def set_user_active(*, session: Session, actor: Actor, user_id: int, active: bool) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise AuthError("That user does not exist.")
    if user.id == actor.user_id and not active:
        raise AuthError("You cannot deactivate your own account.")
    before = {"active": user.active}
    user.active = active
    session.add(user)
    audit.note(entity="user", entity_id=user.id, before=before, after={"active": active})
    return user


@command("users.reset_password")
def reset_password(*, session: Session, actor: Actor, user_id: int, temporary_password: str) -> None:
    user = session.get(User, user_id)
    if user is None:
        raise AuthError("That user does not exist.")
    validate_new_password(temporary_password, username=user.username)
    user.password_hash = hash_password(temporary_password)
    user.must_change_password = True
    user.failed_attempts = 0
    user.locked_until = None
    session.add(user)
    audit.note(entity="user", entity_id=user.id)


def create_admin(session: Session, *, username: str, password: str) -> User:
    """The first admin of a real deployment (python -m console create-admin)."""
    from console.permissions import SYSTEM

    return create_user(
        session=session, actor=SYSTEM, username=username, role="admin", password=password, must_change_password=False
    )
