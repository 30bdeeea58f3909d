"""Client-manager assignment (SPEC §3): portfolios, auto-assign, rebalance with preview and undo,
leave cover, exit, SLAs, CSV import and exports.

- rules.py    pure rules: eligibility, units / load / utilisation, the auto-assign key, planning
- services.py previews and commands (every write one batch, one audit row)
- sla.py      the SLA table on the Chinese working-day calendar (pure + SQL)
- imports.py  CSV import: dry run, apply, rejects
- exports.py  CSV (UTF-8 with BOM) and XLSX exports with the formula guard, reusable by any page
- views.py    reads for the page and the Home tiles
- runner.py   applying a previewed plan as a job
"""

from console.assignment.imports import DryRun, apply_import, import_dry_run
from console.assignment.rules import Ladder, Manager, Move, Plan, Refused, Stale, Vip
from console.assignment.runner import run_plan, start_apply
from console.assignment.services import (
    Applied,
    apply_auto_assign,
    apply_exit,
    apply_leave,
    apply_rebalance,
    check_undo,
    end_covers,
    end_due_covers,
    end_leave,
    preview_auto_assign,
    preview_exit,
    preview_leave,
    preview_rebalance,
    reassign,
    reassign_options,
    undo_batch,
)
from console.assignment.views import (
    batches,
    history,
    history_export,
    home_tiles,
    leave_managers,
    manager_choices,
    sla_items,
    sla_overview,
    tier_ladder,
    vip_list,
    workload,
    workload_options,
)

__all__ = [
    "Applied",
    "DryRun",
    "Ladder",
    "Manager",
    "Move",
    "Plan",
    "Refused",
    "Stale",
    "Vip",
    "apply_auto_assign",
    "apply_exit",
    "apply_import",
    "apply_leave",
    "apply_rebalance",
    "batches",
    "check_undo",
    "end_covers",
    "end_due_covers",
    "end_leave",
    "history",
    "history_export",
    "home_tiles",
    "import_dry_run",
    "leave_managers",
    "manager_choices",
    "preview_auto_assign",
    "preview_exit",
    "preview_leave",
    "preview_rebalance",
    "reassign",
    "reassign_options",
    "run_plan",
    "sla_items",
    "sla_overview",
    "start_apply",
    "tier_ladder",
    "undo_batch",
    "vip_list",
    "workload",
    "workload_options",
]
