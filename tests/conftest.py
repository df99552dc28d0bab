"""Shared test fixtures: where the contract lives, relative to the repository."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rampart.simulate import world_config, write_world

REPO_ROOT = Path(__file__).resolve().parents[1]
# The contract is shared with other systems and sits beside the repository (CI lays it there too).
CONTRACT_DIR = REPO_ROOT.parent / "shared" / "contract"


@pytest.fixture(scope="session")
def contract_dir() -> Path:
    assert CONTRACT_DIR.is_dir(), f"the shared contract is missing at {CONTRACT_DIR}"
    return CONTRACT_DIR


@pytest.fixture(scope="session")
def event_schema(contract_dir: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((contract_dir / "events.schema.json").read_text())
    return schema


@pytest.fixture(scope="session")
def outputs_schema(contract_dir: Path) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((contract_dir / "decision.schema.json").read_text())
    return schema


@pytest.fixture(scope="session")
def tiny_world_of(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """The folder of the tiny hard simulated world of a seed, written once a session (read only)."""
    written: dict[int, Path] = {}

    def world(seed: int) -> Path:
        if seed not in written:
            out = tmp_path_factory.mktemp(f"tiny-world-{seed}")
            write_world(world_config(preset="tiny", difficulty="hard", seed=seed), out)
            written[seed] = out
        return written[seed]

    return world
