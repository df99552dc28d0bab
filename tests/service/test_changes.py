"""Changes to a served engine: applied between events, replayed in place, refused whole."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from rampart.service.changes import (
    AddListEntry,
    ChangeError,
    PutRule,
    RemoveListEntry,
    RuleDefinition,
    SetRuleMode,
    apply_change,
    check_change,
    encode_change,
    served_rules,
)
from rampart.service.scorer import EventResult, Scorer


def login(event_id: str, second: int, user: str = "u1") -> bytes:
    event = {
        "event_id": event_id,
        "type": "account.login",
        "ts": f"2026-03-01T10:00:{second:02d}Z",
        "user_id": user,
        # A device per event: a blocked event's device would carry a challenge to later ones.
        "device": {"id": f"d-{event_id}"},
        "props": {"success": True},
    }
    return json.dumps(event).encode()


def put(name: str, expression: str, *, mode: str = "live", action: str = "block") -> bytes:
    definition = RuleDefinition(
        expression=expression,
        areas=["account_integrity"],
        action=action,  # type: ignore[arg-type]
        weight=0.9,
        mode=mode,  # type: ignore[arg-type]
    )
    return encode_change(PutRule(pack="default", rule=name, definition=definition))


def _shadowed(result: EventResult) -> list[str]:
    return [str(entry["name"]) for entry in result.answer.shadow or []]


def action_of(scorer: Scorer, raw: bytes) -> str:
    result = scorer.score(raw)
    assert isinstance(result, EventResult), result
    return result.answer.action


def test_a_rule_change_applies_between_events_and_replays_in_place(tmp_path: Path) -> None:
    quick = 'event.type == "account.login" and features.user_since_login < 60'
    with Scorer.open(tmp_path, demo=True) as scorer:
        assert action_of(scorer, login("e1", 0)) == "allow"
        assert action_of(scorer, login("e2", 10)) == "allow"
        scorer.change(put("quick_relogin", quick))
        # The built-in rules never read user_since_login on a login: the feature reads were
        # recomputed, or this rule would read null and never hit.
        assert action_of(scorer, login("e3", 20)) == "block"
        scorer.change(encode_change(SetRuleMode(pack="default", rule="quick_relogin", mode="off")))
        assert action_of(scorer, login("e4", 30)) == "allow"
        scorer.change(
            encode_change(SetRuleMode(pack="default", rule="quick_relogin", mode="shadow"))
        )
        shadowed = scorer.score(login("e5", 40))
        assert isinstance(shadowed, EventResult)
        assert shadowed.answer.action == "allow"
        assert _shadowed(shadowed) == ["rule:quick_relogin"]
        before = {e: scorer.decision(e) for e in ("e1", "e2", "e3", "e4", "e5")}
        assert served_rules(scorer.engine).rules["quick_relogin"].mode == "shadow"
    with Scorer.open(tmp_path, demo=True) as again:
        assert again.replayed == 5
        assert {e: again.decision(e) for e in before} == before
        # The replayed engine runs the changed rule too, in the mode it was left in.
        assert served_rules(again.engine).rules["quick_relogin"].mode == "shadow"
        later = again.score(login("e6", 50))
        assert isinstance(later, EventResult)
        assert _shadowed(later) == ["rule:quick_relogin"]


def test_list_entries_change_what_in_list_rules_see(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        scorer.change(put("blocked_user", 'in_list(event.user_id, "blocked_users")'))
        assert action_of(scorer, login("a1", 0, "u7")) == "allow"
        scorer.change(encode_change(AddListEntry(list_name="blocked_users", value="u7")))
        assert action_of(scorer, login("a2", 1, "u7")) == "block"
        assert action_of(scorer, login("a3", 2, "u8")) == "allow"
        # An entry expiring at an event time no longer applies from then on.
        expiring = AddListEntry(list_name="blocked_users", value="u8", expires_at=1772359204.0)
        scorer.change(encode_change(expiring))
        assert action_of(scorer, login("a4", 3, "u8")) == "block"
        assert action_of(scorer, login("a5", 4, "u8")) == "allow"
        scorer.change(encode_change(RemoveListEntry(list_name="blocked_users", value="u7")))
        assert action_of(scorer, login("a6", 5, "u7")) == "allow"
        before = {f"a{i}": scorer.decision(f"a{i}") for i in range(1, 7)}
    with Scorer.open(tmp_path, demo=True) as again:
        assert {e: again.decision(e) for e in before} == before
        assert dict(served_rules(again.engine).lists.entries("blocked_users")) == {
            "u8": 1772359204.0
        }


def test_a_bad_change_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        wal_before = sorted((p.name, p.stat().st_size) for p in (tmp_path / "wal").iterdir())
        rules_before = dict(served_rules(scorer.engine).rules)
        unknown_feature = put("typo", "features.user_since_logins < 60")
        with pytest.raises(ChangeError) as refused:
            scorer.change(unknown_feature)
        (problem,) = refused.value.problems
        assert (problem.line, problem.column) == (1, 1)
        assert problem.suggestion == "features.user_since_login"
        assert refused.value.rule == "typo"
        for bad in (
            b"not json",
            b'{"kind": "rule.put"}',
            put("bad_type", 'event.props.total > "big"'),
            put("bad name!", "event.props.total > 1"),
            encode_change(SetRuleMode(pack="default", rule="no_such_rule", mode="live")),
            encode_change(SetRuleMode(pack="other", rule="quick", mode="live")),
        ):
            with pytest.raises(ValueError, match=r"\S"):
                check_change(bad, scorer.engine)
            with pytest.raises(ValueError, match=r"\S"):
                apply_change(scorer.engine, bad)
        assert served_rules(scorer.engine).rules == rules_before
        wal_after = sorted((p.name, p.stat().st_size) for p in (tmp_path / "wal").iterdir())
        assert wal_after == wal_before
        assert action_of(scorer, login("b1", 0)) == "allow"


def test_the_served_pack_keeps_its_off_rules_and_can_switch_them_on(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        served = served_rules(scorer.engine)
        assert served.pack == "default"
        running = {p.rule.name for p in scorer.engine._prepared}
        assert set(served.rules) >= running
        shadow = [name for name, rule in served.rules.items() if rule.mode == "shadow"]
        assert shadow, "the built-in pack has a shadow rule"
        change = SetRuleMode(pack="default", rule=shadow[0], mode="off")
        scorer.change(encode_change(change))
        assert shadow[0] not in {p.rule.name for p in scorer.engine._prepared}
        assert served.rules[shadow[0]].mode == "off"
        document = msgspec.json.decode(encode_change(change))
        assert document == {
            "kind": "rule.mode",
            "pack": "default",
            "rule": shadow[0],
            "mode": "off",
        }
