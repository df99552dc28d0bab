"""Shops, items, prices and promotions.

Item ids are numeric and grow with listing time, with gaps where listings were deleted: an
enumerating scraper walking ``id+1`` hits those gaps as 404s. Popularity is Zipf-like.

>>> from rampart.simulate.config import world_config
>>> from rampart.simulate.ids import stream
>>> from rampart.simulate.population import build_population
>>> cfg = world_config("tiny", seed=1)
>>> cat = build_catalog(cfg, build_population(cfg, stream(1, "p")), stream(1, "c"))
>>> len(cat.items) > 100 and cat.items[0].item_id.isdigit()
True
"""

from __future__ import annotations

import bisect
import math
import random
from dataclasses import dataclass, field

from rampart.simulate.clock import DAY, HOUR, parse_ts
from rampart.simulate.config import WorldConfig
from rampart.simulate.ids import IdFactory
from rampart.simulate.places import COUNTRIES, round_price
from rampart.simulate.population import Population, User

# name, median USD price, price spread (log sd), typical weight in grams
CATEGORIES: tuple[tuple[str, float, float, int], ...] = (
    ("electronics", 60.0, 1.0, 450),
    ("mobile_accessories", 7.0, 0.7, 90),
    ("womens_fashion", 14.0, 0.6, 320),
    ("mens_fashion", 17.0, 0.6, 380),
    ("beauty", 11.0, 0.7, 160),
    ("home_living", 18.0, 0.9, 950),
    ("groceries", 6.0, 0.6, 700),
    ("toys_games", 14.0, 0.8, 420),
    ("sports_outdoors", 24.0, 0.9, 800),
    ("health", 12.0, 0.6, 210),
    ("mother_baby", 17.0, 0.7, 650),
    ("automotive", 19.0, 1.0, 700),
    ("books", 10.0, 0.5, 380),
    ("pets", 11.0, 0.7, 1400),
    ("digital_goods", 6.0, 0.6, 0),  # top-ups and e-vouchers: nothing ships
)
PHYSICAL = len(CATEGORIES) - 1
DIGITAL = PHYSICAL
SEARCH_TERMS: tuple[tuple[str, ...], ...] = (
    ("wireless earbuds", "power bank 20000mah", "smart watch", "tws bluetooth"),
    ("phone case", "iphone 15 case", "tempered glass", "usb c cable"),
    ("dress", "baju kurung", "blouse", "midi skirt", "abaya"),
    ("polo shirt", "sneakers men", "kemeja pria", "cargo pants"),
    ("sunscreen", "skintific", "lip tint", "serum vitamin c"),
    ("storage box", "bedsheet", "air fryer", "rak sepatu"),
    ("milo", "instant noodle", "kopi", "beras 5kg"),
    ("lego", "rc car", "plushie", "puzzle"),
    ("yoga mat", "dumbbell", "jersey bola", "running shoes"),
    ("vitamin c", "mask kn95", "minyak kayu putih"),
    ("diapers", "baby wipes", "susu formula", "stroller"),
    ("car charger", "dashcam", "helmet", "motor oil"),
    ("novel", "komik", "notebook a5", "textbook"),
    ("cat food", "cat litter", "dog leash"),
    ("pulsa", "top up", "game voucher", "e-wallet reload"),
)


@dataclass(slots=True, eq=False)
class Item:
    item_id: str
    seller: User
    cat: int
    price: float
    list_price: float
    weight_g: int
    max_qty: int = 10
    special: str = ""

    @property
    def category(self) -> str:
        return CATEGORIES[self.cat][0]


@dataclass(frozen=True)
class Coupon:
    coupon_id: str
    campaign_id: str
    value: float
    new_user_only: bool
    country: str
    min_spend: float


@dataclass
class Specials:
    """Market moments that both real users and attackers react to."""

    drop_item: Item
    drop_ms: int
    error_item: Item
    error_price: float
    error_window: tuple[int, int]
    viral: list[tuple[Item, int, int]]
    flash_items: list[Item]
    flash_windows: list[tuple[int, int]]
    flash_price: dict[str, float] = field(default_factory=dict)


@dataclass
class Catalog:
    items: list[Item]
    by_id: dict[str, Item]
    sellers: list[User]
    shop_items: dict[str, list[Item]]
    lives: list[tuple[str, User]]
    videos: list[tuple[str, User]]
    ads: list[tuple[str, Item]]
    welcome: dict[str, Coupon]  # new-user coupon per country
    promos: dict[str, list[Coupon]]  # campaign coupons anyone may claim
    specials: Specials
    item_numbers: list[int]  # all live numeric ids, sorted
    _country: dict[str, tuple[list[Item], list[float]]] = field(default_factory=dict)
    _cat: dict[tuple[str, int], tuple[list[Item], list[float]]] = field(default_factory=dict)

    def pick(self, rng: random.Random, country: str, affinity: tuple[int, ...]) -> Item:
        """A popularity-weighted item; people mostly browse the categories they like."""
        pool = None
        if affinity and rng.random() < 0.55:
            pool = self._cat.get((country, affinity[rng.randrange(len(affinity))]))
        if pool is None:
            pool = self._country[country]
        items, cum = pool
        return items[bisect.bisect(cum, rng.random() * cum[-1])]

    def price_at(self, item: Item, t: int) -> float:
        if item.special:
            sp = self.specials
            if item is sp.error_item and sp.error_window[0] <= t < sp.error_window[1]:
                return sp.error_price
            if item.special == "flash" and any(a <= t < b for a, b in sp.flash_windows):
                return sp.flash_price[item.item_id]
        return item.price


def _local_price(rng: random.Random, cat: int, currency: str, fx: float) -> tuple[float, float]:
    _, median, spread, _ = CATEGORIES[cat]
    usd = median * math.exp(rng.gauss(0, spread))
    price = round_price(usd * fx, currency)
    if rng.random() < 0.5:
        return price, price
    return price, round_price(price / rng.uniform(0.5, 0.9), currency)


def build_catalog(cfg: WorldConfig, pop: Population, rng: random.Random) -> Catalog:
    start = parse_ts(cfg.start)
    span = cfg.days * DAY
    ids = IdFactory(rng, set())
    candidates = [u for u in pop.users if "new_signup" not in u.traits]
    # every market needs local shops: buyers pay in their own currency
    people: dict[str, list[User]] = {}
    for u in candidates:
        people.setdefault(u.country, []).append(u)
    sellers: list[User] = []
    for _, locals_ in sorted(people.items()):
        k = min(len(locals_), max(3, round(len(locals_) * cfg.seller_share)))
        sellers.extend(rng.sample(locals_, k))
    raw: list[Item] = []
    shop_items: dict[str, list[Item]] = {}
    for s in sellers:
        s.is_seller = True
        spec = COUNTRIES[s.country]
        n = max(1, int(rng.lognormvariate(math.log(cfg.items_per_seller) - 0.5, 1.0)))
        main_cat = rng.randrange(len(CATEGORIES))
        mine: list[Item] = []
        for _ in range(n):
            cat = main_cat if rng.random() < 0.7 else rng.randrange(len(CATEGORIES))
            price, list_price = _local_price(rng, cat, spec.currency, spec.fx)
            weight = int(CATEGORIES[cat][3] * math.exp(rng.gauss(0, 0.5)))
            mine.append(Item("", s, cat, price, list_price, weight))
        shop_items[s.uid] = mine
        raw.extend(mine)
    # ids by listing order across shops, with gaps left by deleted listings
    rng.shuffle(raw)
    number = 18_000_000_000 + rng.randrange(10**9)
    numbers: list[int] = []
    for it in raw:
        number += 1 + int(rng.expovariate(1 / 6))
        it.item_id = str(number)
        numbers.append(number)
    specials = _specials(cfg, rng, sellers, shop_items, start, span)
    for it in (specials.drop_item, specials.error_item):  # the newest listings
        number += 1 + int(rng.expovariate(1 / 6))
        it.item_id = str(number)
        numbers.append(number)
        raw.append(it)
    # Zipf popularity over a random ranking
    weights = [1.0 / (r + 1) ** 1.05 for r in range(len(raw))]
    rng.shuffle(weights)
    popularity = dict(zip((it.item_id for it in raw), weights, strict=True))
    catalog = Catalog(
        items=raw,
        by_id={it.item_id: it for it in raw},
        sellers=sellers,
        shop_items=shop_items,
        lives=[(ids.live(), s) for s in rng.sample(sellers, max(3, len(sellers) // 7))],
        videos=[(ids.video(), s) for s in sellers for _ in range(rng.randrange(3))],
        ads=[(ids.ad(), rng.choice(shop_items[s.uid])) for s in sellers if rng.random() < 0.2],
        welcome={},
        promos={},
        specials=specials,
        item_numbers=numbers,
    )
    for code in sorted({s.country for s in sellers} | {u.country for u in pop.users}):
        spec = COUNTRIES[code]
        catalog.welcome[code] = Coupon(
            ids.coupon(),
            "mkt_new_user_welcome",
            round_price(4 * spec.fx, spec.currency),
            True,
            code,
            0.0,
        )
        catalog.promos[code] = [
            Coupon(
                ids.coupon(),
                name,
                round_price(usd * spec.fx, spec.currency),
                False,
                code,
                round_price(usd * 5 * spec.fx, spec.currency),
            )
            for name, usd in (
                ("mkt_payday_sale", 3.0),
                ("mkt_free_shipping", 1.5),
                ("mkt_brand_week", 5.0),
            )
        ]
    hidden = {specials.drop_item.item_id}
    by_country: dict[str, list[Item]] = {}
    for it in raw:
        if it.item_id not in hidden:
            by_country.setdefault(it.seller.country, []).append(it)
    for code, items in sorted(by_country.items()):
        catalog._country[code] = (items, _cum([popularity[i.item_id] for i in items]))
        per_cat: dict[int, list[Item]] = {}
        for it in items:
            per_cat.setdefault(it.cat, []).append(it)
        for k, its in per_cat.items():
            catalog._cat[(code, k)] = (its, _cum([popularity[i.item_id] for i in its]))
    for code in {u.country for u in pop.users} - set(catalog._country):
        # a country with no local shop browses the biggest marketplace
        catalog._country[code] = max(catalog._country.values(), key=lambda p: len(p[0]))
    return catalog


def _cum(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _specials(
    cfg: WorldConfig,
    rng: random.Random,
    sellers: list[User],
    shop_items: dict[str, list[Item]],
    start: int,
    span: int,
) -> Specials:
    by_size = sorted(sellers, key=lambda s: (-len(shop_items[s.uid]), s.uid))
    big = by_size[: max(3, len(by_size) // 10)]
    # a limited console drop at 20:00 local time in the drop seller's market
    drop_seller = big[0]
    spec = COUNTRIES[drop_seller.country]
    drop_price = round_price(520 * spec.fx, spec.currency)
    drop = Item("", drop_seller, 0, drop_price, drop_price, 3200, max_qty=2, special="drop")
    drop_day = int(cfg.days * 0.4)
    drop_ms = start + drop_day * DAY + (20 - spec.tz_hours) * HOUR
    # a laptop whose price lost a digit for a couple of hours
    err_seller = big[1 % len(big)]
    espec = COUNTRIES[err_seller.country]
    err_list = round_price(1150 * espec.fx, espec.currency)
    error = Item("", err_seller, 0, err_list, err_list, 2100, max_qty=5, special="pricing_error")
    error_price = round_price(err_list / 10, espec.currency)
    e0 = start + int(span * rng.uniform(0.45, 0.6))
    error_window = (e0, e0 + int(rng.uniform(2, 3.5) * HOUR))
    for it, s in ((drop, drop_seller), (error, err_seller)):
        shop_items[s.uid].append(it)
    pool = [it for s in sellers for it in shop_items[s.uid] if not it.special]
    viral = []
    for it in rng.sample(pool, min(3, len(pool))):
        t0 = start + int(span * rng.uniform(0.05, 0.7))
        viral.append((it, t0, t0 + int(rng.uniform(5, 10) * HOUR)))
        it.special = "viral"
    flash = [it for it in rng.sample(pool, max(4, len(pool) // 80)) if not it.special]
    windows = []
    for d in range(cfg.days):
        # 12:00-14:00 and 21:00-23:00 Singapore time, the usual flash-sale slots
        windows.append((start + d * DAY + 4 * HOUR, start + d * DAY + 6 * HOUR))
        windows.append((start + d * DAY + 13 * HOUR, start + d * DAY + 15 * HOUR))
    flash_price = {}
    for it in flash:
        it.special = "flash"
        it.max_qty = 2  # flash deals are limited per order
        flash_price[it.item_id] = round_price(
            it.price * rng.uniform(0.4, 0.65), COUNTRIES[it.seller.country].currency
        )
        it.list_price = max(it.list_price, it.price)
    return Specials(
        drop, drop_ms, error, error_price, error_window, viral, flash, windows, flash_price
    )
