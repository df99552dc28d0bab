"""How evaluation names entities and areas: one key per entity, one bit per area.

User and seller ids are one account namespace (the contract makes a seller an account whose
``user_id`` is its seller id), so both entity types map to the ``account`` kind.

>>> entity_key("seller", "s7") == entity_key("user", "s7")
True
>>> [AREAS[i] for i in area_bits(1 << AREA_INDEX["scalper"] | 1)]
['account_integrity', 'scalper']
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from rampart.contract.outputs import AREAS
from rampart.learn.inputs import EventView

ACCOUNT: Final = "account"
# (kind, id): the kind is the entity type, with user and seller merged into ACCOUNT.
EntityKey = tuple[str, str]
KIND_OF: Final[dict[str, str]] = {
    "user": ACCOUNT,
    "seller": ACCOUNT,
    "device": "device",
    "ip": "ip",
    "item": "item",
    "instrument": "instrument",
}
AREA_INDEX: Final[dict[str, int]] = {area: i for i, area in enumerate(AREAS)}


def entity_key(entity_type: str, entity_id: str) -> EntityKey:
    return KIND_OF[entity_type], entity_id


def area_bits(mask: int) -> Iterator[int]:
    """Indices (into AREAS) of the set bits of ``mask``, lowest first.

    >>> list(area_bits(0b1010))
    [1, 3]
    """
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def involved(event: EventView) -> Iterator[EntityKey]:
    """Every entity an event involves, its counterparties, items and instrument included.

    Only time to detect uses this wide notion (where a campaign entity's clock starts);
    flagging by events looks at the event's own user, device and ip alone.

    >>> import msgspec
    >>> event = msgspec.json.decode(
    ...     b'{"event_id":"e","type":"order.created","ts":"2026-03-01T00:00:00Z","user_id":"u1",'
    ...     b'"props":{"seller_id":"s7","items":[{"item_id":"i1"}],'
    ...     b'"payment":{"instrument_id":"pm1"}}}', type=EventView)
    >>> list(involved(event))
    [('account', 'u1'), ('account', 's7'), ('item', 'i1'), ('instrument', 'pm1')]
    """
    if event.user_id is not None:
        yield ACCOUNT, event.user_id
    if event.device is not None and event.device.id is not None:
        yield "device", event.device.id
    if event.ip is not None:
        yield "ip", event.ip
    props = event.props
    if props is None:
        return
    for account in (props.seller_id, props.owner_id, props.recipient_id, props.referrer_id):
        if account is not None:
            yield ACCOUNT, account
    if props.item_id is not None:
        yield "item", props.item_id
    # A target id names an item only when the target is one (shops and lives have ids too).
    if props.target_type == "item" and props.target_id is not None:
        yield "item", props.target_id
    for line in props.items or ():
        if line.item_id is not None:
            yield "item", line.item_id
    if props.payment is not None and props.payment.instrument_id is not None:
        yield "instrument", props.payment.instrument_id
