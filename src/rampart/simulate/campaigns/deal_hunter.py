"""deal_hunter: a deal group rushing a pricing error; coupon stacking past the promotion rules.

A handful of real shoppers also buy the mispriced item (one each); the group buys the maximum,
from several accounts per person, and stacks every voucher a loophole allows.
"""

from __future__ import annotations

import math

from rampart.simulate.campaigns.base import Kit
from rampart.simulate.catalog import Coupon, Item
from rampart.simulate.clock import HOUR, MIN, SEC
from rampart.simulate.commerce import Line, checkout, fulfil
from rampart.simulate.devices import phone_device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.pii import home_place, render_address
from rampart.simulate.places import COUNTRIES, round_price

AREA = "deal_hunter"


def pricing_error_rush(kit: Kit) -> None:
    k, m = kit.k, kit.m
    sp = m.cat.specials
    item = sp.error_item
    country = item.seller.country
    n_people = kit.size(0.002, 3)
    c, rng, ids = kit.open(
        "pricing_error_rush",
        {AREA: "review"},
        {
            "people": n_people,
            "accounts_per_person": [2, 4],
            "discovery_delay_min": [3, 15] if k.pace < 2 else [10, 90],
        },
    )
    a, b = sp.error_window
    kit.touch(c, "item", item.item_id, AREA, a + 10 * MIN)
    pool = [u for u in kit.pool_take(rng, 40) if u.country == country]
    lo, hi = c.knobs["discovery_delay_min"]
    for _ in range(n_people):
        # one person, several accounts on one or two phones, one flat spelled several ways
        home = home_place(rng, country)
        phones = [
            kit.farm_phone(rng, ids, country)
            if rng.random() < 0.3
            else phone_device(rng, ids, country)
            for _ in range(2)
        ]
        n_acc = rng.randint(2, 4)
        accounts = [pool.pop() for _ in range(min(len(pool), n_acc // 2))]
        while len(accounts) < n_acc:
            created = m.start - int(rng.uniform(20, 300) * 24 * HOUR)
            u = kit.fake_user(
                rng,
                ids,
                country,
                created,
                [phones[len(accounts) % 2]],
                m.net.broadband_ip(rng, country),
                900 + len(accounts),
                place=home,
            )
            accounts.append(u)
        t = a + int(rng.uniform(lo, hi) * MIN)
        ip = m.net.broadband_ip(rng, country)
        for j, u in enumerate(accounts):
            dev = phones[j % 2]
            actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
            price = m.cat.price_at(item, t)
            ev = m.em.emit(
                "page.view",
                t,
                actor,
                item_page(item.item_id, rng.randint(3000, 15000)),
            )
            kit.abuse(c, rng, ev, AREA)
            t += rng.randint(5 * SEC, 40 * SEC)
            ev = m.em.emit(
                "cart.add",
                t,
                actor,
                {
                    "item_id": item.item_id,
                    "seller_id": item.seller.uid,
                    "quantity": item.max_qty,
                    "unit_price": price,
                },
            )
            kit.abuse(c, rng, ev, AREA)
            t += rng.randint(10 * SEC, 60 * SEC)
            address = render_address(home, u.name, rng.randrange(12) if k.address_variants else 0)
            order = checkout(
                m, rng, ids, u, actor, t, [Line(item, item.max_qty, price)], address=address
            )
            for ev2 in order.events:
                kit.abuse(c, rng, ev2, AREA)
            if order.paid and t < b:
                # the seller cancels what it can once the error is noticed
                m.em.emit_system(
                    "order.cancelled",
                    b + rng.randint(10 * MIN, 6 * HOUR),
                    u.uid,
                    {"order_id": order.order_id, "reason": "pricing_error", "by": "seller"},
                )
            t += int(rng.uniform(1, 8) * MIN * max(1.0, k.pace / 2))


def coupon_stacking(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n = kit.size(0.003, 4)
    c, rng, ids = kit.open(
        "coupon_stacking",
        {AREA: "review"},
        {
            "accounts": n,
            "coupons_per_order": [3, 6] if k.pace < 2 else [3, 4],
            "discount_share": [0.7, 0.98] if k.pace < 2 else [0.55, 0.8],
        },
    )
    accounts = kit.pool_take(rng, n, fresh=False) or kit.pool_take(rng, n)
    lo_c, hi_c = c.knobs["coupons_per_order"]
    lo_d, hi_d = c.knobs["discount_share"]
    for u in accounts:
        spec = COUNTRIES[u.country]
        shops = [s for s in m.cat.sellers if s.country == u.country] or m.cat.sellers
        for _ in range(rng.randint(2, 4)):
            t = kit.at(rng, 0.05, 0.9)
            seller = rng.choice(shops)
            items = [it for it in m.cat.shop_items[seller.uid] if not it.special and it.cat != 14]
            if not items:
                continue
            item: Item = rng.choice(items)
            qty = max(1, math.ceil(12 * spec.fx / max(item.price, 0.01)))
            qty = min(qty, 10)
            subtotal = item.price * qty
            actor = m.actor(rng, ids, u, t)
            n_c = rng.randint(lo_c, hi_c)
            promos = list(m.cat.promos[u.country])
            coupons: list[Coupon] = []
            target = subtotal * rng.uniform(lo_d, hi_d)
            for j in range(n_c):
                if j < len(promos):
                    base = promos[j]
                    value = base.value
                    cp = Coupon(base.coupon_id, base.campaign_id, value, False, u.country, 0.0)
                else:  # shop and partner vouchers that should not combine
                    value = round_price(target / n_c, spec.currency)
                    cp = Coupon(
                        ids.coupon(),
                        rng.choice(("shop_voucher", "partner_cashback", "live_exclusive")),
                        value,
                        False,
                        u.country,
                        0.0,
                    )
                coupons.append(cp)
                ev = m.em.emit(
                    "coupon.claim",
                    t,
                    actor,
                    {
                        "coupon_id": cp.coupon_id,
                        "campaign_id": cp.campaign_id,
                        "value": cp.value,
                        "new_user_only": False,
                    },
                )
                kit.abuse(c, rng, ev, AREA, ip=False)
                t += rng.randint(3 * SEC, 40 * SEC)
            extra = max(0.0, target - sum(cp.value for cp in coupons))
            ev = m.em.emit(
                "cart.add",
                t,
                actor,
                {
                    "item_id": item.item_id,
                    "seller_id": seller.uid,
                    "quantity": qty,
                    "unit_price": item.price,
                },
            )
            kit.abuse(c, rng, ev, AREA, ip=False)
            t += rng.randint(10 * SEC, 60 * SEC)
            order = checkout(
                m,
                rng,
                ids,
                u,
                actor,
                t,
                [Line(item, qty, item.price)],
                coupons=coupons,
                extra_discount=extra,
            )
            for ev2 in order.events:
                kit.abuse(c, rng, ev2, AREA, ip=False)
            if order.paid:
                fulfil(m, rng, ids, order)
        kit.camouflage(rng, ids, u, m.start, m.end)
