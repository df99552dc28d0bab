"""The audit trail reads back in order, by table and row, with its times in UTC."""

from __future__ import annotations

from datetime import UTC

from rampart.records.store import Records


def test_entries_in_write_order_filtered_by_target_and_key(records: Records) -> None:
    case = records.cases.open("user", "u1", "scalper", actor="ana")
    records.lists.add("vip", "allow", "u2", actor="bob")
    records.cases.assign(case.case_id, "inv_1", actor="lead")
    everything = records.audit.entries()
    assert [e.action for e in everything] == ["case.open", "list.add", "case.assign"]
    assert [e.audit_id for e in everything] == sorted(e.audit_id for e in everything)
    assert [e.actor for e in records.audit.entries(target="cases")] == ["ana", "lead"]
    assert records.audit.entries(target="cases", target_key="999") == []
    assert all(e.at.tzinfo is UTC for e in everything)
    assert [e.at for e in everything] == sorted(e.at for e in everything)


def test_a_change_and_its_audit_row_commit_together(records: Records) -> None:
    records.cases.open("user", "u1", "scalper", actor="ana")
    opened = records.audit.entries()[0]
    assert opened.after is not None
    assert opened.after["opened_at"] == records.cases.queue()[0].opened_at.isoformat()
