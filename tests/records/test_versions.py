"""Rule and model versions: recorded once, one live at a time, every mode change audited."""

from __future__ import annotations

import pytest

from rampart.records.base import RecordsError
from rampart.records.store import Records
from rampart.records.versions import rule_version_hash


def test_a_rule_version_is_recorded_once(records: Records) -> None:
    first = records.rules.record("default", "big_order", "order.total > 900", "shadow", actor="ana")
    again = records.rules.record("default", "big_order", "order.total > 900", "live", actor="bob")
    assert again == first  # recording again does not change the mode: promotion does
    assert first.version_hash == rule_version_hash("order.total > 900")
    assert first.created_by == "ana"
    assert first.mode == "shadow"
    assert [e.action for e in records.audit.entries()] == ["rule_version.add"]


def test_a_changed_expression_is_a_new_version(records: Records) -> None:
    records.rules.record("default", "big_order", "order.total > 900", "shadow", actor="ana")
    records.rules.record("default", "big_order", "order.total > 800", "shadow", actor="ana")
    records.rules.record("other", "big_order", "order.total > 800", "shadow", actor="ana")
    history = records.rules.history("default", "big_order")
    assert [v.expression for v in history] == ["order.total > 900", "order.total > 800"]
    assert records.rules.find("other", "big_order", rule_version_hash("order.total > 800"))


def test_a_given_version_hash_is_kept(records: Records) -> None:
    v = records.rules.record("p", "r", "x > 1", "off", actor="ana", version_hash="rulefile-sha")
    assert v.version_hash == "rulefile-sha"


def test_only_one_version_of_a_rule_is_live(records: Records) -> None:
    old = records.rules.record("p", "r", "x > 1", "live", actor="ana")
    new = records.rules.record("p", "r", "x > 2", "shadow", actor="ana")
    other_rule = records.rules.record("p", "s", "x > 3", "live", actor="ana")
    records.rules.set_mode(new.version_id, "live", actor="bob")
    modes = {v.expression: v.mode for v in records.rules.history("p", "r")}
    assert modes == {"x > 1": "off", "x > 2": "live"}
    assert records.rules.history("p", "s") == [other_rule]
    changes = [
        (e.action, e.target_key, e.before and e.before["mode"], e.after and e.after["mode"])
        for e in records.audit.entries(target="rule_versions")
        if e.action == "rule_version.mode"
    ]
    assert changes == [
        ("rule_version.mode", str(new.version_id), "shadow", "live"),
        ("rule_version.mode", str(old.version_id), "live", "off"),
    ]


def test_recording_a_live_version_turns_the_old_live_one_off(records: Records) -> None:
    records.rules.record("p", "r", "x > 1", "live", actor="ana")
    records.rules.record("p", "r", "x > 2", "live", actor="ana")
    assert [v.mode for v in records.rules.history("p", "r")] == ["off", "live"]


def test_a_model_version_per_area_with_its_report(records: Records) -> None:
    report = {"auc_roc": 0.91, "top_features": ["orders_1h", "new_device"]}
    v = records.models.record("ab12" * 16, "scalper", report, "shadow", actor="dana")
    assert v.report == report
    assert v.area == "scalper"
    assert records.models.record("ab12" * 16, "scalper", {}, "shadow", actor="dana") == v
    other = records.models.record("ab12" * 16, "brushing", {"auc_roc": 0.8}, "live", actor="dana")
    records.models.set_mode(v.version_id, "live", actor="dana")
    assert records.models.history("brushing") == [other]  # another area: left live
    assert [m.mode for m in records.models.history("scalper")] == ["live"]
    assert records.models.find("ab12" * 16, "scalper") is not None


def test_modes_are_checked(records: Records) -> None:
    with pytest.raises(RecordsError, match="mode 'canary'"):
        records.rules.record("p", "r", "x", "canary", actor="ana")  # type: ignore[arg-type]
    with pytest.raises(RecordsError, match="no rule version 42"):
        records.rules.set_mode(42, "live", actor="ana")
