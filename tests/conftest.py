"""Shared test fixtures: where the contract lives, relative to the repository."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

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
