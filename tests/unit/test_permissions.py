"""The permission matrix: every service is listed, and each role gets exactly its rights."""

import importlib
import inspect
import pkgutil

import pytest

import console
from console.permissions import (
    PAGES,
    PERMISSIONS,
    ROLES,
    Actor,
    PermissionDenied,
    allowed,
    landed_pages,
    pages_for,
    require,
)


def _services():
    found = {}
    for mod in pkgutil.walk_packages(console.__path__, "console."):
        if mod.name.startswith("console.ui") or mod.name.startswith("console.migrations"):
            continue
        module = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            action = getattr(fn, "__audit_action__", None) or getattr(fn, "__query_action__", None)
            if action:
                found[f"{mod.name}.{name}"] = action
    return found


def test_every_service_has_an_entry_in_the_table():
    services = _services()
    assert services, "no services found"
    missing = {name: action for name, action in services.items() if action not in PERMISSIONS}
    assert missing == {}


# SPEC §1 "Pages each role sees", written out independently of console.permissions.
SPEC_PAGES = {
    "admin": ["home", "customers", "assignment", "tiers", "call_qa", "agent_kpis", "reception", "admin"],
    "supervisor": ["home", "customers", "assignment", "tiers", "call_qa", "agent_kpis", "reception"],
    "team_lead": ["home", "customers", "tiers", "call_qa", "agent_kpis"],
    "client_manager": ["home", "customers", "assignment", "tiers", "call_qa", "agent_kpis", "reception"],
    "agent": ["home", "call_qa", "agent_kpis"],
    "reception": ["home", "reception"],
    "trainee": ["home", "call_qa"],
}


@pytest.mark.parametrize("role", ROLES)
def test_pages_per_role(role):
    landed = set(landed_pages())
    assert {"home", "admin"} <= landed
    assert pages_for(role) == [p for p in SPEC_PAGES[role] if p in landed]


def test_page_table_is_the_spec_table():
    for role in ROLES:
        assert [p for p in PAGES if role in PAGES[p]] == SPEC_PAGES[role]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(PERMISSIONS))
def test_require_matches_table(role, action):
    actor = Actor(user_id=1, username="u", role=role)
    if role in PERMISSIONS[action]:
        require(actor, action)
    else:
        with pytest.raises(PermissionDenied):
            require(actor, action)


def test_admin_only_actions():
    for action in ("users.create", "users.reset_password", "audit.read", "demo.reset"):
        assert [r for r in ROLES if allowed(r, action)] == ["admin"]


def test_unknown_action_is_an_error():
    with pytest.raises(KeyError):
        allowed("admin", "no.such.action")


def _service_functions():
    for mod in pkgutil.walk_packages(console.__path__, "console."):
        if mod.name.startswith(("console.ui", "console.migrations")):
            continue
        module = importlib.import_module(mod.name)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            action = getattr(fn, "__audit_action__", None) or getattr(fn, "__query_action__", None)
            if action and fn.__module__ == mod.name:
                yield f"{mod.name}.{name}", fn, action


class _NoSession:
    """Any use of the session by a service called without the right is a failure of the gate."""

    def __getattr__(self, name):
        raise AssertionError(f"service touched the session ({name}) before checking the permission")


@pytest.mark.parametrize("role", ROLES)
def test_every_service_is_gated_by_the_table(role):
    """Each service, called as each role: refused exactly when the table says so, before any work."""
    actor = Actor(user_id=1, username="u", role=role, staff_id=1, team_id=1)
    checked = 0
    for name, fn, action in _service_functions():
        params = inspect.signature(fn).parameters
        kwargs = {p: None for p in params if params[p].default is inspect.Parameter.empty}
        kwargs.update(session=_NoSession(), actor=actor)
        if role in PERMISSIONS[action]:
            continue  # allowed roles are exercised by each domain's own tests
        with pytest.raises(PermissionDenied):
            fn(**kwargs)
            pytest.fail(f"{name} ran for {role} although {action} does not allow it")
        checked += 1
    if role != "admin":
        assert checked > 0
