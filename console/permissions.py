"""Who may do what: one table for every service, checked in the service layer.

Each action names the roles allowed to call it. Scoping to "own team" / "own portfolio" is done by
the service itself on top of this check. Tests walk this table for every role.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
    # --- assignment (issue 3) ---
    "assignment.read": frozenset({"admin", "supervisor", "client_manager"}),
    "assignment.reassign": SUPERVISORS,
    "assignment.auto_assign": SUPERVISORS,
    "assignment.rebalance": SUPERVISORS,
    "assignment.undo": SUPERVISORS,
    "assignment.leave": SUPERVISORS,
    "assignment.end_leave": SUPERVISORS,
    "assignment.end_covers": SUPERVISORS,
    "assignment.exit": SUPERVISORS,
    "assignment.import": SUPERVISORS,
    "assignment.apply": SUPERVISORS,
    # --- tiers (issue 4) ---
    "tiers.read": frozenset({"admin", "supervisor", "team_lead", "client_manager"}),
    "tiers.evaluate": SUPERVISORS,
    "tiers.override": SUPERVISORS,
    "tiers.designate": SUPERVISORS,
    "tiers.ladder_edit": ADMIN,
    # --- qa and kpis (issue 5) ---
    "qa.queue": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.score": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.evaluations.read": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent"}),
    "qa.acknowledge": frozenset({"client_manager", "agent"}),
    "qa.dispute": frozenset({"client_manager", "agent"}),
    "qa.disputes.read": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.resolve": SUPERVISORS,
    "qa.auto_acknowledge": SUPERVISORS,
    "qa.calibration.manage": SUPERVISORS,
    "qa.calibration.take": frozenset({"admin", "supervisor", "team_lead", "trainee"}),
    "qa.calibration.read": frozenset({"admin", "supervisor", "team_lead", "trainee"}),
    "qa.coaching.write": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.coaching.read": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent"}),
    "qa.coaching.acknowledge": frozenset({"client_manager", "agent"}),
    "qa.discipline.record": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.discipline.read": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent"}),
    "qa.scorecards.read": frozenset({"admin", "supervisor", "team_lead"}),
    "qa.scorecards.edit": ADMIN,
    "kpis.read": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent"}),
    # --- reception (issue 6) ---
    "reception.read": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.visit.plan": SUPERVISORS,
    "reception.visit.reschedule": SUPERVISORS,
    "reception.visit.cancel": SUPERVISORS,
    "reception.run.create": SUPERVISORS,
    "reception.item.work": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.item.evidence": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.followup.done": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.run.submit": frozenset({"admin", "supervisor", "client_manager"}),
    "reception.run.signoff": SUPERVISORS,
    "reception.run.reopen": ADMIN,
    "reception.incident.report": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.incident.escalate": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "reception.incident.resolve": SUPERVISORS,
    "reception.template.read": SUPERVISORS,
    "reception.template.edit": ADMIN,
    "reception.template.activate": ADMIN,
    # --- customers (issue 7) ---
    "customers.read": frozenset({"admin", "supervisor", "team_lead", "client_manager"}),
    "customers.reveal": frozenset({"admin", "supervisor", "client_manager"}),
    "customers.export_numbers": SUPERVISORS,
    "customers.warning": SUPERVISORS,
    "customers.refresh_gaps": SUPERVISORS,
    # --- imports (issue 8) ---
    "imports.read": SUPERVISORS,
    "imports.run": SUPERVISORS,
    "imports.apply": SUPERVISORS,
    "imports.mapping": SUPERVISORS,
}

# Pages each role sees (SPEC §1). A page whose script (pages/<key>.py) does not exist yet is left out.
PAGES: dict[str, frozenset[str]] = {
    "home": EVERYONE,
    "customers": frozenset({"admin", "supervisor", "team_lead", "client_manager"}),
    "assignment": frozenset({"admin", "supervisor", "client_manager"}),
    "tiers": frozenset({"admin", "supervisor", "team_lead", "client_manager"}),
    "call_qa": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent", "trainee"}),
    "agent_kpis": frozenset({"admin", "supervisor", "team_lead", "client_manager", "agent"}),
    "reception": frozenset({"admin", "supervisor", "client_manager", "reception"}),
    "admin": ADMIN,
}
PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"


def landed_pages() -> list[str]:
    return [key for key in PAGES if (PAGES_DIR / f"{key}.py").exists()]


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
    """The landed pages a role sees, in menu order."""
    return [page for page in landed_pages() if role in PAGES[page]]
