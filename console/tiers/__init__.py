"""Tiers (SPEC §2): the engine, distribution now and over time, risk lists, ladder edits, the colour scale.

Importing the package registers the evaluation job handler and exposes home_tiles for Home.
"""

from console.tiers.engine import (
    active_overrides,
    clear_override,
    designate_supreme,
    evaluate,
    last_evaluation,
    remove_supreme,
    set_override,
    start_evaluation,
)
from console.tiers.home import home_tiles

__all__ = [
    "active_overrides",
    "clear_override",
    "designate_supreme",
    "evaluate",
    "home_tiles",
    "last_evaluation",
    "remove_supreme",
    "set_override",
    "start_evaluation",
]
