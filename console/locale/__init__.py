"""Translations. Each domain keeps its own zh_<domain>.py with a ZH dict; they are merged here."""

import importlib
import pkgutil

ZH: dict[str, str] = {}
for _mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _mod.name.startswith("zh_"):
        ZH.update(importlib.import_module(f"{__name__}.{_mod.name}").ZH)
