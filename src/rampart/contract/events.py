"""Typed events of contract v1, one msgspec Struct per event type.

The event's ``type`` is the union's tag, so one decode both picks the class and checks the
``props`` the type requires. Constraints mirror ``events.schema.json`` (lengths, enums, minimums,
patterns); a test proves the two agree on the examples and on simulator output.

Unknown fields are not rejected (producers evolve); :func:`unknown_fields` recovers them from the
raw line when somebody needs them, so the hot path pays nothing for them.

>>> ev = decode_event(b'{"event_id":"e1","type":"account.login","ts":"2026-03-01T10:05:00Z",'
...                   b'"user_id":"u1","props":{"success":true,"method":"password"}}')
>>> type(ev).__name__, ev.props.success, ev.ts.isoformat()
('AccountLogin', True, '2026-03-01T10:05:00+00:00')
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Annotated, Any, Final, Literal, TypeAlias, get_type_hints

import msgspec
from msgspec import UNSET, Meta, UnsetType

AwareDatetime = Annotated[datetime, Meta(tz=True)]
Id = Annotated[str, Meta(min_length=1, max_length=128)]
NonEmpty = Annotated[str, Meta(min_length=1)]
Money = Annotated[float, Meta(ge=0)]
Country = Annotated[str, Meta(pattern="^[A-Z]{2}$")]
Currency = Annotated[str, Meta(pattern="^[A-Z]{3}$")]
Platform = Literal["android", "ios", "web", "other"]


class Device(msgspec.Struct, kw_only=True, omit_defaults=True):
    id: Annotated[str, Meta(max_length=128)] | UnsetType = UNSET
    platform: Platform | UnsetType = UNSET
    os: str | UnsetType = UNSET
    app_version: str | UnsetType = UNSET
    user_agent: Annotated[str, Meta(max_length=2048)] | UnsetType = UNSET
    emulator: bool | UnsetType = UNSET
    rooted: bool | UnsetType = UNSET
    headless: bool | UnsetType = UNSET


class Geo(msgspec.Struct, kw_only=True, omit_defaults=True):
    country: Country | UnsetType = UNSET
    region: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    lat: Annotated[float, Meta(ge=-90, le=90)] | UnsetType = UNSET
    lon: Annotated[float, Meta(ge=-180, le=180)] | UnsetType = UNSET


class Address(msgspec.Struct, kw_only=True, omit_defaults=True):
    name: str | UnsetType = UNSET
    line1: str | UnsetType = UNSET
    line2: str | UnsetType = UNSET
    city: str | UnsetType = UNSET
    postcode: str | UnsetType = UNSET
    country: Country | UnsetType = UNSET


class Payment(msgspec.Struct, kw_only=True, omit_defaults=True):
    method: Literal["card", "wallet", "bank", "cod"] | UnsetType = UNSET
    instrument_id: Id | UnsetType = UNSET
    bin: Annotated[str, Meta(pattern="^[0-9]{6,8}$")] | UnsetType = UNSET
    issuer_country: Country | UnsetType = UNSET


class OrderItem(msgspec.Struct, kw_only=True, omit_defaults=True):
    item_id: NonEmpty
    quantity: Annotated[int, Meta(ge=1)]
    unit_price: Money
    list_price: Money | UnsetType = UNSET
    category: str | UnsetType = UNSET


# --- props, one struct per event type ------------------------------------------------------


class AccountCreatedProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    email: Annotated[str, Meta(min_length=3, max_length=320)]
    phone: Annotated[str, Meta(max_length=32)] | UnsetType = UNSET
    name: Annotated[str, Meta(max_length=256)] | UnsetType = UNSET
    referrer_id: str | UnsetType = UNSET
    channel: Literal["organic", "referral", "ad", "affiliate"] | UnsetType = UNSET


class AccountLoginProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    success: bool
    method: Literal["password", "otp", "sso", "token"] | UnsetType = UNSET
    failure_reason: str | UnsetType = UNSET


class AccountUpdatedProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    field: Literal["password", "email", "phone", "shipping_address", "payment_method", "name"]
    via: Literal["self", "reset", "support"] | UnsetType = UNSET
    new_value: str | dict[str, Any] | UnsetType = UNSET


class PageViewProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    path: Annotated[str, Meta(min_length=1, max_length=2048)]
    target_type: Literal["item", "shop", "search", "live", "profile", "other"] | UnsetType = UNSET
    target_id: str | UnsetType = UNSET
    referrer: Annotated[str, Meta(max_length=2048)] | UnsetType = UNSET
    dwell_ms: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    status: Annotated[int, Meta(ge=100, le=599)] | UnsetType = UNSET


class EngagementProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    action: Literal["click", "like", "follow", "share", "wishlist", "ad_click", "live_view"]
    target_type: Literal["item", "shop", "live", "video", "ad"]
    target_id: NonEmpty
    owner_id: str | UnsetType = UNSET
    dwell_ms: Annotated[int, Meta(ge=0)] | UnsetType = UNSET


class CartAddProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    item_id: NonEmpty
    seller_id: NonEmpty
    quantity: Annotated[int, Meta(ge=1)]
    unit_price: Money


class CouponClaimProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    coupon_id: NonEmpty
    campaign_id: str | UnsetType = UNSET
    value: Money
    new_user_only: bool | UnsetType = UNSET


class OrderCreatedProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    seller_id: NonEmpty
    items: Annotated[list[OrderItem], Meta(min_length=1, max_length=500)]
    total: Money
    currency: Currency
    discount: Money | UnsetType = UNSET
    coupon_ids: list[str] | UnsetType = UNSET
    shipping_address: Address | UnsetType = UNSET
    payment: Payment | UnsetType = UNSET


class PaymentAttemptProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    amount: Money
    currency: Currency
    success: bool
    decline_code: str | UnsetType = UNSET
    payment: Payment | UnsetType = UNSET


class OrderCancelledProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    reason: str | UnsetType = UNSET
    by: Literal["buyer", "seller", "system"] | UnsetType = UNSET


class OrderFulfilledProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    carrier: str | UnsetType = UNSET
    tracking_id: str | UnsetType = UNSET
    weight_g: Money | UnsetType = UNSET
    delivered: bool | UnsetType = UNSET
    delivered_ts: AwareDatetime | UnsetType = UNSET


class RefundRequestedProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    amount: Money
    reason: Literal["not_received", "damaged", "not_as_described", "changed_mind", "other"]


class ReviewPostedProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    order_id: NonEmpty
    item_id: NonEmpty
    seller_id: NonEmpty
    rating: Annotated[int, Meta(ge=1, le=5)]
    text: Annotated[str, Meta(max_length=20000)] | UnsetType = UNSET


class MessageSentProps(msgspec.Struct, kw_only=True, omit_defaults=True):
    conversation_id: NonEmpty
    recipient_id: NonEmpty
    text: Annotated[str, Meta(max_length=20000)]


# --- events --------------------------------------------------------------------------------


class BaseEvent(msgspec.Struct, kw_only=True, omit_defaults=True, tag_field="type"):
    """Fields every event carries.

    ``user_id`` is declared per type: only ``page.view`` may omit it.
    """

    event_id: Id
    ts: AwareDatetime
    session_id: Annotated[str, Meta(max_length=128)] | UnsetType = UNSET
    device: Device | UnsetType = UNSET
    ip: str | UnsetType = UNSET
    geo: Geo | UnsetType = UNSET

    @property
    def type(self) -> str:
        """The contract ``type`` of this event (the union's tag)."""
        return self.__struct_config__.tag  # type: ignore[return-value]


class AccountCreated(BaseEvent, tag="account.created", kw_only=True):
    user_id: Id
    props: AccountCreatedProps


class AccountLogin(BaseEvent, tag="account.login", kw_only=True):
    user_id: Id
    props: AccountLoginProps


class AccountUpdated(BaseEvent, tag="account.updated", kw_only=True):
    user_id: Id
    props: AccountUpdatedProps


class PageView(BaseEvent, tag="page.view", kw_only=True):
    user_id: Id | UnsetType = UNSET
    props: PageViewProps


class Engagement(BaseEvent, tag="engagement", kw_only=True):
    user_id: Id
    props: EngagementProps


class CartAdd(BaseEvent, tag="cart.add", kw_only=True):
    user_id: Id
    props: CartAddProps


class CouponClaim(BaseEvent, tag="coupon.claim", kw_only=True):
    user_id: Id
    props: CouponClaimProps


class OrderCreated(BaseEvent, tag="order.created", kw_only=True):
    user_id: Id
    props: OrderCreatedProps


class PaymentAttempt(BaseEvent, tag="payment.attempt", kw_only=True):
    user_id: Id
    props: PaymentAttemptProps


class OrderCancelled(BaseEvent, tag="order.cancelled", kw_only=True):
    user_id: Id
    props: OrderCancelledProps


class OrderFulfilled(BaseEvent, tag="order.fulfilled", kw_only=True):
    user_id: Id
    props: OrderFulfilledProps


class RefundRequested(BaseEvent, tag="refund.requested", kw_only=True):
    user_id: Id
    props: RefundRequestedProps


class ReviewPosted(BaseEvent, tag="review.posted", kw_only=True):
    user_id: Id
    props: ReviewPostedProps


class MessageSent(BaseEvent, tag="message.sent", kw_only=True):
    user_id: Id
    props: MessageSentProps


Event: TypeAlias = (
    AccountCreated
    | AccountLogin
    | AccountUpdated
    | PageView
    | Engagement
    | CartAdd
    | CouponClaim
    | OrderCreated
    | PaymentAttempt
    | OrderCancelled
    | OrderFulfilled
    | RefundRequested
    | ReviewPosted
    | MessageSent
)

EVENT_CLASSES: Final[tuple[type[BaseEvent], ...]] = (
    AccountCreated,
    AccountLogin,
    AccountUpdated,
    PageView,
    Engagement,
    CartAdd,
    CouponClaim,
    OrderCreated,
    PaymentAttempt,
    OrderCancelled,
    OrderFulfilled,
    RefundRequested,
    ReviewPosted,
    MessageSent,
)
EVENT_TYPES: Final[tuple[str, ...]] = tuple(str(cls.__struct_config__.tag) for cls in EVENT_CLASSES)
# Types whose user_id may be absent (anonymous traffic).
ANONYMOUS_TYPES: Final[frozenset[str]] = frozenset({"page.view"})

_decoder: Final[msgspec.json.Decoder[Event]] = msgspec.json.Decoder(Event)
_VALID_IPS: Final[set[str]] = set()
_VALID_IPS_MAX: Final = 200_000
_encoder: Final = msgspec.json.Encoder()


def decode_event(line: bytes | str) -> Event:
    """Decode and validate one JSON event; raises ``msgspec.ValidationError``/``DecodeError``.

    Callers that need precise, user-facing errors use :func:`rampart.contract.validate.parse_line`.
    """
    event = _decoder.decode(line)
    # The schema accepts any IPv4 or IPv6 literal; msgspec has no such type, so check here
    # (not in __post_init__: pseudonymisation later puts a token where the address was).
    if event.ip is not UNSET and event.ip not in _VALID_IPS:
        try:
            ipaddress.ip_address(event.ip)
        except ValueError:
            raise msgspec.ValidationError("Expected an IPv4 or IPv6 address - at `$.ip`") from None
        # Addresses repeat (sessions, NAT, offices): parsing each one once saves a fifth of the
        # whole scoring path. Cleared when full, so memory stays bounded.
        if len(_VALID_IPS) >= _VALID_IPS_MAX:
            _VALID_IPS.clear()
        _VALID_IPS.add(event.ip)
    return event


def encode_event(event: Event) -> bytes:
    """Encode an event back to compact JSON (unset optional fields are left out).

    >>> ev = decode_event('{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z",'
    ...                   '"props":{"path":"/"}}')
    >>> encode_event(ev)
    b'{"type":"page.view","event_id":"e","ts":"2026-03-01T10:00:00Z","props":{"path":"/"}}'
    """
    return _encoder.encode(event)


def _field_names(cls: type[msgspec.Struct]) -> frozenset[str]:
    return frozenset(cls.__struct_fields__)


_TOP_LEVEL_FIELDS: Final = frozenset({"type"}) | frozenset().union(
    *(_field_names(cls) for cls in EVENT_CLASSES)
)
_PROPS_FIELDS: Final[dict[str, frozenset[str]]] = {
    str(cls.__struct_config__.tag): _field_names(get_type_hints(cls)["props"])
    for cls in EVENT_CLASSES
}


_NESTED_STRUCTS: Final[tuple[type[msgspec.Struct], ...]] = (
    Device,
    Geo,
    Address,
    Payment,
    OrderItem,
)
# Every field name the contract defines, at any depth (props, device, geo, payment, ...).
CONTRACT_FIELD_NAMES: Final[frozenset[str]] = frozenset(
    name for struct in (*_NESTED_STRUCTS, *EVENT_CLASSES) for name in _field_names(struct)
) | frozenset({"type"}).union(*_PROPS_FIELDS.values())


def unknown_fields(raw: bytes | str) -> dict[str, Any]:
    """Fields of a raw event that the contract does not define, kept for whoever needs them.

    Unknown ``props`` fields come back under ``props``.

    >>> unknown_fields('{"event_id":"e","type":"page.view","ts":"2026-03-01T10:00:00Z",'
    ...                '"tenant":"t1","props":{"path":"/","ab_bucket":3}}')
    {'tenant': 't1', 'props': {'ab_bucket': 3}}
    """
    document = msgspec.json.decode(raw)
    if not isinstance(document, dict):
        return {}
    extra = {k: v for k, v in document.items() if k not in _TOP_LEVEL_FIELDS}
    props = document.get("props")
    known_props = _PROPS_FIELDS.get(str(document.get("type")), frozenset())
    if isinstance(props, dict):
        extra_props = {k: v for k, v in props.items() if k not in known_props}
        if extra_props:
            extra["props"] = extra_props
    return extra
