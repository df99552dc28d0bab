"""The Scorer facade: single events from bytes, precise errors, labels, and the write-ahead log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest
from tests.service.streams import answers as _answers
from tests.service.streams import feed as _feed
from tests.service.streams import stream as _stream
from tests.service.streams import uninterrupted

from rampart.contract.outputs import Decision
from rampart.service.scorer import EventResult, Rejection, Scorer
from rampart.service.wal import SEGMENT, WalKeyError

LOGIN = (
    b'{"event_id":"%s","type":"account.login","ts":"2026-03-01T10:00:%02dZ",'
    b'"user_id":"u1","props":{"success":true}}'
)


def _login(event_id: str, second: int = 0) -> bytes:
    return LOGIN % (event_id.encode(), second)


def _decided(result: EventResult | Rejection) -> Decision:
    assert isinstance(result, EventResult), result
    return result.answer


def test_one_event_is_scored_and_a_resent_id_gets_the_same_decision(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        first = scorer.score(_login("e1"))
        again = scorer.score(_login("e1", second=5))
        assert isinstance(first, EventResult)
        assert not first.duplicate
        assert isinstance(again, EventResult)
        assert again.duplicate
        assert _decided(again) == msgspec.structs.replace(first.answer, verdicts=[])
        assert msgspec.json.encode(scorer.decision("e1")) == msgspec.json.encode(again.answer)
        assert scorer.decision("nope") is None


@pytest.mark.parametrize(
    ("raw", "path", "reason"),
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "must be a JSON object"),
        (b'"\x80"', None, "must be a JSON object"),
        (_login("bad").replace(b'"u1"', b'"\xff"'), None, "not valid UTF-8"),
        (b'{"event_id":"x","type":"account.login","ts":"2026-03-01T10:00:00Z"}', "user_id", ""),
        (
            b'{"event_id":"x","type":"cart.add","ts":"2026-03-01T10:00:00Z","user_id":"u",'
            b'"props":{"item_id":"i","seller_id":"s","quantity":"two","unit_price":1}}',
            "props.quantity",
            "must be an integer, got a string",
        ),
    ],
)
def test_a_bad_event_gets_a_precise_error_and_changes_nothing(
    tmp_path: Path, raw: bytes, path: str | None, reason: str
) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        result = scorer.score(raw)
        assert isinstance(result, Rejection)
        assert result.kind == "invalid"
        assert result.error.line == 1
        assert result.error.path == path
        assert reason in result.error.reason
    assert (tmp_path / "wal" / SEGMENT).stat().st_size == 0


def test_a_late_event_is_rejected_on_ts(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        late = _login("old").replace(b"2026-03-01", b"2026-02-01")
        assert isinstance(scorer.score(_login("now")), EventResult)
        result = scorer.score(late)
        assert isinstance(result, Rejection)
        assert result.kind == "late"
        assert result.error.path == "ts"
        assert result.error.event_id == "old"


def test_a_batch_scores_good_items_and_keeps_errors_in_place(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        results = scorer.score_many([_login("a"), b"{", _login("b", 1), _login("a", 2)])
        assert isinstance(results[0], EventResult)
        assert not results[0].duplicate
        assert isinstance(results[1], Rejection)
        assert results[1].error.line == 2
        assert isinstance(results[2], EventResult)
        assert not results[2].duplicate
        # The same id twice in one batch: the second gets the first's decision.
        assert isinstance(results[3], EventResult)
        assert results[3].duplicate
        assert results[3].answer.event_id == "a"


def test_a_label_is_logged_and_gets_the_latest_event_time_without_ts(tmp_path: Path) -> None:
    label = b'{"entity_type":"user","entity_id":"u1","area":"account_integrity","label":1}'
    with Scorer.open(tmp_path, demo=True) as scorer:
        early = scorer.label(label)
        assert isinstance(early, Rejection)
        assert early.error.path == "ts"
        bad = scorer.label(label.replace(b'"label":1', b'"label":"yes"'))
        assert isinstance(bad, Rejection)
        assert bad.error.path == "label"
        scorer.score(_login("e1", 7))
        taken = scorer.label(label)
        assert not isinstance(taken, Rejection)
        assert taken.ts is not None
        assert taken.ts.isoformat() == "2026-03-01T10:00:07+00:00"
    assert b"\nl " in (tmp_path / "wal" / SEGMENT).read_bytes()  # sealed like the events


def test_the_log_keeps_no_pii_in_clear_and_needs_its_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replay needs the raw event, so the log seals it with a key derived from the secret."""
    monkeypatch.setenv("RAMPART_PSEUDONYM_SECRET", "a-secret-of-the-operator-0123456789")
    signup = (
        b'{"event_id":"s1","type":"account.created","ts":"2026-03-01T10:00:00Z",'
        b'"user_id":"u9","ip":"203.0.113.9","props":{"email":"ana.lima@example.com",'
        b'"phone":"+6591234567","channel":"organic"}}'
    )
    with Scorer.open(tmp_path) as scorer:
        first = scorer.score(signup)
    written = (tmp_path / "wal" / SEGMENT).read_bytes()
    for raw in (b"ana.lima@example.com", b"+6591234567", b"203.0.113.9", b"u9"):
        assert raw not in written
    with Scorer.open(tmp_path) as scorer:  # replayed with the same secret
        again = scorer.score(signup)
    assert isinstance(first, EventResult)
    assert isinstance(again, EventResult)
    assert again.duplicate
    assert again.answer.action == first.answer.action
    monkeypatch.setenv("RAMPART_PSEUDONYM_SECRET", "another-secret-entirely-0123456789ab")
    with pytest.raises(WalKeyError, match="another key"):
        Scorer.open(tmp_path)


def test_a_restart_replays_the_log_and_answers_as_an_uninterrupted_run(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    stream = list(_stream(tiny_world_of(3)))
    half = len(stream) // 2
    expected = uninterrupted(tiny_world_of(3), tmp_path / "uninterrupted")
    assert any(b'"action":"allow"' not in answer for batch in expected for answer in batch)

    stopped = Scorer.open(tmp_path / "restarted", demo=True)
    before = [_feed(stopped, labels, events) for labels, events in stream[:half]]
    assert before == expected[:half]
    # Closing writes nothing (every record was fsynced when answered); the real-process
    # test in test_http_process.py kills a server instead.
    stopped.close()

    with Scorer.open(tmp_path / "restarted", demo=True) as restarted:
        assert restarted.replayed == sum(len(events) for _, events in stream[:half])
        for (_, events), answers in zip(stream[:half], expected[:half], strict=True):
            resent = restarted.score_many(events)
            assert all(isinstance(r, Rejection) or r.duplicate for r in resent)
            assert _answers(resent) == answers
        after = [_feed(restarted, labels, events) for labels, events in stream[half:]]
    assert after == expected[half:]


def test_a_torn_last_record_is_dropped_on_restart(tmp_path: Path) -> None:
    with Scorer.open(tmp_path, demo=True) as scorer:
        scorer.score(_login("e1"))
    with (tmp_path / "wal" / SEGMENT).open("ab") as handle:
        handle.write(b"E 200 0000")
    with Scorer.open(tmp_path, demo=True) as scorer:
        assert scorer.replayed == 1
        assert scorer.decision("e1") is not None
        assert isinstance(scorer.score(_login("e2", 1)), EventResult)
    with Scorer.open(tmp_path, demo=True) as scorer:
        assert scorer.replayed == 2


def test_a_re_sent_event_gets_its_verdicts_again(
    tiny_world_of: Callable[[int], Path], tmp_path: Path
) -> None:
    """A redelivery after a crash that lost what was published must not lose the verdicts."""
    events = (tiny_world_of(3) / "events.jsonl").read_bytes().splitlines()
    with Scorer.open(tmp_path, demo=True) as scorer:
        with_verdicts = [
            (raw, result.answer)
            for raw, result in zip(events, scorer.score_many(events), strict=True)
            if isinstance(result, EventResult) and result.answer.verdicts
        ]
        assert with_verdicts
        for raw, answer in with_verdicts[:20]:
            again = scorer.score(raw)
            assert isinstance(again, EventResult)
            assert again.duplicate
            assert again.answer == answer
