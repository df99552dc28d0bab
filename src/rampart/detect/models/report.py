"""Held-out metrics for a trained area model: ranking, calibration, operating point.

Everything here is a pure function of arrays and returns JSON-ready dicts (``report.json``).

>>> import numpy as np
>>> p = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
>>> y = np.array([1, 1, 0, 1, 0])
>>> op = operating_point(p, y, target_precision=0.95)
>>> op["threshold"], op["precision"], op["recall"], op["flagged"], op["target_met"]
(0.8, 1.0, 0.6666666666666666, 2, True)
>>> operating_point(p, y, target_precision=0.7)["threshold"]
0.2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "NEVER",
    "format_report",
    "operating_point",
    "ranking_metrics",
    "reliability",
    "split_summary",
]

# Threshold of an operating point that flags nothing (no threshold reached the target, or the
# held-out slice had no positive): above every probability, and still a plain JSON number.
NEVER: Final = math.nextafter(1.0, 2.0)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int_]


def operating_point(prob: FloatArray, y: IntArray, *, target_precision: float) -> dict[str, Any]:
    """The lowest threshold (flag when ``prob >= threshold``) whose precision reaches the target,
    which is the one with the most recall; if none does, the most precise threshold (and
    ``target_met`` False)."""
    positives = int(y.sum())
    order = np.argsort(-prob, kind="stable")
    p, t = prob[order], y[order]
    tp = np.cumsum(t)
    flagged = np.arange(1, len(p) + 1)
    # Only the last row of a run of equal scores is a real cut: ties are flagged together.
    last = np.r_[p[1:] != p[:-1], True] if len(p) else np.zeros(0, dtype=bool)
    cuts = np.flatnonzero(last)
    if positives == 0 or len(cuts) == 0:
        return {
            "target_precision": target_precision,
            "target_met": False,
            "threshold": NEVER,
            "precision": None,
            "recall": None,
            "flagged": 0,
        }
    precision = tp[cuts] / flagged[cuts]
    ok = np.flatnonzero(precision >= target_precision)
    # With no cut on target, take the most precise one; among equals, the one flagging most.
    best = int(ok[-1]) if len(ok) else int(np.flatnonzero(precision == precision.max())[-1])
    cut = int(cuts[best])
    return {
        "target_precision": target_precision,
        "target_met": bool(len(ok)),
        "threshold": float(p[cut]),
        "precision": float(precision[best]),
        "recall": float(tp[cut] / positives),
        "flagged": int(flagged[cut]),
    }


def ranking_metrics(score: FloatArray, y: IntArray) -> dict[str, float | None]:
    """AUC ROC and average precision (None when the slice has a single class)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    if len(np.unique(y)) < 2:
        return {"auc_roc": None, "average_precision": None}
    return {
        "auc_roc": float(roc_auc_score(y, score)),
        "average_precision": float(average_precision_score(y, score)),
    }


def reliability(prob: FloatArray, y: IntArray, *, bins: int = 10) -> dict[str, Any]:
    """Brier score and equal-width reliability bins (empty bins left out).

    >>> r = reliability(np.array([0.05, 0.15, 0.95]), np.array([0, 0, 1]), bins=2)
    >>> r["bins"][0]["count"], r["bins"][1]["observed_rate"]
    (2, 1.0)
    """
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        if n:
            rows.append(
                {
                    "lo": float(edges[b]),
                    "hi": float(edges[b + 1]),
                    "count": n,
                    "mean_predicted": float(prob[mask].mean()),
                    "observed_rate": float(y[mask].mean()),
                }
            )
    brier = float(np.mean((prob - y) ** 2)) if len(y) else None
    return {"brier": brier, "bins": rows}


def split_summary(y: IntArray, ts: FloatArray) -> dict[str, Any]:
    """Row and class counts and the time range of one slice."""
    positives = int(y.sum())
    return {
        "rows": len(y),
        "positives": positives,
        "negatives": len(y) - positives,
        "ts_min": float(ts.min()) if len(ts) else None,
        "ts_max": float(ts.max()) if len(ts) else None,
    }


def top_features(
    names: Sequence[str], gain: Sequence[float], splits: Sequence[int], *, k: int = 15
) -> list[dict[str, Any]]:
    """Features by total gain, most first; unused features are left out."""
    order = sorted(range(len(names)), key=lambda j: (-gain[j], names[j]))
    return [
        {"feature": names[j], "gain": float(gain[j]), "splits": int(splits[j])}
        for j in order[:k]
        if splits[j] > 0
    ]


def _fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def format_report(report: Mapping[str, Any]) -> str:
    """A few lines for a terminal."""
    m, op, split = report["holdout_metrics"], report["operating_point"], report["split"]
    if split["method"] == "time":
        sizes = (
            f"train {split['train']['rows']} rows ({split['train']['positives']} positive), "
            f"holdout {split['holdout']['rows']} rows ({split['holdout']['positives']} positive)"
        )
    else:
        sizes = (
            f"{split['all']['rows']} rows ({split['all']['positives']} positive), "
            f"{split['folds']} time blocks scored out of fold"
        )
    lines = [
        f"area {report['area']}: {report['num_trees']} trees, {sizes}",
        f"  AUC ROC {_fmt(m['auc_roc'])}  average precision {_fmt(m['average_precision'])}  "
        f"Brier {_fmt(report['calibration']['brier'])} ({report['calibration']['kind']})",
        f"  operating point p >= {_fmt(op['threshold'])}: precision {_fmt(op['precision'])} "
        f"recall {_fmt(op['recall'])} flagged {op['flagged']} "
        f"(target {op['target_precision']}{'' if op['target_met'] else ', NOT met'})",
        "  top features: "
        + ", ".join(f"{f['feature']} ({f['gain']:.1f})" for f in report["top_features"][:5]),
    ]
    return "\n".join(lines)
