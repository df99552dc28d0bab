"""click_farm: lockstep engagement bought by a seller; live-stream view inflation.

Farms act in waves: every phone hits the same targets within the same minutes, dwells briefly
and never buys. Hard farms spread a wave over half an hour and mix in popular targets so the
block looks less dense.
"""

from __future__ import annotations

import random

from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.catalog import Item
from rampart.simulate.clock import MIN, SEC
from rampart.simulate.devices import Device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.population import User

AREA = "click_farm"


def _farm(kit: Kit, rng: random.Random, n: int) -> list[tuple[User, Device]]:
    accounts = kit.pool_take(rng, n)
    return [(u, u.devices[0]) for u in accounts]


def _engage(
    kit: Kit,
    c: Campaign,
    rng: random.Random,
    actor: Actor,
    t: int,
    item: Item,
    dwell: tuple[int, int],
) -> int:
    m = kit.m
    d = rng.randint(*dwell)
    ev = m.em.emit(
        "page.view",
        t,
        actor,
        item_page(item.item_id, d),
    )
    kit.abuse(c, rng, ev, AREA)
    for action in rng.sample(("like", "wishlist", "share", "click"), rng.randint(1, 3)):
        t += rng.randint(300, 2500)
        ev = m.em.emit(
            "engagement",
            t,
            actor,
            {
                "action": action,
                "target_type": "item",
                "target_id": item.item_id,
                "owner_id": item.seller.uid,
                "dwell_ms": d,
            },
        )
        kit.abuse(c, rng, ev, AREA)
    return t + d


def lockstep_engagement(kit: Kit) -> None:
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    n = min(120, kit.size(0.008, 10))  # one farm room; bigger worlds do not get bigger rooms
    waves = 6 if not hard else 12
    c, rng, ids = kit.open(
        "lockstep_engagement",
        {AREA: "review"},
        {
            "devices": n,
            "waves": waves,
            "wave_window_s": k.lockstep_window_s,
            "camouflage_targets": hard,
            "dwell_ms": [800, 3000] if not hard else [2500, 9000],
        },
    )
    farm = _farm(kit, rng, n)
    if not farm:
        return
    small = [
        s
        for s in m.cat.sellers
        if 3 <= len(m.cat.shop_items[s.uid]) <= 25
        and not any(it.special for it in m.cat.shop_items[s.uid])
    ]
    client = rng.choice(small or m.cat.sellers)
    targets = rng.sample(m.cat.shop_items[client.uid], min(3, len(m.cat.shop_items[client.uid])))
    kit.touch(c, "seller", client.uid, AREA, m.start)
    dwell = tuple(c.knobs["dwell_ms"])
    for w in range(waves):
        t0 = kit.at(rng, w / waves, (w + 0.8) / waves)
        decoys = [m.cat.pick(rng, client.country, ()) for _ in range(3)] if hard else []
        for u, dev in farm:
            if hard and rng.random() < 0.25:
                continue  # not every phone joins every wave
            t = t0 + int(rng.uniform(0, k.lockstep_window_s) * SEC)
            if t < u.created_ms:
                continue
            actor = Actor(
                u.uid, ids.session(), dev.obj, u.home_ip or kit.attacker_ip(rng, u.country), u.geo
            )
            plan = list(targets) + decoys
            if hard:
                rng.shuffle(plan)
            for item in plan:
                t = _engage(kit, c, rng, actor, t, item, (dwell[0], dwell[1]))
                if item in targets:
                    kit.touch(c, "item", item.item_id, AREA, t)
            ev = m.em.emit(
                "engagement",
                t,
                actor,
                {
                    "action": "follow",
                    "target_type": "shop",
                    "target_id": client.uid,
                    "owner_id": client.uid,
                },
            )
            kit.abuse(c, rng, ev, AREA)


def live_view_inflation(kit: Kit) -> None:
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    n = min(150, kit.size(0.008, 10))
    c, rng, ids = kit.open(
        "live_view_inflation",
        {AREA: "review"},
        {"devices": n, "streams": 3, "join_window_s": 20 if not hard else 600},
    )
    farm = _farm(kit, rng, n)
    if not farm or not m.cat.lives:
        return
    lives = rng.sample(m.cat.lives, min(3, len(m.cat.lives)))
    for live_id, host in lives:
        kit.touch(c, "seller", host.uid, AREA, m.start)
        t0 = kit.at(rng, 0.05, 0.9)
        stay = rng.randint(10, 40) * MIN
        for u, dev in farm:
            t = t0 + int(rng.uniform(0, c.knobs["join_window_s"]) * SEC)
            if t < u.created_ms:
                continue
            actor = Actor(
                u.uid, ids.session(), dev.obj, u.home_ip or kit.attacker_ip(rng, u.country), u.geo
            )
            dwell = int(stay * (rng.uniform(0.97, 1.0) if not hard else rng.uniform(0.5, 1.0)))
            ev = m.em.emit(
                "page.view",
                t,
                actor,
                {
                    "path": f"/live/{live_id}",
                    "target_type": "live",
                    "target_id": live_id,
                    "dwell_ms": dwell,
                    "status": 200,
                },
            )
            kit.abuse(c, rng, ev, AREA)
            ev = m.em.emit(
                "engagement",
                t + 700,
                actor,
                {
                    "action": "live_view",
                    "target_type": "live",
                    "target_id": live_id,
                    "owner_id": host.uid,
                    "dwell_ms": dwell,
                },
            )
            kit.abuse(c, rng, ev, AREA)
            for _ in range(rng.randint(1, 4)):
                ev = m.em.emit(
                    "engagement",
                    t + rng.randint(5 * SEC, max(6 * SEC, dwell)),
                    actor,
                    {
                        "action": "like",
                        "target_type": "live",
                        "target_id": live_id,
                        "owner_id": host.uid,
                    },
                )
                kit.abuse(c, rng, ev, AREA)
