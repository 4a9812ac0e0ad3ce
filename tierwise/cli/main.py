"""The command line: tierwise serve | run | route | plan | stats | tune | cache | doctor."""

from __future__ import annotations

import argparse
import gc
import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tierwise import __version__
from tierwise.cli.common import EXIT_CANCELLED, EXIT_PIPE, EXIT_PROVIDER, EXIT_USAGE
from tierwise.core.errors import (
    ConfigError,
    MissingKey,
    ProviderError,
    RateLimited,
    TierwiseError,
    UsageError,
)

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIERS = ("static", "local", "budget", "mid", "frontier")

EPILOG = """\
positions are 1-based like an editor's status bar: FILE:LINE[:COL]. Without a line the whole
file is the target. Exit codes: 0 ok, 2 usage error, 3 provider or config error, 130 interrupted,
141 output pipe closed (e.g. `| head`).
`serve` exits 0 after shutdown and exit, 1 when exit (or the end of input) comes without shutdown.
Environment: ANTHROPIC_API_KEY / OPENAI_API_KEY (keys, never read from files), TIERWISE_CONFIG
(user config file), TIERWISE_DATA_DIR (ledger), TIERWISE_CACHE_DIR (response cache),
TIERWISE_TEAM_SECRET (the team's shared-cache secret, or the variable cache.shared.secret_env)."""


def _positive_int(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of bytes, got {value!r}")
    return number


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also what --help prints)."""
    parser = argparse.ArgumentParser(
        prog="tierwise",
        description="AI code actions routed to the cheapest model tier that does them well.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tierwise {__version__}")
    # Options every subcommand takes, and --json for those that print a result (not serve).
    files = argparse.ArgumentParser(add_help=False)
    files.add_argument(
        "--config",
        type=Path,
        help="user config file (default: TIERWISE_CONFIG or the platform config dir)",
    )
    files.add_argument(
        "--workspace",
        type=Path,
        help="workspace root for .tierwise.toml (default: found from FILE upwards)",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[files])
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    # prog given: argparse would build a help formatter to work it out, importing shutil (and
    # with it bz2, lzma) on every start.
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", prog=parser.prog)

    def command(name: str, summary: str, parents: list[argparse.ArgumentParser]) -> Any:
        # The same line in `tierwise --help` and as the subcommand's own description.
        return sub.add_parser(name, parents=parents, help=summary, description=summary + ".")

    run = command("run", "run an action and print the result", [common])
    run.add_argument("action", choices=ACTIONS)
    run.add_argument("target", metavar="FILE[:LINE[:COL]]")
    run.add_argument(
        "--end", metavar="LINE[:COL]", help="end of a selection (1-based, inclusive line)"
    )
    run.add_argument(
        "--tier", choices=(*TIERS, "auto"), help="override the routed tier for this request"
    )
    run.add_argument(
        "--refresh",
        action="store_true",
        help="bypass the response cache (a fresh answer at the routed tier)",
    )
    run.add_argument(
        "--style",
        choices=("auto", "google", "numpy", "sphinx", "pep257"),
        help="docstring style (default: actions.docstring_style; auto: the file's own)",
    )
    run.add_argument("--apply", action="store_true", help="docstring: write the edit into FILE")

    rt = command("route", "dry run: the decision and the cost on every tier", [common])
    rt.add_argument("action", choices=ACTIONS)
    rt.add_argument("target", metavar="FILE[:LINE[:COL]]")
    rt.add_argument("--tier", choices=(*TIERS, "auto"), help="route as if this tier were requested")

    plan = command("plan", "route every function in a file or tree (no key needed)", [common])
    plan.add_argument("path", type=Path)
    plan.add_argument(
        "--actions",
        default="docstring,review",
        help="comma-separated actions (default: docstring,review)",
    )
    plan.add_argument(
        "--fresh",
        action="store_true",
        help="plan every file again, ignoring the rows remembered for unchanged files",
    )

    stats = command("stats", "spend, savings and cache hits: today and all time", [common])
    stats.add_argument(
        "--team",
        action="store_true",
        help="also the team's spend today from the shared cache (by user, action and tier)",
    )
    tune = command(
        "tune",
        "what the ledger says about each action, tier and risk, and tier suggestions",
        [common],
    )
    tune.add_argument(
        "--apply",
        action="store_true",
        help="write the suggestions into the user config as routing.overrides (without it:"
        " a preview of that edit, nothing written)",
    )
    tune.add_argument(
        "--window-days",
        type=float,
        default=28.0,
        metavar="DAYS",
        help="how far back the ledger is read (default 28)",
    )
    tune.add_argument(
        "--ledger", type=Path, help="read this ledger file instead of the configured one"
    )
    cache = command("cache", "the response cache: its stats, or clear it", [common])
    cache.add_argument("op", choices=("stats", "clear"))
    cache.add_argument(
        "--shared",
        action="store_true",
        help="clear: the team's shared cache (every key of the team's namespace, nothing else)",
    )
    cache.add_argument(
        "--yes", action="store_true", help="clear --shared without asking for confirmation"
    )
    command("doctor", "check config, keys (never printed) and providers", [common])

    serve = command("serve", "run the language server (stdio by default)", [files])
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)"
    )
    serve.add_argument("--log-file", type=Path, help="write logs here instead of stderr")
    serve.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    serve.add_argument(
        "--max-message-bytes",
        type=_positive_int,
        metavar="N",
        help="refuse LSP messages larger than this (default 64 MiB); a request over it gets "
        "an error, the server keeps running",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tierwise` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    collecting = gc.isenabled()
    if args.command not in ("serve", "plan"):
        # A command that ends within seconds (route, stats, one model call) makes little cyclic
        # garbage, and the process takes it along when it exits; the collector's passes over
        # the objects its imports make were a tenth of `route`'s CPU. `plan` runs for minutes
        # and keeps it; `serve` manages it itself (server/__init__.py).
        gc.disable()
    try:
        code = _dispatch(args)
        # Here, where a closed pipe can still be caught; `serve` leaves stdout closed when the
        # client ends the connection, and flushing a closed file is an error, not a pipe.
        if not sys.stdout.closed:
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        # The reader went away (`tierwise plan | head`): stop quietly, as Unix tools do, and
        # keep the interpreter from complaining when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_PIPE
    finally:
        if collecting:
            gc.enable()  # as it was, for a caller in the same process


def _dispatch(args: argparse.Namespace) -> int:
    try:
        if args.command == "serve":
            from tierwise.server import run_server

            return run_server(args)
        from tierwise.cli import commands

        handler = getattr(commands, f"cmd_{args.command}")
        result = handler(args)
        if isinstance(result, types.CoroutineType):  # inspect.iscoroutine, without inspect
            # Imported only for the commands that need an event loop (a model call, closing
            # HTTP clients): `route` and `--help` start faster without it.
            import asyncio

            result = asyncio.run(result)
        code: int = result
        return code
    except KeyboardInterrupt:
        print("tierwise: interrupted", file=sys.stderr)
        return EXIT_CANCELLED
    except UsageError as exc:
        print(f"tierwise: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ConfigError, ProviderError) as exc:
        print(f"tierwise: error: {exc}", file=sys.stderr)
        if isinstance(exc, RateLimited) or (isinstance(exc, MissingKey) and exc.other_tiers):
            # Provider messages say "pick another tier" wherever they are shown; how is per surface.
            print("tierwise: hint: --tier TIER runs the request on another tier", file=sys.stderr)
        return EXIT_PROVIDER
    except TierwiseError as exc:  # budget refusals and anything else we raise on purpose
        print(f"tierwise: error: {exc}", file=sys.stderr)
        return EXIT_PROVIDER
