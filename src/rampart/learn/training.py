"""Train the per-area models of a training set and write them as one model directory.

An area is trained when its training slice holds at least ``min_positives`` labelled-abusive
events; the others are reported as skipped. Each model's report records the event types its
positives come from (``event_types``): the engine scores a model only on those, which keeps
the event path fast and stops a model from acting on kinds of events it never saw abuse in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np

from rampart.detect.models.anomaly import AnomalyModel, train_anomaly
from rampart.detect.models.registry import save_models
from rampart.detect.models.train import TrainedModel, train_area_blocked
from rampart.learn.trainset import TrainingSet

__all__ = ["TrainingRun", "train_models"]

MIN_POSITIVES: Final = 30
# Rows an anomaly model is fitted on (a sample: Isolation Forest needs few).
ANOMALY_ROWS: Final = 50_000
# An event type joins a model's scope when it holds at least this share of the positives.
MIN_TYPE_SHARE: Final = 0.005


class TrainingRun(NamedTuple):
    version: str
    trained: list[TrainedModel]
    skipped: dict[str, str]


def positive_event_types(types: list[str], y: np.ndarray[Any, Any]) -> list[str]:
    """Event types holding at least :data:`MIN_TYPE_SHARE` of the positives.

    >>> positive_event_types(["a", "b", "a", "c"], np.array([1, 0, 1, 1]))
    ['a', 'c']
    """
    counts = Counter(kind for kind, target in zip(types, y, strict=True) if target)
    total = sum(counts.values())
    return sorted(kind for kind, n in counts.items() if n >= MIN_TYPE_SHARE * total)


def train_models(
    training: TrainingSet,
    out: Path,
    *,
    areas: Iterable[str] | None = None,
    metadata: Mapping[str, Any] | None = None,
    min_positives: int = MIN_POSITIVES,
    seed: int = 0,
    overwrite: bool = False,
) -> TrainingRun:
    """Train every requested area that has enough positives and save them under ``out``."""
    wanted = list(areas) if areas is not None else sorted(training.targets)
    trained: list[TrainedModel] = []
    skipped: dict[str, str] = {}
    for area in wanted:
        y = training.targets.get(area)
        if y is None:
            skipped[area] = "unknown area"
            continue
        positives = int(y.sum())
        if positives < min_positives:
            skipped[area] = f"{positives} labelled-abusive events (needs {min_positives})"
            continue
        try:
            model = train_area_blocked(
                training.x, y, training.names, training.ts, area=area, seed=seed
            )
        except ValueError as error:
            skipped[area] = str(error)
            continue
        model.report["event_types"] = positive_event_types(training.event_types, y)
        trained.append(model)
    if not trained:
        raise ValueError("no area had enough labelled-abusive events to train: " + str(skipped))
    info = {
        **(metadata or {}),
        "pack_fingerprint": training.pack_fingerprint,
        "rows": len(training.ts),
        "labels_used": training.labels_used,
        "positives": training.positives(),
        "skipped": skipped,
    }
    if training.omitted:  # inputs of the pack's view the source could not give
        info["omitted_inputs"] = list(training.omitted)
    anomalies = train_anomalies(training, training.entity_features, seed=seed)
    version = save_models(out, trained, info, anomaly=anomalies, overwrite=overwrite)
    return TrainingRun(version, trained, skipped)


def train_anomalies(
    training: TrainingSet, entity_features: Mapping[str, list[str]], *, seed: int = 0
) -> list[AnomalyModel]:
    """One unsupervised model per entity type, over the features keyed by that entity alone.

    It needs no label: it scores how unlike everyone else an account's, device's or address's
    behaviour is, for abuse no label has named yet (reported in shadow, never acting).
    """
    rng = np.random.default_rng(seed)
    sample = rng.choice(len(training.ts), size=min(ANOMALY_ROWS, len(training.ts)), replace=False)
    column = {name: i for i, name in enumerate(training.names)}
    models = []
    for entity, names in sorted(entity_features.items()):
        columns = [column[n] for n in names if n in column]
        if len(columns) < 2:
            continue
        rows = training.x[np.sort(sample)][:, columns].astype(np.float64)
        names_kept = [training.names[i] for i in columns]
        models.append(train_anomaly(rows, names_kept, entity_type=entity, seed=seed))
    return models
