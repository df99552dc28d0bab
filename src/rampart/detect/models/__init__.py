"""Models per risk area: training, the model directory, compiled scoring, reasons, anomalies.

* :func:`train_area` trains one area's LightGBM model on a time-split, calibrates it and
  reports on the held-out (latest) slice; :func:`train_anomaly` fits an unsupervised
  Isolation Forest per entity type.
* :func:`save_models` / :func:`load_models` write and read a hashed model directory.
* :class:`CompiledModel` scores one event in µs (``probability``), with Saabas reasons
  (``explain``) as ``model:<area>:<feature>``; :class:`AnomalyModel` likewise
  (``score``, ``explain`` as ``anomaly:<entity_type>:<feature>``).

Scoring imports neither scikit-learn nor, after loading, LightGBM.
"""

from rampart.detect.models.anomaly import AnomalyModel, train_anomaly
from rampart.detect.models.calibration import Calibration
from rampart.detect.models.compiled import CompiledModel, Reason
from rampart.detect.models.registry import ModelDirectoryError, ModelSet, load_models, save_models
from rampart.detect.models.report import format_report
from rampart.detect.models.train import TrainedModel, train_area

__all__ = [
    "AnomalyModel",
    "Calibration",
    "CompiledModel",
    "ModelDirectoryError",
    "ModelSet",
    "Reason",
    "TrainedModel",
    "format_report",
    "load_models",
    "save_models",
    "train_anomaly",
    "train_area",
]
