"""scalper: checkout bots on a limited drop and flash sales; a human-like reseller ring.

Real fans buy the drop within minutes too (see moments.py); bots differ in seconds, quantities,
networks and devices, and the ring differs only in its shared forwarding addresses.
"""

from __future__ import annotations

import random

from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.catalog import Item
from rampart.simulate.clock import MIN, SEC
from rampart.simulate.commerce import Line, checkout
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.ids import IdFactory
from rampart.simulate.pii import Place, render_address
from rampart.simulate.places import COUNTRIES
from rampart.simulate.population import User, card

AREA = "scalper"


def _grab(
    kit: Kit,
    c: Campaign,
    rng: random.Random,
    ids: IdFactory,
    u: User,
    actor: Actor,
    item: Item,
    t: int,
    *,
    think_ms: tuple[int, int],
    address: dict[str, str],
    payment: dict[str, object],
    label_ip: bool,
) -> None:
    m = kit.m
    price = m.cat.price_at(item, t)
    ev = m.em.emit(
        "page.view",
        t,
        actor,
        item_page(item.item_id, rng.randint(*think_ms)),
    )
    kit.abuse(c, rng, ev, AREA, ip=label_ip)
    t += rng.randint(*think_ms)
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
    kit.abuse(c, rng, ev, AREA, ip=label_ip)
    t += rng.randint(*think_ms)
    order = checkout(
        m,
        rng,
        ids,
        u,
        actor,
        t,
        [Line(item, item.max_qty, price)],
        address=address,
        payment=payment,
        decline_p=0.02,
        pay_delay_ms=rng.randint(*think_ms),
    )
    for ev2 in order.events:
        kit.abuse(c, rng, ev2, AREA, ip=label_ip)
    if "instrument_id" in payment:
        kit.touch(c, "instrument", str(payment["instrument_id"]), AREA, t)


def drop_bots(kit: Kit) -> None:
    k, m = kit.k, kit.m
    sp = m.cat.specials
    n = kit.size(0.003, 4)
    c, rng, ids = kit.open(
        "checkout_bot",
        {AREA: "review"},
        {
            "accounts": n,
            "reaction_ms": [300, 2500] if k.pace < 2 else [2500, 20000],
            "headless_share": k.headless_share,
            "datacenter_share": k.datacenter_share,
        },
    )
    country = sp.drop_item.seller.country
    accounts = [u for u in kit.pool_take(rng, n * 3, fresh=False) if u.country == country][:n]
    accounts = accounts or kit.pool_take(rng, n, fresh=False)
    if not accounts:
        return
    fwd = Place(
        country,
        COUNTRIES[country].cities[0],
        22,
        "Gul Way" if country == "SG" else "Industrial Road",
        1,
        5,
        "Kawasan Industri" if country != "SG" else "",
        COUNTRIES[country].cities[0].postcode.replace("#", "3"),
    )
    bots = [
        kit.bot_browser(rng, ids) if rng.random() < 0.6 else kit.farm_phone(rng, ids, country)
        for _ in range(max(1, len(accounts) // 2))
    ]
    think = (150, 900) if k.pace < 2 else (900, 6000)
    moments = [(sp.drop_item, sp.drop_ms)]
    moments += [
        (it, a)
        for a, _ in sp.flash_windows
        for it in sp.flash_items
        if it.seller.country == country
    ][:6]
    bin_ = rng.choice(COUNTRIES[country].bins)
    for i, u in enumerate(accounts):
        bot = bots[i % len(bots)]
        payment = card(rng, ids, bin_, country)
        address = render_address(fwd, u.name, rng.randrange(12) if k.address_variants else 0)
        for item, t0 in moments:
            ip = kit.attacker_ip(rng, country)
            actor = Actor(u.uid, ids.session(), bot.obj, ip, kit.geo_of(ip, u.geo))
            # polling the page until it opens
            polls = 8 if k.pace < 2 else 2
            for p in range(polls):
                ev = m.em.emit(
                    "page.view",
                    t0 - (polls - p) * rng.randint(800, 2500),
                    actor,
                    item_page(item.item_id, rng.randint(200, 1200)),
                )
                kit.abuse(c, rng, ev, AREA, ip=True)
            t = t0 + rng.randint(*think) + int(rng.uniform(0, k.jitter_s / 60) * SEC)
            _grab(
                kit,
                c,
                rng,
                ids,
                u,
                actor,
                item,
                t,
                think_ms=think,
                address=address,
                payment=payment,
                label_ip=True,
            )
        kit.camouflage(rng, ids, u, m.start, m.end)


def reseller_ring(kit: Kit) -> None:
    k, m = kit.k, kit.m
    sp = m.cat.specials
    n = kit.size(0.004, 5)
    c, rng, ids = kit.open(
        "reseller_ring",
        {AREA: "review"},
        {"accounts": n, "forwarding_addresses": 2, "address_variants": k.address_variants},
    )
    country = sp.drop_item.seller.country
    spec = COUNTRIES[country]
    accounts = [u for u in kit.pool_take(rng, n * 3, fresh=False) if u.country == country][:n]
    accounts = accounts or kit.pool_take(rng, n)
    if not accounts:
        return
    # freight forwarders: one warehouse, per-customer suite codes
    warehouses = [
        Place(
            country,
            spec.cities[j % len(spec.cities)],
            8 + j,
            "Jalan Perindustrian" if country != "SG" else "Penjuru Lane",
            2,
            10 + j,
            "Kawasan Gudang" if country != "SG" else "",
            spec.cities[j % len(spec.cities)].postcode.replace("#", str(4 + j)),
        )
        for j in range(2)
    ]
    hot = [sp.drop_item] + [it for it in sp.flash_items if it.seller.country == country]
    cards = [card(rng, ids, rng.choice(spec.bins), country) for _ in range(max(1, n // 2))]
    for i, u in enumerate(accounts):
        dev = u.devices[0]
        address = render_address(
            warehouses[i % 2], u.name, rng.randrange(12) if k.address_variants else 0
        )
        address["line2"] = f"Suite {country}-{rng.randint(10000, 99999)}"
        payment = cards[i % len(cards)]
        for item in hot:
            t0 = (
                sp.drop_ms
                if item is sp.drop_item
                else sp.flash_windows[rng.randrange(len(sp.flash_windows))][0]
            )
            t = t0 + rng.randint(15 * SEC, 4 * MIN)
            # a real phone on a mobile network: the carrier's NAT address is shared, not labelled
            ip = rng.choice(m.net.nat_pool(country, u.carrier))
            actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
            _grab(
                kit,
                c,
                rng,
                ids,
                u,
                actor,
                item,
                t,
                think_ms=(4000, 40000),
                address=address,
                payment=payment,
                label_ip=False,
            )
            if rng.random() < 0.5:
                break
        kit.camouflage(rng, ids, u, m.start, m.end)
