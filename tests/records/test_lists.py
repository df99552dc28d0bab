"""Allow and deny lists: entries that expire at event time, audited, values pseudonymised."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from rampart.records.base import RecordsError
from rampart.records.lists import list_store
from rampart.records.store import Records

T = datetime(2026, 3, 1, tzinfo=UTC)


def test_entries_apply_until_they_expire(records: Records) -> None:
    records.lists.add("deny_devices", "deny", "d1", actor="ana", expires_at=T + timedelta(days=7))
    records.lists.add("deny_devices", "deny", "d2", actor="ana", note="card testing ring")
    assert [e.value for e in records.lists.entries("deny_devices")] == ["d1", "d2"]
    later = records.lists.entries("deny_devices", at=T + timedelta(days=7))
    assert [e.value for e in later] == ["d2"]
    assert later[0].note == "card testing ring"


def test_adding_again_updates_the_entry_audited(records: Records) -> None:
    first = records.lists.add("vip", "allow", "u1", actor="ana")
    again = records.lists.add("vip", "allow", "u1", actor="bob", expires_at=T)
    assert again.entry_id == first.entry_id
    assert again.expires_at == T
    assert records.lists.add("vip", "allow", "u1", actor="bob", expires_at=T) == again
    actions = [e.action for e in records.audit.entries(target="lists")]
    assert actions == ["list.add", "list.update"]


def test_removing_is_audited_and_reports_whether_it_was_there(records: Records) -> None:
    records.lists.add("vip", "allow", "u1", actor="ana")
    assert records.lists.remove("vip", "u1", actor="bob")
    assert not records.lists.remove("vip", "u1", actor="bob")
    last = records.audit.entries(target="lists")[-1]
    assert last.action == "list.remove"
    assert last.after is None
    assert last.before is not None
    assert last.before["value"] == "u1"


def test_a_list_is_allow_or_deny_throughout(records: Records) -> None:
    records.lists.add("vip", "allow", "u1", actor="ana")
    with pytest.raises(RecordsError, match="is of kind allow"):
        records.lists.add("vip", "deny", "u2", actor="ana")


def test_pii_values_are_kept_as_the_pseudonyms_rules_compare_with(records: Records) -> None:
    entry = records.lists.add("deny_ips", "deny", "203.0.113.7", actor="ana")
    assert entry.value == records.keeper.keep("ip", "203.0.113.7")
    assert records.lists.remove("deny_ips", "203.0.113.7", actor="ana")


def test_lists_reach_the_rule_language(records: Records) -> None:
    records.lists.add("deny_devices", "deny", "d1", actor="ana", expires_at=T)
    records.lists.add("vip", "allow", "u1", actor="ana")
    store = list_store(records.lists)
    assert store.names() == frozenset({"deny_devices", "vip"})
    assert store.contains("deny_devices", "d1", ts=T.timestamp() - 1)
    assert not store.contains("deny_devices", "d1", ts=T.timestamp())
    assert store.contains("vip", "u1", ts=0.0)
