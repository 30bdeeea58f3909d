"""Data in (issue 8): import customers, purchases, calls and contacts from a department's own systems.

- readers.py   CSV (UTF-8, UTF-8 with BOM, GBK) and XLSX into text rows; bad files refused as a whole
- mapping.py   English and Chinese column names recognised; a source's mapping remembered (AppMeta)
- validate.py  every row's status and reason; yuan -> fen exactly, local times -> UTC, natural keys
- apply.py     dry run, apply as a `data_import` job in resumable chunks, import history (Job rows)
- effects.py   tier evaluation of the touched customers, SLA clocks for new VIPs
- cli.py       python -m console import customers|purchases|calls|contacts FILE [--apply] [--source NAME]

Importing the package registers the job handler.
"""

from console.imports.apply import (
    DryRun,
    ImportFile,
    ImportRefused,
    dry_run,
    import_history,
    import_rejects,
    import_tier_changes,
    inspect_file,
    run_import,
    start_import,
)
from console.imports.mapping import KINDS, MappingError, forget_mapping, list_mappings, save_mapping
from console.imports.readers import FileRefused

__all__ = [
    "KINDS",
    "DryRun",
    "FileRefused",
    "ImportFile",
    "ImportRefused",
    "MappingError",
    "dry_run",
    "forget_mapping",
    "import_history",
    "import_rejects",
    "import_tier_changes",
    "inspect_file",
    "list_mappings",
    "run_import",
    "save_mapping",
    "start_import",
]
