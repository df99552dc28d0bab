"""Countries of the marketplace: currency, time zone, cities, networks, carriers, card issuers.

Network prefixes are plausible operator ranges, used as /16 blocks; the point is that mobile
carriers, home broadband, hosting providers and crawlers live in different blocks, as they do.

>>> COUNTRIES["SG"].currency, COUNTRIES["VN"].tz_hours
('SGD', 7)
>>> round_price(12.345, "SGD"), round_price(123456.0, "IDR"), round_price(5.1, "THB")
(12.9, 123500.0, 9.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    region: str
    lat: float
    lon: float
    postcode: str  # pattern: '#' is a random digit


@dataclass(frozen=True)
class Country:
    code: str
    currency: str
    tz_hours: int
    fx: float  # local currency units per USD
    cities: tuple[City, ...]
    mobile: tuple[tuple[str, tuple[str, ...], str], ...]  # carrier, IPv4 /16s, IPv6 /32 or ""
    broadband: tuple[str, ...]  # home ISP /16s
    couriers: tuple[tuple[str, str, int, str], ...]  # name, tracking prefix, digits, suffix
    bins: tuple[str, ...]  # card BINs of local issuers
    ios_share: float


# fmt: off
COUNTRIES: dict[str, Country] = {
    "SG": Country(
        "SG", "SGD", 8, 1.34,
        (
            City("Singapore", "Central", 1.2897, 103.8501, "0#####"),
            City("Singapore", "North-East", 1.3691, 103.8454, "56####"),
            City("Singapore", "West", 1.3404, 103.7090, "64####"),
            City("Singapore", "East", 1.3526, 103.9446, "52####"),
            City("Singapore", "North", 1.4382, 103.7890, "73####"),
        ),
        (("Singtel", ("118.200", "116.14"), "2406:3003"), ("StarHub", ("101.127",), ""),
         ("M1", ("111.65",), "")),
        ("116.86", "119.74", "58.182", "220.255"),
        (("Ninja Van", "NVSGSHP", 10, ""), ("SingPost", "XZ", 9, "SG"),
         ("J&T Express", "JTSG", 12, "")),
        ("455633", "457821", "520134", "547356", "414709", "525678"),
        0.55,
    ),
    "MY": Country(
        "MY", "MYR", 8, 4.45,
        (
            City("Kuala Lumpur", "Wilayah Persekutuan", 3.1390, 101.6869, "5####"),
            City("Petaling Jaya", "Selangor", 3.1073, 101.6067, "47###"),
            City("Shah Alam", "Selangor", 3.0738, 101.5183, "40###"),
            City("Johor Bahru", "Johor", 1.4927, 103.7414, "80###"),
            City("George Town", "Pulau Pinang", 5.4141, 100.3288, "10###"),
        ),
        (("Maxis", ("175.136",), ""), ("CelcomDigi", ("115.164", "113.210"), "2001:e68"),
         ("U Mobile", ("60.54",), "")),
        ("60.50", "175.143", "210.186", "161.142"),
        (("Pos Laju", "EP", 9, "MY"), ("J&T Express", "63", 10, ""), ("Ninja Van", "NVMY", 11, "")),
        ("421478", "432125", "540867", "552183", "405676"),
        0.3,
    ),
    "ID": Country(
        "ID", "IDR", 7, 15900.0,
        (
            City("Jakarta Selatan", "DKI Jakarta", -6.2615, 106.8106, "12###"),
            City("Jakarta Barat", "DKI Jakarta", -6.1674, 106.7637, "11###"),
            City("Bandung", "Jawa Barat", -6.9175, 107.6191, "40###"),
            City("Surabaya", "Jawa Timur", -7.2575, 112.7521, "60###"),
            City("Medan", "Sumatera Utara", 3.5952, 98.6722, "20###"),
            City("Bekasi", "Jawa Barat", -6.2383, 106.9756, "17###"),
        ),
        (("Telkomsel", ("114.124", "114.125"), "2001:448a"), ("Indosat", ("114.5", "114.4"), ""),
         ("XL Axiata", ("112.215",), "2400:9800")),
        ("36.68", "180.252", "125.160", "103.47"),
        (("JNE", "CGK", 13, ""), ("J&T Express", "JP", 10, ""), ("SiCepat", "0040", 8, "")),
        ("437527", "461700", "520191", "486496", "542640"),
        0.12,
    ),
    "TH": Country(
        "TH", "THB", 7, 36.0,
        (
            City("Bangkok", "Bangkok", 13.7563, 100.5018, "10###"),
            City("Nonthaburi", "Nonthaburi", 13.8591, 100.5217, "11###"),
            City("Chiang Mai", "Chiang Mai", 18.7883, 98.9853, "50###"),
            City("Khon Kaen", "Khon Kaen", 16.4419, 102.8360, "40###"),
            City("Chon Buri", "Chon Buri", 13.3611, 100.9847, "20###"),
        ),
        (("AIS", ("49.228", "49.229"), "2001:44c8"), ("TrueMove H", ("223.24",), ""),
         ("dtac", ("1.46",), "")),
        ("171.96", "180.183", "184.22", "58.8"),
        (("Kerry Express", "KERDO", 10, ""), ("Flash Express", "TH", 12, ""),
         ("Thailand Post", "EF", 9, "TH")),
        ("409651", "451453", "524169", "436418", "552131"),
        0.25,
    ),
    "PH": Country(
        "PH", "PHP", 8, 56.0,
        (
            City("Quezon City", "Metro Manila", 14.6760, 121.0437, "11##"),
            City("Makati", "Metro Manila", 14.5547, 121.0244, "12##"),
            City("Cebu City", "Cebu", 10.3157, 123.8854, "60##"),
            City("Davao City", "Davao del Sur", 7.1907, 125.4553, "80##"),
            City("Pasig", "Metro Manila", 14.5764, 121.0851, "16##"),
        ),
        (("Globe", ("112.198", "124.106"), "2001:4450"), ("Smart", ("112.207", "49.145"), ""),
         ("DITO", ("131.226",), "")),
        ("112.200", "180.190", "136.158", "120.28"),
        (("J&T Express", "7", 11, ""), ("LBC", "1", 11, ""), ("Flash Express", "P", 12, "")),
        ("421651", "455896", "524212", "410394"),
        0.22,
    ),
    "VN": Country(
        "VN", "VND", 7, 24500.0,
        (
            City("Hồ Chí Minh", "Hồ Chí Minh", 10.7769, 106.7009, "70####"),
            City("Hà Nội", "Hà Nội", 21.0278, 105.8342, "10####"),
            City("Đà Nẵng", "Đà Nẵng", 16.0544, 108.2022, "55####"),
            City("Hải Phòng", "Hải Phòng", 20.8449, 106.6881, "18####"),
            City("Cần Thơ", "Cần Thơ", 10.0452, 105.7469, "94####"),
        ),
        (("Viettel", ("27.64", "27.65"), "2402:800"), ("Vinaphone", ("113.185",), ""),
         ("Mobifone", ("14.191",), "")),
        ("118.69", "113.161", "14.169", "171.224"),
        (("Giao Hàng Nhanh", "GHN", 9, ""), ("GHTK", "S", 9, ""), ("J&T Express", "85", 10, "")),
        ("970436", "422149", "512341", "970415", "433582"),
        0.3,
    ),
}
# fmt: on

# Abroad, for travellers and for attackers' issuers and exits.
FOREIGN_CITIES: dict[str, City] = {
    "JP": City("Tokyo", "Tokyo", 35.6762, 139.6503, "1##-####"),
    "KR": City("Seoul", "Seoul", 37.5665, 126.9780, "0####"),
    "AU": City("Sydney", "New South Wales", -33.8688, 151.2093, "2###"),
    "TW": City("Taipei", "Taipei", 25.0330, 121.5654, "1##"),
    "HK": City("Hong Kong", "Hong Kong", 22.3193, 114.1694, "999077"),
}
FOREIGN_WIFI: dict[str, tuple[str, ...]] = {
    "JP": ("126.0", "153.246"),
    "KR": ("211.234",),
    "AU": ("1.128", "101.160"),
    "TW": ("1.160", "114.32"),
    "HK": ("42.2", "219.76"),
}
# Foreign card issuers: stolen cards from data breaches are mostly issued abroad.
FOREIGN_BINS: dict[str, tuple[str, ...]] = {
    "US": ("414720", "426684", "517805", "546616", "440066", "371449"),
    "GB": ("465858", "492181", "535522"),
    "AU": ("456469", "516361"),
    "CA": ("450644", "520082"),
    "FR": ("497010", "513691"),
}
# Hosting providers with South-East Asian regions.
DATACENTER: tuple[str, ...] = (
    "13.228", "13.229", "18.139", "52.76", "54.169", "54.251",  # cloud, ap-southeast
    "128.199", "159.89", "139.59", "167.71",  # VPS, Singapore
    "45.76", "45.77", "139.180", "51.79", "139.162", "8.219", "47.88", "149.129", "43.156",
)  # fmt: skip
DATACENTER_V6: tuple[str, ...] = ("2400:6180", "2406:da18", "2401:c080")
CRAWLERS: tuple[tuple[str, str, str], ...] = (
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "66.249", "64-95"),
    (
        "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/122.0.6261.94 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
        "+http://www.google.com/bot.html)",
        "66.249",
        "64-95",
    ),
    ("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "40.77", "167-167"),
)

_TICK: dict[str, float] = {"SGD": 0.1, "MYR": 0.1, "THB": 1.0, "PHP": 1.0, "IDR": 500, "VND": 1000}


def round_price(value: float, currency: str) -> float:
    """Local shelf price: SGD/MYR end in .90, THB/PHP whole units ending in 9, IDR/VND round."""
    if currency in ("SGD", "MYR"):
        return float(max(0.9, math.floor(value) + 0.9))
    if currency in ("THB", "PHP"):
        return float(max(9, int(value // 10) * 10 + 9))
    tick = _TICK[currency]
    return float(max(tick, round(value / tick) * tick))


def money(value: float, currency: str) -> float:
    """Round a computed amount (total, discount) the way the currency is quoted."""
    if currency in ("IDR", "VND"):
        return float(round(value))
    return round(value, 2)
