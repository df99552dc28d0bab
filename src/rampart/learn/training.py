"""Train the per-area models of a training set and write them as one model directory.

An area is trained when its training slice holds at least ``min_positives`` labelled-abusive
events; the others are reported as skipped. Each model's report records the event types its
positives come from (``event_types``): the engine scores a model only on those, which keeps
the event path fast and stops a model from acting on kinds of events it never saw abuse in.

Inputs that never settle are left out (:func:`drifting_inputs`): a feature whose distribution
moves a lot between every pair of consecutive time blocks of the training window (population
stability index above :data:`~rampart.learn.psi.ALERT`) will have moved again by the time the
model scores, out of the range it learnt; a tree then reads it as a clock. Counters that grow
with the stream's age are the usual case (a linkage ring that keeps absorbing accounts, an age
counted from the start of the data).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

import numpy as np

from rampart.detect.models.anomaly import AnomalyModel, train_anomaly
from rampart.detect.models.registry import save_models
from rampart.detect.models.train import TrainedModel, time_blocks, train_area_blocked
from rampart.learn.psi import ALERT, bin_counts, psi, quantile_edges
from rampart.learn.trainset import TrainingSet

__all__ = ["TrainingRun", "drifting_inputs", "train_models"]

MIN_POSITIVES: Final = 30
# Rows an anomaly model is fitted on (a sample: Isolation Forest needs few).
ANOMALY_ROWS: Final = 50_000
# An event type joins a model's scope when it holds at least this share of the positives.
MIN_TYPE_SHARE: Final = 0.005
# Time blocks of the drift screen (as many as the blocked cross-validation's folds).
DRIFT_BLOCKS: Final = 4


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


def drifting_inputs(
    x: np.ndarray[Any, Any],
    ts: np.ndarray[Any, Any],
    names: Sequence[str],
    *,
    blocks: int = DRIFT_BLOCKS,
    alert: float = ALERT,
) -> dict[str, list[float]]:
    """Inputs whose PSI between each time block and the next is above ``alert`` in every
    pair, with those PSIs (bins from the earlier block of each pair).

    >>> ts = np.arange(400.0)
    >>> x = np.stack([ts, np.sin(ts)], axis=1)   # a clock, and a value that never drifts
    >>> {name: [round(v, 1) for v in values]
    ...  for name, values in drifting_inputs(x, ts, ["clock", "steady"]).items()}
    {'clock': [8.3, 8.3, 8.3]}
    """
    block = time_blocks(np.asarray(ts, dtype=np.float64), blocks)
    found: dict[str, list[float]] = {}
    for j, name in enumerate(names):
        column = np.asarray(x[:, j], dtype=np.float64)
        values = []
        for b in range(blocks - 1):
            before, after = column[block == b], column[block == b + 1]
            if not before.size or not after.size:
                break
            edges = quantile_edges(before)
            values.append(float(psi(bin_counts(before, edges), bin_counts(after, edges))))
            if values[-1] <= alert:
                break
        else:
            if values:
                found[name] = values
    return found


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
    drifting = drifting_inputs(training.x, training.ts, training.names)
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
                training.x, y, training.names, training.ts, area=area, seed=seed, ignore=drifting
            )
        except ValueError as error:
            skipped[area] = str(error)
            continue
        model.report["event_types"] = positive_event_types(training.event_types, y)
        model.report["drift_screen"] = {"alert": ALERT, "blocks": DRIFT_BLOCKS, "psi": drifting}
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
