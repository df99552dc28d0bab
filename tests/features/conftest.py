"""Building accepted events for the feature tests, without the cost of pseudonymisation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec

from rampart.contract.events import decode_event
from rampart.features.spec import FeatureSpec, parse_feature_specs
from rampart.ingest.privacy import Accepted, Derived

# 2026-03-01T00:00:00Z: event times in tests are seconds after it.
EPOCH = datetime(2026, 3, 1, tzinfo=UTC).timestamp()


def iso(seconds: float) -> str:
    """An RFC 3339 time ``seconds`` after :data:`EPOCH`, to the millisecond."""
    moment = datetime.fromtimestamp(EPOCH + seconds, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_event(
    kind: str,
    seconds: float,
    *,
    event_id: str,
    user: str = "u1",
    device: str | None = None,
    seller: str | None = None,
    item: str | None = None,
    amount: float = 1.0,
    quantity: int = 1,
    success: bool = True,
    ip: str | None = None,
    instrument: str | None = None,
) -> Accepted:
    """An accepted event of ``kind`` (``payment``, ``cart`` or ``login``) at ``seconds``."""
    raw: dict[str, Any] = {
        "event_id": event_id,
        "ts": iso(seconds),
        "user_id": user,
    }
    if device is not None:
        raw["device"] = {"id": device}
    if ip is not None:
        raw["ip"] = ip
    if kind == "payment":
        raw["type"] = "payment.attempt"
        raw["props"] = {"order_id": f"o_{event_id}", "amount": amount, "currency": "USD"}
        raw["props"]["success"] = success
        if instrument is not None:
            raw["props"]["payment"] = {"method": "card", "instrument_id": instrument}
    elif kind == "cart":
        raw["type"] = "cart.add"
        raw["props"] = {
            "item_id": item or "i0",
            "seller_id": seller or "s0",
            "quantity": quantity,
            "unit_price": amount,
        }
    elif kind == "login":
        raw["type"] = "account.login"
        raw["props"] = {"success": success}
    else:
        raise ValueError(kind)
    return Accepted(decode_event(msgspec.json.encode(raw)), Derived(), None)


def specs_of(raw: list[dict[str, Any]]) -> list[FeatureSpec]:
    specs, errors = parse_feature_specs(raw, "test")
    assert errors == [], [str(e) for e in errors]
    return specs


# --- a realistic pack ------------------------------------------------------------------------

LOGIN = {"event.type": "account.login"}
FAILED_LOGIN = {"event.type": "account.login", "event.props.success": False}
SIGNUP = {"event.type": "account.created"}
ORDER = {"event.type": "order.created"}
PAYMENT = {"event.type": "payment.attempt"}
DECLINE = {"event.type": "payment.attempt", "event.props.success": False}
COUPON = {"event.type": "coupon.claim"}
ENGAGE = {"event.type": "engagement"}
VIEW = {"event.type": "page.view"}
MESSAGE = {"event.type": "message.sent"}


def f(
    name: str, agg: str, keys: list[str], window: str = "lifetime", **more: Any
) -> dict[str, Any]:
    """A raw feature spec, as a pack's YAML would hold it."""
    return {"name": name, "agg": agg, "keys": keys, "window": window, **more}


# About 60 features across the eight areas, as a rule pack would declare them.
REALISTIC_PACK: list[dict[str, Any]] = [
    # account_integrity
    f("signups_device_24h", "count", ["device"], "24h", where=SIGNUP),
    f("signups_ip24_1h", "count", ["ip24"], "1h", where=SIGNUP),
    f("signups_ip_1h", "count", ["ip"], "1h", where=SIGNUP),
    f("accounts_on_device_24h", "distinct_count", ["device"], "24h", field="user"),
    f("accounts_on_device_7d", "distinct_count", ["device"], "7d", field="user"),
    f("failed_logins_ip_10m", "count", ["ip"], "10m", where=FAILED_LOGIN),
    f("failed_logins_ip24_1h", "count", ["ip24"], "1h", where=FAILED_LOGIN),
    f("login_accounts_ip_1h", "distinct_count", ["ip"], "1h", field="user", where=LOGIN),
    f("failed_logins_user_1h", "count", ["user"], "1h", where=FAILED_LOGIN),
    f("logins_user_24h", "count", ["user"], "24h", where=LOGIN),
    f("link_age_device_user", "age", ["device", "user"], "90d"),
    f("user_age", "age", ["user"], "90d"),
    f("devices_per_user_7d", "distinct_count", ["user"], "7d", field="device"),
    f("countries_per_user_7d", "distinct_count", ["user"], "7d", field="event.geo.country"),
    f(
        "credential_changes_24h",
        "count",
        ["user"],
        "24h",
        where={
            "event.type": "account.updated",
            "event.props.field": ["password", "email", "phone"],
        },
    ),
    f("since_last_login", "time_since_last", ["user"], "30d", where=LOGIN),
    f("last_country", "last_value", ["user"], "30d", field="event.geo.country"),
    # incentive_abuse
    f("coupon_claims_device_24h", "count", ["device"], "24h", where=COUPON),
    f("coupon_accounts_device_7d", "distinct_count", ["device"], "7d", field="user", where=COUPON),
    f("users_on_address_30d", "distinct_count", ["address"], "30d", field="user"),
    f("users_on_instrument_30d", "distinct_count", ["instrument"], "30d", field="user"),
    f("coupon_claims_ip24_1h", "count", ["ip24"], "1h", where=COUPON),
    # scalper
    f("orders_item_10m", "count", ["item"], "10m", where=ORDER),
    f("buyers_item_1h", "distinct_count", ["item"], "1h", field="user", where=ORDER),
    f("cart_adds_user_10m", "count", ["user"], "10m", where={"event.type": "cart.add"}),
    f("since_last_cart", "time_since_last", ["user"], "1h", where={"event.type": "cart.add"}),
    f(
        "quantity_item_user_24h",
        "sum",
        ["item", "user"],
        "24h",
        field="event.order.quantity",
        where=ORDER,
    ),
    f(
        "max_quantity_user_24h",
        "max",
        ["user"],
        "24h",
        field="event.order.max_quantity",
        where=ORDER,
    ),
    f("orders_address_24h", "count", ["address"], "24h", where=ORDER),
    # deal_hunter
    f("orders_item_1h", "count", ["item"], "1h", where=ORDER),
    f(
        "mean_discount_item_1h",
        "mean",
        ["item"],
        "1h",
        field="event.order.list_discount",
        where=ORDER,
    ),
    f(
        "coupon_count_max_user_24h",
        "max",
        ["user"],
        "24h",
        field="event.order.coupon_count",
        where=ORDER,
    ),
    # malicious_activity
    f(
        "instruments_device_24h",
        "distinct_count",
        ["device"],
        "24h",
        field="instrument",
        where=PAYMENT,
    ),
    f("declines_device_1h", "count", ["device"], "1h", where=DECLINE),
    f("payments_device_1h", "count", ["device"], "1h", where=PAYMENT),
    {
        "name": "decline_ratio_device_1h",
        "agg": "ratio",
        "numerator": "declines_device_1h",
        "denominator": "payments_device_1h",
    },
    f("min_amount_device_1h", "min", ["device"], "1h", field="event.props.amount", where=PAYMENT),
    f("amount_user_24h", "sum", ["user"], "24h", field="event.props.amount", where=PAYMENT),
    f("refunds_user_30d", "count", ["user"], "30d", where={"event.type": "refund.requested"}),
    f("orders_user_30d", "count", ["user"], "30d", where=ORDER),
    {
        "name": "refund_ratio_30d",
        "agg": "ratio",
        "numerator": "refunds_user_30d",
        "denominator": "orders_user_30d",
    },
    f("bins_device_24h", "distinct_count", ["device"], "24h", field="bin", where=PAYMENT),
    f(
        "seller_fraud_orders_30d",
        "count",
        ["seller"],
        "30d",
        source="labels",
        label_area="malicious_activity",
        where=ORDER,
    ),
    f(
        "instrument_fraud_30d",
        "count",
        ["instrument"],
        "30d",
        source="labels",
        label_area="malicious_activity",
        where=PAYMENT,
    ),
    f("user_labels_90d", "count", ["user"], "90d", source="labels"),
    # brushing
    f("orders_seller_user_7d", "count", ["seller", "user"], "7d", where=ORDER),
    f("buyers_seller_24h", "distinct_count", ["seller"], "24h", field="user", where=ORDER),
    f("reviews_seller_24h", "count", ["seller"], "24h", where={"event.type": "review.posted"}),
    f(
        "mean_rating_seller_7d",
        "mean",
        ["seller"],
        "7d",
        field="event.props.rating",
        where={"event.type": "review.posted"},
    ),
    f("mean_total_seller_7d", "mean", ["seller"], "7d", field="event.props.total", where=ORDER),
    # click_farm
    f("engagements_device_1h", "count", ["device"], "1h", where=ENGAGE),
    f("targets_device_1h", "distinct_count", ["device"], "1h", field="target", where=ENGAGE),
    f("engagements_target_10m", "count", ["target"], "10m", where=ENGAGE),
    f("devices_target_10m", "distinct_count", ["target"], "10m", field="device", where=ENGAGE),
    f("dwell_mean_device_1h", "mean", ["device"], "1h", field="event.props.dwell_ms", where=ENGAGE),
    # information_leakage
    f("views_ip_10m", "count", ["ip"], "10m", where=VIEW),
    f("views_ip24_1h", "count", ["ip24"], "1h", where=VIEW),
    f("targets_ip_10m", "distinct_count", ["ip"], "10m", field="target", where=VIEW),
    f(
        "not_found_ip_1h",
        "count",
        ["ip"],
        "1h",
        where={"event.type": "page.view", "event.props.status": 404},
    ),
    f("messages_user_1h", "count", ["user"], "1h", where=MESSAGE),
    f(
        "recipients_user_24h",
        "distinct_count",
        ["user"],
        "24h",
        field="event.props.recipient_id",
        where=MESSAGE,
    ),
    f(
        "url_messages_user_24h",
        "count",
        ["user"],
        "24h",
        where={"event.type": "message.sent", "event.derived.text_has_url": True},
    ),
    f("views_session_10m", "count", ["session"], "10m", where=VIEW),
]
