"""pygls' protocol, fixed so that every request is answered and commands can be cancelled."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Generator
from concurrent.futures import Future
from typing import Any

import attrs
from lsprotocol import types
from pygls.exceptions import (
    JsonRpcException,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcMethodNotFound,
)
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from tierwise.core.errors import UsageError
from tierwise.server.args import prepare_arguments, strict_converter
from tierwise.server.validation import clip, describe

logger = logging.getLogger("tierwise.server")


@attrs.frozen
class _Rejected:
    """A message whose params did not deserialize; it is answered with InvalidParams."""

    id: Any
    method: str | None
    message: str
    jsonrpc: str = "2.0"


def _validation_message(exc: BaseException, data: dict[str, Any]) -> str:
    cause = exc.__cause__
    return describe(cause, "$", data) if isinstance(cause, Exception) else "not valid"


class TierwiseProtocol(LanguageServerProtocol):
    """pygls' protocol with every request answered and commands cancellable.

    pygls 2.1.1 drops a request whose params fail to deserialize (it only shows a message),
    so the client waits forever; here it gets InvalidParams (-32602) saying which field is
    wrong. pygls also runs a command in a child task that `$/cancelRequest` never reaches;
    here cancelling the request cancels that task too.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._children: dict[Any, Future[Any] | asyncio.Future[Any]] = {}
        self._args_converter = strict_converter()

    def structure_message(self, data: dict[str, Any]) -> Any:
        """Deserialize; a request (or a response to us) that fails becomes a _Rejected."""
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" not in data:
                raise  # a notification: nobody waits for an answer
            method = data.get("method")
            what = f"invalid params for {clip(method)}" if method else "invalid response"
            return _Rejected(data["id"], method, f"{what}: {_validation_message(exc, data)}")

    def handle_message(self, message: Any) -> None:
        """Answer rejected requests with InvalidParams; fail our requests with bad responses."""
        if not isinstance(message, _Rejected):
            super().handle_message(message)
            return
        logger.warning("%s", message.message)
        if message.method is None:
            future = self._request_futures.pop(message.id, None)
            if future is not None and not future.done():
                future.set_exception(JsonRpcInvalidParams(message.message))
            return
        error = types.ResponseError(code=JsonRpcInvalidParams.CODE, message=message.message)
        self._send_response(message.id, error=error)

    def _execute_handler(
        self, msg_id: Any, handler: Any, callback: Any, args: Any = None, kwargs: Any = None
    ) -> None:
        super()._execute_handler(msg_id, handler, callback, args, kwargs)
        request_id = self.msg_id
        future = self._request_futures.get(msg_id)
        if future is None or request_id == msg_id:
            return
        # A child of a request (a command run by pygls' executeCommand generator) or of a
        # notification: pygls never removes these from _request_futures.
        if request_id is not None:
            self._children[request_id] = future

        def forget(_f: Any) -> None:
            self._request_futures.pop(msg_id, None)
            if request_id is not None and self._children.get(request_id) is future:
                del self._children[request_id]

        future.add_done_callback(forget)

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        child = self._children.pop(msg_id, None)
        super()._handle_cancel_notification(msg_id)
        if child is not None and not child.done():
            child.cancel()

    def _send_response(
        self, msg_id: Any, result: Any = None, error: types.ResponseError | None = None
    ) -> None:
        """pygls' response, except that an unexpected error carries no Python text.

        pygls 2.1.1 answers an exception in a handler with its text as the message and the
        traceback as data; the server log keeps both (pygls logs them), the client gets a
        plain InternalError.
        """
        data = getattr(error, "data", None)
        if error is not None and isinstance(data, dict) and "traceback" in data:
            kind = re.match(r"[\w.]*", error.message or "")
            name = (kind.group() if kind else "").rsplit(".", 1)[-1] or "an exception"
            message = f"an internal error ({name}); the details are in the server log"
            error = types.ResponseError(code=JsonRpcInternalError.CODE, message=message)
        super()._send_response(msg_id, result, error)

    def _get_handler(self, feature_name: str) -> Any:
        """pygls' lookup, with an unknown method named short (pygls echoes it whole)."""
        try:
            return super()._get_handler(feature_name)
        except JsonRpcMethodNotFound:
            raise JsonRpcMethodNotFound(f"unknown method {clip(feature_name)}") from None

    @lsp_method(types.SHUTDOWN)
    def lsp_shutdown(self, *args: Any) -> Generator[Any, Any, None]:
        """pygls' shutdown, cancelling the other requests over a copy of the table.

        Cancelling a thread or generator future runs its done-callbacks at once, and ours
        (`forget`, above) removes it from `_request_futures`: pygls 2.1.1 iterates the live
        dict and fails with "dictionary changed size during iteration".
        """
        if (user_handler := self.fm.features.get(types.SHUTDOWN)) is not None:
            yield user_handler, args, None
        current_id = self.msg_id
        for msg_id, future in list(self._request_futures.items()):
            if msg_id != current_id and not future.done():
                future.cancel()
        self._shutdown = True

    @lsp_method(types.WORKSPACE_EXECUTE_COMMAND)
    def lsp_workspace__execute_command(self, params: types.ExecuteCommandParams) -> Any:
        """Run a command with strictly converted arguments (InvalidParams names the bad key)."""
        handler = self.fm.commands.get(params.command)
        if handler is None:
            known = ", ".join(sorted(self.fm.commands))
            raise JsonRpcInvalidParams(f"unknown command {clip(params.command)}; known: {known}")
        try:
            args = prepare_arguments(
                params.command, handler, params.arguments, self._args_converter
            )
        except UsageError as exc:
            raise JsonRpcInvalidParams(str(exc)) from None
        result = yield handler, tuple(args), None
        return result
