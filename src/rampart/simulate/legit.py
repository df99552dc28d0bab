"""The ordinary marketplace, chunk by chunk: sessions with a daily and weekly rhythm, signups,
anonymous visitors, polite crawlers, account changes, and the label-0 traps a risk team
confirms as legitimate (carrier NAT addresses, household devices, heavy buyers, travellers).
"""

from __future__ import annotations

import numpy as np

from rampart.simulate.behaviour import login, session
from rampart.simulate.clock import DAY, HOUR, MIN, SEC, WEEKLY, utc_hour_weights, weekday
from rampart.simulate.devices import phone_device, web_device
from rampart.simulate.emit import Actor, item_page
from rampart.simulate.ids import IdFactory, np_stream, stream
from rampart.simulate.market import Market
from rampart.simulate.pii import home_place, phone_for, render_address
from rampart.simulate.places import CRAWLERS
from rampart.simulate.population import User, make_instrument

_CHANNELS = ("organic", "ad", "referral", "affiliate")
CRAWLER_GEO: dict[str, object] = {
    "country": "US", "region": "California", "city": "Mountain View",
    "lat": 37.4056, "lon": -122.0775,
}  # fmt: skip
_CHANNEL_W = (55, 25, 15, 5)


class Legit:
    def __init__(self, m: Market, taken: set[str]) -> None:
        seed = m.cfg.seed
        self.m = m
        self.rng = stream(seed, "legit")
        self.ids = IdFactory(stream(seed, "legit-ids"), taken)
        self.np = np_stream(seed, "legit-sessions")
        self.users = m.pop.users
        self._activity = np.array([u.activity for u in self.users])
        self._tz = np.array([u.tz for u in self.users])
        self._created = np.array([u.created_ms for u in self.users], dtype=np.int64)
        self._sessions: dict[int, list[tuple[int, int]]] = {}
        self._days_done: set[int] = set()
        self.anon_per_session = m.cfg.anonymous_share
        crawler_rng = stream(seed, "crawlers")
        self.crawler_ips: list[list[str]] = []
        for _, pre, octets in CRAWLERS:
            lo, hi = (int(x) for x in octets.split("-"))
            self.crawler_ips.append(
                [
                    f"{pre}.{crawler_rng.randint(lo, hi)}.{crawler_rng.randint(1, 254)}"
                    for _ in range(4)
                ]
            )
        self._signups = sorted(
            (u.created_ms, i) for i, u in enumerate(self.users) if "new_signup" in u.traits
        )

    # -- scheduling -------------------------------------------------------------------------
    def _plan_day(self, day: int) -> None:
        m = self.m
        d0 = m.start + day * DAY
        ch = m.em.chunk_ms
        rng = self.np
        for tz in sorted(set(self._tz.tolist())):
            idx = np.flatnonzero(self._tz == tz)
            factor = WEEKLY[weekday(d0 + tz * HOUR)]
            counts = rng.poisson(self._activity[idx] * factor)
            who = np.repeat(idx, counts)
            if not len(who):
                continue
            hours = rng.choice(24, size=len(who), p=utc_hour_weights(int(tz)))
            ts = d0 + hours.astype(np.int64) * HOUR + rng.integers(0, HOUR, size=len(who))
            # an account cannot have sessions before it exists (its signup session is separate)
            keep = ts > self._created[who] + 10 * MIN
            for t, i in zip(ts[keep].tolist(), who[keep].tolist(), strict=True):
                self._sessions.setdefault((t - m.start) // ch, []).append((t, i))
        for t, i in self._signups:
            if d0 <= t < d0 + DAY:
                self._sessions.setdefault((t - m.start) // ch, []).append((t, -1 - i))

    def run_chunk(self, k: int) -> None:
        m = self.m
        c0 = m.start + k * m.em.chunk_ms
        c1 = min(m.end, c0 + m.em.chunk_ms)
        for day in range((c0 - m.start) // DAY, (c1 - 1 - m.start) // DAY + 1):
            if day not in self._days_done:
                self._days_done.add(day)
                self._plan_day(day)
        todo = sorted(self._sessions.pop(k, []))
        rng, ids = self.rng, self.ids
        for t, i in todo:
            if i < 0:
                self.signup(self.users[-1 - i], t)
                continue
            user = self.users[i]
            session(m, rng, ids, user, t)
            if rng.random() < 0.012:
                self.account_change(user, t + rng.randint(1, 20) * MIN)
        n_anon = int(len(todo) * self.anon_per_session)
        for _ in range(n_anon):
            self.anonymous(c0 + rng.randrange(c1 - c0))
        self.crawl(c0, c1)

    # -- kinds of traffic ---------------------------------------------------------------------
    def signup(self, user: User, t: int) -> None:
        """Anonymous browsing, then an account, often a welcome coupon, then a first look round."""
        m, rng, ids = self.m, self.rng, self.ids
        dev = user.devices[0]
        actor = m.actor(rng, ids, user, t, dev)
        anon = Actor(None, actor.session_id, actor.device, actor.ip, actor.geo)
        for _ in range(rng.randint(0, 4)):
            item = m.cat.pick(rng, user.country, user.affinity)
            dwell = rng.randint(4000, 60000)
            m.em.emit(
                "page.view",
                t,
                anon,
                item_page(item.item_id, dwell),
            )
            t += dwell + rng.randint(500, 3000)
        channel = rng.choices(_CHANNELS, _CHANNEL_W)[0]
        props: dict[str, object] = {"email": user.email}
        if rng.random() < 0.88:  # some sign up with e-mail only
            props["phone"] = user.phone
        props["name"] = user.name
        props["channel"] = channel
        referrer = None
        if channel == "referral":
            referrer = self._referrer(user, t)
            if referrer is None:
                props["channel"] = "organic"
            else:
                props["referrer_id"] = referrer.uid
        m.em.emit("account.created", t, actor, props)
        t += rng.randint(20 * SEC, 3 * MIN)
        welcome = m.cat.welcome[user.country]
        if rng.random() < 0.7:
            m.em.emit(
                "coupon.claim",
                t,
                actor,
                {
                    "coupon_id": welcome.coupon_id,
                    "campaign_id": welcome.campaign_id,
                    "value": welcome.value,
                    "new_user_only": True,
                },
            )
            user.coupons.append(welcome)
            t += rng.randint(5 * SEC, 60 * SEC)
        session(m, rng, ids, user, t, device=dev, ip=actor.ip, buy=2.0, login_p=0.0)
        if referrer is not None and rng.random() < 0.5:
            rt = t + rng.randint(1 * HOUR, 20 * HOUR)
            reward = m.cat.promos[referrer.country][0]
            m.em.emit(
                "coupon.claim",
                rt,
                m.actor(rng, ids, referrer, rt),
                {
                    "coupon_id": reward.coupon_id,
                    "campaign_id": "mkt_referral_reward",
                    "value": reward.value,
                    "new_user_only": False,
                },
            )

    def _referrer(self, user: User, t: int) -> User | None:
        rng = self.rng
        for _ in range(8):
            cand = self.users[rng.randrange(len(self.users))]
            known = cand is not user and cand.country == user.country and cand.created_ms < t - DAY
            # friends and family: often the same home network
            if known and (cand.home_ip == user.home_ip or rng.random() < 0.7):
                return cand
        return None

    def account_change(self, user: User, t: int) -> None:
        m, rng, ids = self.m, self.rng, self.ids
        actor = m.actor(rng, ids, user, t)
        r = rng.random()
        if r < 0.4:  # moved house
            user.place = home_place(rng, user.country)
            user.address = render_address(user.place, user.name, rng.randrange(12))
            props: dict[str, object] = {
                "field": "shipping_address",
                "via": "self",
                "new_value": user.address,
            }
        elif r < 0.75:
            inst = make_instrument(rng, ids, user.country)
            user.instruments.append(inst)
            props = {"field": "payment_method", "via": "self"}
        elif r < 0.85:
            user.phone = phone_for(rng, user.country)
            props = {
                "field": "phone",
                "via": rng.choice(("self", "self", "support")),
                "new_value": user.phone,
            }
        elif r < 0.95:
            local = user.email.split("@")[0]
            user.email = f"{local}{rng.randint(1, 99)}@gmail.com"
            props = {"field": "email", "via": "self", "new_value": user.email}
        else:
            props = {"field": "password", "via": "self"}
            t = login(m, rng, user, actor, t, method="password")
        m.em.emit("account.updated", t, actor, props)

    def anonymous(self, t: int) -> None:
        """A logged-out visitor: a browser or the app before login, from an ordinary network."""
        m, rng, ids = self.m, self.rng, self.ids
        user = self.users[rng.randrange(len(self.users))]  # borrow a locale and network
        if rng.random() < 0.6:
            dev = web_device(rng, ids)
            ip = user.home_ip or m.net.broadband_ip(rng, user.country)
        else:
            dev = phone_device(rng, ids, user.country)
            ip = rng.choice(m.net.nat_pool(user.country, user.carrier))
        actor = Actor(None, ids.session(), dev.obj, ip, user.geo)
        referrer = rng.choice(("https://www.google.com/", "https://www.facebook.com/", ""))
        for step in range(1 + int(rng.expovariate(1 / 2.5))):
            item = m.cat.pick(rng, user.country, user.affinity)
            dwell = int(rng.lognormvariate(9.6, 0.9))
            props: dict[str, object] = item_page(item.item_id, dwell)
            if step == 0 and referrer:
                props["referrer"] = referrer
            m.em.emit("page.view", t, actor, props)
            t += dwell + rng.randint(400, 4000)

    def crawl(self, c0: int, c1: int) -> None:
        """Search engine crawlers: identified, from published ranges, a few seconds apart."""
        m, rng = self.m, self.rng
        per_ms = m.cfg.crawler_rate_per_item_day * len(m.cat.items) / DAY
        numbers = m.cat.item_numbers
        for k, (ua, _, _) in enumerate(CRAWLERS):
            share = 0.7 if k < 2 else 0.3
            n = int(per_ms * share * (c1 - c0) / 2)
            if n <= 0:
                continue
            dev = {"platform": "other", "user_agent": ua}
            ips = self.crawler_ips[k]
            times = sorted(c0 + rng.randrange(c1 - c0) for _ in range(n))
            last = -1
            for t in times:
                t = max(t, last + 2 * SEC)
                last = t
                actor = Actor(None, None, dev, rng.choice(ips), CRAWLER_GEO)
                if rng.random() < 0.01:
                    props: dict[str, object] = {
                        "path": "/robots.txt",
                        "target_type": "other",
                        "status": 200,
                    }
                else:
                    num = numbers[rng.randrange(len(numbers))]
                    gone = rng.random() < 0.02
                    iid = str(num - 1 if gone else num)
                    props = {
                        "path": f"/item/{iid}",
                        "target_type": "item",
                        "target_id": iid,
                        "status": 404 if gone else 200,
                    }
                m.em.emit("page.view", t, actor, props)

    # -- label-0 traps ------------------------------------------------------------------------
    def trap_labels(self) -> None:
        m = self.m
        rng = stream(m.cfg.seed, "trap-labels")
        span = m.end - m.start

        def when() -> int:
            return m.start + int(span * rng.uniform(0.3, 1.1))

        for ips in self.crawler_ips:
            for ip in ips:
                m.labels.entity("ip", ip, "information_leakage", when(), "review", None, label=0)
        for ip in m.net.all_nat_ips()[:: max(1, len(m.net.all_nat_ips()) // 6)]:
            m.labels.entity("ip", ip, "account_integrity", when(), "review", None, label=0)
        for _, ip in m.net.offices[:3]:
            m.labels.entity("ip", ip, "account_integrity", when(), "review", None, label=0)
        seen: set[str] = set()
        for u in self.users:
            if u.shared_device is not None and u.shared_device.id not in seen and len(seen) < 8:
                seen.add(u.shared_device.id)
                m.labels.entity(
                    "device", u.shared_device.id, "incentive_abuse", when(), "appeal", None, label=0
                )
            if "heavy_buyer" in u.traits:
                m.labels.entity("user", u.uid, "scalper", when(), "review", None, label=0)
            if "traveller" in u.traits or "phone_change" in u.traits:
                m.labels.entity("user", u.uid, "account_integrity", when(), "appeal", None, label=0)
