"""incentive_abuse: new-user coupon farming across linked accounts; referral rings.

The accounts are linked the way real farms are: a few devices, one drop address spelled many
ways, a handful of cards. None of those links is visible in a single event.
"""

from __future__ import annotations

import math
import random

from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.catalog import Coupon, Item
from rampart.simulate.clock import DAY, HOUR, MIN, SEC
from rampart.simulate.commerce import Line, checkout, fulfil
from rampart.simulate.devices import Device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.ids import IdFactory
from rampart.simulate.pii import Place, home_place, render_address
from rampart.simulate.places import COUNTRIES
from rampart.simulate.population import User, card

AREA = "incentive_abuse"


def _cheap_item(kit: Kit, rng: random.Random, country: str, at_least: float) -> Item:
    items = [
        it
        for it in kit.m.cat.items
        if it.seller.country == country and not it.special and it.price >= at_least and it.cat != 14
    ]
    items = items or [it for it in kit.m.cat.items if not it.special]
    return min(rng.sample(items, min(25, len(items))), key=lambda it: it.price)


def _shared_cards(
    kit: Kit, rng: random.Random, ids: IdFactory, country: str, n_accounts: int
) -> list[dict[str, object]]:
    n = max(1, math.ceil(n_accounts / kit.k.accounts_per_instrument))
    bin_ = rng.choice(COUNTRIES[country].bins)
    return [card(rng, ids, bin_, country) for _ in range(n)]


def _first_order(
    kit: Kit,
    c: Campaign,
    rng: random.Random,
    ids: IdFactory,
    u: User,
    actor: Actor,
    t: int,
    coupon: Coupon,
    drop: Place,
    variant: int,
    payment: dict[str, object],
) -> None:
    """Claim the welcome coupon and spend it on the cheapest item that qualifies."""
    m = kit.m
    ev = m.em.emit(
        "coupon.claim",
        t,
        actor,
        {
            "coupon_id": coupon.coupon_id,
            "campaign_id": coupon.campaign_id,
            "value": coupon.value,
            "new_user_only": True,
        },
    )
    kit.abuse(c, rng, ev, AREA, ip=kit.k.datacenter_share > 0.5)
    t += int(rng.uniform(10, 60) * SEC * kit.k.pace)
    item = _cheap_item(kit, rng, u.country, coupon.value * 1.05)
    ev = m.em.emit(
        "page.view",
        t,
        actor,
        item_page(item.item_id, rng.randint(1500, 9000)),
    )
    kit.abuse(c, rng, ev, AREA, ip=kit.k.datacenter_share > 0.5)
    t += int(rng.uniform(5, 30) * SEC * kit.k.pace)
    ev = m.em.emit(
        "cart.add",
        t,
        actor,
        {
            "item_id": item.item_id,
            "seller_id": item.seller.uid,
            "quantity": 1,
            "unit_price": item.price,
        },
    )
    kit.abuse(c, rng, ev, AREA, ip=kit.k.datacenter_share > 0.5)
    t += int(rng.uniform(10, 60) * SEC * kit.k.pace)
    address = render_address(drop, u.name, variant)
    order = checkout(
        m,
        rng,
        ids,
        u,
        actor,
        t,
        [Line(item, 1, item.price)],
        coupons=[coupon],
        address=address,
        payment=payment,
        decline_p=0.03,
    )
    for ev2 in order.events:
        kit.abuse(c, rng, ev2, AREA, ip=kit.k.datacenter_share > 0.5)
    if "instrument_id" in payment:
        kit.touch(c, "instrument", str(payment["instrument_id"]), AREA, t)
    if order.paid:
        fulfil(m, rng, ids, order)


def coupon_farm(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n = kit.size(0.01, 8)
    c, rng, ids = kit.open(
        "new_user_coupon_farm",
        {AREA: "review"},
        {
            "accounts": n,
            "address_variants": k.address_variants,
            "accounts_per_instrument": k.accounts_per_instrument,
        },
    )
    accounts = [u for u in kit.pool_take(rng, n * 2, fresh=True) if u.created_ms < m.end - HOUR][:n]
    if not accounts:
        return
    country = max(
        sorted({u.country for u in accounts}),
        key=lambda code: sum(u.country == code for u in accounts),
    )
    accounts = [u for u in accounts if u.country == country]
    drop = home_place(rng, country)
    cards = _shared_cards(kit, rng, ids, country, len(accounts))
    coupon = m.cat.welcome[country]
    for i, u in enumerate(accounts):
        # easy: straight after signup; hard: hours or days later, like a real new user
        wait = rng.uniform(1, 6) * MIN if k.pace < 2 else rng.uniform(1, 30) * HOUR
        t = u.created_ms + int(wait)
        dev = u.devices[0]
        actor = Actor(
            u.uid, ids.session(), dev.obj, u.home_ip or m.net.broadband_ip(rng, country), u.geo
        )
        variant = rng.randrange(12) if k.address_variants else 0
        _first_order(kit, c, rng, ids, u, actor, t, coupon, drop, variant, cards[i % len(cards)])


def referral_ring(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n = kit.size(0.006, 6)
    c, rng, ids = kit.open(
        "referral_ring",
        {AREA: "review", "account_integrity": "review"},
        {
            "new_accounts": n,
            "shape": "chain" if k.pace > 2 else "star",
            "accounts_per_device": k.accounts_per_device,
        },
    )
    roots = kit.pool_take(rng, 1, fresh=False) or kit.pool_take(rng, 1)
    if not roots:
        return
    root = roots[0]
    country = root.country
    n_dev = max(1, math.ceil(n / k.accounts_per_device))
    devices: list[Device] = [kit.farm_phone(rng, ids, country) for _ in range(n_dev)]
    drop = home_place(rng, country)
    cards = _shared_cards(kit, rng, ids, country, n)
    t = kit.at(rng, 0.05, 0.35)
    referrer = root
    kit.touch(c, "user", root.uid, AREA, t)
    welcome = m.cat.welcome[country]
    reward = m.cat.promos[country][0]
    for i in range(n):
        t += int(rng.uniform(3, 12) * MIN * k.pace + rng.uniform(0, k.jitter_s) * SEC)
        dev = devices[(i * n_dev) // n]
        ip = kit.attacker_ip(rng, country)
        u = kit.fake_user(
            rng,
            ids,
            country,
            t,
            [dev],
            ip,
            500 + i,
            place=drop,
            variant=rng.randrange(12) if k.address_variants else 0,
        )
        u.traits.add("fresh")
        actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
        props = {
            "email": u.email,
            "phone": u.phone,
            "name": u.name,
            "channel": "referral",
            "referrer_id": referrer.uid,
        }
        ev = kit.abuse(c, rng, m.em.emit("account.created", t, actor, props), AREA)
        if ev is not None:
            kit.touch(c, "user", u.uid, "account_integrity", t)
            kit.touch(c, "device", dev.id, "account_integrity", t)
        # the referrer cashes the reward once the friend has "joined"
        rt = t + int(rng.uniform(2, 40) * MIN * k.pace)
        ref_actor = Actor(
            referrer.uid,
            ids.session(),
            referrer.devices[0].obj,
            referrer.home_ip or ip,
            referrer.geo,
        )
        ev = m.em.emit(
            "coupon.claim",
            rt,
            ref_actor,
            {
                "coupon_id": reward.coupon_id,
                "campaign_id": "mkt_referral_reward",
                "value": reward.value,
                "new_user_only": False,
            },
        )
        kit.abuse(c, rng, ev, AREA)
        _first_order(
            kit,
            c,
            rng,
            ids,
            u,
            actor,
            t + int(rng.uniform(3, 20) * MIN),
            welcome,
            drop,
            rng.randrange(12) if k.address_variants else 0,
            cards[i % len(cards)],
        )
        if c.knobs["shape"] == "chain":
            referrer = u
        kit.camouflage(rng, ids, u, t + HOUR, min(m.end, t + 3 * DAY))
