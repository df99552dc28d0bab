"""information_leakage: id-enumerating scrapers, a slow logged-in scraper, and sellers pushing
buyers to off-platform contact with obfuscated phone numbers and e-mail addresses.
"""

from __future__ import annotations

import random

from rampart.simulate.campaigns.base import Kit
from rampart.simulate.clock import HOUR, MIN
from rampart.simulate.commerce import message
from rampart.simulate.devices import SCRIPT_UAS, Device, web_device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.pii import ascii_fold, geo_for, person_name, phone_for
from rampart.simulate.places import COUNTRIES

AREA = "information_leakage"


def enumeration(kit: Kit) -> None:
    """Walk item ids upward from a starting point; gaps (deleted listings) answer 404."""
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    numbers = m.cat.item_numbers
    span_ids = numbers[-1] - numbers[0]
    n_req = min(span_ids, max(400, int(len(numbers) * (1.6 if not hard else 1.0))), 25_000)
    c, rng, ids = kit.open(
        "id_enumeration",
        {AREA: "review"},
        {
            "requests": n_req,
            "rate_per_s": 3.0 if not hard else 0.2,
            "rotate_every": 400 if not hard else 15,
            "datacenter_share": k.datacenter_share,
        },
    )
    live = set(numbers)
    country = kit.cfg.countries[0][0]
    proxy_geo: dict[str, object] = {"country": country}
    subnet = m.net.datacenter_subnet(rng)
    start_no = numbers[rng.randrange(len(numbers) // 4)] if not hard else numbers[0]
    t = kit.at(rng, 0.05, 0.2)
    mean_gap = 1000 / c.knobs["rate_per_s"]
    if n_req * mean_gap > 0.8 * (m.end - t):  # fit the crawl into the window
        mean_gap = 0.8 * (m.end - t) / n_req
    device: Device | None = None
    ip = ""
    num = start_no
    step_skip = 1 if not hard else 2
    for j in range(n_req):
        if j % c.knobs["rotate_every"] == 0:
            ua = rng.choice(SCRIPT_UAS) if not hard and rng.random() < 0.5 else None
            device = (
                kit.bot_browser(rng, ids) if ua is None else web_device(rng, ids, user_agent=ua)
            )
            ip = kit.attacker_ip(rng, country, subnet)
            proxy_geo = geo_for(rng, rng.choice(COUNTRIES[country].cities), country)
        assert device is not None
        exists = num in live
        actor = Actor(None, None, device.obj, ip, kit.geo_of(ip, proxy_geo))
        props: dict[str, object] = {
            "path": f"/item/{num}",
            "target_type": "item",
            "target_id": str(num),
        }
        if exists:
            props["dwell_ms"] = rng.randint(40, 400) if not hard else rng.randint(1500, 6000)
        props["status"] = 200 if exists else 404
        kit.abuse(c, rng, m.em.emit("page.view", t, actor, props), AREA, user=False)
        num += 1 if rng.random() > 0.1 else rng.randint(1, step_skip + 1)
        t += int(rng.expovariate(1 / mean_gap)) + 20


def slow_scraper(kit: Kit) -> None:
    """Logged in, human-paced, but round the clock and never twice on the same item."""
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    c, rng, ids = kit.open(
        "slow_catalog_scrape",
        {AREA: "review"},
        {"accounts": 2, "pages_per_hour": 90 if not hard else 40, "dwell_ms": [2500, 12000]},
    )
    accounts = kit.pool_take(rng, 2, fresh=False) or kit.pool_take(rng, 2)
    per_hour = c.knobs["pages_per_hour"]
    catalog = [it for it in m.cat.items if not it.special]
    rng.shuffle(catalog)
    for j, u in enumerate(accounts):
        items = catalog[j :: len(accounts)]  # the crawl frontier, split between the accounts
        pos = 0
        t = max(kit.at(rng, 0.0, 0.2), u.created_ms + HOUR)
        dev = u.devices[0] if hard else web_device(rng, ids)
        ip = u.home_ip or kit.attacker_ip(rng, u.country)
        end = min(m.end, t + int(kit.span * 0.8))
        actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
        while t < end and pos < len(items):
            if rng.random() < 0.02:  # a new app session now and then
                actor = Actor(u.uid, ids.session(), dev.obj, ip, u.geo)
            item = items[pos]
            pos += 1
            d = rng.randint(*c.knobs["dwell_ms"])
            ev = m.em.emit(
                "page.view",
                t,
                actor,
                item_page(item.item_id, d),
            )
            kit.abuse(c, rng, ev, AREA, ip=u.home_ip == ip)
            t += int(rng.expovariate(per_hour / HOUR)) + d // 4
        kit.camouflage(rng, ids, u, m.start, m.end)


_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_HOMO = str.maketrans({"a": "а", "o": "о", "e": "е", "i": "і"})  # Cyrillic look-alikes


def obfuscate_phone(rng: random.Random, phone: str, hard: bool) -> str:
    """'+6591234567' → '+65 9123 4567' (easy) or 'nine 1 two 3 ...' / '9.1.2.3...' (hard)."""
    digits = phone.lstrip("+")
    if not hard:
        return rng.choice((phone, f"{digits[:2]} {digits[2:6]} {digits[6:]}", digits[2:]))
    style = rng.randrange(4)
    if style == 0:
        return " ".join(digits[2:])
    if style == 1:
        return " ".join(_DIGIT_WORDS[int(d)] if rng.random() < 0.6 else d for d in digits[2:])
    if style == 2:
        return ".".join(digits[2:])
    return "-".join(digits[2:][i : i + 2] for i in range(0, len(digits) - 2, 2))


def obfuscate_email(rng: random.Random, email: str, hard: bool) -> str:
    local, domain = email.split("@")
    if not hard:
        return email
    style = rng.randrange(3)
    if style == 0:
        return f"{local} (at) {domain.replace('.', ' dot ')}"
    if style == 1:
        return f"{local}@{domain.translate(_HOMO)}"
    return f"{local} [at] {domain}"


_PUSH = (
    "Hi dear, for faster reply pls whatsapp me {p}",
    "This item cheaper if you buy direct from us, add my line: {p}",
    "Sorry chat here slow, contact me {p} ok",
    "Can give you extra 20% off, transfer direct. Email me {e}",
    "pls msg telegram {p}, I send you more photos",
    "wa {p} for wholesale price",
)


def off_platform(kit: Kit) -> None:
    k, m = kit.k, kit.m
    hard = k.pace >= 2
    n_sellers = 2 if kit.cfg.n_users < 3000 else 4
    n_msgs = kit.size(0.006, 10)
    c, rng, ids = kit.open(
        "off_platform_contact",
        {AREA: "report"},
        {
            "sellers": n_sellers,
            "messages": n_msgs,
            "obfuscation": "spaced/spelled/homoglyph" if hard else "plain",
        },
    )
    sellers = rng.sample(m.cat.sellers, min(n_sellers, len(m.cat.sellers)))
    for j in range(n_msgs):
        s = sellers[j % len(sellers)]
        buyers = [
            u for u in m.pop.users if u.country == s.country and not u.is_seller
        ] or m.pop.users
        buyer = rng.choice(buyers)
        t = kit.at(rng, 0.02, 0.95)
        # the buyer asks something ordinary first (legitimate, unlabelled)
        message(
            m,
            rng,
            ids,
            buyer,
            s,
            t,
            rng.choice(
                ("Hi, is this available?", "Hi, can ship today?", "Any discount for 2 pcs?")
            ),
        )
        t += rng.randint(1 * MIN, 40 * MIN)
        phone = obfuscate_phone(rng, phone_for(rng, s.country), hard)
        given = person_name(rng, s.country)[1]
        email = obfuscate_email(
            rng, f"{ascii_fold(given).lower().replace(' ', '')}{rng.randint(1, 99)}@gmail.com", hard
        )
        text = rng.choice(_PUSH).format(p=phone, e=email)
        actor = m.actor(rng, ids, s, t)
        kit.abuse(
            c, rng, message(m, rng, ids, s, buyer, t, text, actor), AREA, device=True, ip=False
        )
