"""The handler for each action."""

from __future__ import annotations

import threading

from tierwise.core.task import Action
from tierwise.handlers.base import Handler

_LOADED: dict[Action, Handler] = {}
_LOCK = threading.Lock()


def _load(action: Action) -> Handler:
    # Each handler module is imported on first use: `tierwise route review` needs one of the
    # five, and the docstring handler's modules alone are a tenth of that command's imports.
    if action is Action.DOCSTRING:
        from tierwise.handlers import docstring

        return docstring.handler
    if action is Action.RENAME:
        from tierwise.handlers import rename

        return rename.handler
    if action is Action.EXPLAIN:
        from tierwise.handlers import explain

        return explain.handler
    if action is Action.REVIEW:
        from tierwise.handlers import review

        return review.handler
    from tierwise.handlers import design

    return design.handler


def get_handler(action: Action) -> Handler:
    """The handler object for an action."""
    action = Action.parse(action)
    found = _LOADED.get(action)
    if found is None:
        with _LOCK:
            found = _LOADED.get(action) or _LOADED.setdefault(action, _load(action))
    return found
