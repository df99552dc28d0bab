"""Fixtures for the simulator tests: tiny worlds generated once per test process."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from rampart.simulate import World, simulate, world_config

CONTRACT = Path(__file__).parents[2] / ".." / "shared" / "contract"
Worlds = Callable[..., World]


@cache
def _world(preset: str, difficulty: str, seed: int) -> World:
    return simulate(world_config(preset, difficulty, seed=seed))


@pytest.fixture(scope="session")
def worlds() -> Worlds:
    """``worlds("hard", seed=7)``: a cached tiny world (or another preset)."""

    def get(difficulty: str = "hard", seed: int = 7, preset: str = "tiny") -> World:
        return _world(preset, difficulty, seed)

    return get


def _schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CONTRACT / name).read_text())
    return data


@pytest.fixture(scope="session")
def event_validator() -> Draft202012Validator:
    return Draft202012Validator(
        _schema("events.schema.json"), format_checker=Draft202012Validator.FORMAT_CHECKER
    )


@pytest.fixture(scope="session")
def label_validator() -> Draft202012Validator:
    outputs = _schema("decision.schema.json")
    label = {"$defs": outputs["$defs"], **outputs["$defs"]["label"]}
    return Draft202012Validator(label, format_checker=Draft202012Validator.FORMAT_CHECKER)
