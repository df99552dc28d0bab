"""Where traffic comes from: carrier NAT pools, home broadband, offices, campuses, hosting.

Mobile carriers put hundreds of subscribers behind each public IPv4 address (CGNAT), which is
the first trap for per-IP velocity rules; offices and campuses do the same on weekdays.

>>> import random
>>> net = Network(random.Random(1), {"SG": 1000}, office_count=3, campus_count=1)
>>> len(net.nat_pool("SG", 0)) >= 2
True
>>> net.datacenter_ip(random.Random(2)).count(".")
3
"""

from __future__ import annotations

import random

from rampart.simulate.places import COUNTRIES, DATACENTER, DATACENTER_V6, FOREIGN_WIFI

_DATACENTER_SET = frozenset(DATACENTER)
# where IP geolocation places the hosting ranges above: the providers' Singapore regions
DATACENTER_GEO: dict[str, object] = {
    "country": "SG", "region": "Central", "city": "Singapore", "lat": 1.2897, "lon": 103.8501,
}  # fmt: skip


def ip_in(rng: random.Random, prefix16: str) -> str:
    return f"{prefix16}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6_in(rng: random.Random, prefix32: str) -> str:
    groups = ":".join(f"{rng.getrandbits(16):x}" for _ in range(6))
    return f"{prefix32}:{groups}"


class Network:
    """Fixed address pools for the world; sessions draw from them."""

    def __init__(
        self,
        rng: random.Random,
        users_per_country: dict[str, int],
        *,
        office_count: int,
        campus_count: int,
    ) -> None:
        self.rng = rng
        self._nat: dict[tuple[str, int], list[str]] = {}
        for code, n_users in sorted(users_per_country.items()):
            carriers = COUNTRIES[code].mobile
            for k, (_, prefixes, _) in enumerate(carriers):
                # about 150 subscribers' sessions per NAT address at any time
                size = max(2, int(n_users * 0.7 / len(carriers) / 150))
                self._nat[(code, k)] = [ip_in(rng, rng.choice(prefixes)) for _ in range(size)]
        countries = sorted(users_per_country)
        # commercial VPN exits live in hosting ranges and are shared by all their customers
        self.vpn_exits = [self.datacenter_ip(rng) for _ in range(6)]
        self.offices = [
            (c, ip_in(rng, rng.choice(COUNTRIES[c].broadband)))
            for c in rng.choices(countries, k=office_count)
        ]
        self.campuses = [
            (c, [ip_in(rng, rng.choice(COUNTRIES[c].broadband)) for _ in range(2)])
            for c in rng.choices(countries, k=campus_count)
        ]

    def nat_pool(self, country: str, carrier: int) -> list[str]:
        return self._nat[(country, carrier)]

    def all_nat_ips(self) -> list[str]:
        return [ip for key in sorted(self._nat) for ip in self._nat[key]]

    @staticmethod
    def broadband_ip(rng: random.Random, country: str) -> str:
        return ip_in(rng, rng.choice(COUNTRIES[country].broadband))

    @staticmethod
    def carrier_v6_prefix(country: str, carrier: int) -> str:
        return COUNTRIES[country].mobile[carrier][2]

    @staticmethod
    def foreign_wifi_ip(rng: random.Random, country: str) -> str:
        return ip_in(rng, rng.choice(FOREIGN_WIFI[country]))

    @staticmethod
    def datacenter_ip(rng: random.Random, v6_share: float = 0.0) -> str:
        if v6_share and rng.random() < v6_share:
            return ipv6_in(rng, rng.choice(DATACENTER_V6))
        return ip_in(rng, rng.choice(DATACENTER))

    @staticmethod
    def is_datacenter(ip: str) -> bool:
        if ":" in ip:
            return any(ip.startswith(p + ":") for p in DATACENTER_V6)
        return ip.rsplit(".", 2)[0] in _DATACENTER_SET

    @staticmethod
    def datacenter_subnet(rng: random.Random) -> str:
        """A /24 in a hosting range, as ``a.b.c``: credential stuffers rotate inside one."""
        return f"{rng.choice(DATACENTER)}.{rng.randint(0, 255)}"

    @staticmethod
    def residential_proxy_ip(rng: random.Random, country: str) -> str:
        """Proxy networks resell home and mobile subscribers' addresses: they look legitimate."""
        spec = COUNTRIES[country]
        if rng.random() < 0.5:
            return ip_in(rng, rng.choice(spec.broadband))
        return ip_in(rng, rng.choice(rng.choice(spec.mobile)[1]))
