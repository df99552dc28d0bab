"""rampart.simulate: a deterministic marketplace under attack, written as contract v1 events.

>>> from rampart.simulate import world_config, simulate
>>> w = simulate(world_config("tiny", "easy", seed=1))
>>> w.summary.n_events == len(w.events) > 1000
True
"""

from rampart.simulate.config import DIFFICULTIES, PRESETS, AttackKnobs, WorldConfig, world_config
from rampart.simulate.world import CampaignSummary, Run, World, WorldSummary, simulate
from rampart.simulate.writer import write_world

__all__ = [
    "DIFFICULTIES",
    "PRESETS",
    "AttackKnobs",
    "CampaignSummary",
    "Run",
    "World",
    "WorldConfig",
    "WorldSummary",
    "simulate",
    "world_config",
    "write_world",
]
