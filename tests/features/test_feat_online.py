"""The online state as rules see it: entity links, empty values, what-if reads, late events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.features.conftest import REALISTIC_PACK, make_event, specs_of

from rampart.features.online import OnlineFeatures
from rampart.ingest.privacy import Accepted

HOUR = 3_600.0
LINKS = specs_of(
    [
        {"name": "accounts_on_device_24h", "agg": "distinct_count", "keys": ["device"],
         "field": "user", "window": "24h"},
        {"name": "devices_of_user_7d", "agg": "distinct_count", "keys": ["user"],
         "field": "device", "window": "7d"},
        {"name": "link_age", "agg": "age", "keys": ["user", "device"], "window": "90d"},
        {"name": "link_first_seen", "agg": "first_seen", "keys": ["device", "user"],
         "window": "90d"},
        {"name": "logins_on_link", "agg": "count", "keys": ["device", "user"], "window": "90d",
         "where": {"event.type": "account.login"}},
        {"name": "since_last_login", "agg": "time_since_last", "keys": ["user"],
         "window": "30d", "where": {"event.type": "account.login"}},
        {"name": "previous_device", "agg": "last_value", "keys": ["user"], "window": "30d",
         "field": "device"},
        {"name": "failed_logins_1h", "agg": "count", "keys": ["user"], "window": "1h",
         "where": {"event.type": "account.login", "event.props.success": False}},
        {"name": "logins_1h", "agg": "count", "keys": ["user"], "window": "1h",
         "where": {"event.type": "account.login"}},
        {"name": "failed_share_1h", "agg": "ratio", "numerator": "failed_logins_1h",
         "denominator": "logins_1h"},
    ]
)  # fmt: skip


def login(hours: float, user: str, device: str, success: bool = True) -> Accepted:
    return make_event(
        "login", hours * HOUR, event_id=f"{user}{device}{hours}", user=user, device=device,
        success=success,
    )  # fmt: skip


def test_accounts_per_device_and_the_age_of_a_link() -> None:
    online = OnlineFeatures(LINKS)
    first = online.update(login(0, "ann", "tablet"))
    assert first["features.accounts_on_device_24h"] == 1
    assert first["features.link_age"] == 0.0
    assert first["features.since_last_login"] is None
    assert first["features.previous_device"] is None
    online.update(login(1, "bob", "tablet", success=False))
    online.update(login(2, "cat", "tablet"))
    out = online.update(login(5, "ann", "phone"))
    assert out["features.devices_of_user_7d"] == 2
    assert out["features.link_age"] == 0.0  # a new device for ann
    assert out["features.since_last_login"] == 5 * HOUR
    assert out["features.previous_device"] == "tablet"
    out = online.update(login(6, "ann", "tablet"))
    assert out["features.accounts_on_device_24h"] == 3
    assert out["features.link_age"] == 6 * HOUR
    assert out["features.link_first_seen"] == first["features.link_first_seen"]
    assert out["features.logins_on_link"] == 2
    assert out["features.previous_device"] == "phone"
    # A day after bob and cat, only ann is still on the tablet.
    out = online.update(login(27, "ann", "tablet"))
    assert out["features.accounts_on_device_24h"] == 1


def test_a_key_the_event_lacks_reads_empty() -> None:
    online = OnlineFeatures(LINKS)
    out = online.update(make_event("login", 0, event_id="e1", user="ann"))  # no device
    assert out["features.accounts_on_device_24h"] == 0
    assert out["features.link_age"] is None
    assert out["features.logins_1h"] == 1
    assert out["features.failed_share_1h"] == 0.0


def test_ratio_of_two_features() -> None:
    online = OnlineFeatures(LINKS)
    for hours, success in [(0, False), (0.1, False), (0.2, True), (0.3, False)]:
        out = online.update(login(hours, "ann", "tablet", success))
    assert out["features.failed_share_1h"] == 0.75


def test_what_if_reads_change_nothing() -> None:
    online = OnlineFeatures(specs_of(REALISTIC_PACK))
    online.update(make_event("payment", 0, event_id="p1", user="ann", device="d1", amount=5.0))
    before = online.snapshot()
    what_if = online.read(make_event("payment", 7 * 86_400, event_id="p2", user="ann", device="d1"))
    assert online.snapshot() == before
    assert what_if["features.amount_user_24h"] == 0.0  # a week later, out of the window
    now = online.read(make_event("payment", 10, event_id="p3", user="ann", device="d1"))
    assert now["features.amount_user_24h"] == 5.0  # the payment itself is not applied


def test_a_late_event_never_moves_the_clock_back() -> None:
    online = OnlineFeatures(LINKS)
    online.update(login(10, "ann", "tablet"))
    out = online.update(login(9.5, "ann", "tablet"))
    assert online.clock == make_event("login", 10 * HOUR, event_id="x").event.ts.timestamp()
    assert out["features.logins_1h"] == 2  # still inside the window: it counts
    assert out["features.since_last_login"] == 0.0  # measured at the clock, from the latest
    out = online.update(login(8, "ann", "tablet"))
    assert out["features.logins_1h"] == 2  # two hours late: out of the window, ignored


def test_composite_keys_do_not_depend_on_the_order_of_kinds() -> None:
    online = OnlineFeatures(LINKS)
    assert len({group.key_name for group in online.groups if len(group.kinds) == 2}) == 1


def test_the_generated_update_can_be_read() -> None:
    source = OnlineFeatures(LINKS).source("account.login")
    assert source.startswith("def on_event(accepted, ts, now, out):")
    assert "features.accounts_on_device_24h" in source


def test_accounts_linked_by_phone_and_email_pseudonyms() -> None:
    """Links by phone and by e-mail mailbox count accounts without holding the raw values."""
    import msgspec

    from rampart.contract.events import decode_event
    from rampart.features.online import OnlineFeatures
    from rampart.features.spec import parse_feature_specs
    from rampart.ingest.privacy import EventPrivacy

    specs, errors = parse_feature_specs(
        [
            {"name": "phone_users", "agg": "distinct_count", "field": "user", "keys": ["phone"],
             "window": "30d"},
            {"name": "email_users", "agg": "distinct_count", "field": "user", "keys": ["email"],
             "window": "30d"},
        ],
        "test",
    )  # fmt: skip
    assert not errors
    online = OnlineFeatures(specs)
    privacy = EventPrivacy.for_demo()
    values = {}
    for n, (email, phone) in enumerate(
        [("ann.lee@gmail.com", "+6591234567"), ("annlee+x@gmail.com", "+65 9123 4567")]
    ):
        raw = msgspec.json.encode({
            "event_id": f"e{n}", "type": "account.created", "ts": f"2026-03-01T10:0{n}:00Z",
            "user_id": f"u{n}", "props": {"email": email, "phone": phone},
        })  # fmt: skip
        values = online.update(privacy.protect(decode_event(raw)))
    assert values["features.phone_users"] == 2
    assert values["features.email_users"] == 2
    assert "+6591234567" not in repr(online.snapshot())


READS_SPECS = specs_of(REALISTIC_PACK)


@given(
    needed=st.lists(st.sampled_from([s.qualified_name for s in READS_SPECS]), max_size=12),
    steps=st.lists(
        st.tuples(
            st.sampled_from(["login", "payment", "cart"]),
            st.integers(0, 200),  # minutes
            st.sampled_from(["u1", "u2", "u3"]),
            st.sampled_from(["d1", "d2"]),
            st.booleans(),
        ),
        min_size=1,
        max_size=25,
    ),
)
@settings(max_examples=40, deadline=None)
def test_reads_only_leave_out_what_no_reader_needs(
    needed: list[str], steps: list[tuple[str, int, str, str, bool]]
) -> None:
    """With ``reads``, each event answers the needed features (and those it updates) with the
    values the unrestricted state gives: the other groups are still updated, only not read."""
    reads = {t: frozenset(needed) for t in ("account.login", "payment.attempt", "cart.add")}
    full, restricted = OnlineFeatures(READS_SPECS), OnlineFeatures(READS_SPECS, reads=reads)
    for number, (kind, minute, user, device, success) in enumerate(steps):
        event = make_event(
            kind, minute * 60.0, event_id=f"e{number}", user=user, device=device,
            success=success, item="i1", seller="s1", instrument=f"c{minute % 3}",
        )  # fmt: skip
        everything = full.update(event)
        answered = restricted.update(event)
        assert set(needed) <= set(answered)
        assert answered == {name: everything[name] for name in answered}
