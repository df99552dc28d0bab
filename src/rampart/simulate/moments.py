"""Market moments real users pile into: a limited drop, a pricing error, viral items, flash
sales. Attackers target the same moments, so a detector that flags "many orders on one item in
minutes" also catches these real fans and bargain hunters.
"""

from __future__ import annotations

import random

from rampart.simulate.behaviour import session
from rampart.simulate.catalog import Item
from rampart.simulate.clock import HOUR, MIN, SEC
from rampart.simulate.ids import IdFactory, stream
from rampart.simulate.market import Market
from rampart.simulate.population import User


def _by_country(m: Market) -> dict[str, list[User]]:
    out: dict[str, list[User]] = {}
    for u in m.pop.users:
        if "new_signup" not in u.traits:
            out.setdefault(u.country, []).append(u)
    return out


def organic_moments(m: Market, taken: set[str]) -> None:
    rng = stream(m.cfg.seed, "moments")
    ids = IdFactory(stream(m.cfg.seed, "moments-ids"), taken)
    sp = m.cat.specials
    locals_ = _by_country(m)
    _drop_fans(m, rng, ids, locals_)
    # the pricing error spreads by word of mouth: a trickle of real buyers
    item = sp.error_item
    people = locals_.get(item.seller.country, [])
    a, b = sp.error_window
    n = max(4, int(len(people) * 0.02))
    buyers = rng.sample(people, min(n, len(people)))
    for k, u in enumerate(buyers):
        t = a + int(rng.expovariate(1 / (0.35 * (b - a))))
        if t < b:
            session(m, rng, ids, u, t, intent=item, views=rng.randint(1, 4), buy=0.8)
            if k < 3:
                m.labels.entity(
                    "user",
                    u.uid,
                    "deal_hunter",
                    b + rng.randint(6, 48) * HOUR,
                    "appeal",
                    None,
                    label=0,
                )
    # viral items: a burst of views, likes and shares from ordinary accounts
    for item, a, b in sp.viral:
        people = locals_.get(item.seller.country, [])
        for u in rng.sample(people, min(len(people), max(6, int(len(people) * 0.035)))):
            t = a + int(rng.expovariate(1 / (0.3 * (b - a))))
            if t < b:
                session(m, rng, ids, u, t, intent=item, views=rng.randint(1, 5), buy=0.4)
    # flash sales pull active users in at the start of each slot
    by_country: dict[str, list[Item]] = {}
    for item in sp.flash_items:
        by_country.setdefault(item.seller.country, []).append(item)
    for a, _ in sp.flash_windows:
        for country, items in sorted(by_country.items()):
            people = locals_.get(country, [])
            for u in rng.sample(people, min(len(people), max(2, int(len(people) * 0.01)))):
                session(
                    m,
                    rng,
                    ids,
                    u,
                    a + int(rng.expovariate(1 / (20 * MIN))),
                    intent=rng.choice(items),
                    views=rng.randint(1, 6),
                    buy=1.5,
                )


def _drop_fans(
    m: Market, rng: random.Random, ids: IdFactory, locals_: dict[str, list[User]]
) -> None:
    """Fans refresh the page before the drop and buy within minutes of it."""
    sp = m.cat.specials
    item, t0 = sp.drop_item, sp.drop_ms
    people = locals_.get(item.seller.country, [])
    n = max(6, int(len(people) * 0.02))
    for u in rng.sample(people, min(n, len(people))):
        if rng.random() < 0.4:  # waiting on the page before it opens
            session(
                m, rng, ids, u, t0 - rng.randint(1 * MIN, 10 * MIN), intent=item, views=1, buy=0.0
            )
        t = t0 + rng.randint(20 * SEC, 90 * SEC) + int(rng.expovariate(1 / (6 * MIN)))
        session(m, rng, ids, u, t, intent=item, views=rng.randint(1, 3), buy=1.2)
