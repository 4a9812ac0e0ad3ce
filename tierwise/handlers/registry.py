"""The handler for each action."""

from __future__ import annotations

from types import MappingProxyType

from tierwise.core.task import Action
from tierwise.handlers import design, docstring, explain, rename, review
from tierwise.handlers.base import Handler

HANDLERS: MappingProxyType[Action, Handler] = MappingProxyType(
    {
        Action.DOCSTRING: docstring.handler,
        Action.RENAME: rename.handler,
        Action.EXPLAIN: explain.handler,
        Action.REVIEW: review.handler,
        Action.DESIGN: design.handler,
    }
)


def get_handler(action: Action) -> Handler:
    """The handler object for an action."""
    return HANDLERS[Action.parse(action)]
