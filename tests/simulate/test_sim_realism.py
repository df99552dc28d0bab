"""The legitimate world has the traps real risk teams trip on, and ids say nothing."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING

import phonenumbers

if TYPE_CHECKING:
    from tests.simulate.conftest import Worlds

EVENT_TYPES = (
    "account.created", "account.login", "account.updated", "page.view", "engagement", "cart.add",
    "coupon.claim", "order.created", "payment.attempt", "order.cancelled", "order.fulfilled",
    "refund.requested", "review.posted", "message.sent",
)  # fmt: skip
LEAKY = re.compile(r"bot|fraud|fake|attack|scam|spam|abuse|farm|victim|campaign", re.IGNORECASE)


def test_ids_do_not_leak_the_truth(worlds: Worlds) -> None:
    world = worlds("easy")
    for ev in world.events:
        fields = [ev["event_id"], ev.get("user_id", ""), ev.get("session_id", "")]
        fields.append(ev.get("device", {}).get("id", ""))
        props = ev["props"]
        for key in (
            "email",
            "name",
            "order_id",
            "conversation_id",
            "recipient_id",
            "seller_id",
            "coupon_id",
        ):
            fields.append(str(props.get(key, "")))
        assert not any(LEAKY.search(f) for f in fields), ev
    bad_users = world.labelled("user")
    users = {ev["user_id"] for ev in world.events if "user_id" in ev}
    pattern = re.compile(r"^u_[0-9a-z]{10}$")
    assert all(pattern.match(u) for u in users)
    assert bad_users < users


def test_shared_addresses_and_devices_among_legit_users(worlds: Worlds) -> None:
    world = worlds()
    bad = world.labelled("user")
    users_per_ip: dict[str, set[str]] = defaultdict(set)
    users_per_device: dict[str, set[str]] = defaultdict(set)
    for ev in world.events:
        uid = ev.get("user_id")
        if uid and uid not in bad and "ip" in ev:
            users_per_ip[ev["ip"]].add(uid)
            if "id" in ev.get("device", {}):
                users_per_device[ev["device"]["id"]].add(uid)
    assert max(len(v) for v in users_per_ip.values()) >= 8  # a carrier NAT address
    assert sum(1 for v in users_per_device.values() if len(v) >= 2) >= 3  # family tablets


def test_traffic_mix(worlds: Worlds) -> None:
    world = worlds("hard", 3, "small")
    types = Counter(ev["type"] for ev in world.events)
    assert set(types) == set(EVENT_TYPES)
    assert types["page.view"] > 0.5 * len(world.events)
    anon = [ev for ev in world.events if ev["type"] == "page.view" and "user_id" not in ev]
    assert len(anon) > 200
    crawlers = [ev for ev in anon if "Googlebot" in ev.get("device", {}).get("user_agent", "")]
    assert crawlers
    assert all(ev["ip"].startswith("66.249.") for ev in crawlers)
    declines = [
        ev for ev in world.events if ev["type"] == "payment.attempt" and not ev["props"]["success"]
    ]
    assert declines
    assert all("decline_code" in ev["props"] for ev in declines)


def test_signups_are_the_exception(worlds: Worlds) -> None:
    world = worlds("hard", 3, "small")
    created = {ev["user_id"] for ev in world.events if ev["type"] == "account.created"}
    active = {ev["user_id"] for ev in world.events if "user_id" in ev}
    assert 0 < len(created) < 0.2 * len(active)
    # a daily rhythm: local evenings are busier than the small hours (UTC+7/+8 markets)
    hours = Counter(int(ev["ts"][11:13]) for ev in world.events if "user_id" in ev)
    evening = sum(hours[h] for h in (12, 13, 14))  # 19:00-22:00 local
    night = sum(hours[h] for h in (19, 20, 21))  # 02:00-05:00 local
    assert evening > 3 * night


def test_pii_looks_real(worlds: Worlds) -> None:
    world = worlds("hard", 3, "small")
    signups = [ev for ev in world.events if ev["type"] == "account.created"]
    for ev in signups:
        assert re.match(r"^[^@\s]+@[^@\s]+\.[a-z.]+$", ev["props"]["email"])
        assert ev["props"]["email"].isascii()
        if "phone" in ev["props"]:
            num = phonenumbers.parse(ev["props"]["phone"])
            assert phonenumbers.is_valid_number(num), ev["props"]["phone"]
    orders = [ev for ev in world.events if ev["type"] == "order.created"]
    currency = {"SG": "SGD", "MY": "MYR", "ID": "IDR", "TH": "THB", "PH": "PHP", "VN": "VND"}
    for ev in orders:
        props = ev["props"]
        assert props["currency"] == currency[props["shipping_address"]["country"]], props


def test_legit_messages_are_full_of_digits_that_are_not_phones(worlds: Worlds) -> None:
    world = worlds("hard", 3, "small")
    bad = {r["entity_id"] for r in world.labels if r["entity_type"] == "event"}
    legit = [
        ev["props"]["text"]
        for ev in world.events
        if ev["type"] == "message.sent" and ev["event_id"] not in bad
    ]
    assert sum(1 for text in legit if re.search(r"\d{6,}", text)) >= 3
