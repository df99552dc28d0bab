"""One person's app or web session: browse, engage, cart, check out.

Written for speed (it makes most of the events): shared sub-objects, few RNG calls per page,
no per-event formatting. Attack code reuses it for camouflage, which is why attacker accounts
can look ordinary most of the time.
"""

from __future__ import annotations

import math
import random
from typing import Any

from rampart.simulate.catalog import SEARCH_TERMS, Item
from rampart.simulate.clock import MIN, SEC
from rampart.simulate.commerce import Line, aftermath, checkout, message
from rampart.simulate.devices import Device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.ids import IdFactory
from rampart.simulate.market import Market
from rampart.simulate.places import COUNTRIES
from rampart.simulate.population import User
from rampart.simulate.text import buyer_question, price_text, seller_answer

_LN_ITEM = math.log(21_000)
_LN_LIST = math.log(6_500)
_EXTERNAL = (
    "https://www.google.com/",
    "https://www.facebook.com/",
    "https://www.tiktok.com/",
    "https://l.instagram.com/",
    "https://t.co/",
)
_LOGIN_METHODS = ("password", "otp", "sso")
_LOGIN_W = (60, 28, 12)


def login(
    m: Market, rng: random.Random, user: User, actor: Actor, t: int, method: str | None = None
) -> int:
    """A login, sometimes after typos; three misses lead to a password reset."""
    emit = m.em.emit
    method = method or rng.choices(_LOGIN_METHODS, _LOGIN_W)[0]
    if method == "password" and rng.random() < 0.08:
        fails = 1 if rng.random() < 0.75 else rng.randint(2, 4)
        for _ in range(fails):
            emit(
                "account.login",
                t,
                actor,
                {"success": False, "method": "password", "failure_reason": "invalid_password"},
            )
            t += rng.randint(4 * SEC, 40 * SEC)
        if fails >= 3:
            t += rng.randint(1 * MIN, 6 * MIN)
            emit("account.updated", t, actor, {"field": "password", "via": "reset"})
            t += rng.randint(10 * SEC, 60 * SEC)
    emit("account.login", t, actor, {"success": True, "method": method})
    return t + rng.randint(1 * SEC, 5 * SEC)


def pick_device(rng: random.Random, user: User, t: int) -> Device:
    if user.shared_device is not None and rng.random() < 0.25:
        return user.shared_device
    dev = user.device_at(t)
    if len(user.devices) > 1 and user.devices[-1].platform == "web" and rng.random() < 0.3:
        return user.devices[-1]
    return dev


def session(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    user: User,
    t: int,
    *,
    device: Device | None = None,
    ip: str | None = None,
    intent: Item | None = None,
    views: int | None = None,
    buy: float = 1.0,
    login_p: float = 0.07,
) -> int:
    """Emit one session starting at ``t``; returns when it ended."""
    dev = device or pick_device(rng, user, t)
    actor = m.actor(rng, ids, user, t, dev, ip)
    user.last_ip = actor.ip
    emit = m.em.emit
    cat = m.cat
    rand = rng.random
    lognorm = rng.lognormvariate
    if dev is user.devices[-1] and len(user.devices) > 1 and "switched" not in user.traits:
        user.traits.add("switched")  # a new phone asks for a fresh login
        t = login(m, rng, user, actor, t, method="otp")
    elif rand() < login_p:
        t = login(m, rng, user, actor, t)
    n = views if views is not None else 1 + int(rng.expovariate(1 / 8.5))
    web = dev.platform == "web"
    referrer = rng.choice(_EXTERNAL) if web and rand() < 0.35 else ""
    cart: list[Line] = []
    country = user.country
    buy_p = 0.024 * buy * user.buy_bias
    path = "/"
    if intent is None:
        props: dict[str, Any] = {
            "path": "/",
            "target_type": "other",
            "dwell_ms": int(lognorm(_LN_LIST, 0.7)),
            "status": 200,
        }
        if referrer:
            props["referrer"] = referrer
        emit("page.view", t, actor, props)
        t += props["dwell_ms"] + rng.randint(300, 3000)
        if rand() < 0.015 and cat.ads:
            ad_id, ad_item = cat.ads[rng.randrange(len(cat.ads))]
            emit(
                "engagement",
                t,
                actor,
                {
                    "action": "ad_click",
                    "target_type": "ad",
                    "target_id": ad_id,
                    "owner_id": ad_item.seller.uid,
                },
            )
            intent = ad_item if ad_item.seller.country == country else None
    for step in range(n):
        r = rand()
        if intent is not None and step == 0:
            item = intent
        elif r < 0.16:
            terms = SEARCH_TERMS[
                user.affinity[0]
                if user.affinity and rand() < 0.6
                else rng.randrange(len(SEARCH_TERMS))
            ]
            q = rng.choice(terms).replace(" ", "%20")
            dwell = int(lognorm(_LN_LIST, 0.6))
            props = {
                "path": f"/search?keyword={q}",
                "target_type": "search",
                "dwell_ms": dwell,
                "status": 200,
            }
            if web:
                props["referrer"] = path
            path = props["path"]
            emit("page.view", t, actor, props)
            t += dwell + rng.randint(300, 2500)
            continue
        elif r < 0.21:
            seller = cat.sellers[rng.randrange(len(cat.sellers))]
            dwell = int(lognorm(_LN_LIST, 0.8))
            emit(
                "page.view",
                t,
                actor,
                {
                    "path": f"/shop/{seller.uid}",
                    "target_type": "shop",
                    "target_id": seller.uid,
                    "dwell_ms": dwell,
                    "status": 200,
                },
            )
            if rand() < 0.05:
                emit(
                    "engagement",
                    t + dwell // 2,
                    actor,
                    {
                        "action": "follow",
                        "target_type": "shop",
                        "target_id": seller.uid,
                        "owner_id": seller.uid,
                    },
                )
            t += dwell + rng.randint(300, 2500)
            continue
        elif r < 0.235 and cat.lives:
            live_id, host = cat.lives[rng.randrange(len(cat.lives))]
            dwell = int(lognorm(math.log(70_000), 1.1))
            emit(
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
            emit(
                "engagement",
                t + 800,
                actor,
                {
                    "action": "live_view",
                    "target_type": "live",
                    "target_id": live_id,
                    "owner_id": host.uid,
                    "dwell_ms": dwell,
                },
            )
            t += dwell + rng.randint(300, 2500)
            continue
        elif r < 0.26 and cat.videos:
            vid, owner = cat.videos[rng.randrange(len(cat.videos))]
            dwell = int(lognorm(math.log(14_000), 0.8))
            emit(
                "engagement",
                t,
                actor,
                {
                    "action": "click",
                    "target_type": "video",
                    "target_id": vid,
                    "owner_id": owner.uid,
                    "dwell_ms": dwell,
                },
            )
            if rand() < 0.12:
                emit(
                    "engagement",
                    t + dwell - 500,
                    actor,
                    {
                        "action": "like",
                        "target_type": "video",
                        "target_id": vid,
                        "owner_id": owner.uid,
                    },
                )
            t += dwell + rng.randint(300, 2000)
            continue
        else:
            item = cat.pick(rng, country, user.affinity)
        iid = item.item_id
        seller_id = item.seller.uid
        dwell = int(lognorm(_LN_ITEM, 0.9))
        props = item_page(iid, dwell, 200 if rand() > 0.003 else 404)
        if web:
            props["referrer"] = path
        path = f"/item/{iid}"
        emit("page.view", t, actor, props)
        e = rand()
        if e < 0.09:
            action = (
                "like"
                if e < 0.045
                else ("wishlist" if e < 0.075 else ("share" if e < 0.082 else "click"))
            )
            emit(
                "engagement",
                t + dwell // 2,
                actor,
                {"action": action, "target_type": "item", "target_id": iid, "owner_id": seller_id},
            )
        if rand() < buy_p or (item is intent and rand() < 0.5 * buy):
            qty = 1 if rand() < 0.86 else rng.randint(2, min(4, item.max_qty))
            price = cat.price_at(item, t)
            emit(
                "cart.add",
                t + int(dwell * 0.7),
                actor,
                {"item_id": iid, "seller_id": seller_id, "quantity": qty, "unit_price": price},
            )
            cart.append(Line(item, qty, price))
        elif rand() < 0.004:
            quoted = price_text(item.price, COUNTRIES[item.seller.country].currency)
            tq = t + dwell // 2
            message(
                m,
                rng,
                ids,
                user,
                item.seller,
                tq,
                buyer_question(rng, user.address["city"], quoted),
                actor,
            )
            if rand() < 0.75:
                message(
                    m,
                    rng,
                    ids,
                    item.seller,
                    user,
                    tq + int(rng.expovariate(1 / 40) * MIN) + MIN,
                    seller_answer(rng, quoted),
                )
        t += dwell + rng.randint(300, 3000)
    if cart and rand() < 0.5 + 0.05 * min(user.buy_bias, 6):
        t = _checkout(m, rng, ids, user, actor, t, cart)
    return t


def _checkout(
    m: Market,
    rng: random.Random,
    ids: IdFactory,
    user: User,
    actor: Actor,
    t: int,
    cart: list[Line],
) -> int:
    emit = m.em.emit
    emit(
        "page.view",
        t,
        actor,
        {
            "path": "/cart",
            "target_type": "other",
            "dwell_ms": rng.randint(3000, 40000),
            "status": 200,
        },
    )
    t += rng.randint(5 * SEC, 45 * SEC)
    by_seller: dict[str, list[Line]] = {}
    for line in cart:
        by_seller.setdefault(line.item.seller.uid, []).append(line)
    for lines in by_seller.values():
        coupons = []
        subtotal = sum(ln.price * ln.qty for ln in lines)
        if user.coupons:
            c = user.coupons[0]
            if c.min_spend <= subtotal and c.value < subtotal and rng.random() < 0.85:
                coupons.append(user.coupons.pop(0))
        elif rng.random() < 0.05:
            promo = rng.choice(m.cat.promos[lines[0].item.seller.country])
            if promo.min_spend <= subtotal:
                emit(
                    "coupon.claim",
                    t,
                    actor,
                    {
                        "coupon_id": promo.coupon_id,
                        "campaign_id": promo.campaign_id,
                        "value": promo.value,
                        "new_user_only": False,
                    },
                )
                t += rng.randint(2 * SEC, 20 * SEC)
                coupons.append(promo)
        order = checkout(m, rng, ids, user, actor, t, lines, coupons=coupons)
        user.orders_placed += 1
        if order.paid:
            aftermath(m, rng, ids, order)
        t += rng.randint(20 * SEC, 90 * SEC)
    return t
