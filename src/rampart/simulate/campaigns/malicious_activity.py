"""malicious_activity: card testing, stolen-card orders, serial refund claims, phishing chat.

Stolen-card labels arrive as chargebacks weeks later (usually after the window): a detector
is judged on orders it had to decide without knowing.
"""

from __future__ import annotations

from rampart.simulate.campaigns.base import Kit
from rampart.simulate.catalog import DIGITAL, Item
from rampart.simulate.clock import HOUR, MIN, SEC
from rampart.simulate.commerce import Line, checkout, fulfil, message, refund
from rampart.simulate.emit import Actor
from rampart.simulate.pii import home_place, render_address
from rampart.simulate.places import COUNTRIES, FOREIGN_BINS
from rampart.simulate.population import card

AREA = "malicious_activity"
_TEST_DECLINES = (
    "incorrect_cvc",
    "do_not_honor",
    "invalid_card",
    "expired_card",
    "insufficient_funds",
    "card_not_supported",
    "stolen_card",
)


def _items(kit: Kit, country: str, cat: int | None = None) -> list[Item]:
    """Items of a market (in a category when it has any): orders stay in the buyer's currency."""
    local = [it for it in kit.m.cat.items if it.seller.country == country and not it.special]
    wanted = [it for it in local if cat is None or it.cat == cat]
    return wanted or local or [it for it in kit.m.cat.items if not it.special]


def card_testing(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n_cards = kit.size(0.008, 24)
    c, rng, ids = kit.open(
        "card_testing",
        {AREA: "report"},
        {
            "cards": n_cards,
            "attempt_gap_s": [3, 20] if k.pace < 2 else [60, 900],
            "success_rate": 0.15,
        },
    )
    accounts = kit.pool_take(rng, 2 if k.pace < 2 else 5, fresh=True)
    accounts = [u for u in accounts if u.created_ms < m.end - 2 * HOUR] or kit.pool_take(rng, 2)
    if not accounts:
        return
    lo, hi = c.knobs["attempt_gap_s"]
    t = max(kit.at(rng, 0.15, 0.45), max(u.created_ms for u in accounts) + 10 * MIN)
    issuers = list(FOREIGN_BINS.items())
    for j in range(n_cards):
        u = accounts[j % len(accounts)]
        country = u.country
        dev = u.devices[0]
        ip = kit.attacker_ip(rng, country)
        actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
        issuer, bins = (
            issuers[j % len(issuers)] if rng.random() < 0.6 else (country, COUNTRIES[country].bins)
        )
        payment = card(rng, ids, rng.choice(bins), issuer)
        kit.touch(c, "instrument", str(payment["instrument_id"]), AREA, t)
        item = min(
            rng.sample(_items(kit, country, DIGITAL), min(8, len(_items(kit, country, DIGITAL)))),
            key=lambda it: it.price,
        )
        ok = rng.random() < 0.15
        order = checkout(
            m,
            rng,
            ids,
            u,
            actor,
            t,
            [Line(item, 1, item.price)],
            payment=payment,
            decline_p=0.0 if ok else 1.0,
            pay_delay_ms=rng.randint(2 * SEC, 8 * SEC),
            retries=False,
        )
        for ev in order.events:
            if ev["type"] == "payment.attempt" and not ok:
                ev["props"]["decline_code"] = rng.choice(_TEST_DECLINES)
            kit.abuse(c, rng, ev, AREA)
        t += int(rng.uniform(lo, hi) * SEC)


def stolen_cards(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n = kit.size(0.002, 3)
    c, rng, ids = kit.open(
        "stolen_card_orders",
        {AREA: "chargeback"},
        {
            "accounts": n,
            "foreign_issuer_share": 0.9 if k.pace < 2 else 0.5,
            "aged_accounts": k.pace >= 2,
        },
    )
    accounts = kit.pool_take(rng, n, fresh=k.pace < 2) or kit.pool_take(rng, n)
    for u in accounts:
        country = u.country
        drop = home_place(rng, country)
        for _ in range(rng.randint(1, 3)):
            t = max(kit.at(rng, 0.05, 0.85), u.created_ms + int(rng.uniform(0.2, 3) * HOUR))
            if rng.random() < c.knobs["foreign_issuer_share"]:
                issuer = rng.choice(sorted(FOREIGN_BINS))
                payment = card(rng, ids, rng.choice(FOREIGN_BINS[issuer]), issuer)
            else:
                payment = card(rng, ids, rng.choice(COUNTRIES[country].bins), country)
            actor = Actor(
                u.uid, ids.session(), u.devices[0].obj, kit.attacker_ip(rng, country), u.geo
            )
            pricey = sorted(
                rng.sample(_items(kit, country, 0), min(30, len(_items(kit, country, 0)))),
                key=lambda it: -it.price,
            )[:3]
            item = rng.choice(pricey)
            ev = m.em.emit("account.updated", t, actor, {"field": "payment_method", "via": "self"})
            kit.abuse(c, rng, ev, AREA)
            t += rng.randint(30 * SEC, 5 * MIN)
            address = render_address(drop, u.name, rng.randrange(12))
            order = checkout(
                m,
                rng,
                ids,
                u,
                actor,
                t,
                [Line(item, rng.randint(1, 2), item.price)],
                address=address,
                payment=payment,
                decline_p=0.25,
            )
            for ev2 in order.events:
                kit.abuse(c, rng, ev2, AREA)
            kit.touch(c, "instrument", str(payment["instrument_id"]), AREA, t)
            if order.paid:
                fulfil(m, rng, ids, order)
        kit.camouflage(rng, ids, u, m.start, m.end)


def serial_refunds(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n = kit.size(0.002, 3)
    c, rng, ids = kit.open(
        "serial_refund_claims",
        {AREA: "review"},
        {"accounts": n, "claims_per_account": [3, 6] if k.pace < 2 else [2, 3]},
    )
    accounts = kit.pool_take(rng, n, fresh=False) or kit.pool_take(rng, n)
    lo, hi = c.knobs["claims_per_account"]
    for u in accounts:
        for _ in range(rng.randint(lo, hi)):
            t = kit.at(rng, 0.0, 0.5)
            actor = m.actor(rng, ids, u, t)
            item = rng.choice(_items(kit, u.country))
            order = checkout(m, rng, ids, u, actor, t, [Line(item, 1, item.price)], decline_p=0.0)
            for ev in order.events:
                kit.abuse(c, rng, ev, AREA, ip=False)
            if not order.paid:
                continue
            # same-day metro delivery, so the claim lands inside short windows too
            _, done, _ = fulfil(m, rng, ids, order, ship_h=(1, 4), transit_h=(2, 8), delivered=True)
            claim_t = done + int(rng.uniform(0.5, 20) * HOUR)
            reason = "not_received" if rng.random() < 0.8 else "damaged"
            kit.abuse(c, rng, refund(m, rng, ids, order, claim_t, reason), AREA, ip=False)
        kit.camouflage(rng, ids, u, m.start, m.end)


_LURES = (
    "Hi, your payment for order {o} failed verification. Confirm within 24h here: {link}",
    "Dear seller, your shop received a violation report. Appeal now to avoid suspension: {link}",
    "Congratulations! You won a {v} voucher from Pasar anniversary. Claim: {link}",
    "I already paid but system show pending, pls check the receipt here {link}",
    "Your refund is ready, login to receive it: {link}",
)
_LINKS_EASY = (
    "http://pasar-verify-account.com/login",
    "https://pasar-seller-centre.help/appeal",
    "http://bit.ly/3Pz9xQk",
    "https://pasar-refund.top/claim",
)
_LINKS_HARD = (
    "pasar-helpdesk[.]site/verify",
    "https://t.ly/qR8s",
    "h t t p s://pasar-care.info/r",
    "https://tinyurl.com/pasar-refund-2026",
    "https://pаsar-support.com/login",
)


def phishing(kit: Kit) -> None:
    k, m = kit.k, kit.m
    n_senders = 2 if kit.cfg.n_users < 3000 else 4
    n_msgs = kit.size(0.006, 12)
    c, rng, ids = kit.open(
        "phishing_messages",
        {AREA: "report"},
        {"senders": n_senders, "messages": n_msgs, "obfuscated_links": k.pace >= 2},
    )
    senders = kit.pool_take(rng, n_senders, fresh=True) or kit.pool_take(rng, n_senders)
    links = _LINKS_EASY if k.pace < 2 else _LINKS_HARD
    for j in range(n_msgs):
        u = senders[j % len(senders)]
        target_sellers = rng.random() < 0.5
        local = [
            s for s in (m.cat.sellers if target_sellers else m.pop.users) if s.country == u.country
        ]
        target = rng.choice(local or m.cat.sellers)
        t = max(kit.at(rng, 0.05, 0.95), u.created_ms + 30 * MIN)
        text = rng.choice(_LURES).format(
            o=ids.order("260302"), link=rng.choice(links), v=COUNTRIES[u.country].currency + " 500"
        )
        actor = Actor(
            u.uid, ids.session(), u.devices[0].obj, kit.attacker_ip(rng, u.country), u.geo
        )
        kit.abuse(c, rng, message(m, rng, ids, u, target, t, text, actor), AREA)
