"""The model directory: one sub-directory per area, anomaly models, and a hashed manifest.

Layout::

    manifest.json                 format, version (content hash), created_from, areas, files
    <area>/model.txt              LightGBM text model
    <area>/features.json          ordered feature names
    <area>/calibration.json       raw → probability, and the operating-point threshold
    <area>/report.json            the training report (:mod:`.train`)
    anomaly/<entity_type>/model.json   compiled Isolation Forest (plain numbers)

The version is the SHA-256 of every file but the manifest (relative path and content hash,
sorted), so the same models give the same version whatever the metadata, and a version names
exactly what is scored. :func:`load_models` refuses a directory whose files differ from the
manifest (changed, missing or extra), naming the files: a half-copied or hand-edited model
must not score events.

Saving writes a sibling temporary directory and renames it into place, so a reader never sees
a half-written directory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from rampart.detect.models.anomaly import AnomalyModel
from rampart.detect.models.calibration import Calibration
from rampart.detect.models.compiled import CompiledModel
from rampart.detect.models.train import TrainedModel

__all__ = ["MANIFEST", "ModelDirectoryError", "ModelSet", "load_models", "save_models"]

MANIFEST: Final = "manifest.json"
FORMAT: Final = "rampart-models/1"
ANOMALY_DIR: Final = "anomaly"
_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_\-]*")


class ModelDirectoryError(Exception):
    """The directory is not a complete, unmodified model directory."""


@dataclass(frozen=True)
class ModelSet:
    """Everything :func:`load_models` read, compiled and ready to score."""

    version: str
    metadata: Mapping[str, Any]
    models: Mapping[str, CompiledModel]
    anomaly: Mapping[str, AnomalyModel] = field(default_factory=dict)
    reports: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(files: Mapping[str, str]) -> str:
    lines = "".join(f"{name}\t{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _files(root: Path) -> dict[str, str]:
    """Every file under ``root`` but the manifest: relative POSIX path → SHA-256."""
    return {
        p.relative_to(root).as_posix(): _sha256(p)
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).as_posix() != MANIFEST
    }


def _check_name(kind: str, name: str) -> None:
    if not _NAME.fullmatch(name) or (kind == "area" and name == ANOMALY_DIR):
        raise ValueError(f"invalid {kind} name {name!r} for a model directory")


def save_models(
    directory: str | os.PathLike[str],
    models: Iterable[TrainedModel],
    metadata: Mapping[str, Any],
    *,
    anomaly: Iterable[AnomalyModel] = (),
    overwrite: bool = False,
) -> str:
    """Writes the models and returns the version. ``metadata`` (JSON) records what the models
    were made from (training-set id, label cut-off, code version ...). An existing non-empty
    ``directory`` is replaced only with ``overwrite``."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} exists and is not empty (pass overwrite=True)")
    models, anomaly = list(models), list(anomaly)
    areas = [m.area for m in models]
    entity_types = [a.entity_type for a in anomaly]
    for kind, names in (("area", areas), ("entity type", entity_types)):
        for name in names:
            _check_name(kind, name)
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate {kind} in {names}")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        tmp.chmod(0o755)  # mkdtemp makes it private; a model directory is shared read-only
        for m in models:
            d = tmp / m.area
            d.mkdir()
            (d / "model.txt").write_text(m.model_text)
            (d / "features.json").write_text(_dumps(list(m.feature_names)))
            cal = {**m.calibration.to_json(), "threshold": m.threshold}
            (d / "calibration.json").write_text(_dumps(cal))
            (d / "report.json").write_text(_dumps(m.report))
        for a in anomaly:
            d = tmp / ANOMALY_DIR / a.entity_type
            d.mkdir(parents=True)
            (d / "model.json").write_text(_dumps(a.to_json()))
        files = _files(tmp)
        version = _version(files)
        manifest = {
            "format": FORMAT,
            "version": version,
            "created_from": dict(metadata),
            "areas": sorted(areas),
            "anomaly": sorted(entity_types),
            "files": files,
        }
        (tmp / MANIFEST).write_text(_dumps(manifest))
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise ModelDirectoryError(f"{root}: no {MANIFEST}, not a model directory")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except ValueError as e:
        raise ModelDirectoryError(f"{path}: not valid JSON ({e})") from e
    if manifest.get("format") != FORMAT:
        raise ModelDirectoryError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT}")
    return manifest


def verify(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """Returns the manifest if the files match it, else raises :class:`ModelDirectoryError`."""
    root = Path(directory)
    manifest = _read_manifest(root)
    listed: dict[str, str] = manifest.get("files", {})
    found = _files(root)
    problems = [f"missing {n}" for n in sorted(listed.keys() - found.keys())]
    problems += [f"unexpected {n}" for n in sorted(found.keys() - listed.keys())]
    problems += [f"changed {n}" for n in sorted(listed) if n in found and found[n] != listed[n]]
    if not problems and _version(listed) != manifest.get("version"):
        problems.append("the manifest version is not the hash of its files")
    if problems:
        raise ModelDirectoryError(
            f"model directory {root} does not match its manifest "
            f"(version {manifest.get('version')}): " + "; ".join(problems)
        )
    return manifest


def load_models(directory: str | os.PathLike[str]) -> ModelSet:
    """Verifies and compiles every model in the directory (see the module docstring)."""
    root = Path(directory)
    manifest = verify(root)
    models: dict[str, CompiledModel] = {}
    reports: dict[str, Mapping[str, Any]] = {}
    for area in manifest["areas"]:
        d = root / area
        cal = json.loads((d / "calibration.json").read_text())
        models[area] = CompiledModel.from_model_text(
            area,
            (d / "model.txt").read_text(),
            json.loads((d / "features.json").read_text()),
            Calibration.from_json(cal),
            float(cal["threshold"]),
        )
        reports[area] = json.loads((d / "report.json").read_text())
    anomaly = {
        e: AnomalyModel.from_json(json.loads((root / ANOMALY_DIR / e / "model.json").read_text()))
        for e in manifest["anomaly"]
    }
    return ModelSet(manifest["version"], manifest["created_from"], models, anomaly, reports)
