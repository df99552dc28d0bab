"""Promotion from shadow to live is a recorded, audited change (issue 5, §4)."""

from __future__ import annotations

import pytest

from rampart.records.base import RecordsError
from rampart.records.store import Records


def test_promoting_a_rule_records_who_when_why_and_what(records: Records) -> None:
    old = records.rules.record("default", "card_test", "declines_10m > 5", "live", actor="ana")
    new = records.rules.record("default", "card_test", "declines_10m > 3", "shadow", actor="ana")
    promotion = records.promote_rule(
        "default", "card_test", new.version_hash, actor="lead", reason="precision 0.97 in shadow"
    )
    assert (promotion.before, promotion.after, promotion.changed) == ("shadow", "live", True)
    assert promotion.turned_off == (old.version_id,)
    entries = records.audit.entries(target="rule_versions")
    promoted = [e for e in entries if e.action == "promotion"]
    assert len(promoted) == 1
    (entry,) = promoted
    assert entry.actor == "lead"
    assert entry.target_key == str(new.version_id)
    assert entry.before == {"mode": "shadow"}
    assert entry.after == {"mode": "live", "reason": "precision 0.97 in shadow"}
    mode_rows = [e for e in entries if e.action == "rule_version.mode"]
    assert {e.target_key for e in mode_rows} == {str(new.version_id), str(old.version_id)}
    assert all(e.at == entry.at for e in mode_rows)  # one change, one moment


def test_promoting_to_the_current_mode_writes_nothing(records: Records) -> None:
    version = records.rules.record("p", "r", "x > 1", "live", actor="ana")
    before = len(records.audit.entries())
    promotion = records.promote_rule("p", "r", version.version_hash, actor="ana")
    assert not promotion.changed
    assert len(records.audit.entries()) == before


def test_demotion_back_to_shadow_is_audited_too(records: Records) -> None:
    version = records.rules.record("p", "r", "x > 1", "live", actor="ana")
    records.promote_rule("p", "r", version.version_hash, to="shadow", actor="ana", reason="noisy")
    assert records.rules.history("p", "r")[0].mode == "shadow"
    assert records.audit.entries()[-1].after == {"mode": "shadow", "reason": "noisy"}


def test_promoting_a_model(records: Records) -> None:
    v = records.models.record(
        "cd34" * 16, "malicious_activity", {"auc_roc": 0.9}, "shadow", actor="dana"
    )
    promotion = records.promote_model("cd34" * 16, "malicious_activity", actor="dana")
    assert promotion.after == "live"
    assert promotion.version_id == v.version_id
    assert records.audit.entries(target="model_versions")[-1].action == "promotion"


def test_an_unrecorded_version_cannot_be_promoted(records: Records) -> None:
    with pytest.raises(RecordsError, match="is not recorded"):
        records.promote_rule("p", "r", "f" * 64, actor="ana")
    with pytest.raises(RecordsError, match="is not recorded"):
        records.promote_model("f" * 64, "scalper", actor="ana")
    assert records.audit.entries() == []
