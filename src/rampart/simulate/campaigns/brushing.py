"""brushing: a seller's fake orders with empty parcels and templated 5-star reviews; a ring of
sellers buying from and reviewing each other.
"""

from __future__ import annotations

import random

from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.catalog import Item
from rampart.simulate.clock import HOUR, MIN, SEC
from rampart.simulate.commerce import Line, checkout, fulfil, review
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.ids import IdFactory
from rampart.simulate.population import User

AREA = "brushing"
_TEMPLATES_EASY = (
    "Good product, fast delivery, recommended seller!",
    "Very good quality, 5 stars",
    "Item received in good condition. Thank you seller!",
)
_OPEN = (
    "Good product",
    "Very good quality",
    "Item received in good condition",
    "Fast delivery",
    "Excellent seller",
    "Original item",
    "Nice packaging",
    "Super fast shipping",
)
_MID = (
    "recommended seller",
    "will order again",
    "worth the price",
    "same as picture",
    "thank you seller",
    "highly recommend",
    "5 stars",
)
_END = ("!", "!!", ".", " 👍", " ❤️", "")


def brushing_review(rng: random.Random, hard: bool) -> str:
    """Easy farms paste one of three lines; hard ones assemble lines from phrase banks."""
    if not hard:
        return rng.choice(_TEMPLATES_EASY)
    return f"{rng.choice(_OPEN)}, {rng.choice(_MID)}{rng.choice(_END)}"


def _fake_order(
    kit: Kit,
    c: Campaign,
    rng: random.Random,
    ids: IdFactory,
    buyer: User,
    item: Item,
    t: int,
    actor: Actor,
    *,
    hard: bool,
    label_ip: bool,
) -> None:
    m = kit.m
    ev = m.em.emit(
        "page.view",
        t,
        actor,
        item_page(item.item_id, rng.randint(2000, 25000 if hard else 6000)),
    )
    kit.abuse(c, rng, ev, AREA, ip=label_ip)
    t += rng.randint(5 * SEC, 60 * SEC)
    order = checkout(m, rng, ids, buyer, actor, t, [Line(item, 1, item.price)], decline_p=0.0)
    for ev2 in order.events:
        kit.abuse(c, rng, ev2, AREA, ip=label_ip)
    kit.touch(c, "item", item.item_id, AREA, t)
    kit.touch(c, "seller", item.seller.uid, AREA, t)
    if not order.paid:
        return
    weight = rng.randint(5, 40) if not hard else rng.randint(45, 120)
    fev, done, _ = fulfil(
        m, rng, ids, order, ship_h=(1, 8), transit_h=(4, 30), weight_g=weight, delivered=True
    )
    kit.abuse(c, rng, fev, AREA, user=False, device=False, ip=False)
    rt = done + int(rng.uniform(0.2, 3 if not hard else 30) * HOUR)
    ractor = Actor(buyer.uid, ids.session(), actor.device, actor.ip, actor.geo)
    kit.abuse(
        c,
        rng,
        review(m, rng, ids, order, rt, 5, brushing_review(rng, hard), ractor),
        AREA,
        ip=label_ip,
    )


def empty_parcels(kit: Kit) -> None:
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    n = kit.size(0.006, 6)
    c, rng, ids = kit.open(
        "empty_parcel_orders",
        {AREA: "review"},
        {
            "buyers": n,
            "orders_per_buyer": [1, 4],
            "parcel_weight_g": [45, 120] if hard else [5, 40],
            "review_delay_h": [0.2, 30] if hard else [0.2, 3],
        },
    )
    small = [
        s
        for s in m.cat.sellers
        if 2 <= len(m.cat.shop_items[s.uid]) <= 20
        and not any(it.special for it in m.cat.shop_items[s.uid])
    ]
    buyers = kit.pool_take(rng, n)
    # one brushing seller per couple of dozen buyer accounts, in the buyers' own market
    shops: dict[str, list[User]] = {}
    for code in sorted({u.country for u in buyers}):
        local = [s for s in small if s.country == code] or [
            s for s in m.cat.sellers if s.country == code
        ]
        n_shops = max(1, sum(u.country == code for u in buyers) // 25)
        shops[code] = rng.sample(local, min(n_shops, len(local)))
    for j, u in enumerate(buyers):
        seller = shops[u.country][j % len(shops[u.country])]
        items = sorted(m.cat.shop_items[seller.uid], key=lambda it: it.price)
        cheap = items[: max(1, len(items) // 2)]
        for _ in range(rng.randint(1, 4)):
            t = max(kit.at(rng, 0.0, 0.8), u.created_ms + 20 * MIN)
            ip = u.home_ip or kit.attacker_ip(rng, u.country)
            actor = Actor(u.uid, ids.session(), u.devices[0].obj, ip, u.geo)
            _fake_order(kit, c, rng, ids, u, rng.choice(cheap), t, actor, hard=hard, label_ip=True)


def review_ring(kit: Kit) -> None:
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    n_sellers = 3 if kit.cfg.n_users < 3000 else 5
    c, rng, ids = kit.open(
        "reciprocal_review_ring",
        {AREA: "review"},
        {"sellers": n_sellers, "alt_accounts_per_seller": 2},
    )
    by_country: dict[str, list[User]] = {}
    for s in m.cat.sellers:
        if not any(it.special for it in m.cat.shop_items[s.uid]):
            by_country.setdefault(s.country, []).append(s)
    country = max(sorted(by_country), key=lambda code: len(by_country[code]))
    ring = rng.sample(by_country[country], min(n_sellers, len(by_country[country])))
    alts = [u for u in kit.pool_take(rng, 40) if u.country == country][: 2 * len(ring)]
    for i, seller in enumerate(ring):
        buyers: list[User] = [s for s in ring if s is not seller] + alts[2 * i : 2 * i + 2]
        items = sorted(m.cat.shop_items[seller.uid], key=lambda it: it.price)[:3]
        for buyer in buyers:
            for _ in range(rng.randint(1, 2)):
                t = max(kit.at(rng, 0.0, 0.85), buyer.created_ms + 20 * MIN)
                actor = m.actor(rng, ids, buyer, t)
                _fake_order(
                    kit,
                    c,
                    rng,
                    ids,
                    buyer,
                    rng.choice(items),
                    t,
                    actor,
                    hard=hard,
                    label_ip=buyer in alts and actor.ip == buyer.home_ip,
                )
