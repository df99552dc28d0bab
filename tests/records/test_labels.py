"""Labels: stored once by content, with source and time, audited, PII-like ids pseudonymised."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import msgspec
import pytest
from sqlalchemy import select, text
from tests.records.conftest import SECRET

from rampart.contract.outputs import Label
from rampart.ingest.privacy import EventPrivacy
from rampart.learn.labelbook import LabelBook
from rampart.records.entities import EntityKeeper
from rampart.records.labels import SqlLabels, label_key
from rampart.records.schema import labels
from rampart.records.store import Records

T0 = datetime(2026, 3, 1, 10, tzinfo=UTC)


def _label(entity_id: str = "u1", **changes: object) -> Label:
    base = Label(
        entity_type="user", entity_id=entity_id, area="scalper", label=1, ts=T0, source="review"
    )
    return msgspec.structs.replace(base, **changes)


def test_a_label_sent_again_is_not_stored_again(records: Records) -> None:
    first = records.labels.add([_label("u1"), _label("u2")], actor="ana", origin="feb.jsonl")
    again = records.labels.add([_label("u2"), _label("u1")], actor="ana", origin="feb.jsonl")
    assert (first.added, first.duplicates) == (2, 0)
    assert (again.added, again.duplicates) == (0, 2)
    assert records.labels.count() == 2


def test_the_same_label_written_with_another_offset_is_the_same_label(records: Records) -> None:
    jakarta = T0.astimezone(timezone(timedelta(hours=7)))
    records.labels.add([_label(ts=T0)], actor="ana")
    assert records.labels.add([_label(ts=jakarta)], actor="ana").duplicates == 1


def test_duplicates_within_one_batch_are_stored_once(records: Records) -> None:
    written = records.labels.add([_label(), _label(), _label()], actor="ana")
    assert (written.added, written.duplicates) == (1, 2)


def test_a_label_that_differs_in_anything_is_a_new_fact(records: Records) -> None:
    variants = [
        _label(),
        _label(label=0),
        _label(ts=T0 + timedelta(days=1)),
        _label(source="chargeback"),
        _label(campaign="c7"),
        _label(area="brushing"),
        _label(entity_type="seller"),
    ]
    assert len({label_key(v) for v in variants}) == len(variants)
    assert records.labels.add(variants, actor="ana").added == len(variants)


def test_labels_keep_their_source_time_origin_and_arrival(records: Records) -> None:
    records.labels.add([_label(campaign="c1")], actor="ana", origin="chargebacks-0301.jsonl")
    (stored,) = records.labels.read()
    assert stored.label == _label(campaign="c1")
    assert stored.label.ts == T0
    assert stored.label.ts.tzinfo is UTC
    assert stored.origin == "chargebacks-0301.jsonl"
    assert stored.received_at == datetime(2026, 3, 1, 12, 0, 1, tzinfo=UTC)  # the store's clock
    assert stored.label_id == label_key(stored.label)


def test_every_stored_label_has_its_audit_row_and_duplicates_have_none(records: Records) -> None:
    records.labels.add([_label("u1"), _label("u2")], actor="ana")
    records.labels.add([_label("u1")], actor="bob")
    entries = records.audit.entries(target="labels")
    assert [(e.action, e.actor) for e in entries] == [("label.add", "ana"), ("label.add", "ana")]
    keys = {e.target_key for e in entries}
    assert keys == {s.label_id for s in records.labels.read()}
    assert all(e.before is None and e.after is not None for e in entries)
    assert entries[0].after is not None
    assert entries[0].after["ts"] == "2026-03-01T10:00:00+00:00"


def test_read_orders_by_ts_then_arrival_and_cuts_at_known_by(records: Records) -> None:
    late = _label("u1", ts=T0 + timedelta(days=2))
    early = _label("u2", ts=T0)
    undated = _label("u3", ts=None)
    same_ts_later = _label("u4", ts=T0)
    records.labels.add([late, early, undated], actor="ana")
    records.labels.add([same_ts_later], actor="ana")
    assert [s.label.entity_id for s in records.labels.read()] == ["u3", "u2", "u4", "u1"]
    cut = records.labels.read(known_by=T0 + timedelta(days=1))
    assert [s.label.entity_id for s in cut] == ["u2", "u4"]


def test_stored_labels_feed_the_label_book(records: Records) -> None:
    records.labels.add([_label("u1", label=1)], actor="ana")
    appeal = _label("u1", label=0, ts=T0 + timedelta(days=3), source="appeal")
    records.labels.add([appeal], actor="ana")
    book = LabelBook(s.label for s in records.labels.read())
    assert book.superseded == 1
    assert not book.abusive_accounts


def test_ip_labels_keep_the_pseudonym_events_get_at_ingest(records: Records) -> None:
    records.labels.add([_label("203.0.113.7", entity_type="ip")], actor="ana")
    (stored,) = records.labels.read()
    pseudonymizer = EventPrivacy.from_config(env={"RAMPART_PSEUDONYM_SECRET": SECRET.decode()})
    assert stored.label.entity_id == pseudonymizer.pseudonymizer.token("ip", "203.0.113.7")
    # Sending the pseudonym back (read from Rampart's own stores) is the same label.
    assert records.labels.add([stored.label], actor="ana").duplicates == 1


def test_no_raw_pii_reaches_any_table(records: Records) -> None:
    raw = ["203.0.113.7", "ann.lee@example.com", "+65 9123 4567"]
    records.labels.add(
        [
            _label(raw[0], entity_type="ip"),
            _label(raw[1], entity_type="user"),
            _label(raw[2], entity_type="seller"),
        ],
        actor="ana",
    )
    with records.engine.connect() as connection:
        dumped = repr(connection.execute(select(labels)).all())
        dumped += repr(connection.execute(text("SELECT * FROM audit")).all())
    for value in raw:
        assert value not in dumped
    assert "ip_" in dumped
    assert "em_" in dumped
    assert "ph_" in dumped


def test_without_a_secret_pii_like_ids_are_refused_not_stored(records: Records) -> None:
    bare = SqlLabels(records.engine, keeper=EntityKeeper(None))
    with pytest.raises(Exception, match="pseudonymisation secret"):
        bare.add([_label("203.0.113.7", entity_type="ip")], actor="ana")
    assert records.labels.count() == 0


def test_concurrent_writers_of_one_stream_store_each_label_once(
    records: Records, database_url: str, keeper: EntityKeeper
) -> None:
    batch = [_label(f"u{n}") for n in range(200)]
    results: list[tuple[int, int]] = []

    def send() -> None:
        with Records.open(database_url, keeper=keeper) as writer:
            for start in range(0, len(batch), 25):
                written = writer.labels.add(batch[start : start + 25], actor="loader")
                results.append((written.added, written.duplicates))

    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(added for added, _ in results) == 200
    assert sum(duplicates for _, duplicates in results) == 400
    assert records.labels.count() == 200
    assert len(records.audit.entries(target="labels")) == 200
