"""Account holders: identities, households, devices, networks, payment instruments, habits.

Most accounts were opened months before the window; a few sign up inside it. Households share an
address (each member spelling it their own way), a home IP and sometimes a tablet. Attack code
builds its accounts with the same :func:`make_user`, so fakes are made of the same parts.

>>> from rampart.simulate.config import world_config
>>> from rampart.simulate.ids import stream
>>> pop = build_population(world_config("tiny", seed=1), stream(1, "pop"))
>>> len(pop.users)
300
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from rampart.simulate.clock import DAY, parse_ts
from rampart.simulate.config import WorldConfig
from rampart.simulate.devices import Device, phone_device, web_device
from rampart.simulate.ids import IdFactory
from rampart.simulate.network import Network
from rampart.simulate.pii import (
    Place,
    email_for,
    geo_for,
    home_place,
    person_name,
    phone_for,
    render_address,
)
from rampart.simulate.places import COUNTRIES, FOREIGN_CITIES

FAR_FUTURE = 1 << 62
TRAVEL_TO = ("JP", "KR", "AU", "TW", "HK", "SG", "TH", "MY")


@dataclass(slots=True, eq=False)
class User:
    uid: str
    country: str
    currency: str
    tz: int
    created_ms: int
    name: str
    email: str
    phone: str
    place: Place
    address: dict[str, str]
    geo: dict[str, Any]
    devices: list[Device]
    carrier: int
    home_ip: str | None
    activity: float
    buy_bias: float = 1.0
    office_ip: str | None = None
    campus_ips: list[str] | None = None
    device_switch_ms: int = FAR_FUTURE  # when devices[1] (a new phone) replaces devices[0]
    instruments: list[dict[str, Any]] = field(default_factory=list)
    affinity: tuple[int, ...] = ()
    traits: set[str] = field(default_factory=set)
    trip: tuple[int, int, str] | None = None
    trip_geo: dict[str, Any] | None = None
    shared_device: Device | None = None
    is_seller: bool = False
    coupons: list[Any] = field(default_factory=list)  # claimed, unused marketing coupons
    orders_placed: int = 0
    last_ip: str = ""

    def device_at(self, t: int) -> Device:
        if t >= self.device_switch_ms and len(self.devices) > 1:
            return self.devices[1]
        return self.devices[0]


@dataclass
class Population:
    users: list[User]
    network: Network
    households: list[list[User]]
    by_id: dict[str, User]


def make_instrument(rng: random.Random, ids: IdFactory, country: str) -> dict[str, Any]:
    """A payment object; cash on delivery still dominates in ID, PH and VN."""
    r = rng.random()
    cod = {"ID": 0.3, "PH": 0.35, "VN": 0.3, "TH": 0.15}.get(country, 0.03)
    if r < cod:
        return {"method": "cod"}
    if r < cod + 0.25:
        return {"method": "wallet", "instrument_id": ids.wallet()}
    if r < cod + 0.32:
        return {"method": "bank", "instrument_id": ids.instrument()}
    return card(rng, ids, rng.choice(COUNTRIES[country].bins), country)


def card(rng: random.Random, ids: IdFactory, bin_: str, issuer: str) -> dict[str, Any]:
    return {
        "method": "card",
        "instrument_id": ids.instrument(),
        "bin": bin_,
        "issuer_country": issuer,
    }


def make_user(
    rng: random.Random,
    ids: IdFactory,
    network: Network,
    country: str,
    created_ms: int,
    *,
    place: Place | None = None,
    variant: int = 0,
    home_ip: str | None = None,
    devices: list[Device] | None = None,
    email: str | None = None,
    phone: str | None = None,
    name: tuple[str, str, str] | None = None,
    activity: float = 0.5,
) -> User:
    spec = COUNTRIES[country]
    full, given, family = name or person_name(rng, country)
    place = place or home_place(rng, country)
    devices = devices or [phone_device(rng, ids, country)]
    n_instruments = rng.choices((1, 2, 3), (60, 30, 10))[0]
    return User(
        uid=ids.user(),
        country=country,
        currency=spec.currency,
        tz=spec.tz_hours,
        created_ms=created_ms,
        name=full,
        email=email or email_for(rng, given, family, country),
        phone=phone or phone_for(rng, country),
        place=place,
        address=render_address(place, full, variant),
        geo=geo_for(rng, place.city, country),
        devices=devices,
        carrier=rng.randrange(len(spec.mobile)),
        home_ip=home_ip if home_ip is not None else network.broadband_ip(rng, country),
        activity=activity,
        instruments=[make_instrument(rng, ids, country) for _ in range(n_instruments)],
        affinity=tuple(rng.sample(range(14), 3)),
    )


def _created(rng: random.Random, start: int) -> int:
    # account age: most accounts are one to three years old
    age_days = min(6 * 365, rng.expovariate(1 / 420) + 3)
    return start - int(age_days * DAY) - rng.randrange(DAY)


def build_population(cfg: WorldConfig, rng: random.Random) -> Population:
    start = parse_ts(cfg.start)
    end = start + cfg.days * DAY
    ids = IdFactory(rng, set())
    codes, weights = zip(*cfg.countries, strict=True)
    counts: dict[str, int] = dict.fromkeys(codes, 0)
    plan = rng.choices(codes, weights, k=cfg.n_users)
    for c in plan:
        counts[c] += 1
    network = Network(
        rng,
        {c: n for c, n in counts.items() if n},
        office_count=max(2, cfg.n_users // 250),
        campus_count=max(1, cfg.n_users // 2500),
    )
    users: list[User] = []
    households: list[list[User]] = []
    i = 0
    while i < cfg.n_users:
        country = plan[i]
        size = 1
        if rng.random() < cfg.household_share / 2.2:
            size = rng.choices((2, 3, 4, 5), (50, 28, 15, 7))[0]
        size = min(size, cfg.n_users - i)
        place = home_place(rng, country)
        home_ip = network.broadband_ip(rng, country)
        family = person_name(rng, country)[2]
        members: list[User] = []
        for k in range(size):
            full, given, _ = person_name(rng, country)
            if family and size > 1 and rng.random() < 0.6:
                full = (
                    full.replace(full.split(" ")[0], family, 1)
                    if country in ("SG", "MY", "VN")
                    else full
                )
            act = cfg.activity * math.exp(rng.gauss(0, 1.0) - 0.5)
            devices = [phone_device(rng, ids, country)]
            if rng.random() < 0.3:
                devices.append(web_device(rng, ids))
            u = make_user(
                rng,
                ids,
                network,
                country,
                _created(rng, start),
                place=place,
                variant=rng.randrange(12) if k else 0,
                home_ip=home_ip,
                devices=devices,
                name=(full, given, family),
                activity=act,
            )
            members.append(u)
        if size > 1 and rng.random() < cfg.shared_device_share:
            shared = web_device(rng, ids) if rng.random() < 0.5 else phone_device(rng, ids, country)
            for u in members:
                u.shared_device = shared
                u.traits.add("household_device")
        households.append(members)
        users.extend(members)
        i += size
    _assign_traits(cfg, rng, ids, network, users, start, end)
    return Population(users, network, households, {u.uid: u for u in users})


def _assign_traits(
    cfg: WorldConfig,
    rng: random.Random,
    ids: IdFactory,
    network: Network,
    users: list[User],
    start: int,
    end: int,
) -> None:
    span = end - start
    order = list(users)
    rng.shuffle(order)
    n = len(users)
    cursor = 0

    def take(share: float, floor: int = 1) -> list[User]:
        nonlocal cursor
        k = max(floor, round(n * share))
        picked = order[cursor : cursor + k]
        cursor += k
        return picked

    for u in take(cfg.new_signup_share, 3):
        # signs up inside the window (leaving room for a first session)
        u.created_ms = start + int(rng.random() * 0.85 * span)
        u.traits.add("new_signup")
        u.activity = max(u.activity, cfg.activity * 1.5)
    for u in take(cfg.traveller_share, 2):
        t0 = start + int(rng.random() * 0.5 * span)
        dest = rng.choice([c for c in TRAVEL_TO if c != u.country])
        u.trip = (t0, t0 + int(rng.uniform(0.3, 1.0) * span), dest)
        u.traits.add("traveller")
    for u in take(cfg.phone_change_share, 2):
        u.devices.insert(1, phone_device(rng, ids, u.country))
        u.device_switch_ms = start + int(rng.uniform(0.1, 0.8) * span)
        u.traits.add("phone_change")
    for u in take(0.025, 2):
        u.traits.add("vpn")  # privacy-minded users exit from hosting ranges, like bots do
    for u in take(0.02, 1):
        # rooted phones and players running the app on an emulator: real people, odd devices
        emulator = rng.random() < 0.2
        u.devices[0] = phone_device(rng, ids, u.country, ios=False, emulator=emulator, rooted=True)
        u.traits.add("emulator_user" if emulator else "rooted")
    for u in take(cfg.heavy_buyer_share, 2):
        u.activity = cfg.activity * rng.uniform(4, 8)
        u.buy_bias = rng.uniform(5, 9)
        u.instruments.append(make_instrument(rng, ids, u.country))
        u.traits.add("heavy_buyer")
    for u in order[cursor:]:
        if rng.random() < cfg.office_share:
            offices = [ip for c, ip in network.offices if c == u.country]
            if offices:
                u.office_ip = rng.choice(offices)
                u.traits.add("office")
        elif rng.random() < cfg.campus_share / (1 - cfg.office_share):
            campuses = [ips for c, ips in network.campuses if c == u.country]
            if campuses:
                u.campus_ips = rng.choice(campuses)
                u.traits.add("campus")
    for u in users:
        if u.trip:
            dest = u.trip[2]
            city = FOREIGN_CITIES.get(dest) or COUNTRIES[dest].cities[0]
            u.trip_geo = geo_for(rng, city, dest)
