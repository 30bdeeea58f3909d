"""Who may do what: one table for every service, checked in the service layer.

Each action names the roles allowed to call it. Scoping to "own team" / "own portfolio" is done by
the service itself on top of this check. Tests walk this table for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES: tuple[str, ...] = ("admin", "supervisor", "team_lead", "client_manager", "agent", "reception", "trainee")
EVERYONE = frozenset(ROLES)
SUPERVISORS = frozenset({"admin", "supervisor"})
ADMIN = frozenset({"admin"})

PERMISSIONS: dict[str, frozenset[str]] = {
    # Home and own account
    "home.figures": EVERYONE,
    "account.change_password": EVERYONE,
    # Admin: users, audit, reference data, demo
    "users.list": ADMIN,
    "users.create": ADMIN,
    "users.update": ADMIN,
    "users.deactivate": ADMIN,
    "users.reset_password": ADMIN,
    "audit.read": ADMIN,
    "reference.read": ADMIN,
    "demo.reset": ADMIN,
    "jobs.read": EVERYONE,
}

# Pages each role sees (SPEC §1). Pages whose issue has not landed are not listed here.
PAGES: dict[str, frozenset[str]] = {
    "home": EVERYONE,
    "admin": ADMIN,
}


class PermissionDenied(PermissionError):
    """Raised by a service called without the right; the message is shown to the user."""


@dataclass(frozen=True)
class Actor:
    """The person calling a service."""

    user_id: int | None
    username: str
    role: str
    staff_id: int | None = None
    team_id: int | None = None

    @property
    def is_supervisor(self) -> bool:
        return self.role in SUPERVISORS


SYSTEM = Actor(user_id=None, username="system", role="admin")


def allowed(role: str, action: str) -> bool:
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}: add it to console.permissions.PERMISSIONS")
    return role in PERMISSIONS[action]


def require(actor: Actor, action: str) -> None:
    if not allowed(actor.role, action):
        raise PermissionDenied(f"Your role ({actor.role}) may not do this: {action}.")


def pages_for(role: str) -> list[str]:
    return [page for page, roles in PAGES.items() if role in roles]
