"""The content detectors that keep state, on the event path: templated reviews across accounts.

Each review's raw text (in memory only) goes into a
:class:`~rampart.detect.content.templated.TemplatedTextIndex`; the row gets
``content.template_authors``, how many other accounts posted a near-duplicate within the
horizon (0 for a common stock phrase many people write, or a text too short to compare), so
rules can read a review bought from a template. The index keeps MinHash signatures, never text.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from rampart.detect.content.templated import (
    TemplateConfig,
    TemplatedTextIndex,
    TemplateState,
)
from rampart.detect.graph.online import GraphFinding
from rampart.ingest.privacy import Accepted

__all__ = ["CONTENT_FIELDS", "ContentStage"]

CONTENT_FIELDS: Final[dict[str, str]] = {"content.template_authors": "int"}


class ContentStage:
    """Feeds the templated-review index; answers ``content.*`` per review."""

    def __init__(self, config: TemplateConfig | None = None) -> None:
        self.reviews = TemplatedTextIndex(config or TemplateConfig())

    def update(self, accepted: Accepted) -> tuple[dict[str, Any], list[GraphFinding]]:
        event = accepted.event
        if event.type != "review.posted" or accepted.text is None or not event.user_id:
            return {}, []
        match = self.reviews.add(str(event.user_id), accepted.text, event.ts.timestamp())
        authors = 0 if match.common or match.short else match.authors
        return {"content.template_authors": authors}, []

    def state(self) -> bytes:
        return msgspec.msgpack.encode(self.reviews.state())

    def load_state(self, data: bytes) -> None:
        self.reviews.load_state(msgspec.msgpack.decode(data, type=TemplateState))
