"""Hot reload: a changed pack is served at the next poll; a broken one never is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rampart.detect.rules import ListStore, PackWatcher

RULE = """
rules:
  - name: big_order
    areas: [scalper]
    expression: event.props.total > {limit}
    action: review
    weight: 0.5
    mode: live
"""


def write_rule(folder: Path, limit: object, name: str = "rules.yaml") -> None:
    (folder / name).write_text(RULE.format(limit=limit))


def age_files(folder: Path, seconds: int = 60) -> None:
    """Backdate every file, as if edited a while ago (outside the racy window)."""
    for path in folder.rglob("*.yaml"):
        info = path.stat()
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns - seconds * 1_000_000_000))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    write_rule(tmp_path, 100)
    return tmp_path


def limit_of(watcher: PackWatcher) -> str:
    assert watcher.current is not None
    return watcher.current.rule("big_order").expression.source


def test_first_poll_loads_and_later_polls_do_nothing_until_a_change(folder: Path) -> None:
    assert PackWatcher(folder).current is None  # nothing is loaded before the first poll
    watcher = PackWatcher(folder)
    first = watcher.poll()
    assert first is not None
    assert watcher.current is first
    assert watcher.problems == []
    assert watcher.poll() is None
    assert watcher.current is first


def test_an_edit_is_served_at_the_next_poll(folder: Path) -> None:
    watcher = PackWatcher(folder)
    first = watcher.poll()
    write_rule(folder, 250)
    second = watcher.poll()
    assert first is not None
    assert second is not None
    assert second is watcher.current
    assert second.fingerprint != first.fingerprint
    assert limit_of(watcher) == "event.props.total > 250"


def test_a_broken_edit_keeps_the_previous_pack_and_reports(folder: Path) -> None:
    watcher = PackWatcher(folder)
    served = watcher.poll()
    write_rule(folder, "'lots'")
    assert watcher.poll() is None
    assert watcher.current is served
    assert [str(p) for p in watcher.problems] == [
        "rules.yaml:5:17: rule 'big_order': expression: cannot compare float with str ('>')"
    ]
    assert watcher.poll() is None
    assert len(watcher.problems) == 1
    write_rule(folder, 300)
    fixed = watcher.poll()
    assert fixed is not None
    assert watcher.problems == []
    assert limit_of(watcher) == "event.props.total > 300"


def test_restoring_the_served_version_clears_the_problems(folder: Path) -> None:
    watcher = PackWatcher(folder)
    served = watcher.poll()
    write_rule(folder, "'lots'")
    watcher.poll()
    write_rule(folder, 100)
    restored = watcher.poll()
    assert restored is not None
    assert watcher.problems == []
    assert served is not None
    assert restored.fingerprint == served.fingerprint


def test_added_and_removed_files_count_as_changes(folder: Path) -> None:
    watcher = PackWatcher(folder)
    watcher.poll()
    (folder / "more.yaml").write_text(RULE.format(limit=5).replace("big_order", "small_order"))
    added = watcher.poll()
    assert added is not None
    assert [r.name for r in added.rules] == ["small_order", "big_order"]
    (folder / "more.yaml").unlink()
    removed = watcher.poll()
    assert removed is not None
    assert [r.name for r in removed.rules] == ["big_order"]


def test_a_touched_file_with_the_same_contents_does_not_reload(folder: Path) -> None:
    watcher = PackWatcher(folder)
    watcher.poll()
    (folder / "rules.yaml").touch()
    assert watcher.poll() is None


def test_a_same_size_edit_within_one_timestamp_tick_is_seen(folder: Path) -> None:
    watcher = PackWatcher(folder)
    watcher.poll()
    path = folder / "rules.yaml"
    before = path.stat()
    write_rule(folder, 200)  # same length as 100
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the same mtime
    assert path.stat().st_size == before.st_size
    reloaded = watcher.poll()
    assert reloaded is not None
    assert limit_of(watcher) == "event.props.total > 200"


def test_old_unchanged_files_are_not_reread(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    age_files(folder)
    watcher = PackWatcher(folder)
    watcher.poll()
    reads: list[Path] = []
    original = Path.read_bytes

    def counting(path: Path) -> bytes:
        reads.append(path)
        return original(path)

    monkeypatch.setattr(Path, "read_bytes", counting)
    assert watcher.poll() is None
    assert reads == []


def test_a_vanished_pack_keeps_serving(folder: Path) -> None:
    watcher = PackWatcher(folder / "rules.yaml")
    served = watcher.poll()
    (folder / "rules.yaml").unlink()
    assert watcher.poll() is None
    assert watcher.current is served
    assert [p.message for p in watcher.problems] == ["no such file or folder"]


def test_reloads_compile_against_the_given_lists(folder: Path) -> None:
    lists = ListStore({"vip": {"u1": None}})
    (folder / "allow.yaml").write_text(
        "rules: [{name: vip, areas: [scalper], action: allow,"
        " expression: 'in_list(event.user_id, \"vip\")'}]"
    )
    watcher = PackWatcher(folder, lists=lists, score_names=["scalper"])
    pack = watcher.poll()
    assert pack is not None
    assert pack.lists is lists
    assert pack.rule("vip").evaluate({"event.user_id": "u1", "event.ts": 0.0}) is True


def test_list_contents_survive_a_reload_without_a_given_store(folder: Path) -> None:
    (folder / "allow.yaml").write_text(
        "rules: [{name: vip, areas: [scalper], action: allow,"
        " expression: 'in_list(event.user_id, \"vip\")'}]"
    )
    watcher = PackWatcher(folder)
    first = watcher.poll()
    assert first is not None
    first.lists.add("vip", "u1")
    write_rule(folder, 250)
    second = watcher.poll()
    assert second is not None
    assert second.lists is first.lists
    assert second.rule("vip").evaluate({"event.user_id": "u1", "event.ts": 0.0}) is True
