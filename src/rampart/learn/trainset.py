"""Point-in-time training sets: each event's model view as the engine saw it, and its labels.

The events are replayed once in time order through the same intake, features and rules as
``rampart score``, with the labels applied at their ``ts`` (reputation features learn exactly
as they would live), and the engine hands over each event's vector the moment it is scored:
nothing later than the event can leak into its features. With a cut-off ``until``, only events
and labels with ``ts`` ≤ ``until`` are read; an event whose label arrives after the cut-off is
a negative, as it was for anyone training at that moment. With a ``label_delay`` D as well,
only events with ``ts`` ≤ ``until`` − D are rows (their labels had D to arrive), labelled by what
is known at ``until`` (see :mod:`rampart.learn.trainset_logs`, which builds the same set from
the decision log).

The target of area A is "this event is labelled abusive in A" (event labels, label 1).
"""

from __future__ import annotations

import array
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from rampart.contract.outputs import AREAS, Label
from rampart.detect.models.view import ModelView, default_view_names
from rampart.detect.rules.pack import load_pack
from rampart.detect.rules.pack_model import LoadedPack
from rampart.detect.stages import default_stages
from rampart.engine import Engine
from rampart.features.online import OnlineFeatures
from rampart.ingest.pii import Pseudonymizer
from rampart.ingest.pipeline import Intake
from rampart.ingest.privacy import MARKETPLACE_DOMAINS_ENV, Accepted, EventPrivacy
from rampart.ingest.rejects import RejectSink
from rampart.ingest.sources.formats import open_source
from rampart.service.scoring import load_labels

__all__ = [
    "ANOMALY_ENTITIES",
    "TrainingSet",
    "build_training_set",
    "entity_features",
    "event_targets",
]

ANOMALY_ENTITIES: Final = ("user", "device", "ip")


@dataclass
class TrainingSet:
    """Rows (events) × named inputs, with per-area 0/1 targets and each event's time and type."""

    names: tuple[str, ...]
    x: npt.NDArray[np.float32]
    ts: npt.NDArray[np.float64]
    event_types: list[str]
    targets: dict[str, npt.NDArray[np.int8]] = field(default_factory=dict)
    pack_fingerprint: str = ""
    labels_used: int = 0
    # Per entity type (user, device, ip): the view's features keyed by that entity alone.
    entity_features: dict[str, list[str]] = field(default_factory=dict)
    event_ids: list[str] = field(default_factory=list)
    # Inputs of the pack's view the source could not give, left out (see trainset_logs).
    omitted: list[str] = field(default_factory=list)

    def positives(self) -> dict[str, int]:
        return {area: int(y.sum()) for area, y in self.targets.items()}


def entity_features(pack: LoadedPack, names: Sequence[str]) -> dict[str, list[str]]:
    """Per anomaly entity, the inputs among ``names`` that are features keyed by it alone."""
    return {
        entity: [
            f"features.{spec.name}"
            for spec in pack.features
            if tuple(spec.keys) == (entity,) and f"features.{spec.name}" in names
        ]
        for entity in ANOMALY_ENTITIES
    }


def event_targets(labels: Iterable[Label], until: float | None) -> dict[str, set[str]]:
    """Per area, the event ids labelled abusive by labels known at ``until``.

    >>> import msgspec
    >>> label = msgspec.json.decode(b'{"entity_type":"event","entity_id":"e1",'
    ...     b'"area":"scalper","label":1,"ts":"2026-03-01T10:00:00Z"}', type=Label)
    >>> event_targets([label], None)["scalper"], event_targets([label], 0.0)["scalper"]
    ({'e1'}, set())
    """
    found: dict[str, set[str]] = {area: set() for area in AREAS}
    for label in labels:
        if label.entity_type != "event" or label.ts is None:
            continue
        if until is not None and label.ts.timestamp() > until:
            continue
        if label.label == 1:
            found[label.area].add(label.entity_id)
        else:  # a later correction clears an earlier label
            found[label.area].discard(label.entity_id)
    return found


class _Collector:
    def __init__(self, width: int) -> None:
        self.width = width
        self.values = array.array("f")
        self.ts = array.array("d")
        self.ids: list[str] = []
        self.types: list[str] = []

    def __call__(self, accepted: Accepted, vector: list[float]) -> None:
        event = accepted.event
        self.values.extend(vector)
        self.ts.append(event.ts.timestamp())
        self.ids.append(event.event_id)
        self.types.append(event.type)


def build_training_set(
    events: Path,
    labels: Path,
    *,
    pack: Path,
    until: datetime | None = None,
    source_format: str | None = None,
    mapping: Path | None = None,
    label_delay: timedelta = timedelta(0),
    names: Sequence[str] | None = None,
    marketplace_domains: Iterable[str] | None = None,
) -> TrainingSet:
    """Replay ``events`` (labels applied at their time) and collect every event's model view
    (``names``, default: every input the pack offers). ``marketplace_domains``: the domains
    phishing look-alikes are judged against, as scoring was told them (default: the operator's,
    from ``RAMPART_MARKETPLACE_DOMAINS``; ``score --demo`` adds the simulated marketplace's)."""
    if label_delay and until is None:
        raise ValueError("a label delay needs a cut-off (until): the moment labels are known")
    loaded = load_pack(pack)
    # Features count and compare pseudonyms, never read them: a key for this replay only.
    if marketplace_domains is None:
        marketplace_domains = os.environ.get(MARKETPLACE_DOMAINS_ENV, "").split(",")
    privacy = EventPrivacy(
        Pseudonymizer(os.urandom(32)),
        marketplace_domains=[d.strip() for d in marketplace_domains if d.strip()],
    )
    intake = Intake(privacy, RejectSink(None, privacy.scrub_raw))
    view = ModelView(names or default_view_names(loaded.catalogue, (r.name for r in loaded.rules)))
    collector = _Collector(len(view.names))
    engine = Engine(
        loaded.rules,
        OnlineFeatures(list(loaded.features)),
        pseudonymize_ip=lambda ip: privacy.pseudonymizer.token("ip", ip),
        stages=default_stages(),
        view=view,
        observe=collector,
    )
    cutoff = until.timestamp() if until is not None else None
    known = [
        label
        for label in load_labels(labels)
        if cutoff is None or (label.ts is not None and label.ts.timestamp() <= cutoff)
    ]
    last_event = cutoff - label_delay.total_seconds() if cutoff is not None else None
    applied = 0
    for accepted in intake.run(open_source(events, source_format, mapping), str(events)):
        ts = accepted.event.ts.timestamp()
        if last_event is not None and ts > last_event:
            continue  # a late-sorted file may hold earlier events further on
        while applied < len(known):
            label_ts = known[applied].ts
            if label_ts is None or label_ts.timestamp() >= ts:
                break
            engine.apply_label(known[applied])
            applied += 1
        engine.process(accepted)
    x = np.frombuffer(collector.values, dtype=np.float32).reshape(-1, len(view.names))
    per_area = event_targets(known, cutoff)
    targets = _targets(collector.ids, per_area)
    return TrainingSet(
        names=view.names,
        x=x,
        ts=np.frombuffer(collector.ts, dtype=np.float64),
        event_types=collector.types,
        targets=targets,
        pack_fingerprint=loaded.fingerprint,
        labels_used=len(known),
        entity_features=entity_features(loaded, view.names),
        event_ids=collector.ids,
    )


def _targets(ids: list[str], per_area: Mapping[str, set[str]]) -> dict[str, npt.NDArray[np.int8]]:
    return {
        area: np.fromiter((event_id in abusive for event_id in ids), dtype=np.int8, count=len(ids))
        for area, abusive in per_area.items()
    }
