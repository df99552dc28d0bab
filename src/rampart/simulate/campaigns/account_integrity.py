"""account_integrity: bulk fake signups, credential stuffing, session hijack.

The fake accounts made here are the farm's stock: other tactics take them from ``kit.pool``
and they are labelled again in each area they later abuse.
"""

from __future__ import annotations

import math
import random

from rampart.simulate.campaigns.base import Campaign, Kit
from rampart.simulate.catalog import Item
from rampart.simulate.clock import DAY, HOUR, MIN, SEC
from rampart.simulate.commerce import Line, checkout
from rampart.simulate.devices import SCRIPT_UAS, web_device
from rampart.simulate.emit import Actor
from rampart.simulate.ids import IdFactory
from rampart.simulate.pii import (
    email_for,
    geo_for,
    home_place,
    person_name,
    phone_for,
    render_address,
)
from rampart.simulate.places import COUNTRIES
from rampart.simulate.population import User

AREA = "account_integrity"


def _victims(kit: Kit, rng: random.Random, n: int) -> list[User]:
    """Ordinary, established accounts (leaked credentials hit real people)."""
    cands = [u for u in kit.m.pop.users if not u.traits and not u.is_seller]
    return rng.sample(cands, min(n, len(cands)))


def _expensive(kit: Kit, rng: random.Random, country: str) -> Item:
    items = [it for it in kit.m.cat.items if it.seller.country == country and not it.special]
    items = items or [it for it in kit.m.cat.items if not it.special]
    return max(rng.sample(items, min(40, len(items))), key=lambda it: it.price)


def bulk_signup(kit: Kit) -> None:
    k = kit.k
    n = kit.size(kit.cfg.abuse_share * 0.75, 36)
    c, rng, ids = kit.open(
        "bulk_signup",
        {AREA: "review"},
        {
            "accounts": n,
            "accounts_per_device": k.accounts_per_device,
            "aged_share": k.aged_share,
            "disposable_email_share": k.disposable_email_share,
            "datacenter_share": k.datacenter_share,
        },
    )
    m = kit.m
    countries = [code for code, _ in sorted(kit.cfg.countries, key=lambda cw: -cw[1])[:3]]
    n_dev = max(2, math.ceil(n / k.accounts_per_device))
    n_aged = int(n * k.aged_share)
    waves = 3 if k.pace < 2 else max(4, n // 4)
    devices = [kit.farm_phone(rng, ids, countries[i % len(countries)]) for i in range(n_dev)]
    wave_at = sorted(kit.at(rng, 0.02, 0.55) for _ in range(waves))
    subnets = [m.net.datacenter_subnet(rng) for _ in range(waves)]
    aged_idx = set(rng.sample(range(n), n_aged))
    for i in range(n):
        country = countries[(i * len(countries)) // n]
        dev = devices[(i * n_dev) // n]
        wave = (i * waves) // n
        ip = kit.attacker_ip(rng, country, subnets[wave])
        aged = i in aged_idx
        if aged:
            created = m.start - int(rng.uniform(60, 400) * DAY)
        else:
            created = wave_at[wave] + int(
                i % 25 * 40 * SEC * k.pace + rng.uniform(0, k.jitter_s) * SEC
            )
        u = kit.fake_user(rng, ids, country, created, [dev], ip, i)
        u.traits.add("aged" if aged else "fresh")
        kit.pool.append(u)
        if aged:
            # found later by reviewers linking it to the farm's devices
            kit.touch(c, "user", u.uid, AREA, kit.at(rng, 0.2, 0.9))
            kit.touch(c, "device", dev.id, AREA, kit.at(rng, 0.2, 0.9))
        else:
            actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
            # easy farms skip the phone; field order as the app sends it
            props: dict[str, object] = {"email": u.email}
            if rng.random() > 0.5 - 0.4 * min(1.0, k.pace / 4):
                props["phone"] = u.phone
            props["name"] = u.name
            props["channel"] = "organic" if rng.random() < 0.7 else "ad"
            kit.abuse(c, rng, m.em.emit("account.created", created, actor, props), AREA)
            t = created + int(rng.uniform(15, 90) * SEC * k.pace)
            kit.abuse(
                c,
                rng,
                m.em.emit("account.login", t, actor, {"success": True, "method": "otp"}),
                AREA,
            )
        kit.camouflage(rng, ids, u, max(created, m.start) + HOUR, m.end)


def credential_stuffing(kit: Kit) -> None:
    k = kit.k
    m = kit.m
    n = kit.size(0.03, 30)
    c, rng, ids = kit.open(
        "credential_stuffing",
        {AREA: "report"},
        {
            "accounts_tried": n,
            "hit_rate": 0.08,
            "datacenter_share": k.datacenter_share,
            "pace": k.pace,
        },
    )
    victims = _victims(kit, rng, n)
    t = kit.at(rng, 0.1, 0.3)
    span = int(HOUR * (1.0 if k.pace < 2 else 0.5 * kit.span / HOUR))
    subnet = m.net.datacenter_subnet(rng)
    bots = [
        web_device(
            rng, ids, user_agent=rng.choice(SCRIPT_UAS) if rng.random() < k.headless_share else None
        )
        for _ in range(3 if k.pace < 2 else 20)
    ]
    hits = max(2, int(len(victims) * 0.08))
    for j, victim in enumerate(victims):
        at = t + int(span * j / len(victims) + rng.uniform(0, k.jitter_s) * SEC)
        dev = rng.choice(bots)
        ip = kit.attacker_ip(rng, victim.country, subnet)
        # stuffing tools open a fresh session per attempt
        actor = Actor(victim.uid, ids.session(), dev.obj, ip, kit.geo_of(ip, victim.geo))
        if j < hits:
            ev = m.em.emit("account.login", at, actor, {"success": True, "method": "password"})
            kit.abuse(c, rng, ev, AREA, user=False)
            _takeover(kit, c, rng, ids, victim, actor, at)
            continue
        for _ in range(1 if rng.random() < 0.7 else 2):
            ev = m.em.emit(
                "account.login",
                at,
                actor,
                {"success": False, "method": "password", "failure_reason": "invalid_password"},
            )
            kit.abuse(c, rng, ev, AREA, user=False)
            at += int(rng.uniform(1, 6) * SEC * k.pace)


def _takeover(
    kit: Kit, c: Campaign, rng: random.Random, ids: IdFactory, victim: User, actor: Actor, t: int
) -> None:
    """After a hit: lock the owner out, redirect delivery, cash out on a pricey item."""
    m, k = kit.m, kit.k
    t += int(rng.uniform(2, 40) * MIN * (k.pace if k.pace > 1 else 0.3))
    actor = Actor(actor.user_id, ids.session(), actor.device, actor.ip, actor.geo)
    drop = home_place(rng, victim.country)
    address = render_address(drop, person_name(rng, victim.country)[0], rng.randrange(12))
    new_email = email_for(rng, *person_name(rng, victim.country)[1:], victim.country)
    for field, value in (("password", None), ("email", new_email), ("shipping_address", address)):
        props: dict[str, object] = {"field": field, "via": "self"}
        if value is not None:
            props["new_value"] = value
        kit.abuse(c, rng, m.em.emit("account.updated", t, actor, props), AREA, user=False)
        t += int(rng.uniform(20, 120) * SEC)
    item = _expensive(kit, rng, victim.country)
    t += int(rng.uniform(1, 10) * MIN)
    kit.abuse(
        c,
        rng,
        m.em.emit(
            "page.view",
            t,
            actor,
            {
                "path": f"/item/{item.item_id}",
                "target_type": "item",
                "target_id": item.item_id,
                "dwell_ms": rng.randint(4000, 20000),
                "status": 200,
            },
        ),
        AREA,
        user=False,
    )
    t += rng.randint(20 * SEC, 2 * MIN)
    cards = [
        i for i in victim.instruments if i["method"] in ("card", "wallet")
    ] or victim.instruments
    order = checkout(
        m,
        rng,
        ids,
        victim,
        actor,
        t,
        [Line(item, 1, item.price)],
        address=address,
        payment=rng.choice(cards),
        decline_p=0.1,
    )
    for ev in order.events:
        kit.abuse(c, rng, ev, AREA, user=False)
    _recovery(kit, rng, ids, victim, t + int(rng.uniform(4, 30) * HOUR))


def _recovery(kit: Kit, rng: random.Random, ids: IdFactory, victim: User, t: int) -> None:
    """The real owner finds the password changed and gets the account back (legitimate events)."""
    m = kit.m
    actor = m.actor(rng, ids, victim, t)
    for _ in range(2):
        m.em.emit(
            "account.login",
            t,
            actor,
            {"success": False, "method": "password", "failure_reason": "invalid_password"},
        )
        t += rng.randint(10 * SEC, 60 * SEC)
    t += rng.randint(10 * MIN, 3 * HOUR)
    m.em.emit("account.updated", t, actor, {"field": "password", "via": "support"})
    m.em.emit(
        "account.updated",
        t + 2 * MIN,
        actor,
        {"field": "email", "via": "support", "new_value": victim.email},
    )
    m.em.emit("account.login", t + 4 * MIN, actor, {"success": True, "method": "otp"})


def session_hijack(kit: Kit) -> None:
    k = kit.k
    m = kit.m
    n = kit.size(0.004, 3)
    c, rng, ids = kit.open(
        "session_hijack",
        {AREA: "report"},
        {"victims": n, "same_country_exit": k.datacenter_share < 0.5},
    )
    for victim in _victims(kit, rng, n):
        t = kit.at(rng, 0.05, 0.7)
        dev = web_device(rng, ids)
        if k.datacenter_share > 0.5:  # easy: an exit abroad
            abroad = rng.choice([code for code in COUNTRIES if code != victim.country])
            ip = m.net.broadband_ip(rng, abroad)
            geo = geo_for(rng, COUNTRIES[abroad].cities[0], abroad)
        else:
            ip = m.net.residential_proxy_ip(rng, victim.country)
            geo = victim.geo
        actor = Actor(victim.uid, ids.session(), dev.obj, ip, geo)
        kit.abuse(
            c,
            rng,
            m.em.emit("account.login", t, actor, {"success": True, "method": "token"}),
            AREA,
            user=False,
        )
        t += int(rng.uniform(1, 15) * MIN * max(1.0, k.pace / 2))
        phone = phone_for(rng, victim.country)
        new_email = email_for(rng, *person_name(rng, victim.country)[1:], victim.country)
        for field, value in (("email", new_email), ("phone", phone)):
            ev = m.em.emit(
                "account.updated", t, actor, {"field": field, "via": "self", "new_value": value}
            )
            kit.abuse(c, rng, ev, AREA, user=False)
            t += int(rng.uniform(30, 300) * SEC)
        for _ in range(rng.randint(1, 2)):
            item = _expensive(kit, rng, victim.country)
            t += int(rng.uniform(2, 30) * MIN)
            order = checkout(m, rng, ids, victim, actor, t, [Line(item, 1, item.price)])
            for ev in order.events:
                kit.abuse(c, rng, ev, AREA, user=False)
        _recovery(kit, rng, ids, victim, t + int(rng.uniform(3, 24) * HOUR))
