"""The one place where LSP methods and commands are bound; each handler only translates.

The feature modules are imported by the handlers, on first use: the initialize answer then
waits for pygls and this binding only (the engine is built in a thread meanwhile)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from lsprotocol import types

from tierwise.core.tiers import Tier
from tierwise.server.app import TierwiseServer
from tierwise.server.args import (
    EscalateArgs,
    FixChosenArgs,
    PickNameArgs,
    RouteArgs,
    RunArgs,
    SetTierArgs,
)
from tierwise.server.convert import KIND_DOCSTRING, KIND_QUICKFIX, KIND_RENAME
from tierwise.server.guards import guarded, logged

logger = logging.getLogger(__name__)

CODE_ACTION_KINDS = [
    KIND_QUICKFIX,
    KIND_DOCSTRING,
    KIND_RENAME,
    *(
        f"{base}.tierwise.{a}"
        for base in ("refactor", "source")
        for a in ("review", "explain", "design")
    ),
]


def register(server: TierwiseServer) -> None:
    """Bind every LSP method and command of the tierwise server."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: TierwiseServer, params: types.InitializeParams) -> None:
        ls.start_engine(params.initialization_options)
        ls.log_handler.loop = asyncio.get_running_loop()

    @server.feature(types.INITIALIZED)
    @logged("initialized")
    async def initialized(ls: TierwiseServer, _params: types.InitializedParams) -> None:
        await ls.ready()
        await ls.pull_configuration()
        ls.apply_settings()
        ls.start_watching()
        root = ls.workspace_root()
        logger.info(
            "tierwise %s ready: workspace %s, model tiers available: %s",
            ls.version,
            root or "(none)",
            ", ".join(ls.engine.configured_tiers()) or "none",
        )

    @server.feature(types.SHUTDOWN)
    @logged("shutdown")
    async def shutdown(ls: TierwiseServer, _params: Any) -> None:
        await ls.aclose()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    @logged("didChangeConfiguration")
    async def did_change_configuration(
        ls: TierwiseServer, params: types.DidChangeConfigurationParams
    ) -> None:
        await ls.ready()
        if ls.client_supports("workspace.configuration"):
            await ls.pull_configuration()
        else:
            ls.settings.set_editor(ls.settings.client, params.settings)
        ls.apply_settings()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @logged("didOpen")
    async def did_open(ls: TierwiseServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.warm_providers(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @logged("didChange")
    async def did_change(ls: TierwiseServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        doc = ls.workspace.text_documents.get(uri)
        if doc is not None and ls.reviews.follow(uri, doc.source):
            from tierwise.server import results

            results.publish(ls, uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @logged("didClose")
    async def did_close(ls: TierwiseServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.published.pop(params.text_document.uri, None)
        if ls.reviews.clear(params.text_document.uri):
            ls.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
            )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=CODE_ACTION_KINDS, resolve_provider=False),
    )
    @guarded("codeAction")
    async def code_action(
        ls: TierwiseServer, params: types.CodeActionParams
    ) -> list[types.CodeAction | types.Command]:
        from tierwise.server import actions

        return await actions.code_actions(ls, params)

    @server.command("tierwise.run")
    @guarded("tierwise.run")
    async def run(ls: TierwiseServer, args: RunArgs) -> dict[str, Any]:
        from tierwise.server import runner

        return await runner.run(ls, args)

    @server.command("tierwise.route")
    @guarded("tierwise.route")
    async def route(ls: TierwiseServer, args: RouteArgs) -> dict[str, Any]:
        from tierwise.server import runner

        return await runner.route(ls, args)

    @server.command("tierwise.setTier")
    @guarded("tierwise.setTier")
    async def set_tier(ls: TierwiseServer, args: SetTierArgs) -> dict[str, Any]:
        ls.sticky = None if args.tier.strip().lower() == "auto" else Tier.parse(args.tier)
        ls.listings.clear()
        return {"tier": ls.sticky.label if ls.sticky is not None else "auto"}

    @server.command("tierwise.escalate")
    @guarded("tierwise.escalate")
    async def escalate(ls: TierwiseServer, args: EscalateArgs | None = None) -> dict[str, Any]:
        from tierwise.server import runner

        return await runner.escalate(ls, args.uri if args is not None else None)

    @server.command("tierwise.stats")
    @guarded("tierwise.stats")
    async def stats(ls: TierwiseServer) -> dict[str, Any]:
        from tierwise.engine.tune import section
        from tierwise.server import runner

        engine = runner.engine_of(ls)

        def read() -> tuple[dict[str, Any], dict[str, Any]]:
            return engine.stats(), section(engine.ledger, engine.policy, engine.pricing)

        # Both read the ledger's whole window (tune groups every row of the last weeks): in a
        # thread, so a long ledger never holds up pings, edits or other requests meanwhile.
        data, tune = await asyncio.to_thread(read)
        data["sticky"] = ls.sticky.label if ls.sticky is not None else "auto"
        team = await engine.team_stats()  # absent without a shared cache: fields only added
        if team is not None:
            data["team"] = team
        data["server"] = ls.health()
        data["tune"] = tune
        return data

    @server.command("tierwise.fixChosen")
    @guarded("tierwise.fixChosen")
    async def fix_chosen(ls: TierwiseServer, args: FixChosenArgs) -> dict[str, Any]:
        from tierwise.server import results

        return await results.fix_chosen(ls, args.uri, args.request, args.fix)

    @server.command("tierwise.clearCache")
    @guarded("tierwise.clearCache")
    async def clear_cache(ls: TierwiseServer) -> dict[str, Any]:
        from tierwise.server import runner

        return {"removed": runner.engine_of(ls).clear_cache()}

    @server.command("tierwise.applyRename")
    @guarded("tierwise.applyRename")
    async def apply_rename(ls: TierwiseServer, args: PickNameArgs) -> dict[str, Any]:
        from tierwise.server import renames

        return await renames.apply_rename(ls, args.uri, args.position, args.name)
