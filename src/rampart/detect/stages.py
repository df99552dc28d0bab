"""The stateful detector stages every scoring run feeds, in order: graphs, then content."""

from __future__ import annotations

from rampart.detect.content.online import ContentStage
from rampart.detect.graph.online import GraphStage
from rampart.engine import Stage


def default_stages() -> list[Stage]:
    """Fresh stages for one run (each keeps its own state; the engine checkpoints them)."""
    return [GraphStage(), ContentStage()]
