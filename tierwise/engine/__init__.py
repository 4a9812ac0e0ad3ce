"""The pipeline: task -> signals -> route -> cache -> provider -> handler -> outcome + ledger row.

The engine is the only stage that wires the others together; the CLI and the server call it.
"""

from tierwise.engine.engine import Engine
from tierwise.engine.outcome import Event, EventSink, Outcome

__all__ = ["Engine", "Event", "EventSink", "Outcome"]
