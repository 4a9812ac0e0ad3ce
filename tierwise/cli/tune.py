"""`tierwise tune`: what the ledger says about each action, tier and risk category, the
suggestions the tune rules make of it, and (with --apply only) those suggestions written into
the user config as `routing.overrides`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from tierwise import report
from tierwise.cli.common import EXIT_OK, emit_json, load_engine
from tierwise.core.errors import UsageError


def _section(engine: Any, args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The tune figures and the ledger they came from (--ledger, else the configured one)."""
    from tierwise.engine.tune import section
    from tierwise.ledger import Ledger

    if args.window_days <= 0:
        raise UsageError(f"--window-days {args.window_days:g}: must be a positive number of days")
    if args.ledger is None:
        if engine.ledger is None:
            raise UsageError("the ledger is off (ledger.enabled = false): nothing to learn from")
        data = section(engine.ledger, engine.policy, engine.pricing, window_days=args.window_days)
        return data, str(engine.ledger_path)
    path: Path = args.ledger
    if not path.is_file():
        raise UsageError(f"--ledger {path}: no such file")
    ledger = Ledger(path)
    try:
        data = section(ledger, engine.policy, engine.pricing, window_days=args.window_days)
    finally:
        ledger.close()
    return data, str(path)


def cmd_tune(args: argparse.Namespace) -> int:
    """tierwise tune [--apply]: suggestions from the ledger; --apply writes them."""
    from tierwise.config import user_config_path
    from tierwise.config.edit import Override, plan_overrides, write

    engine = load_engine(args, None)
    try:
        data, source = _section(engine, args)
    finally:
        engine.close()
    config = args.config or user_config_path()
    wanted = [
        Override(s["action"], s["risk"], s["tier"], s["suggest"], s["evidence"])
        for s in data["suggestions"]
    ]
    edit = plan_overrides(config, wanted, today=date.today().isoformat()) if wanted else None
    if args.apply and edit is not None:
        write(edit)
    data["config"] = str(config)
    data["applied"] = bool(args.apply and edit is not None and edit.changed)
    data["diff"] = edit.diff() if edit is not None else ""
    if args.json:
        emit_json(data)
        return EXIT_OK
    print(report.tune_text(data, source=source))
    if edit is None:
        return EXIT_OK
    if not edit.changed:
        print(f"{config} has every suggested override already: nothing to write")
    elif args.apply:
        print(f"wrote into {config}:")
        print("\n".join(f"  {line}" for line in edit.done))
    else:
        print(f"\n`tierwise tune --apply` would write into {config}:")
        sys.stdout.write(edit.diff())
    return EXIT_OK
