"""The command line: tierwise serve | run | route | plan | stats | cache | doctor."""

from __future__ import annotations

import argparse
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path

from tierwise import __version__
from tierwise.cli.common import EXIT_CANCELLED, EXIT_OK, EXIT_PROVIDER, EXIT_USAGE
from tierwise.core.errors import ConfigError, ProviderError, TierwiseError, UsageError

ACTIONS = ("docstring", "rename", "explain", "review", "design")
TIERS = ("static", "local", "budget", "mid", "frontier")

EPILOG = """\
positions are 1-based like an editor's status bar: FILE:LINE[:COL]. Without a line the whole
file is the target. Exit codes: 0 ok, 2 usage error, 3 provider or config error, 130 interrupted.
Environment: ANTHROPIC_API_KEY / OPENAI_API_KEY (keys, never read from files), TIERWISE_CONFIG
(user config file), TIERWISE_DATA_DIR (ledger), TIERWISE_CACHE_DIR (response cache)."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also what --help prints)."""
    parser = argparse.ArgumentParser(
        prog="tierwise",
        description="AI code actions routed to the cheapest model tier that does them well.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tierwise {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        help="user config file (default: TIERWISE_CONFIG or the platform config dir)",
    )
    common.add_argument(
        "--workspace",
        type=Path,
        help="workspace root for .tierwise.toml (default: found from FILE upwards)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", parents=[common], help="run an action and print the result")
    run.add_argument("action", choices=ACTIONS)
    run.add_argument("target", metavar="FILE[:LINE[:COL]]")
    run.add_argument(
        "--end", metavar="LINE[:COL]", help="end of a selection (1-based, inclusive line)"
    )
    run.add_argument(
        "--tier", choices=(*TIERS, "auto"), help="override the routed tier for this request"
    )
    run.add_argument("--refresh", action="store_true", help="bypass the response cache")
    run.add_argument(
        "--style", choices=("google", "numpy", "sphinx", "pep257"), help="docstring style"
    )
    run.add_argument("--apply", action="store_true", help="docstring: write the edit into FILE")

    rt = sub.add_parser(
        "route", parents=[common], help="dry run: the decision and the cost on every tier"
    )
    rt.add_argument("action", choices=ACTIONS)
    rt.add_argument("target", metavar="FILE[:LINE[:COL]]")
    rt.add_argument("--tier", choices=(*TIERS, "auto"), help="route as if this tier were requested")

    plan = sub.add_parser(
        "plan", parents=[common], help="route every function in a file or tree (no key needed)"
    )
    plan.add_argument("path", type=Path)
    plan.add_argument(
        "--actions",
        default="docstring,review",
        help="comma-separated actions (default: docstring,review)",
    )

    sub.add_parser(
        "stats", parents=[common], help="spend by tier and action, savings, cache hit rate"
    )
    cache = sub.add_parser("cache", parents=[common], help="response cache: stats or clear")
    cache.add_argument("op", choices=("stats", "clear"))
    sub.add_parser(
        "doctor", parents=[common], help="check config, keys (never printed) and providers"
    )

    serve = sub.add_parser(
        "serve", parents=[common], help="run the language server (stdio by default)"
    )
    serve.add_argument(
        "--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio (debugging)"
    )
    serve.add_argument("--log-file", type=Path, help="write logs here instead of stderr")
    serve.add_argument("--log-level", choices=("debug", "info", "warning", "error"), default="info")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `tierwise` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "serve":
            from tierwise.server import run_server

            run_server(args)
            return EXIT_OK
        from tierwise.cli import commands

        handler = getattr(commands, f"cmd_{args.command}")
        result = handler(args)
        if inspect.iscoroutine(result):
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
        return EXIT_PROVIDER
    except TierwiseError as exc:  # budget refusals and anything else we raise on purpose
        print(f"tierwise: error: {exc}", file=sys.stderr)
        return EXIT_PROVIDER
