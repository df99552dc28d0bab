"""The shared world every generator writes into: population, catalog, emitter, labels.

:meth:`Market.actor` decides where a person is acting from at a moment: home wifi, the carrier's
NAT, the office on weekdays, a hotel abroad during a trip. This is what makes shared IPs and
country changes common among perfectly legitimate users.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from rampart.simulate.catalog import Catalog
from rampart.simulate.clock import HOUR, weekday
from rampart.simulate.config import WorldConfig
from rampart.simulate.devices import Device
from rampart.simulate.emit import Actor, Emitter, Labels
from rampart.simulate.ids import IdFactory
from rampart.simulate.network import Network, ipv6_in
from rampart.simulate.places import COUNTRIES, FOREIGN_WIFI
from rampart.simulate.population import Population, User


@dataclass
class Market:
    cfg: WorldConfig
    pop: Population
    cat: Catalog
    em: Emitter
    labels: Labels
    start: int
    end: int
    conversations: dict[tuple[str, str], str] = field(default_factory=dict)
    extra_users: list[User] = field(default_factory=list)  # accounts made by attack code

    @property
    def net(self) -> Network:
        return self.pop.network

    def conversation(self, ids: IdFactory, a: str, b: str) -> str:
        key = (a, b) if a < b else (b, a)
        cv = self.conversations.get(key)
        if cv is None:
            cv = self.conversations[key] = ids.conversation()
        return cv

    def ip_for(
        self, rng: random.Random, user: User, device: Device, t: int
    ) -> tuple[str, dict[str, object]]:
        """Where this person is online from at ``t`` (their IP and the geo the app reports)."""
        trip = user.trip
        if trip is not None and trip[0] <= t < trip[1] and user.trip_geo is not None:
            dest = trip[2]
            if rng.random() < 0.55:
                if dest in FOREIGN_WIFI:
                    return self.net.foreign_wifi_ip(rng, dest), user.trip_geo
                return self.net.broadband_ip(rng, dest), user.trip_geo
            # data roaming is home-routed: the home carrier's address, a foreign location
            return rng.choice(self.net.nat_pool(user.country, user.carrier)), user.trip_geo
        if "vpn" in user.traits and rng.random() < 0.6:
            return rng.choice(self.net.vpn_exits), user.geo
        local = ((t // HOUR) + user.tz) % 24
        workday = weekday(t + user.tz * HOUR) < 5
        if workday and user.office_ip and 9 <= local < 18 and rng.random() < 0.7:
            return user.office_ip, user.geo
        if workday and user.campus_ips and 8 <= local < 17 and rng.random() < 0.6:
            return rng.choice(user.campus_ips), user.geo
        if user.home_ip and (device.platform == "web" or rng.random() < 0.45):
            return user.home_ip, user.geo
        v6 = COUNTRIES[user.country].mobile[user.carrier][2]
        if v6 and rng.random() < 0.5:
            return ipv6_in(rng, v6), user.geo
        return rng.choice(self.net.nat_pool(user.country, user.carrier)), user.geo

    def actor(
        self,
        rng: random.Random,
        ids: IdFactory,
        user: User,
        t: int,
        device: Device | None = None,
        ip: str | None = None,
    ) -> Actor:
        dev = device or user.device_at(t)
        addr, geo = self.ip_for(rng, user, dev, t)
        return Actor(user.uid, ids.session(), dev.obj, ip or addr, geo)
