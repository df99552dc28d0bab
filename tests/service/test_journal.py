"""The local journal: segments, group commit, snapshots that shorten the replay."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.service.streams import feed, stream, uninterrupted

from rampart.service.scorer import EventResult, Scorer
from rampart.service.snapshot import SnapshotKeyError
from rampart.service.wal import WriteAheadLog, segment_numbers


def test_records_before_a_rotation_are_skipped_when_a_snapshot_covers_them(
    tmp_path: Path,
) -> None:
    log = WriteAheadLog(tmp_path)
    log.append("event", b"one")
    sealed = log.rotate()
    log.append("event", b"two")
    log.sync()
    log.close()
    whole = WriteAheadLog(tmp_path)
    assert [payload for _, payload in whole.records()] == [b"one", b"two"]
    whole.close()
    again = WriteAheadLog(tmp_path, after=sealed)
    assert [payload for _, payload in again.records()] == [b"two"]
    again.drop_through(sealed)
    again.close()
    assert segment_numbers(tmp_path) == [sealed + 1]


def test_concurrent_appends_share_fsyncs_and_each_waits_for_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = WriteAheadLog(tmp_path)
    fsyncs = []
    real_fsync = os.fsync

    def counted(descriptor: int) -> None:
        fsyncs.append(descriptor)
        real_fsync(descriptor)

    monkeypatch.setattr(os, "fsync", counted)
    durable_when_answered = []

    def writer(worker: int) -> None:
        for number in range(50):
            position = log.append("event", b"%d-%d" % (worker, number))
            log.wait_durable(position)
            # Whatever reached the answer is on disk: every later fsync only adds to it.
            durable_when_answered.append(log._durable >= position)

    threads = [threading.Thread(target=writer, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    log.close()
    assert len(durable_when_answered) == 400
    assert all(durable_when_answered)
    assert len(fsyncs) < 400  # grouped: fewer fsyncs than records
    reopened = WriteAheadLog(tmp_path)
    assert len(list(reopened.records())) == 400
    reopened.close()


def test_a_snapshot_shortens_the_replay_and_changes_no_decision(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    batches = list(stream(tiny_world_of(3)))
    half = len(batches) // 2
    expected = uninterrupted(tiny_world_of(3), tmp_path / "uninterrupted")

    with Scorer.open(tmp_path / "restarted", demo=True, snapshot_every=700) as stopped:
        assert [feed(stopped, labels, events) for labels, events in batches[:half]] == (
            expected[:half]
        )
    assert len(segment_numbers(tmp_path / "restarted" / "wal")) == 1  # older ones dropped

    with Scorer.open(tmp_path / "restarted", demo=True, snapshot_every=700) as restarted:
        assert restarted.restored
        assert restarted.replayed < sum(len(events) for _, events in batches[:half])
        after = [feed(restarted, labels, events) for labels, events in batches[half:]]
    assert after == expected[half:]


def test_a_snapshot_sealed_with_another_secret_is_refused(
    tiny_world_of: Callable[[int], Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPART_PSEUDONYM_SECRET", "a-secret-of-the-operator-0123456789")
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:50]
    with Scorer.open(tmp_path, snapshot_every=20) as scorer:
        scorer.score_many(events)
    assert (tmp_path / "snapshot" / "snapshot.sealed").exists()
    monkeypatch.setenv("RAMPART_PSEUDONYM_SECRET", "another-secret-entirely-0123456789ab")
    with pytest.raises(SnapshotKeyError, match="another key"):
        Scorer.open(tmp_path)


def test_changes_to_the_rules_survive_a_snapshot_that_drops_their_records(tmp_path: Path) -> None:
    from rampart.service.changes import PutRule, RuleDefinition, encode_change, served_rules

    def login(number: int) -> bytes:
        return (
            b'{"event_id":"e%d","type":"account.login","ts":"2026-03-01T10:%02d:00Z",'
            b'"user_id":"u1","device":{"id":"d%d"},"props":{"success":true}}'
            % (number, number, number)
        )

    rule = RuleDefinition(
        expression='event.type == "account.login" and features.user_since_login < 600',
        areas=["account_integrity"],
        action="block",
        weight=0.9,
        mode="live",
    )
    with Scorer.open(tmp_path, demo=True, snapshot_every=3) as scorer:
        scorer.score(login(0))
        scorer.change(encode_change(PutRule(pack="default", rule="quick", definition=rule)))
        for number in range(1, 6):
            scorer.score(login(number))
        before = [scorer.decision(f"e{number}") for number in range(6)]
    assert sum(decision is not None and decision.action == "block" for decision in before) == 5
    with Scorer.open(tmp_path, demo=True, snapshot_every=3) as again:
        assert again.restored
        assert "quick" in served_rules(again.engine).rules
        assert [again.decision(f"e{number}") for number in range(6)] == before
        blocked = again.score(login(6))
        assert isinstance(blocked, EventResult)
        assert blocked.answer.action == "block"


def test_the_entity_index_survives_a_snapshot(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    from rampart.service.entities import EntityIndex

    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()[:1500]
    users = sorted({json.loads(raw)["user_id"] for raw in events if b'"user_id"' in raw})[:50]
    first = EntityIndex()
    with Scorer.open(tmp_path, demo=True, snapshot_every=1000, observers=[first]) as scorer:
        for start in range(0, len(events), 100):
            scorer.score_many(events[start : start + 100])
        before = {user: first.recent("user", user) for user in users}
    again = EntityIndex()
    with Scorer.open(tmp_path, demo=True, observers=[again]) as restarted:
        assert restarted.restored
        assert restarted.replayed < len(events)
        assert {user: again.recent("user", user) for user in users} == before
    assert any(before.values())
