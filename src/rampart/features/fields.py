"""The event as detectors see it: typed paths such as ``event.props.total``, and entity keys.

Every name a feature filter or a rule may read from an event is listed in :data:`EVENT_FIELDS`
with its value type, and :func:`event_getter` compiles a path into a fast function of an
accepted (pseudonymised) event. A value the event does not carry reads as ``None``.

Paths:
- ``event.<field>`` for top-level fields (``event.ts`` is epoch seconds, a float);
- ``event.device.*``, ``event.geo.*``;
- ``event.props.<field>`` for every scalar props field of any type (``success`` is read from a
  login or a payment alike), ``event.props.payment.*`` and ``event.props.shipping_address.country``;
- ``event.order.*``: figures computed from an order's items (count, quantity, depth of discount);
- ``event.derived.*``: the non-identifying fields of ingest
  (see :class:`rampart.ingest.privacy.Derived`).

>>> from rampart.contract.events import decode_event
>>> from rampart.ingest.privacy import EventPrivacy
>>> accepted = EventPrivacy.for_demo().protect(decode_event(
...     b'{"event_id":"e","type":"cart.add","ts":"2026-03-01T10:00:00Z","user_id":"u1",'
...     b'"props":{"item_id":"i1","seller_id":"s1","quantity":3,"unit_price":2.5}}'))
>>> event_getter("event.props.quantity")(accepted), event_getter("event.props.total")(accepted)
(3, None)
>>> EVENT_FIELDS["event.props.quantity"], entity_getter("item")(accepted)
('int', 'i1')
"""

from __future__ import annotations

from collections.abc import Callable
from types import UnionType
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    Union,
    get_args,
    get_origin,
    get_type_hints,
)

import msgspec
from msgspec import UNSET

from rampart.contract.events import EVENT_CLASSES, OrderCreated, Payment
from rampart.ingest.privacy import Accepted, Derived

ValueType = Literal["bool", "int", "float", "str", "list[str]"]
VALUE_TYPES: Final[tuple[str, ...]] = get_args(ValueType)
Getter = Callable[[Accepted], Any]

EntityKind = Literal[
    "user",
    "device",
    "ip",
    "ip24",
    "ip16",
    "instrument",
    "address",
    "email_domain",
    "phone_prefix",
    "phone",
    "email",
    "seller",
    "item",
    "session",
    "target",
    "coupon",
    "bin",
    "country",
]
ENTITY_KINDS: Final[tuple[str, ...]] = get_args(EntityKind)


def _scalar_type(annotation: Any) -> ValueType | None:
    """The rule-language type of a contract annotation, or None when it is not a scalar."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
            continue
        if origin in (Union, UnionType):
            args = [a for a in get_args(annotation) if a not in (type(None), msgspec.UnsetType)]
            # ``str | dict`` (account.updated new_value) reads as the string pseudonym.
            annotation = args[0] if len(args) == 1 or str in args else None
            if annotation is None:
                return None
            if str in args:
                return "str"
            continue
        break
    if get_origin(annotation) is Literal or annotation is str:
        return "str"
    return _PLAIN_TYPES.get(annotation)


_PLAIN_TYPES: Final[dict[Any, ValueType]] = {bool: "bool", int: "int", float: "float"}


def _struct_fields(struct: type[msgspec.Struct], prefix: str) -> dict[str, ValueType]:
    found: dict[str, ValueType] = {}
    for name, annotation in get_type_hints(struct, include_extras=True).items():
        kind = _scalar_type(annotation)
        if kind is not None:
            found[f"{prefix}.{name}"] = kind
    return found


def _catalogue() -> dict[str, ValueType]:
    fields: dict[str, ValueType] = {
        "event.event_id": "str",
        "event.type": "str",
        "event.ts": "float",
        "event.user_id": "str",
        "event.session_id": "str",
        "event.ip": "str",
    }
    from rampart.contract.events import Device, Geo

    fields |= _struct_fields(Device, "event.device")
    fields |= _struct_fields(Geo, "event.geo")
    for cls in EVENT_CLASSES:
        props = get_type_hints(cls)["props"]
        fields |= _struct_fields(props, "event.props")
    fields |= _struct_fields(Payment, "event.props.payment")
    fields["event.props.shipping_address.country"] = "str"
    fields["event.props.coupon_ids"] = "list[str]"
    fields |= {f"event.order.{name}": kind for name, (kind, _) in _ORDER_FIGURES.items()}
    for name, annotation in get_type_hints(Derived).items():
        kind = _scalar_type(annotation)
        fields[f"event.derived.{name}"] = kind if kind is not None else "list[str]"
    return dict(sorted(fields.items()))


# --- figures computed from an order's items --------------------------------------------------


def _items(accepted: Accepted) -> list[Any]:
    event = accepted.event
    return event.props.items if isinstance(event, OrderCreated) else []


def _list_discount(accepted: Accepted) -> float | None:
    """How far below list price the items sold: 0 = full price, 0.9 = 90% off."""
    paid = listed = 0.0
    for item in _items(accepted):
        if item.list_price is UNSET or not item.list_price:
            continue
        paid += item.unit_price * item.quantity
        listed += item.list_price * item.quantity
    return 1.0 - paid / listed if listed else None


def _discount_share(accepted: Accepted) -> float | None:
    event = accepted.event
    if not isinstance(event, OrderCreated):
        return None
    discount = event.props.discount if event.props.discount is not UNSET else 0.0
    gross = event.props.total + discount
    return discount / gross if gross else None


_ORDER_FIGURES: Final[dict[str, tuple[ValueType, Getter]]] = {
    "item_count": ("int", lambda a: len(_items(a)) if isinstance(a.event, OrderCreated) else None),
    "quantity": (
        "int",
        lambda a: sum(i.quantity for i in _items(a)) if isinstance(a.event, OrderCreated) else None,
    ),
    "max_quantity": ("int", lambda a: max((i.quantity for i in _items(a)), default=None)),
    "max_unit_price": ("float", lambda a: max((i.unit_price for i in _items(a)), default=None)),
    "first_item_id": ("str", lambda a: _items(a)[0].item_id if _items(a) else None),
    "list_discount": ("float", _list_discount),
    "discount_share": ("float", _discount_share),
    "coupon_count": (
        "int",
        lambda a: (
            len(a.event.props.coupon_ids or ())
            if isinstance(a.event, OrderCreated) and a.event.props.coupon_ids is not UNSET
            else (0 if isinstance(a.event, OrderCreated) else None)
        ),
    ),
}


# --- getters ---------------------------------------------------------------------------------


def _attribute_chain(steps: list[str]) -> Getter:
    """getattr along ``steps`` from the event; a missing or unset step gives None."""

    def get(accepted: Accepted) -> Any:
        value: Any = accepted.event
        for step in steps:
            value = getattr(value, step, None)
            if value is None or value is UNSET:
                return None
        return value

    return get


def _single(step: str) -> Getter:
    def get(accepted: Accepted) -> Any:
        value = getattr(accepted.event, step, None)
        return None if value is UNSET else value

    return get


def _props(name: str) -> Getter:
    def get(accepted: Accepted) -> Any:
        value = getattr(accepted.event.props, name, None)
        return None if value is UNSET else value

    return get


def _derived(name: str) -> Getter:
    def get(accepted: Accepted) -> Any:
        return getattr(accepted.derived, name)

    return get


def _ts(accepted: Accepted) -> float:
    return accepted.event.ts.timestamp()


def _type(accepted: Accepted) -> str:
    return accepted.event.type


def event_getter(path: str) -> Getter:
    """A fast function reading ``path`` (a key of :data:`EVENT_FIELDS`) from an accepted event."""
    if path not in EVENT_FIELDS:
        raise KeyError(f"unknown event field {path!r}")
    steps = path.split(".")[1:]
    if path == "event.ts":
        return _ts
    if path == "event.type":
        return _type
    if steps[0] == "order":
        return _ORDER_FIGURES[steps[1]][1]
    if steps[0] == "derived":
        return _derived(steps[1])
    if steps[0] == "props" and len(steps) == 2:
        return _props(steps[1])
    if len(steps) == 1:
        return _single(steps[0])
    return _attribute_chain(steps)


# --- entity keys -----------------------------------------------------------------------------


def _item_key(accepted: Accepted) -> str | None:
    props = accepted.event.props
    item_id = getattr(props, "item_id", None)
    if isinstance(item_id, str):
        return item_id
    if getattr(props, "target_type", None) == "item":
        target = getattr(props, "target_id", None)
        return target if isinstance(target, str) else None
    items = _items(accepted)
    return items[0].item_id if items else None


def _seller_key(accepted: Accepted) -> str | None:
    props = accepted.event.props
    for name in ("seller_id", "owner_id"):
        value = getattr(props, name, None)
        if isinstance(value, str):
            return value
    return None


def _target_key(accepted: Accepted) -> str | None:
    props = accepted.event.props
    target = getattr(props, "target_id", None)
    if not isinstance(target, str):
        return None
    return f"{getattr(props, 'target_type', '')}:{target}"


def _phone_key(accepted: Accepted) -> str | None:
    """The phone's pseudonym: given at signup, or set by an account update."""
    props = accepted.event.props
    phone = getattr(props, "phone", None)
    if isinstance(phone, str):
        return phone
    if getattr(props, "field", None) == "phone":
        value = getattr(props, "new_value", None)
        return value if isinstance(value, str) else None
    return None


def _email_key(accepted: Accepted) -> str | None:
    """The e-mail's alias-folded pseudonym, so ``a.b+x@`` and ``ab@`` are one mailbox."""
    return accepted.derived.email_alias


def _coupon_key(accepted: Accepted) -> str | None:
    value = getattr(accepted.event.props, "coupon_id", None)
    return value if isinstance(value, str) else None


_ENTITY_GETTERS: Final[dict[str, Getter]] = {
    "user": _single("user_id"),
    "device": _attribute_chain(["device", "id"]),
    "ip": _single("ip"),
    "ip24": _derived("ip_prefix_narrow"),
    "ip16": _derived("ip_prefix_wide"),
    "instrument": _attribute_chain(["props", "payment", "instrument_id"]),
    "address": _derived("address_key"),
    "email_domain": _derived("email_domain"),
    "phone_prefix": _derived("phone_prefix"),
    "phone": _phone_key,
    "email": _email_key,
    "seller": _seller_key,
    "item": _item_key,
    "session": _single("session_id"),
    "target": _target_key,
    "coupon": _coupon_key,
    "bin": _attribute_chain(["props", "payment", "bin"]),
    "country": _attribute_chain(["geo", "country"]),
}


def entity_getter(kind: str) -> Getter:
    """The key of one entity kind in an event (``None`` when the event has none).

    ``seller`` is the counterparty seller (``props.seller_id``, or an engaged target's
    ``owner_id``); ``item`` is ``props.item_id``, an item page's target, or an order's first item;
    ``target`` is ``<target_type>:<target_id>`` of page views and engagement; ``phone`` and
    ``email`` are pseudonyms (signups and account updates), so links by them never hold PII.
    """
    try:
        return _ENTITY_GETTERS[kind]
    except KeyError:
        raise KeyError(f"unknown entity kind {kind!r}; known: {', '.join(ENTITY_KINDS)}") from None


EVENT_FIELDS: Final[dict[str, ValueType]] = _catalogue()

# Entity kinds that are plain event fields, so generated code can read them inline.
PLAIN_ENTITY_PATHS: Final[dict[str, str]] = {
    "user": "event.user_id",
    "device": "event.device.id",
    "ip": "event.ip",
    "ip24": "event.derived.ip_prefix_narrow",
    "ip16": "event.derived.ip_prefix_wide",
    "instrument": "event.props.payment.instrument_id",
    "address": "event.derived.address_key",
    "email_domain": "event.derived.email_domain",
    "phone_prefix": "event.derived.phone_prefix",
    "session": "event.session_id",
    "coupon": "event.props.coupon_id",
    "bin": "event.props.payment.bin",
    "country": "event.geo.country",
}
