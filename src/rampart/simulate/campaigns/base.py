"""What every attack tactic shares: its campaign record, labelling, attacker infrastructure
(hosting or residential-proxy addresses, farm devices, fake identities) and camouflage.

Labels follow what a risk team would learn: events are labelled in their area, entities are
labelled in each area they abused, each at the time the abuse became known (reports within
hours, reviews within days, chargebacks weeks later).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from rampart.simulate.behaviour import session
from rampart.simulate.clock import DAY, HOUR, MIN
from rampart.simulate.config import AttackKnobs
from rampart.simulate.devices import Device, phone_device, web_device
from rampart.simulate.emit import Event
from rampart.simulate.ids import IdFactory, stream
from rampart.simulate.market import Market
from rampart.simulate.network import DATACENTER_GEO
from rampart.simulate.pii import (
    Place,
    ascii_fold,
    email_for,
    email_local,
    person_name,
    phone_for,
)
from rampart.simulate.population import User, make_user

DISPOSABLE = (
    "mailinator.com",
    "yopmail.com",
    "guerrillamail.com",
    "sharklasers.com",
    "maildrop.cc",
    "getnada.com",
    "tmpmail.org",
    "moakt.com",
    "dropmail.me",
)
# (low, high) hours until a label of this source arrives
DELAY_H: dict[str, tuple[float, float]] = {
    "report": (1.0, 30.0),
    "review": (18.0, 120.0),
    "chargeback": (7 * 24.0, 21 * 24.0),
    "appeal": (48.0, 168.0),
    "simulation": (0.0, 0.0),
}


@dataclass
class Campaign:
    id: str
    tactic: str
    areas: list[str]
    sources: dict[str, str]
    knobs: dict[str, Any]
    touched: dict[tuple[str, str, str], int] = field(default_factory=dict)
    events: int = 0
    first_ts: int = 1 << 62
    last_ts: int = 0

    def entity_ids(self) -> dict[str, list[str]]:
        out: dict[str, set[str]] = {}
        for etype, eid, _ in self.touched:
            out.setdefault(etype, set()).add(eid)
        return {k: sorted(v) for k, v in sorted(out.items())}


class Kit:
    """Shared tools; one per world. Each tactic opens a :class:`Campaign` with its own streams."""

    def __init__(self, m: Market, taken: set[str]) -> None:
        self.m = m
        self.cfg = m.cfg
        self.k: AttackKnobs = m.cfg.attack
        self.taken = taken
        self.campaigns: list[Campaign] = []
        self.pool: list[User] = []  # fake accounts, fresh and aged, for the tactics that use them
        self.span = m.end - m.start

    # -- campaign records ---------------------------------------------------------------------
    def open(
        self, tactic: str, sources: dict[str, str], knobs: dict[str, Any]
    ) -> tuple[Campaign, random.Random, IdFactory]:
        n = len(self.campaigns) + 1
        first_area = next(iter(sources))
        cid = f"C{n:02d}-{first_area}-{tactic}"
        c = Campaign(cid, tactic, list(sources), sources, knobs)
        self.campaigns.append(c)
        rng = stream(self.cfg.seed, f"campaign:{tactic}")
        return c, rng, IdFactory(stream(self.cfg.seed, f"campaign-ids:{tactic}"), self.taken)

    def size(self, share: float, floor: int) -> int:
        """Entities in a tactic: a share of the user base, never below a floor (tiny worlds)."""
        return max(floor, round(self.cfg.n_users * share * self.k.scale))

    def at(self, rng: random.Random, lo: float, hi: float) -> int:
        """A moment at a fraction of the window."""
        return self.m.start + int(self.span * rng.uniform(lo, hi))

    def delay(self, rng: random.Random, source: str) -> int:
        lo, hi = DELAY_H[source]
        return int(rng.uniform(lo, hi) * HOUR)

    def touch(self, c: Campaign, etype: str, eid: str, area: str, t: int) -> None:
        key = (etype, eid, area)
        old = c.touched.get(key)
        if old is None or t < old:
            c.touched[key] = t

    def abuse(
        self,
        c: Campaign,
        rng: random.Random,
        ev: Event | None,
        area: str,
        *,
        user: bool = True,
        device: bool = True,
        ip: bool = True,
    ) -> Event | None:
        """Label an abusive event and note the entities behind it."""
        if ev is None:
            return None
        t = ev["ts"]
        self.m.labels.event(ev, area, c.id, self.delay(rng, c.sources[area]), c.sources[area])
        c.events += 1
        c.first_ts = min(c.first_ts, t)
        c.last_ts = max(c.last_ts, t)
        if user and "user_id" in ev:
            self.touch(c, "user", ev["user_id"], area, t)
        dev = ev.get("device")
        if device and dev is not None and "id" in dev:
            self.touch(c, "device", dev["id"], area, t)
        if ip and "ip" in ev:
            self.touch(c, "ip", ev["ip"], area, t)
        return ev

    def finish(self, c: Campaign) -> None:
        rng = stream(self.cfg.seed, f"labels:{c.id}")
        for (etype, eid, area), t in sorted(c.touched.items()):
            source = c.sources[area]
            self.m.labels.entity(etype, eid, area, t + self.delay(rng, source), source, c.id)

    # -- attacker infrastructure ----------------------------------------------------------------
    def attacker_ip(self, rng: random.Random, country: str, subnet: str | None = None) -> str:
        if rng.random() < self.k.datacenter_share:
            if subnet is not None:
                return f"{subnet}.{rng.randint(1, 254)}"
            return self.m.net.datacenter_ip(rng, v6_share=0.08)
        return self.m.net.residential_proxy_ip(rng, country)

    def geo_of(self, ip: str, fallback: dict[str, Any]) -> dict[str, Any]:
        """What the marketplace's IP geolocation says: hosting ranges sit in Singapore."""
        return dict(DATACENTER_GEO) if self.m.net.is_datacenter(ip) else fallback

    def farm_phone(self, rng: random.Random, ids: IdFactory, country: str) -> Device:
        emu = rng.random() < 0.5 + 0.5 * self.k.emulator_share
        return phone_device(
            rng,
            ids,
            country,
            ios=False,
            emulator=emu,
            reports_emulator=rng.random() < self.k.emulator_share,
            rooted=emu and rng.random() < 0.6,
        )

    def bot_browser(self, rng: random.Random, ids: IdFactory) -> Device:
        return web_device(
            rng, ids, headless=True, reports_headless=rng.random() < self.k.headless_share
        )

    def fake_email(
        self, rng: random.Random, given: str, family: str, country: str, seq: int
    ) -> str:
        r = rng.random()
        if r < self.k.disposable_email_share:
            return f"{email_local(rng, given, family)}@{rng.choice(DISPOSABLE)}"
        if r < self.k.disposable_email_share + self.k.patterned_email_share:
            base = (
                ascii_fold(given + family).lower().replace(" ", "").replace(".", "")[:10] or "user"
            )
            style = seq % 3
            if style == 0:
                return f"{base}{1000 + seq * 7 % 900}@gmail.com"
            if style == 1:
                cut = 1 + seq % max(1, len(base) - 1)
                return f"{base[:cut]}.{base[cut:]}@gmail.com"
            return f"{base}+{seq}@gmail.com"
        return email_for(rng, given, family, country)

    def fake_user(
        self,
        rng: random.Random,
        ids: IdFactory,
        country: str,
        created_ms: int,
        devices: list[Device],
        home_ip: str,
        seq: int,
        *,
        place: Place | None = None,
        variant: int = 0,
    ) -> User:
        name = person_name(rng, country)
        u = make_user(
            rng,
            ids,
            self.m.net,
            country,
            created_ms,
            place=place,
            variant=variant,
            home_ip=home_ip,
            devices=devices,
            email=self.fake_email(rng, name[1], name[2], country, seq),
            phone=phone_for(rng, country),
            name=name,
            activity=self.k.camouflage,
        )
        self.m.extra_users.append(u)
        return u

    def camouflage(self, rng: random.Random, ids: IdFactory, user: User, t0: int, t1: int) -> None:
        """Ordinary sessions for an attacker account, unlabelled: it looks like anyone else."""
        rate = self.k.camouflage / DAY
        if rate <= 0:
            return
        t = max(t0, self.m.start) + int(rng.expovariate(rate))
        while t < min(t1, self.m.end):
            local = ((t // HOUR) + user.tz) % 24
            if 1 <= local < 7 and rng.random() < 0.8:  # even farm operators sleep, mostly
                t += 5 * HOUR
                continue
            session(self.m, rng, ids, user, t, views=rng.randint(2, 12), buy=0.6, login_p=0.05)
            t += int(rng.expovariate(rate)) + 10 * MIN

    def pool_take(
        self, rng: random.Random, n: int, *, fresh: bool | None = None, before: int | None = None
    ) -> list[User]:
        """Accounts from the fake pool (shared across tactics, as real farms rent them out)."""
        cands = [
            u
            for u in self.pool
            if (fresh is None or ("fresh" in u.traits) == fresh)
            and (before is None or u.created_ms < before)
        ]
        rng.shuffle(cands)
        return cands[:n]
