"""truth.json: the world's parameters, population, and every campaign with its entities."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rampart.simulate.world import Run, WorldSummary


def truth_document(run: Run, summary: WorldSummary) -> dict[str, Any]:
    m = run.m
    users = m.pop.users
    traits: Counter[str] = Counter()
    for u in users:
        traits.update(u.traits - {"switched"})
    return {
        "contract": "rampart/contract/v1",
        "config": run.cfg.knobs(),
        "window": {"start": summary.window_start, "end": summary.window_end},
        "population": {
            "users": len(users),
            "attacker_accounts": len(m.extra_users),
            "sellers": len(m.cat.sellers),
            "items": len(m.cat.items),
            "households": sum(1 for h in m.pop.households if len(h) > 1),
            "countries": dict(sorted(Counter(u.country for u in users).items())),
            "traits": dict(sorted(traits.items())),
        },
        "moments": {
            "drop_item": m.cat.specials.drop_item.item_id,
            "pricing_error_item": m.cat.specials.error_item.item_id,
            "viral_items": [it.item_id for it, _, _ in m.cat.specials.viral],
            "flash_items": [it.item_id for it in m.cat.specials.flash_items],
        },
        "campaigns": [
            {
                "id": c.id,
                "areas": c.areas,
                "tactic": c.tactic,
                "label_sources": c.sources,
                "knobs": c.knobs,
                "entities": c.entity_ids(),
                "events": c.events,
            }
            for c in run.campaigns
        ],
        "summary": asdict(summary),
    }
