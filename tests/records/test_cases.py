"""Cases: one open per entity and area, assigned, closed with a verdict, every change audited."""

from __future__ import annotations

import pytest

from rampart.records.base import RecordsError
from rampart.records.store import Records


def test_opening_an_open_case_again_returns_it_unchanged(records: Records) -> None:
    first = records.cases.open("seller", "s7", "brushing", actor="ana")
    again = records.cases.open("seller", "s7", "brushing", actor="bob")
    assert again == first
    assert first.status == "open"
    assert first.closed_at is None
    assert [e.action for e in records.audit.entries(target="cases")] == ["case.open"]


def test_other_areas_and_entities_get_their_own_cases(records: Records) -> None:
    a = records.cases.open("seller", "s7", "brushing", actor="ana")
    b = records.cases.open("seller", "s7", "click_farm", actor="ana")
    c = records.cases.open("user", "s7", "brushing", actor="ana")
    assert len({a.case_id, b.case_id, c.case_id}) == 3


def test_a_case_is_assigned_and_closed_with_its_verdict(records: Records) -> None:
    case = records.cases.open("user", "u1", "scalper", actor="ana")
    assigned = records.cases.assign(case.case_id, "inv_042", actor="lead")
    assert assigned.assignee == "inv_042"
    closed = records.cases.close(case.case_id, "label:3f2a", actor="inv_042")
    assert closed.status == "closed"
    assert closed.verdict_ref == "label:3f2a"
    assert closed.closed_at is not None
    assert closed.closed_at > closed.opened_at
    assert records.cases.get(case.case_id) == closed
    entries = records.audit.entries(target="cases", target_key=str(case.case_id))
    assert [(e.action, e.actor) for e in entries] == [
        ("case.open", "ana"),
        ("case.assign", "lead"),
        ("case.close", "inv_042"),
    ]
    assert entries[1].before is not None
    assert entries[1].before["assignee"] is None
    assert entries[2].after is not None
    assert entries[2].after["status"] == "closed"


def test_assigning_to_the_same_investigator_changes_nothing(records: Records) -> None:
    case = records.cases.open("user", "u1", "scalper", actor="ana")
    records.cases.assign(case.case_id, "inv_042", actor="lead")
    records.cases.assign(case.case_id, "inv_042", actor="lead")
    assert len(records.audit.entries(target="cases")) == 2


def test_closing_twice_or_a_missing_case_is_an_error(records: Records) -> None:
    case = records.cases.open("user", "u1", "scalper", actor="ana")
    records.cases.close(case.case_id, None, actor="ana")
    with pytest.raises(RecordsError, match="already closed"):
        records.cases.close(case.case_id, None, actor="ana")
    with pytest.raises(RecordsError, match="no case 999"):
        records.cases.assign(999, "x", actor="ana")


def test_after_closing_a_new_report_opens_a_new_case(records: Records) -> None:
    case = records.cases.open("user", "u1", "scalper", actor="ana")
    records.cases.close(case.case_id, None, actor="ana")
    reopened = records.cases.open("user", "u1", "scalper", actor="ana")
    assert reopened.case_id != case.case_id


def test_the_queue_holds_open_cases_oldest_first(records: Records) -> None:
    a = records.cases.open("user", "u1", "scalper", actor="ana")
    b = records.cases.open("user", "u2", "brushing", actor="ana")
    c = records.cases.open("user", "u3", "scalper", actor="ana")
    records.cases.close(a.case_id, None, actor="ana")
    assert [x.case_id for x in records.cases.queue()] == [b.case_id, c.case_id]
    assert [x.case_id for x in records.cases.queue(area="scalper")] == [c.case_id]


def test_pii_like_entities_and_assignees_are_pseudonymised(records: Records) -> None:
    case = records.cases.open("ip", "203.0.113.7", "information_leakage", actor="ana")
    assert case.entity_id == records.keeper.keep("ip", "203.0.113.7")
    assigned = records.cases.assign(case.case_id, "ann.lee@example.com", actor="lead")
    assert assigned.assignee is not None
    assert assigned.assignee.startswith("em_")
