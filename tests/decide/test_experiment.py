"""Champion/challenger experiments: a stable salted split, both arms on every event, the unit's
arm acts and the other is recorded in ``shadow``; models in shadow never act."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rampart.contract.events import decode_event
from rampart.contract.outputs import Decision, Label, Verdict
from rampart.decide.experiment import Experiment, ExperimentEngine
from rampart.detect.models.view import ModelView
from rampart.detect.rules.pack import load_pack
from rampart.engine import Engine, ScopedModel
from rampart.features.online import OnlineFeatures
from rampart.ingest.privacy import Accepted, EventPrivacy
from rampart.learn.experiment_report import experiment_report_files
from rampart.packs import DEFAULT_PACK
from rampart.service.assemble import open_files, score_files

ids = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=60, unique=True)


@given(ids, st.randoms(use_true_random=False))
def test_the_arm_of_a_unit_is_fixed_whatever_the_order(
    units: list[str], rnd: random.Random
) -> None:
    experiment = Experiment(name="m2", challenger_share=0.3)
    first = {unit: experiment.arm_of(unit) for unit in units}
    shuffled = list(units)
    rnd.shuffle(shuffled)
    again = Experiment(name="m2", challenger_share=0.3)  # a new run, the same spec
    assert {unit: again.arm_of(unit) for unit in shuffled} == first


def test_the_split_is_stable_across_runs_and_salted() -> None:
    # Pinned: BLAKE2b keyed with the salt, not Python's per-process hash().
    experiment = Experiment(name="m2")
    assert experiment.bucket("u1") == pytest.approx(0.5097343, abs=1e-6)
    assert experiment.arm_of("u1") == "champion"
    assert Experiment(name="m2", salt="other").bucket("u1") != experiment.bucket("u1")


@settings(max_examples=10, deadline=None)
@given(st.sampled_from([0.1, 0.25, 0.5, 0.8]), st.text(min_size=1, max_size=8))
def test_the_challenger_gets_about_its_share(share: float, salt: str) -> None:
    experiment = Experiment(name="m2", salt=salt, challenger_share=share)
    n = 20_000
    got = sum(experiment.arm_of(f"user-{i}") == "challenger" for i in range(n)) / n
    assert abs(got - share) < 0.02  # ~6 standard errors at n = 20,000


def test_a_bad_spec_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        Experiment(name="m2", challenger_share=1.5)
    with pytest.raises(ValueError, match="unit"):
        Experiment(name="m2", unit="item")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="name"):
        Experiment(name="a:b")


class _Scored(NamedTuple):
    decision: Decision
    verdicts: list[Verdict]
    duplicate: bool = False
    row: Mapping[str, Any] | None = None


class _Recorder:
    """An arm that records what it saw, blocks or allows everything, and flags each user."""

    def __init__(self, action: str) -> None:
        self.action = action
        self.seen: list[str] = []
        self.labels: list[Label] = []

    def process(self, accepted: Accepted) -> _Scored:
        event = accepted.event
        user = event.user_id if isinstance(event.user_id, str) else None
        self.seen.append(event.event_id)
        decision = msgspec.convert(
            {"event_id": event.event_id, "action": self.action, "score": 0.5, "reasons": []},
            Decision,
        )
        verdicts = [
            Verdict(
                entity_type="user",
                entity_id=user or "",
                area="scalper",
                score=0.9,
                action="review",
                found_at=event.ts,
            ),
            Verdict(
                entity_type="item",
                entity_id="i1",
                area="scalper",
                score=0.9,
                action="review",
                found_at=event.ts,
            ),
        ]
        return _Scored(decision, verdicts if user else [])

    def apply_label(self, label: Label) -> None:
        self.labels.append(label)


def _accept(raw: dict[str, object]) -> Accepted:
    return EventPrivacy.for_demo().protect(decode_event(msgspec.json.encode(raw)))


def _events(n: int) -> list[Accepted]:
    out = []
    for i in range(n):
        event: dict[str, object] = {
            "event_id": f"e{i}",
            "type": "page.view" if i % 5 == 0 else "account.login",
            "ts": f"2026-03-01T10:{i // 60:02d}:{i % 60:02d}Z",
            "props": {"path": "/"} if i % 5 == 0 else {"success": True},
        }
        if i % 5:
            event["user_id"] = f"u{i % 17}"
        out.append(_accept(event))
    return out


def test_both_arms_see_every_event_and_the_units_arm_acts() -> None:
    experiment = Experiment(name="m2")
    champion, challenger = _Recorder("allow"), _Recorder("block")
    both = ExperimentEngine(experiment, champion, challenger)
    events = _events(120)
    for accepted in events:
        scored = both.process(accepted)
        user = accepted.event.user_id if isinstance(accepted.event.user_id, str) else None
        arm = experiment.arm_of(user)
        assert scored.decision.action == ("block" if arm == "challenger" else "allow")
        (entry,) = scored.decision.shadow
        other = "champion" if arm == "challenger" else "challenger"
        assert entry["name"] == f"experiment:m2:{other}"
        assert entry["action"] == ("allow" if arm == "challenger" else "block")
        assert entry["unit"] == "user"
        # Each arm's verdicts only on its own units; other kinds from the champion alone.
        for verdict in scored.verdicts:
            if verdict.entity_type == "user":
                assert verdict.entity_id == user
                assert arm == experiment.arm_of(user)
        assert sum(v.entity_type == "item" for v in scored.verdicts) == (1 if user else 0)
    every = [accepted.event.event_id for accepted in events]
    assert champion.seen == every
    assert challenger.seen == every
    assert both.events_by_arm["champion"] + both.events_by_arm["challenger"] == len(events)
    assert both.events_by_arm["challenger"] > 0  # both arms act somewhere
    # Events without a user go to the champion.
    assert all(
        both.process(a).decision.action == "allow" for a in events if a.event.user_id is None
    )
    label = Label(entity_type="user", entity_id="u1", area="scalper", label=1)
    both.apply_label(label)
    assert champion.labels == challenger.labels == [label]


class _AlwaysModel:
    """A learned detector that is sure about everything."""

    area = "scalper"
    threshold = 0.5

    def probability(self, row: Sequence[float]) -> float:
        return 0.95

    def explain(self, row: Sequence[float], k: int = 3) -> list[tuple[str, float]]:
        return [("feature:anything", 0.4)]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=119), min_size=1, max_size=40, unique=True))
def test_a_model_in_shadow_never_changes_the_acting_decision(picked: list[int]) -> None:
    pack = load_pack(DEFAULT_PACK)
    view = ModelView(["event.type=account.login", "event.type=page.view"])
    plain = Engine(pack.rules, OnlineFeatures(list(pack.features)))
    shadowed = Engine(
        pack.rules,
        OnlineFeatures(list(pack.features)),
        view=view,
        models=[ScopedModel(_AlwaysModel())],
        model_mode="shadow",
    )
    live = Engine(
        pack.rules,
        OnlineFeatures(list(pack.features)),
        view=view,
        models=[ScopedModel(_AlwaysModel())],
    )
    events = _events(120)
    for i in sorted(picked):
        a, b, c = plain.process(events[i]), shadowed.process(events[i]), live.process(events[i])
        names = [entry["name"] for entry in b.decision.shadow]
        assert "model:scalper" in names
        without_model = [e for e in b.decision.shadow if e["name"] != "model:scalper"]
        assert msgspec.structs.replace(b.decision, shadow=without_model) == a.decision
        assert b.verdicts == a.verdicts
        assert c.decision.action != "allow"  # the same model live does act


@pytest.fixture(scope="module")
def tiny_world(tiny_world_of: Callable[[int], Path]) -> Path:
    return tiny_world_of(13)


def _blocking_pack(folder: Path) -> Path:
    folder.mkdir()
    for source in DEFAULT_PACK.glob("*.yaml"):
        (folder / source.name).write_text(source.read_text())
    (folder / "challenger.yaml").write_text(
        """
rules:
  - name: block_signups_logins_orders
    areas: [account_integrity]
    description: a deliberately aggressive challenger
    expression: event.type in ["account.created", "account.login", "order.created"]
    action: block
    weight: 0.9
    mode: live
"""
    )
    return folder


def _score(world: Path, out: Path, pack: Path, **experiment: object) -> Path:
    decisions = out / "decisions.jsonl"
    score_files(
        world / "events.jsonl",
        decisions=decisions,
        verdicts=out / "verdicts.jsonl",
        labels=world / "labels.jsonl",
        pack=pack,
        **experiment,  # type: ignore[arg-type]
    )
    return decisions


def test_a_challenger_that_blocks_more_is_measured_with_a_higher_catch_rate(
    tiny_world: Path, tmp_path: Path
) -> None:
    challenger_pack = _blocking_pack(tmp_path / "pack")
    experiment = Experiment(name="aggressive", challenger_share=0.5)
    arms = {}
    for name, pack in (("champion", DEFAULT_PACK), ("challenger", challenger_pack)):
        (tmp_path / name).mkdir()
        arms[name] = _score(tiny_world, tmp_path / name, pack)
    (tmp_path / "both").mkdir()
    both = _score(
        tiny_world,
        tmp_path / "both",
        DEFAULT_PACK,
        experiment=experiment,
        challenger_pack=challenger_pack,
    )
    # Each arm kept its own state over every event: the acting decision is exactly what that
    # arm alone decides, the other arm's decision is the shadow entry.
    decode = msgspec.json.Decoder(Decision).decode
    alone = {
        name: {d.event_id: d for d in map(decode, path.read_bytes().splitlines())}
        for name, path in arms.items()
    }
    lines = both.read_bytes().splitlines()
    assert len(lines) == len(alone["champion"])
    for decision in map(decode, lines):
        entry = decision.shadow[-1]
        other = entry["name"].rsplit(":", 1)[1]
        acting = "champion" if other == "challenger" else "challenger"
        assert (
            msgspec.structs.replace(decision, shadow=decision.shadow[:-1])
            == (alone[acting][decision.event_id])
        )
        assert entry["action"] == alone[other][decision.event_id].action
    report = experiment_report_files(
        tiny_world / "events.jsonl", both, tiny_world / "labels.jsonl", bootstrap=200
    )
    champion, challenger = report.arms
    assert champion.units > 0
    assert challenger.units > 0
    assert champion.abusive_units > 0
    assert challenger.abusive_units > 0
    assert champion.catch_rate.value is not None
    assert challenger.catch_rate.value is not None
    assert challenger.catch_rate.value > champion.catch_rate.value
    assert challenger.friction.value is not None
    assert champion.friction.value is not None
    assert challenger.friction.value > champion.friction.value  # blocking more costs friction
    (catch,) = [d for d in report.differences if d.metric == "catch_rate"]
    assert catch.value == pytest.approx(challenger.catch_rate.value - champion.catch_rate.value)


def test_an_experiment_run_is_not_checkpointed(tiny_world: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="checkpoint"):
        open_files(
            tiny_world / "events.jsonl",
            decisions=tmp_path / "d.jsonl",
            verdicts=tmp_path / "v.jsonl",
            checkpoint=tmp_path / "checkpoint",
            experiment=Experiment(name="m2"),
            challenger_pack=DEFAULT_PACK,
        )
