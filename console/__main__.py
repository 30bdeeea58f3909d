"""Command line: python -m console migrate | create-admin | worker | check-db | backup | restore | tiers | import."""

from __future__ import annotations

import argparse
import getpass
import importlib
import importlib.util
import os
import sys
from types import ModuleType

from console.db import DatabaseConfigError, make_engine, redact, session_scope

# Subcommands that domain packages add: command -> module with add_parser(sub) and main(engine, args).
CLI_PLUGINS = {"tiers": "console.tiers.cli", "import": "console.imports.cli"}


def _cli_plugins() -> dict[str, ModuleType]:
    found = {}
    for cmd, name in CLI_PLUGINS.items():
        try:
            if importlib.util.find_spec(name) is None:
                continue
        except ModuleNotFoundError:
            continue
        found[cmd] = importlib.import_module(name)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console", description="VIP Operations Console administration")
    parser.add_argument("--database-url", help="overrides CONSOLE_DATABASE_URL")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="upgrade the schema to the newest revision and load missing reference data")
    admin = sub.add_parser("create-admin", help="create the first admin of a real deployment")
    admin.add_argument("--username", default="admin")
    admin.add_argument(
        "--password-env",
        default="CONSOLE_ADMIN_PASSWORD",
        help="read the password from this environment variable instead of prompting",
    )
    worker = sub.add_parser("worker", help="run the job worker in this process")
    worker.add_argument("--once", action="store_true", help="run at most one job, then exit")
    sub.add_parser("check-db", help="connect once and say whether the database answers")
    plugins = _cli_plugins()
    for module in plugins.values():
        module.add_parser(sub)
    bak = sub.add_parser("backup", help="write a full copy of the database (SQLite backup API or pg_dump)")
    bak.add_argument("path")
    res = sub.add_parser("restore", help="replace the database's contents with a backup")
    res.add_argument("path")
    res.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    args = parser.parse_args(argv)

    try:
        engine = make_engine(args.database_url)
    except DatabaseConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    if args.cmd == "check-db":
        print(f"ok: {redact(str(engine.url))}")
        return 0
    if args.cmd in ("backup", "restore"):
        from pathlib import Path

        from console.backup import BackupError, backup, restore

        try:
            if args.cmd == "backup":
                print(f"backup written to {backup(engine, Path(args.path))}")
            else:
                if not args.yes and (not sys.stdin.isatty() or input("Replace the database? [y/N] ").lower() != "y"):
                    print("error: restore not confirmed (pass --yes).", file=sys.stderr)
                    return 2
                restore(engine, Path(args.path))
                print(f"database restored from {args.path}")
        except BackupError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.cmd == "migrate":
        from console.migrate import current_revisions, upgrade

        before = ",".join(sorted(current_revisions(engine))) or "empty"
        upgrade(engine)
        print(f"database at {redact(str(engine.url))}: {before} -> {','.join(sorted(current_revisions(engine)))}")
        return 0
    if args.cmd == "create-admin":
        from console.auth import AuthError, create_admin
        from console.migrate import upgrade

        upgrade(engine)
        password = os.environ.get(args.password_env) or ""
        if not password:
            if not sys.stdin.isatty():
                print(f"error: set {args.password_env} or run interactively to type a password.", file=sys.stderr)
                return 2
            password = getpass.getpass("Password for the new admin: ")
            if password != getpass.getpass("Repeat it: "):
                print("error: the two passwords differ.", file=sys.stderr)
                return 2
        try:
            with session_scope(engine) as session:
                create_admin(session, username=args.username, password=password)
        except AuthError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"admin {args.username!r} created")
        return 0
    if args.cmd in plugins:
        return int(plugins[args.cmd].main(engine, args))
    if args.cmd == "worker":
        from console.jobs import work_forever, work_once

        if args.once:
            job = work_once(engine)
            print(f"ran job {job}" if job else "no job waiting")
            return 0
        print(f"worker running against {redact(str(engine.url))}; Ctrl-C stops it", file=sys.stderr)
        try:
            work_forever(engine)
        except KeyboardInterrupt:
            pass
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
