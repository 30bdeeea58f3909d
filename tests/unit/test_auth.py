"""Authentication, lockout, password change and admin reset, and their audit rows."""

import datetime as dt

import pytest
from sqlmodel import Session, select

from console.auth import (
    GENERIC_FAILURE,
    AuthError,
    authenticate,
    change_password,
    create_admin,
    create_user,
    reset_password,
    set_user_active,
)
from console.permissions import Actor, PermissionDenied
from models import AuditLog, User


@pytest.fixture
def admin(engine):
    with Session(engine) as s:
        user = create_admin(s, username="root", password="correct horse")
        s.commit()
        return Actor(user_id=user.id, username="root", role="admin")


def test_login_ok_and_generic_failures(engine, admin):
    with Session(engine) as s:
        assert authenticate(s, "root", "correct horse").ok
        wrong_pw = authenticate(s, "root", "nope")
        no_user = authenticate(s, "ghost", "correct horse")
    assert not wrong_pw.ok and not no_user.ok
    assert wrong_pw.message == no_user.message == GENERIC_FAILURE


def test_password_is_hashed_with_argon2(engine, admin):
    with Session(engine) as s:
        user = s.exec(select(User).where(User.username == "root")).one()
    assert user.password_hash.startswith("$argon2")
    assert "correct horse" not in user.password_hash


def test_lockout_after_five_failures_per_account(engine, admin):
    now = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC)
    with Session(engine) as s:
        for _ in range(5):
            assert not authenticate(s, "root", "bad", now=now).ok
        locked = authenticate(s, "root", "correct horse", now=now)
        assert not locked.ok and "Too many failed attempts" in locked.message
        later = authenticate(s, "root", "correct horse", now=now + dt.timedelta(minutes=16))
        assert later.ok


def test_demo_mode_does_not_lock_the_shared_account(engine, admin):
    with Session(engine) as s:
        for _ in range(10):
            authenticate(s, "root", "bad", count_failures=False)
        assert authenticate(s, "root", "correct horse", count_failures=False).ok


def test_change_password(engine, admin):
    with Session(engine) as s:
        with pytest.raises(AuthError, match="not correct"):
            change_password(session=s, actor=admin, old_password="wrong", new_password="brand new pw")
        with pytest.raises(AuthError, match="at least 8"):
            change_password(session=s, actor=admin, old_password="correct horse", new_password="short")
        change_password(session=s, actor=admin, old_password="correct horse", new_password="brand new pw")
        s.commit()
        assert authenticate(s, "root", "brand new pw").ok
        assert not authenticate(s, "root", "correct horse").ok
        row = s.exec(select(AuditLog).where(AuditLog.action == "account.change_password")).one()
        assert row.actor == "root" and "brand new pw" not in (row.params or "")


def test_admin_reset_forces_change(engine, admin):
    with Session(engine) as s:
        user = create_user(session=s, actor=admin, username="lee", role="agent", password="temporary1")
        s.commit()
        assert authenticate(s, "lee", "temporary1").must_change_password
        reset_password(session=s, actor=admin, user_id=user.id, temporary_password="another-temp")
        s.commit()
        result = authenticate(s, "lee", "another-temp")
        assert result.ok and result.must_change_password
        audit = [r.action for r in s.exec(select(AuditLog).order_by(AuditLog.id))]
    assert audit.count("users.create") == 2  # create_admin + lee
    assert "users.reset_password" in audit


def test_non_admin_cannot_manage_users(engine, admin):
    agent = Actor(user_id=None, username="x", role="supervisor")
    with Session(engine) as s, pytest.raises(PermissionDenied):
        create_user(session=s, actor=agent, username="z", role="agent", password="12345678")
    with Session(engine) as s:
        assert s.exec(select(AuditLog).where(AuditLog.action == "users.create", AuditLog.actor == "x")).first() is None


def test_deactivated_user_cannot_log_in_and_admin_cannot_deactivate_self(engine, admin):
    with Session(engine) as s:
        user = create_user(session=s, actor=admin, username="kim", role="agent", password="temporary1")
        set_user_active(session=s, actor=admin, user_id=user.id, active=False)
        s.commit()
        assert not authenticate(s, "kim", "temporary1").ok
        with pytest.raises(AuthError):
            set_user_active(session=s, actor=admin, user_id=admin.user_id, active=False)


def test_duplicate_username_refused(engine, admin):
    with Session(engine) as s:
        with pytest.raises(AuthError, match="taken"):
            create_user(session=s, actor=admin, username="root", role="agent", password="temporary1")
