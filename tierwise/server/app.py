"""The language server object: state, configuration, jobs and lifecycle. Client logging is in
client_log.py, the wrappers that turn tierwise errors into JSON-RPC errors in guards.py, and
the protocol fix in protocol.py."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from lsprotocol import types
from pygls.capabilities import get_capability
from pygls.lsp.server import LanguageServer
from pygls.protocol import default_converter

from tierwise import __version__
from tierwise.core.errors import ConfigError, TierwiseError
from tierwise.server.client_log import ClientLogHandler
from tierwise.server.convert import LineIndex, LineIndexes
from tierwise.server.protocol import TierwiseProtocol
from tierwise.server.state import Listings, ReviewStore
from tierwise.server.validation import make_strict

logger = logging.getLogger("tierwise.server")

T = TypeVar("T")

# Worker threads for a request's own CPU work (extraction, routing, lint): a bounded pool, so
# fifty requests at once queue instead of each taking a thread, and the event loop stays free
# to answer everything else. Two: the machines this runs on have two cores or more, and the
# work holds the GIL most of the time anyway.
WORKERS = 2
# How long the SDK warm-up waits for requests' work to end before it imports anyway.
WARM_AFTER_WORK_S = 5.0
# How long shutdown (or the end of input) waits for jobs whose edit the editor was sent, so
# its answer reaches the ledger. An answer that is coming is milliseconds away; one that never
# comes holds the shutdown answer this long at most, under VS Code's 2 s for a stopping server.
FINISH_EDITS_S = 1.0


def strict_lsp_converter() -> Any:
    """pygls' converter, with wrong JSON types for strings, numbers and booleans refused.

    Otherwise a `"line": "5"` or a `"text": 5` from a broken client is quietly converted.
    """
    return make_strict(default_converter())


class TierwiseServer(LanguageServer):
    """The tierwise language server: one engine, the sticky tier, settings and session state."""

    def __init__(
        self, *, config_path: Path | None = None, workspace_root: Path | None = None
    ) -> None:
        super().__init__(
            "tierwise",
            __version__,
            protocol_cls=TierwiseProtocol,
            converter_factory=strict_lsp_converter,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.config_path = config_path
        self.workspace_override = workspace_root
        self.engine: Any = None  # tierwise.engine.Engine, built at initialize
        self.settings: Any = None  # tierwise.server.settings.Settings
        self.watcher: Any = None
        self.sticky: Any = None  # tierwise.routing.tiers.Tier | None
        self.indexes = LineIndexes()
        self.reviews = ReviewStore(self.index)
        self.listings = Listings()
        self.workers = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tierwise-work")
        self.last_runs: dict[str, Any] = {}  # uri -> state.LastRun, for tierwise.escalate
        self.last_run_uri: str | None = None
        self.jobs: set[asyncio.Task[Any]] = set()
        self.finishing: set[asyncio.Task[Any]] = set()  # jobs with an edit sent to the editor
        self.startup_problems: list[str] = []
        self.refused_documents: set[str] = set()  # too large: told once, not on every listing
        self.published: dict[str, tuple[int | None, list[Any]]] = {}  # uri -> last diagnostics
        self._ready: asyncio.Future[None] | None = None  # the engine built at initialize
        self._closing: asyncio.Future[None] | None = None  # aclose(), once started
        self._started = False  # initialize arrived
        self._init_options: Any = None
        self.told_prices: set[str] = set()
        self.log_handler = ClientLogHandler(self)
        self._frozen_at = 0  # len(sys.modules) at the last gc.freeze()
        self._warming: asyncio.Task[None] | None = None
        self._working = 0  # work() calls in flight (counted on the event loop)
        self._no_work: asyncio.Event | None = None  # set while none is

    # -- capabilities -------------------------------------------------------------------------

    def client_supports(self, field: str) -> bool:
        """Whether the client declared a capability, e.g. "window.show_document.support"."""
        caps = getattr(self.protocol, "client_capabilities", None)
        return caps is not None and bool(get_capability(caps, field, False))

    @property
    def converter(self) -> Any:
        """pygls' cattrs converter (private in pygls 2.1.1, so reached in this one place)."""
        return self.protocol._converter

    @property
    def encoding(self) -> str:
        """The negotiated position encoding."""
        encoding = self.workspace.position_encoding or types.PositionEncodingKind.Utf16
        # An enum member's str() is its qualified name, not its value.
        return str(getattr(encoding, "value", encoding))

    def index(self, text: str, encoding: str = types.PositionEncodingKind.Utf16) -> LineIndex:
        """The shared LineIndex of a document text (one per version and encoding)."""
        return self.indexes.get(text, encoding)

    async def work(self, what: str, fn: Callable[..., T], *args: Any) -> T:
        """Run CPU work off the event loop, bounded by server.work_timeout_s.

        Past the bound the request is answered with an error; the thread cannot be stopped, so
        it finishes in the background and its result is dropped (server.max_file_bytes keeps
        that bounded). Cancelling the request stops waiting at once.
        """
        timeout = self.engine.config.server.work_timeout_s if self.engine is not None else 10.0
        loop = asyncio.get_running_loop()
        started = loop.time()
        self._working += 1
        if self._no_work is not None:
            self._no_work.clear()
        try:
            return await self._work(what, timeout, started, fn, *args)
        finally:
            self._working -= 1
            if self._working == 0 and self._no_work is not None:
                self._no_work.set()

    async def _work(
        self, what: str, timeout: float, started: float, fn: Callable[..., T], *args: Any
    ) -> T:
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self.workers, fn, *args)
        late = TierwiseError(
            f"{what} took longer than server.work_timeout_s ({timeout:g} s) and was "
            "abandoned; a smaller file, a selection, or a larger bound in your user config "
            "will help"
        )
        try:
            result = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise late from None
        # Work that holds the GIL can keep the loop from seeing its deadline until the work is
        # done, and wait_for then hands back the late result: past the bound is past the bound.
        if loop.time() - started > timeout:
            raise late
        return result

    async def work_done(self, bound: float) -> None:
        """Wait until no request's work() is in flight (at most `bound` seconds)."""
        if self._no_work is None:
            self._no_work = asyncio.Event()
        if self._working == 0:
            self._no_work.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._no_work.wait(), bound)

    def workspace_root(self) -> Path | None:
        """The workspace root: --workspace, else the client's root folder."""
        if self.workspace_override is not None:
            return Path(self.workspace_override).absolute()
        root = self.workspace.root_path
        return Path(root) if root else None

    # -- messages ---------------------------------------------------------------------------

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Warning) -> None:
        """window/showMessage with a "tierwise:" prefix, also logged."""
        logger.log(
            logging.ERROR if kind == types.MessageType.Error else logging.INFO, "%s", message
        )
        self.window_show_message(types.ShowMessageParams(type=kind, message=f"tierwise: {message}"))

    # -- configuration ------------------------------------------------------------------------

    def start_engine(self, init_options: Any) -> None:
        """Note the initialize options; the engine is built on the first `ready()`, in a worker.

        The initialize answer waits neither for importing the pipeline nor for a thread doing
        that import (it would hold the GIL while pygls builds and sends the answer): the build
        starts when `initialized` arrives, or any request first, and every handler awaits
        `ready()` (errors become messages later).
        """
        self._init_options = init_options
        self._started = True

    async def ready(self) -> None:
        """Wait until the engine built at initialize exists."""
        if self._ready is None and self._started:
            loop = asyncio.get_running_loop()
            self._ready = loop.run_in_executor(self.workers, self._build_engine, self._init_options)
        if self._ready is not None:
            await asyncio.shield(self._ready)

    def _build_engine(self, init_options: Any) -> None:
        # The log filter's modules (RedactSecrets): the redaction rules compile their patterns
        # at import, here in a worker, not on the event loop when the first record arrives.
        import tierwise.privacy.redaction
        import tierwise.providers.keys  # noqa: F401
        from tierwise.engine import Engine
        from tierwise.server.settings import Settings

        root = self.workspace_root()
        self.settings = Settings(config_path=self.config_path, workspace_root=root)
        self.settings.read_files()
        self.settings.set_editor(self.settings.init, init_options)
        config, _warnings = self.settings.build()
        try:
            self.engine = Engine(
                config, workspace_root=str(root) if root else None, parse_apart=True
            )
        except ConfigError as exc:
            # A price table problem (user file): run with the defaults and say so.
            from tierwise.config import Config

            self.startup_problems.append(f"{exc} (running with the built-in defaults)")
            self.engine = Engine(
                Config(), workspace_root=str(root) if root else None, parse_apart=True
            )
        self._set_log_level(self.engine.config.server.log_level)
        self.freeze_imports()

    def warm_providers(self, uri: str | None = None) -> None:
        """Once, when the first document opens: parse it, then import the usable providers'
        SDKs meanwhile.

        Not at initialize: a server with no file open stays small (about 50 MB; an SDK adds
        60). A user opens a file seconds before asking for an action, and the first request
        then does not wait one to two seconds for the import (bench/concurrency.py). The
        document is parsed first (in a worker, or the parse child for a big file): the
        import holds the GIL for one to two seconds, and started beside the parse of a 1 MB
        module it slowed the first answer on it by as much (bench/hostile.py).
        """
        if self._warming is None:
            self._warming = self.spawn(self._warm(uri))

    async def _warm(self, uri: str | None) -> None:
        try:
            await self.ready()
            doc = self.workspace.text_documents.get(uri) if uri is not None else None
            if doc is not None:
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(
                    self.workers, self.engine.parse_ahead, doc.path, doc.source
                )
            await self.work_done(WARM_AFTER_WORK_S)
            imported = await self.engine.pool.warm()
        except Exception as exc:  # best effort: the first real call reports its own problem
            logger.info("provider SDKs not imported ahead of the first call: %s", exc)
            return
        if imported:
            logger.debug("provider SDKs imported ahead of the first call: %s", ", ".join(imported))
        self.freeze_imports()

    def freeze_imports(self) -> None:
        """Keep what imports created out of the cyclic garbage collector's full passes.

        A full collection walks every object that is tracked: with pygls, lsprotocol and a
        provider SDK loaded that is over a million, and one pass stalled the server for 0.2 to
        0.85 s (measured with gc.callbacks during `python -m bench.lsp`). Modules, classes and
        functions live as long as the process, so after anything new was imported (the engine
        at start, an SDK on the first provider call) they are moved to the permanent
        generation (`gc.freeze`, a constant-time move). Objects still reachable are not
        affected otherwise: reference counting frees them as usual.
        """
        if len(sys.modules) != self._frozen_at:
            self._frozen_at = len(sys.modules)
            gc.freeze()

    def apply_settings(self) -> None:
        """Rebuild the config from the settings; keep the running one if the new one fails."""
        config, warnings = self.settings.build()
        for warning in self.settings.new_warnings(warnings):
            self.tell(warning)
        if config != self.engine.config:
            try:
                # The engine closes the old providers once their streams in flight end.
                self.engine.reconfigure(config)
            except ConfigError as exc:
                self.tell(f"{exc} (keeping the previous configuration)", types.MessageType.Error)
            else:
                self._set_log_level(config.server.log_level)
                logger.info("configuration applied")
        for problem in [*self.startup_problems, *self.settings.new_problems()]:
            self.tell(problem, types.MessageType.Error)
        self.startup_problems.clear()
        for warning in self.engine.pricing.price_warnings():
            if warning not in self.told_prices:  # once per server, not on every reload
                self.told_prices.add(warning)
                self.tell(warning)

    def _set_log_level(self, level: str) -> None:
        """Mirror to the client at the configured level; stderr keeps the --log-level."""
        wanted = getattr(logging, level.upper(), logging.INFO)
        self.log_handler.setLevel(wanted)
        logging.getLogger("tierwise").setLevel(min(wanted, logging.getLogger().getEffectiveLevel()))

    async def pull_configuration(self) -> None:
        """Pull workspace/configuration (section tierwise) when the client offers it."""
        if not self.client_supports("workspace.configuration"):
            return
        try:
            items = await self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section="tierwise")])
            )
        except Exception as exc:
            logger.warning("workspace/configuration failed: %s", exc)
            return
        self.settings.set_editor(self.settings.client, items[0] if items else None)

    async def reload_files(self) -> None:
        """Re-read the configuration files (the watcher calls this)."""
        self.settings.read_files()
        self.apply_settings()

    def start_watching(self) -> None:
        """Hot-reload the user and workspace files."""
        from tierwise.server.settings import ConfigWatcher

        self.watcher = ConfigWatcher(self.settings.watched_files(), self.reload_files)
        self.watcher.start()

    # -- jobs and lifecycle -----------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run a background job (e.g. waiting for a picked name); errors are shown, not lost."""
        task = asyncio.create_task(coro)
        self.jobs.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self.jobs.discard(t)
            if not t.cancelled() and (exc := t.exception()) is not None:
                if isinstance(exc, TierwiseError):
                    self.tell(str(exc), types.MessageType.Error)
                else:
                    logger.error("background job failed", exc_info=exc)

        task.add_done_callback(done)
        return task

    def hold_for_answer(self) -> None:
        """Mark the running job as one whose edit the editor has: stopping waits for it."""
        task = asyncio.current_task()
        if task is not None and task not in self.finishing:
            self.finishing.add(task)
            task.add_done_callback(self.finishing.discard)

    def health(self) -> dict[str, int]:
        """What the server holds now, for leak checks and editor health views."""
        # Not counting the request asking (its task, and the command's parent future).
        msg_id = self.protocol.msg_id
        parent = self.protocol._request_futures.get(msg_id) if msg_id is not None else None
        asking = {asyncio.current_task(), parent}
        pending = [f for f in self.protocol._request_futures.values() if not f.done()]
        return {
            "tasks": len(asyncio.all_tasks()),
            "jobs": len(self.jobs - asking),
            "requests_in_flight": len([f for f in pending if f not in asking]),
            "documents": len(self.workspace.text_documents),
        }

    async def aclose(self) -> None:
        """Cancel running jobs, stop the watcher, close the engine (and its retired providers).

        Once: shutdown starts it, and the end of input (an `exit` read in the same chunk as
        the shutdown, say) waits for that same close instead of leaving it half done.
        """
        if self._closing is None:
            self._closing = asyncio.ensure_future(self._close(asyncio.current_task()))
        await asyncio.shield(self._closing)

    async def _close(self, caller: asyncio.Task[Any] | None) -> None:
        await self.ready()
        running = [t for t in self.jobs if t is not caller and not t.done()]
        # A job whose edit the editor was sent records the answer before it stops: cancelled
        # there, an edit the user now has would be missing from the ledger (and from tune).
        finishing = [t for t in running if t in self.finishing]
        if finishing:
            _, late = await asyncio.wait(finishing, timeout=FINISH_EDITS_S)
            if late:
                logger.info(
                    "stopping with %d edit(s) the editor has not answered: not recorded", len(late)
                )
            running = [t for t in running if not t.done()]
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self.engine is not None:
            await self.engine.aclose()
        self.workers.shutdown(wait=False, cancel_futures=True)
